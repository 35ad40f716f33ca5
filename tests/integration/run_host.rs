//! `pipe run`: job and step semantics end to end, asserted on the JSON events, the exit code and
//! the files of the state directory — each test runs once on the host and once in Docker.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::test::pipe_bin;

use crate::support::spawn::{SHA, host_json_run, pipe_command};

pub struct Ran {
    pub code: i32,
    pub events: Vec<Json>,
    pub stdout: String,
    pub stderr: String,
    pub dir: tempfile::TempDir,
}

impl Ran {
    pub fn of(&self, kind: &str) -> Vec<&Json> {
        self.events.iter().filter(|e| e["event"] == kind).collect()
    }

    /// The `job_finished` event of a job (first leg when a matrix).
    pub fn job(&self, job: &str) -> &Json {
        self.events
            .iter()
            .find(|e| e["event"] == "job_finished" && e["job"] == job)
            .unwrap_or_else(|| panic!("no job_finished for {job}:\n{}\n{}", self.stdout, self.stderr))
    }

    pub fn step(&self, job: &str, step: u64) -> &Json {
        self.events
            .iter()
            .find(|e| e["event"] == "step_finished" && e["job"] == job && e["step"] == step)
            .unwrap_or_else(|| panic!("no step_finished {job}/{step}:\n{}\n{}", self.stdout, self.stderr))
    }

    pub fn output_lines(&self, job: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["event"] == "step_output" && e["job"] == job)
            .filter_map(|e| e["line"].as_str().map(str::to_string))
            .collect()
    }
}

/// Where a test's jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exec {
    Host,
    Docker,
}

/// The image Docker-backed tests map every `runs-on` label to (built by scripts/test-images.sh).
pub const TEST_IMAGE: &str = "pipe-test/debian:bookworm";

impl Exec {
    pub fn args(self) -> Vec<String> {
        match self {
            Exec::Host => vec!["--executor".into(), "host".into()],
            Exec::Docker => {
                vec![
                    "--executor".into(),
                    "docker".into(),
                    "-P".into(),
                    format!("x={TEST_IMAGE}"),
                    "-P".into(),
                    format!("ubuntu-latest={TEST_IMAGE}"),
                ]
            }
        }
    }

    /// Docker when the daemon answers and the test image exists. Locally the test is skipped
    /// with a reason; under CI (`CI=true`) a missing daemon or image is a failure.
    pub fn docker() -> Option<Exec> {
        let ok = Command::new("docker")
            .args(["image", "inspect", TEST_IMAGE])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(Exec::Docker);
        }
        let reason = format!(
            "no Docker daemon or no image {TEST_IMAGE} (run scripts/docker-daemon.sh ensure && scripts/test-images.sh)"
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {reason}");
        eprintln!("skipping: {reason}");
        None
    }
}

/// Declare each test once; it runs on the host and in Docker.
macro_rules! both_backends {
    ($(fn $name:ident($exec:ident) $body:block)*) => {
        mod host {
            use super::*;
            $(#[test] fn $name() { let $exec = Exec::Host; $body })*
        }
        mod docker {
            use super::*;
            $(#[test] fn $name() { let Some($exec) = Exec::docker() else { return }; $body })*
        }
    };
}
pub(crate) use both_backends;

/// Run a pipeline with JSON output, in a fresh directory.
pub fn run_pipeline(exec: Exec, yaml: &str, extra: &[&str]) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    run_in(exec, dir, yaml, extra)
}

pub fn run_in(exec: Exec, dir: tempfile::TempDir, yaml: &str, extra: &[&str]) -> Ran {
    std::fs::write(dir.path().join("p.yml"), yaml).unwrap();
    let out = Command::new(pipe_bin())
        .args(["run", "p.yml", "--output", "json", "--ref", "refs/heads/main", "--sha", SHA])
        .args(exec.args())
        .args(extra)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let events: Vec<Json> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}")))
        .collect();
    if exec == Exec::Docker
        && let Some(id) = events.first().and_then(|e| e["run_id"].as_str())
    {
        let left = labelled_containers(id);
        assert!(left.is_empty(), "containers of run {id} left behind: {left:?}");
    }
    Ran {
        code: out.status.code().unwrap_or(-1),
        events,
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        dir,
    }
}

