//! The plan of a validated pipeline: trigger decision, inputs, `--job` selection, jobs in DAG
//! order with their legs and placement.
//!
//! A workflow that `on:` does not trigger still lists its jobs (`triggered: false`), so `pipe plan`
//! can show what would have run; the runner runs nothing for it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use super::call::{self, Chain};
use super::trigger::{self, Decision, Event};
use super::{Legs, Plan, PlanInput, PlannedJob, inputs, legs, platform, select};
use serde_json::Value as Json;

use crate::Error;
use crate::expr::Location;
use crate::graph::Graph;
use crate::model::{Pipeline, Text};
use crate::scope::{Compiled, RunFacts, Scope};

pub fn build(p: &Pipeline, input: &PlanInput) -> Result<Plan, Error> {
    let event = Event {
        name: &input.event,
        git_ref: &input.git_ref,
        changed_files: input.changed_files.as_deref(),
        payload: input.event_payload.as_ref(),
    };
    let decision = trigger::check(&p.on, event).map_err(|m| Error::Usage {
        message: format!("{}: on: {m}", input.pipeline_path),
        hint: Some("fix the filter pattern (see GitHub's filter pattern cheat sheet)".into()),
    })?;
    let inputs = if input.event == "workflow_dispatch" {
        let declared = p.trigger("workflow_dispatch").map_or(&[][..], |t| &t.inputs[..]);
        inputs::resolve(declared, &input.inputs)?
    } else {
        inputs::refuse(&input.event, &input.inputs)?
    };
    let keep = select::select(p, &input.jobs)?;
    let facts = plan_facts(p, input, &inputs);
    let mut jobs = Vec::new();
    // A workflow that is not triggered runs nothing: its remote calls are not fetched for it.
    let runs = matches!(decision, Decision::Runs) && p.not_run.is_none();
    let mut chain = Chain::new(&input.pipeline_path, input, runs);
    for i in order(p)? {
        if keep[i] {
            jobs.push(plan_job(p, i, input, &facts, &mut chain)?);
        }
    }
    let not_selected =
        p.jobs.iter().zip(&keep).filter(|(_, k)| !**k).map(|(j, _)| j.id.value.clone()).collect();
    let (triggered, not_triggered_reason) = match (decision, &p.not_run) {
        (_, Some(reason)) => (false, Some(reason.clone())),
        (Decision::Runs, None) => (true, None),
        (Decision::Skipped(reason), None) => (false, Some(reason)),
    };
    let excluded = p
        .excluded
        .iter()
        .map(|(job, reason)| super::Excluded { job: job.clone(), reason: reason.clone() })
        .collect();
    Ok(Plan {
        pipeline: input.pipeline_path.clone(),
        workflow_name: p.name.as_ref().map_or_else(|| input.pipeline_path.clone(), |n| n.value.clone()),
        event: input.event.clone(),
        git_ref: input.git_ref.clone(),
        sha: input.sha.clone(),
        mode: input.mode,
        triggered,
        not_triggered_reason,
        inputs,
        jobs,
        not_selected,
        excluded,
    })
}

