//! Executes a plan: the dispatcher schedules job legs over the DAG; each leg runs its steps
//! through a backend; everything that happens is an event.

mod actions;
mod commands;
pub mod concurrency;
mod contexts;
mod dispatcher;
mod docker_setup;
pub mod emitter;
mod envfiles;
mod eval;
pub mod gate;
mod job;
mod ledger;
mod manual;
mod matrix_runtime;
mod output;
mod retry;
mod shell;
mod step;
mod workspace;

use std::collections::BTreeMap;
use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

pub use contexts::RunFacts;
pub use dispatcher::{Finished, JobDone, dispatch};

use crate::backend::PullPolicy;
use crate::cli::Mode;
use crate::mask::Masker;
use crate::model::Pipeline;
use crate::store::Store;

/// What every job of a run shares.
pub struct Shared {
    pub run_id: String,
    pub pipeline: Pipeline,
    pub facts: RunFacts,
    pub store: Store,
    pub emitter: emitter::Emitter,
    pub masker: Masker,
    pub secrets: BTreeMap<String, String>,
    pub env_file_vars: BTreeMap<String, String>,
    /// The Docker daemon, when jobs may run in containers (`None`: every job on the host).
    pub docker: Option<bollard::Docker>,
    /// The user's working tree.
    pub workdir: PathBuf,
    pub bind: bool,
    pub pull: PullPolicy,
    pub parallel: usize,
    pub mode: Mode,
    pub pre_approved: Vec<String>,
    /// pipe.toml, when there is one: gate policy per environment.
    pub config: Option<crate::gate::Config>,
    /// Ask at gates (stdin is a terminal).
    pub interactive: bool,
    pub identity: String,
    /// The run's record, rewritten after every finished leg so a crashed run can be resumed.
    pub record: std::sync::Mutex<crate::store::RunRecord>,
    /// Graceful stop of the whole run (first Ctrl-C).
    pub cancel: CancellationToken,
    /// Kill at once (second Ctrl-C).
    pub force: CancellationToken,
}

/// A JSON object of strings (for contexts built outside the runner).
pub fn contexts_object(map: &BTreeMap<String, String>) -> serde_json::Value {
    contexts::object(map)
}

/// Interpolate `${{ }}` in `text` with the given contexts.
pub fn eval_text(text: &str, parts: &[(&str, &serde_json::Value)]) -> Result<String, String> {
    eval::text(text, &contexts::build(parts, crate::expr::Status::Success, None))
}
