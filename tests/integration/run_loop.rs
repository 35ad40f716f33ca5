//! The dispatcher's event loop end to end, with real processes: scheduling without a CPU cap,
//! a panicking leg, signals (Ctrl-C at the gate prompt, during a service's health wait, a second
//! Ctrl-C), cleanup steps after Ctrl-C, and `pipe approve` racing the prompt.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::run_host::{Exec, labelled_containers, run_pipeline};
use crate::support::spawn::spawn_json_run;
use crate::test::{all_output as text, pipe_bin, pipe_in};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn sigint(child: &Child) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT)
        .unwrap();
}

/// The only run of a state directory, once it exists.
fn run_dir(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir.join(".pipe/runs")).ok()?.flatten().next().map(|e| e.path())
}

fn events_of(dir: &Path) -> Vec<Json> {
    let Some(run) = run_dir(dir) else { return Vec::new() };
    crate::test::stored_events(&run)
}

fn record_of(dir: &Path) -> Json {
    let run = run_dir(dir).expect("no run");
    serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap()
}

/// Wait (up to `secs`) until `ready` holds.
fn wait_for(secs: u64, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn_run(dir: &Path, exec: Exec, yaml: &str) -> Child {
    spawn_json_run(dir, yaml, &exec.args())
}

fn step_started(events: &[Json], job: &str, step: u64) -> bool {
    events.iter().any(|e| e["event"] == "step_started" && e["job"] == job && e["step"] == step)
}

#[test]
fn a_diamond_of_sleeping_jobs_finishes_in_one_sleep_without_parallel() {
    let r = run_pipeline(
        Exec::Host,
        r#"
on: push
jobs:
  top:
    runs-on: x
    steps: [{run: "true"}]
  left:
    needs: top
    runs-on: x
    steps: [{run: sleep 3}]
  right:
    needs: top
    runs-on: x
    steps: [{run: sleep 3}]
  middle:
    needs: top
    runs-on: x
    steps: [{run: sleep 3}]
  bottom:
    needs: [left, right, middle]
    runs-on: x
    steps: [{run: "true"}]
"#,
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let order: Vec<(String, String)> = r
        .events
        .iter()
        .filter(|e| e["event"] == "job_started" || e["event"] == "job_finished")
        .map(|e| (e["event"].as_str().unwrap().to_string(), e["job"].as_str().unwrap().to_string()))
        .collect();
    let pos = |ev: &str, job: &str| order.iter().position(|(e, j)| e == ev && j == job).unwrap();
    // Three sleeping jobs on a 2-core machine: all started before any finished (one sleep).
    let first_done = ["left", "right", "middle"].iter().map(|j| pos("job_finished", j)).min().unwrap();
    for job in ["left", "right", "middle"] {
        assert!(pos("job_started", job) < first_done, "{job} waited for a free CPU: {order:?}");
    }
    let ms = |job: &str| r.job(job)["duration_ms"].as_u64().unwrap();
    let total: u64 = r.of("run_finished")[0]["duration_ms"].as_u64().unwrap();
    assert!(total < 3000 + 2900, "the diamond took {total} ms: more than one sleep (legs {})", ms("left"));
}

#[test]
fn parallel_n_still_caps_the_legs() {
    let r = run_pipeline(
        Exec::Host,
        r#"
on: push
jobs:
  a: {runs-on: x, steps: [{run: sleep 1}]}
  b: {runs-on: x, steps: [{run: sleep 1}]}
"#,
        &["--parallel", "1"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let kinds: Vec<&str> = r
        .events
        .iter()
        .filter(|e| e["event"] == "job_started" || e["event"] == "job_finished")
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["job_started", "job_finished", "job_started", "job_finished"]);
}

#[test]
fn a_panicking_leg_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yml"),
        r#"
on: push
jobs:
  boom:
    runs-on: x
    steps: [{run: echo never}]
  after:
    needs: boom
    runs-on: x
    steps: [{run: echo never}]
  other:
    runs-on: x
    steps: [{run: echo fine}]
"#,
    )
    .unwrap();
    let out = Command::new(pipe_bin())
        .args(["run", "p.yml", "--output", "json", "--executor", "host", "--ref", "refs/heads/main"])
        .args(["--sha", SHA])
        .current_dir(dir.path())
        // Test-only hook, documented in the README: this job's legs panic once started.
        .env(pipe::runner::PANIC_IN_JOB, "boom")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let events = events_of(dir.path());
    let finished = |job: &str| {
        events
            .iter()
            .find(|e| e["event"] == "job_finished" && e["job"] == job)
            .unwrap_or_else(|| panic!("no job_finished for {job}: {}", text(&out)))["result"]
            .clone()
    };
    assert_eq!(finished("boom"), "failure");
    assert_eq!(finished("after"), "skipped");
    assert_eq!(finished("other"), "success");
    let annotation = events.iter().find(|e| e["event"] == "annotation" && e["job"] == "boom").unwrap();
    assert!(annotation["message"].as_str().unwrap().contains("panicked"), "{annotation}");
    assert_eq!(record_of(dir.path())["status"], "failure");
    let run_finished = events.iter().find(|e| e["event"] == "run_finished").unwrap();
    assert_eq!(run_finished["result"], "failure");
}

both_backends! {
    fn cleanup_steps_run_after_ctrl_c(exec) {
        let dir = tempfile::tempdir().unwrap();
        let child = spawn_run(
            dir.path(),
            exec,
            r#"
on: push
jobs:
  a:
    runs-on: x
    steps:
      - run: sleep 60
      - run: echo "never runs"
      - if: always()
        run: echo "always ran"
      - if: cancelled()
        run: echo "cancelled ran"
      - if: failure()
        run: echo "failure ran"
"#,
        );
        wait_for(60, "the first step", || step_started(&events_of(dir.path()), "a", 0));
        std::thread::sleep(Duration::from_millis(500));
        sigint(&child);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "{}", text(&out));
        let events = events_of(dir.path());
        let lines: Vec<&str> = events
            .iter()
            .filter(|e| e["event"] == "step_output")
            .filter_map(|e| e["line"].as_str())
            .collect();
        assert!(lines.contains(&"always ran"), "{lines:?}\n{}", text(&out));
        assert!(lines.contains(&"cancelled ran"), "{lines:?}");
        assert!(!lines.contains(&"never runs") && !lines.contains(&"failure ran"), "{lines:?}");
        let step = |n: u64| {
            events.iter().find(|e| e["event"] == "step_finished" && e["step"] == n).unwrap()["conclusion"].clone()
        };
        assert_eq!(step(0), "cancelled");
        assert_eq!(step(1), "skipped");
        assert_eq!(step(2), "success");
        assert_eq!(step(3), "success");
        let job = events.iter().find(|e| e["event"] == "job_finished").unwrap();
        assert_eq!(job["result"], "cancelled");
        if exec == Exec::Docker {
            let id = record_of(dir.path())["id"].as_str().unwrap().to_string();
            assert!(labelled_containers(&id).is_empty(), "a container survived Ctrl-C");
        }
    }

    fn a_second_ctrl_c_kills_at_once(exec) {
        let dir = tempfile::tempdir().unwrap();
        // The step ignores SIGTERM: only SIGKILL stops it (after the 5 s grace, or at once).
        let child = spawn_run(
            dir.path(),
            exec,
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: trap '' TERM; sleep 60\n",
        );
        wait_for(60, "the step", || step_started(&events_of(dir.path()), "a", 0));
        std::thread::sleep(Duration::from_millis(1000));
        sigint(&child);
        std::thread::sleep(Duration::from_millis(200));
        let second = Instant::now();
        sigint(&child);
        let out = child.wait_with_output().unwrap();
        let after_second = second.elapsed();
        assert_eq!(out.status.code(), Some(130), "{}", text(&out));
        // The grace period is 5 s from the first Ctrl-C (4.8 s from the second); killed at once,
        // the run ends well before it, container removal included.
        assert!(after_second < Duration::from_millis(4000), "took {after_second:?} after the second Ctrl-C");
        if exec == Exec::Docker {
            let id = record_of(dir.path())["id"].as_str().unwrap().to_string();
            assert!(labelled_containers(&id).is_empty(), "a container survived");
        }
    }
}