pub(super) fn plan_job(
    p: &Pipeline,
    i: usize,
    input: &PlanInput,
    facts: &RunFacts,
    chain: &mut Chain,
) -> Result<PlannedJob, Error> {
    let job = &p.jobs[i];
    // Only jobs with expressions in these keys need the contexts plan time knows.
    let scope = if uses_expressions(job) {
        facts.scope(Arc::new(Compiled::default()), &job.id.value)
    } else {
        Scope::default()
    };
    let mut legs = legs::legs(job, Some(&scope)).map_err(|m| Error::Usage {
        message: format!("{}: job `{}`: {m}", p.path_of(&input.pipeline_path, job.id.span), job.id.value),
        hint: None,
    })?;
    let place = |scope: &Scope| {
        platform::place(job, scope, &input.platforms, input.executor)
            .unwrap_or_else(|_| platform::at_run_time(job, input.executor))
    };
    let environment = |scope: &Scope| {
        job.environment
            .as_ref()
            .map(|e| scope.text(Location::JobEnvironment, &e.name).unwrap_or_else(|_| e.name.value.clone()))
    };
    let mut placement = place(&scope);
    let call = match &job.uses {
        Some(uses) => Some(call::plan_call(job, uses, input, chain)?),
        None => None,
    };
    let mut job_environment = environment(&scope);
    let mut name = job.display_name().to_string();
    if let Ok(n) = scope.text(Location::JobName, job.name.as_ref().unwrap_or(&job.id)) {
        name = n;
    }
    let legs_for_strategy = legs.clone();
    if let Legs::Matrix { legs: list, .. } = &mut legs {
        let total = list.len();
        for (index, leg) in list.iter_mut().enumerate() {
            let leg_scope = scope
                .clone()
                .with("matrix", &Json::Object(leg.matrix.clone()))
                .with("strategy", &legs::strategy_context(&legs_for_strategy, index, total));
            let at = place(&leg_scope);
            leg.executor = Some(at.executor);
            leg.image = at.image;
            leg.platform_note = at.note;
            leg.environment = environment(&leg_scope);
            if let Some(n) = job.name.as_ref().filter(|n| n.value.contains("${{")) {
                leg.name = leg_scope.text(Location::JobName, n).unwrap_or_else(|_| leg.name.clone());
            }
        }
        // The job's own line: what every leg shares, or "per leg".
        if let Some(first) = list.first() {
            let same = |f: &dyn Fn(&super::Leg) -> Option<String>| list.iter().all(|l| f(l) == f(first));
            if same(&|l| l.image.clone()) && same(&|l| l.executor.map(|e| e.name().to_string())) {
                placement = platform::Placement {
                    executor: first.executor.unwrap_or(placement.executor),
                    image: first.image.clone(),
                    note: first.platform_note.clone(),
                };
            } else {
                // The job's line names a backend that runs images when any leg is on one.
                let executor = list
                    .iter()
                    .filter_map(|l| l.executor)
                    .find(|e| e.runs_images())
                    .or(first.executor)
                    .unwrap_or(placement.executor);
                placement = platform::Placement {
                    executor,
                    image: None,
                    note: Some("runs-on/container is chosen per matrix leg".into()),
                };
            }
            if same(&|l| l.environment.clone()) {
                job_environment = first.environment.clone();
            }
        }
    }
    let mut executor = Some(placement.executor);
    if call.is_some() {
        // A caller runs no steps itself: its called jobs are placed one by one.
        executor = None;
        placement.image = None;
        placement.note = None;
        if let Legs::Matrix { legs: list, .. } = &mut legs {
            for leg in list {
                leg.executor = None;
                leg.image = None;
                leg.platform_note = None;
            }
        }
    }
    let mut planned = PlannedJob {
        id: job.id.value.clone(),
        name,
        needs: job.needs.iter().map(|n| n.value.clone()).collect(),
        condition: job.condition.as_ref().map(|c| c.value.clone()),
        legs,
        environment: job_environment,
        environment_url: job.environment.as_ref().and_then(|e| e.url.as_ref()).map(|u| u.value.clone()),
        executor,
        image: placement.image,
        runs_on: job.runs_on.iter().map(|l| l.value.clone()).collect(),
        platform_note: placement.note,
        gate: None,
        call,
        manual: job
            .manual
            .then(|| format!("pipe run {} --job {}", input.pipeline_path, shell_word(&job.id.value))),
    };
    if let Some(call) = &mut planned.call {
        call.jobs = call::shown_jobs(&planned.id, &planned.name, &call.plan);
    }
    Ok(planned)
}

