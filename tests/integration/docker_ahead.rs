//! Docker job containers made ahead (created while the jobs they need run) and removed in the
//! background: a dependent job starts the container made for it; one whose job ends up skipped
//! is removed; a retry gets a container of its own; Ctrl-C and `kill -9` + `pipe resume` leave
//! no container behind. Checked through the Docker CLI while and after the runs.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::run_host::{Exec, TEST_IMAGE, labelled_containers, run_pipeline};
use crate::support::containers::{containers_of_job, made_ahead, remove_containers};
use crate::support::spawn::{spawn_json_run, stdout_events as events, wait_for_run_id};
use crate::test::{all_output, pipe_in, stored_events};

/// A run on Docker caught while job `b`'s container, made ahead, waits for `b` to start.
struct Ahead {
    dir: TempDir,
    child: Child,
    run: String,
    /// The id of the container made ahead for `b`.
    made: String,
}

/// `pipe run --output json` of `yaml` on Docker in a new folder, once its job `b` has a
/// container made ahead while the job it needs, `a`, has not finished (a container merely
/// created on the way to starting `b` after `a` is no container made ahead); `None` (the test
/// skipped) without Docker.
fn run_until_b_is_made_ahead(yaml: &str) -> Option<Ahead> {
    let exec = Exec::docker()?;
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_json_run(dir.path(), yaml, &exec.args());
    let run = wait_for_run_id(dir.path());
    let Some(made) = made_ahead(&run, "b").filter(|_| !finished(dir.path(), &run, "a")) else {
        let _ = child.kill();
        let _ = child.wait();
        remove_containers(&labelled_containers(&run));
        panic!("no container was made ahead for `b` while `a` ran");
    };
    Some(Ahead { dir, child, run, made })
}

/// Whether the events run `run` in `dir` has stored so far say that `job` finished.
fn finished(dir: &Path, run: &str, job: &str) -> bool {
    stored_events(&dir.join(".pipe/runs").join(run))
        .iter()
        .any(|e| e["event"] == "job_finished" && e["job"] == job)
}

fn signal(child: &Child, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
}

/// `a` runs `seconds`, then `b` says the id of the container it runs in.
fn b_says_its_container(seconds: u32) -> String {
    format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{{run: sleep {seconds}}}]\n  b:\n    needs: a\n    runs-on: x\n    steps:\n      - run: echo \"container=${{{{ job.container.id }}}}\"\n"
    )
}

/// The container `b` of [`b_says_its_container`] said it ran in, once the run exited 0.
fn container_b_ran_in(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let said: Vec<String> = events(&out)
        .iter()
        .filter(|e| e["event"] == "step_output" && e["job"] == "b")
        .filter_map(|e| e["line"].as_str()?.strip_prefix("container=").map(str::to_string))
        .collect();
    assert_eq!(said.len(), 1, "b said: {said:?}");
    said[0].clone()
}

#[test]
fn a_dependent_job_starts_the_container_made_for_it_while_its_need_ran() {
    let Some(Ahead { dir: _dir, child, run, made }) = run_until_b_is_made_ahead(&b_says_its_container(3))
    else {
        return;
    };
    assert_eq!(container_b_ran_in(child), made, "b ran in another container");
    assert!(labelled_containers(&run).is_empty(), "containers left after the run");
}

#[test]
fn a_container_made_ahead_for_a_job_that_ends_up_skipped_is_removed() {
    // `c` keeps the run going after `a` failed and `b` was skipped.
    let Some(Ahead { dir, child, run, .. }) = run_until_b_is_made_ahead(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: sleep 3; exit 1}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: echo never}]\n  c:\n    runs-on: x\n    steps: [{run: sleep 10}]\n",
    ) else {
        return;
    };
    // Removed once `b` is skipped, not only when the run ends.
    let until = Instant::now() + Duration::from_secs(20);
    while !containers_of_job(&run, "b").is_empty() {
        assert!(Instant::now() < until, "the container made for `b` is still there");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !finished(dir.path(), &run, "c"),
        "the container made for `b` was only removed once `c` had finished"
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let events = events(&out);
    let b = events.iter().find(|e| e["event"] == "job_finished" && e["job"] == "b").expect("b finished");
    assert_eq!(b["result"], "skipped");
    assert!(!events.iter().any(|e| e["event"] == "job_started" && e["job"] == "b"), "b started");
    assert!(labelled_containers(&run).is_empty(), "the container made for the skipped job was left");
}

#[test]
fn a_retried_docker_job_gets_a_container_of_its_own_and_leaves_none() {
    let Some(exec) = Exec::docker() else { return };
    // Attempts counted in the bound workspace, each by the host name of its container (the engine
    // names a container's host by its id; Podman's /etc/hostname has no final newline, hence the
    // echo): the first one fails, the second succeeds.
    let r = run_pipeline(
        exec,
        "flaky:\n  retry: 2\n  script:\n    - echo \"$(cat /etc/hostname)\" >> attempts\n    - test \"$(wc -l < attempts)\" -ge 2\n",
        &["--syntax", "gitlab", "-P", &format!("gitlab-default={TEST_IMAGE}"), "--bind"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.of("job_started").len(), 2, "{}", r.stdout);
    let attempts = std::fs::read_to_string(r.dir.path().join("attempts")).unwrap();
    let hosts: Vec<&str> = attempts.lines().collect();
    assert_eq!(hosts.len(), 2, "{attempts}");
    assert_ne!(hosts[0], hosts[1], "both attempts ran in the same container");
    let run = r.events[0]["run_id"].as_str().unwrap();
    assert!(labelled_containers(run).is_empty(), "containers left after the run");
}

#[test]
fn ctrl_c_removes_a_container_made_ahead() {
    let Some(Ahead { dir: _dir, child, run, .. }) = run_until_b_is_made_ahead(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: sleep 300}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: echo never}]\n",
    ) else {
        return;
    };
    signal(&child, nix::sys::signal::Signal::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let finished = events(&out).into_iter().last().unwrap_or_default();
    assert_eq!(finished["event"], "run_finished", "the run did not end with run_finished");
    assert!(labelled_containers(&run).is_empty(), "a container survived Ctrl-C");
}

