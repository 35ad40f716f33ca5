//! The Docker backend (through `bollard`): each job runs in a long-lived container from its image;
//! every step is one `exec` in it; service containers share a per-job network with it.
//!
//! Everything this backend creates (containers, networks, volumes) carries the labels
//! [`LABEL_RUN_ID`], [`LABEL_JOB`] and [`LABEL_MANAGED`], so that [`prune`] can find what a crashed
//! run left behind.
//!
//! The engine is the one Docker's CLI would use ([`endpoint`]: `DOCKER_HOST` with TLS, `ssh://`,
//! Docker contexts). The runner directory is bind-mounted at [`RUNNER_DIR_IN_CONTAINER`] when the
//! daemon runs on this machine (a unix socket, or tcp on loopback). For a remote daemon it is
//! copied in before each step and the files the step may have written are copied back after it;
//! nothing of this machine's disk is bind-mounted then.
//!
//! [`RUNNER_DIR_IN_CONTAINER`]: super::RUNNER_DIR_IN_CONTAINER

mod backend;
mod connect;
mod container;
mod copy;
pub mod endpoint;
mod exec;
mod health;
mod image;
mod options;
mod prepared;
mod prune;
pub mod remote;
mod services;
mod ssh;
mod tarball;
mod workdir;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;

use bollard::Docker;

pub use backend::{DockerBackend, DockerLeg};
pub use connect::{
    available, connect, connect_endpoint, connect_to, daemon_is_remote, engine_is_remote, unreachable,
};
pub use container::{start_job, start_job_until, start_job_with};
pub use image::{build_image, ensure_image};
pub use options::SUPPORTED_OPTIONS;
pub use prepared::{PreparedJob, can_prepare, prepare_job};
pub use prune::{PruneReport, prune, prune_run, remove_job};

use super::{JobPaths, RUNNER_DIR_IN_CONTAINER, WORKSPACE_IN_CONTAINER};
use crate::Error;

/// Label holding the run id on everything pipe creates.
pub const LABEL_RUN_ID: &str = "dev.pipe.run-id";
/// Label holding the job key on everything pipe creates.
pub const LABEL_JOB: &str = "dev.pipe.job";
/// Label (value `true`) marking everything pipe creates; `pipe prune` removes what carries it.
pub const LABEL_MANAGED: &str = "dev.pipe.managed";
/// The id of the pipe process that made the resource: `pipe prune` keeps what a live one owns.
pub const LABEL_PID: &str = "dev.pipe.pid";

/// A started job: its container, service containers and network.
pub struct DockerJob {
    docker: Docker,
    container_id: String,
    state: Box<JobState>,
}

struct JobState {
    resources: container::Resources,
    host_runner_dir: PathBuf,
    /// Copy the runner dir in and out around each step (remote daemon) instead of bind-mounting it.
    copy_runner_dir: bool,
    /// Numbers the execs of this job (names their pid files).
    exec_seq: AtomicU64,
    /// Cuts a stopping step's grace period short (a second Ctrl-C).
    force: tokio_util::sync::CancellationToken,
    /// Why the job's environment is gone (the daemon does not answer, the container was removed
    /// or stopped), once a step found out: the job was interrupted, not failed by its steps.
    lost: std::sync::Mutex<Option<String>>,
}

impl DockerJob {
    /// Paths as the step commands see them.
    pub fn paths(&self) -> JobPaths {
        JobPaths {
            workspace: WORKSPACE_IN_CONTAINER.to_string(),
            runner_dir: RUNNER_DIR_IN_CONTAINER.to_string(),
            host_runner_dir: self.state.host_runner_dir.clone(),
        }
    }

    /// A stopping step is killed at once when `force` fires, instead of after its grace period.
    #[must_use]
    pub fn with_force(mut self, force: tokio_util::sync::CancellationToken) -> DockerJob {
        self.state.force = force;
        self
    }

    /// Why the job's environment was lost under it, if it was (see [`DockerJob::exec`]).
    pub fn lost(&self) -> Option<String> {
        self.state.lost.lock().ok().and_then(|l| l.clone())
    }

