//! A crash is no job failure: after `kill -9` of pipe, `pipe resume` removes what the dead process
//! left (host step process groups, their scripts, containers) and runs the unfinished jobs
//! again; a job whose container goes away under it is `interrupted`, and resume runs it again.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run_host::{Exec, TEST_IMAGE, labelled_containers as containers_of};
use crate::support::containers::{containers_of_job, remove_containers};
use crate::support::spawn::{EventLines, REF, pipe_command, spawn_events, until_event};
use crate::test::{all_output, pipe_in};

/// Start `pipe run p.yml ARGS --output json` in `dir`.
fn start(dir: &Path, args: &[&str]) -> (Child, EventLines) {
    spawn_events(pipe_command(dir).args(["run", "p.yml", "--output", "json"]).args(REF).args(args))
}

/// Read events until the first `step_started`; the run's id.
fn until_step_started(lines: &mut EventLines) -> String {
    until_event(lines, "step_started")["run_id"].as_str().unwrap().to_string()
}

fn run_json(dir: &Path, run_id: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(".pipe/runs").join(run_id).join("run.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn kill9(child: &mut Child) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    child.wait().unwrap();
}

fn group_alive(pgid: i32) -> bool {
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), None).is_ok()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn resume_after_kill_9_of_a_host_run_stops_the_orphaned_step_and_removes_its_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let pipeline = format!(
        "on: push\njobs:\n  slow:\n    runs-on: x\n    steps:\n      - run: |\n          echo start >> '{m}'\n          sleep 3\n          echo \"end $MY_SECRET\" >> '{m}'\n        env:\n          MY_SECRET: ${{{{ secrets.TOKEN }}}}\n",
        m = marker.display()
    );
    std::fs::write(dir.path().join("p.yml"), pipeline).unwrap();
    let (mut child, mut lines) =
        start(dir.path(), &["--executor", "host", "--secret", "TOKEN=hunter2-value"]);
    let run_id = until_step_started(&mut lines);
    wait_for("the step to start", Duration::from_secs(10), || marker.exists());
    // The run record names the step's process group while it runs (once it has run for a moment).
    let group = || run_json(dir.path(), &run_id)["processes"]["slow"].as_i64();
    wait_for("the run record to name the step's process group", Duration::from_secs(10), || {
        group().is_some()
    });
    let pgid = group().expect("no process group in run.json") as i32;
    kill9(&mut child);
    let scratch = std::env::temp_dir().join(format!("pipe-{run_id}"));
    assert!(group_alive(pgid), "the step died with pipe: nothing to show");
    assert!(scratch.exists(), "the dead run left no scratch dir: nothing to show");
    let runs = pipe_in(dir.path(), &["runs"]);
    assert!(String::from_utf8_lossy(&runs.stdout).contains("interrupted"), "{}", all_output(&runs));

    let resumed = pipe_in(dir.path(), &["resume", "last", "--secret", "TOKEN=hunter2-value"]);
    let said = all_output(&resumed);
    assert_eq!(resumed.status.code(), Some(0), "{said}");
    assert!(said.contains(&format!("process group {pgid}")), "{said}");
    assert!(!group_alive(pgid), "the orphaned step still runs after resume");
    assert!(!scratch.exists(), "the scripts of the dead run are still in {}", scratch.display());
    // Long enough for the orphan to have written its end line, had it lived on.
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        "start\nstart\nend ***\n".replace("***", "hunter2-value")
    );
    let record = run_json(dir.path(), &run_id);
    assert_eq!(record["status"], "success");
    assert!(record.get("processes").is_none(), "{record}");
}

