//! The Docker backend against the real daemon (no mocks). Without a daemon these tests skip with
//! a printed reason locally and fail under `CI=true`. The images come from
//! `scripts/test-images.sh`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, NetworkCreateRequest, SystemInfoCgroupVersionEnum, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
    ListVolumesOptionsBuilder,
};
use pipe::Error;
use pipe::backend::docker::{self, DockerJob, LABEL_JOB, LABEL_MANAGED, LABEL_RUN_ID};
use pipe::backend::{
    ContainerSpec, Exit, JobSetup, Output, PullPolicy, RUNNER_DIR_IN_CONTAINER, ServiceSpec, StepCommand,
    WORKSPACE_IN_CONTAINER,
};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

const BUSYBOX: &str = "pipe-test/busybox:latest";
const DEBIAN: &str = "pipe-test/debian:bookworm";
const HTTPD: &str = "pipe-test/httpd:latest";

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The daemon, or None (with a printed reason) when there is none; under CI=true a missing daemon
/// fails the test.
async fn docker_or_skip() -> Option<Docker> {
    match docker::connect().await {
        Ok(docker) => Some(docker),
        Err(e) if under_ci() => panic!("CI=true but no Docker daemon: {e}"),
        Err(e) => {
            eprintln!("skipping: no Docker daemon ({e})");
            None
        }
    }
}

async fn require_image(docker: &Docker, image: &str) {
    if docker.inspect_image(image).await.is_err() {
        panic!("image {image} is missing: run scripts/test-images.sh first");
    }
}

/// Tests hold this lock shared; the prune test holds it exclusively, since prune removes every
/// pipe-labelled object, those of tests running beside it included. (It serialises the tests of
/// this binary, as `cargo test` runs them; a runner with one process per test would need more.)
static PRUNE_LOCK: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn unique_run_id(test: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default();
    format!("t-{test}-{}-{nanos}", std::process::id())
}

struct Fixture {
    _dirs: TempDir,
    setup: JobSetup,
}

fn fixture(test: &str, image: &str) -> Fixture {
    let dirs = tempfile::tempdir().expect("tempdir");
    let workspace = dirs.path().join("workspace");
    let runner_dir = dirs.path().join("runner");
    std::fs::create_dir_all(workspace.join("sub")).expect("workspace");
    std::fs::create_dir_all(&runner_dir).expect("runner dir");
    std::fs::write(workspace.join("hello.txt"), "hello from the host\n").expect("write");
    std::fs::write(workspace.join("sub/nested.txt"), "nested\n").expect("write");
    let setup = JobSetup {
        run_id: unique_run_id(test),
        job_key: "build".to_string(),
        image: Some(image.to_string()),
        workspace,
        bind: false,
        runner_dir,
        container: None,
        services: Vec::new(),
        pull: PullPolicy::Missing,
    };
    Fixture { _dirs: dirs, setup }
}

fn step(script: &str) -> StepCommand {
    StepCommand {
        argv: vec!["sh".to_string(), "-c".to_string(), script.to_string()],
        env: BTreeMap::new(),
        workdir: WORKSPACE_IN_CONTAINER.to_string(),
        timeout: None,
    }
}

struct Ran {
    exit: Exit,
    stdout: String,
    stderr: String,
}

async fn run_with(job: &DockerJob, cmd: &StepCommand, cancel: CancellationToken) -> Ran {
    let (tx, mut rx) = pipe::backend::output_channel();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    // Read while the command runs: the channel is bounded.
    let (exit, ()) = tokio::join!(job.exec(cmd, tx, cancel), async {
        while let Some(chunk) = rx.recv().await {
            match chunk {
                Output::Stdout(b) => stdout.extend(b),
                Output::Stderr(b) => stderr.extend(b),
            }
        }
    });
    let exit = exit.expect("exec");
    Ran {
        exit,
        stdout: String::from_utf8_lossy(&stdout).into(),
        stderr: String::from_utf8_lossy(&stderr).into(),
    }
}

async fn run(job: &DockerJob, cmd: &StepCommand) -> Ran {
    run_with(job, cmd, CancellationToken::new()).await
}

