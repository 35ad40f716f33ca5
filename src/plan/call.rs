//! A job that calls a reusable workflow, planned: the called file is loaded and checked, its
//! jobs are planned like the caller's (recursively, for workflows that call others), and the
//! nesting stays within GitHub's limits — a loop or a tree too deep is an error before anything
//! runs.
//!
//! The called plan is kept twice: as the runner uses it (ids of the called file), and as it is
//! shown (`caller/job` ids and `caller / job` names), which is what `pipe plan` serialises.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::{Legs, Plan, PlanInput, PlannedJob};
use crate::Error;
use crate::model::{Job, Pipeline};
use crate::reusable::{self, Called, MAX_DEPTH, MAX_WORKFLOWS};

#[derive(Debug, Clone, Serialize)]
pub struct PlannedCall {
    /// The `uses:` value.
    pub uses: String,
    /// The file that is run.
    pub path: String,
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

/// The workflow files being planned, outermost first, and every reusable workflow seen.
#[derive(Debug, Default)]
pub struct Chain {
    stack: Vec<(PathBuf, String)>,
    seen: BTreeSet<PathBuf>,
}

impl Chain {
    pub fn new(top: &str) -> Self {
        Chain { stack: vec![(identity(Path::new(top)), top.to_string())], seen: BTreeSet::new() }
    }
}

/// A file's identity for loop detection (the same file reached by two spellings is one file).
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

pub fn plan_call(job: &Job, uses: &str, input: &PlanInput, chain: &mut Chain) -> Result<PlannedCall, Error> {
    let here = chain.stack.last().map_or_else(|| input.pipeline_path.clone(), |(_, shown)| shown.clone());
    let fail = |message: String, hint: Option<String>| Error::Usage {
        message: format!("{here}: job `{}`: {message}", job.id.value),
        hint,
    };
    let called = reusable::load(uses, Path::new(".")).map_err(|e| fail(e.to_string(), None))?;
    let shown = called.source.path.clone();
    let file = identity(&called.path);
    if let Some(at) = chain.stack.iter().position(|(p, _)| *p == file) {
        let mut names: Vec<&str> = chain.stack[at..].iter().map(|(_, s)| s.as_str()).collect();
        names.push(&shown);
        return Err(fail(
            format!("reusable workflows call each other in a loop: {}", names.join(" → ")),
            Some("a reusable workflow cannot call itself, directly or through others".into()),
        ));
    }
    if chain.stack.len() >= MAX_DEPTH {
        let names: Vec<&str> = chain.stack.iter().map(|(_, s)| s.as_str()).chain([shown.as_str()]).collect();
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
    let checked = crate::validate::check_source(called.source.clone());
    if checked.errors() > 0 {
        return Err(fail(
            format!("the called workflow `{shown}` has {} error(s)", checked.errors()),
            Some(format!("`pipe validate {shown}` shows them")),
        ));
    }
    let (Some(pipeline), Some(_)) = (&called.pipeline, &called.interface) else {
        return Err(fail(
            format!("`{shown}` cannot be called: its `on:` has no `workflow_call`"),
            Some("add `on: workflow_call` (with its inputs, secrets and outputs) to the called file".into()),
        ));
    };
    chain.stack.push((file, shown.clone()));
    let plan = called_plan(pipeline, &shown, input, chain);
    chain.stack.pop();
    let plan = plan?;
    Ok(PlannedCall {
        uses: uses.to_string(),
        path: shown,
        jobs: Vec::new(),
        plan: Arc::new(plan),
        compiled: Arc::new(crate::scope::Compiled::of(pipeline, Some(called.source.clone()))),
        workflow: Arc::new(called),
    })
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
