//! `pipe prune` from another folder keeps what a live run owns (its pipe process still runs) and
//! says so; the run goes on and cleans up after itself.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::run_host::{Exec, TEST_IMAGE};
use crate::test::{pipe_bin, pipe_in};

fn containers_of(run_id: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("label=dev.pipe.run-id={run_id}")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn prune_keeps_the_containers_of_a_live_run() {
    if Exec::docker().is_none() {
        return;
    }
    let run_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        run_dir.path().join("p.yml"),
        "on: push\njobs:\n  slow:\n    runs-on: x\n    steps: [{run: sleep 60}]\n",
    )
    .unwrap();
    let mut child = Command::new(pipe_bin())
        .args(["run", "p.yml", "--executor", "docker", "-P", &format!("x={TEST_IMAGE}"), "--output", "json"])
        .args(["--ref", "refs/heads/main", "--sha", "0123456789abcdef0123456789abcdef01234567"])
        .current_dir(run_dir.path())
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut run_id = String::new();
    // The step runs once its `step_started` event is out.
    for line in lines.by_ref() {
        let event: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        run_id = event["run_id"].as_str().unwrap_or_default().to_string();
        if event["event"] == "step_started" {
            break;
        }
    }
    let before = containers_of(&run_id);
    let elsewhere = tempfile::tempdir().unwrap();
    let pruned = pipe_in(elsewhere.path(), &["prune"]);
    let after = containers_of(&run_id);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT)
        .unwrap();
    let status = child.wait().unwrap();
    let said = String::from_utf8_lossy(&pruned.stdout).to_string();
    assert_eq!(pruned.status.code(), Some(0), "{said}");
    assert!(!before.is_empty(), "the run had no container");
    assert_eq!(after, before, "prune removed a live run's container: {said}");
    assert!(said.contains("kept ") && !said.contains("kept 0 "), "{said}");
    assert_eq!(status.code(), Some(130), "the run was not interrupted cleanly");
    assert!(containers_of(&run_id).is_empty(), "the run left its container");
}
