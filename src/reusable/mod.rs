//! Reusable workflows (`jobs.<id>.uses:`): what a `uses:` names ([`reference`]), where that file
//! is ([`resolve`], the one place a reference becomes a file path), what the called workflow
//! declares under `on.workflow_call` ([`interface`]), and how a caller's `with:` values become
//! the called workflow's `inputs` ([`inputs`]).
//!
//! Used by `validate` (the call checked against the called file), `plan` (the called jobs as
//! part of the plan, nesting limits) and the runner (the called jobs run as part of the run).
//!
//! A remote workflow (`owner/repo/path@ref`) comes from the same place as remote actions: the
//! [`Fetcher`] and its cache (`--action-source`, `--local-action`, pipe.toml `[actions] source`,
//! `--offline`). `pipe run` fetches it when needed; `plan` and `validate` only read the cache.

pub mod inputs;
pub mod interface;
pub mod reference;

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::fetch::{Checkout, FetchError, Fetcher, RemoteRef, Uses};
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
    /// The root of the repository the file belongs to: `./` calls inside it are read from here
    /// (GitHub reads them from the same repository and commit as the calling file).
    pub base: PathBuf,
    /// Where a remote workflow came from (`None` for a file of this repository).
    pub checkout: Option<Checkout>,
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
    /// A remote workflow that is not in the cache, and this lookup may not fetch it.
    NotCached(RemoteRef),
    /// A remote workflow that cannot be fetched (not there, offline, the source does not answer).
    Remote(FetchError),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Syntax(m) => f.write_str(m),
            Unavailable::NotCached(r) => write!(f, "`{r}` is not in the action cache"),
            Unavailable::Remote(e) => write!(f, "reusable workflow `{}`: {}", e.action, e.message),
            Unavailable::Missing { path, why } => {
                write!(f, "cannot read {}: {why}", path.strip_prefix(".").unwrap_or(path).display())
            }
        }
    }
}

/// How called workflows are found: `./` ones under `base`, remote ones through the fetcher
/// (from the cache only unless `fetch`; without a fetcher a remote one is never found).
#[derive(Clone, Copy)]
pub struct Lookup<'a> {
    pub base: &'a Path,
    pub fetcher: Option<&'a Fetcher>,
    pub fetch: bool,
}

impl Lookup<'_> {
    /// Files of the working tree only.
    pub fn here() -> Lookup<'static> {
        Lookup { base: Path::new("."), fetcher: None, fetch: false }
    }
}

/// A reference resolved to a file on this machine.
pub struct Resolved {
    pub path: PathBuf,
    /// The root of the file's repository (see [`Called::base`]).
    pub base: PathBuf,
    pub checkout: Option<Checkout>,
}

/// The file a reference names: the one place a reference becomes a file path. Local references
/// are paths from the repository root (`lookup.base`); remote ones are the fetcher's checkout of
/// that repository at that ref.
pub fn resolve(reference: &Reference, uses: &str, lookup: Lookup<'_>) -> Result<Resolved, Unavailable> {
    match reference {
        Reference::Local { path } => Ok(Resolved {
            path: lookup.base.join(path.trim_start_matches("./")),
            base: lookup.base.to_path_buf(),
            checkout: None,
        }),
        Reference::Remote { .. } => {
            let r = match crate::fetch::parse(uses) {
                Ok(Uses::Remote(r)) => r,
                Ok(_) => return Err(Unavailable::Syntax(format!("`{uses}` is not a remote workflow"))),
                Err(m) => return Err(Unavailable::Syntax(m)),
            };
            let Some(fetcher) = lookup.fetcher else { return Err(Unavailable::NotCached(r)) };
            let checkout = if lookup.fetch {
                fetcher.checkout(&r).map_err(Unavailable::Remote)?
            } else {
                fetcher.cached(&r).ok_or_else(|| Unavailable::NotCached(r.clone()))?
            };
            Ok(Resolved { path: checkout.dir.clone(), base: checkout.root.clone(), checkout: Some(checkout) })
        }
    }
}

/// Read and load the workflow `uses` names.
pub fn load(uses: &str, lookup: Lookup<'_>) -> Result<Called, Unavailable> {
    let reference = reference::parse(uses).map_err(Unavailable::Syntax)?;
    let Resolved { path, base, checkout } = resolve(&reference, uses, lookup)?;
    let text = std::fs::read_to_string(&path).map_err(|e| match (&checkout, &reference) {
        (Some(c), Reference::Remote { path: file, .. }) => Unavailable::Remote(FetchError {
            action: uses.to_string(),
            message: format!("the repository has no file `{file}` at {} ({})", short(&c.sha), io_reason(&e)),
            hint: "check the path and the ref after `@`".into(),
        }),
        _ => Unavailable::Missing { path: path.clone(), why: io_reason(&e) },
    })?;
    let shown = match &reference {
        Reference::Local { path } => path.trim_start_matches("./").to_string(),
        Reference::Remote { .. } => uses.to_string(),
    };
    let source = Source::new(&shown, text);
    let Loaded { pipeline, root, diagnostics } = crate::load::load(&source);
    let interface = root.as_ref().and_then(interface::parse);
    Ok(Called { uses: uses.to_string(), path, base, checkout, source, pipeline, interface, diagnostics })
}

fn short(sha: &str) -> &str {
    crate::fetch::cache::short(sha)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}
