//! Runs one job leg: its environment, its steps in order, its outputs. Knows nothing about the
//! DAG; the dispatcher decides when a leg starts and what it needs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json, json};
use tokio_util::sync::CancellationToken;

use super::cancel::{Cancel, CancelReason};
use super::timer::JobTimer;

use super::Shared;
use super::step::{StepResult, StepRun, run_step};
use crate::backend::{Executor, JobBackend, JobSetup, StartContext};
use crate::event::{Conclusion, Event};
use crate::expr::{Location, Status};
use crate::model::{Env, Job};
use crate::scope::{self, Scope};

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
    /// What the leg's expressions see before it starts: the run-wide contexts, `needs`,
    /// `strategy` and `matrix`.
    pub scope: Scope,
    /// The `needs` context.
    pub needs: Json,
    /// `runs-on`/`container:` evaluated for this leg.
    pub image: Option<String>,
    /// The backend the leg is planned on (`None`: a caller of a reusable workflow).
    pub executor: Option<Executor>,
    /// The evaluated `environment:` name: a deployment leg.
    pub environment: Option<String>,
    /// Who passed the environment's gate (for the ledger).
    pub approved_by: Option<String>,
    /// The job's `continue-on-error`, evaluated for this leg.
    pub continue_on_error: bool,
    /// Secrets of the job's environment (pipe.toml `secrets_file`): this job's only.
    pub env_secrets: BTreeMap<String, String>,
    /// `wait_timer` of the environment: how long to wait after the approval.
    pub delay: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct LegResult {
    pub result: Conclusion,
    pub outputs: Map<String, Json>,
    /// `environment.url`, evaluated after the steps (it may read their outputs).
    pub environment_url: Option<String>,
}

impl LegResult {
    pub fn failed() -> LegResult {
        LegResult { result: Conclusion::Failure, outputs: Map::new(), environment_url: None }
    }

    /// A leg whose environment went away under it: `pipe resume` runs it again.
    pub fn interrupted() -> LegResult {
        LegResult { result: Conclusion::Interrupted, outputs: Map::new(), environment_url: None }
    }

    /// A leg stopped before its steps ran.
    pub fn stopped(reason: CancelReason) -> LegResult {
        LegResult { result: reason.conclusion(), outputs: Map::new(), environment_url: None }
    }
}

/// Everything a step's scope is built from, kept current as steps run.
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
    /// What JavaScript actions saved with GITHUB_STATE, by step (`index` + scope): their
    /// later stages see it as `STATE_*`.
    pub action_state: BTreeMap<String, Vec<(String, String)>>,
    /// Exit code of the last step's process (for `allowed_exit_codes`).
    pub last_exit: Option<i64>,
}

pub async fn run_leg(
    shared: Arc<Shared>,
    job: &Job,
    leg: &Leg,
    cancel: Cancel,
    timer: &JobTimer,
) -> LegResult {
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
    let group = tokio::select! {
        g = job_group(&shared, job, leg) => g,
        () = cancel.cancelled() => Ok(None),
    };
    let group = match group {
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
            return LegResult::failed();
        }
    };
    let result = if let Some(reason) = cancel.reason() {
        Ok(LegResult::stopped(reason))
    } else {
        run_leg_inner(&shared, job, leg, cancel, timer).await
    };
    let result = match result {
        Ok(r) => r,
        Err(message) => {
            shared.emitter.emit(Event::StepOutput {
                job: leg.job_id.clone(),
                name: leg.name.clone(),
                step: 0,
                stream: "stderr".into(),
                line: format!("error: {}", shared.masker.mask(&message)),
            });
            LegResult::failed()
        }
    };
    let result = unrecorded(&shared, leg, result);
    emit_finished(result.result, &result.outputs);
    // The group is held until the job has finished: the next holder starts after it.
    drop(group);
    result
}

/// A leg that ends after the run's state could not be written: its log is cut and its result
/// may not be recorded, so it does not count as done. It is interrupted, and `pipe resume` runs
/// it again.
fn unrecorded(shared: &Shared, leg: &Leg, result: LegResult) -> LegResult {
    if shared.emitter.write_error().is_none()
        || matches!(result.result, Conclusion::Cancelled | Conclusion::Interrupted)
    {
        return result;
    }
    interrupted(shared, leg, "its result could not be recorded, as the run's state could not be written");
    LegResult { result: Conclusion::Interrupted, ..result }
}

