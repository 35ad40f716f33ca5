//! Approval gates end to end: pause without a terminal (exit 3), approve/reject from another
//! command, resume without re-running finished jobs, deployment mode, branch rules, reviewers,
//! environment-scoped secrets, kill -9 then resume, concurrent answers, the prompt on a terminal.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::support::spawn::{SHA, host_json_run};
use crate::test::{all_output as text, pipe_bin, pipe_in as pipe};

const DEPLOY: &str = r#"
on: push
jobs:
  build:
    runs-on: x
    outputs:
      image: ${{ steps.b.outputs.image }}
    steps:
      - id: b
        run: echo "image=app:${GITHUB_SHA}" >> "$GITHUB_OUTPUT"
  test:
    runs-on: x
    steps: [{run: echo testing}]
  staging:
    needs: [build, test]
    runs-on: x
    environment: staging
    steps:
      - run: echo "staging gets ${{ needs.build.outputs.image }} secret=[$PROD_KEY]"
        env:
          PROD_KEY: ${{ secrets.PROD_KEY }}
  production:
    needs: [build, staging]
    runs-on: x
    environment:
      name: production
      url: https://prod.example
    steps:
      - run: echo "production gets ${{ needs.build.outputs.image }} key=$PROD_KEY"
        env:
          PROD_KEY: ${{ secrets.PROD_KEY }}
  announce:
    needs: production
    runs-on: x
    steps: [{run: echo released}]
"#;

fn setup(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yml"), DEPLOY).unwrap();
    std::fs::write(dir.path().join("prod.env"), "PROD_KEY=prod-Secret-93\n").unwrap();
    std::fs::write(dir.path().join("pipe.toml"), toml).unwrap();
    dir
}

const TOML: &str = r#"
[environments.staging]
approval = false
[environments.production]
reviewers = ["alice", "bob"]
requires = ["test"]
branches = ["main"]
secrets_file = "prod.env"
"#;

fn events(dir: &Path) -> Vec<Json> {
    let runs = dir.join(".pipe/runs");
    let run = std::fs::read_dir(&runs).unwrap().flatten().next().unwrap().path();
    crate::test::stored_events(&run)
}

fn count(events: &[Json], kind: &str, job: &str) -> usize {
    events.iter().filter(|e| e["event"] == kind && e["job"] == job).count()
}