/// Containers (any state) carrying a run's label, asked through the Docker API (of the engine
/// pipe uses: `DOCKER_HOST`, TLS, ssh or a Docker context).
pub fn labelled_containers(run_id: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let docker = pipe::backend::docker::connect().await.unwrap();
        let filters = std::collections::HashMap::from([(
            "label".to_string(),
            vec![format!("dev.pipe.run-id={run_id}")],
        )]);
        let opts = bollard::query_parameters::ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        docker.list_containers(Some(opts)).await.unwrap().into_iter().filter_map(|c| c.id).collect()
    })
}

both_backends! {
    fn outputs_pass_between_jobs(exec) {
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      build:
        runs-on: ubuntu-latest
        outputs:
          image: ${{ steps.meta.outputs.image }}
          multi: ${{ steps.meta.outputs.notes }}
        steps:
          - id: meta
            run: |
              echo "image=registry.local/app:${GITHUB_SHA}" >> "$GITHUB_OUTPUT"
              { echo "notes<<EOF"; echo "line one"; echo "line two"; echo "EOF"; } >> "$GITHUB_OUTPUT"
      deploy:
        needs: build
        runs-on: ubuntu-latest
        steps:
          - run: echo "deploying ${{ needs.build.outputs.image }} (${{ needs.build.result }})"
          - run: test "$(printf '%s' "$NOTES" | wc -l)" = 1
            env:
              NOTES: ${{ needs.build.outputs.multi }}
    "#,
            &[],
        );
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let image = format!("registry.local/app:{SHA}");
        assert_eq!(r.job("build")["outputs"]["image"], image.as_str());
        assert_eq!(r.job("build")["outputs"]["multi"], "line one\nline two");
        assert!(r.output_lines("deploy").contains(&format!("deploying {image} (success)")));
        assert_eq!(r.job("deploy")["result"], "success");
        let finished = r.of("run_finished");
        assert_eq!(finished[0]["result"], "success");
        for e in &r.events {
            assert_eq!(e["v"], 1);
            assert!(e["run_id"].as_str().is_some_and(|s| !s.is_empty()));
            assert!(e["ts"].as_str().is_some_and(|s| s.contains('T')));
        }
    }

    fn failure_skips_dependents_unless_always_or_failure(exec) {
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      broken:
        runs-on: x
        steps:
          - run: exit 3
          - run: echo never
          - if: failure()
            run: echo cleanup-after-failure
          - if: always()
            run: echo always-runs
      dependent:
        needs: broken
        runs-on: x
        steps: [{run: echo should-not-run}]
      notify:
        needs: broken
        if: failure()
        runs-on: x
        steps:
          - run: echo "broken was ${{ needs.broken.result }}"
      report:
        needs: [broken, dependent]
        if: always()
        runs-on: x
        steps:
          - run: echo "dependent was ${{ needs.dependent.result }}"
      on-success:
        needs: broken
        if: success()
        runs-on: x
        steps: [{run: echo no}]
    "#,
            &[],
        );
        assert_eq!(r.code, 1);
        assert_eq!(r.step("broken", 0)["conclusion"], "failure");
        assert_eq!(r.step("broken", 1)["conclusion"], "skipped");
        assert_eq!(r.step("broken", 2)["conclusion"], "success");
        assert_eq!(r.step("broken", 3)["conclusion"], "success");
        assert_eq!(r.job("broken")["result"], "failure");
        assert_eq!(r.job("dependent")["result"], "skipped");
        assert_eq!(r.job("on-success")["result"], "skipped");
        assert_eq!(r.job("notify")["result"], "success");
        assert!(r.output_lines("notify").contains(&"broken was failure".to_string()));
        assert!(r.output_lines("report").contains(&"dependent was skipped".to_string()));
        assert!(r.output_lines("broken").contains(&"Process completed with exit code 3.".to_string()));
        assert_eq!(r.of("run_finished")[0]["result"], "failure");
    }

    fn continue_on_error_keeps_outcome_and_conclusion_apart(exec) {
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      a:
        runs-on: x
        steps:
          - id: flaky
            continue-on-error: true
            run: exit 1
          - run: echo "outcome=${{ steps.flaky.outcome }} conclusion=${{ steps.flaky.conclusion }}"
      b:
        runs-on: x
        continue-on-error: true
        steps: [{run: exit 1}]
      c:
        needs: b
        runs-on: x
        steps:
          - run: echo "b=${{ needs.b.result }}"
    "#,
            &[],
        );
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert_eq!(r.step("a", 0)["outcome"], "failure");
        assert_eq!(r.step("a", 0)["conclusion"], "success");
        assert!(r.output_lines("a").contains(&"outcome=failure conclusion=success".to_string()));
        assert_eq!(r.job("a")["result"], "success");
        assert_eq!(r.job("c")["result"], "success");
    }

    fn env_files_env_layers_and_path_order(exec) {
        let r = run_pipeline(exec,
            r##"
    on: push
    env:
      LEVEL: workflow
      KEEP: from-workflow
    jobs:
      a:
        runs-on: x
        env:
          LEVEL: job
        steps:
          - run: |
              echo "FROM_STEP=one" >> "$GITHUB_ENV"
              { echo "BLOCK<<END"; echo "x=1"; echo "y"; echo "END"; } >> "$GITHUB_ENV"
              mkdir -p "$RUNNER_TEMP/p1" "$RUNNER_TEMP/p2"
              printf '#!/bin/sh\necho first\n' > "$RUNNER_TEMP/p1/tool"
              printf '#!/bin/sh\necho second\n' > "$RUNNER_TEMP/p2/tool"
              chmod +x "$RUNNER_TEMP/p1/tool" "$RUNNER_TEMP/p2/tool"
              echo "$RUNNER_TEMP/p1" >> "$GITHUB_PATH"
              echo "$RUNNER_TEMP/p2" >> "$GITHUB_PATH"
              echo "# Summary" >> "$GITHUB_STEP_SUMMARY"
          - env:
              LEVEL: step
            run: |
              echo "level=$LEVEL keep=$KEEP from=$FROM_STEP ci=$CI"
              printf '%s|' "$BLOCK"; echo
              echo "tool says $(tool)"
              test -s "$GITHUB_STEP_SUMMARY" && echo "summary not fresh" || echo "summary fresh"
    "##,
            &[],
        );
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        let lines = r.output_lines("a");
        assert!(lines.contains(&"level=step keep=from-workflow from=one ci=true".to_string()), "{lines:?}");
        assert!(lines.contains(&"x=1\ny|".to_string()) || lines.contains(&"x=1".to_string()), "{lines:?}");
        assert!(
            lines.contains(&"tool says second".to_string()),
            "later GITHUB_PATH entries come first: {lines:?}"
        );
        assert!(lines.contains(&"summary fresh".to_string()));
        let run_dir = only_run_dir(r.dir.path());
        assert!(std::fs::read_to_string(run_dir.join("summary.md")).unwrap().contains("# Summary"));
    }

    fn matrix_legs_with_include_and_exclude(exec) {
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      test:
        runs-on: x
        strategy:
          matrix:
            os: [linux, mac]
            py: ["3.11", "3.12"]
            exclude:
              - os: mac
                py: "3.11"
            include:
              - os: linux
                py: "3.12"
                extra: yes
              - os: bsd
                py: "3.10"
        steps:
          - run: echo "leg ${{ matrix.os }} ${{ matrix.py }} extra=${{ matrix.extra }} index=${{ strategy.job-index }}/${{ strategy.job-total }}"
    "#,
            &[],
        );
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        let mut names: Vec<String> =
            r.of("job_finished").iter().map(|e| e["name"].as_str().unwrap().to_string()).collect();
        names.sort();
        assert_eq!(
            names,
            ["test (bsd, 3.10)", "test (linux, 3.11)", "test (linux, 3.12, yes)", "test (mac, 3.12)"]
        );
        let lines = r.output_lines("test");
        assert!(lines.iter().any(|l| l.starts_with("leg linux 3.12 extra=yes index=")), "{lines:?}");
        assert!(lines.iter().any(|l| l.starts_with("leg mac 3.12 extra= index=")), "{lines:?}");
        assert!(lines.iter().all(|l| l.ends_with("/4")), "{lines:?}");
        let started = r.of("job_started");
        assert!(started.iter().all(|e| e["matrix"].is_object()));
    }

    fn fail_fast_cancels_the_other_legs(exec) {
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      t:
        runs-on: x
        strategy:
          matrix:
            n: [1, 2]
        steps:
          - run: if [ "${{ matrix.n }}" = 1 ]; then exit 1; else sleep 30; fi
    "#,
            &["--parallel", "2"],
        );
        assert_eq!(r.code, 1);
        let results: Vec<&str> = r.of("job_finished").iter().map(|e| e["result"].as_str().unwrap()).collect();
        assert!(results.contains(&"failure") && results.contains(&"cancelled"), "{results:?}");
        let ms = r.of("run_finished")[0]["duration_ms"].as_u64().unwrap();
        assert!(ms < 25_000, "the sleeping leg was not cancelled ({ms} ms)");
    }

    fn job_and_step_timeouts(exec) {
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      step-timeout:
        runs-on: x
        steps:
          - timeout-minutes: 0.02
            run: sleep 20
          - if: always()
            run: echo after
      job-timeout:
        runs-on: x
        timeout-minutes: 0.02
        steps:
          - run: sleep 20
    "#,
            &[],
        );
        assert_eq!(r.code, 1);
        assert_eq!(r.step("step-timeout", 0)["conclusion"], "failure");
        assert_eq!(r.step("step-timeout", 1)["conclusion"], "success");
        assert_eq!(r.job("job-timeout")["result"], "failure");
        let ms = r.of("run_finished")[0]["duration_ms"].as_u64().unwrap();
        assert!(ms < 15_000, "timeouts did not stop the steps ({ms} ms)");
    }

    fn secrets_and_add_mask_never_reach_output_or_state(exec) {
        let secret_file_dir = tempfile::tempdir().unwrap();
        let sf = secret_file_dir.path().join("s.env");
        std::fs::write(&sf, "FILE_SECRET=\"from-file-Zq81\"\n").unwrap();
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      a:
        runs-on: x
        outputs:
          leaked: ${{ steps.s.outputs.value }}
        steps:
          - id: s
            run: |
              echo "token is ${{ secrets.TOKEN }}"
              echo "file secret $FS"
              printf 'multi: %s\n' "$MULTI"
              echo "::add-mask::dyn-Kp42x"
              echo "dynamic dyn-Kp42x"
              echo "value=${{ secrets.TOKEN }}" >> "$GITHUB_OUTPUT"
            env:
              FS: ${{ secrets.FILE_SECRET }}
              MULTI: ${{ secrets.MULTI }}
    "#,
            &[
                "--secret",
                "TOKEN=hunter2-Zx9",
                "--secret-file",
                sf.to_str().unwrap(),
                "--secret",
                "MULTI=first-LINE7\nsecond-LINE8",
            ],
        );
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        let lines = r.output_lines("a");
        assert!(lines.contains(&"token is ***".to_string()), "{lines:?}");
        assert!(lines.contains(&"file secret ***".to_string()), "{lines:?}");
        assert!(lines.contains(&"dynamic ***".to_string()), "{lines:?}");
        // An output holding a secret is dropped with a warning (as GitHub's runner does).
        assert!(r.job("a")["outputs"].get("leaked").is_none(), "{}", r.job("a"));
        assert!(
            r.of("annotation").iter().any(|e| e["level"] == "warning"
                && e["message"] == "output `leaked` was skipped: it may contain a secret"),
            "{}",
            r.stdout
        );
        let all = format!("{}{}{}", r.stdout, r.stderr, read_tree(&r.dir.path().join(".pipe")));
        for s in ["hunter2-Zx9", "from-file-Zq81", "dyn-Kp42x", "first-LINE7", "second-LINE8"] {
            assert!(!all.contains(s), "`{s}` leaked");
        }
    }

    fn independent_jobs_start_together(exec) {
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      slow:
        runs-on: x
        steps: [{run: sleep 10}]
      fast:
        runs-on: x
        steps: [{run: sleep 2}]
      after-fast:
        needs: fast
        runs-on: x
        steps: [{run: "true"}]
    "#,
            &["--parallel", "3"],
        );
        assert_eq!(r.code, 0);
        let order: Vec<(String, String)> = r
            .events
            .iter()
            .filter(|e| e["event"] == "job_started" || e["event"] == "job_finished")
            .map(|e| (e["event"].as_str().unwrap().to_string(), e["job"].as_str().unwrap().to_string()))
            .collect();
        let pos = |ev: &str, job: &str| order.iter().position(|(e, j)| e == ev && j == job).unwrap();
        // No stage barrier: after-fast starts as soon as fast is done, while slow still runs.
        // Wide margins (10 s against 2 s): the order must hold on a loaded machine too.
        assert!(pos("job_started", "slow") < pos("job_finished", "fast"));
        assert!(pos("job_started", "after-fast") < pos("job_finished", "slow"), "{order:?}");
    }

    fn state_files_runs_and_logs(exec) {
        let r =
            run_pipeline(exec, "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo hello-log\n", &[]);
        assert_eq!(r.code, 0);
        let run_dir = only_run_dir(r.dir.path());
        let record: Json =
            serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
        assert_eq!(record["status"], "success");
        // events.jsonl holds what stdout showed (output lines by reference into the log).
        let kinds = |events: &[Json]| -> Vec<String> {
            events.iter().map(|e| format!("{} {}", e["event"], e.get("line").unwrap_or(&Json::Null))).collect()
        };
        assert_eq!(kinds(&crate::test::stored_events(&run_dir)), kinds(&r.events));
        // Named as the terminal names the leg and the step.
        assert_eq!(std::fs::read_to_string(run_dir.join("logs/a/00-Run echo hello-log.log")).unwrap(), "hello-log\n");
        let logs =
            Command::new(pipe_bin()).args(["logs", "last", "a"]).current_dir(r.dir.path()).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&logs.stdout), "== a / Run echo hello-log ==\nhello-log\n");
        let runs = Command::new(pipe_bin()).args(["runs"]).current_dir(r.dir.path()).output().unwrap();
        let runs = String::from_utf8_lossy(&runs.stdout);
        assert!(runs.contains("success") && runs.contains("p.yml"), "{runs}");
        let bad = Command::new(pipe_bin()).args(["logs", "nope"]).current_dir(r.dir.path()).output().unwrap();
        assert_eq!(bad.status.code(), Some(2));
    }
}