async fn run_leg_inner(
    shared: &Arc<Shared>,
    job: &Job,
    leg: &Leg,
    cancel: Cancel,
    timer: &JobTimer,
) -> Result<LegResult, String> {
    let deadline = job_timeout(job, leg)?;
    // An earlier attempt's containers (a retry) are gone before this one's take their names.
    shared.reaper.wait(&leg.key).await;
    let (scratch, setup) = scratch_and_setup(shared, leg)?;
    let runner_dir = setup.runner_dir.clone();
    let backend = shared.backends.for_executor(leg.executor).clone();
    let runs_images = backend.executor().runs_images();
    // `container:` and `services:` (evaluated for the leg) go to a backend that runs images.
    let setup = if runs_images { super::docker_setup::complete(setup, job, shared, leg)? } else { setup };
    let ctx = StartContext {
        cancel: cancel.token(),
        force: shared.force.clone(),
        tracker: Some(track(shared, leg)),
    };
    // What was made ahead for the leg is started when it fits its setup.
    let started = super::ahead::start(shared, &backend, &setup, ctx).await;
    shared.reaper.started(&leg.key);
    let handle = match started {
        Ok(handle) => handle,
        Err(_) if cancel.is_cancelled() => {
            return Ok(LegResult::stopped(cancel.reason().unwrap_or(CancelReason::Interrupt)));
        }
        Err(e) => {
            // An engine that died (or was restarting) is no failure of the job.
            if let Some(why) = backend.unreachable().await {
                interrupted(shared, leg, &format!("{why} ({e})"));
                if !shared.bind {
                    let _ = std::fs::remove_dir_all(&scratch);
                }
                return Ok(LegResult::interrupted());
            }
            let hint = e.hint().map(|h| format!(" (hint: {h})")).unwrap_or_default();
            return Err(format!("{e}{hint}"));
        }
    };
    if !runs_images && (job.container.is_some() || !job.services.is_empty()) {
        shared.emitter.emit(Event::Annotation {
            job: leg.job_id.clone(),
            name: leg.name.clone(),
            step: 0,
            level: "notice".into(),
            message: format!(
                "this job runs on the {}: its `container:` and `services:` are not used",
                handle.executor()
            ),
        });
    }
    shared.emitter.emit(Event::JobStarted {
        job: leg.job_id.clone(),
        name: leg.name.clone(),
        matrix: leg.matrix.clone().map(Json::Object),
        executor: handle.executor().name().into(),
        image: if runs_images { leg.image.clone() } else { None },
    });
    super::crash::panic_if_asked(&leg.job_id);
    let mut job_ctx = json!({"status": "success", "container": {"id": "", "network": ""}, "services": {}});
    if let Some(c) = handle.job_context().await {
        job_ctx["container"] = c["container"].clone();
        job_ctx["services"] = c["services"].clone();
    }
    // The timeout counts from the first step; this attempt's own token, so that a timeout stops
    // it and not a retry after it.
    let attempt = cancel.child();
    timer.arm(deadline, &attempt);
    let mut result = run_steps(shared, job, leg, handle.as_ref(), &scratch, job_ctx, attempt).await;
    // The steps did not fail: their environment went away under them. `pipe resume` runs the
    // job again.
    if let Some(why) = handle.lost() {
        interrupted(shared, leg, &why);
        result = Ok(LegResult::interrupted());
    }
    // Removed once the dependents have started; the run waits for it before it ends. A leg
    // whose containers publish host ports frees them before it ends: a dependent (or a retry)
    // publishing the same ones must find them free.
    let teardown = shared.clone();
    let removal = async move {
        for problem in handle.teardown().await {
            teardown.notice("warning", problem);
        }
    };
    if publishes_ports(&setup) {
        removal.await;
    } else {
        shared.reaper.spawn_after_starts(&leg.key, shared.cancel.token(), removal);
    }
    if !shared.bind {
        let _ = std::fs::remove_dir_all(&scratch);
    } else {
        let _ = std::fs::remove_dir_all(&runner_dir);
    }
    result
}

/// Whether the job container or a service of `setup` publishes ports on the host.
fn publishes_ports(setup: &JobSetup) -> bool {
    setup.container.as_ref().is_some_and(|c| !c.ports.is_empty())
        || setup.services.iter().any(|s| !s.ports.is_empty())
}

/// Says why the leg was interrupted (its environment went away under it).
fn interrupted(shared: &Shared, leg: &Leg, why: &str) {
    shared.emitter.emit(Event::Annotation {
        job: leg.job_id.clone(),
        name: leg.name.clone(),
        step: 0,
        level: "error".into(),
        message: format!("the job was interrupted: {why} (`pipe resume` runs it again)"),
    });
}

/// Keeps the process group of the leg's running host step in the run record: a run whose pipe
/// process was killed leaves it running, and `pipe resume` stops it.
fn track(shared: &Arc<Shared>, leg: &Leg) -> crate::backend::host::Tracker {
    let shared = shared.clone();
    let key = format!("{}{}", shared.frame.record_prefix, leg.key);
    Arc::new(move |pgid: Option<i32>| {
        let Ok(mut r) = shared.record.lock() else { return };
        match pgid {
            Some(pg) => r.processes.insert(key.clone(), pg),
            None => r.processes.remove(&key),
        };
        if let Err(e) = shared.store.write_record(&r) {
            shared.emitter.state_write_failed(e.to_string());
        }
    })
}

