//! A remote Docker engine: the daemon `scripts/remote-daemon.sh ensure` starts in its own network
//! namespace (10.77.0.2), whose mount namespace has this machine's temporary directory and the
//! repository as empty tmpfs mounts: whatever relied on a shared filesystem (a bind mount of the
//! workspace, the runner directory, an action's files or the node binary) finds nothing there and
//! fails. Reached over plain tcp, TLS, ssh and a Docker context made by Docker's own CLI.
//!
//! The settings come from the script's output (`PIPE_REMOTE_TCP`, `PIPE_REMOTE_TLS`,
//! `PIPE_REMOTE_CERTS`, `PIPE_REMOTE_SSH`, `PIPE_REMOTE_SSH_CONFIG`); without them the tests are
//! skipped with a reason, and fail under CI=true.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::test::{all_output, pipe_bin};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const IMAGE: &str = "pipe-test/debian:bookworm";

/// How to reach the remote engine: the environment of a client process.
#[derive(Clone)]
struct Remote {
    name: &'static str,
    env: Vec<(String, String)>,
}

/// The variables Docker clients read, removed before a transport's own are set.
const CLIENT_VARS: &[&str] = &[
    "DOCKER_HOST",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
];

impl Remote {
    fn apply(&self, c: &mut Command) {
        for var in CLIENT_VARS {
            c.env_remove(var);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
    }

    /// The docker CLI against the remote engine (plain tcp, whatever the transport under test).
    fn docker(args: &[&str]) -> Output {
        let tcp = std::env::var("PIPE_REMOTE_TCP").unwrap();
        let mut c = Command::new("docker");
        for var in CLIENT_VARS {
            c.env_remove(var);
        }
        c.env("DOCKER_HOST", tcp).args(args).output().unwrap()
    }
}

/// The transports to test, or None (skipped, with a reason) when no remote engine was set up.
fn remotes() -> Option<Vec<Remote>> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(tcp), Some(tls), Some(certs), Some(ssh), Some(ssh_config)) = (
        var("PIPE_REMOTE_TCP"),
        var("PIPE_REMOTE_TLS"),
        var("PIPE_REMOTE_CERTS"),
        var("PIPE_REMOTE_SSH"),
        var("PIPE_REMOTE_SSH_CONFIG"),
    ) else {
        let reason = "no remote Docker engine (eval \"$(scripts/remote-daemon.sh ensure)\" and export the PIPE_REMOTE_* settings)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {reason}");
        eprintln!("skipping: {reason}");
        return None;
    };
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    Some(vec![
        Remote { name: "tcp", env: vec![pair("DOCKER_HOST", &tcp)] },
        Remote {
            name: "tls",
            env: vec![
                pair("DOCKER_HOST", &tls),
                pair("DOCKER_TLS_VERIFY", "1"),
                pair("DOCKER_CERT_PATH", &certs),
            ],
        },
        Remote {
            name: "ssh",
            env: vec![pair("DOCKER_HOST", &ssh), pair("PIPE_SSH_COMMAND", &format!("ssh -F {ssh_config}"))],
        },
    ])
}

fn pipe(remote: &Remote, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(pipe_bin());
    c.args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("PIPE_STATE_DIR").stdin(Stdio::null());
    remote.apply(&mut c);
    c
}

fn run_args() -> Vec<String> {
    ["run", "p.yml", "--output", "json", "--ref", "refs/heads/main", "--sha", SHA, "--executor", "docker"]
        .map(String::from)
        .into_iter()
        .chain(["-P".to_string(), format!("x={IMAGE}")])
        .collect()
}

