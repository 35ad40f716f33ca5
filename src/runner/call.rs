//! A job leg that calls a reusable workflow: its `with:` and `secrets:` evaluated in the caller's
//! contexts, the called workflow's jobs dispatched as a run of their own inside this one (same
//! run id, state, masks, backends; `inputs` and `secrets` of the call; the caller's `github`),
//! then its `on.workflow_call.outputs` evaluated over the called jobs as the caller's outputs.
//!
//! Called jobs are named `caller / job` in events, logs and the run record, and their ids are
//! `caller/job`; a [`Frame`] carries those prefixes down, one level per call.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value as Json, json};

use super::Shared;
use super::cancel::Cancel;
use super::dispatcher::{Finished, dispatch};
use super::job::{Leg, LegResult};
use crate::event::{Conclusion, Event, RunResult};
use crate::expr::Location;
use crate::model::{CallSecrets, Job};
use crate::plan::call::PlannedCall;
use crate::reusable::{Interface, inputs};
use crate::store::JobRecord;

/// Where a dispatcher runs: the top of the run, or inside a call (then every id, key and
/// record it writes carries the caller's prefix).
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// Added to job ids in the run record: `caller/` (nested: `outer/inner/`).
    pub id_prefix: String,
    /// Added to job names in the run record: `caller / ` (with the caller leg's matrix values).
    pub name_prefix: String,
    /// Added to run-record keys: unique per caller leg, so matrix legs of a caller do not mix.
    pub record_prefix: String,
    /// Added to leg keys (scratch folders, container names, log folders).
    pub key_prefix: String,
}

/// How a call ended: the caller leg's result, and whether a gate inside waits for an answer.
pub struct CallResult {
    pub leg: LegResult,
    pub waiting: bool,
}

/// Run the called workflow for one leg of its caller. Boxed: a called workflow may call others.
pub fn run_call<'a>(
    shared: Arc<Shared>,
    job: &'a Job,
    leg: &'a Leg,
    call: &'a PlannedCall,
    cancel: Cancel,
) -> Pin<Box<dyn Future<Output = CallResult> + Send + 'a>> {
    Box::pin(async move {
        let started = Instant::now();
        let finish = |result: Conclusion, outputs: Map<String, Json>, waiting: bool| {
            if !waiting {
                shared.emitter.emit(Event::JobFinished {
                    job: leg.job_id.clone(),
                    name: leg.name.clone(),
                    matrix: leg.matrix.clone().map(Json::Object),
                    result,
                    outputs: Json::Object(outputs.clone()),
                    duration_ms: started.elapsed().as_millis() as u64,
                });
            }
            CallResult { leg: LegResult { result, outputs, environment_url: None }, waiting }
        };
        let child = match called_shared(&shared, job, leg, call, cancel) {
            Ok(c) => Arc::new(c),
            Err(message) => {
                shared.emitter.emit(Event::Annotation {
                    job: leg.job_id.clone(),
                    name: leg.name.clone(),
                    step: 0,
                    level: "error".into(),
                    message: shared.masker.mask(&format!("calling `{}`: {message}", call.uses)),
                });
                return finish(Conclusion::Failure, Map::new(), false);
            }
        };
        let already = earlier_records(&shared, &child.frame);
        let finished = dispatch(child.clone(), &call.plan, &already).await;
        let result = match finished.result {
            RunResult::Success => Conclusion::Success,
            RunResult::Failure => Conclusion::Failure,
            RunResult::Cancelled => Conclusion::Cancelled,
            RunResult::Interrupted => Conclusion::Interrupted,
            RunResult::Waiting => return finish(Conclusion::Success, Map::new(), true),
        };
        let outputs = match &call.workflow.interface {
            Some(i) => outputs(&child, i, &finished),
            None => Map::new(),
        };
        finish(result, outputs, false)
    })
}