/// Containers, networks and volumes still carrying this run's label.
async fn leftovers(docker: &Docker, run_id: &str) -> (usize, usize, usize) {
    let filters = HashMap::from([("label", vec![format!("{LABEL_RUN_ID}={run_id}")])]);
    let containers = docker
        .list_containers(Some(ListContainersOptionsBuilder::default().all(true).filters(&filters).build()))
        .await
        .expect("list containers");
    let networks = docker
        .list_networks(Some(ListNetworksOptionsBuilder::default().filters(&filters).build()))
        .await
        .expect("list networks");
    let volumes = docker
        .list_volumes(Some(ListVolumesOptionsBuilder::default().filters(&filters).build()))
        .await
        .expect("list volumes")
        .volumes
        .unwrap_or_default();
    (containers.len(), networks.len(), volumes.len())
}

async fn assert_clean(docker: &Docker, run_id: &str) {
    assert_eq!(leftovers(docker, run_id).await, (0, 0, 0), "objects of run {run_id} remain");
}

/// The engine is rootless Podman on a cgroup v1 machine, which drops `--cpus` and `--memory`
/// without a word. The engine says so itself: a `Podman Engine` component, cgroup version 1, and
/// `"Rootless": true` in its `/info` (a field of Podman's own that bollard does not read, so it
/// is asked for on the socket; an engine reached otherwise than by a unix socket counts as not
/// rootless).
async fn drops_resource_limits(docker: &Docker) -> bool {
    let info = docker.info().await.expect("engine info");
    let version = docker.version().await.expect("engine version");
    let podman = version.components.unwrap_or_default().iter().any(|c| c.name == "Podman Engine");
    let cgroup_v1 = info.cgroup_version == Some(SystemInfoCgroupVersionEnum::_1);
    podman && cgroup_v1 && podman_says_rootless()
}

fn podman_says_rootless() -> bool {
    use std::io::{Read, Write};
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let Some(path) = host.strip_prefix("unix://") else {
        return false;
    };
    let mut socket = std::os::unix::net::UnixStream::connect(path).expect("the engine's socket");
    socket.write_all(b"GET /info HTTP/1.0\r\nHost: engine\r\n\r\n").expect("ask /info");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).expect("read /info");
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let info: serde_json::Value = serde_json::from_str(body).expect("/info is JSON");
    info["Rootless"].as_bool().unwrap_or(false)
}

/// Start a job or panic with the error.
async fn start(docker: &Docker, setup: &JobSetup) -> DockerJob {
    match docker::start_job(docker, setup).await {
        Ok(job) => job,
        Err(e) => panic!("start_job failed: {e} (hint: {:?})", e.hint()),
    }
}