#[test]
fn resume_after_kill_9_removes_a_container_made_ahead_and_runs_the_jobs() {
    let slow = "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: sleep 60}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: echo b ran}]\n";
    let Some(Ahead { dir, mut child, run, made }) = run_until_b_is_made_ahead(slow) else { return };
    signal(&child, nix::sys::signal::Signal::SIGKILL);
    child.wait().unwrap();
    assert!(
        containers_of_job(&run, "b").iter().any(|(id, _)| *id == made),
        "the killed run left no container made ahead: nothing to show"
    );

    std::fs::write(dir.path().join("p.yml"), slow.replace("sleep 60", "echo a ran")).unwrap();
    let resumed = pipe_in(dir.path(), &["resume", "last"]);
    let said = all_output(&resumed);
    let left = labelled_containers(&run);
    remove_containers(&left);
    assert_eq!(resumed.status.code(), Some(0), "{said}");
    assert!(!said.contains("409"), "{said}");
    assert!(said.contains("b ran"), "{said}");
    assert!(left.is_empty(), "containers left after resume: {left:?}");
}

/// The engine's container events of run `run` since `since` (seconds): (time, action, job).
fn container_events(run: &str, since: i64) -> Vec<(i64, String, String)> {
    use futures_util::StreamExt;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let docker = pipe::backend::docker::connect().await.unwrap();
        let until = time::OffsetDateTime::now_utc().unix_timestamp() + 1;
        let filters = std::collections::HashMap::from([
            ("type".to_string(), vec!["container".to_string()]),
            ("label".to_string(), vec![format!("dev.pipe.run-id={run}")]),
        ]);
        let options = bollard::query_parameters::EventsOptions {
            since: Some(since.to_string()),
            until: Some(until.to_string()),
            filters: Some(filters),
        };
        let mut out = Vec::new();
        let mut stream = docker.events(Some(options));
        while let Some(Ok(e)) = stream.next().await {
            let actor = e.actor.unwrap_or_default().attributes.unwrap_or_default();
            let job = actor.get(pipe::backend::docker::LABEL_JOB).cloned().unwrap_or_default();
            out.push((e.time_nano.unwrap_or_default(), e.action.unwrap_or_default(), job));
        }
        out
    })
}

#[test]
fn a_need_s_container_is_removed_only_once_its_dependent_has_started() {
    let Some(exec) = Exec::docker() else { return };
    let podman =
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
            pipe::backend::engine::is_podman(&pipe::backend::docker::connect().await.unwrap()).await
        });
    if podman {
        eprintln!("skipped under Podman: its event stream is checked by Docker's only");
        return;
    }
    let since = time::OffsetDateTime::now_utc().unix_timestamp() - 1;
    // `b`'s image is `a`'s output: what is made ahead for it (with the default image) does not
    // fit, so `b` makes and starts its own after `a`.
    let yaml = format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    outputs:\n      image: ${{{{ steps.s.outputs.image }}}}\n    steps:\n      - id: s\n        run: echo image={TEST_IMAGE} >> \"$GITHUB_OUTPUT\"\n  b:\n    needs: a\n    runs-on: x\n    container: ${{{{ needs.a.outputs.image }}}}\n    steps: [{{run: 'sleep 1'}}]\n"
    );
    let r = run_pipeline(exec, &yaml, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let run = r.events[0]["run_id"].as_str().unwrap();
    let events = container_events(run, since);
    // The last of each (the container made ahead for `b` came and went before).
    let at = |action: &str, job: &str| {
        events.iter().rev().find(|(_, a, j)| a == action && j == job).map(|(t, _, _)| *t)
    };
    let (b_created, b_started, a_destroyed) = (at("create", "b"), at("start", "b"), at("destroy", "a"));
    assert!(b_created.is_some() && b_started.is_some() && a_destroyed.is_some(), "{events:?}");
    let a_steps_over =
        events.iter().filter(|(_, act, j)| act.starts_with("exec_die") && j == "a").map(|(t, _, _)| *t).max();
    assert!(a_steps_over.is_some() && b_created > a_steps_over, "b used what was made ahead: {events:?}");
    assert!(a_destroyed > b_started, "a was removed while b started: {events:?}");
    assert!(labelled_containers(run).is_empty(), "containers left after the run");
}

#[test]
fn a_container_made_ahead_that_stopped_is_replaced() {
    let Some(Ahead { dir: _dir, child, run, made }) = run_until_b_is_made_ahead(&b_says_its_container(4))
    else {
        return;
    };
    // Stopped under pipe once it runs (made ahead, it is started too).
    let until = Instant::now() + Duration::from_secs(20);
    let running = || {
        let out = std::process::Command::new("docker")
            .args(["inspect", "-f", "{{.State.Running}}", &made])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == "true"
    };
    while !running() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(running(), "the container made ahead for b never ran");
    let killed = std::process::Command::new("docker").args(["kill", &made]).output().unwrap();
    assert!(killed.status.success(), "{}", String::from_utf8_lossy(&killed.stderr));
    assert_ne!(container_b_ran_in(child), made, "b ran in the stopped container");
    assert!(labelled_containers(&run).is_empty(), "containers left after the run");
}
