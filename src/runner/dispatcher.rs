//! The scheduler: starts each job the moment its own `needs` are done (a true DAG, no stage
//! barriers), up to `--parallel` legs at once, honouring `max-parallel` and `fail-fast` per
//! matrix, job `if:`, gates, and Ctrl-C. One loop owns all state; legs report back through a
//! JoinSet.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::gate::{GateContext, GateOutcome, decide_gate};
use super::job::{Leg, LegResult};
use super::{Shared, placement};
use crate::event::{Conclusion, Event, RunResult};
use crate::expr::{Location, Status};
use crate::model::Job;
use crate::plan::{Legs, Plan, PlannedJob};
use crate::scope::Scope;
use crate::store::JobRecord;

/// How a job ended, as dependents see it (`needs.<id>.result`, `needs.<id>.outputs`).
#[derive(Debug, Clone)]
pub struct JobDone {
    pub result: Conclusion,
    pub outputs: Map<String, Json>,
}

enum JobState {
    Pending,
    Running {
        remaining: usize,
        failed: bool,
        cancelled: bool,
        /// A gate inside a called workflow waits for an answer.
        waiting: bool,
        outputs: Map<String, Json>,
        cancel: CancellationToken,
    },
    Waiting,
    Done(JobDone),
}

/// What the dispatcher ends with.
pub struct Finished {
    pub result: RunResult,
    pub jobs: BTreeMap<String, JobDone>,
    /// Legs that finished, for the run record.
    pub records: Vec<JobRecord>,
}