#[tokio::test]
async fn output_streams_and_exit_codes() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let f = fixture("output", BUSYBOX);
    let job = start(&docker, &f.setup).await;

    let ran = run(&job, &step("echo hello; echo oops >&2; exit 3")).await;
    assert_eq!(ran.exit, Exit::Code(3));
    assert_eq!(ran.stdout, "hello\n");
    assert_eq!(ran.stderr, "oops\n");
    assert_eq!(run(&job, &step("true")).await.exit, Exit::Code(0));

    // Output arrives while the step still runs.
    let (tx, mut rx) = pipe::backend::output_channel();
    let cmd = step("echo first; sleep 2; echo second");
    let started = Instant::now();
    let (exit, first) = tokio::join!(job.exec(&cmd, tx, CancellationToken::new()), async {
        let chunk = rx.recv().await;
        (chunk, started.elapsed())
    });
    assert_eq!(exit.expect("exec"), Exit::Code(0));
    let (chunk, at) = first;
    assert!(matches!(chunk, Some(Output::Stdout(ref b)) if b.starts_with(b"first")), "{chunk:?}");
    assert!(at < Duration::from_millis(1500), "first chunk came after {at:?}");

    // A background process that keeps the output open does not keep the step running.
    let started = Instant::now();
    let ran = run(&job, &step("sleep 30 & echo bg started; exit 4")).await;
    assert_eq!(ran.exit, Exit::Code(4));
    assert_eq!(ran.stdout, "bg started\n");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());

    // A program that does not exist: the shell's 127, not a pipe error.
    let missing = StepCommand { argv: vec!["no-such-program".to_string()], ..step("") };
    assert_eq!(run(&job, &missing).await.exit, Exit::Code(127));

    job.teardown().await;
    job.teardown().await; // idempotent
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn env_workdir_and_container_settings() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let mut f = fixture("env", BUSYBOX);
    f.setup.container = Some(ContainerSpec {
        env: BTreeMap::from([("FROM_CONTAINER".to_string(), "c1".to_string())]),
        options: Some(
            "--hostname buildbox --env FROM_OPTIONS=o1 --label team=ci --cpus 1 --memory 256m".to_string(),
        ),
        ..Default::default()
    });
    if drops_resource_limits(&docker).await {
        // Rootless Podman on cgroup v1 would run the job without the limits: pipe refuses it.
        let err = match docker::start_job(&docker, &f.setup).await {
            Ok(_) => panic!("rootless Podman on cgroup v1: the job started without its limits"),
            Err(e) => e,
        };
        let message = err.to_string();
        assert!(message.contains("the engine ignored --memory and --cpus"), "{message}");
        assert!(message.contains("rootless Podman cannot limit resources on cgroup v1"), "{message}");
        assert!(err.hint().is_some_and(|h| h.contains("cgroup v2")), "{:?}", err.hint());
        assert_clean(&docker, &f.setup.run_id).await;
        eprintln!("rootless Podman on cgroup v1: the job asking for --cpus and --memory was refused");
        return;
    }
    let job = start(&docker, &f.setup).await;

    let mut cmd = step("echo \"$FOO|$FROM_CONTAINER|$FROM_OPTIONS|$(pwd)|$(hostname)\"");
    cmd.env.insert("FOO".to_string(), "bar baz".to_string());
    cmd.workdir = "/tmp".to_string();
    let ran = run(&job, &cmd).await;
    assert_eq!(ran.exit, Exit::Code(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, "bar baz|c1|o1|/tmp|buildbox\n");

    let info = docker.inspect_container(job.container_id(), None).await.expect("inspect");
    let labels = info.config.and_then(|c| c.labels).unwrap_or_default();
    assert_eq!(labels.get("team").map(String::as_str), Some("ci"));
    assert_eq!(labels.get(LABEL_MANAGED).map(String::as_str), Some("true"));
    assert_eq!(labels.get(LABEL_JOB).map(String::as_str), Some("build"));
    let host = info.host_config.unwrap_or_default();
    assert_eq!(host.memory, Some(256 << 20));
    assert_eq!(host.nano_cpus, Some(1_000_000_000));

    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn workspace_is_copied_and_host_tree_untouched() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let f = fixture("copy", BUSYBOX);
    let job = start(&docker, &f.setup).await;

    let ran = run(
        &job,
        &step("cat hello.txt sub/nested.txt; echo changed > hello.txt; echo new > new.txt; cat hello.txt"),
    )
    .await;
    assert_eq!(ran.exit, Exit::Code(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, "hello from the host\nnested\nchanged\n");
    let ws = &f.setup.workspace;
    assert_eq!(std::fs::read_to_string(ws.join("hello.txt")).expect("read"), "hello from the host\n");
    assert!(!ws.join("new.txt").exists(), "the copy leaked back into the host tree");

    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

/// The actions of the engine's events about container `id` from `since` (unix seconds) to now.
async fn container_actions(docker: &Docker, id: &str, since: u64) -> Vec<String> {
    use futures_util::StreamExt;
    let until = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() + 1;
    let filters = HashMap::from([("container".to_string(), vec![id.to_string()])]);
    let options = bollard::query_parameters::EventsOptionsBuilder::default()
        .since(&since.to_string())
        .until(&until.to_string())
        .filters(&filters)
        .build();
    let mut events = docker.events(Some(options));
    let mut actions = Vec::new();
    while let Some(event) = events.next().await {
        actions.extend(event.expect("events").action);
    }
    actions
}

/// A job's copied workspace is empty when its container is made (checkout fills it later): when
/// the container runs as root the engine's own `/github` and working directory serve (root's,
/// 0755, whoever owns the host's directory and whatever its mode: here 0775, as a umask of 002
/// leaves it), and nothing is uploaded. With another container user the upload makes them, as
/// before.
#[tokio::test]
async fn an_empty_workspace_is_the_engine_s_for_root_and_the_host_s_bound_for_another_user() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let podman = pipe::backend::engine::is_podman(&docker).await;
    // (container user, workspace owned by uid 1000 on the host: only root can give it away)
    let as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let mut cases = vec![(None, false), (Some("1000:1000"), false)];
    if as_root {
        cases.push((Some("1000:1000"), true));
    }
    for (user, owned_by_1000) in cases {
        let mut f = fixture("emptyws", BUSYBOX);
        std::fs::remove_dir_all(&f.setup.workspace).expect("empty the workspace");
        std::fs::create_dir(&f.setup.workspace).expect("workspace");
        std::fs::set_permissions(&f.setup.workspace, std::fs::Permissions::from_mode(0o775)).expect("chmod");
        if owned_by_1000 {
            std::os::unix::fs::chown(&f.setup.workspace, Some(1000), Some(1000)).expect("chown");
        }
        let owner = std::fs::metadata(&f.setup.workspace).expect("stat").uid();
        if let Some(user) = user {
            f.setup.container =
                Some(ContainerSpec { options: Some(format!("--user {user}")), ..Default::default() });
        }
        let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
        let job = start(&docker, &f.setup).await;
        let ran = run(&job, &step("pwd; stat -c '%u:%g %a' /github /github/workspace; ls -A")).await;
        assert_eq!(ran.exit, Exit::Code(0), "{}", ran.stderr);
        let lines: Vec<&str> = ran.stdout.lines().collect();
        assert_eq!(lines[0], WORKSPACE_IN_CONTAINER, "{user:?}");
        assert_eq!(lines[1], "0:0 755", "{user:?}: /github");
        if user.is_none() {
            assert_eq!(lines[2], "0:0 755", "the engine's workspace");
        } else {
            // The host directory's owner and mode, uploaded or bound.
            assert_eq!(lines[2], format!("{owner}:{owner} 775"), "{user:?}, owned by {owner}");
        }
        assert_eq!(lines.len(), 3, "the workspace is empty: {}", ran.stdout);
        if user.is_none() || owned_by_1000 {
            let ran = run(&job, &step("touch made && ls")).await;
            assert_eq!((ran.exit, ran.stdout.as_str()), (Exit::Code(0), "made\n"), "{}", ran.stderr);
        }
        let id = job.container_id().to_string();
        let inspected = docker.inspect_container(&id, None).await.expect("inspect");
        let workspace_mounted = inspected
            .mounts
            .unwrap_or_default()
            .iter()
            .any(|m| m.destination.as_deref() == Some(WORKSPACE_IN_CONTAINER));
        job.teardown().await;
        assert_clean(&docker, &f.setup.run_id).await;
        // Docker reports an upload as the event `extract-to-dir` (Podman's events say nothing).
        // A user other than root gets the host directory bound when pipe can remove what that
        // user writes there: pipe runs as root, or the user owns the directory.
        if !podman {
            let actions = container_actions(&docker, &id, since).await;
            assert!(actions.iter().any(|a| a == "create"), "no events of {id}: {actions:?}");
            let uploaded = actions.iter().any(|a| a == "extract-to-dir");
            let bound = user.is_some() && (owner == 0 || owner == 1000);
            assert_eq!(uploaded, user.is_some() && !bound, "{user:?}, owned by {owner}: {actions:?}");
            assert_eq!(workspace_mounted, bound, "{user:?}, owned by {owner}");
        }
    }
}

#[tokio::test]
async fn bind_mode_uses_the_host_tree() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let mut f = fixture("bind", BUSYBOX);
    f.setup.bind = true;
    let job = start(&docker, &f.setup).await;

    let ran = run(&job, &step("cat hello.txt; echo from-container > made.txt")).await;
    assert_eq!(ran.exit, Exit::Code(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, "hello from the host\n");
    assert_eq!(
        std::fs::read_to_string(f.setup.workspace.join("made.txt")).expect("read"),
        "from-container\n"
    );

    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn runner_dir_is_shared_with_the_host() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let f = fixture("runner", BUSYBOX);
    let job = start(&docker, &f.setup).await;
    let paths = job.paths();
    assert_eq!(paths.runner_dir, RUNNER_DIR_IN_CONTAINER);
    assert_eq!(paths.workspace, WORKSPACE_IN_CONTAINER);
    assert_eq!(paths.host_runner_dir, f.setup.runner_dir);

    // A script the runner writes after the job started is visible; files the step writes come back.
    std::fs::write(paths.host_runner_dir.join("step-1.sh"), "echo script ran; echo 'key=value' >> \"$1\"\n")
        .expect("write");
    let cmd = StepCommand {
        argv: vec![
            "sh".to_string(),
            format!("{RUNNER_DIR_IN_CONTAINER}/step-1.sh"),
            format!("{RUNNER_DIR_IN_CONTAINER}/output-1"),
        ],
        ..step("")
    };
    let ran = run(&job, &cmd).await;
    assert_eq!(ran.exit, Exit::Code(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, "script ran\n");
    assert_eq!(std::fs::read_to_string(paths.host_runner_dir.join("output-1")).expect("read"), "key=value\n");
    let pid_files: Vec<_> = std::fs::read_dir(&paths.host_runner_dir)
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".pid-"))
        .collect();
    assert!(pid_files.is_empty(), "pid files left in the runner dir");

    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

/// What a remote daemon needs: the runner dir copied in before each step and back after it.
#[tokio::test]
async fn runner_dir_copy_mode() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let f = fixture("runnercopy", BUSYBOX);
    let job = docker::start_job_with(&docker, &f.setup, true).await.expect("start");
    let host_dir = job.paths().host_runner_dir;

    std::fs::write(
        host_dir.join("step-1.sh"),
        "cat \"$0.in\"; echo 'out=1' >> \"$1\"; mkdir -p sub; echo x > sub/y\n",
    )
    .expect("write");
    std::fs::write(host_dir.join("step-1.sh.in"), "input\n").expect("write");
    let cmd = StepCommand {
        argv: vec![
            "sh".to_string(),
            format!("{RUNNER_DIR_IN_CONTAINER}/step-1.sh"),
            format!("{RUNNER_DIR_IN_CONTAINER}/output-1"),
        ],
        workdir: RUNNER_DIR_IN_CONTAINER.to_string(),
        ..step("")
    };
    let ran = run(&job, &cmd).await;
    assert_eq!(ran.exit, Exit::Code(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, "input\n");
    assert_eq!(std::fs::read_to_string(host_dir.join("output-1")).expect("read"), "out=1\n");
    assert_eq!(std::fs::read_to_string(host_dir.join("sub/y")).expect("read"), "x\n");
    // The workspace is copied too.
    let ran = run(&job, &step("cat hello.txt")).await;
    assert_eq!(ran.stdout, "hello from the host\n");

    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn copy_in_and_out() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let f = fixture("copyio", BUSYBOX);
    let job = start(&docker, &f.setup).await;

    // In: the contents of a host directory, into a directory that does not exist yet.
    let src = f.setup.workspace.parent().expect("parent").join("artifact");
    std::fs::create_dir_all(src.join("deep")).expect("mkdir");
    std::fs::write(src.join("a.txt"), "a\n").expect("write");
    std::fs::write(src.join("deep/b.txt"), "b\n").expect("write");
    job.copy_in(&src, "/github/workspace/dist/new").await.expect("copy in");
    let ran = run(&job, &step("cat dist/new/a.txt dist/new/deep/b.txt")).await;
    assert_eq!(ran.stdout, "a\nb\n", "{}", ran.stderr);

    // Out: a directory's contents, a single file, and a missing path.
    let out = f.setup.workspace.parent().expect("parent").join("out");
    assert_eq!(job.copy_out("/github/workspace/dist", &out).await.expect("copy out"), 2);
    assert_eq!(std::fs::read_to_string(out.join("new/deep/b.txt")).expect("read"), "b\n");
    let single = out.join("single");
    assert_eq!(job.copy_out("/github/workspace/hello.txt", &single).await.expect("copy file"), 1);
    assert_eq!(std::fs::read_to_string(single.join("hello.txt")).expect("read"), "hello from the host\n");
    assert_eq!(job.copy_out("/github/workspace/nothing-here", &out).await.expect("missing"), 0);

    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

/// A container user that cannot write the runner dir: the step's pid is recorded in /tmp instead.
#[tokio::test]
async fn cancel_works_for_an_unprivileged_container_user() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let mut f = fixture("nobody", BUSYBOX);
    f.setup.container =
        Some(ContainerSpec { options: Some("--user 65534:65534".to_string()), ..Default::default() });
    let job = start(&docker, &f.setup).await;
    let ran = run(&job, &step("id -u; touch /github/runner/x 2>/dev/null || echo read-only")).await;
    assert_eq!(ran.stdout, "65534\nread-only\n", "{}", ran.stderr);

    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let ran = run_with(&job, &step("sleep 60"), cancel).await;
    assert_eq!(ran.exit, Exit::Cancelled, "{}", ran.stderr);
    // Well under the 5 s grace period: the trap ran, nothing waited for the kill.
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());

    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn timeout_stops_the_step() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let f = fixture("timeout", BUSYBOX);
    let job = start(&docker, &f.setup).await;

    let mut cmd = step("echo started; sleep 60 & wait");
    cmd.timeout = Some(Duration::from_secs(1));
    let started = Instant::now();
    let ran = run(&job, &cmd).await;
    assert_eq!(ran.exit, Exit::TimedOut);
    assert_eq!(ran.stdout, "started\n");
    assert!(started.elapsed() < Duration::from_secs(8), "took {:?}", started.elapsed());
    // The whole process group is gone, background children included.
    // (Zombies do not count: nothing reaps orphans in the job container until it is removed.)
    let ran = run(&job, &step("ps -o stat,comm | grep -v '^ *Z' | grep -c sleep || true")).await;
    assert_eq!(ran.stdout.trim(), "0", "sleep still running");
    // The job is still usable, and removable.
    assert_eq!(run(&job, &step("true")).await.exit, Exit::Code(0));

    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn cancel_stops_the_step_gracefully_then_forcibly() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    let f = fixture("cancel", BUSYBOX);
    let job = start(&docker, &f.setup).await;

    // A step that exits on SIGTERM.
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let ran = run_with(&job, &step("trap 'echo got-term; exit 143' TERM; sleep 60 & wait"), cancel).await;
    assert_eq!(ran.exit, Exit::Cancelled);
    assert!(ran.stdout.contains("got-term"), "{:?}", ran.stdout);
    // Well under the 5 s grace period: the trap ran, nothing waited for the kill.
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());

    // A step that ignores SIGTERM is killed after the grace period.
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let ran = run_with(&job, &step("trap '' TERM; while true; do sleep 1; done"), cancel).await;
    assert_eq!(ran.exit, Exit::Cancelled);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(5) && took < Duration::from_secs(15), "took {took:?}");

    // Already cancelled before the step starts.
    let cancel = CancellationToken::new();
    cancel.cancel();
    assert_eq!(run_with(&job, &step("sleep 30"), cancel).await.exit, Exit::Cancelled);

    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