#[test]
fn resume_after_kill_9_of_a_docker_run_removes_its_containers_and_runs_the_job_again() {
    if Exec::docker().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let platform = format!("x={TEST_IMAGE}");
    let slow = format!(
        "on: push\njobs:\n  build:\n    runs-on: x\n    steps: [{{run: echo built}}]\n  slow:\n    needs: build\n    runs-on: x\n    services:\n      web:\n        image: {}\n    steps: [{{run: sleep 60}}]\n",
        crate::run_docker::service_image()
    );
    std::fs::write(dir.path().join("p.yml"), &slow).unwrap();
    let (mut child, mut lines) = start(dir.path(), &["--executor", "docker", "-P", &platform]);
    // The second job's step (the first one's is `build`).
    let run_id = until_step_started(&mut lines);
    let _ = until_step_started(&mut lines);
    kill9(&mut child);
    let left = containers_of(&run_id);
    assert!(!left.is_empty(), "the killed run left no container: nothing to show");

    // The job is quick now: resume must run it again, not fail on the old container's name.
    std::fs::write(dir.path().join("p.yml"), slow.replace("sleep 60", "echo again")).unwrap();
    let resumed = pipe_in(dir.path(), &["resume", "last"]);
    let said = all_output(&resumed);
    let after = containers_of(&run_id);
    remove_containers(&after);
    assert_eq!(resumed.status.code(), Some(0), "{said}");
    assert!(!said.contains("409"), "{said}");
    assert!(said.contains("removed what the run's pipe process left"), "{said}");
    assert!(after.is_empty(), "containers left after resume: {after:?}");
    let networks = Command::new("docker")
        .args(["network", "ls", "-q", "--filter", &format!("label=dev.pipe.run-id={run_id}")])
        .output()
        .unwrap();
    assert!(networks.stdout.is_empty(), "networks left: {}", String::from_utf8_lossy(&networks.stdout));
    let record = run_json(dir.path(), &run_id);
    assert_eq!(record["status"], "success", "{record}");
    assert_eq!(record["jobs"]["slow"]["result"], "success", "{record}");
}

#[test]
fn a_job_whose_container_goes_away_is_interrupted_and_resume_runs_it_again() {
    if Exec::docker().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let platform = format!("x={TEST_IMAGE}");
    let slow = "on: push\njobs:\n  slow:\n    runs-on: x\n    steps: [{run: sleep 60}, {run: echo after}]\n  next:\n    needs: slow\n    runs-on: x\n    steps: [{run: echo next}]\n";
    std::fs::write(dir.path().join("p.yml"), slow).unwrap();
    let (mut child, mut lines) = start(dir.path(), &["--executor", "docker", "-P", &platform]);
    let run_id = until_step_started(&mut lines);
    let containers: Vec<String> = containers_of_job(&run_id, "slow").into_iter().map(|(id, _)| id).collect();
    assert_eq!(containers.len(), 1, "{containers:?}");
    // Someone removes the job's container under it (as a daemon restart or `docker rm -f` would).
    remove_containers(&containers);
    let events: Vec<serde_json::Value> = lines.map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    let status = child.wait().unwrap();
    let finished: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "job_finished").collect();
    assert_eq!(finished.len(), 1, "{finished:?}");
    assert_eq!(finished[0]["job"], "slow");
    assert_eq!(finished[0]["result"], "interrupted", "{finished:?}");
    // The step did not fail either: it was interrupted, and the next one did not run.
    let steps: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["event"] == "step_finished")
        .map(|e| (e["outcome"].as_str().unwrap(), e["conclusion"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [("interrupted", "interrupted"), ("skipped", "skipped")], "{events:?}");
    let last = events.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["result"], "interrupted", "{last}");
    assert_eq!(status.code(), Some(2));
    let record = run_json(dir.path(), &run_id);
    assert_eq!(record["status"], "interrupted", "{record}");
    assert_eq!(record["jobs"]["slow"]["result"], "interrupted", "{record}");
    assert!(record["jobs"].get("next").is_none(), "the dependent was recorded: {record}");
    let runs = pipe_in(dir.path(), &["runs"]);
    assert!(String::from_utf8_lossy(&runs.stdout).contains("interrupted"), "{}", all_output(&runs));

    std::fs::write(dir.path().join("p.yml"), slow.replace("sleep 60", "echo again")).unwrap();
    let resumed = pipe_in(dir.path(), &["resume", "last"]);
    let said = all_output(&resumed);
    let after = containers_of(&run_id);
    remove_containers(&after);
    assert_eq!(resumed.status.code(), Some(0), "{said}");
    assert!(after.is_empty(), "containers left after resume: {after:?}");
    let record = run_json(dir.path(), &run_id);
    assert_eq!(record["status"], "success", "{record}");
    assert_eq!(record["jobs"]["slow"]["result"], "success", "{record}");
    assert_eq!(record["jobs"]["next"]["result"], "success", "{record}");
}