pub async fn dispatch(shared: Arc<Shared>, plan: &Plan, already: &BTreeMap<String, JobRecord>) -> Finished {
    let parallel = shared.parallel.max(1);
    let mut states: Vec<JobState> = plan.jobs.iter().map(|_| JobState::Pending).collect();
    let mut records = Vec::new();
    // Jobs finished in an earlier attempt of this run are not run again (resume).
    for (i, job) in plan.jobs.iter().enumerate() {
        let legs: Vec<&JobRecord> = already.values().filter(|r| r.job == job.id).collect();
        // A caller always runs again: its called jobs that finished are not re-run, and its
        // outputs are evaluated again from theirs.
        if legs.is_empty() || legs.iter().any(|r| r.result == Conclusion::Cancelled) || job.call.is_some() {
            continue;
        }
        let failed = legs.iter().any(|r| r.result == Conclusion::Failure);
        let mut outputs = Map::new();
        for r in &legs {
            if let Json::Object(o) = &r.outputs {
                outputs.extend(o.clone());
            }
        }
        let result = if failed {
            Conclusion::Failure
        } else if legs.iter().all(|r| r.result == Conclusion::Skipped) {
            Conclusion::Skipped
        } else {
            Conclusion::Success
        };
        states[i] = JobState::Done(JobDone { result, outputs });
        records.extend(legs.into_iter().cloned());
    }
    let mut queue: VecDeque<(usize, Leg)> = VecDeque::new();
    let mut running_per_job: Vec<usize> = vec![0; plan.jobs.len()];
    let mut tasks: JoinSet<(usize, Leg, LegResult, bool)> = JoinSet::new();
    let mut interrupted = false;
    let mut waiting = false;

    loop {
        // Decide every pending job whose needs are all done.
        if !interrupted {
            for i in 0..plan.jobs.len() {
                if !matches!(states[i], JobState::Pending) {
                    continue;
                }
                let pj = &plan.jobs[i];
                let Some(needs) = needs_done(plan, &states, pj) else { continue };
                let results = finished_results(plan, &states);
                match start_job(&shared, pj, &needs, &results) {
                    Start::Skip => {
                        emit_skipped(&shared, pj);
                        records.push(skipped_record(pj));
                        states[i] =
                            JobState::Done(JobDone { result: Conclusion::Skipped, outputs: Map::new() });
                    }
                    Start::Fail(message) => {
                        emit_failed(&shared, pj, &message);
                        states[i] =
                            JobState::Done(JobDone { result: Conclusion::Failure, outputs: Map::new() });
                    }
                    Start::Wait(environments) => {
                        waiting = true;
                        states[i] = JobState::Waiting;
                        if let Ok(mut r) = shared.record.lock() {
                            let several = environments.len() > 1;
                            for env in environments {
                                let id = format!("{}{}", shared.frame.id_prefix, pj.id);
                                let key = if several { format!("{id} ({env})") } else { id };
                                r.waiting.insert(key, env);
                            }
                        }
                    }
                    Start::Legs(legs) => {
                        let cancel = shared.cancel.child_token();
                        states[i] = JobState::Running {
                            remaining: legs.len(),
                            failed: false,
                            cancelled: false,
                            waiting: false,
                            outputs: Map::new(),
                            cancel,
                        };
                        queue.extend(legs.into_iter().map(|l| (i, l)));
                    }
                }
            }
        }
        // Start queued legs while there is room.
        let mut deferred = VecDeque::new();
        while tasks.len() < parallel {
            let Some((i, leg)) = queue.pop_front() else { break };
            let JobState::Running { cancel, .. } = &states[i] else { continue };
            let max = max_parallel(&plan.jobs[i]);
            if running_per_job[i] >= max {
                deferred.push_back((i, leg));
                continue;
            }
            running_per_job[i] += 1;
            let job = shared.pipeline.job(&plan.jobs[i].id).cloned();
            let call = plan.jobs[i].call.clone();
            let (shared2, cancel) = (shared.clone(), cancel.clone());
            tasks.spawn(async move {
                let (result, waiting) = match (job, call) {
                    (Some(job), Some(call)) => {
                        let done = super::call::run_call(shared2, &job, &leg, &call, cancel).await;
                        (done.leg, done.waiting)
                    }
                    (Some(job), None) => {
                        (super::retry::run_leg_with_retry(shared2, &job, &leg, cancel).await, false)
                    }
                    (None, _) => (LegResult::failed(), false),
                };
                (i, leg, result, waiting)
            });
        }
        deferred.extend(queue.drain(..));
        queue = deferred;

        if tasks.is_empty() {
            let stuck = states.iter().any(|s| matches!(s, JobState::Pending | JobState::Running { .. }));
            if !stuck || interrupted || queue.is_empty() {
                break;
            }
        }

        tokio::select! {
            Some(joined) = tasks.join_next() => {
                let Ok((i, leg, result, leg_waits)) = joined else { continue };
                running_per_job[i] = running_per_job[i].saturating_sub(1);
                // A leg that waits at a gate has not finished: nothing to record yet.
                if !leg_waits {
                    let record = JobRecord {
                        job: leg.job_id.clone(),
                        name: leg.name.clone(),
                        matrix: leg.matrix.clone().map(Json::Object),
                        result: result.result,
                        outputs: Json::Object(result.outputs.clone()),
                    };
                    persist(&shared, &record);
                    records.push(record);
                    if leg.environment.is_some() {
                        super::ledger::record_deployment(&shared, &leg, &result);
                    }
                }
                let pj = &plan.jobs[i];
                let continue_on_error = leg.continue_on_error;
                if let JobState::Running { remaining, failed, cancelled, waiting: job_waits, outputs, cancel } = &mut states[i] {
                    *remaining -= 1;
                    *job_waits |= leg_waits;
                    outputs.extend(result.outputs);
                    match result.result {
                        Conclusion::Failure if !continue_on_error => {
                            *failed = true;
                            if fail_fast(pj) {
                                cancel.cancel();
                                queue.retain(|(j, _)| *j != i);
                                *remaining = running_per_job[i];
                            }
                        }
                        Conclusion::Cancelled => *cancelled = true,
                        _ => {}
                    }
                    if *remaining == 0 && *job_waits && !*failed {
                        waiting = true;
                        states[i] = JobState::Waiting;
                    } else if *remaining == 0 {
                        let result = if *failed {
                            Conclusion::Failure
                        } else if *cancelled {
                            Conclusion::Cancelled
                        } else {
                            Conclusion::Success
                        };
                        states[i] = JobState::Done(JobDone { result, outputs: std::mem::take(outputs) });
                    }
                }
            }
            () = shared.cancel.cancelled(), if !interrupted => {
                interrupted = true;
                queue.clear();
                for (i, s) in states.iter_mut().enumerate() {
                    if matches!(s, JobState::Pending) {
                        let pj = &plan.jobs[i];
                        shared.emitter.emit(Event::JobFinished {
                            job: pj.id.clone(), name: pj.name.clone(), matrix: None,
                            result: Conclusion::Cancelled, outputs: json!({}), duration_ms: 0,
                        });
                        *s = JobState::Done(JobDone { result: Conclusion::Cancelled, outputs: Map::new() });
                    }
                }
            }
        }
    }

    let mut jobs = BTreeMap::new();
    let mut any_failed = false;
    for (pj, s) in plan.jobs.iter().zip(&states) {
        if let JobState::Done(d) = s {
            any_failed |= d.result == Conclusion::Failure;
            jobs.insert(pj.id.clone(), d.clone());
        }
    }
    let result = if interrupted {
        RunResult::Cancelled
    } else if any_failed {
        RunResult::Failure
    } else if waiting {
        RunResult::Waiting
    } else {
        RunResult::Success
    };
    Finished { result, jobs, records }
}

