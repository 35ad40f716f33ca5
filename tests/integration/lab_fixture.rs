//! One lab of `pipelines/cd-starter.yml` (or its GitLab twin) for a test: a copy of the pipelines and the example
//! service in a directory of its own, a real registry on 127.0.0.1 (scripts/registry.sh), and
//! names and ports of its own so that tests run in parallel. `finish` (and, on a panic, `Drop`)
//! removes what the deploys started and stops the registry by its pid.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::test::{all_output, pipe_in};

const PYTHON_IMAGE: &str = "pipe-test/python:bookworm";
pub const STAGING_TOKEN: &str = "staging-token-4f1c9e";
pub const PRODUCTION_TOKEN: &str = "production-token-8b2d7a";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub struct Lab {
    pub dir: tempfile::TempDir,
    registry_dir: PathBuf,
    pub registry: String,
    registry_pid: u32,
    /// Prefix of every container and network name the deploys create.
    pub prefix: String,
    pub staging_port: u16,
    pub production_port: u16,
    finished: bool,
}

/// What a test leaves behind after `finish`: nothing, when all is well.
#[derive(Debug, PartialEq, Eq)]
pub struct Leftovers {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub registry_running: bool,
}

/// Why the lab cannot run here, or None when everything it needs is present.
fn missing() -> Option<String> {
    let ok = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok("docker", &["info"]) {
        return Some("no Docker daemon answers".into());
    }
    if !ok("docker", &["image", "inspect", PYTHON_IMAGE]) {
        return Some(format!("image {PYTHON_IMAGE} is missing: run scripts/test-images.sh"));
    }
    if !ok("sh", &["-c", "command -v docker-registry"]) {
        return Some("docker-registry is not installed: apt-get install docker-registry".into());
    }
    for program in ["curl", "python3"] {
        if !ok("sh", &["-c", &format!("command -v {program}")]) {
            return Some(format!("{program} is not installed"));
        }
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "__pycache__" || name == "lab-secrets" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

impl Lab {
    /// A lab named `name`, or None with a printed reason; under `CI=true` a missing component
    /// fails the test.
    pub fn start(name: &str, production_approval: bool) -> Option<Lab> {
        if let Some(why) = missing() {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {why}");
            eprintln!("skipping {name}: {why}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("pipelines")).unwrap();
        for file in ["cd-starter.yml", "cd-starter.gitlab-ci.yml"] {
            std::fs::copy(repo().join("pipelines").join(file), root.join("pipelines").join(file)).unwrap();
        }
        copy_tree(&repo().join("examples/tasks-app"), &root.join("examples/tasks-app"));
        copy_tree(&repo().join("scripts"), &root.join("scripts"));
        let secrets = root.join("secrets");
        std::fs::create_dir_all(&secrets).unwrap();
        std::fs::write(secrets.join("staging.env"), format!("API_TOKEN={STAGING_TOKEN}\n")).unwrap();
        std::fs::write(secrets.join("production.env"), format!("API_TOKEN={PRODUCTION_TOKEN}\n")).unwrap();
        let approval = if production_approval { "" } else { "approval = false\n" };
        std::fs::write(
            root.join("pipe.toml"),
            format!(
                "[environments.staging]\napproval = false\nsecrets_file = \"secrets/staging.env\"\n\
                 [environments.production]\nrequires = [\"lint\", \"test\", \"scan\"]\nbranches = [\"main\"]\n\
                 secrets_file = \"secrets/production.env\"\n{approval}\
                 [platforms]\nubuntu-latest = \"{PYTHON_IMAGE}\"\n"
            ),
        )
        .unwrap();
        let registry_dir = root.join("registry");
        let out = Command::new("bash")
            .arg(repo().join("scripts/registry.sh"))
            .args(["start", registry_dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "the registry did not start: {}", all_output(&out));
        let registry = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let registry_pid = std::fs::read_to_string(registry_dir.join("pid")).unwrap().trim().parse().unwrap();
        Some(Lab {
            prefix: format!("t{}-{name}-", std::process::id()),
            dir,
            registry_dir,
            registry,
            registry_pid,
            staging_port: free_port(),
            production_port: free_port(),
            finished: false,
        })
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `pipe ARGS` in the lab's directory.
    pub fn pipe(&self, args: &[&str]) -> Output {
        pipe_in(self.root(), args)
    }

    /// `pipe run pipelines/cd-starter.yml` for a push of commit `sha` to main, with the lab's
    /// registry, ports and names, plus `extra` flags.
    pub fn run(&self, sha: &str, extra: &[&str]) -> Output {
        self.run_file("pipelines/cd-starter.yml", sha, extra)
    }

    /// [`Lab::run`] of another pipeline file of the lab (its GitLab twin).
    pub fn run_file(&self, file: &str, sha: &str, extra: &[&str]) -> Output {
        let vars = [
            format!("REGISTRY={}", self.registry),
            format!("BASE_IMAGE={PYTHON_IMAGE}"),
            format!("STACK_PREFIX={}", self.prefix),
            format!("STAGING_PORT={}", self.staging_port),
            format!("PRODUCTION_PORT={}", self.production_port),
            "HEALTH_TIMEOUT=8".to_string(),
        ];
        let mut args: Vec<&str> = vec!["run", file, "--ref", "refs/heads/main", "--sha", sha];
        for v in &vars {
            args.extend(["--var", v]);
        }
        args.extend(extra);
        self.pipe(&args)
    }

    pub fn port(&self, environment: &str) -> u16 {
        if environment == "production" { self.production_port } else { self.staging_port }
    }

    /// GET `path` on an environment's stable endpoint: the status and the body, or None when
    /// nothing answers.
    pub fn get(&self, environment: &str, path: &str) -> Option<(u16, String)> {
        http_get(self.port(environment), path)
    }

    /// The version an environment's `/health` reports, when it answers 200.
    pub fn healthy_version(&self, environment: &str) -> Option<String> {
        let (status, body) = self.get(environment, "/health")?;
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        (status == 200 && json["status"] == "ok").then(|| json["version"].as_str().unwrap_or("").to_string())
    }

    pub fn deployments(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.root().join(".pipe/deployments.jsonl")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    fn stacks(&self) -> [String; 2] {
        ["staging", "production"].map(|e| format!("{}tasks-{e}", self.prefix))
    }

    /// Containers and networks of this lab's deploys (through the Docker API), and whether its
    /// registry process still runs.
    pub fn leftovers(&self) -> Leftovers {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let docker = bollard::Docker::connect_with_defaults().unwrap();
        let mut containers = Vec::new();
        let mut networks = Vec::new();
        for stack in self.stacks() {
            let filters = std::collections::HashMap::from([(
                "label".to_string(),
                vec![format!("tasks-app.stack={stack}")],
            )]);
            let options = bollard::query_parameters::ListContainersOptions {
                all: true,
                filters: Some(filters.clone()),
                ..Default::default()
            };
            let found = rt.block_on(docker.list_containers(Some(options))).unwrap();
            containers.extend(found.into_iter().flat_map(|c| c.names.unwrap_or_default()));
            let options = bollard::query_parameters::ListNetworksOptions { filters: Some(filters) };
            let found = rt.block_on(docker.list_networks(Some(options))).unwrap();
            networks.extend(found.into_iter().filter_map(|n| n.name));
        }
        let registry_running = Path::new(&format!("/proc/{}", self.registry_pid)).exists()
            && !std::fs::read_to_string(format!("/proc/{}/stat", self.registry_pid))
                .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"));
        Leftovers { containers, networks, registry_running }
    }

    fn teardown(&mut self) {
        self.finished = true;
        for environment in ["staging", "production"] {
            let _ = Command::new("bash")
                .arg(self.root().join("examples/tasks-app/deploy.sh"))
                .args(["down", environment])
                .env("STACK_PREFIX", &self.prefix)
                .output();
        }
        let _ = Command::new("bash")
            .arg(repo().join("scripts/registry.sh"))
            .args(["stop", self.registry_dir.to_str().unwrap()])
            .output();
        // The images this lab built are tagged with its registry's address.
        if let Ok(out) = Command::new("docker")
            .args(["images", "--format", "{{.Repository}}:{{.Tag}}", &format!("{}/*", self.registry)])
            .output()
        {
            let tags: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect();
            if !tags.is_empty() {
                let _ = Command::new("docker").arg("rmi").args(&tags).output();
            }
        }
    }

    /// Remove what the deploys started, stop the registry, and say what is left (nothing, when
    /// all is well).
    pub fn finish(mut self) -> Leftovers {
        self.teardown();
        self.leftovers()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if !self.finished {
            self.teardown();
        }
    }
}

/// A plain HTTP/1.0 GET of 127.0.0.1:PORT/PATH.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
    Some((status, body))
}