async fn job_group(
    shared: &Shared,
    job: &Job,
    leg: &Leg,
) -> Result<Option<super::concurrency::GroupGuard>, String> {
    let Some(c) = &job.concurrency else { return Ok(None) };
    let group = leg
        .scope
        .text(Location::JobConcurrency, &c.group)
        .map_err(|e| e.describe("the job's concurrency group cannot be evaluated"))?;
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

/// The leg's scratch space, made empty (outside the state dir: scripts and env files may hold
/// secrets), and the setup of its job environment (without `container:` and `services:`).
pub(super) fn scratch_and_setup(shared: &Shared, leg: &Leg) -> Result<(PathBuf, JobSetup), String> {
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
        workspace,
        bind: shared.bind,
        runner_dir,
        container: None,
        services: Vec::new(),
        pull: shared.pull,
    };
    Ok((scratch, setup))
}

fn tempdir_for(run_id: &str, key: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("pipe-{run_id}")).join(key);
    empty_keeping_mounted(&dir, true);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir.parent().unwrap_or(&dir), std::fs::Permissions::from_mode(0o700));
    Ok(dir)
}

/// Empty a leg's scratch folder but keep the folders themselves: a container made (and started)
/// ahead for the leg has its `runner` and `workspace` bind-mounted, and a mount holds on to the
/// folder it was made of, not to its path.
fn empty_keeping_mounted(dir: &std::path::Path, top: bool) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let kept = top
            && entry.file_type().is_ok_and(|t| t.is_dir())
            && matches!(entry.file_name().to_str(), Some("runner" | "workspace"));
        if kept {
            empty_keeping_mounted(&path, false);
        } else if entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(&path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
}

async fn run_steps(
    shared: &Arc<Shared>,
    job: &Job,
    leg: &Leg,
    handle: &dyn JobBackend,
    scratch: &std::path::Path,
    job_ctx: Json,
    job_cancel: Cancel,
) -> Result<LegResult, String> {
    let paths = handle.paths();
    let github = shared.facts.github(&leg.job_id, &paths.workspace);
    let runner = scope::runner(&format!("{}/temp", paths.runner_dir), "/opt/hostedtoolcache");
    let mut all_secrets = shared.secrets.clone();
    all_secrets.extend(leg.env_secrets.clone());
    // The job-wide part of every step's scope.
    let base = leg
        .scope
        .clone()
        .with("github", &github)
        .with("runner", &runner)
        .with("secrets", &scope::object(&all_secrets))
        .with("job", &job_ctx);

    // Job environment: --env-file, then workflow env, then job env (later wins), each evaluated.
    let mut env: BTreeMap<String, String> = shared.env_file_vars.clone();
    layer_env(&shared.pipeline.env, &base, Location::Env, &mut env)?;
    layer_env(&job.env, &base, Location::JobEnv, &mut env)?;

    let cleanup = CancellationToken::new();
    let cleanup_window =
        tokio::spawn(cleanup_window(job_cancel.clone(), shared.force.clone(), cleanup.clone()));

    let mut state = JobState {
        env,
        path_prepend: Vec::new(),
        steps: Map::new(),
        status: Status::Success,
        github,
        runner,
        job_ctx,
        post: Vec::new(),
        action_state: BTreeMap::new(),
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
        base: &base,
        cancel: job_cancel.clone(),
        cleanup: cleanup.clone(),
        scope: String::new(),
        title: shared.masker.mask(&step.display_name()),
    };
    // How the job ends when it was stopped: cancelled, or failed for a timeout.
    let stopped_status = || match job_cancel.reason().map(CancelReason::conclusion) {
        Some(Conclusion::Cancelled) => Status::Cancelled,
        _ => Status::Failure,
    };
    // Pre stages of the steps' actions (GitHub's "Pre" steps), before the first step.
    for (index, step) in job.steps.iter().enumerate().filter(|(_, s)| s.uses.is_some()) {
        super::step::run_pre(&step_run(step, index), &mut state).await;
    }
    for (index, step) in job.steps.iter().enumerate() {
        if job_cancel.is_cancelled() && state.status != Status::Cancelled {
            state.status = stopped_status();
        }
        let run = step_run(step, index);
        let StepResult { outcome, conclusion } = run_step(&run, &mut state).await;
        // An interrupted step stops the job's next steps as a failed one would.
        if matches!(conclusion, Conclusion::Failure | Conclusion::Interrupted)
            && state.status == Status::Success
        {
            state.status = Status::Failure;
        }
        if outcome == Conclusion::Cancelled && state.status != Status::Failure {
            state.status = stopped_status();
        }
    }
    // Post steps (e.g. saving a cache), last registered first, attributed to their step.
    for post in std::mem::take(&mut state.post).into_iter().rev() {
        let Some(step) = job.steps.get(post.step()) else { continue };
        let run = step_run(step, post.step());
        super::actions::run_post(&run, &mut state, post).await;
    }
    cleanup_window.abort();
    let timed_out = job_cancel.reason() == Some(CancelReason::Timeout);
    if timed_out {
        shared.emitter.emit(Event::Annotation {
            job: leg.job_id.clone(),
            name: leg.name.clone(),
            step: job.steps.len().saturating_sub(1),
            level: "error".into(),
            message: format!(
                "the job exceeded its timeout of {} minute(s)",
                job_timeout(job, leg).unwrap_or_default().as_secs_f64() / 60.0
            ),
        });
    }

    // Outputs and the environment's url, evaluated after the steps with their contexts.
    let after = base
        .clone()
        .with("github", &state.github)
        .with("env", &scope::object(&state.env))
        .with("job", &state.job_ctx)
        .with("steps", &Json::Object(state.steps.clone()))
        .with_status(state.status);
    let outputs = job_outputs(shared, job, leg, &after);
    let environment_url = job
        .environment
        .as_ref()
        .and_then(|e| e.url.as_ref())
        .and_then(|u| after.text(Location::JobEnvironmentUrl, u).ok())
        .map(|u| shared.masker.mask(&u));
    let result = match state.status {
        Status::Success => Conclusion::Success,
        Status::Failure => Conclusion::Failure,
        Status::Cancelled => Conclusion::Cancelled,
    };
    Ok(LegResult { result, outputs, environment_url })
}

