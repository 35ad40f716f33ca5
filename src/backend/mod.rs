//! Where a job's steps execute. The runner prepares a job (workspace + runner directory on the
//! host), asks a backend to start it, runs each step as one command, then tears the job down.
//! Backends never interpret workflow semantics: they only start, exec and clean up.

pub mod docker;
pub mod engine;
pub mod host;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Everything a backend needs to start one job (one matrix leg).
#[derive(Debug, Clone)]
pub struct JobSetup {
    /// The run this job belongs to: every container/network/volume is labelled with it.
    pub run_id: String,
    /// Unique key of the job leg inside the run (file-name safe), e.g. `test-linux-3.12`.
    pub job_key: String,
    /// Image for the job container (Docker only): from `container:` or the `runs-on` mapping.
    pub image: Option<String>,
    /// The job's workspace on the host. With `bind` the backend uses it in place; otherwise Docker
    /// copies it into the container as a tar stream (and copies nothing back).
    pub workspace: PathBuf,
    pub bind: bool,
    /// Host directory holding step scripts and the GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY files. Docker
    /// bind-mounts it at [`RUNNER_DIR_IN_CONTAINER`] so reading those files costs no round trip.
    pub runner_dir: PathBuf,
    /// Extra container settings from `container:` (env, volumes, options, credentials).
    pub container: Option<ContainerSpec>,
    /// Service containers from `services:`.
    pub services: Vec<ServiceSpec>,
    pub pull: PullPolicy,
}

/// Where the workspace appears inside a job container.
pub const WORKSPACE_IN_CONTAINER: &str = "/github/workspace";
/// Where the runner directory appears inside a job container.
pub const RUNNER_DIR_IN_CONTAINER: &str = "/github/runner";

#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    pub env: BTreeMap<String, String>,
    /// `host:container[:ro]` volume strings.
    pub volumes: Vec<String>,
    /// Raw `options:` string; the docker backend accepts a documented subset.
    pub options: Option<String>,
    pub credentials: Option<(String, String)>,
    pub ports: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Service id: the host name other containers reach it by.
    pub id: String,
    pub image: String,
    pub env: BTreeMap<String, String>,
    pub ports: Vec<String>,
    pub volumes: Vec<String>,
    pub options: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    Always,
    #[default]
    Missing,
    Never,
}

/// One step's command, with paths as seen inside the backend (see [`JobHandle::paths`]).
#[derive(Debug, Clone)]
pub struct StepCommand {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub workdir: String,
    pub timeout: Option<Duration>,
}

/// A chunk of step output, in order of arrival.
#[derive(Debug, Clone)]
pub enum Output {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

/// Chunks a step's output channel holds before the backend waits for its reader: a step that
/// prints faster than pipe writes its log is slowed down instead of filling pipe's memory.
pub const OUTPUT_CHUNKS: usize = 64;

/// Where a backend sends a step's output.
pub type OutputSender = mpsc::Sender<Output>;

/// A step's output channel, bounded (see [`OUTPUT_CHUNKS`]).
pub fn output_channel() -> (OutputSender, mpsc::Receiver<Output>) {
    mpsc::channel(OUTPUT_CHUNKS)
}

/// How a step command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i64),
    TimedOut,
    Cancelled,
}

/// Paths of the job as the step commands see them.
#[derive(Debug, Clone)]
pub struct JobPaths {
    pub workspace: String,
    pub runner_dir: String,
    /// Host-side runner dir (always a host path) where the runner writes scripts and reads env files.
    pub host_runner_dir: PathBuf,
}

/// Result of starting a job's environment.
pub enum JobHandle {
    Host(host::HostJob),
    Docker(docker::DockerJob),
}

impl JobHandle {
    pub fn paths(&self) -> JobPaths {
        match self {
            JobHandle::Host(j) => j.paths(),
            JobHandle::Docker(j) => j.paths(),
        }
    }

    /// The executor name used in events (`host` or `docker`).
    pub fn executor(&self) -> &'static str {
        match self {
            JobHandle::Host(_) => "host",
            JobHandle::Docker(_) => "docker",
        }
    }

    /// Run one command; output chunks go to `out` as they arrive. A cancelled token stops the
    /// command gracefully (SIGTERM, grace period, SIGKILL) and returns [`Exit::Cancelled`].
    pub async fn exec(
        &self,
        cmd: &StepCommand,
        out: OutputSender,
        cancel: CancellationToken,
    ) -> Result<Exit, crate::Error> {
        match self {
            JobHandle::Host(j) => j.exec(cmd, out, cancel).await,
            JobHandle::Docker(j) => j.exec(cmd, out, cancel).await,
        }
    }

    /// Why the job's environment was lost under its steps (the Docker daemon died, the job
    /// container was removed), if it was: the job was interrupted, not failed.
    pub fn lost(&self) -> Option<String> {
        match self {
            JobHandle::Host(_) => None,
            JobHandle::Docker(j) => j.lost(),
        }
    }

    /// Remove everything the job created (containers, networks). Safe to call more than once.
    /// Returns what could not be removed.
    pub async fn teardown(&self) -> Vec<String> {
        match self {
            JobHandle::Host(j) => j.teardown().await,
            JobHandle::Docker(j) => j.teardown().await,
        }
    }
}