/// A service image built through `build_image`: busybox httpd on port 8080.
async fn httpd_image(docker: &Docker) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {BUSYBOX}\nARG GREETING\nRUN mkdir -p /www && echo \"$GREETING\" > /www/index.html\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"),
    )
    .expect("write");
    let mut lines = Vec::new();
    let args = BTreeMap::from([("GREETING".to_string(), "hello from web".to_string())]);
    docker::build_image(
        docker,
        dir.path(),
        None,
        &[HTTPD.to_string(), "pipe-test/httpd:second".to_string()],
        &args,
        |l| lines.push(l.to_string()),
    )
    .await
    .unwrap_or_else(|e| panic!("build failed: {e}; output: {lines:?}"));
    // Docker prints `Step 1/4 : FROM …`, Podman `STEP 1/4: FROM …`.
    assert!(lines.iter().any(|l| l.to_ascii_lowercase().contains("step 1/4")), "no build output: {lines:?}");
    docker.inspect_image("pipe-test/httpd:second").await.expect("second tag");
}

#[tokio::test]
async fn services_are_reachable_by_id_once_healthy() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    httpd_image(&docker).await;
    let mut f = fixture("services", BUSYBOX);
    f.setup.services = vec![ServiceSpec {
        id: "web".to_string(),
        image: HTTPD.to_string(),
        env: BTreeMap::from([("MODE".to_string(), "test".to_string())]),
        ports: vec!["8080".to_string()],
        volumes: Vec::new(),
        options: Some(
            "--health-cmd 'wget -q -O /dev/null http://127.0.0.1:8080/' --health-interval 500ms --health-timeout 2s --health-retries 20 --network-alias www".to_string(),
        ),
    }];
    let job = start(&docker, &f.setup).await;

    let ran = run(&job, &step("wget -q -O - http://web:8080/ && wget -q -O - http://www:8080/")).await;
    assert_eq!(ran.exit, Exit::Code(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, "hello from web\nhello from web\n");
    let (containers, networks, _) = leftovers(&docker, &f.setup.run_id).await;
    assert_eq!((containers, networks), (2, 1));

    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn unhealthy_service_is_an_error_naming_it() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, BUSYBOX).await;
    httpd_image(&docker).await;
    let mut f = fixture("unhealthy", BUSYBOX);
    // A named volume that does not exist yet: created for the job, removed with it.
    let volume = format!("{}-data", f.setup.run_id);
    f.setup.services = vec![ServiceSpec {
        id: "db".to_string(),
        image: HTTPD.to_string(),
        env: BTreeMap::new(),
        ports: Vec::new(),
        volumes: vec![format!("{volume}:/data")],
        options: Some("--health-cmd 'exit 1' --health-interval 200ms --health-retries 2".to_string()),
    }];
    let f_run = f.setup.run_id.clone();
    let err = match docker::start_job(&docker, &f.setup).await {
        Ok(job) => {
            job.teardown().await;
            panic!("an unhealthy service started");
        }
        Err(e) => e,
    };
    assert!(matches!(err, Error::Docker { .. }), "{err:?}");
    assert!(err.to_string().contains("service `db`"), "{err}");
    // Decided by its checks (Podman without systemd runs none: pipe does), not by the deadline.
    assert!(err.to_string().contains("is unhealthy"), "{err}");
    assert_clean(&docker, &f_run).await;

    // A service that exits at once (busybox's default command is a shell without input).
    f.setup.run_id = unique_run_id("exits");
    f.setup.services = vec![ServiceSpec {
        id: "quitter".to_string(),
        image: BUSYBOX.to_string(),
        env: BTreeMap::new(),
        ports: Vec::new(),
        volumes: Vec::new(),
        options: None,
    }];
    let err = docker::start_job(&docker, &f.setup).await.err().expect("a service that exits is an error");
    assert!(err.to_string().contains("service `quitter`"), "{err}");
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn unsupported_options_are_usage_errors() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    let mut f = fixture("options", BUSYBOX);
    f.setup.container =
        Some(ContainerSpec { options: Some("--network host".to_string()), ..Default::default() });
    let err = docker::start_job(&docker, &f.setup).await.err().expect("unsupported option accepted");
    assert!(matches!(err, Error::Usage { .. }), "{err:?}");
    assert!(err.to_string().contains("--network"), "{err}");
    assert!(err.hint().unwrap_or_default().contains("--cpus"));
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn missing_images_are_unavailable() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    let image = "pipe-test/does-not-exist:never";
    for pull in [PullPolicy::Never, PullPolicy::Missing] {
        let mut f = fixture("noimage", image);
        f.setup.pull = pull;
        let err = docker::start_job(&docker, &f.setup).await.err().expect("a missing image started");
        match &err {
            Error::ImageUnavailable { image: named, hint, .. } => {
                assert_eq!(named, image);
                assert!(hint.contains("-P LABEL=IMAGE"), "{hint}");
            }
            other => panic!("{pull:?}: expected ImageUnavailable, got {other:?}"),
        }
        assert!(err.to_string().contains(image));
        assert_clean(&docker, &f.setup.run_id).await;
    }
}

