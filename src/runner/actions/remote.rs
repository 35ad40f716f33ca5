//! `uses: owner/repo[/path]@ref`: an action of another repository, from the action cache (the
//! run fetched every action it needs before its first job). Its files are copied into the job's
//! runner folder (`_actions/<owner>/<repo>/<sha>`, as GitHub's runner keeps them), so steps and
//! containers of the job see them at `github.action_path`; then it runs as a composite, docker or
//! JavaScript action.

use super::metadata::{self, Runs};
use super::node::{self, NodeAction};
use super::{Done, Invocation, composite, docker_action, local};
use crate::fetch::{Checkout, RemoteRef};
use crate::runner::job::JobState;
use crate::runner::step::StepRun;

pub async fn run(
    run: &StepRun<'_>,
    state: &mut JobState,
    action: &Invocation<'_>,
    r: &RemoteRef,
) -> Result<Done, String> {
    let (checkout, meta) = load(run, r)?;
    let inputs = local::inputs(run, action, &meta)?;
    match &meta.runs {
        Runs::Composite(steps) => {
            let dir = stage_files(run, r, &checkout)?;
            composite::run(run, state, action, &meta, steps, &inputs, &dir).await
        }
        Runs::Docker { .. } => docker_action::run(run, action, &meta, &checkout.dir, &inputs).await,
        Runs::Node(runs) => {
            let dir = stage_files(run, r, &checkout)?;
            let id = node::action_id(run, action.uses);
            let js = NodeAction::new(action.uses, dir, &runs.using, &inputs, id);
            node::main(run, state, js, runs, action.full_env).await
        }
        Runs::Other(using) => Err(format!("`{r}` is a `{using}` action, which pipe cannot run")),
    }
}

/// The pre stage of a remote JavaScript action with `pre:` (run at the start of the job).
pub async fn pre(
    run: &StepRun<'_>,
    state: &mut JobState,
    action: &Invocation<'_>,
    r: &RemoteRef,
) -> Result<Option<crate::event::Conclusion>, String> {
    let (checkout, meta) = load(run, r)?;
    let Runs::Node(runs) = &meta.runs else { return Ok(None) };
    if runs.pre.is_none() {
        return Ok(None);
    }
    let inputs = local::inputs(run, action, &meta)?;
    let dir = stage_files(run, r, &checkout)?;
    let js = NodeAction::new(action.uses, dir, &runs.using, &inputs, node::action_id(run, action.uses));
    node::pre(run, state, &js, runs, action.full_env.clone()).await.map(Some)
}

fn load(run: &StepRun<'_>, r: &RemoteRef) -> Result<(Checkout, metadata::Action), String> {
    let checkout = run.shared.actions.fetcher.checkout(r).map_err(|e| format!("{e} ({})", e.hint))?;
    let meta = metadata::read_dir(&checkout.dir, &r.to_string())?;
    Ok((checkout, meta))
}

/// Copy the repository into the job's runner folder (once per job); its path as the job sees it.
fn stage_files(run: &StepRun<'_>, r: &RemoteRef, checkout: &Checkout) -> Result<String, String> {
    let paths = run.handle.paths();
    let rel = format!("_actions/{}/{}/{}", r.owner, r.repo, checkout.sha);
    let host = paths.host_runner_dir.join(&rel);
    if !host.is_dir() {
        let tmp = paths.host_runner_dir.join(format!("{rel}.partial"));
        let _ = std::fs::remove_dir_all(&tmp);
        crate::runner::workspace::copy_dir(&checkout.root, &tmp)
            .and_then(|()| {
                std::fs::rename(&tmp, &host)
                    .map_err(|source| crate::Error::Write { path: host.clone(), source })
            })
            .map_err(|e| format!("copying `{r}` into the job: {e}"))?;
    }
    let mut dir = format!("{}/{rel}", paths.runner_dir);
    if !r.path.is_empty() {
        dir = format!("{dir}/{}", r.path);
    }
    Ok(dir)
}
