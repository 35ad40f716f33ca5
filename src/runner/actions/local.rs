//! `uses: ./path`: an action in the workspace (so usually after `actions/checkout`), described by
//! `action.yml` or `action.yaml` (or only a `Dockerfile`). Its inputs are the step's `with:` over
//! the defaults of `action.yml` (evaluated in the step's context); then it runs as a composite,
//! docker or JavaScript action (a local one has no `pre` stage, as on GitHub).

use std::path::PathBuf;

use serde_json::{Map, Value as Json};

use super::metadata::{self, Action, Runs};
use super::transfer::copy_out;
use super::{Done, Invocation, composite, docker_action, node, say, workspace_path};
use crate::expr::Location;
use crate::runner::job::JobState;
use crate::runner::step::StepRun;

pub async fn run(run: &StepRun<'_>, state: &mut JobState, action: &Invocation<'_>) -> Result<Done, String> {
    let rel = action.uses.trim();
    if rel.contains('@') {
        return Err(format!("`{rel}`: a local action takes no `@ref` (it is the workspace's version)"));
    }
    let job_dir = workspace_path(run, Some(rel))?;
    let host_dir = fetch(run, &job_dir, rel).await?;
    let meta = metadata::read_dir(&host_dir, rel).map_err(|e| {
        if e.starts_with("no action.yml") {
            format!("{e} of the workspace (did a step run actions/checkout?)")
        } else {
            e
        }
    })?;
    let inputs = inputs(run, action, &meta)?;
    let done = match &meta.runs {
        Runs::Composite(steps) => composite::run(run, state, action, &meta, steps, &inputs, &job_dir).await,
        Runs::Docker { .. } => docker_action::run(run, action, &meta, &host_dir, &inputs).await,
        Runs::Node(runs) => {
            let id = node::action_id(run, rel);
            let js = node::NodeAction::new(rel, job_dir.clone(), &runs.using, &inputs, id);
            node::main(run, state, js, runs, action.full_env).await
        }
        Runs::Other(using) => Err(format!("`{rel}` is a `{using}` action, which pipe cannot run")),
    };
    if !run.handle.shares_host_files() {
        let _ = std::fs::remove_dir_all(&host_dir);
    }
    done
}

/// The action's folder on the host (copied out of a job container).
async fn fetch(run: &StepRun<'_>, job_dir: &str, rel: &str) -> Result<PathBuf, String> {
    if run.handle.shares_host_files() {
        return Ok(PathBuf::from(job_dir));
    }
    let dir = run.scratch.join(format!("action-{}{}", run.index, run.scope));
    let _ = std::fs::remove_dir_all(&dir);
    if copy_out(run.handle, job_dir, &dir).await? == 0 {
        return Err(format!("no action at `{rel}` in the workspace (did a step run actions/checkout?)"));
    }
    Ok(dir)
}

/// The `inputs` context: `with:` values, else defaults; unknown and missing required inputs are
/// warned about, as GitHub does.
pub(super) fn inputs(run: &StepRun<'_>, action: &Invocation<'_>, meta: &Action) -> Result<Json, String> {
    let mut out = Map::new();
    for def in &meta.inputs {
        let given =
            action.with.iter().find(|(k, _)| k.eq_ignore_ascii_case(&def.name)).map(|(_, v)| v.clone());
        let value = match (given, &def.default) {
            (Some(v), _) => v,
            (None, Some(default)) => action
                .ctx
                .text_str(Location::StepWith, default)
                .map_err(|e| e.describe(&format!("default of input `{}`", def.name)))?,
            (None, None) => {
                if def.required {
                    say(run, &format!("warning: input `{}` is required but not provided", def.name));
                }
                String::new()
            }
        };
        out.insert(def.name.clone(), Json::String(value));
    }
    for (k, v) in action.with {
        if !meta.inputs.iter().any(|d| d.name.eq_ignore_ascii_case(k)) {
            say(run, &format!("warning: unexpected input `{k}`: the action does not declare it"));
            out.insert(k.clone(), Json::String(v.clone()));
        }
    }
    Ok(Json::Object(out))
}
