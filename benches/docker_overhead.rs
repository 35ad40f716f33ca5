//! Overhead of the Docker backend over raw bollard calls, against the real daemon:
//!
//! - per step: `DockerJob::exec` of `true` vs a raw exec (create, attach, drain, inspect) of `true`
//!   in the same container (goal: ≤ 1.3×);
//! - job setup: `start_job` without services vs a raw create + start of the same image
//!   (goal: ≤ 1.2×): with `--bind`, and with the workspace copied in (against a raw create + start
//!   + upload of the same files, and, for information, against create + start alone).
//!
//! Run with `cargo bench --bench docker_overhead` after `scripts/test-images.sh`. Prints figures;
//! skips with a message when no daemon answers. `PIPE_BENCH_ITERATIONS` sets the sample count.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder};
use futures_util::StreamExt;
use pipe::backend::docker::{self, LABEL_MANAGED, LABEL_RUN_ID};
use pipe::backend::{JobSetup, PullPolicy, StepCommand, WORKSPACE_IN_CONTAINER};
use tokio_util::sync::CancellationToken;

const IMAGE: &str = "pipe-test/busybox:latest";

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("docker_overhead: cannot start a runtime: {e}");
            return;
        }
    };
    if let Err(message) = runtime.block_on(bench()) {
        eprintln!("docker_overhead: {message}");
        println!("@figure | docker step exec and job setup | failed: {message} | <= 1.3x / 1.2x | skipped");
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn show(what: &str, ours: Duration, raw: Duration, goal: f64) {
    let ratio = ours.as_secs_f64() / raw.as_secs_f64().max(1e-9);
    let verdict = if ratio <= goal { "ok" } else { "ABOVE GOAL" };
    println!(
        "{what:<34} pipe {:>8.2} ms   raw {:>8.2} ms   ratio {ratio:.2}x (goal <= {goal}x: {verdict})",
        ours.as_secs_f64() * 1e3,
        raw.as_secs_f64() * 1e3
    );
    println!(
        "@figure | docker {} | {:.1} vs {:.1} ms raw = {ratio:.2}x | <= {goal}x | {}",
        what.trim(),
        ours.as_secs_f64() * 1e3,
        raw.as_secs_f64() * 1e3,
        if ratio <= goal { "ok" } else { "MISSED" }
    );
}

async fn raw_exec(docker: &Docker, container: &str) -> Result<i64, String> {
    let options = CreateExecOptions {
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: Some(vec!["true".to_string()]),
        working_dir: Some(WORKSPACE_IN_CONTAINER.to_string()),
        ..Default::default()
    };
    let created = docker.create_exec(container, options).await.map_err(|e| e.to_string())?;
    if let StartExecResults::Attached { mut output, .. } =
        docker.start_exec(&created.id, None).await.map_err(|e| e.to_string())?
    {
        while output.next().await.is_some() {}
    }
    loop {
        let info = docker.inspect_exec(&created.id).await.map_err(|e| e.to_string())?;
        if info.running != Some(true) {
            return Ok(info.exit_code.unwrap_or(-1));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn bench() -> Result<(), String> {
    let docker = match docker::connect().await {
        Ok(d) => d,
        Err(e) => {
            println!("docker_overhead: skipped: no Docker daemon ({e})");
            println!(
                "@figure | docker step exec and job setup | skipped: no Docker daemon | <= 1.3x / 1.2x | skipped"
            );
            return Ok(());
        }
    };
    if docker.inspect_image(IMAGE).await.is_err() {
        println!("docker_overhead: skipped: image {IMAGE} missing (run scripts/test-images.sh first)");
        println!(
            "@figure | docker step exec and job setup | skipped: image {IMAGE} missing | <= 1.3x / 1.2x | skipped"
        );
        return Ok(());
    }
    let iterations: usize =
        std::env::var("PIPE_BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let dirs = tempfile::tempdir().map_err(|e| e.to_string())?;
    let workspace = dirs.path().join("workspace");
    let runner_dir = dirs.path().join("runner");
    for dir in [&workspace, &runner_dir] {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    for i in 0..20 {
        std::fs::write(workspace.join(format!("file-{i}.txt")), "x".repeat(4096))
            .map_err(|e| e.to_string())?;
    }
    let run_id = format!("bench-{}", std::process::id());
    let setup = |key: &str, bind: bool| JobSetup {
        run_id: run_id.clone(),
        job_key: key.to_string(),
        image: Some(IMAGE.to_string()),
        workspace: workspace.clone(),
        bind,
        runner_dir: runner_dir.clone(),
        container: None,
        services: Vec::new(),
        pull: PullPolicy::Missing,
    };
    // The engine Docker's CLI would use (DOCKER_HOST with TLS, ssh://, a context): a remote one
    // copies the runner dir around each step and has no `--bind`.
    let remote = docker::engine_is_remote();
    let engine = docker::endpoint::resolve().map(|e| e.host).unwrap_or_default();
    println!("docker_overhead: {iterations} samples each, medians; engine {engine}");

    // Per-step overhead, in one container.
    let job = docker::start_job(&docker, &setup("exec", false)).await.map_err(|e| e.to_string())?;
    let cmd = StepCommand {
        argv: vec!["true".to_string()],
        env: BTreeMap::new(),
        workdir: WORKSPACE_IN_CONTAINER.to_string(),
        timeout: Some(Duration::from_secs(60)),
    };
    let (mut ours, mut raw) = (Vec::new(), Vec::new());
    for i in 0..iterations + 3 {
        let t = Instant::now();
        let (tx, _rx) = pipe::backend::output_channel();
        job.exec(&cmd, tx, CancellationToken::new()).await.map_err(|e| e.to_string())?;
        let a = t.elapsed();
        let t = Instant::now();
        raw_exec(&docker, job.container_id()).await?;
        let b = t.elapsed();
        if i >= 3 {
            ours.push(a);
            raw.push(b);
        }
    }
    job.teardown().await;
    show("step exec (`true`)", median(ours), median(raw), 1.3);

    // Job setup.
    let remove = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    let setup_iterations = iterations.div_ceil(2).max(5);
    let (mut copy, mut bind, mut raw, mut raw_upload) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // The same files as one in-memory tar, for the raw baseline that copies the workspace too.
    let mut archive = tar::Builder::new(Vec::new());
    archive.append_dir_all("github/workspace", &workspace).map_err(|e| e.to_string())?;
    let archive = archive.into_inner().map_err(|e| e.to_string())?;
    for i in 0..setup_iterations {
        let t = Instant::now();
        let job = docker::start_job(&docker, &setup(&format!("copy-{i}"), false))
            .await
            .map_err(|e| e.to_string())?;
        copy.push(t.elapsed());
        job.teardown().await;

        if !remote {
            let t = Instant::now();
            let job = docker::start_job(&docker, &setup(&format!("bind-{i}"), true))
                .await
                .map_err(|e| e.to_string())?;
            bind.push(t.elapsed());
            job.teardown().await;
        }

        let t = Instant::now();
        let config = ContainerCreateBody {
            image: Some(IMAGE.to_string()),
            entrypoint: Some(vec!["tail".to_string(), "-f".to_string(), "/dev/null".to_string()]),
            labels: Some(
                [(LABEL_MANAGED.to_string(), "true".to_string()), (LABEL_RUN_ID.to_string(), run_id.clone())]
                    .into(),
            ),
            ..Default::default()
        };
        let created = docker.create_container(None, config.clone()).await.map_err(|e| e.to_string())?;
        docker.start_container(&created.id, None).await.map_err(|e| e.to_string())?;
        raw.push(t.elapsed());
        docker.remove_container(&created.id, Some(remove.clone())).await.map_err(|e| e.to_string())?;

        let t = Instant::now();
        let created = docker.create_container(None, config).await.map_err(|e| e.to_string())?;
        docker.start_container(&created.id, None).await.map_err(|e| e.to_string())?;
        let options = UploadToContainerOptionsBuilder::default().path("/").build();
        docker
            .upload_to_container(&created.id, Some(options), bollard::body_full(archive.clone().into()))
            .await
            .map_err(|e| e.to_string())?;
        raw_upload.push(t.elapsed());
        docker.remove_container(&created.id, Some(remove.clone())).await.map_err(|e| e.to_string())?;
    }
    let raw = median(raw);
    if !remote {
        show("job setup (--bind)", median(bind), raw, 1.2);
    }
    let copy = median(copy);
    show("job setup (workspace copied)", copy, median(raw_upload), 1.2);
    show("  same, vs create+start only", copy, raw, 1.2);
    Ok(())
}