    /// After a step that did not end well: whether its container still runs. A daemon that does
    /// not answer, or a container that is gone or stopped, means the job's environment is lost.
    /// Asked up to `checks` times, 100 ms apart.
    pub(crate) async fn check_alive(&self, checks: u32) -> Option<String> {
        let mut why = None;
        for n in 0..checks {
            if n > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            let state = self.docker.inspect_container(&self.container_id, None).await;
            why = match state {
                Ok(info) => {
                    let s = info.state.unwrap_or_default();
                    if s.running == Some(true) && s.restarting != Some(true) && s.dead != Some(true) {
                        continue;
                    }
                    Some(format!("the job container {} was stopped", short(&self.container_id)))
                }
                Err(e) if is_not_found(&e) => {
                    Some(format!("the job container {} is gone", short(&self.container_id)))
                }
                Err(e) => Some(format!("the Docker daemon does not answer: {}", one_line(&e))),
            };
            break;
        }
        let why = why?;
        if let Ok(mut lost) = self.state.lost.lock() {
            lost.get_or_insert_with(|| why.clone());
        }
        Some(why)
    }

    /// Id of the job container.
    pub fn container_id(&self) -> &str {
        &self.container_id
    }

    /// The `job.container` and `job.services` contexts: ids, the job network, and each service's
    /// published ports (container port → host port), as GitHub provides them.
    pub async fn job_context(&self, setup: &super::JobSetup) -> serde_json::Value {
        let network = if setup.services.is_empty() {
            String::new()
        } else {
            docker_name(&["pipe", &setup.run_id, &setup.job_key])
        };
        let mut services = serde_json::Map::new();
        for service in &setup.services {
            let name = docker_name(&["pipe", &setup.run_id, &setup.job_key, &service.id]);
            let Ok(info) = self.docker.inspect_container(&name, None).await else { continue };
            let mut ports = serde_json::Map::new();
            if let Some(map) = info.network_settings.and_then(|n| n.ports) {
                for (port, bindings) in map {
                    let host = bindings.unwrap_or_default().into_iter().find_map(|b| b.host_port);
                    if let Some(host) = host {
                        let key = port.split('/').next().unwrap_or(&port).to_string();
                        ports.insert(key, serde_json::Value::String(host));
                    }
                }
            }
            services.insert(
                service.id.clone(),
                serde_json::json!({"id": info.id.unwrap_or_default(), "network": network, "ports": ports}),
            );
        }
        serde_json::json!({
            "container": {"id": self.container_id, "network": network},
            "services": services,
        })
    }

    /// Remove the job container, the service containers, the network and the volumes the job
    /// created. Safe to call more than once; never fails: what could not be removed is returned.
    pub async fn teardown(&self) -> Vec<String> {
        self.state.resources.remove_all(&self.docker).await
    }
}

/// The labels put on everything created for one job.
pub(crate) fn labels(run_id: &str, job_key: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_RUN_ID.to_string(), run_id.to_string()),
        (LABEL_JOB.to_string(), job_key.to_string()),
        (LABEL_MANAGED.to_string(), "true".to_string()),
        (LABEL_PID.to_string(), std::process::id().to_string()),
    ])
}

/// A Docker name built from parts: characters outside `[A-Za-z0-9_.-]` become `-`.
pub(crate) fn docker_name(parts: &[&str]) -> String {
    let joined = parts.join("-");
    let mut name: String = joined
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        name.insert(0, 'p');
    }
    name
}

/// The first 12 characters of an id, as `docker ps` shows it.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// One line describing a bollard error, with its causes.
pub(crate) fn one_line(err: &bollard::errors::Error) -> String {
    let mut text = match err {
        bollard::errors::Error::DockerResponseServerError { status_code, message } => {
            format!("{message} (HTTP {status_code})")
        }
        other => other.to_string(),
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Error::Docker` for a failed call, naming what pipe was doing.
pub(crate) fn docker_error(doing: &str, err: &bollard::errors::Error) -> Error {
    Error::docker(format!("{doing}: {}", one_line(err)))
}

/// The daemon answered 404 (no such container/image/network/volume).
pub(crate) fn is_not_found(err: &bollard::errors::Error) -> bool {
    matches!(err, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(docker_name(&["pipe", "run 1", "test/linux"]), "pipe-run-1-test-linux");
        assert_eq!(docker_name(&["_x"]), "p_x");
    }
}
