//! Where a job's steps execute. The runner prepares a job (workspace + runner directory on the
//! host), asks a backend to start it, runs each step as one command, then tears the job down.
//! Backends never interpret workflow semantics: they only start, exec and clean up.
//!
//! The runner asks a backend about itself through two traits: [`Backend`], an engine connected
//! for the run by the factory in [`registry`] ([`Executor::connect`]), starts job legs;
//! [`JobBackend`], one started leg, runs its steps and moves its files.
//!
//! Adding a backend: a module here implementing both traits, plus a variant of [`Executor`] and
//! its arms in `registry.rs` (its name, whether it runs images, how it connects). Nothing in the
//! runner changes.

pub mod docker;
pub mod engine;
pub mod files;
pub mod host;
pub mod registry;
pub mod sweep;

pub use registry::{Backends, Executor, ExecutorChoice};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Everything a backend needs to start one job (one matrix leg).
#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerSpec {
    pub env: BTreeMap<String, String>,
    /// `host:container[:ro]` volume strings.
    pub volumes: Vec<String>,
    /// Raw `options:` string; the docker backend accepts a documented subset.
    pub options: Option<String>,
    pub credentials: Option<(String, String)>,
    pub ports: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
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

/// One step's command, with paths as seen inside the backend (see [`JobBackend::paths`]).
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
/// prints faster than pipe writes its log is slowed down instead of filling pipe's memory. At
/// 64 KiB a read that is at most 1 MiB in flight per step: with 4 MiB, a log writer slowed by a busy
/// machine let peak memory grow by that much with the output.
pub const OUTPUT_CHUNKS: usize = 16;

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

/// What a job path is, since a copy out does not tell a file from a directory holding one file
/// of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    File,
    Dir,
    Missing,
}

/// A future a backend returns (the traits are used as objects).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What starting a job may use besides its [`JobSetup`].
#[derive(Clone)]
pub struct StartContext {
    /// Stops the start (image pulls, health waits): what was created is removed.
    pub cancel: CancellationToken,
    /// Cuts the grace period of a stopping step short (a second Ctrl-C).
    pub force: CancellationToken,
    /// Told the process group of a long step on this machine (see [`host::Tracker`]).
    pub tracker: Option<host::Tracker>,
}

/// An engine jobs run on, connected for a run by the factory ([`Executor::connect`]).
pub trait Backend: Send + Sync {
    fn executor(&self) -> Executor;

    /// Start one job leg: its environment is ready for [`JobBackend::exec`] when this returns.
    fn start<'a>(
        &'a self,
        setup: &'a JobSetup,
        ctx: StartContext,
    ) -> BoxFuture<'a, Result<Box<dyn JobBackend>, crate::Error>>;

    /// Why the engine does not answer, if it does not: a job that could not start for this
    /// reason was interrupted, not failed.
    fn unreachable(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async { None })
    }

    /// Make sure `image` is there before anything runs (pulled as `pull` says).
    fn ensure_image<'a>(
        &'a self,
        _image: &'a str,
        _pull: PullPolicy,
    ) -> BoxFuture<'a, Result<(), crate::Error>> {
        Box::pin(async { Ok(()) })
    }

    /// Remove whatever a job leg of run `run_id` left (its leg ended without its teardown).
    fn remove_job<'a>(&'a self, _run_id: &'a str, _job_key: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    /// The engine's Docker API, when it has one: actions that build or run containers of their
    /// own use it.
    fn docker_api(&self) -> Option<bollard::Docker> {
        None
    }

    /// Make a leg's environment ahead of its start, while the jobs it needs still run (ready
    /// for its steps): `None` when this backend does not, or not for this setup.
    fn prepare<'a>(&'a self, _setup: &'a JobSetup) -> BoxFuture<'a, Option<Box<dyn Prepared>>> {
        Box::pin(async { None })
    }
}

/// A leg's environment made ahead by [`Backend::prepare`], for the setup it was made for.
pub trait Prepared: Send + Sync {
    /// Whether it was made for exactly this setup.
    fn fits(&self, setup: &JobSetup) -> bool;

    /// Start it: the leg is ready for its steps. What fails (or is cancelled) is removed.
    fn start(
        self: Box<Self>,
        ctx: StartContext,
    ) -> BoxFuture<'static, Result<Box<dyn JobBackend>, crate::Error>>;

    /// Remove it, unused; what could not be removed is returned.
    fn discard(self: Box<Self>) -> BoxFuture<'static, Vec<String>>;
}

/// A started job leg: the runner asks it about itself instead of knowing which backend it is.
pub trait JobBackend: Send + Sync {
    /// The backend it runs on (named in events).
    fn executor(&self) -> Executor;

    /// Paths of the job as its steps see them.
    fn paths(&self) -> JobPaths;

    /// Whether the job sees this machine's files at the same paths (its workspace, the programs
    /// on its PATH): the runner then reads them in place instead of copying them out.
    fn shares_host_files(&self) -> bool;

    /// A directory of this machine that is the job's workspace (the same one, or mounted into
    /// the job), if there is one: containers of actions mount it instead of a copy.
    fn workspace_on_host(&self) -> Option<PathBuf>;

    /// The PATH of a step that did not set one (GITHUB_PATH additions go in front of it).
    fn default_path(&self) -> String;

    /// The HOME of a step that did not set one (`~` in cache paths).
    fn default_home(&self) -> String;

    /// Whether a step's process receives variables whose names are no shell identifiers
    /// (`INPUT_WHO-TO-GREET`) as they are. A backend that starts steps through `sh` loses them.
    fn keeps_any_env_name(&self) -> bool {
        true
    }

    /// The `job.container` and `job.services` contexts (`{"container": …, "services": …}`);
    /// `None`: the job has neither (empty ids, as on GitHub's runner).
    fn job_context(&self) -> BoxFuture<'_, Option<serde_json::Value>> {
        Box::pin(async { None })
    }

    /// Run one command; output chunks go to `out` as they arrive. A cancelled token stops the
    /// command gracefully (SIGTERM, grace period, SIGKILL) and returns [`Exit::Cancelled`].
    fn exec<'a>(
        &'a self,
        cmd: &'a StepCommand,
        out: OutputSender,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Exit, crate::Error>>;

    /// Copy what the host directory `src` holds into the job directory `dest` (created when
    /// missing; existing files are overwritten, others kept).
    fn copy_in<'a>(&'a self, src: &'a Path, dest: &'a str) -> BoxFuture<'a, Result<(), crate::Error>>;

    /// Copy a file or directory of the job to the host directory `dest` (a file lands as
    /// `dest/NAME`, a directory's contents in `dest`); returns the number of files, 0 when `src`
    /// is missing.
    fn copy_out<'a>(&'a self, src: &'a str, dest: &'a Path) -> BoxFuture<'a, Result<usize, crate::Error>>;

    /// What the job path `path` is.
    fn kind<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Kind, crate::Error>>;

    /// Why the job's environment was lost under its steps (the engine died, the job container
    /// was removed), if it was: the job was interrupted, not failed.
    fn lost(&self) -> Option<String> {
        None
    }

    /// Remove everything the job created (containers, networks). Safe to call more than once.
    /// Returns what could not be removed.
    fn teardown(&self) -> BoxFuture<'_, Vec<String>>;
}