#[test]
fn pause_approve_resume_runs_each_job_once() {
    let dir = setup(TOML);
    let first = pipe(dir.path(), &host_json_run("p.yml", &[]));
    assert_eq!(first.status.code(), Some(3), "{}", text(&first));
    assert!(String::from_utf8_lossy(&first.stderr).contains("pipe approve"), "{}", text(&first));
    let ev = events(dir.path());
    assert_eq!(count(&ev, "gate_waiting", "production"), 1);
    assert_eq!(count(&ev, "job_started", "production"), 0);
    assert_eq!(count(&ev, "job_finished", "staging"), 1, "staging has approval = false");

    let denied = pipe(dir.path(), &["approve", "last", "--as", "mallory"]);
    assert_eq!(denied.status.code(), Some(2));
    assert!(
        text(&denied).contains("`mallory` may not decide this gate (reviewers: alice, bob)"),
        "{}",
        text(&denied)
    );

    let ok = pipe(
        dir.path(),
        &["approve", "last", "--env", "production", "--as", "alice", "--comment", "ship it"],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("approved the deployment"));

    let resumed = pipe(dir.path(), &["resume", "last", "--output", "json"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    let ev = events(dir.path());
    for job in ["build", "test", "staging", "production", "announce"] {
        assert_eq!(count(&ev, "job_finished", job), 1, "{job} finished once");
    }
    for job in ["build", "test"] {
        assert_eq!(count(&ev, "job_started", job), 1, "{job} was not re-run");
    }
    let decided: Vec<&Json> =
        ev.iter().filter(|e| e["event"] == "gate_decided" && e["environment"] == "production").collect();
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0]["decision"], "approved");
    assert_eq!(decided[0]["by"], "alice");
    assert_eq!(decided[0]["comment"], "ship it");
    let prod_lines: Vec<&str> = ev
        .iter()
        .filter(|e| e["event"] == "step_output" && e["job"] == "production")
        .filter_map(|e| e["line"].as_str())
        .collect();
    assert!(prod_lines.contains(&format!("production gets app:{SHA} key=***").as_str()), "{prod_lines:?}");
    let staging_lines: Vec<&str> = ev
        .iter()
        .filter(|e| e["event"] == "step_output" && e["job"] == "staging")
        .filter_map(|e| e["line"].as_str())
        .collect();
    assert!(
        staging_lines.contains(&format!("staging gets app:{SHA} secret=[]").as_str()),
        "env secrets are for production only: {staging_lines:?}"
    );

    let audit = std::fs::read_to_string(dir.path().join(".pipe/audit.jsonl")).unwrap();
    let audit: Vec<Json> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        (audit[0]["decision"].as_str(), audit[0]["by"].as_str(), audit[0]["sha"].as_str()),
        (Some("approved"), Some("alice"), Some(SHA))
    );

    let ledger = std::fs::read_to_string(dir.path().join(".pipe/deployments.jsonl")).unwrap();
    let ledger: Vec<Json> = ledger.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let prod =
        ledger.iter().find(|r| r["environment"] == "production").expect("production deployment recorded");
    assert_eq!(prod["approved_by"], "alice");
    assert_eq!(prod["url"], "https://prod.example");
    assert_eq!(prod["result"], "success");

    let history = pipe(dir.path(), &["history", "production"]);
    let h = String::from_utf8_lossy(&history.stdout);
    assert!(h.contains("production") && h.contains("alice") && h.contains("current"), "{h}");
    assert!(
        !read_all(&dir.path().join(".pipe")).contains("prod-Secret-93"),
        "an environment secret leaked into the state dir"
    );
}

#[test]
fn rejection_fails_the_job_and_skips_dependents() {
    let dir = setup(TOML);
    assert_eq!(pipe(dir.path(), &host_json_run("p.yml", &[])).status.code(), Some(3));
    let rejected = pipe(dir.path(), &["reject", "last", "--as", "bob", "--comment", "not today"]);
    assert_eq!(rejected.status.code(), Some(0), "{}", text(&rejected));
    let again = pipe(dir.path(), &["approve", "last", "--as", "alice"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again).contains("already rejected by bob"), "{}", text(&again));
    let resumed = pipe(dir.path(), &["resume", "last"]);
    assert_eq!(resumed.status.code(), Some(1), "{}", text(&resumed));
    let ev = events(dir.path());
    let prod = ev.iter().find(|e| e["event"] == "job_finished" && e["job"] == "production").unwrap();
    assert_eq!(prod["result"], "failure");
    let announce = ev.iter().find(|e| e["event"] == "job_finished" && e["job"] == "announce").unwrap();
    assert_eq!(announce["result"], "skipped");
}