/// A job id as one shell word (GitLab job names may hold spaces).
fn shell_word(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Whether a job's name, placement, environment or matrix has `${{ }}` in it.
fn uses_expressions(job: &crate::model::Job) -> bool {
    let dynamic = |t: &Text| t.value.contains("${{");
    job.name.as_ref().is_some_and(dynamic)
        || job.runs_on.iter().any(dynamic)
        || job.container.as_ref().is_some_and(|c| dynamic(&c.image))
        || job.environment.as_ref().is_some_and(|e| dynamic(&e.name))
        || job.strategy.as_ref().is_some_and(|s| s.matrix.is_some())
}

/// The run-wide facts plan time knows (no run id, repository or actor yet).
pub(super) fn plan_facts(
    p: &Pipeline,
    input: &PlanInput,
    inputs: &serde_json::Map<String, Json>,
) -> RunFacts {
    RunFacts {
        run_id: String::new(),
        run_number: 0,
        workflow: p.name.as_ref().map_or_else(|| input.pipeline_path.clone(), |n| n.value.clone()),
        event_name: input.event.clone(),
        git_ref: input.git_ref.clone(),
        sha: input.sha.clone(),
        repository: String::new(),
        actor: String::new(),
        event: input.event_payload.clone().unwrap_or_else(|| serde_json::json!({})),
        inputs: inputs.clone(),
        vars: input.vars.clone(),
    }
}

/// Job positions in a topological order, file order among jobs that are ready together (Kahn's
/// algorithm with a min-heap). A cycle is an error naming its jobs, never a panic.
pub fn order(p: &Pipeline) -> Result<Vec<usize>, Error> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(p.jobs.len());
    for (i, j) in p.jobs.iter().enumerate() {
        index.entry(j.id.as_str()).or_insert(i);
    }
    // Edges from a need to the jobs that need it; a need listed twice counts once.
    let mut graph = Graph::new(p.jobs.len());
    let mut waiting = vec![0usize; p.jobs.len()];
    for (i, j) in p.jobs.iter().enumerate() {
        let mut seen = HashSet::with_capacity(j.needs.len());
        // Unknown needs are the validator's business; they add no edge here.
        for &need in j.needs.iter().map(Text::as_str).filter_map(|n| index.get(n)) {
            if seen.insert(need) {
                graph.add_edge(need, i);
                waiting[i] += 1;
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        waiting.iter().enumerate().filter(|(_, w)| **w == 0).map(|(i, _)| Reverse(i)).collect();
    let mut out = Vec::with_capacity(p.jobs.len());
    while let Some(Reverse(i)) = ready.pop() {
        out.push(i);
        for &n in graph.neighbors(i) {
            waiting[n] -= 1;
            if waiting[n] == 0 {
                ready.push(Reverse(n));
            }
        }
    }
    if out.len() < p.jobs.len() {
        return Err(cycle_error(p, &graph));
    }
    Ok(out)
}

fn cycle_error(p: &Pipeline, graph: &Graph) -> Error {
    let cycle = graph
        .strongly_connected()
        .into_iter()
        .find(|scc| scc.len() > 1 || scc.iter().any(|&n| graph.has_edge(n, n)))
        .unwrap_or_default();
    let mut ids: Vec<&str> = cycle.iter().map(|&n| p.jobs[n].id.as_str()).collect();
    ids.sort_unstable();
    Error::Usage {
        message: format!("the jobs {} need each other in a cycle", ids.join(", ")),
        hint: Some("`pipe validate` shows where".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    fn pipeline(jobs: &str) -> Pipeline {
        let yaml = format!("on: push\njobs:\n{jobs}");
        crate::load::load(&Source::new("t.yml", yaml)).pipeline.expect("pipeline")
    }

    fn job(id: &str, needs: &str) -> String {
        format!("  {id}:\n    needs: [{needs}]\n    runs-on: ubuntu-latest\n    steps: [{{run: x}}]\n")
    }

    fn ids(p: &Pipeline) -> Result<Vec<String>, String> {
        order(p)
            .map(|o| o.into_iter().map(|i| p.jobs[i].id.value.clone()).collect())
            .map_err(|e| e.to_string())
    }

    /// One row per case: jobs as (id, needs) in file order → expected order or error.
    macro_rules! cases {
        ($($name:ident: [$(($id:expr, $needs:expr)),+] => $want:expr;)+) => {
            $(
                #[test]
                fn $name() {
                    let p = pipeline(&[$(job($id, $needs)),+].concat());
                    let want: Result<Vec<&str>, &str> = $want;
                    assert_eq!(ids(&p), want.map(|v| v.iter().map(|s| s.to_string()).collect()).map_err(String::from));
                }
            )+
        };
    }

    cases! {
        file_order: [("a", ""), ("b", ""), ("c", "")] => Ok(vec!["a", "b", "c"]);
        needs_first: [("deploy", "build"), ("build", "")] => Ok(vec!["build", "deploy"]);
        diamond: [("d", "b, c"), ("c", "a"), ("b", "a"), ("a", "")] => Ok(vec!["a", "c", "b", "d"]);
        ready_in_file_order: [("x", "a"), ("a", ""), ("y", "")] => Ok(vec!["a", "x", "y"]);
        unknown_need_ignored: [("a", "ghost")] => Ok(vec!["a"]);
        cycle: [("a", "b"), ("b", "a"), ("c", "")] => Err("the jobs a, b need each other in a cycle");
        self_cycle: [("a", "a")] => Err("the jobs a need each other in a cycle");
    }

    fn input() -> PlanInput {
        PlanInput {
            pipeline_path: "t.yml".into(),
            event: "push".into(),
            git_ref: "refs/heads/main".into(),
            sha: "0".repeat(40),
            ..PlanInput::default()
        }
    }

    #[test]
    fn plan_of_a_small_pipeline() {
        let p = pipeline(&[job("build", ""), job("deploy", "build"), job("docs", "")].concat());
        let mut i = input();
        i.jobs = vec!["deploy".into()];
        let plan = build(&p, &i).expect("plan");
        assert!(plan.triggered);
        assert_eq!(plan.jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["build", "deploy"]);
        assert_eq!(plan.not_selected, ["docs"]);
        assert_eq!(plan.jobs[1].needs, ["build"]);
        assert_eq!(plan.jobs[0].image.as_deref(), Some("ubuntu:24.04"));
    }

    #[test]
    fn not_triggered_still_lists_jobs() {
        let p = pipeline(&job("a", ""));
        let mut i = input();
        i.event = "pull_request".into();
        let plan = build(&p, &i).expect("plan");
        assert!(!plan.triggered);
        assert_eq!(plan.jobs.len(), 1);
        assert!(plan.not_triggered_reason.is_some());
    }

    #[test]
    fn inputs_only_for_dispatch() {
        let p = pipeline(&job("a", ""));
        let mut i = input();
        i.inputs.insert("x".into(), "1".into());
        assert!(build(&p, &i).is_err());
    }
}
