//! Runs one job leg: its environment, its steps in order, its outputs. Knows nothing about the
//! DAG; the dispatcher decides when a leg starts and what it needs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json, json};
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::contexts;
use super::eval;
use super::step::{StepResult, StepRun, run_step};
use crate::backend::{JobHandle, JobSetup};
use crate::event::{Conclusion, Event};
use crate::expr::Status;
use crate::model::{Env, Job};

/// GitHub's default job timeout.
const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(360 * 60);

/// One leg to run.
#[derive(Debug, Clone)]
pub struct Leg {
    /// Unique, file-name safe key inside the run (`test` or `test-linux-3.12`).
    pub key: String,
    pub job_id: String,
    pub name: String,
    pub matrix: Option<Map<String, Json>>,
    pub strategy: Json,
    /// The `needs` context.
    pub needs: Json,
    pub image: Option<String>,
    /// `docker` or `host`, from the plan.
    pub executor: String,
    /// Secrets of the job's environment (pipe.toml `secrets_file`): this job's only.
    pub env_secrets: BTreeMap<String, String>,
    /// `wait_timer` of the environment: how long to wait after the approval.
    pub delay: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct LegResult {
    pub result: Conclusion,
    pub outputs: Map<String, Json>,
}

/// Everything a step's evaluation context is built from, kept current as steps run.
pub struct JobState {
    pub env: BTreeMap<String, String>,
    pub path_prepend: Vec<String>,
    pub steps: Map<String, Json>,
    pub status: Status,
    pub github: Json,
    pub runner: Json,
    pub job_ctx: Json,
    /// Work actions left for after the last step (GitHub's post steps), run last first.
    pub post: Vec<super::actions::Post>,
    /// Exit code of the last step's process (for `allowed_exit_codes`).
    pub last_exit: Option<i64>,
}

pub async fn run_leg(shared: Arc<Shared>, job: &Job, leg: &Leg, cancel: CancellationToken) -> LegResult {
    let started = Instant::now();
    let emit_finished = |result: Conclusion, outputs: &Map<String, Json>| {
        shared.emitter.emit(Event::JobFinished {
            job: leg.job_id.clone(),
            name: leg.name.clone(),
            matrix: leg.matrix.clone().map(Json::Object),
            result,
            outputs: Json::Object(outputs.clone()),
            duration_ms: started.elapsed().as_millis() as u64,
        });
    };
    if let Some(d) = leg.delay {
        shared.emitter.emit(Event::StepOutput {
            job: leg.job_id.clone(),
            name: leg.name.clone(),
            step: 0,
            stream: "stderr".into(),
            line: format!("waiting {}s (wait_timer of the environment)", d.as_secs()),
        });
        tokio::select! {
            () = tokio::time::sleep(d) => {}
            () = cancel.cancelled() => {}
        }
    }
    // A job-level concurrency group: queue behind (or stop) whoever holds it.
    let group = match job_group(&shared, job, leg).await {
        Ok(g) => g,
        Err(e) => {
            emit_finished(Conclusion::Failure, &Map::new());
            shared.emitter.emit(Event::Annotation {
                job: leg.job_id.clone(),
                name: leg.name.clone(),
                step: 0,
                level: "error".into(),
                message: e,
            });
            return LegResult { result: Conclusion::Failure, outputs: Map::new() };
        }
    };
    let result = if cancel.is_cancelled() {
        Ok(LegResult { result: Conclusion::Cancelled, outputs: Map::new() })
    } else {
        run_leg_inner(&shared, job, leg, cancel).await
    };
    drop(group);
    let (result, outputs) = match result {
        Ok(r) => (r.result, r.outputs),
        Err(message) => {
            shared.emitter.emit(Event::StepOutput {
                job: leg.job_id.clone(),
                name: leg.name.clone(),
                step: 0,
                stream: "stderr".into(),
                line: format!("error: {}", shared.masker.mask(&message)),
            });
            (Conclusion::Failure, Map::new())
        }
    };
    emit_finished(result, &outputs);
    LegResult { result, outputs }
}

async fn run_leg_inner(
    shared: &Arc<Shared>,
    job: &Job,
    leg: &Leg,
    cancel: CancellationToken,
) -> Result<LegResult, String> {
    // Scratch space outside the state dir: scripts and env files may hold secrets.
    let scratch = tempdir_for(&shared.run_id, &leg.key)?;
    let runner_dir = scratch.join("runner");
    let workspace = if shared.bind { shared.workdir.clone() } else { scratch.join("workspace") };
    // RUNNER_TEMP lives inside the runner dir, so a container sees it through the same mount.
    for d in [&runner_dir, &workspace, &runner_dir.join("temp")] {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let setup = JobSetup {
        run_id: shared.run_id.clone(),
        job_key: leg.key.clone(),
        image: leg.image.clone(),
        workspace: workspace.clone(),
        bind: shared.bind,
        runner_dir: runner_dir.clone(),
        container: None,
        services: Vec::new(),
        pull: shared.pull,
    };
    let mut setup_for_context = setup.clone();
    let handle = match (&shared.docker, leg.executor.as_str()) {
        (Some(docker), "docker") => {
            let setup = super::docker_setup::complete(setup, job, shared, leg)?;
            setup_for_context = setup.clone();
            JobHandle::Docker(crate::backend::docker::start_job(docker, &setup).await.map_err(|e| {
                let hint = e.hint().map(|h| format!(" (hint: {h})")).unwrap_or_default();
                format!("{e}{hint}")
            })?)
        }
        _ => JobHandle::Host(crate::backend::host::HostJob::start(&setup, shared.force.clone())),
    };
    shared.emitter.emit(Event::JobStarted {
        job: leg.job_id.clone(),
        name: leg.name.clone(),
        matrix: leg.matrix.clone().map(Json::Object),
        executor: handle.executor().into(),
        image: if matches!(handle, JobHandle::Docker(_)) { leg.image.clone() } else { None },
    });
    let mut job_ctx = json!({"status": "success", "container": {"id": "", "network": ""}, "services": {}});
    if let JobHandle::Docker(d) = &handle {
        let c = d.job_context(&setup_for_context).await;
        job_ctx["container"] = c["container"].clone();
        job_ctx["services"] = c["services"].clone();
    }
    let result = run_steps(shared, job, leg, &handle, &scratch, job_ctx, cancel).await;
    handle.teardown().await;
    if !shared.bind {
        let _ = std::fs::remove_dir_all(&scratch);
    } else {
        let _ = std::fs::remove_dir_all(&runner_dir);
    }
    result
}

async fn job_group(
    shared: &Shared,
    job: &Job,
    leg: &Leg,
) -> Result<Option<super::concurrency::GroupGuard>, String> {
    let Some(c) = &job.concurrency else { return Ok(None) };
    let matrix = leg.matrix.clone().map_or(json!({}), Json::Object);
    let github = shared.facts.github(&leg.job_id, "");
    let inputs = Json::Object(shared.facts.inputs.clone());
    let vars = contexts::object(&shared.facts.vars);
    let ctx = contexts::build(
        &[
            ("github", &github),
            ("inputs", &inputs),
            ("vars", &vars),
            ("matrix", &matrix),
            ("needs", &leg.needs),
        ],
        Status::Success,
        None,
    );
    let group = eval::text(&c.group.value, &ctx)?;
    let cancel_older = matches!(c.cancel_in_progress, Some(crate::model::Flag::Value(true, _)));
    let emitter = shared.emitter.clone();
    let (job_id, name) = (leg.job_id.clone(), leg.name.clone());
    let g = group.clone();
    super::concurrency::acquire(shared.store.root(), &group, cancel_older, move |_| {
        emitter.emit(Event::StepOutput {
            job: job_id,
            name,
            step: 0,
            stream: "stderr".into(),
            line: format!("concurrency group `{g}` is busy: waiting for it"),
        });
    })
    .await
    .map(Some)
    .map_err(|e| e.to_string())
}

fn tempdir_for(run_id: &str, key: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("pipe-{run_id}")).join(key);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir.parent().unwrap_or(&dir), std::fs::Permissions::from_mode(0o700));
    Ok(dir)
}

