//! A job that calls a reusable workflow, planned: the called file is loaded and checked, its
//! jobs are planned like the caller's (recursively, for workflows that call others), and the
//! nesting stays within GitHub's limits — a loop or a tree too deep is an error before anything
//! runs. A remote file comes through the action fetcher: fetched when the plan may fetch
//! (`pipe run`), else read from the cache, and planned without jobs when it is not there.
//!
//! The called plan is kept twice: as the runner uses it (ids of the called file), and as it is
//! shown (`caller/job` ids and `caller / job` names), which is what `pipe plan` serialises.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::{Legs, Plan, PlanInput, PlannedJob};
use crate::Error;
use crate::fetch::Fetcher;
use crate::model::{Job, Pipeline, Text};
use crate::reusable::{self, Called, Lookup, MAX_DEPTH, MAX_WORKFLOWS, Unavailable};

#[derive(Debug, Clone, Serialize)]
pub struct PlannedCall {
    /// The `uses:` value.
    pub uses: String,
    /// The file that is run.
    pub path: String,
    /// For a workflow of another repository: whether it is in the action cache, and at which
    /// commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteCall>,
    /// The called jobs as shown: ids `caller/job`, names `caller / job`, in order.
    pub jobs: Vec<PlannedJob>,
    /// The called jobs as the runner schedules them (ids of the called file).
    #[serde(skip)]
    pub plan: Arc<Plan>,
    #[serde(skip)]
    pub workflow: Arc<Called>,
    /// The called file's expressions, parsed once for every leg that calls it.
    #[serde(skip)]
    pub compiled: Arc<crate::scope::Compiled>,
}

/// Where a remote reusable workflow is on this machine.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteCall {
    /// In the cache (or a `--local-action` folder): its jobs are planned. When false (only
    /// `pipe plan` and `--dry-run`, which never fetch), the call has no jobs yet.
    pub cached: bool,
    /// The commit (`local` for a `--local-action` folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    /// `fetched` (by this plan), `cached` or `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// The workflow files being planned, outermost first (with the repository root their `./`
/// calls are read from), every reusable workflow seen, and the fetcher of remote ones.
pub struct Chain {
    stack: Vec<Level>,
    seen: BTreeSet<PathBuf>,
    fetcher: Fetcher,
    fetch: bool,
}

struct Level {
    identity: PathBuf,
    shown: String,
    base: PathBuf,
}

impl Chain {
    /// `may_fetch`: remote workflows may be fetched (when `input.fetch` allows it too).
    pub fn new(top: &str, input: &PlanInput, may_fetch: bool) -> Self {
        let level =
            Level { identity: identity(Path::new(top)), shown: top.to_string(), base: PathBuf::from(".") };
        Chain {
            stack: vec![level],
            seen: BTreeSet::new(),
            fetcher: Fetcher::new(input.actions.clone()),
            fetch: input.fetch && may_fetch,
        }
    }
}

/// A file's identity for loop detection (the same file reached by two spellings is one file).
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

