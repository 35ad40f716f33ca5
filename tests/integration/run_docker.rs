//! Docker-only behaviour of `pipe run`: `container:`, services, a missing image offline, and
//! Ctrl-C leaving no container behind (checked through the Docker API).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::run_host::{Exec, TEST_IMAGE, labelled_containers, run_pipeline};
use crate::test::pipe_bin;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// A tiny HTTP service image, built once from the busybox test image.
pub fn service_image() -> &'static str {
    const IMAGE: &str = "pipe-test/httpd-service:latest";
    let exists = Command::new("docker")
        .args(["image", "inspect", IMAGE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !exists.is_ok_and(|s| s.success()) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "hello from the service\n").unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM pipe-test/busybox:latest\nCOPY index.html /www/index.html\nCMD [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\n",
        )
        .unwrap();
        let ok = Command::new("docker")
            .args(["build", "-q", "-t", IMAGE, "."])
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(ok.success(), "building the service image failed");
    }
    IMAGE
}

#[test]
fn container_and_services() {
    let Some(exec) = Exec::docker() else { return };
    let image = service_image();
    let r = run_pipeline(
        exec,
        &format!(
            r#"
on: push
jobs:
  in-container:
    runs-on: ubuntu-latest
    container:
      image: pipe-test/busybox:latest
      env:
        FROM_CONTAINER: yes-it-is
    steps:
      - run: echo "busybox=$(test -x /bin/busybox && echo yes) env=$FROM_CONTAINER"
        shell: sh
  with-service:
    runs-on: x
    services:
      web:
        image: {image}
        options: --health-cmd "wget -q -O- http://localhost/ || exit 1" --health-interval 1s --health-retries 20
    steps:
      - run: |
          for i in 1 2 3 4 5; do
            if out=$(bash -c 'exec 3<>/dev/tcp/web/80; printf "GET / HTTP/1.0\r\n\r\n" >&3; cat <&3'); then break; fi
            sleep 1
          done
          echo "$out" | tail -1
      - run: echo "service-id=${{{{ job.services.web.id != '' }}}} network=${{{{ job.container.network != '' }}}}"
"#
        ),
        &[],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.output_lines("in-container").contains(&"busybox=yes env=yes-it-is".to_string()),
        "{:?}",
        r.output_lines("in-container")
    );
    let started = r.of("job_started");
    let c = started.iter().find(|e| e["job"] == "in-container").unwrap();
    assert_eq!(
        (c["executor"].as_str(), c["image"].as_str()),
        (Some("docker"), Some("pipe-test/busybox:latest"))
    );
    assert!(
        r.output_lines("with-service").contains(&"hello from the service".to_string()),
        "{:?}",
        r.output_lines("with-service")
    );
    let lines = r.output_lines("with-service");
    assert!(lines.contains(&"service-id=true network=true".to_string()), "{lines:?}");
}

#[test]
fn a_missing_image_offline_is_exit_2_with_the_image_name() {
    let Some(_) = Exec::docker() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yml"), "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    container: pipe-test/no-such-image:1\n    steps: [{run: echo}]\n").unwrap();
    let out = Command::new(pipe_bin())
        .args(["run", "p.yml", "--executor", "docker", "--ref", "refs/heads/main", "--sha", SHA])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("image `pipe-test/no-such-image:1` is not available"), "{err}");
    assert!(err.contains("hint: build or load it locally"), "{err}");
    assert!(!dir.path().join(".pipe/runs").exists(), "nothing ran, nothing recorded");
}

#[test]
fn an_unmapped_label_is_exit_2_with_a_hint() {
    let Some(_) = Exec::docker() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yml"),
        "on: push\njobs:\n  a:\n    runs-on: my-custom-runner\n    steps: [{run: echo}]\n",
    )
    .unwrap();
    let out = Command::new(pipe_bin())
        .args(["run", "p.yml", "--executor", "docker", "--ref", "refs/heads/main", "--sha", SHA])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("my-custom-runner") && err.contains("-P my-custom-runner=IMAGE"), "{err}");
}

#[test]
fn ctrl_c_removes_the_containers() {
    let Some(exec) = Exec::docker() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo started; sleep 300\n",
    )
    .unwrap();
    let child = Command::new(pipe_bin())
        .args(["run", "p.yml", "--output", "json", "--ref", "refs/heads/main", "--sha", SHA])
        .args(exec.args())
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let events = dir.path().join(".pipe/runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut run_id = None;
    while Instant::now() < deadline && run_id.is_none() {
        std::thread::sleep(Duration::from_millis(200));
        if let Some(run) = std::fs::read_dir(&events).ok().and_then(|mut rd| rd.next()).and_then(Result::ok) {
            let events = crate::test::stored_events(&run.path());
            if events.iter().any(|e| e["event"] == "step_output" && e["line"] == "started") {
                run_id = Some(run.file_name().to_string_lossy().to_string());
            }
        }
    }
    let run_id = run_id.expect("the step never started");
    assert_eq!(labelled_containers(&run_id).len(), 1, "the job container runs");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(labelled_containers(&run_id).is_empty(), "a container survived Ctrl-C");
}

#[test]
fn jobs_one_after_another_publish_the_same_host_ports() {
    let Some(exec) = Exec::docker() else { return };
    let image = service_image();
    // Each job frees its host ports before its dependent starts: a service's, and a job
    // container's (which is therefore not made ahead either).
    let service = format!(
        "    services:\n      web:\n        image: {image}\n        ports: ['18089:80']\n        options: --health-cmd \"wget -q -O- http://localhost/ || exit 1\" --health-interval 1s --health-retries 20\n"
    );
    let container = format!("    container:\n      image: {TEST_IMAGE}\n      ports: ['18090:8080']\n");
    let yaml = format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n{service}    steps: [{{run: 'true'}}]\n  b:\n    needs: a\n    runs-on: x\n{service}    steps: [{{run: 'true'}}]\n  c:\n    needs: b\n    runs-on: x\n{container}    steps: [{{run: 'true'}}]\n  d:\n    needs: c\n    runs-on: x\n{container}    steps: [{{run: 'true'}}]\n"
    );
    let r = run_pipeline(exec, &yaml, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let finished: Vec<(&str, &str)> = r
        .of("job_finished")
        .iter()
        .filter_map(|e| Some((e["job"].as_str()?, e["result"].as_str()?)))
        .collect();
    assert_eq!(finished, [("a", "success"), ("b", "success"), ("c", "success"), ("d", "success")]);
    let run = r.events[0]["run_id"].as_str().unwrap();
    assert!(labelled_containers(run).is_empty(), "containers left after the run");
}