#[test]
fn branch_filters_and_job_selection() {
    let yaml = r#"
on:
  push:
    branches: [main]
jobs:
  a: {runs-on: x, steps: [{run: echo a}]}
  b: {runs-on: x, needs: a, steps: [{run: echo b}]}
  c: {runs-on: x, steps: [{run: echo c}]}
"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yml"), yaml).unwrap();
    let out = Command::new(pipe_bin())
        .args(["run", "p.yml", "--executor", "host", "--ref", "refs/heads/dev", "--sha", SHA])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing to run"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path().join(".pipe/runs").exists(), "a run that is not triggered records nothing");

    let r = run_pipeline(Exec::Host, yaml, &["--job", "b"]);
    assert_eq!(r.code, 0);
    let mut jobs: Vec<&str> = r.of("job_finished").iter().map(|e| e["job"].as_str().unwrap()).collect();
    jobs.sort();
    assert_eq!(jobs, ["a", "b"]);
}

#[test]
fn ctrl_c_stops_steps_and_leaves_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("pipe-sleep-marker-{}", std::process::id());
    std::fs::write(
        dir.path().join("p.yml"),
        format!("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: |\n          sleep 300 &\n          exec -a {marker} sleep 300\n"),
    )
    .unwrap();
    let child = pipe_command(dir.path())
        .args(host_json_run("p.yml", &[]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run_dir = dir.path().join(".pipe/runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    // Wait until the step is running.
    while Instant::now() < deadline && !ps_contains(&marker) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(ps_contains(&marker), "the step never started");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!ps_contains(&marker), "a step process survived Ctrl-C");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().any(|l| l.contains("\"run_finished\"") && l.contains("\"cancelled\"")),
        "{stdout}"
    );
    assert!(run_dir.exists());
}

fn ps_contains(needle: &str) -> bool {
    let out = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().any(|l| l.contains(needle) && !l.contains("ps -eo"))
}

fn only_run_dir(root: &Path) -> std::path::PathBuf {
    let runs: Vec<_> =
        std::fs::read_dir(root.join(".pipe/runs")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(runs.len(), 1);
    runs[0].clone()
}

/// Every file under `root`, concatenated (for leak checks).
pub fn read_tree(root: &Path) -> String {
    let mut out = String::new();
    if let Ok(rd) = std::fs::read_dir(root) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.push_str(&read_tree(&p));
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    out
}
