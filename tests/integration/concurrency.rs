//! `concurrency:` groups across pipe processes: a second run queues behind the first, or with
//! `cancel-in-progress: true` stops it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::spawn::{SHA, host_json_run, pipe_command, stdout_events as events};
use crate::test::pipe_bin;

fn start(dir: &Path, file: &str) -> Child {
    pipe_command(dir)
        .args(host_json_run(file, &[]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait until some run in `dir` has a step running.
fn wait_for_step(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let runs = std::fs::read_dir(dir.join(".pipe/runs"))
            .map(|rd| rd.flatten().collect::<Vec<_>>())
            .unwrap_or_default();
        if runs.iter().any(|r| {
            std::fs::read_to_string(r.path().join("events.jsonl"))
                .unwrap_or_default()
                .contains("step_started")
        }) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the first run never started a step");
}

#[test]
fn a_second_run_waits_for_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "on: push\nconcurrency: deploy-${{ github.ref }}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: sleep 1.5\n";
    std::fs::write(dir.path().join("p.yml"), yaml).unwrap();
    let first = start(dir.path(), "p.yml");
    wait_for_step(dir.path());
    let second = start(dir.path(), "p.yml");
    let (first, second) = (first.wait_with_output().unwrap(), second.wait_with_output().unwrap());
    assert_eq!((first.status.code(), second.status.code()), (Some(0), Some(0)));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("is busy"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let first_end = events(&first).last().unwrap()["ts"].as_str().unwrap().to_string();
    let second_start = events(&second)[0]["ts"].as_str().unwrap().to_string();
    assert!(
        second_start > first_end,
        "the second run started ({second_start}) before the first ended ({first_end})"
    );
}

#[test]
fn cancel_in_progress_stops_the_older_run() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "on: push\nconcurrency:\n  group: deploy\n  cancel-in-progress: true\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: sleep 30\n";
    std::fs::write(dir.path().join("p.yml"), yaml).unwrap();
    std::fs::write(dir.path().join("q.yml"), yaml.replace("sleep 30", "echo newer")).unwrap();
    let started = Instant::now();
    let first = start(dir.path(), "p.yml");
    wait_for_step(dir.path());
    let second = start(dir.path(), "q.yml");
    let (first, second) = (first.wait_with_output().unwrap(), second.wait_with_output().unwrap());
    assert_eq!(first.status.code(), Some(130), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(second.status.code(), Some(0), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(events(&second).iter().any(|e| e["line"] == "newer"));
}

#[test]
fn job_level_groups_queue_legs() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "on: push\njobs:\n  t:\n    runs-on: x\n    concurrency: one-at-a-time\n    strategy:\n      matrix:\n        n: [1, 2]\n    steps:\n      - run: |\n          if [ -e busy ]; then echo overlap; exit 1; fi\n          touch busy; sleep 0.5; rm busy\n";
    std::fs::write(dir.path().join("p.yml"), yaml).unwrap();
    let out = Command::new(pipe_bin())
        .args([
            "run",
            "p.yml",
            "--executor",
            "host",
            "--bind",
            "--parallel",
            "2",
            "--ref",
            "refs/heads/main",
            "--sha",
            SHA,
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}