/// A Docker daemon of the test's own (its own data root, exec root, socket and bridge), so that
/// it can be killed without touching the shared one. Stopped and removed on drop.
///
/// Its bridge is one of its own: a daemon started with `--bridge=none` deletes the interface
/// `docker0`, which the shared daemon's containers need.
struct OwnDaemon {
    root: tempfile::TempDir,
    child: Option<Child>,
    bridge: Option<String>,
}

/// The test's own bridge, on a documentation range (RFC 5737) no real network uses.
fn add_bridge() -> Result<String, String> {
    let name = format!("pcrash{}", std::process::id() % 100_000);
    let ip = |args: &[&str]| -> Result<(), String> {
        let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
        }
    };
    ip(&["link", "add", &name, "type", "bridge"])?;
    let up =
        ip(&["addr", "add", "192.0.2.1/24", "dev", &name]).and_then(|()| ip(&["link", "set", &name, "up"]));
    if let Err(e) = up {
        let _ = ip(&["link", "delete", &name]);
        return Err(e);
    }
    Ok(name)
}

impl OwnDaemon {
    /// Start one, or say why it cannot be (skipped locally, a failure under CI=true).
    fn start() -> Option<OwnDaemon> {
        let root = tempfile::Builder::new().prefix("pipe-dockerd-").tempdir().unwrap();
        let mut daemon = OwnDaemon { root, child: None, bridge: None };
        match add_bridge().and_then(|bridge| {
            daemon.bridge = Some(bridge);
            daemon.spawn()
        }) {
            Ok(()) => Some(daemon),
            Err(reason) => {
                let reason = format!("cannot start a Docker daemon of the test's own: {reason}");
                assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {reason}");
                eprintln!("skipping: {reason}");
                None
            }
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.root.path().join("docker.sock").display())
    }

    fn docker(&self) -> Command {
        let mut c = Command::new("docker");
        c.env("DOCKER_HOST", self.host());
        c
    }

    fn answers(&self) -> bool {
        self.docker()
            .arg("info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn spawn(&mut self) -> Result<(), String> {
        let r = self.root.path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(r.join("dockerd.log"))
            .map_err(|e| e.to_string())?;
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new("dockerd")
                .arg("--data-root")
                .arg(r.join("data"))
                .arg("--exec-root")
                .arg(r.join("exec"))
                .arg("--pidfile")
                .arg(r.join("docker.pid"))
                .args(["-H", &self.host(), "--iptables=false", "--ip6tables=false", "--ip-masq=false"])
                .arg(format!("--bridge={}", self.bridge.as_deref().unwrap_or_default()))
                .stdin(Stdio::null())
                .stdout(log.try_clone().map_err(|e| e.to_string())?)
                .stderr(log)
                .process_group(0)
                .spawn()
                .map_err(|e| format!("dockerd: {e}"))?
        };
        self.child = Some(child);
        let until = Instant::now() + Duration::from_secs(30);
        while !self.answers() {
            let exited = self.child.as_mut().unwrap().try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > until {
                let log = std::fs::read_to_string(r.join("dockerd.log")).unwrap_or_default();
                let tail: Vec<&str> =
                    log.lines().filter(|l| !l.contains("level=info") && !l.contains("level=debug")).collect();
                let tail = &tail[tail.len().saturating_sub(12)..];
                return Err(format!("dockerd did not answer ({exited:?}): {tail:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Start it again after it died. The containerd it starts may not come up while the shims
    /// of the dead one still run, and dockerd then gives up: it is asked again.
    fn restart(&mut self) {
        let mut why = String::new();
        for _ in 0..4 {
            match self.spawn() {
                Ok(()) => return,
                Err(e) => why = e,
            }
        }
        panic!("the test's Docker daemon did not start again: {why}");
    }

    /// SIGKILL, as a crash or the OOM killer would.
    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill9(&mut child);
        }
    }

    fn containers(&self, run_id: &str) -> Vec<String> {
        let out = self
            .docker()
            .args(["ps", "-aq", "--filter", &format!("label=dev.pipe.run-id={run_id}")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
    }
}

impl Drop for OwnDaemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let until = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // Container shims left by a daemon that was killed, and their containers' processes.
        let root = self.root.path().to_string_lossy().to_string();
        let mut shims = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&root) {
                shims.push(pid);
            }
        }
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().nth(1))
                .and_then(|p| p.parse().ok());
            if ppid.is_some_and(|p: i32| shims.contains(&p)) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        for pid in shims {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        // What the daemon left mounted under its roots (container layers, network namespaces).
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        let mut under: Vec<&str> =
            mounts.lines().filter_map(|l| l.split(' ').nth(1)).filter(|m| m.starts_with(&root)).collect();
        under.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in under {
            let _ = Command::new("umount").args(["-l", m]).output();
        }
        if let Some(bridge) = &self.bridge {
            let _ = Command::new("ip").args(["link", "delete", bridge]).output();
        }
    }
}

#[test]
fn after_the_docker_daemon_dies_mid_step_the_jobs_are_interrupted_and_resume_runs_them_again() {
    let busybox = "pipe-test/busybox";
    if Command::new("docker")
        .args(["image", "inspect", busybox])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        let reason = format!("no image {busybox} (run scripts/test-images.sh)");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {reason}");
        eprintln!("skipping: {reason}");
        return;
    }
    let Some(mut daemon) = OwnDaemon::start() else { return };
    let load = Command::new("sh")
        .arg("-c")
        .arg(format!("docker save {busybox} | DOCKER_HOST='{}' docker load", daemon.host()))
        .output()
        .unwrap();
    assert!(load.status.success(), "{}", all_output(&load));