/// The `needs` context of a job when all its needs are done, else `None`.
fn needs_done(plan: &Plan, states: &[JobState], pj: &PlannedJob) -> Option<Map<String, Json>> {
    let mut ctx = Map::new();
    for need in &pj.needs {
        let i = plan.jobs.iter().position(|j| &j.id == need)?;
        match &states[i] {
            JobState::Done(d) => {
                ctx.insert(need.clone(), json!({"result": d.result.as_str(), "outputs": d.outputs}));
            }
            _ => return None,
        }
    }
    Some(ctx)
}

/// Results of every finished job, by id.
fn finished_results(plan: &Plan, states: &[JobState]) -> BTreeMap<String, String> {
    plan.jobs
        .iter()
        .zip(states)
        .filter_map(|(j, s)| match s {
            JobState::Done(d) => Some((j.id.clone(), d.result.as_str().to_string())),
            _ => None,
        })
        .collect()
}

/// Keep the run record current after every leg: a run killed now resumes from here.
fn persist(shared: &Shared, record: &JobRecord) {
    let Ok(mut r) = shared.record.lock() else { return };
    let key = match &record.matrix {
        Some(m) => format!("{} {}", record.job, m),
        None => record.job.clone(),
    };
    // Inside a called workflow, ids and keys carry the caller's prefixes.
    let frame = &shared.frame;
    let job = format!("{}{}", frame.id_prefix, record.job);
    let name = format!("{}{}", frame.name_prefix, record.name);
    r.jobs.insert(format!("{}{key}", frame.record_prefix), JobRecord { job, name, ..record.clone() });
    if let Err(e) = shared.store.write_record(&r) {
        shared.notice("warning", format!("the run record could not be saved: {e}"));
    }
}

pub(super) enum Start {
    Skip,
    Fail(String),
    /// Waiting at the gates of these environments.
    Wait(Vec<String>),
    Legs(Vec<Leg>),
}