#[tokio::test]
async fn debian_image_has_bash() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&docker, DEBIAN).await;
    let f = fixture("debian", DEBIAN);
    let job = start(&docker, &f.setup).await;
    let cmd = StepCommand {
        argv: vec![
            "bash".into(),
            "-c".into(),
            "set -euo pipefail; echo ${BASH_VERSINFO[0]}; cat hello.txt | wc -l".into(),
        ],
        ..step("")
    };
    let ran = run(&job, &cmd).await;
    assert_eq!(ran.exit, Exit::Code(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, "5\n1\n");
    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn tcp_daemon_on_loopback() {
    let host = "tcp://127.0.0.1:2375";
    assert!(!docker::daemon_is_remote(Some(host)));
    let Some(unix) = docker_or_skip().await else {
        return;
    };
    let docker = match docker::connect_to(host).await {
        Ok(d) => d,
        Err(e) if under_ci() => {
            panic!("CI=true but no daemon at {host} (scripts/docker-daemon.sh starts one): {e}")
        }
        Err(e) => {
            eprintln!("skipping: no Docker daemon listening on {host} ({e})");
            return;
        }
    };
    let _lock = PRUNE_LOCK.read().await;
    require_image(&unix, BUSYBOX).await;
    let f = fixture("tcp", BUSYBOX);
    // Loopback tcp is the same machine: the runner dir is bind-mounted.
    let job = docker::start_job_with(&docker, &f.setup, docker::daemon_is_remote(Some(host)))
        .await
        .expect("start over tcp");
    let ran = run(&job, &step(&format!("cat hello.txt; echo tcp > {RUNNER_DIR_IN_CONTAINER}/tcp.txt"))).await;
    assert_eq!(ran.exit, Exit::Code(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, "hello from the host\n");
    assert_eq!(std::fs::read_to_string(f.setup.runner_dir.join("tcp.txt")).expect("read"), "tcp\n");
    job.teardown().await;
    assert_clean(&docker, &f.setup.run_id).await;
}

#[tokio::test]
async fn connect_reports_a_daemon_that_is_down() {
    let err = docker::connect_to("unix:///nonexistent/docker.sock").await.expect_err("connected to nothing");
    assert!(matches!(err, Error::Docker { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("/nonexistent/docker.sock") && !text.contains('\n'), "{text}");
    assert!(err.hint().unwrap_or_default().contains("--executor host"));
}

#[tokio::test]
async fn available_answers_quickly() {
    let started = Instant::now();
    let up = docker::available().await;
    assert!(started.elapsed() < Duration::from_secs(4));
    if under_ci() {
        assert!(up, "CI=true but no Docker daemon");
    }
}

#[tokio::test]
async fn prune_removes_labelled_leftovers() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    require_image(&docker, BUSYBOX).await;
    let _lock = PRUNE_LOCK.write().await;
    let run_id = unique_run_id("prune");
    let labels = HashMap::from([
        (LABEL_RUN_ID.to_string(), run_id.clone()),
        (LABEL_JOB.to_string(), "crashed".to_string()),
        (LABEL_MANAGED.to_string(), "true".to_string()),
    ]);
    // What a crashed run leaves: a running container, a network, a volume.
    let config = ContainerCreateBody {
        image: Some(BUSYBOX.to_string()),
        entrypoint: Some(vec!["tail".to_string(), "-f".to_string(), "/dev/null".to_string()]),
        labels: Some(labels.clone()),
        ..Default::default()
    };
    let name = format!("pipe-{run_id}-leftover");
    let created = docker
        .create_container(Some(CreateContainerOptionsBuilder::default().name(&name).build()), config)
        .await
        .expect("create");
    docker.start_container(&created.id, None).await.expect("start");
    docker
        .create_network(NetworkCreateRequest {
            name: name.clone(),
            labels: Some(labels.clone()),
            ..Default::default()
        })
        .await
        .expect("network");
    docker
        .create_volume(VolumeCreateRequest {
            name: Some(name.clone()),
            labels: Some(labels.clone()),
            ..Default::default()
        })
        .await
        .expect("volume");
    assert_eq!(leftovers(&docker, &run_id).await, (1, 1, 1));

    // Limited to this test's run: other runs on the same daemon (other tests, other checkouts)
    // are not this test's to remove. `pipe prune` uses the same code without the run filter.
    let report = docker::prune_run(&docker, Some(&run_id)).await.expect("prune");
    assert!(report.containers >= 1 && report.networks >= 1 && report.volumes >= 1, "{report:?}");
    assert_clean(&docker, &run_id).await;
    // A second prune finds nothing of that run.
    let again = docker::prune_run(&docker, Some(&run_id)).await.expect("prune again");
    assert_eq!(again, docker::PruneReport::default());
}