    let dir = tempfile::tempdir().unwrap();
    // One job at a time: the first one's step is running when the daemon dies, the second one
    // starts after it died.
    let slow = "on: push\njobs:\n  one:\n    runs-on: x\n    steps: [{run: sleep 60}]\n  two:\n    runs-on: x\n    steps: [{run: sleep 60}]\n  after:\n    needs: [one, two]\n    runs-on: x\n    steps: [{run: echo after}]\n";
    std::fs::write(dir.path().join("p.yml"), slow).unwrap();
    let platform = format!("x={busybox}");
    let host = daemon.host();
    let run = |args: &[&str]| {
        let mut c = pipe_command(dir.path());
        c.args(args).env("DOCKER_HOST", &host).env("NO_COLOR", "1");
        c
    };
    let (mut child, mut lines) = spawn_events(
        run(&[
            "run",
            "p.yml",
            "--output",
            "json",
            "--executor",
            "docker",
            "-P",
            &platform,
            "--parallel",
            "1",
        ])
        .args(REF),
    );
    let run_id = until_step_started(&mut lines);
    // Well into the step.
    std::thread::sleep(Duration::from_secs(1));
    daemon.kill9();
    let events: Vec<serde_json::Value> = lines.map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    let status = child.wait().unwrap();
    let finished: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["event"] == "job_finished")
        .map(|e| (e["job"].as_str().unwrap(), e["result"].as_str().unwrap()))
        .collect();
    let mut finished_sorted = finished.clone();
    finished_sorted.sort();
    assert_eq!(finished_sorted, [("one", "interrupted"), ("two", "interrupted")], "{events:?}");
    let last = events.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["result"], "interrupted", "{last}");
    assert_eq!(status.code(), Some(2));
    let record = run_json(dir.path(), &run_id);
    assert_eq!(record["status"], "interrupted", "{record}");
    assert_eq!(record["jobs"]["one"]["result"], "interrupted", "{record}");
    assert_eq!(record["jobs"]["two"]["result"], "interrupted", "{record}");
    assert!(record["jobs"].get("after").is_none(), "the dependent was recorded: {record}");
    let runs = run(&["runs"]).output().unwrap();
    let said = all_output(&runs);
    assert!(said.contains("interrupted") && !said.contains("fail"), "{said}");

    // While the daemon is down, resume changes nothing.
    let early = run(&["resume", "last"]).output().unwrap();
    assert_eq!(early.status.code(), Some(2), "{}", all_output(&early));
    assert_eq!(run_json(dir.path(), &run_id)["status"], "interrupted");

    // Once it is back, resume runs both jobs again, and their dependent.
    daemon.restart();
    std::fs::write(dir.path().join("p.yml"), slow.replace("sleep 60", "echo again")).unwrap();
    let resumed = run(&["resume", "last"]).output().unwrap();
    let said = all_output(&resumed);
    let after = daemon.containers(&run_id);
    assert_eq!(resumed.status.code(), Some(0), "{said}");
    assert!(said.contains("0 job leg(s) already finished"), "{said}");
    assert!(!said.contains("failed"), "{said}");
    assert!(after.is_empty(), "containers left after resume: {after:?}");
    let record = run_json(dir.path(), &run_id);
    assert_eq!(record["status"], "success", "{record}");
    for job in ["one", "two", "after"] {
        assert_eq!(record["jobs"][job]["result"], "success", "{record}");
    }
}