#[test]
fn deployment_mode_passes_gates_automatically() {
    let dir = setup(TOML);
    let out = pipe(dir.path(), &host_json_run("p.yml", &["--mode", "deployment"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ev = events(dir.path());
    let decided: Vec<&Json> = ev.iter().filter(|e| e["event"] == "gate_decided").collect();
    assert_eq!(decided.len(), 1, "only production has a gate");
    assert_eq!(decided[0]["decision"], "auto");
    let audit = std::fs::read_to_string(dir.path().join(".pipe/audit.jsonl")).unwrap();
    assert!(audit.contains("\"decision\":\"auto\""), "{audit}");
}

#[test]
fn a_ledger_that_cannot_be_written_is_a_notice_event_not_a_print() {
    let dir = setup(TOML);
    // A folder where the ledger file should be: every append to it fails.
    std::fs::create_dir_all(dir.path().join(".pipe/deployments.jsonl")).unwrap();
    let out =
        pipe(dir.path(), &host_json_run("p.yml", &["--mode", "deployment", "--secret-file", "prod.env"]));
    assert_eq!(out.status.code(), Some(0), "the deploys themselves succeed: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let notices: Vec<Json> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|e| e["event"] == "notice")
        .collect();
    assert_eq!(notices.len(), 2, "one per deployment job (staging, production): {stdout}");
    for n in &notices {
        assert_eq!(n["level"], "warning");
        assert!(
            n["message"].as_str().unwrap().starts_with("the deployment ledger could not be written"),
            "{n}"
        );
    }
    assert_eq!(
        events(dir.path()).iter().filter(|e| e["event"] == "notice").count(),
        2,
        "kept in events.jsonl"
    );
    assert!(!text(&out).contains("prod-Secret-93"), "{}", text(&out));
}

#[test]
fn branch_rules_refuse_in_both_modes() {
    for mode in ["delivery", "deployment"] {
        let dir = setup(TOML);
        let out = pipe(
            dir.path(),
            &[
                "run",
                "p.yml",
                "--executor",
                "host",
                "--output",
                "json",
                "--ref",
                "refs/heads/dev",
                "--sha",
                SHA,
                "--mode",
                mode,
                "--approve",
                "production",
                "--as",
                "alice",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{mode}: {}", text(&out));
        let ev = events(dir.path());
        let prod = ev.iter().find(|e| e["event"] == "job_finished" && e["job"] == "production").unwrap();
        assert_eq!(prod["result"], "failure");
        assert!(
            text(&out).contains("branch refs/heads/dev is not allowed (branches: main)"),
            "{}",
            text(&out)
        );
        assert_eq!(count(&ev, "job_started", "production"), 0);
    }
}

#[test]
fn pre_approval_respects_reviewers() {
    let dir = setup(TOML);
    let out = pipe(dir.path(), &host_json_run("p.yml", &["--approve", "production", "--as", "mallory"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("may not decide this gate"), "{}", text(&out));
    let dir = setup(TOML);
    let out = pipe(dir.path(), &host_json_run("p.yml", &["--approve", "production", "--as", "bob"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn two_concurrent_approvals_exactly_one_wins() {
    let dir = setup(TOML);
    assert_eq!(pipe(dir.path(), &host_json_run("p.yml", &[])).status.code(), Some(3));
    let spawn = |who: &str| {
        Command::new(pipe_bin())
            .args(["approve", "last", "--as", who])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("alice"), spawn("bob"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    assert!(codes.contains(&Some(0)) && codes.contains(&Some(2)), "{codes:?} {} {}", text(&a), text(&b));
    let loser = if a.status.code() == Some(2) { &a } else { &b };
    assert!(text(loser).contains("already approved by"), "{}", text(loser));
    let audit = std::fs::read_to_string(dir.path().join(".pipe/audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 1);
}

#[test]
fn kill_9_then_resume_keeps_finished_jobs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yml"),
        "on: push\njobs:\n  first:\n    runs-on: x\n    outputs:\n      v: ${{ steps.s.outputs.v }}\n    steps:\n      - id: s\n        run: echo v=42 >> \"$GITHUB_OUTPUT\"\n  second:\n    needs: first\n    runs-on: x\n    steps:\n      - run: |\n          if [ ! -e marker ]; then echo $$ > step.pid; touch marker; sleep 313; fi\n          echo \"got ${{ needs.first.outputs.v }}\"\n",
    )
    .unwrap();
    let child = Command::new(pipe_bin())
        .args(["run", "p.yml", "--executor", "host", "--bind", "--ref", "refs/heads/main", "--sha", SHA])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.path().join("marker").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(dir.path().join("marker").exists());
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    let _ = child.wait_with_output();
    // The orphaned step is still sleeping; stop it so it does not outlive the test: the step's
    // shell leads its own process group (the host backend starts every step in one).
    let step_pid: i32 = std::fs::read_to_string(dir.path().join("step.pid")).unwrap().trim().parse().unwrap();
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(step_pid), nix::sys::signal::Signal::SIGKILL);
    let runs = pipe(dir.path(), &["runs"]);
    assert!(String::from_utf8_lossy(&runs.stdout).contains("interrupted"), "{}", text(&runs));
    let resumed = pipe(dir.path(), &["resume", "last", "--output", "json"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    let ev = events(dir.path());
    assert_eq!(count(&ev, "job_started", "first"), 1, "first was not run again");
    assert_eq!(count(&ev, "job_started", "second"), 2, "second ran again");
    assert!(ev.iter().any(|e| e["event"] == "step_output" && e["line"] == "got 42"));
}

#[test]
fn the_prompt_on_a_terminal() {
    let dir = setup(TOML);
    let cmd = format!(
        "{} run p.yml --executor host --ref refs/heads/main --sha {SHA} --as alice",
        pipe_bin().display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        stdin.write_all(b"y\nlooks good\n").unwrap();
        std::thread::sleep(Duration::from_secs(1));
    }
    let out = child.wait_with_output().unwrap();
    let all = text(&out);
    assert!(all.contains("Deploy to `production`?"), "{all}");
    assert!(all.contains(&format!("artifact:  build.image = app:{SHA}")), "{all}");
    assert!(all.contains("url:       https://prod.example"), "{all}");
    assert!(all.contains("reviewers: alice, bob"), "{all}");
    assert_eq!(out.status.code(), Some(0), "{all}");
    let audit = std::fs::read_to_string(dir.path().join(".pipe/audit.jsonl")).unwrap();
    assert!(audit.contains("\"by\":\"alice\"") && audit.contains("looks good"), "{audit}");
}

/// The live view (colours on, a job running beside the gate) steps aside while the question is
/// on the screen: no spinner is drawn between the question and the answer, and a line the other
/// job printed meanwhile is shown after the answer, not through the question.
#[test]
fn the_live_view_steps_aside_for_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = "on: push\njobs:\n  slow:\n    runs-on: x\n    steps:\n      - name: Count\n        run: |\n          sleep 1\n          echo said-during-the-prompt\n          sleep 3\n  production:\n    runs-on: x\n    environment: production\n    steps: [{run: echo deployed}]\n";
    std::fs::write(dir.path().join("p.yml"), pipeline).unwrap();
    std::fs::write(dir.path().join("pipe.toml"), "[environments.production]\nreviewers = [\"alice\"]\n")
        .unwrap();
    let cmd = format!(
        "{} run p.yml --executor host --ref refs/heads/main --sha {SHA} --as alice",
        pipe_bin().display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .env_remove("CI")
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        stdin.write_all(b"y\n\n").unwrap();
        std::thread::sleep(Duration::from_secs(1));
    }
    let out = child.wait_with_output().unwrap();
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    let screen = console::strip_ansi_codes(&raw).replace('\r', "");
    assert_eq!(out.status.code(), Some(0), "{screen}");
    assert!(raw.contains('\u{1b}'), "the live view was not drawn:\n{screen}");
    let asked = screen.find("Deploy to `production`?").expect("the question");
    let answered = screen.find("Comment (optional): ").expect("the comment prompt");
    let during = &screen[asked..answered];
    assert!(
        !during.chars().any(|c| "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏".contains(c)),
        "a spinner was drawn through the question:\n{during}"
    );
    assert!(!during.contains("said-during-the-prompt"), "output went through the question:\n{during}");
    let held = regex::Regex::new(r"slow +\| said-during-the-prompt").unwrap();
    let line = held.find(&screen).unwrap_or_else(|| panic!("the held line is not shown:\n{screen}"));
    assert!(line.start() > answered, "{screen}");
    assert!(screen[answered..].contains("production  success"), "{screen}");
}

fn read_all(root: &Path) -> String {
    crate::run_host::read_tree(root)
}
