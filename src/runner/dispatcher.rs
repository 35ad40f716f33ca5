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
use super::{Shared, contexts, eval};
use crate::event::{Conclusion, Event, RunResult};
use crate::expr::Status;
use crate::plan::{Legs, Plan, PlannedJob};
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
        if legs.is_empty() || legs.iter().any(|r| r.result == Conclusion::Cancelled) {
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
    let mut tasks: JoinSet<(usize, Leg, LegResult)> = JoinSet::new();
    let mut interrupted = false;
    let mut waiting = false;
    // Who approved each deployment job's gate (for the ledger).
    let mut approvals: BTreeMap<usize, Option<String>> = BTreeMap::new();

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
                    Start::Wait => {
                        waiting = true;
                        states[i] = JobState::Waiting;
                        if let Ok(mut r) = shared.record.lock() {
                            r.waiting.insert(pj.id.clone(), pj.environment.clone().unwrap_or_default());
                        }
                    }
                    Start::Legs(legs, approved_by) => {
                        approvals.insert(i, approved_by);
                        let cancel = shared.cancel.child_token();
                        states[i] = JobState::Running {
                            remaining: legs.len(),
                            failed: false,
                            cancelled: false,
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
            let (shared2, cancel) = (shared.clone(), cancel.clone());
            tasks.spawn(async move {
                let result = match job {
                    Some(job) => super::retry::run_leg_with_retry(shared2, &job, &leg, cancel).await,
                    None => LegResult { result: Conclusion::Failure, outputs: Map::new() },
                };
                (i, leg, result)
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
                let Ok((i, leg, result)) = joined else { continue };
                running_per_job[i] = running_per_job[i].saturating_sub(1);
                let record = JobRecord {
                    job: leg.job_id.clone(),
                    name: leg.name.clone(),
                    matrix: leg.matrix.clone().map(Json::Object),
                    result: result.result,
                    outputs: Json::Object(result.outputs.clone()),
                };
                persist(&shared, &record);
                records.push(record);
                let pj = &plan.jobs[i];
                let continue_on_error = continue_on_error(&shared, pj, &leg);
                if let JobState::Running { remaining, failed, cancelled, outputs, cancel } = &mut states[i] {
                    *remaining -= 1;
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
                    if *remaining == 0 {
                        let result = if *failed {
                            Conclusion::Failure
                        } else if *cancelled {
                            Conclusion::Cancelled
                        } else {
                            Conclusion::Success
                        };
                        let done = JobDone { result, outputs: std::mem::take(outputs) };
                        if pj.environment.is_some() {
                            super::ledger::record_deployment(&shared, pj, &leg, &done, approvals.get(&i).cloned().flatten());
                        }
                        states[i] = JobState::Done(done);
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
    r.jobs.insert(key, record.clone());
    if let Err(e) = shared.store.write_record(&r) {
        eprintln!("warning: the run record could not be saved: {e}");
    }
}

pub(super) enum Start {
    Skip,
    Fail(String),
    Wait,
    Legs(Vec<Leg>, Option<String>),
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
    let needs_json = Json::Object(needs.clone());
    let results: Vec<&str> = needs.values().filter_map(|n| n["result"].as_str()).collect();
    let status = if shared.cancel.is_cancelled() {
        Status::Cancelled
    } else if results.iter().any(|r| *r == "failure" || *r == "cancelled") {
        Status::Failure
    } else {
        Status::Success
    };
    let condition = pj.condition.as_deref();
    let all_succeeded = results.iter().all(|r| *r == "success");
    let inputs = Json::Object(shared.facts.inputs.clone());
    let github = shared.facts.github(&pj.id, "");
    let vars = contexts::object(&shared.facts.vars);
    let ctx = contexts::build(
        &[("github", &github), ("needs", &needs_json), ("vars", &vars), ("inputs", &inputs)],
        status,
        None,
    );
    // Without a status function, a need that did not succeed skips the job (implicit success()).
    if !all_succeeded && !eval::uses_status_function(condition) {
        return Start::Skip;
    }
    match eval::condition(condition, &ctx) {
        Ok(true) => {}
        Ok(false) => return Start::Skip,
        Err(e) => return Start::Fail(format!("the job's `if:` cannot be evaluated: {e}")),
    }
    let mut approved_by = None;
    let mut env_secrets = BTreeMap::new();
    let mut delay = None;
    if let Some(env) = &pj.environment {
        let env_name = eval::text(env, &ctx).unwrap_or_else(|_| env.clone());
        let url = pj.environment_url.as_ref().map(|u| eval::text(u, &ctx).unwrap_or_else(|_| u.clone()));
        let gate_ctx = GateContext { needs, results: all_results, url };
        match decide_gate(shared, pj, &env_name, &gate_ctx) {
            GateOutcome::Pass { approved_by: by } => approved_by = by,
            GateOutcome::Refused(why) => return Start::Fail(why),
            GateOutcome::Wait => return Start::Wait,
        }
        let policy = shared.config.as_ref().and_then(|c| c.environment(&env_name));
        if let Some(p) = policy {
            // Secrets of this environment: seen by its jobs only, masked like every secret.
            match crate::gate::load_env_secrets(p) {
                Ok(pairs) => {
                    for (k, v) in pairs {
                        shared.masker.add(&v);
                        env_secrets.insert(k, v);
                    }
                }
                Err(e) => return Start::Fail(format!("secrets of `{env_name}`: {e}")),
            }
            delay = p.wait_timer;
        }
    }
    match legs(pj, &needs_json, &ctx) {
        Ok(l) if l.is_empty() => Start::Skip,
        Ok(mut l) => {
            for leg in &mut l {
                leg.env_secrets = env_secrets.clone();
                leg.delay = delay;
            }
            Start::Legs(l, approved_by)
        }
        Err(e) => Start::Fail(e),
    }
}

fn legs(pj: &PlannedJob, needs: &Json, ctx: &crate::expr::MapContext) -> Result<Vec<Leg>, String> {
    let single = |matrix: Option<Map<String, Json>>, name: String, key: String, idx: usize, total: usize| {
        Leg {
            key,
            job_id: pj.id.clone(),
            name,
            matrix,
            strategy: json!({"fail-fast": fail_fast(pj), "job-index": idx, "job-total": total, "max-parallel": max_parallel(pj).min(total)}),
            needs: needs.clone(),
            image: pj.image.clone(),
            executor: pj.executor.clone(),
            env_secrets: BTreeMap::new(),
            delay: None,
        }
    };
    let name = eval::text(&pj.name, ctx).unwrap_or_else(|_| pj.name.clone());
    let matrices: Vec<(Map<String, Json>, String)> = match &pj.legs {
        Legs::Single => return Ok(vec![single(None, name, sanitize(&pj.id), 0, 1)]),
        Legs::Matrix { legs, .. } => legs.iter().map(|l| (l.matrix.clone(), l.name.clone())).collect(),
        Legs::Dynamic { expression } => {
            let value = eval::value(expression, ctx)?;
            let rows = super::matrix_runtime::expand_value(&value)?;
            rows.into_iter()
                .map(|m| {
                    let label = crate::plan::matrix::leg_name(&name, &m);
                    (m, label)
                })
                .collect()
        }
    };
    let total = matrices.len();
    Ok(matrices
        .into_iter()
        .enumerate()
        .map(|(i, (m, label))| {
            single(Some(m), label.clone(), format!("{}-{}", sanitize(&pj.id), i + 1), i, total)
        })
        .collect())
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

fn continue_on_error(shared: &Shared, pj: &PlannedJob, leg: &Leg) -> bool {
    let Some(job) = shared.pipeline.job(&pj.id) else { return false };
    match &job.continue_on_error {
        Some(crate::model::Flag::Value(b, _)) => *b,
        Some(crate::model::Flag::Expr(t)) => {
            let matrix = leg.matrix.clone().map_or(json!({}), Json::Object);
            let ctx = contexts::build(&[("matrix", &matrix), ("needs", &leg.needs)], Status::Success, None);
            eval::value(&t.value, &ctx).map(|v| crate::expr::Value::from(&v).is_truthy()).unwrap_or(false)
        }
        None => false,
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
