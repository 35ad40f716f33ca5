//! Reusable workflows (`jobs.<id>.uses:`): what a `uses:` names ([`reference`]), where that file
//! is ([`resolve`], the one place a reference becomes a file path), what the called workflow
//! declares under `on.workflow_call` ([`interface`]), and how a caller's `with:` values become
//! the called workflow's `inputs` ([`inputs`]).
//!
//! Used by `validate` (the call checked against the called file), `plan` (the called jobs as
//! part of the plan, nesting limits) and the runner (the called jobs run as part of the run).

pub mod inputs;
pub mod interface;
pub mod reference;

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::load::Loaded;
use crate::model::Pipeline;
use crate::source::Source;

pub use interface::Interface;
pub use reference::Reference;

/// GitHub's limits: the top-level caller and up to nine levels of reusable workflows; at most
/// 50 unique reusable workflows in the tree of one run.
pub const MAX_DEPTH: usize = 10;
pub const MAX_WORKFLOWS: usize = 50;

/// A called workflow, loaded: its file, model and `on.workflow_call` declarations.
#[derive(Debug)]
pub struct Called {
    /// The `uses:` value as written.
    pub uses: String,
    /// The file that was read.
    pub path: PathBuf,
    pub source: Source,
    pub pipeline: Option<Pipeline>,
    /// `None` when the file has no `on.workflow_call` (it cannot be called).
    pub interface: Option<Interface>,
    /// Problems found while loading the file (YAML, shape).
    pub diagnostics: Vec<Diagnostic>,
}

/// Why a called workflow could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum Unavailable {
    /// The `uses:` value is not a reusable-workflow reference.
    Syntax(String),
    /// The file does not exist (or cannot be read).
    Missing { path: PathBuf, why: String },
    /// A remote workflow that cannot be fetched (no fetcher, or offline and not cached).
    Remote(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Syntax(m) | Unavailable::Remote(m) => f.write_str(m),
            Unavailable::Missing { path, why } => {
                write!(f, "cannot read {}: {why}", path.strip_prefix(".").unwrap_or(path).display())
            }
        }
    }
}

/// The file a reference names. Local references are paths from the repository root (`base`, the
/// working tree pipe runs in). Remote references (`owner/repo/path@ref`) need the action
/// fetcher: this is the one place to resolve them to a checked-out file once it exists.
pub fn resolve(reference: &Reference, base: &Path) -> Result<PathBuf, Unavailable> {
    match reference {
        Reference::Local { path } => Ok(base.join(path.trim_start_matches("./"))),
        Reference::Remote { owner, repo, path, git_ref } => Err(Unavailable::Remote(format!(
            "`{owner}/{repo}/{path}@{git_ref}` is a remote reusable workflow: pipe cannot fetch remote workflows yet; \
             copy it into this repository and call it as `./{path}`"
        ))),
    }
}

/// Read and load the workflow `uses` names, relative to `base`.
pub fn load(uses: &str, base: &Path) -> Result<Called, Unavailable> {
    let reference = reference::parse(uses).map_err(Unavailable::Syntax)?;
    let path = resolve(&reference, base)?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Unavailable::Missing { path: path.clone(), why: io_reason(&e) })?;
    let shown = match &reference {
        Reference::Local { path } => path.trim_start_matches("./").to_string(),
        Reference::Remote { .. } => uses.to_string(),
    };
    let source = Source::new(&shown, text);
    let Loaded { pipeline, root, diagnostics } = crate::load::load(&source);
    let interface = root.as_ref().and_then(interface::parse);
    Ok(Called { uses: uses.to_string(), path, source, pipeline, interface, diagnostics })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}
