//! Overhead of the Docker backend over raw bollard calls, against the real daemon:
//!
//! - per step: `DockerJob::exec` of `true` vs a raw exec (create, attach, drain, inspect) of `true`
//!   in the same container (goal: ≤ 1.3×);
//! - job setup: `start_job` without services vs a raw create + start of the same image
//!   (goal: ≤ 1.2×): with `--bind`; with the workspace copied, as a run sets a job up (its
//!   workspace is empty then: checkout fills it later, as a step); and with files in the
//!   workspace (against a raw create + start + upload of the same files);
//! - a dependent job's setup, its container made ahead while its needs run (`prepare_job`, not
//!   timed): starting it vs a raw create + start (goal: ≤ 1.2×);
//! - job setup with a service (one with a health check, on the job network) vs the raw calls:
//!   network, service and job container created and started side by side, inspected until the
//!   service is healthy (goal: ≤ 1.2×);
//! - in `pipe run` (the release binary), how long after a need's last step the dependent job's
//!   first step starts, in a chain of one-step Docker jobs, vs a raw create + start (goal: ≤ 1.2×).
//!
//! Run with `cargo bench --bench docker_overhead` after `scripts/test-images.sh` (against Podman:
//! `DOCKER_HOST=unix:///run/podman/podman.sock`, after `scripts/podman-service.sh load-images`;
//! the figures then say `podman`). Prints figures;
//! skips with a message when no daemon answers. `PIPE_BENCH_ITERATIONS` sets the sample count.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::ContainerCreateBody;
use bollard::models::{ContainerCreateBody as Body, HealthConfig, HostConfig, NetworkCreateRequest};
use bollard::query_parameters::{RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder};
use futures_util::StreamExt;
use pipe::backend::docker::{self, LABEL_MANAGED, LABEL_RUN_ID};
use pipe::backend::{ContainerSpec, JobSetup, PullPolicy, ServiceSpec, StepCommand, WORKSPACE_IN_CONTAINER};
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

/// The engine the figures name: `docker`, or `podman` (its Docker-compatible API, with
/// `DOCKER_HOST` naming its socket). Set once, when the daemon answered.
static ENGINE: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

fn show(what: &str, ours: Duration, raw: Duration, goal: f64) {
    figure(what, ours, raw, Some(goal));
}

/// A figure printed with its ratio but held to no goal.
fn inform(what: &str, ours: Duration, raw: Duration) {
    figure(what, ours, raw, None);
}