/// Networks carrying a run's label, asked through the Docker API.
fn labelled_networks(run_id: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let docker = bollard::Docker::connect_with_defaults().unwrap();
        let filters = std::collections::HashMap::from([(
            "label".to_string(),
            vec![format!("dev.pipe.run-id={run_id}")],
        )]);
        let opts = bollard::query_parameters::ListNetworksOptions { filters: Some(filters) };
        docker.list_networks(Some(opts)).await.unwrap().into_iter().filter_map(|n| n.id).collect()
    })
}

#[test]
fn ctrl_c_during_a_service_health_wait_removes_everything() {
    let Some(exec) = Exec::docker() else { return };
    let image = crate::run_docker::service_image();
    let dir = tempfile::tempdir().unwrap();
    let child = spawn_run(
        dir.path(),
        exec,
        &format!(
            r#"
on: push
jobs:
  a:
    runs-on: x
    services:
      web:
        image: {image}
        options: --health-cmd "false" --health-interval 1s --health-retries 500
    steps: [{{run: echo never}}]
"#
        ),
    );
    // The service container exists: pipe is waiting for it to be healthy (it never is).
    let mut run_id = String::new();
    wait_for(60, "the service container", || {
        if let Some(run) = run_dir(dir.path()) {
            run_id = run.file_name().unwrap().to_string_lossy().to_string();
            return !labelled_containers(&run_id).is_empty();
        }
        false
    });
    std::thread::sleep(Duration::from_millis(1500));
    let interrupted = Instant::now();
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(interrupted.elapsed() < Duration::from_secs(15), "Ctrl-C took {:?}", interrupted.elapsed());
    assert!(labelled_containers(&run_id).is_empty(), "the service container was left behind");
    assert!(labelled_networks(&run_id).is_empty(), "the job network was left behind");
    let events = events_of(dir.path());
    let job = events.iter().find(|e| e["event"] == "job_finished" && e["job"] == "a").unwrap();
    assert_eq!(job["result"], "cancelled", "{}", text(&out));
    assert_eq!(record_of(dir.path())["status"], "cancelled");
}

