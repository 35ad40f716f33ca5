//! `actions/checkout`: the files git would commit (tracked, and untracked-but-not-ignored, with
//! uncommitted changes) copied from the working tree into the workspace (or `path` in it).

use super::super::workspace;
use super::transfer::copy_in;
use super::{Done, Invocation, say, workspace_path};
use crate::runner::step::StepRun;

pub async fn run(run: &StepRun<'_>, action: &Invocation<'_>) -> Result<Done, String> {
    if run.shared.bind {
        say(run, "checkout: running in the working tree (--bind), nothing to copy");
        return Ok(Done::success());
    }
    let files =
        workspace::tree_files(&run.shared.workdir, run.shared.store.root()).map_err(|e| e.to_string())?;
    let dest = workspace_path(run, action.input("path"))?;
    let staging = run.scratch.join(format!("checkout{}", run.scope));
    let _ = std::fs::remove_dir_all(&staging);
    workspace::copy_files(&run.shared.workdir, &files, &staging).map_err(|e| e.to_string())?;
    let copied = copy_in(run.handle, &staging, &dest).await;
    let _ = std::fs::remove_dir_all(&staging);
    copied?;
    say(run, &format!("checkout: copied {} file(s) of the working tree into {dest}", files.len()));
    Ok(Done::success())
}