/// A line for the reader and an `@figure` line for scripts/bench.sh.
fn figure(what: &str, ours: Duration, raw: Duration, goal: Option<f64>) {
    let ratio = ours.as_secs_f64() / raw.as_secs_f64().max(1e-9);
    let met = goal.is_none_or(|g| ratio <= g);
    let (said, goal_column, verdict) = match goal {
        Some(g) => (
            format!("goal <= {g}x: {}", if met { "ok" } else { "ABOVE GOAL" }),
            format!("<= {g}x"),
            if met { "ok" } else { "MISSED" },
        ),
        None => ("information".to_string(), "(information)".to_string(), "-"),
    };
    let (ours_ms, raw_ms) = (ours.as_secs_f64() * 1e3, raw.as_secs_f64() * 1e3);
    println!("{what:<34} pipe {ours_ms:>8.2} ms   raw {raw_ms:>8.2} ms   ratio {ratio:.2}x ({said})");
    println!(
        "@figure | {} {} | {ours_ms:.1} vs {raw_ms:.1} ms raw = {ratio:.2}x | {goal_column} | {verdict}",
        ENGINE.get().copied().unwrap_or("docker"),
        what.trim(),
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
    let _ = ENGINE.set(if pipe::backend::engine::is_podman(&docker).await { "podman" } else { "docker" });
    let iterations: usize =
        std::env::var("PIPE_BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let dirs = tempfile::tempdir().map_err(|e| e.to_string())?;
    let workspace = dirs.path().join("workspace");
    let empty = dirs.path().join("empty");
    let runner_dir = dirs.path().join("runner");
    for dir in [&workspace, &empty, &runner_dir] {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    // As a run makes a job's workspace (mode 0755 under the usual umask).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
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
    let (mut in_run, mut in_run_user) = (Vec::new(), Vec::new());
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

        let t = Instant::now();
        let as_in_run = JobSetup { workspace: empty.clone(), ..setup(&format!("run-{i}"), false) };
        let job = docker::start_job(&docker, &as_in_run).await.map_err(|e| e.to_string())?;
        in_run.push(t.elapsed());
        job.teardown().await;

        // The same with a container user other than root (`options: --user`).
        let t = Instant::now();
        let as_user = JobSetup {
            workspace: empty.clone(),
            container: Some(ContainerSpec {
                options: Some("--user 1000:1000".to_string()),
                ..Default::default()
            }),
            ..setup(&format!("user-{i}"), false)
        };
        let job = docker::start_job(&docker, &as_user).await.map_err(|e| e.to_string())?;
        in_run_user.push(t.elapsed());
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
    show("job setup (copy, as in a run)", median(in_run), raw, 1.2);
    show("job setup (as in a run, --user 1000)", median(in_run_user), raw, 1.2);
    show("job setup (files copied in)", median(copy), median(raw_upload), 1.2);

    // A dependent job: its container was made ahead (not timed); its setup is the start.
    let mut ahead = Vec::new();
    for i in 0..setup_iterations {
        let prepared = docker::prepare_job(&docker, &setup(&format!("ahead-{i}"), false))
            .await
            .map_err(|e| e.to_string())?;
        let t = Instant::now();
        let job = prepared.start(&CancellationToken::new()).await.map_err(|e| e.to_string())?;
        ahead.push(t.elapsed());
        job.teardown().await;
    }
    show("dependent job setup (made ahead)", median(ahead), raw, 1.2);

    services(&docker, &setup, setup_iterations, &run_id).await?;
    // Jobs of a few tenths of a second: a need's removal is over before the next start. Back to
    // back `true` jobs: the removal of the job two back still runs while a dependent starts.
    let gaps = chain("sleep 0.3").await?;
    show("dependent job start in a run", gaps, raw, 1.2);
    let gaps = chain("true").await?;
    inform("dependent job start, `true` jobs", gaps, raw);
    Ok(())
}

/// The health check of the benchmark's service: what pipe and the raw calls both wait for.
const HEALTH_INTERVAL_MS: i64 = 100;

/// Job setup with one service (a health check on the job network) against the raw calls.
async fn services(
    docker: &Docker,
    setup: &dyn Fn(&str, bool) -> JobSetup,
    iterations: usize,
    run_id: &str,
) -> Result<(), String> {
    let remove = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    let labels: std::collections::HashMap<String, String> =
        [(LABEL_MANAGED.to_string(), "true".to_string()), (LABEL_RUN_ID.to_string(), run_id.to_string())]
            .into();
    let image = service_image()?;
    let (mut ours, mut raw) = (Vec::new(), Vec::new());
    for i in 0..iterations {
        let mut with_service = setup(&format!("svc-{i}"), true);
        with_service.services.push(ServiceSpec {
            id: "db".to_string(),
            image: image.to_string(),
            env: BTreeMap::new(),
            ports: Vec::new(),
            volumes: Vec::new(),
            options: Some(format!("--health-cmd true --health-interval {HEALTH_INTERVAL_MS}ms")),
        });
        let t = Instant::now();
        let job = docker::start_job(docker, &with_service).await.map_err(|e| e.to_string())?;
        ours.push(t.elapsed());
        job.teardown().await;

        let t = Instant::now();
        let network = docker
            .create_network(NetworkCreateRequest {
                name: format!("{run_id}-raw-{i}"),
                driver: Some("bridge".to_string()),
                labels: Some(labels.clone()),
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?
            .id;
        let host = HostConfig { network_mode: Some(network.clone()), ..Default::default() };
        let service = Body {
            image: Some(image.to_string()),
            labels: Some(labels.clone()),
            healthcheck: Some(HealthConfig {
                test: Some(vec!["CMD-SHELL".to_string(), "true".to_string()]),
                interval: Some(HEALTH_INTERVAL_MS * 1_000_000),
                ..Default::default()
            }),
            host_config: Some(host.clone()),
            ..Default::default()
        };
        let job = Body {
            image: Some(IMAGE.to_string()),
            entrypoint: Some(vec!["tail".to_string(), "-f".to_string(), "/dev/null".to_string()]),
            healthcheck: None,
            ..service.clone()
        };
        let start = |body: Body| async move {
            let id = docker.create_container(None, body).await.map_err(|e| e.to_string())?.id;
            docker.start_container(&id, None).await.map_err(|e| e.to_string())?;
            Ok::<String, String>(id)
        };
        let (service, job) = futures_util::future::join(start(service), start(job)).await;
        let (service, job) = (service?, job?);
        loop {
            let info = docker.inspect_container(&service, None).await.map_err(|e| e.to_string())?;
            let health = info.state.and_then(|s| s.health).and_then(|h| h.status);
            if health == Some(bollard::models::HealthStatusEnum::HEALTHY) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        raw.push(t.elapsed());
        for id in [&service, &job] {
            docker.remove_container(id, Some(remove.clone())).await.map_err(|e| e.to_string())?;
        }
        docker.remove_network(&network).await.map_err(|e| e.to_string())?;
    }
    show("job setup with a service", median(ours), median(raw), 1.2);
    Ok(())
}

/// A service image that keeps running (busybox's `tail -f /dev/null`), built once.
fn service_image() -> Result<&'static str, String> {
    const SERVICE: &str = "pipe-test/bench-service:latest";
    let docker = |args: &[&str], dir: &std::path::Path| {
        std::process::Command::new("docker")
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    if docker(&["image", "inspect", SERVICE], dir.path()) {
        return Ok(SERVICE);
    }
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {IMAGE}\nCMD [\"tail\", \"-f\", \"/dev/null\"]\n"),
    )
    .map_err(|e| e.to_string())?;
    if !docker(&["build", "-q", "-t", SERVICE, "."], dir.path()) {
        return Err(format!("cannot build the service image {SERVICE} with `docker build`"));
    }
    Ok(SERVICE)
}

/// In `pipe run`: from the end of a need's last step to the start of the dependent's first step,
/// over chains of jobs of one step running `script` (the median).
async fn chain(script: &str) -> Result<Duration, String> {
    const JOBS: usize = 4;
    let runs: usize = std::env::var("PIPE_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(5, |n| n.div_ceil(8).max(2));
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut yaml = String::from("on: push\njobs:\n");
    for j in 0..JOBS {
        yaml.push_str(&format!("  j{j}:\n    runs-on: x\n"));
        if j > 0 {
            yaml.push_str(&format!("    needs: j{}\n", j - 1));
        }
        yaml.push_str(&format!("    steps:\n      - run: \"{script}\"\n"));
    }
    std::fs::write(dir.path().join("p.yml"), yaml).map_err(|e| e.to_string())?;
    let mut gaps = Vec::new();
    for _ in 0..runs {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pipe"))
            .args(["run", "p.yml", "--executor", "docker", "-P", &format!("x={IMAGE}"), "--output", "json"])
            .args(["--ref", "refs/heads/main", "--sha", "0123456789abcdef0123456789abcdef01234567"])
            .current_dir(dir.path())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("the chain failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let at = |line: &serde_json::Value| {
            let ts = line["ts"].as_str().unwrap_or_default();
            time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).ok()
        };
        let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        for j in 1..JOBS {
            let need_ended = events
                .iter()
                .filter(|e| e["event"] == "step_finished" && e["job"] == format!("j{}", j - 1))
                .filter_map(at)
                .max();
            let started = events
                .iter()
                .find(|e| e["event"] == "step_started" && e["job"] == format!("j{j}"))
                .and_then(at);
            if let (Some(a), Some(b)) = (need_ended, started) {
                gaps.push(Duration::try_from(b - a).unwrap_or_default());
            }
        }
    }
    if gaps.is_empty() {
        return Err("the chain's events have no step times".to_string());
    }
    Ok(median(gaps))
}