async fn run_steps(
    shared: &Arc<Shared>,
    job: &Job,
    leg: &Leg,
    handle: &JobHandle,
    scratch: &std::path::Path,
    job_ctx: Json,
    cancel: CancellationToken,
) -> Result<LegResult, String> {
    let paths = handle.paths();
    let github = shared.facts.github(&leg.job_id, &paths.workspace);
    let runner = contexts::runner(&format!("{}/temp", paths.runner_dir), "/opt/hostedtoolcache");
    let matrix = leg.matrix.clone().map_or(json!({}), Json::Object);
    let vars = contexts::object(&shared.facts.vars);
    let mut all_secrets = shared.secrets.clone();
    all_secrets.extend(leg.env_secrets.clone());
    let secrets = contexts::object(&all_secrets);
    let inputs = Json::Object(shared.facts.inputs.clone());

    // Job environment: --env-file, then workflow env, then job env (later wins), each evaluated.
    let mut env: BTreeMap<String, String> = shared.env_file_vars.clone();
    for layer in [&shared.pipeline.env, &job.env] {
        let ctx = contexts::build(
            &[
                ("github", &github),
                ("env", &contexts::object(&env)),
                ("vars", &vars),
                ("secrets", &secrets),
                ("inputs", &inputs),
                ("matrix", &matrix),
                ("needs", &leg.needs),
                ("strategy", &leg.strategy),
                ("runner", &runner),
                ("job", &job_ctx),
            ],
            Status::Success,
            None,
        );
        layer_env(layer, &ctx, &mut env)?;
    }

    let deadline = job_timeout(job, leg, shared)?;
    let job_cancel = cancel.child_token();
    let timer = {
        let t = job_cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(deadline).await;
            t.cancel();
        })
    };

    let mut state = JobState {
        env,
        path_prepend: Vec::new(),
        steps: Map::new(),
        status: Status::Success,
        github,
        runner,
        job_ctx,
        post: Vec::new(),
        last_exit: None,
    };
    // Every step (and post step) of the leg sees the same job-wide parts.
    let step_run = |step, index| StepRun {
        shared,
        job,
        leg,
        step,
        index,
        handle,
        scratch,
        vars: &vars,
        secrets: &secrets,
        inputs: &inputs,
        matrix: &matrix,
        cancel: job_cancel.clone(),
        scope: String::new(),
    };
    for (index, step) in job.steps.iter().enumerate() {
        let cancelled_now = job_cancel.is_cancelled();
        if cancelled_now && state.status != Status::Cancelled {
            state.status = if cancel.is_cancelled() { Status::Cancelled } else { Status::Failure };
        }
        let run = step_run(step, index);
        let StepResult { outcome, conclusion } = run_step(&run, &mut state).await;
        if conclusion == Conclusion::Failure && state.status == Status::Success {
            state.status = Status::Failure;
        }
        if outcome == Conclusion::Cancelled && state.status != Status::Failure {
            state.status = if cancel.is_cancelled() { Status::Cancelled } else { Status::Failure };
        }
    }
    // Post steps (e.g. saving a cache), last registered first, attributed to their step.
    for post in std::mem::take(&mut state.post).into_iter().rev() {
        let Some(step) = job.steps.get(post.step()) else { continue };
        let run = step_run(step, post.step());
        super::actions::run_post(&run, state.status, post).await;
    }
    timer.abort();
    let timed_out = job_cancel.is_cancelled() && !cancel.is_cancelled();
    if timed_out {
        shared.emitter.emit(Event::Annotation {
            job: leg.job_id.clone(),
            name: leg.name.clone(),
            step: job.steps.len().saturating_sub(1),
            level: "error".into(),
            message: format!("the job exceeded its timeout of {} minute(s)", deadline.as_secs_f64() / 60.0),
        });
    }

    // Outputs, evaluated after the steps with their contexts.
    let ctx = contexts::build(
        &[
            ("github", &state.github),
            ("env", &contexts::object(&state.env)),
            ("vars", &vars),
            ("secrets", &secrets),
            ("inputs", &inputs),
            ("matrix", &matrix),
            ("needs", &leg.needs),
            ("strategy", &leg.strategy),
            ("runner", &state.runner),
            ("job", &state.job_ctx),
            ("steps", &Json::Object(state.steps.clone())),
        ],
        state.status,
        None,
    );
    let mut outputs = Map::new();
    for (name, value) in &job.outputs {
        let v = eval::text(&value.value, &ctx).unwrap_or_default();
        outputs.insert(name.value.clone(), Json::String(shared.masker.mask(&v)));
    }
    let result = match state.status {
        Status::Success => Conclusion::Success,
        Status::Failure => Conclusion::Failure,
        Status::Cancelled => Conclusion::Cancelled,
    };
    Ok(LegResult { result, outputs })
}

