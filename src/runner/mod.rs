//! Executes a plan: the dispatcher schedules job legs over the DAG; each leg runs its steps
//! through a backend; everything that happens is an event.

mod actions;
mod ahead;
mod call;
pub mod cancel;
mod commands;
pub mod concurrency;
mod crash;
mod dispatcher;
mod docker_setup;
pub mod emitter;
mod envfiles;
pub mod gate;
mod gate_wait;
mod job;
mod job_start;
mod ledger;
mod manual;
mod output;
mod placement;
mod readiness;
mod reaper;
mod retry;
mod run;
mod shell;
pub mod signals;
mod step;
mod timer;
mod workspace;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use crate::scope::RunFacts;
pub use actions::{RemoteActions, inventory, metadata, node::host_node, node_version};
pub use call::Frame;
pub use crash::PANIC_IN_JOB;
pub use dispatcher::{Finished, JobDone, dispatch_run};
pub use run::{RunInputs, RunRequest, run};

use crate::backend::ExecutorChoice;
use crate::backend::PullPolicy;
use crate::cli::Mode;
use crate::mask::Masker;
use crate::model::Pipeline;
use crate::scope::{Compiled, Scope};
use crate::store::Store;

/// What every job of a run shares.
pub struct Shared {
    pub run_id: String,
    pub pipeline: Pipeline,
    /// The pipeline's expressions, parsed once, and its source (for error positions).
    pub compiled: Arc<Compiled>,
    pub facts: RunFacts,
    pub store: Store,
    pub emitter: emitter::Emitter,
    pub masker: Masker,
    pub secrets: BTreeMap<String, String>,
    pub env_file_vars: BTreeMap<String, String>,
    /// The Docker API of the run's engine, when it has one (actions that build or run
    /// containers of their own use it).
    pub docker: Option<bollard::Docker>,
    /// The backends the run's legs start on.
    pub backends: crate::backend::Backends,
    /// The user's working tree.
    pub workdir: PathBuf,
    pub bind: bool,
    pub pull: PullPolicy,
    /// `-P` then pipe.toml `[platforms]`: `runs-on` labels evaluated per leg are placed with them.
    pub platforms: Vec<(String, String)>,
    pub executor: ExecutorChoice,
    pub parallel: usize,
    pub mode: Mode,
    pub pre_approved: Vec<String>,
    /// pipe.toml, when there is one: gate policy per environment.
    pub config: Option<crate::gate::Config>,
    /// Asks at gates when a person can answer (stdin is a terminal); `None`: a gate that needs
    /// an answer pauses the run.
    pub prompter: Option<Arc<dyn gate::Prompter>>,
    pub identity: String,
    /// The run's record, rewritten after every finished leg so a crashed run can be resumed.
    pub record: std::sync::Arc<std::sync::Mutex<crate::store::RunRecord>>,
    /// Graceful stop of the whole run (first Ctrl-C), with its reason.
    pub cancel: cancel::Cancel,
    /// Kill at once (second Ctrl-C).
    pub force: CancellationToken,
    /// The run itself, or a reusable workflow called inside it.
    pub frame: Frame,
    /// Remote actions: the fetcher, what the run resolved, the node runtime.
    pub actions: Arc<RemoteActions>,
    /// Job containers made ahead of their jobs (shared by the called workflows of the run).
    pub ahead: Arc<ahead::Ahead>,
    /// Teardowns in the background: the run waits for them before it ends.
    pub reaper: Arc<reaper::Reaper>,
}

impl Shared {
    /// The run-wide id of a job of this workflow: `caller/job` inside a called one (what the
    /// action inventory is keyed by).
    pub fn full_id(&self, job: &str) -> String {
        format!("{}{job}", self.frame.id_prefix)
    }

    /// A message from pipe itself about the run, as an event (the runner never prints).
    pub(crate) fn notice(&self, level: &str, message: impl AsRef<str>) {
        self.emitter.emit(crate::event::Event::Notice {
            level: level.to_string(),
            message: self.masker.mask(message.as_ref()),
        });
    }

    /// What this run rolls back to, when it is a `pipe rollback`.
    pub(crate) fn rollback(&self) -> Option<crate::gate::ledger::Rollback> {
        match self.record.lock() {
            Ok(r) => r.options.rollback.clone(),
            Err(p) => p.into_inner().options.rollback.clone(),
        }
    }
}

impl Shared {
    /// The run-wide part of every scope of job `job`: `github`, `inputs`, `vars`, `secrets`.
    pub fn scope(&self, job: &str) -> Scope {
        self.facts.scope(self.compiled.clone(), job).with("secrets", &crate::scope::object(&self.secrets))
    }
}