fn start_job(
    shared: &Arc<Shared>,
    pj: &PlannedJob,
    needs: &Map<String, Json>,
    all_results: &BTreeMap<String, String>,
) -> Start {
    if let Some(command) = &pj.manual {
        return super::manual::not_run(shared, pj, command);
    }
    let Some(job) = shared.pipeline.job(&pj.id) else {
        return Start::Fail(format!("job `{}` is not in the pipeline", pj.id));
    };
    let needs_json = Json::Object(needs.clone());
    let results: Vec<&str> = needs.values().filter_map(|n| n["result"].as_str()).collect();
    let status = if shared.cancel.is_cancelled() {
        Status::Cancelled
    } else if results.iter().any(|r| *r == "failure" || *r == "cancelled") {
        Status::Failure
    } else {
        Status::Success
    };
    let all_succeeded = results.iter().all(|r| *r == "success");
    let scope = shared.scope(&pj.id).with("needs", &needs_json).with_status(status);
    // Without a status function, a need that did not succeed skips the job (implicit success()).
    let condition = job.condition.as_ref();
    if !all_succeeded && !scope.uses_status_function(condition.map(|c| c.value.as_str())) {
        return Start::Skip;
    }
    match scope.condition(Location::JobIf, condition) {
        Ok(true) => {}
        Ok(false) => return Start::Skip,
        Err(e) => return Start::Fail(e.describe("the job's `if:` cannot be evaluated")),
    }
    let mut legs = match legs(shared, pj, job, &scope, &needs_json) {
        Ok(l) if l.is_empty() => return Start::Skip,
        Ok(l) => l,
        Err(e) => return Start::Fail(e),
    };
    // One gate per environment the legs deploy to (a matrix may deploy to several).
    let mut passed: BTreeMap<String, Gated> = BTreeMap::new();
    let mut waiting = Vec::new();
    for leg in &legs {
        let Some(env_name) = leg.environment.clone() else { continue };
        if passed.contains_key(&env_name) || waiting.contains(&env_name) {
            continue;
        }
        // The url may read `steps`: known after the job; the prompt shows it when it can.
        let url = job.environment.as_ref().and_then(|e| e.url.as_ref());
        let url = url.and_then(|u| leg.scope.text(Location::JobEnvironmentUrl, u).ok());
        let gate_ctx = GateContext { needs, results: all_results, url };
        match decide_gate(shared, pj, &env_name, &gate_ctx) {
            GateOutcome::Pass { approved_by } => match gated(shared, &env_name, approved_by) {
                Ok(g) => {
                    passed.insert(env_name, g);
                }
                Err(e) => return Start::Fail(e),
            },
            GateOutcome::Refused(why) => return Start::Fail(why),
            GateOutcome::Wait => waiting.push(env_name),
        }
    }
    if !waiting.is_empty() {
        return Start::Wait(waiting);
    }
    for leg in &mut legs {
        leg.key = format!("{}{}", shared.frame.key_prefix, leg.key);
        if let Some(g) = leg.environment.as_ref().and_then(|e| passed.get(e)) {
            leg.env_secrets = g.secrets.clone();
            leg.delay = g.delay;
            leg.approved_by = g.approved_by.clone();
        }
    }
    Start::Legs(legs)
}

/// What a passed gate gives the legs deploying there.
struct Gated {
    approved_by: Option<String>,
    secrets: BTreeMap<String, String>,
    delay: Option<std::time::Duration>,
}

fn gated(shared: &Shared, env_name: &str, approved_by: Option<String>) -> Result<Gated, String> {
    let mut g = Gated { approved_by, secrets: BTreeMap::new(), delay: None };
    if let Some(p) = shared.config.as_ref().and_then(|c| c.environment(env_name)) {
        // Secrets of this environment: seen by its jobs only, masked like every secret.
        let pairs = crate::gate::load_env_secrets(p).map_err(|e| format!("secrets of `{env_name}`: {e}"))?;
        for (k, v) in pairs {
            shared.masker.add(&v);
            g.secrets.insert(k, v);
        }
        g.delay = p.wait_timer;
    }
    Ok(g)
}