const GATED: &str = r#"
on: push
jobs:
  build:
    runs-on: x
    steps: [{run: echo built}]
  production:
    needs: build
    runs-on: x
    environment: production
    steps: [{run: echo deployed}]
"#;

/// `pipe run` of GATED at a pseudo-terminal (`script`), its input held open by the test.
fn run_at_a_terminal(dir: &Path) -> Child {
    std::fs::write(dir.join("p.yml"), GATED).unwrap();
    std::fs::write(dir.join("pipe.toml"), "[environments.production]\nreviewers = [\"alice\", \"bob\"]\n")
        .unwrap();
    let cmd = format!(
        "{} run p.yml --executor host --ref refs/heads/main --sha {SHA} --as alice",
        pipe_bin().display()
    );
    Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The prompt is on the screen: the run record says the run waits.
fn wait_for_the_prompt(dir: &Path) {
    wait_for(30, "the run to wait at the gate", || {
        run_dir(dir).is_some_and(|r| {
            std::fs::read_to_string(r.join("run.json"))
                .is_ok_and(|t| t.contains("\"status\": \"waiting\"") || t.contains("\"status\":\"waiting\""))
        })
    });
}

#[test]
fn ctrl_c_at_the_gate_prompt_exits_130_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = run_at_a_terminal(dir.path());
    wait_for_the_prompt(dir.path());
    // While it asks, `pipe runs` shows the run as waiting.
    let runs = pipe_in(dir.path(), &["runs"]);
    assert!(String::from_utf8_lossy(&runs.stdout).contains("waiting"), "{}", text(&runs));
    std::thread::sleep(Duration::from_millis(300));
    // Ctrl-C typed at the terminal: the terminal sends SIGINT to pipe.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(15);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "pipe ignored Ctrl-C at the prompt");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let all = text(&out);
    assert!(all.contains("Deploy to `production`?"), "{all}");
    assert_eq!(out.status.code(), Some(130), "{all}");
    // What pipe says about the interruption starts on a line of its own, after the question.
    assert!(all.lines().any(|l| l.trim().starts_with("notice: interrupted")), "{all}");
    let record = record_of(dir.path());
    assert_eq!(record["status"], "cancelled", "{record}");
    assert!(record["waiting"].as_object().is_none_or(|w| w.is_empty()), "{record}");
    assert!(record["pid"].is_null(), "{record}");
    let audit = std::fs::read_to_string(dir.path().join(".pipe/audit.jsonl")).unwrap_or_default();
    assert!(audit.is_empty(), "nobody decided, yet: {audit}");
    let events = events_of(dir.path());
    let production =
        events.iter().find(|e| e["event"] == "job_finished" && e["job"] == "production").unwrap();
    assert_eq!(production["result"], "cancelled");
    // Nothing left in the scratch space.
    let scratch = std::env::temp_dir().join(format!("pipe-{}", record["id"].as_str().unwrap()));
    assert!(!scratch.exists(), "{} was left behind", scratch.display());
}

#[test]
fn pipe_approve_from_another_terminal_wins_over_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = run_at_a_terminal(dir.path());
    let stdin = child.stdin.take().unwrap();
    wait_for_the_prompt(dir.path());
    let approved = pipe_in(dir.path(), &["approve", "last", "--as", "bob", "--comment", "from my desk"]);
    assert_eq!(approved.status.code(), Some(0), "{}", text(&approved));
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the run did not go on after `pipe approve`");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("the `production` gate was approved by bob from another terminal"), "{all}");
    let events = events_of(dir.path());
    let decided = events.iter().find(|e| e["event"] == "gate_decided").unwrap();
    assert_eq!(decided["by"], "bob");
    assert_eq!(decided["decision"], "approved");
    assert!(events.iter().any(|e| e["event"] == "step_output" && e["line"] == "deployed"));
    // One decision in the audit log: bob's.
    let audit = std::fs::read_to_string(dir.path().join(".pipe/audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 1, "{audit}");
    assert!(audit.contains("\"by\":\"bob\""), "{audit}");
    assert_eq!(record_of(dir.path())["status"], "success");
}