/// The job's `outputs:`. One that holds a secret is left out with a warning, as GitHub's runner
/// does, rather than handed on masked.
fn job_outputs(shared: &Shared, job: &Job, leg: &Leg, after: &Scope) -> Map<String, Json> {
    let mut outputs = Map::new();
    for (name, value) in &job.outputs {
        let v = match after.text(Location::JobOutputs, value) {
            Ok(v) => v,
            Err(e) => {
                warn(
                    shared,
                    leg,
                    job.steps.len().saturating_sub(1),
                    e.describe(&format!("output `{}`", name.value)),
                );
                continue;
            }
        };
        if shared.masker.mask(&v) != v {
            let message = format!("output `{}` was skipped: it may contain a secret", name.value);
            warn(shared, leg, job.steps.len().saturating_sub(1), message);
            continue;
        }
        outputs.insert(name.value.clone(), Json::String(v));
    }
    outputs
}

fn warn(shared: &Shared, leg: &Leg, step: usize, message: String) {
    shared.emitter.emit(Event::Annotation {
        job: leg.job_id.clone(),
        name: leg.name.clone(),
        step,
        level: "warning".into(),
        message: shared.masker.mask(&message),
    });
}

/// Evaluate an `env:` block (at `location`) on top of `env`.
pub fn layer_env(
    layer: &Env,
    scope: &Scope,
    location: Location,
    env: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    match layer {
        Env::None => {}
        Env::Pairs(pairs) => {
            for (k, v) in pairs {
                let value = scope.text(location, v).map_err(|e| e.describe(&format!("env `{}`", k.value)))?;
                env.insert(k.value.clone(), value);
            }
        }
        Env::Expr(t) => match scope.value(location, t).map_err(|e| e.describe("env"))? {
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

/// Steps that run after a cancellation (`if: always()`, `cancelled()`) get the grace period to
/// finish; a second Ctrl-C ends it at once.
async fn cleanup_window(job: Cancel, force: CancellationToken, cleanup: CancellationToken) {
    job.cancelled().await;
    tokio::select! {
        () = tokio::time::sleep(crate::backend::host::GRACE_PERIOD) => {}
        () = force.cancelled() => {}
    }
    cleanup.cancel();
}

fn job_timeout(job: &Job, leg: &Leg) -> Result<Duration, String> {
    let Some(t) = &job.timeout_minutes else { return Ok(DEFAULT_JOB_TIMEOUT) };
    let minutes = leg
        .scope
        .number(Location::JobTimeoutMinutes, t)
        .map_err(|e| e.describe("the job's `timeout-minutes` cannot be evaluated"))?;
    if !(minutes > 0.0 && minutes.is_finite()) {
        return Err(format!("timeout-minutes must be positive, got {minutes}"));
    }
    Ok(Duration::from_secs_f64(minutes * 60.0))
}
