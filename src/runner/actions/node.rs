//! JavaScript actions (`runs.using: node12|node16|node20|node24`), run as GitHub's runner runs
//! them: `main` as the step; `pre` at the start of the job (remote actions only, as on GitHub)
//! when `pre-if` holds (default `always()`); `post` after the job's last step, last registered
//! first, when `post-if` holds (default `always()`, so also after a failure). Each stage gets
//! the inputs as `INPUT_<NAME>` (upper case, spaces as `_`), `GITHUB_ACTION_PATH`,
//! `GITHUB_ACTION`, and a `GITHUB_STATE` file whose values the later stages see as `STATE_<name>`.
//!
//! The node runtime: on the host, the `node` on PATH. In a Docker job, pipe's own node is
//! mounted read-only into the job container at [`NODE_IN_CONTAINER`] (like GitHub's runner
//! mounts its node into job containers), so the image needs no node. That node is the host's
//! (or pipe.toml `[actions] node`), a binary built for glibc: it runs in glibc images
//! (Debian, Ubuntu, ...), not in musl (Alpine) or busybox-only images.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value as Json;

use super::container::input_env;
use super::metadata::NodeRuns;
use super::{Done, Post, say};
use crate::backend::StepCommand;
use crate::event::Conclusion;
use crate::expr::Location;
use crate::runner::envfiles;
use crate::runner::job::{JobState, json_to_env};
use crate::runner::step::{StepRun, exec_streaming};

/// Where the node binary appears inside a job container.
pub const NODE_IN_CONTAINER: &str = "/__pipe/node/bin/node";

/// A JavaScript action ready to run a stage.
#[derive(Clone)]
pub struct NodeAction {
    /// `owner/repo@ref` or `./path`, for messages.
    pub uses: String,
    /// The action's folder as the job sees it.
    pub dir: String,
    pub using: String,
    /// `INPUT_*` variables.
    pub inputs: BTreeMap<String, String>,
    /// `GITHUB_ACTION`.
    pub id: String,
}

/// Work left for after the last step: an action's `post` script.
pub struct NodePost {
    pub step: usize,
    pub scope: String,
    pub action: NodeAction,
    pub script: String,
    pub condition: Option<String>,
    /// The environment of the main stage (its env files are replaced by the post's own).
    pub env: BTreeMap<String, String>,
}

impl NodeAction {
    pub fn new(uses: &str, dir: String, using: &str, inputs: &Json, id: String) -> NodeAction {
        let given = inputs.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), json_to_env(v)));
        NodeAction { uses: uses.to_string(), dir, using: using.to_string(), inputs: input_env(given), id }
    }
}

/// `GITHUB_ACTION` of a `uses:` step: its id, else `__owner_repo` (GitHub's form).
pub fn action_id(run: &StepRun<'_>, uses: &str) -> String {
    match &run.step.id {
        Some(id) => id.value.clone(),
        None => {
            let name = uses.split('@').next().unwrap_or(uses);
            let name: String =
                name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
            format!("__{}", name.trim_start_matches('_'))
        }
    }
}

/// The main stage; registers the post stage (it runs whatever the main stage's outcome).
pub async fn main(
    run: &StepRun<'_>,
    state: &mut JobState,
    action: NodeAction,
    runs: &NodeRuns,
    full_env: &BTreeMap<String, String>,
) -> Result<Done, String> {
    let key = format!("{}{}", run.index, run.scope);
    let outcome = stage(run, state, &action, &runs.main, full_env.clone(), (&key, "main")).await?;
    if let Some(script) = &runs.post {
        state.post.push(Post::Node(NodePost {
            step: run.index,
            scope: run.scope.clone(),
            action,
            script: script.clone(),
            condition: runs.post_if.clone(),
            env: full_env.clone(),
        }));
    }
    Ok(Done::with(outcome))
}

/// The pre stage, when `pre-if` (default `always()`) holds; problems fail the job like GitHub's
/// failed "Pre" step.
pub async fn pre(
    run: &StepRun<'_>,
    state: &mut JobState,
    action: &NodeAction,
    runs: &NodeRuns,
    full_env: BTreeMap<String, String>,
) -> Result<Conclusion, String> {
    let Some(script) = &runs.pre else { return Ok(Conclusion::Skipped) };
    if !condition(run, state, runs.pre_if.as_deref())? {
        return Ok(Conclusion::Skipped);
    }
    say(run, &format!("Pre {}", action.uses));
    let key = format!("{}{}", run.index, run.scope);
    stage(run, state, action, script, full_env, (&key, "pre")).await
}

/// The post stage of a registered [`NodePost`].
pub async fn post(run: &StepRun<'_>, state: &mut JobState, post: NodePost) -> Result<Conclusion, String> {
    if !condition(run, state, post.condition.as_deref())? {
        return Ok(Conclusion::Skipped);
    }
    say(run, &format!("Post {}", post.action.uses));
    let key = format!("{}{}", post.step, post.scope);
    stage(run, state, &post.action, &post.script, post.env, (&key, "post")).await
}