pub fn plan_call(job: &Job, uses: &Text, input: &PlanInput, chain: &mut Chain) -> Result<PlannedCall, Error> {
    let here = chain.stack.last().map_or_else(|| input.pipeline_path.clone(), |l| l.shown.clone());
    let fail = |message: String, hint: Option<String>| Error::Usage {
        message: format!("{here}: job `{}`: {message}", job.id.value),
        hint,
    };
    let base = chain.stack.last().map_or_else(|| PathBuf::from("."), |l| l.base.clone());
    let lookup = Lookup { base: &base, fetcher: Some(&chain.fetcher), fetch: chain.fetch };
    let called = match reusable::load(&uses.value, lookup) {
        Ok(c) => c,
        Err(Unavailable::NotCached(_)) => return Ok(not_cached(&uses.value)),
        Err(Unavailable::Remote(e)) => {
            return Err(Error::Environment {
                message: format!(
                    "{here}: job `{}`: reusable workflow `{}`: {}; nothing was run",
                    job.id.value, e.action, e.message
                ),
                hint: Some(e.hint),
            });
        }
        Err(e) => return Err(fail(e.to_string(), None)),
    };
    let shown = called.source.path.clone();
    let file = identity(&called.path);
    if let Some(at) = chain.stack.iter().position(|l| l.identity == file) {
        let mut names: Vec<&str> = chain.stack[at..].iter().map(|l| l.shown.as_str()).collect();
        names.push(&shown);
        return Err(fail(
            format!("reusable workflows call each other in a loop: {}", names.join(" → ")),
            Some("a reusable workflow cannot call itself, directly or through others".into()),
        ));
    }
    if chain.stack.len() >= MAX_DEPTH {
        let names: Vec<&str> = chain.stack.iter().map(|l| l.shown.as_str()).chain([shown.as_str()]).collect();
        return Err(fail(
            format!("reusable workflows nest deeper than {MAX_DEPTH} levels: {}", names.join(" → ")),
            Some(format!(
                "GitHub connects at most {MAX_DEPTH} levels of workflows (the caller and 9 called ones)"
            )),
        ));
    }
    chain.seen.insert(file.clone());
    if chain.seen.len() > MAX_WORKFLOWS {
        return Err(fail(
            format!("the run calls more than {MAX_WORKFLOWS} different reusable workflows"),
            Some(format!("GitHub allows at most {MAX_WORKFLOWS} unique reusable workflows in one run")),
        ));
    }
    // The called file's own calls are read from its repository (cache only: they are fetched
    // when planned, below).
    let inner = Lookup { base: &called.base, fetcher: Some(&chain.fetcher), fetch: false };
    let checked = crate::validate::check_source_calling(
        called.source.clone(),
        None,
        crate::gitlab::Syntax::Auto,
        None,
        inner,
    );
    if checked.errors() > 0 {
        let how = match &called.checkout {
            Some(c) => format!("its copy is {}", c.dir.display()),
            None => format!("`pipe validate {shown}` shows them"),
        };
        return Err(fail(
            format!("the called workflow `{shown}` has {} error(s)", checked.errors()),
            Some(how),
        ));
    }
    let (Some(pipeline), Some(interface)) = (&called.pipeline, &called.interface) else {
        return Err(fail(
            format!("`{shown}` cannot be called: its `on:` has no `workflow_call`"),
            Some("add `on: workflow_call` (with its inputs, secrets and outputs) to the called file".into()),
        ));
    };
    // `pipe validate` checked calls of local files before planning; a remote one is checked here,
    // now that it is read.
    if called.checkout.is_some() {
        let problems: Vec<String> = crate::validate::reusable::call_problems(job, uses, interface)
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| d.message)
            .collect();
        if !problems.is_empty() {
            return Err(fail(
                format!("the call does not match `{shown}`: {}", problems.join("; ")),
                Some("`pipe validate` shows where (it reads the cached copy)".into()),
            ));
        }
    }
    let remote = called.checkout.as_ref().map(|c| RemoteCall {
        cached: true,
        sha: Some(c.sha.clone()),
        origin: Some(c.origin.as_str().to_string()),
    });
    chain.stack.push(Level { identity: file, shown: shown.clone(), base: called.base.clone() });
    let plan = called_plan(pipeline, &shown, input, chain);
    chain.stack.pop();
    let plan = plan?;
    Ok(PlannedCall {
        uses: uses.value.clone(),
        path: shown,
        remote,
        jobs: Vec::new(),
        plan: Arc::new(plan),
        compiled: Arc::new(crate::scope::Compiled::of(pipeline, Some(called.source.clone()))),
        workflow: Arc::new(called),
    })
}