/// Containers of `run_id` on the remote engine.
fn remote_containers(run_id: &str) -> Vec<String> {
    let out = Remote::docker(&["ps", "-aq", "--filter", &format!("label=dev.pipe.run-id={run_id}")]);
    assert!(out.status.success(), "{}", all_output(&out));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

fn events(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

fn step_output(events: &[serde_json::Value]) -> String {
    events
        .iter()
        .filter(|e| e["event"] == "step_output")
        .filter_map(|e| e["line"].as_str().or_else(|| e["text"].as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

const WORKFLOW: &str = r#"
on: push
jobs:
  build:
    runs-on: x
    outputs:
      js: ${{ steps.js.outputs.greeting }}
      ctr: ${{ steps.ctr.outputs.ctr }}
    steps:
      - uses: actions/checkout@v4
      - run: |
          echo "data=$(cat data.txt)"
          # Nothing of the client's disk is mounted: no bind under /github, no pipe node mount.
          echo "mounts=$(grep -c -e ' /github' -e ' /__pipe' /proc/self/mountinfo)"
      - uses: ./hello-js
        id: js
        with:
          who: remote
      - uses: docker://pipe-test/busybox
        id: ctr
        with:
          args: sh -c "cat data.txt | tr a-z A-Z > shouted.txt; echo ctr=yes >> $GITHUB_OUTPUT"
      - run: echo "shouted=$(cat shouted.txt)"
      - uses: actions/upload-artifact@v4
        with:
          name: out
          path: shouted.txt
  use:
    needs: build
    runs-on: x
    steps:
      - uses: actions/download-artifact@v4
        with:
          name: out
      - run: echo "downloaded=$(cat shouted.txt) js=${{ needs.build.outputs.js }} ctr=${{ needs.build.outputs.ctr }}"
"#;

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("p.yml"), WORKFLOW).unwrap();
    std::fs::write(p.join("data.txt"), "from the client\n").unwrap();
    std::fs::create_dir_all(p.join("hello-js")).unwrap();
    std::fs::write(
        p.join("hello-js/action.yml"),
        "name: hello\ninputs:\n  who:\n    default: world\nruns:\n  using: node20\n  main: main.js\n",
    )
    .unwrap();
    std::fs::write(
        p.join("hello-js/main.js"),
        "const fs = require('fs');\nfs.appendFileSync(process.env.GITHUB_OUTPUT, `greeting=hello ${process.env.INPUT_WHO}\\n`);\nconsole.log('js ran');\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_workflow_runs_on_the_remote_engine_over_tcp_tls_and_ssh() {
    let Some(remotes) = remotes() else { return };
    for remote in &remotes {
        let dir = workspace();
        let out = pipe(remote, dir.path(), &run_args().iter().map(String::as_str).collect::<Vec<_>>())
            .output()
            .unwrap();
        let events = events(&out);
        let said = step_output(&events);
        assert_eq!(out.status.code(), Some(0), "{}: {}\n{said}", remote.name, all_output(&out));
        for expected in [
            "data=from the client",
            "mounts=0",
            "js ran",
            "shouted=FROM THE CLIENT",
            "downloaded=FROM THE CLIENT js=hello remote ctr=yes",
        ] {
            assert!(said.contains(expected), "{}: no `{expected}` in:\n{said}", remote.name);
        }
        let run_id = events.iter().find_map(|e| e["run_id"].as_str()).unwrap().to_string();
        assert!(remote_containers(&run_id).is_empty(), "{}: the run left containers", remote.name);
    }
}

#[test]
fn a_docker_context_made_by_the_docker_cli_selects_the_remote_engine() {
    let Some(remotes) = remotes() else { return };
    let tls = remotes.iter().find(|r| r.name == "tls").unwrap();
    let get = |k: &str| tls.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    let (host, certs) = (get("DOCKER_HOST"), get("DOCKER_CERT_PATH"));
    // An image only the remote engine has: the run can only succeed there (no pulls offline).
    let only = "pipe-test/remote-only:latest";
    let tagged = Remote::docker(&["tag", "pipe-test/busybox", only]);
    assert!(tagged.status.success(), "{}", all_output(&tagged));
    let config = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        let mut c = Command::new("docker");
        for var in CLIENT_VARS {
            c.env_remove(var);
        }
        let out = c.env("DOCKER_CONFIG", config.path()).args(args).output().unwrap();
        assert!(out.status.success(), "docker {args:?}: {}", all_output(&out));
    };
    let endpoint = format!("host={host},ca={certs}/ca.pem,cert={certs}/cert.pem,key={certs}/key.pem");
    cli(&["context", "create", "far-away", "--docker", &endpoint]);
    cli(&["context", "use", "far-away"]);
    let dir = tempfile::tempdir().unwrap();
    // A host job's `docker` reaches the same engine (the Docker variables reach host steps).
    let workflow = format!(
        "on: push\njobs:\n  a:\n    runs-on: y\n    steps: [{{run: echo far}}]\n  cli:\n    runs-on: z\n    steps: [{{run: docker image inspect {only} > /dev/null}}]\n"
    );
    std::fs::write(dir.path().join("p.yml"), workflow).unwrap();
    let by_config =
        Remote { name: "context", env: vec![("DOCKER_CONFIG".into(), config.path().display().to_string())] };
    let mut args = run_args();
    args.extend(["-P".to_string(), format!("y={only}"), "-P".to_string(), "z=host".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = pipe(&by_config, dir.path(), &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "config.json currentContext: {}", all_output(&out));
    // DOCKER_CONTEXT names it as well (and `default` is the local engine, which lacks the image).
    let mut by_env = by_config.clone();
    cli(&["context", "use", "default"]);
    by_env.env.push(("DOCKER_CONTEXT".into(), "far-away".into()));
    let out = pipe(&by_env, dir.path(), &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "DOCKER_CONTEXT: {}", all_output(&out));
    by_env.env.pop();
    let out = pipe(&by_env, dir.path(), &args).output().unwrap();
    assert_ne!(out.status.code(), Some(0), "the default context found the remote-only image");
}

/// Start a run whose step sleeps; returns the child and the run id once the step runs.
fn start_sleeping(remote: &Remote, dir: &Path) -> (std::process::Child, String) {
    std::fs::write(
        dir.join("p.yml"),
        "on: push\njobs:\n  slow:\n    runs-on: x\n    steps: [{run: sleep 60}]\n",
    )
    .unwrap();
    let args = run_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // A process group of its own, as a terminal's foreground job: Ctrl-C reaches all of it.
    let mut command = pipe(remote, dir, &args);
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut run_id = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let event: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap_or_default();
        if let Some(id) = event["run_id"].as_str() {
            run_id = id.to_string();
        }
        if event["event"] == "step_started" {
            break;
        }
    }
    (child, run_id)
}

#[test]
fn ctrl_c_and_prune_clean_up_on_the_remote_engine_and_nothing_local_is_mounted() {
    let Some(remotes) = remotes() else { return };
    let ssh = remotes.iter().find(|r| r.name == "ssh").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut child, run_id) = start_sleeping(ssh, dir.path());
    let running = remote_containers(&run_id);
    assert_eq!(running.len(), 1, "the job container is not on the remote engine");
    // Its HostConfig binds no path of this machine (not the run folder, not the state dir).
    let inspect =
        Remote::docker(&["inspect", "--format", "{{json .HostConfig.Binds}} {{json .Mounts}}", &running[0]]);
    let mounts = String::from_utf8_lossy(&inspect.stdout).to_string();
    assert!(inspect.status.success(), "{}", all_output(&inspect));
    assert!(mounts.starts_with("null []") || mounts.starts_with("[] []"), "local paths mounted: {mounts}");
    // Ctrl-C at the terminal: SIGINT to the whole group (pipe and its ssh processes).
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(-(child.id() as i32)),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130), "the run was not interrupted cleanly");
    assert!(remote_containers(&run_id).is_empty(), "Ctrl-C left the job container on the remote engine");
    let events = crate::test::stored_events(&dir.path().join(".pipe/runs").join(&run_id));
    let result = events.iter().find(|e| e["event"] == "job_finished").map(|e| e["result"].clone());
    assert_eq!(result, Some(serde_json::json!("cancelled")), "the job was not cancelled: {events:?}");

    // A run killed outright leaves its container; `pipe prune` (over TLS) removes it.
    let tls = remotes.iter().find(|r| r.name == "tls").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut child, run_id) = start_sleeping(tls, dir.path());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(remote_containers(&run_id).len(), 1, "the killed run's container is not left");
    let pruned = pipe(tls, dir.path(), &["prune"]).output().unwrap();
    assert_eq!(pruned.status.code(), Some(0), "{}", all_output(&pruned));
    assert!(remote_containers(&run_id).is_empty(), "prune left the container: {}", all_output(&pruned));
}

