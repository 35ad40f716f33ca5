//! A composite action: its steps run one after another in the job, like the job's own steps but
//! with their own `steps` context, the action's `inputs`, and no `secrets`. `if:` (implicit
//! `success()` of the action's steps), `id`, `env`, `working-directory`, `continue-on-error` and
//! nested `uses:` (up to [`MAX_DEPTH`] levels) work; variables and PATH entries the steps add
//! reach the job's following steps; `outputs` are evaluated from the steps' outputs at the end.
//! The inner steps' output shows under the step that runs the action.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value as Json, json};

use super::metadata::Action;
use super::{Done, Invocation, say};
use crate::event::Conclusion;
use crate::expr::{MapContext, Status};
use crate::model::{Flag, Step};
use crate::runner::job::JobState;
use crate::runner::step::{StepRun, execute};
use crate::runner::{contexts, eval};

/// Composite actions do not see `secrets` (their inputs carry what they need).
static NO_SECRETS: Json = Json::Null;

/// Composite actions may nest this deep (a cycle of actions would never end otherwise).
pub const MAX_DEPTH: usize = 10;

pub async fn run(
    run: &StepRun<'_>,
    state: &mut JobState,
    action: &Invocation<'_>,
    meta: &Action,
    steps: &[Step],
    inputs: &Json,
    action_path: &str,
) -> Result<Done, String> {
    if run.scope.matches('.').count() >= MAX_DEPTH {
        return Err(format!(
            "`{}`: composite actions nest more than {MAX_DEPTH} levels deep (does one use itself?)",
            action.uses
        ));
    }
    let mut github = state.github.clone();
    github["action_path"] = json!(action_path);
    let mut env = action.env.clone();
    env.insert("GITHUB_ACTION_PATH".into(), action_path.to_string());
    let mut inner = JobState {
        env,
        path_prepend: state.path_prepend.clone(),
        steps: Map::new(),
        status: Status::Success,
        github,
        runner: state.runner.clone(),
        job_ctx: state.job_ctx.clone(),
        post: Vec::new(),
        last_exit: None,
    };
    for (k, step) in steps.iter().enumerate() {
        let step_run = StepRun {
            shared: run.shared,
            job: run.job,
            leg: run.leg,
            step,
            index: run.index,
            handle: run.handle,
            scratch: run.scratch,
            vars: run.vars,
            secrets: &NO_SECRETS,
            inputs,
            matrix: run.matrix,
            cancel: run.cancel.clone(),
            scope: format!("{}.{k}", run.scope),
        };
        run_one(&step_run, &mut inner).await;
    }
    let ctx = context(run, &inner, inputs);
    let mut done = Done::with(match inner.status {
        Status::Success => Conclusion::Success,
        Status::Failure => Conclusion::Failure,
        Status::Cancelled => Conclusion::Cancelled,
    });
    for (name, value) in &meta.outputs {
        let v = value.as_deref().map(|v| eval::text(v, &ctx)).transpose();
        let v = v.map_err(|e| format!("output `{name}` of `{}`: {e}", action.uses))?;
        done.outputs.push((name.clone(), v.unwrap_or_default()));
    }
    // What the steps added (GITHUB_ENV, GITHUB_PATH) goes on to the job.
    done.env = inner
        .env
        .into_iter()
        .filter(|(k, v)| k != "GITHUB_ACTION_PATH" && action.env.get(k) != Some(v))
        .collect();
    done.path = inner.path_prepend.split_off(state.path_prepend.len().min(inner.path_prepend.len()));
    state.post.append(&mut inner.post);
    Ok(done)
}

/// One step of the action: its `if:`, then [`execute`], then its record in the `steps` context.
async fn run_one(run: &StepRun<'_>, state: &mut JobState) {
    let step = run.step;
    let ctx = context(run, state, run.inputs);
    let condition = step.condition.as_ref().map(|c| c.value.as_str());
    let (outcome, outputs) = match eval::condition(condition, &ctx) {
        Err(e) => {
            say(run, &format!("error: an `if:` of the action cannot be evaluated: {e}"));
            (Conclusion::Failure, Map::new())
        }
        Ok(false) => (Conclusion::Skipped, Map::new()),
        // A cancelled job runs only steps that ask for it.
        Ok(true) if run.cancel.is_cancelled() && !eval::uses_status_function(condition) => {
            (Conclusion::Skipped, Map::new())
        }
        Ok(true) => {
            say(run, &step.display_name());
            match boxed_execute(run, state, &ctx).await {
                Ok(r) => r,
                Err(message) => {
                    run.emit_output("stderr", format!("error: {}", run.shared.masker.mask(&message)));
                    (Conclusion::Failure, Map::new())
                }
            }
        }
    };
    let continue_on_error = match &step.continue_on_error {
        Some(Flag::Value(b, _)) => *b,
        Some(Flag::Expr(t)) => eval::text(&t.value, &ctx).is_ok_and(|v| v == "true"),
        None => false,
    };
    let conclusion =
        if outcome == Conclusion::Failure && continue_on_error { Conclusion::Success } else { outcome };
    if let Some(id) = &step.id {
        state.steps.insert(
            id.value.clone(),
            json!({"outputs": outputs, "outcome": outcome.as_str(), "conclusion": conclusion.as_str()}),
        );
    }
    if conclusion == Conclusion::Failure && state.status == Status::Success {
        state.status = Status::Failure;
    }
    if outcome == Conclusion::Cancelled && state.status == Status::Success {
        state.status = Status::Cancelled;
    }
}

type Executed = Result<(Conclusion, Map<String, Json>), String>;

/// [`execute`] behind a boxed future: an action's step may run an action (a recursion).
fn boxed_execute<'a>(
    run: &'a StepRun<'a>,
    state: &'a mut JobState,
    ctx: &'a MapContext,
) -> Pin<Box<dyn Future<Output = Executed> + Send + 'a>> {
    Box::pin(execute(run, state, ctx))
}

/// The contexts an action's steps see (GitHub's list for composite steps: no `secrets`).
fn context(run: &StepRun<'_>, state: &JobState, inputs: &Json) -> MapContext {
    let workspace = Some(std::path::PathBuf::from(&run.handle.paths().workspace))
        .filter(|_| matches!(run.handle, crate::backend::JobHandle::Host(_)));
    contexts::build(
        &[
            ("github", &state.github),
            ("env", &contexts::object(&state.env)),
            ("vars", run.vars),
            ("inputs", inputs),
            ("matrix", run.matrix),
            ("needs", &run.leg.needs),
            ("strategy", &run.leg.strategy),
            ("runner", &state.runner),
            ("job", &state.job_ctx),
            ("steps", &Json::Object(state.steps.clone())),
        ],
        state.status,
        workspace,
    )
}