/// The events of a finished `pipe … --output json`.
fn events_of(out: &std::process::Output) -> Vec<serde_json::Value> {
    crate::support::spawn::stdout_events(out)
}

#[test]
fn resume_after_kill_9_runs_the_matrix_legs_that_were_not_recorded_and_then_the_dependents() {
    let dir = tempfile::tempdir().unwrap();
    let (ran, quick) = (dir.path().join("ran"), dir.path().join("quick"));
    // Legs 1 and 2 end at once; leg 3 sleeps until the run is killed (on resume it is quick).
    let pipeline = format!(
        "on: push\njobs:\n  build:\n    runs-on: x\n    strategy:\n      matrix:\n        n: [1, 2, 3]\n    steps:\n      - run: |\n          echo \"${{{{ matrix.n }}}}\" >> '{r}'\n          if [ \"${{{{ matrix.n }}}}\" = 3 ] && [ ! -e '{q}' ]; then sleep 30; fi\n  after:\n    needs: build\n    runs-on: x\n    steps:\n      - run: echo after >> '{r}'\n",
        r = ran.display(),
        q = quick.display()
    );
    std::fs::write(dir.path().join("p.yml"), pipeline).unwrap();
    let (mut child, mut lines) = start(dir.path(), &["--executor", "host"]);
    let run_id = until_step_started(&mut lines);
    let recorded = || {
        let record = run_json(dir.path(), &run_id);
        let legs = record["jobs"].as_object().map_or(0, |j| j.len());
        let group = record["processes"].as_object().and_then(|p| p.values().next().and_then(|v| v.as_i64()));
        (legs, group)
    };
    wait_for("two legs recorded and the third one's process group", Duration::from_secs(20), || {
        matches!(recorded(), (2, Some(_)))
    });
    let pgid = recorded().1.unwrap() as i32;
    kill9(&mut child);
    assert!(group_alive(pgid), "the sleeping leg died with pipe: nothing to show");
    let record = run_json(dir.path(), &run_id);
    let keys: Vec<&String> = record["jobs"].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 2, "{record}");
    assert!(keys.iter().all(|k| k.starts_with("build ") && !k.contains('3')), "{keys:?}");
    let before = std::fs::read_to_string(&ran).unwrap();
    let mut first: Vec<&str> = before.lines().collect();
    first.sort_unstable();
    assert_eq!(first, ["1", "2", "3"]);

    std::fs::write(&quick, "").unwrap();
    let resumed = pipe_in(dir.path(), &["resume", "last", "--output", "json"]);
    let said = all_output(&resumed);
    assert_eq!(resumed.status.code(), Some(0), "{said}");
    // Killed by resume; reaped a moment later (its parent is gone).
    wait_for("the sleeping leg of the dead run to be gone", Duration::from_secs(5), || !group_alive(pgid));
    // Only the missing leg ran again, then the dependent job.
    let after = std::fs::read_to_string(&ran).unwrap();
    assert_eq!(&after[before.len()..], "3\nafter\n", "{said}");
    let events = events_of(&resumed);
    let started: Vec<(String, String)> = events
        .iter()
        .filter(|e| e["event"] == "job_started")
        .map(|e| (e["job"].as_str().unwrap_or("").to_string(), e["matrix"].to_string()))
        .collect();
    assert_eq!(started.len(), 2, "{started:?}\n{said}");
    assert_eq!(started[0].0, "build", "{started:?}");
    assert!(started[0].1.contains('3'), "{started:?}");
    assert_eq!(started[1].0, "after", "{started:?}");
    let record = run_json(dir.path(), &run_id);
    assert_eq!(record["status"], "success", "{record}");
    let jobs = record["jobs"].as_object().unwrap();
    assert_eq!(jobs.len(), 4, "{record}");
    assert!(jobs.values().all(|j| j["result"] == "success"), "{record}");
    assert!(record.get("processes").is_none(), "{record}");
}