/// Evaluate an `env:` block on top of `env`.
pub fn layer_env(
    layer: &Env,
    ctx: &crate::expr::MapContext,
    env: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    match layer {
        Env::None => {}
        Env::Pairs(pairs) => {
            for (k, v) in pairs {
                let value = eval::text(&v.value, ctx).map_err(|e| format!("env `{}`: {e}", k.value))?;
                env.insert(k.value.clone(), value);
            }
        }
        Env::Expr(t) => match eval::value(&t.value, ctx)? {
            Json::Object(m) => {
                for (k, v) in m {
                    env.insert(k, json_to_env(&v));
                }
            }
            other => return Err(format!("`env` must evaluate to a mapping, got {other}")),
        },
    }
    Ok(())
}

/// How a JSON value becomes an environment variable value.
pub fn json_to_env(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

fn job_timeout(job: &Job, leg: &Leg, shared: &Shared) -> Result<Duration, String> {
    let Some(t) = &job.timeout_minutes else { return Ok(DEFAULT_JOB_TIMEOUT) };
    let minutes = match t {
        crate::model::Number::Value(v, _) => *v,
        crate::model::Number::Expr(text) => {
            let matrix = leg.matrix.clone().map_or(json!({}), Json::Object);
            let ctx = contexts::build(
                &[
                    ("matrix", &matrix),
                    ("needs", &leg.needs),
                    ("strategy", &leg.strategy),
                    ("inputs", &Json::Object(shared.facts.inputs.clone())),
                ],
                Status::Success,
                None,
            );
            eval::value(&text.value, &ctx)?
                .as_f64()
                .or_else(|| eval::text(&text.value, &ctx).ok()?.parse().ok())
                .unwrap_or(360.0)
        }
    };
    if !(minutes > 0.0 && minutes.is_finite()) {
        return Err(format!("timeout-minutes must be positive, got {minutes}"));
    }
    Ok(Duration::from_secs_f64(minutes * 60.0))
}
