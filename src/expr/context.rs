//! What the evaluator needs from its environment, plus [`MapContext`], a
//! ready-made implementation backed by a map.

use std::collections::HashMap;
use std::path::PathBuf;

use super::hashfiles::hash_files;
use super::value::Value;

/// Outcome so far of the job (or of the needed jobs for a job-level `if:`),
/// read by `success()`, `failure()` and `cancelled()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Success,
    Failure,
    Cancelled,
}

/// The evaluator's view of the world.
pub trait EvalContext {
    /// A named context (github, env, vars, job, jobs, steps, runner, secrets,
    /// strategy, matrix, needs, inputs), or None when unavailable here.
    /// `name` is always lower-case.
    fn context(&self, name: &str) -> Option<Value>;

    /// Optional fast path: a borrowed context, which spares cloning a whole
    /// context just to read one property. Defaults to `None`, in which case
    /// [`EvalContext::context`] is used.
    fn context_ref(&self, name: &str) -> Option<&Value> {
        let _ = name;
        None
    }

    /// Job/step status for success()/failure()/cancelled().
    fn status(&self) -> Status;

    /// hashFiles: patterns relative to the workspace; "" when nothing matches.
    fn hash_files(&self, patterns: &[String]) -> Result<String, String>;
}

/// A simple context: named values, a status and an optional workspace
/// directory for `hashFiles`.
#[derive(Debug, Clone, Default)]
pub struct MapContext {
    /// Keys are stored lower-case (context names are case-insensitive).
    contexts: HashMap<String, Value>,
    pub status: Status,
    pub workspace: Option<PathBuf>,
}

impl MapContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a context.
    pub fn insert(&mut self, name: &str, value: impl Into<Value>) {
        self.contexts.insert(name.to_lowercase(), value.into());
    }

    /// Builder form of [`MapContext::insert`].
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.insert(name, value);
        self
    }

    pub fn with_status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    pub fn with_workspace(mut self, dir: impl Into<PathBuf>) -> Self {
        self.workspace = Some(dir.into());
        self
    }

    /// Case-insensitive lookup; lower-case names skip the allocation.
    pub fn get(&self, name: &str) -> Option<&Value> {
        if name.chars().any(char::is_uppercase) {
            self.contexts.get(&name.to_lowercase())
        } else {
            self.contexts.get(name)
        }
    }
}

impl EvalContext for MapContext {
    fn context(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }

    fn context_ref(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }

    fn status(&self) -> Status {
        self.status
    }

    fn hash_files(&self, patterns: &[String]) -> Result<String, String> {
        match &self.workspace {
            Some(dir) => hash_files(dir, patterns),
            None => Err("hashFiles is unavailable: no workspace directory is set".to_string()),
        }
    }
}