/// The lab's pipeline, unchanged, against the remote engine (plain tcp): lint, test and scan run
/// in containers there, build builds the image there, and the deploys publish the releases and
/// the stable endpoints on the engine's address, where their health checks reach them from here.
/// No registry: the image stays on the engine, as the lab says.
#[test]
fn the_lab_pipeline_deploys_on_the_remote_engine() {
    let Some(remotes) = remotes() else { return };
    let tcp = remotes.iter().find(|r| r.name == "tcp").unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("pipelines")).unwrap();
    std::fs::copy(repo.join("pipelines/cd-starter.yml"), root.join("pipelines/cd-starter.yml")).unwrap();
    let copied = Command::new("cp")
        .arg("-r")
        .arg(repo.join("examples"))
        .arg(repo.join("scripts"))
        .arg(root)
        .status()
        .unwrap();
    assert!(copied.success());
    std::fs::write(root.join("staging.env"), "API_TOKEN=s3cret-staging\n").unwrap();
    std::fs::write(
        root.join("pipe.toml"),
        "[environments.staging]\napproval = false\nsecrets_file = \"staging.env\"\n\
         [environments.production]\napproval = false\n\
         [platforms]\nubuntu-latest = \"pipe-test/python:bookworm\"\n",
    )
    .unwrap();
    let prefix = format!("r{}-", std::process::id());
    // Ports of the engine's machine: this test's own range, away from the lab's defaults.
    let base = 20000 + (std::process::id() % 20000) as u16;
    let (staging, production) = (base, base + 1);
    let vars = [
        "BASE_IMAGE=pipe-test/python:bookworm".to_string(),
        format!("STACK_PREFIX={prefix}"),
        format!("STAGING_PORT={staging}"),
        format!("PRODUCTION_PORT={production}"),
        "HEALTH_TIMEOUT=20".to_string(),
    ];
    let mut args = vec!["run", "pipelines/cd-starter.yml", "--ref", "refs/heads/main", "--sha", SHA];
    for v in &vars {
        args.extend(["--var", v.as_str()]);
    }
    args.extend(["--mode", "deployment"]);
    let out = pipe(tcp, root, &args).output().unwrap();
    let engine = tcp.env[0].1.trim_start_matches("tcp://").split(':').next().unwrap().to_string();
    let health = |port: u16| {
        let got = Command::new("curl")
            .args(["-s", "--max-time", "3", &format!("http://{engine}:{port}/health")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&got.stdout).to_string()
    };
    let (staged, produced) = (health(staging), health(production));
    for env in ["staging", "production"] {
        let mut c = Command::new("bash");
        c.arg(root.join("examples/tasks-app/deploy.sh")).args(["down", env]).env("STACK_PREFIX", &prefix);
        tcp.apply(&mut c);
        let _ = c.output();
    }
    let _ = Remote::docker(&["rmi", &format!("tasks-app:{}", &SHA[..12])]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let version = &SHA[..12];
    for (env, said) in [("staging", staged), ("production", produced)] {
        assert!(said.contains("\"ok\"") && said.contains(version), "{env} on {engine}: {said}");
    }
}

#[test]
fn an_engine_that_refuses_the_client_says_why() {
    let Some(remotes) = remotes() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: 'true'}]\n",
    )
    .unwrap();
    let args = run_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ssh = remotes.iter().find(|r| r.name == "ssh").unwrap();
    let known_hosts =
        Path::new(&std::env::var("PIPE_REMOTE_SSH_CONFIG").unwrap()).with_file_name("known_hosts");
    // ssh without the key, as a user the engine's machine does not know (so no shared ssh
    // login of the other tests stands in): ssh's own words reach the message.
    let mut no_key = ssh.clone();
    no_key.env.retain(|(k, _)| k != "PIPE_SSH_COMMAND" && k != "DOCKER_HOST");
    let host =
        ssh.env.iter().find(|(k, _)| k == "DOCKER_HOST").unwrap().1.rsplit('@').next().unwrap().to_string();
    no_key.env.push(("DOCKER_HOST".into(), format!("ssh://pipe-nobody@{host}")));
    no_key.env.push((
        "PIPE_SSH_COMMAND".into(),
        format!("ssh -F /dev/null -o IdentitiesOnly=yes -o UserKnownHostsFile={}", known_hosts.display()),
    ));
    let out = pipe(&no_key, dir.path(), &args).output().unwrap();
    let said = all_output(&out);
    assert_ne!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("ssh: ") && said.contains("Permission denied"), "{said}");
    assert!(said.contains("credentials"), "{said}");
    // TLS with a certificate folder that lacks the files.
    let mut no_certs = remotes.iter().find(|r| r.name == "tls").unwrap().clone();
    for (k, v) in &mut no_certs.env {
        if k == "DOCKER_CERT_PATH" {
            *v = dir.path().display().to_string();
        }
    }
    let out = pipe(&no_certs, dir.path(), &args).output().unwrap();
    let said = all_output(&out);
    assert_ne!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("TLS is on") && said.contains("ca.pem is missing"), "{said}");
}
