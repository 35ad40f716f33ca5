//! `pipe prune` from another folder keeps what a live run owns (its pipe process still runs) and
//! says so; the run goes on and cleans up after itself.

use crate::run_host::{Exec, TEST_IMAGE, labelled_containers as containers_of};
use crate::support::spawn::{REF, pipe_command, spawn_events, until_event};
use crate::test::pipe_in;

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
    let (mut child, mut lines) = spawn_events(
        pipe_command(run_dir.path())
            .args([
                "run",
                "p.yml",
                "--executor",
                "docker",
                "-P",
                &format!("x={TEST_IMAGE}"),
                "--output",
                "json",
            ])
            .args(REF),
    );
    // The step runs once its `step_started` event is out.
    let run_id = until_event(&mut lines, "step_started")["run_id"].as_str().unwrap().to_string();
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
