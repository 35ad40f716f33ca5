//! The remote actions a run needs, found before anything runs: every `uses: owner/repo@ref` of
//! the selected jobs that pipe does not run itself — the jobs of the reusable workflows they call
//! included (ids `caller/called`) — and the actions those use in turn (steps of composite
//! actions, local ones included), each resolved through the [`Fetcher`]. `pipe run` fetches them
//! all first, so a missing action stops the run at once; `pipe plan` and `--dry-run` only look
//! in the cache.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::composite::MAX_DEPTH;
use super::metadata::{self, Runs};
use crate::fetch::{Checkout, FetchError, Fetcher, RemoteRef, Uses};
use crate::model::{Pipeline, Step};
use crate::plan::Plan;

/// One remote action of the run.
#[derive(Debug, Clone)]
pub struct Needed {
    pub action: RemoteRef,
    /// The jobs that use it (directly or through other actions).
    pub jobs: BTreeSet<String>,
    /// Where it is, or why it is not there.
    pub found: Result<Checkout, FetchError>,
    /// `runs.using` of its action.yml, when it could be read.
    pub using: Option<String>,
}

#[derive(Debug, Default)]
pub struct Inventory {
    /// By `owner/repo/path@ref` as written.
    pub actions: BTreeMap<String, Needed>,
    /// Jobs that run a JavaScript action (Docker jobs of these get the node runtime), by full id
    /// (`caller/called` inside a reusable workflow).
    pub node_jobs: BTreeSet<String>,
    /// The JavaScript actions of the run (`uses:` as written → `runs.using`), for the check of
    /// the node version.
    pub node_actions: BTreeMap<String, String>,
}

impl Inventory {
    /// The first action that is not available, as pipe's error (exit 2, with what to do).
    pub fn first_missing(&self) -> Option<&FetchError> {
        self.actions.values().find_map(|n| n.found.as_ref().err())
    }
}

/// Whether pipe runs this action itself: one of [`super::BUILT_IN`], unless pipe.toml's
/// `[actions] disable_builtin` names it (`*`, `owner/*` or the name, any case).
pub fn is_built_in(name: &str, disabled: &[String]) -> bool {
    let name = name.to_ascii_lowercase();
    let off = disabled.iter().any(|d| {
        let d = d.trim().to_ascii_lowercase();
        d == "*" || d == name || d.strip_suffix("/*").is_some_and(|owner| name.starts_with(&format!("{owner}/")))
            // `actions/cache` turns off its `restore` and `save` variants too.
            || name.starts_with(&format!("{d}/"))
    });
    !off && super::BUILT_IN.contains(&name.as_str())
}

/// Find (and with `fetch`, fetch) the remote actions of the plan's jobs and of the jobs of the
/// workflows they call; `workdir` holds local actions.
pub fn collect(
    pipeline: &Pipeline,
    plan: &Plan,
    fetcher: &Fetcher,
    disabled: &[String],
    workdir: &Path,
    fetch: bool,
) -> Inventory {
    let mut walk = Walk { fetcher, disabled, workdir, fetch, inventory: Inventory::default() };
    walk.plan(pipeline, plan, "", 0);
    walk.inventory
}

struct Walk<'a> {
    fetcher: &'a Fetcher,
    disabled: &'a [String],
    workdir: &'a Path,
    fetch: bool,
    inventory: Inventory,
}

impl Walk<'_> {
    /// The jobs of one workflow; `prefix` is `caller/` inside a called one.
    fn plan(&mut self, pipeline: &Pipeline, plan: &Plan, prefix: &str, nesting: usize) {
        if nesting > crate::reusable::MAX_DEPTH {
            return;
        }
        // By id, once: a lookup per planned job would grow with the square of the job count.
        let jobs: std::collections::HashMap<&str, &crate::model::Job> =
            pipeline.jobs.iter().rev().map(|j| (j.id.as_str(), j)).collect();
        for planned in &plan.jobs {
            let id = format!("{prefix}{}", planned.id);
            match &planned.call {
                Some(call) => {
                    if let Some(called) = &call.workflow.pipeline {
                        self.plan(called, &call.plan, &format!("{id}/"), nesting + 1);
                    }
                }
                None => {
                    if let Some(job) = jobs.get(planned.id.as_str()) {
                        self.steps(&id, &job.steps, 0);
                    }
                }
            }
        }
    }

    fn steps(&mut self, job: &str, steps: &[Step], depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for step in steps {
            let Some(uses) = &step.uses else { continue };
            match crate::fetch::parse(uses.as_str()) {
                Ok(Uses::Remote(r)) if !is_built_in(&r.name(), self.disabled) => self.remote(job, r, depth),
                // A local action is read from the working tree (what checkout copies).
                Ok(Uses::Local(path)) => {
                    if let Ok(action) = metadata::read_dir(&self.workdir.join(&path), &path) {
                        self.runs(job, &path, &action.runs, depth);
                    }
                }
                _ => {}
            }
        }
    }

    fn remote(&mut self, job: &str, r: RemoteRef, depth: usize) {
        let key = r.to_string();
        if let Some(known) = self.inventory.actions.get_mut(&key) {
            let first_for_job = known.jobs.insert(job.to_string());
            let using = known.using.clone();
            let dir = known.found.as_ref().ok().map(|c| c.dir.clone());
            if first_for_job && let Some(dir) = dir {
                if using.as_deref().is_some_and(|u| u.starts_with("node")) {
                    self.inventory.node_jobs.insert(job.to_string());
                }
                if let Ok(action) = metadata::read_dir(&dir, &key) {
                    self.runs(job, &key, &action.runs, depth);
                }
            }
            return;
        }
        let found = if self.fetch {
            self.fetcher.checkout(&r)
        } else {
            self.fetcher.cached(&r).ok_or_else(|| FetchError {
                action: key.clone(),
                message: "not in the action cache".into(),
                hint: "`pipe run` fetches it".into(),
            })
        };
        let action = found.as_ref().ok().map(|c| metadata::read_dir(&c.dir, &key));
        let using = match &action {
            Some(Ok(a)) => Some(match &a.runs {
                Runs::Composite(_) => "composite".to_string(),
                Runs::Docker { .. } => "docker".to_string(),
                Runs::Node(n) => n.using.clone(),
                Runs::Other(u) => u.clone(),
            }),
            _ => None,
        };
        self.inventory
            .actions
            .insert(key.clone(), Needed { action: r, jobs: BTreeSet::from([job.to_string()]), found, using });
        if let Some(Ok(action)) = action {
            self.runs(job, &key, &action.runs, depth);
        }
    }

    fn runs(&mut self, job: &str, uses: &str, runs: &Runs, depth: usize) {
        match runs {
            Runs::Composite(steps) => self.steps(job, steps, depth + 1),
            Runs::Node(n) => {
                self.inventory.node_jobs.insert(job.to_string());
                self.inventory.node_actions.insert(uses.to_string(), n.using.clone());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_built_in;

    #[test]
    fn built_in_unless_turned_off() {
        assert!(is_built_in("actions/checkout", &[]));
        assert!(is_built_in("Actions/Cache", &[]));
        assert!(!is_built_in("actions/setup-node", &[]));
        assert!(!is_built_in("actions/cache", &["actions/cache".into()]));
        assert!(!is_built_in("actions/cache/restore", &["actions/cache".into()]));
        assert!(!is_built_in("docker/login-action", &["docker/*".into()]));
        assert!(is_built_in("actions/checkout", &["docker/*".into()]));
        assert!(!is_built_in("actions/checkout", &["*".into()]));
    }
}