/// `pre-if`/`post-if`: an expression without `${{ }}` needed, `always()` when absent.
fn condition(run: &StepRun<'_>, state: &JobState, text: Option<&str>) -> Result<bool, String> {
    let ctx = run.scope(state, &state.env);
    ctx.condition_str(Location::StepIf, Some(text.unwrap_or("always()")))
        .map_err(|e| e.describe("pre-if/post-if"))
}

/// Run one script of the action with node, in the workspace. `key` names the step (its index
/// and scope) and `which` the stage.
async fn stage(
    run: &StepRun<'_>,
    state: &mut JobState,
    action: &NodeAction,
    script: &str,
    mut env: BTreeMap<String, String>,
    (key, which): (&str, &str),
) -> Result<Conclusion, String> {
    let node = runtime(run, &action.using)?;
    let paths = run.handle.paths();
    // Pre and post have env files of their own (their GITHUB_OUTPUT is not read, as on GitHub).
    let mut files = vec![("GITHUB_STATE", format!("state-{key}-{which}"))];
    if which != "main" {
        for (var, stem) in [("GITHUB_OUTPUT", "output"), ("GITHUB_ENV", "env"), ("GITHUB_PATH", "path")] {
            files.push((var, format!("{stem}-{key}-{which}")));
        }
    }
    let mut host_files = BTreeMap::new();
    for (var, name) in &files {
        let host = paths.host_runner_dir.join(name);
        std::fs::write(&host, "").map_err(|e| format!("cannot create {}: {e}", host.display()))?;
        env.insert((*var).to_string(), format!("{}/{name}", paths.runner_dir));
        host_files.insert(*var, host);
    }
    env.retain(|k, _| !k.starts_with("STATE_") && !k.starts_with("INPUT_"));
    env.extend(action.inputs.clone());
    for (k, v) in state.action_state.get(key).into_iter().flatten() {
        env.insert(format!("STATE_{k}"), v.clone());
    }
    env.insert("GITHUB_ACTION_PATH".into(), action.dir.clone());
    env.insert("GITHUB_ACTION".into(), action.id.clone());
    let script_path = format!("{}/{}", action.dir.trim_end_matches('/'), script.trim_start_matches("./"));
    let mut argv = vec![node, script_path];
    if !run.handle.keeps_any_env_name() {
        // Variables whose names are no shell identifiers (`INPUT_WHO-TO-GREET`) would be lost on
        // the way: `env` hands those to node itself.
        let odd: Vec<String> = env.keys().filter(|k| !is_identifier(k)).cloned().collect();
        if !odd.is_empty() {
            let mut prefixed = vec!["env".to_string()];
            prefixed.extend(odd.iter().filter_map(|k| env.remove(k).map(|v| format!("{k}={v}"))));
            prefixed.append(&mut argv);
            argv = prefixed;
        }
    }
    let cmd = StepCommand { argv, env, workdir: paths.workspace.clone(), timeout: None };
    let ran = exec_streaming(run, &cmd).await?;
    let read = |var: &str| host_files.get(var).map(|p| std::fs::read_to_string(p).unwrap_or_default());
    if let Some(text) = read("GITHUB_STATE") {
        let saved = envfiles::parse_pairs(&text).map_err(|e| format!("GITHUB_STATE: {e}"))?;
        state.action_state.entry(key.to_string()).or_default().extend(saved);
    }
    if which != "main" {
        let text = read("GITHUB_ENV").unwrap_or_default();
        state.env.extend(envfiles::parse_pairs(&text).map_err(|e| format!("GITHUB_ENV: {e}"))?);
        state.path_prepend.extend(envfiles::parse_path(&read("GITHUB_PATH").unwrap_or_default()));
    }
    for host in host_files.values() {
        let _ = std::fs::remove_file(host);
    }
    Ok(ran.outcome(run))
}

fn is_identifier(name: &str) -> bool {
    !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The node to run with, as the job sees it.
fn runtime(run: &StepRun<'_>, using: &str) -> Result<String, String> {
    // A job that sees this machine's files runs this machine's node; a job container gets it
    // mounted (see `docker_setup`).
    if run.handle.shares_host_files() {
        return run.shared.actions.node.as_ref().map(|p| p.display().to_string()).ok_or_else(|| {
            format!(
                "this JavaScript action needs Node.js ({using}, i.e. node {}): no `node` on PATH; install it or set pipe.toml [actions] node = \"/path/to/node\"",
                using.trim_start_matches("node")
            )
        });
    }
    if run.shared.actions.inventory.node_jobs.contains(&run.shared.full_id(&run.leg.job_id))
        && run.shared.actions.node.is_some()
    {
        return Ok(NODE_IN_CONTAINER.to_string());
    }
    Err(format!(
        "this JavaScript action needs Node.js ({using}) in the job container: pipe mounts the host's node, and none was found (install node on this machine, or set pipe.toml [actions] node = \"/path/to/node\")"
    ))
}

/// The node binary of this machine: pipe.toml's, else the first `node` on PATH (symlinks
/// resolved, so it can be mounted into a container).
pub fn host_node(configured: Option<&PathBuf>) -> Option<PathBuf> {
    if let Some(p) = configured {
        return Some(p.clone());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("node"))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok())
}
