//! Docker job containers made ahead (created while the jobs they need run) and removed in the
//! background: a dependent job starts the container made for it; one whose job ends up skipped
//! is removed; a retry gets a container of its own; Ctrl-C and `kill -9` + `pipe resume` leave
//! no container behind. Checked through the Docker CLI while and after the runs.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run_host::{Exec, TEST_IMAGE, labelled_containers, run_pipeline};
use crate::test::{all_output, pipe_bin, pipe_in};

const REF: [&str; 4] = ["--ref", "refs/heads/main", "--sha", "0123456789abcdef0123456789abcdef01234567"];

/// `pipe run p.yml --output json` on Docker in `dir`, in the background.
fn spawn(dir: &Path, yaml: &str) -> Child {
    std::fs::write(dir.join("p.yml"), yaml).unwrap();
    Command::new(pipe_bin())
        .args(["run", "p.yml", "--output", "json"])
        .args(REF)
        .args(Exec::Docker.args())
        .current_dir(dir)
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The id of the run started in `dir`, once it has one.
fn run_id(dir: &Path) -> String {
    let runs = dir.join(".pipe/runs");
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(run) = std::fs::read_dir(&runs).ok().and_then(|mut rd| rd.next()).and_then(Result::ok) {
            return run.file_name().to_string_lossy().into_owned();
        }
        assert!(Instant::now() < until, "the run never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `ID STATE` of the containers of one job of a run.
fn containers_of_job(run_id: &str, job: &str) -> Vec<(String, String)> {
    let out = Command::new("docker")
        .args(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"])
        .args(["--filter", &format!("label=dev.pipe.run-id={run_id}")])
        .args(["--filter", &format!("label=dev.pipe.job={job}")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(id, state)| (id.to_string(), state.to_string())))
        .collect()
}

/// Wait until `job` has a container that was created and not started: made ahead.
fn made_ahead(run_id: &str, job: &str) -> String {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((id, _)) =
            containers_of_job(run_id, job).into_iter().find(|(_, state)| state == "created")
        {
            return id;
        }
        assert!(Instant::now() < until, "no container was made ahead for `{job}`");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn events(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

#[test]
fn a_dependent_job_starts_the_container_made_for_it_while_its_need_ran() {
    if Exec::docker().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let child = spawn(
        dir.path(),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: sleep 2}]\n  b:\n    needs: a\n    runs-on: x\n    steps:\n      - run: echo \"container=${{ job.container.id }}\"\n",
    );
    let run = run_id(dir.path());
    let made = made_ahead(&run, "b");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let events = events(&out.stdout);
    let said: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "step_output" && e["job"] == "b")
        .filter_map(|e| e["line"].as_str())
        .collect();
    assert!(said.contains(&format!("container={made}").as_str()), "b ran in another container: {said:?}");
    assert!(labelled_containers(&run).is_empty(), "containers left after the run");
}

#[test]
fn a_container_made_ahead_for_a_job_that_ends_up_skipped_is_removed() {
    if Exec::docker().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let child = spawn(
        dir.path(),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: sleep 2; exit 1}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: echo never}]\n",
    );
    let run = run_id(dir.path());
    made_ahead(&run, "b");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let events = events(&out.stdout);
    let b = events.iter().find(|e| e["event"] == "job_finished" && e["job"] == "b").expect("b finished");
    assert_eq!(b["result"], "skipped");
    assert!(!events.iter().any(|e| e["event"] == "job_started" && e["job"] == "b"), "b started");
    assert!(labelled_containers(&run).is_empty(), "the container made for the skipped job was left");
}

#[test]
fn a_retried_docker_job_gets_a_container_of_its_own_and_leaves_none() {
    let Some(exec) = Exec::docker() else { return };
    // Attempts counted in the bound workspace: the first one fails, the second succeeds.
    let r = run_pipeline(
        exec,
        "flaky:\n  retry: 2\n  script:\n    - echo x >> attempts\n    - test \"$(wc -l < attempts)\" -ge 2\n",
        &["--syntax", "gitlab", "-P", &format!("gitlab-default={TEST_IMAGE}"), "--bind"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.of("job_started").len(), 2, "{}", r.stdout);
    assert_eq!(std::fs::read_to_string(r.dir.path().join("attempts")).unwrap().lines().count(), 2);
    let run = r.events[0]["run_id"].as_str().unwrap();
    assert!(labelled_containers(run).is_empty(), "containers left after the run");
}

#[test]
fn ctrl_c_removes_a_container_made_ahead() {
    if Exec::docker().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let child = spawn(
        dir.path(),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: sleep 300}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: echo never}]\n",
    );
    let run = run_id(dir.path());
    made_ahead(&run, "b");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let finished = events(&out.stdout).into_iter().last().unwrap_or_default();
    assert_eq!(finished["event"], "run_finished", "the run did not end with run_finished");
    assert!(labelled_containers(&run).is_empty(), "a container survived Ctrl-C");
}

#[test]
fn resume_after_kill_9_removes_a_container_made_ahead_and_runs_the_jobs() {
    if Exec::docker().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let slow = "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: sleep 60}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: echo b ran}]\n";
    let mut child = spawn(dir.path(), slow);
    let run = run_id(dir.path());
    let made = made_ahead(&run, "b");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    child.wait().unwrap();
    assert!(
        containers_of_job(&run, "b").iter().any(|(id, _)| *id == made),
        "the killed run left no container made ahead: nothing to show"
    );

    std::fs::write(dir.path().join("p.yml"), slow.replace("sleep 60", "echo a ran")).unwrap();
    let resumed = pipe_in(dir.path(), &["resume", "last"]);
    let said = all_output(&resumed);
    let left = labelled_containers(&run);
    if !left.is_empty() {
        let _ = Command::new("docker").args(["rm", "-f"]).args(&left).output();
    }
    assert_eq!(resumed.status.code(), Some(0), "{said}");
    assert!(!said.contains("409"), "{said}");
    assert!(said.contains("b ran"), "{said}");
    assert!(left.is_empty(), "containers left after resume: {left:?}");
}