/// The `Shared` of the called workflow's run: the called file, the call's inputs and secrets,
/// the caller's `github`, and a frame one level down.
fn called_shared(
    shared: &Shared,
    job: &Job,
    leg: &Leg,
    call: &PlannedCall,
    cancel: Cancel,
) -> Result<Shared, String> {
    let workflow = &call.workflow;
    let (Some(pipeline), Some(interface)) = (&workflow.pipeline, &workflow.interface) else {
        return Err(format!("`{}` has no `on.workflow_call`", workflow.source.path));
    };
    // `with:` and `secrets:` are the caller's keys: they see its leg's scope.
    let mut given = Vec::with_capacity(job.with.len());
    for (name, value) in &job.with {
        let v = match inputs::literal(value) {
            Some(literal) => literal,
            None => leg
                .scope
                .value(Location::JobWith, value)
                .map_err(|e| e.describe(&format!("with `{}`", name.value)))?,
        };
        given.push((name.value.clone(), v));
    }
    // Defaults belong to the called file: they see the caller's `github` and `vars`.
    let defaults = shared.facts.scope(call.compiled.clone(), &leg.job_id);
    let called_inputs = inputs::resolve(interface, &given, |d| match d {
        Json::String(s) if s.contains("${{") => defaults
            .value_str(Location::WorkflowCallInputDefault, s)
            .map_err(|e| e.describe("an input default")),
        other => Ok(other.clone()),
    })?;
    let mut caller_secrets = shared.secrets.clone();
    caller_secrets.extend(leg.env_secrets.clone());
    let secrets = match &job.secrets {
        CallSecrets::Inherit(_) => caller_secrets,
        CallSecrets::None => BTreeMap::new(),
        CallSecrets::Pairs(pairs) => {
            let scope = leg.scope.clone().with("secrets", &crate::scope::object(&caller_secrets));
            let mut out = BTreeMap::new();
            for (name, value) in pairs {
                if interface.secret(&name.value).is_none() {
                    return Err(format!("secret `{}` is not declared by the called workflow", name.value));
                }
                let v = scope
                    .text(Location::JobSecrets, value)
                    .map_err(|e| e.describe(&format!("secret `{}`", name.value)))?;
                shared.masker.add(&v);
                out.insert(name.value.clone(), v);
            }
            out
        }
    };
    for decl in interface.secrets.iter().filter(|s| s.required) {
        if !secrets.keys().any(|k| k.eq_ignore_ascii_case(&decl.name.value)) {
            return Err(format!("the called workflow requires the secret `{}`", decl.name.value));
        }
    }
    let record_key = match &leg.matrix {
        Some(m) => format!("{} {}", leg.job_id, Json::Object(m.clone())),
        None => leg.job_id.clone(),
    };
    let frame = Frame {
        id_prefix: format!("{}{}/", shared.frame.id_prefix, leg.job_id),
        name_prefix: format!("{}{} / ", shared.frame.name_prefix, leg.name),
        record_prefix: format!("{}{record_key}/", shared.frame.record_prefix),
        key_prefix: format!("{}--", leg.key),
    };
    Ok(Shared {
        run_id: shared.run_id.clone(),
        pipeline: pipeline.clone(),
        compiled: call.compiled.clone(),
        facts: super::RunFacts { inputs: called_inputs, ..shared.facts.clone() },
        store: shared.store.clone(),
        emitter: shared.emitter.within(&format!("{}/", leg.job_id), &format!("{} / ", leg.name)),
        masker: shared.masker.clone(),
        secrets,
        env_file_vars: shared.env_file_vars.clone(),
        docker: shared.docker.clone(),
        backends: shared.backends.clone(),
        workdir: shared.workdir.clone(),
        bind: shared.bind,
        pull: shared.pull,
        platforms: shared.platforms.clone(),
        executor: shared.executor,
        parallel: shared.parallel,
        mode: shared.mode,
        pre_approved: shared.pre_approved.clone(),
        config: shared.config.clone(),
        prompter: shared.prompter.clone(),
        identity: shared.identity.clone(),
        record: shared.record.clone(),
        cancel,
        force: shared.force.clone(),
        frame,
        actions: shared.actions.clone(),
        ahead: shared.ahead.clone(),
        reaper: shared.reaper.clone(),
    })
}

/// Legs of this call finished in an earlier attempt of the run (resume), as the called
/// workflow's dispatcher knows them: keys and ids without the frame's prefixes.
fn earlier_records(shared: &Shared, frame: &Frame) -> BTreeMap<String, JobRecord> {
    let Ok(record) = shared.record.lock() else { return BTreeMap::new() };
    record
        .jobs
        .iter()
        .filter_map(|(key, r)| {
            let key = key.strip_prefix(&frame.record_prefix)?;
            let job = r.job.strip_prefix(&frame.id_prefix)?;
            // Only this level's jobs; deeper calls find their own.
            if job.contains('/') {
                return None;
            }
            let name = r.name.strip_prefix(&frame.name_prefix).unwrap_or(&r.name).to_string();
            Some((key.to_string(), JobRecord { job: job.to_string(), name, ..r.clone() }))
        })
        .collect()
}

/// `on.workflow_call.outputs`, evaluated over the called jobs' results and outputs.
fn outputs(child: &Shared, interface: &Interface, finished: &Finished) -> Map<String, Json> {
    let jobs: Map<String, Json> = finished
        .jobs
        .iter()
        .map(|(id, d)| (id.clone(), json!({"result": d.result.as_str(), "outputs": d.outputs})))
        .collect();
    let scope = child.scope("").with("jobs", &Json::Object(jobs));
    let mut out = Map::new();
    for o in &interface.outputs {
        let Some(value) = &o.value else { continue };
        let v = scope.text(Location::WorkflowCallOutputValue, value).unwrap_or_default();
        out.insert(o.name.value.clone(), Json::String(child.masker.mask(&v)));
    }
    out
}
