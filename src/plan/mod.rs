//! What a run would do, computed without running anything: which event and ref, which jobs (after
//! `on:` filters and `--job` selection), their matrix legs, the DAG edges, which jobs are
//! deployment jobs, and where each runs. Pure and serialisable: `pipe plan` prints it, the runner
//! executes it.

mod build;
pub mod call;
pub mod context;
pub mod filter_pattern;
pub mod inputs;
pub mod legs;
pub mod matrix;
pub mod platform;
pub mod render;
pub mod select;
pub mod trigger;

pub use build::build;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;

use crate::backend::{Executor, ExecutorChoice};
use crate::cli::Mode;

/// Everything the plan depends on besides the pipeline itself.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    /// Path of the pipeline file as given.
    pub pipeline_path: String,
    pub event: String,
    /// Full ref, e.g. `refs/heads/main` or `refs/tags/v1`.
    pub git_ref: String,
    pub sha: String,
    /// Files changed by `sha` against its parent (for `paths` filters); `None` when unknown, in
    /// which case path filters do not exclude the run.
    pub changed_files: Option<Vec<String>>,
    /// The event payload (`--eventpath`), used for `github.event`.
    pub event_payload: Option<Json>,
    /// `--input NAME=VALUE` values, as given.
    pub inputs: BTreeMap<String, String>,
    /// `--job` selection; empty means every job.
    pub jobs: Vec<String>,
    pub mode: Mode,
    /// `-P LABEL=IMAGE` then `pipe.toml [platforms]` (first match wins) — already merged.
    pub platforms: Vec<(String, String)>,
    pub executor: ExecutorChoice,
    /// `--var NAME=VALUE` values (`vars` context), for what `pipe plan` can evaluate.
    pub vars: BTreeMap<String, String>,
    /// Where remote reusable workflows come from: the sources of remote actions.
    pub actions: crate::fetch::Sources,
    /// Fetch remote reusable workflows that are not cached (`pipe run`); otherwise (`pipe plan`,
    /// `--dry-run`) only the cache is read and a missing one is planned as "not cached".
    pub fetch: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub pipeline: String,
    pub workflow_name: String,
    pub event: String,
    pub git_ref: String,
    pub sha: String,
    pub mode: Mode,
    /// False when `on:` does not match the event/ref/paths: nothing runs.
    pub triggered: bool,
    /// Why the workflow is not triggered (when `triggered` is false).
    pub not_triggered_reason: Option<String>,
    /// Inputs after defaults and type checks (`inputs` context).
    pub inputs: serde_json::Map<String, Json>,
    /// Jobs in a topological order (file order among independent jobs). Jobs left out by
    /// `--job` are not listed. Listed even when `triggered` is false (shown as skipped).
    pub jobs: Vec<PlannedJob>,
    /// Ids of the jobs left out by `--job`, in file order.
    pub not_selected: Vec<String>,
    /// Jobs the pipeline file itself leaves out for this event and ref (GitLab's rules), with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<Excluded>,
}

impl Plan {
    /// A plan without jobs (a called workflow not read yet).
    pub fn empty() -> Plan {
        Plan {
            pipeline: String::new(),
            workflow_name: String::new(),
            event: String::new(),
            git_ref: String::new(),
            sha: String::new(),
            mode: Mode::Delivery,
            triggered: true,
            not_triggered_reason: None,
            inputs: serde_json::Map::new(),
            jobs: Vec::new(),
            not_selected: Vec::new(),
            excluded: Vec::new(),
        }
    }
}

/// An executor by its name (`docker`, `host`), or `none`.
fn executor_name<S: serde::Serializer>(executor: &Option<Executor>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(executor.map_or("none", Executor::name))
}

#[derive(Debug, Clone, Serialize)]
pub struct Excluded {
    pub job: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedJob {
    pub id: String,
    /// `name:` or the id (may still contain expressions; evaluated at run time).
    pub name: String,
    pub needs: Vec<String>,
    /// The job's `if:` as written, if any.
    pub condition: Option<String>,
    pub legs: Legs,
    /// `environment:` name, evaluated when plan time knows enough (else as written): a
    /// deployment job. Matrix legs may each have their own (see [`Leg::environment`]).
    pub environment: Option<String>,
    pub environment_url: Option<String>,
    /// The backend the job runs on; `None` (`none`): it calls a reusable workflow.
    #[serde(serialize_with = "executor_name")]
    pub executor: Option<Executor>,
    /// Image for Docker (from `container:` or the runs-on mapping); `None` on the host.
    pub image: Option<String>,
    pub runs_on: Vec<String>,
    /// Why `image` is missing or what is decided at run time (e.g. "map it with -P").
    pub platform_note: Option<String>,
    /// How the job's environment gate behaves under pipe.toml and the mode ("waits for approval
    /// (production; reviewers: alice)"); set by [`describe_gates`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
    /// The reusable workflow this job calls (`uses:`), with its planned jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<call::PlannedCall>,
    /// A job that runs only when asked for (GitLab's `when: manual`): the command that runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Legs {
    /// No matrix: one leg.
    Single,
    /// Expanded matrix combinations, in GitHub's order.
    Matrix { legs: Vec<Leg>, fail_fast: bool, max_parallel: Option<usize> },
    /// The matrix depends on expressions (e.g. `needs` outputs): expanded at run time.
    Dynamic { expression: String },
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Leg {
    /// Matrix values of this combination.
    pub matrix: serde_json::Map<String, Json>,
    /// Display name, e.g. `test (linux, 3.12)`.
    pub name: String,
    /// Where this leg runs (`runs-on`/`container:` may depend on the matrix).
    #[serde(serialize_with = "executor_name")]
    pub executor: Option<Executor>,
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_note: Option<String>,
    /// The leg's `environment:` name, evaluated when it can be at plan time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// How this leg's gate behaves, when its environment is not the job's (see [`describe_gates`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
}

/// Word each deployment job's gate with the policy of pipe.toml, the mode and `--approve`.
pub fn describe_gates(plan: &mut Plan, config: Option<&crate::gate::Config>, pre_approved: &[String]) {
    let (mode, git_ref) = (plan.mode, plan.git_ref.clone());
    describe_job_gates(&mut plan.jobs, &|env| {
        crate::gate::describe(env, config, mode, pre_approved, &git_ref)
    });
}

/// Gates of these jobs and of the jobs they call (both copies of a called plan).
fn describe_job_gates(jobs: &mut [PlannedJob], describe: &dyn Fn(&str) -> String) {
    for job in jobs {
        if let Some(env) = &job.environment {
            job.gate = Some(describe(env));
        }
        if let Some(call) = &mut job.call {
            describe_job_gates(&mut std::sync::Arc::make_mut(&mut call.plan).jobs, describe);
            describe_job_gates(&mut call.jobs, describe);
        }
        // Legs deploying somewhere else than the job's line says get their own wording.
        if let Legs::Matrix { legs, .. } = &mut job.legs {
            let mut per_leg = false;
            for leg in legs.iter_mut() {
                if let Some(env) = leg.environment.as_ref().filter(|e| Some(*e) != job.environment.as_ref()) {
                    leg.gate = Some(describe(env));
                    per_leg = true;
                }
            }
            if per_leg {
                job.gate = Some("one gate per environment of the legs (listed with them)".into());
            }
        }
    }
}
