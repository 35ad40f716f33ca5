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
use crate::expr::{Location, Status};
use crate::model::Step;
use crate::runner::job::JobState;
use crate::runner::step::{StepRun, execute};
use crate::scope::Scope;

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
        action_state: std::mem::take(&mut state.action_state),
        last_exit: None,
    };
    // The action's steps see its `inputs` and no `secrets` (their inputs carry what they need).
    let mut base = run.base.clone().with("inputs", inputs);
    base.remove("secrets");
    for (k, step) in steps.iter().enumerate() {
        let step_run = StepRun {
            shared: run.shared,
            job: run.job,
            leg: run.leg,
            step,
            index: run.index,
            handle: run.handle,
            scratch: run.scratch,
            base: &base,
            cancel: run.cancel.clone(),
            cleanup: run.cleanup.clone(),
            scope: format!("{}.{k}", run.scope),
            title: run.title.clone(),
        };
        run_one(&step_run, &mut inner).await;
    }
    let ctx = scope(&base, run, &inner);
    let mut done = Done::with(match inner.status {
        Status::Success => Conclusion::Success,
        Status::Failure => Conclusion::Failure,
        Status::Cancelled => Conclusion::Cancelled,
    });
    for (name, value) in &meta.outputs {
        let v = value.as_deref().map(|v| ctx.text_str(Location::StepRun, v)).transpose();
        let v = v.map_err(|e| e.describe(&format!("output `{name}` of `{}`", action.uses)))?;
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
    state.action_state = std::mem::take(&mut inner.action_state);
    Ok(done)
}

/// One step of the action: its `if:`, then [`execute`], then its record in the `steps` context.
async fn run_one(run: &StepRun<'_>, state: &mut JobState) {
    let step = run.step;
    let ctx = scope(run.base, run, state);
    let condition = step.condition.as_ref().map(|c| c.value.as_str());
    let (outcome, outputs) = match ctx.condition_str(Location::StepIf, condition) {
        Err(e) => {
            say(run, &format!("error: {}", e.describe("an `if:` of the action cannot be evaluated")));
            (Conclusion::Failure, Map::new())
        }
        Ok(false) => (Conclusion::Skipped, Map::new()),
        // A cancelled job runs only steps that ask for it.
        Ok(true) if run.cancel.is_cancelled() && !ctx.uses_status_function(condition) => {
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
    let continue_on_error = step
        .continue_on_error
        .as_ref()
        .is_some_and(|f| ctx.flag(Location::StepContinueOnError, f).unwrap_or(false));
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
    ctx: &'a Scope,
) -> Pin<Box<dyn Future<Output = Executed> + Send + 'a>> {
    Box::pin(execute(run, state, ctx))
}

/// The scope of an action's step: the action's contexts plus what its steps so far made.
fn scope(base: &Scope, run: &StepRun<'_>, state: &JobState) -> Scope {
    let workspace = Some(std::path::PathBuf::from(&run.handle.paths().workspace))
        .filter(|_| run.handle.shares_host_files());
    base.clone()
        .with("github", &state.github)
        .with("runner", &state.runner)
        .with("env", &crate::scope::object(&state.env))
        .with("job", &state.job_ctx)
        .with("steps", &Json::Object(state.steps.clone()))
        .with_status(state.status)
        .with_workspace(workspace)
}
