//! How a job whose needs are done starts: skipped by its `if:`, failed when it cannot be
//! evaluated, or its legs (matrix expanded, named, placed) once every gate they deploy through
//! passed, is asked, or waits.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::gate::{GateContext, GateOutcome, GateQuestion, Prompter, decide_gate};
use super::job::Leg;
use super::{Shared, placement};
use crate::expr::{Location, Status};
use crate::model::Job;
use crate::plan::{Legs, PlannedJob};
use crate::scope::Scope;

pub(super) enum Start {
    Skip,
    Fail(String),
    /// Waiting at the gates of these environments.
    Wait(Vec<String>),
    /// Asking at the terminal (racing with `pipe approve`); the legs start once every question
    /// is answered, with the gates that passed already.
    Ask {
        legs: Vec<Leg>,
        passed: BTreeMap<String, Gated>,
        questions: Vec<(Arc<dyn Prompter>, GateQuestion)>,
    },
    Legs(Vec<Leg>),
}

pub(super) fn start_job(
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
    let legs = match legs(shared, pj, job, &scope, &needs_json) {
        Ok(l) if l.is_empty() => return Start::Skip,
        Ok(l) => l,
        Err(e) => return Start::Fail(e),
    };
    // One gate per environment the legs deploy to (a matrix may deploy to several).
    let mut passed: BTreeMap<String, Gated> = BTreeMap::new();
    let mut waiting = Vec::new();
    let mut questions = Vec::new();
    for leg in &legs {
        let Some(env_name) = leg.environment.clone() else { continue };
        let asked = questions.iter().any(|(_, q): &(_, GateQuestion)| q.environment == env_name);
        if passed.contains_key(&env_name) || waiting.contains(&env_name) || asked {
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
            GateOutcome::Ask(prompter, question) => questions.push((prompter, *question)),
        }
    }
    if !waiting.is_empty() {
        // Nobody can answer one of them: the run pauses at all of them.
        waiting.extend(questions.into_iter().map(|(_, q)| q.environment));
        return Start::Wait(waiting);
    }
    if !questions.is_empty() {
        return Start::Ask { legs, passed, questions };
    }
    Start::Legs(with_gates(shared, legs, &passed))
}

/// The legs job `pj` will start with `needs` (running needs counted as successes), if it starts
/// legs then and there: not when it is manual, a call, skipped by its `if:`, or when its legs
/// cannot be evaluated yet. Gates are not decided: legs that deploy say so in `environment`.
pub(super) fn expected_legs(shared: &Shared, pj: &PlannedJob, needs: &Map<String, Json>) -> Option<Vec<Leg>> {
    if pj.manual.is_some() || pj.call.is_some() || shared.cancel.is_cancelled() {
        return None;
    }
    let job = shared.pipeline.job(&pj.id)?;
    let needs_json = Json::Object(needs.clone());
    let all_succeeded = needs.values().all(|n| n["result"] == "success");
    let scope = shared.scope(&pj.id).with("needs", &needs_json).with_status(if all_succeeded {
        Status::Success
    } else {
        Status::Failure
    });
    let condition = job.condition.as_ref();
    if !all_succeeded && !scope.uses_status_function(condition.map(|c| c.value.as_str())) {
        return None;
    }
    if !scope.condition(Location::JobIf, condition).ok()? {
        return None;
    }
    let legs = legs(shared, pj, job, &scope, &needs_json).ok()?;
    Some(with_gates(shared, legs, &BTreeMap::new()))
}

/// The legs, ready to run: keys inside the run, and what the gates they passed give them.
pub(super) fn with_gates(shared: &Shared, mut legs: Vec<Leg>, passed: &BTreeMap<String, Gated>) -> Vec<Leg> {
    for leg in &mut legs {
        leg.key = format!("{}{}", shared.frame.key_prefix, leg.key);
        if let Some(g) = leg.environment.as_ref().and_then(|e| passed.get(e)) {
            leg.env_secrets = g.secrets.clone();
            leg.delay = g.delay;
            leg.approved_by = g.approved_by.clone();
        }
    }
    legs
}

/// What a passed gate gives the legs deploying there.
pub(super) struct Gated {
    approved_by: Option<String>,
    secrets: BTreeMap<String, String>,
    delay: Option<std::time::Duration>,
}

pub(super) fn gated(shared: &Shared, env_name: &str, approved_by: Option<String>) -> Result<Gated, String> {
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
            executor: Some(place.executor),
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