/// A remote workflow that is not in the cache (`pipe plan`, `--dry-run`): listed, without jobs.
fn not_cached(uses: &str) -> PlannedCall {
    let source = crate::source::Source::new(uses, "");
    let workflow = Called {
        uses: uses.to_string(),
        path: PathBuf::new(),
        base: PathBuf::new(),
        checkout: None,
        source,
        pipeline: None,
        interface: None,
        diagnostics: Vec::new(),
    };
    PlannedCall {
        uses: uses.to_string(),
        path: uses.to_string(),
        remote: Some(RemoteCall { cached: false, sha: None, origin: None }),
        jobs: Vec::new(),
        plan: Arc::new(Plan::empty()),
        compiled: Arc::new(crate::scope::Compiled::default()),
        workflow: Arc::new(workflow),
    }
}

/// How `pipe plan` words where a remote workflow is: `cached at SHA`, `local folder`, or
/// `not cached (…)`.
pub fn remote_state(r: &RemoteCall) -> String {
    match (&r.sha, r.origin.as_deref()) {
        (_, Some("local")) => "local folder".into(),
        (Some(sha), _) if r.cached => format!("cached at {}", crate::fetch::cache::short(sha)),
        _ => "not cached (pipe run fetches it; --offline would stop)".into(),
    }
}

/// Every call of a remote workflow in the plan, nested ones included, in plan order.
pub fn remote_calls(plan: &Plan) -> Vec<&PlannedCall> {
    let mut out = Vec::new();
    for job in &plan.jobs {
        if let Some(call) = &job.call {
            if call.remote.is_some() {
                out.push(call);
            }
            out.extend(remote_calls(&call.plan));
        }
    }
    out
}

/// The plan of a called workflow: every job (the caller's `if:` and `needs` decide whether the
/// call happens; `on:` filters and `--job` do not apply inside), inputs known only at run time.
fn called_plan(p: &Pipeline, path: &str, input: &PlanInput, chain: &mut Chain) -> Result<Plan, Error> {
    // The call's inputs are known when the caller runs; plan time evaluates without them.
    let facts = super::build::plan_facts(p, input, &serde_json::Map::new());
    let mut jobs = Vec::with_capacity(p.jobs.len());
    for i in super::build::order(p)? {
        jobs.push(super::build::plan_job(p, i, input, &facts, chain)?);
    }
    Ok(Plan {
        pipeline: path.to_string(),
        workflow_name: p.name.as_ref().map_or_else(|| path.to_string(), |n| n.value.clone()),
        event: input.event.clone(),
        git_ref: input.git_ref.clone(),
        sha: input.sha.clone(),
        mode: input.mode,
        triggered: true,
        not_triggered_reason: None,
        inputs: serde_json::Map::new(),
        jobs,
        not_selected: Vec::new(),
        excluded: Vec::new(),
    })
}

/// The called jobs of `caller` as shown: `caller/job` ids, `caller / job` names, and the same for
/// the jobs of workflows they call in turn.
pub fn shown_jobs(caller_id: &str, caller_name: &str, plan: &Plan) -> Vec<PlannedJob> {
    plan.jobs.iter().map(|j| prefixed(j, caller_id, caller_name)).collect()
}

fn prefixed(job: &PlannedJob, id: &str, name: &str) -> PlannedJob {
    let mut j = job.clone();
    j.id = format!("{id}/{}", job.id);
    j.name = format!("{name} / {}", job.name);
    j.needs = job.needs.iter().map(|n| format!("{id}/{n}")).collect();
    if let Legs::Matrix { legs, .. } = &mut j.legs {
        for leg in legs {
            leg.name = format!("{name} / {}", leg.name);
        }
    }
    if let Some(call) = &mut j.call {
        call.jobs = call.jobs.iter().map(|c| prefixed(c, id, name)).collect();
    }
    j
}

/// Every job that runs steps, the called ones included (for checks before a run starts, such as
/// which images are needed).
pub fn runnable_jobs(plan: &Plan) -> Vec<&PlannedJob> {
    let mut out = Vec::new();
    for job in &plan.jobs {
        match &job.call {
            Some(call) => out.extend(runnable_jobs(&call.plan)),
            None => out.push(job),
        }
    }
    out
}