/// The legs of a job, each with its scope (`matrix`, `strategy`) and what depends on it: name,
/// placement, environment, `continue-on-error`.
fn legs(
    shared: &Shared,
    pj: &PlannedJob,
    job: &Job,
    scope: &Scope,
    needs: &Json,
) -> Result<Vec<Leg>, String> {
    let matrices: Vec<Option<Map<String, Json>>> = match &pj.legs {
        Legs::Single => vec![None],
        Legs::Matrix { .. } | Legs::Dynamic { .. } if crate::plan::legs::is_evaluated(job) => {
            crate::plan::legs::evaluate(job, scope)?.into_iter().map(Some).collect()
        }
        Legs::Matrix { legs, .. } => legs.iter().map(|l| Some(l.matrix.clone())).collect(),
        Legs::Dynamic { .. } => crate::plan::legs::evaluate(job, scope)?.into_iter().map(Some).collect(),
    };
    let total = matrices.len();
    let mut out = Vec::with_capacity(total);
    for (i, matrix) in matrices.into_iter().enumerate() {
        let mut leg_scope =
            scope.clone().with("strategy", &crate::plan::legs::strategy_context(&pj.legs, i, total));
        if let Some(m) = &matrix {
            leg_scope.set("matrix", &Json::Object(m.clone()));
        }
        let name = leg_name(job, matrix.as_ref(), &leg_scope)?;
        let place = placement::of_leg(shared, job, &leg_scope)?;
        let environment = match &job.environment {
            Some(e) => Some(
                leg_scope
                    .text(Location::JobEnvironment, &e.name)
                    .map_err(|e| e.describe("the job's `environment` cannot be evaluated"))?,
            ),
            None => None,
        };
        let continue_on_error = match &job.continue_on_error {
            Some(f) => leg_scope
                .flag(Location::JobContinueOnError, f)
                .map_err(|e| e.describe("the job's `continue-on-error` cannot be evaluated"))?,
            None => false,
        };
        let key = if matrix.is_some() { format!("{}-{}", sanitize(&pj.id), i + 1) } else { sanitize(&pj.id) };
        out.push(Leg {
            key,
            job_id: pj.id.clone(),
            name,
            matrix,
            scope: leg_scope,
            needs: needs.clone(),
            image: place.image,
            executor: place.executor.to_string(),
            environment,
            approved_by: None,
            continue_on_error,
            env_secrets: BTreeMap::new(),
            delay: None,
        });
    }
    Ok(out)
}

/// `name:` evaluated in the leg's scope; a matrix leg without an expression in its name gets its
/// values appended (`test (linux, 3.12)`), as on GitHub.
fn leg_name(job: &Job, matrix: Option<&Map<String, Json>>, scope: &Scope) -> Result<String, String> {
    let name = match &job.name {
        Some(n) if n.value.contains("${{") => {
            return scope
                .text(Location::JobName, n)
                .map_err(|e| e.describe("the job's `name` cannot be evaluated"));
        }
        Some(n) => n.value.as_str(),
        None => job.id.value.as_str(),
    };
    Ok(match matrix {
        Some(m) => crate::plan::matrix::leg_name(name, m),
        None => name.to_string(),
    })
}

/// A file-name-safe version of an id.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .collect()
}

fn max_parallel(pj: &PlannedJob) -> usize {
    match &pj.legs {
        Legs::Matrix { max_parallel: Some(m), .. } => (*m).max(1),
        _ => usize::MAX,
    }
}

fn fail_fast(pj: &PlannedJob) -> bool {
    match &pj.legs {
        Legs::Matrix { fail_fast, .. } => *fail_fast,
        _ => true,
    }
}

fn emit_skipped(shared: &Shared, pj: &PlannedJob) {
    shared.emitter.emit(Event::JobFinished {
        job: pj.id.clone(),
        name: pj.name.clone(),
        matrix: None,
        result: Conclusion::Skipped,
        outputs: json!({}),
        duration_ms: 0,
    });
}

fn skipped_record(pj: &PlannedJob) -> JobRecord {
    JobRecord {
        job: pj.id.clone(),
        name: pj.name.clone(),
        matrix: None,
        result: Conclusion::Skipped,
        outputs: json!({}),
    }
}

fn emit_failed(shared: &Shared, pj: &PlannedJob, message: &str) {
    shared.emitter.emit(Event::Annotation {
        job: pj.id.clone(),
        name: pj.name.clone(),
        step: 0,
        level: "error".into(),
        message: message.to_string(),
    });
    shared.emitter.emit(Event::JobFinished {
        job: pj.id.clone(),
        name: pj.name.clone(),
        matrix: None,
        result: Conclusion::Failure,
        outputs: json!({}),
        duration_ms: 0,
    });
}
