//! How a `uses:` step runs. Actions pipe runs itself, offline (pipe.toml `[actions]
//! disable_builtin` turns any of them off, so the real action is fetched and run instead):
//!
//! - `actions/checkout`: a copy of the working tree ([`checkout`]).
//! - `actions/upload-artifact`, `actions/download-artifact`: a run-local store under the state
//!   directory ([`artifacts`]).
//! - `actions/cache` (and `actions/cache/restore`, `actions/cache/save`): a machine-local cache
//!   under `<state dir>/cache/`, restored when the step runs and saved after the job's last step
//!   when the job succeeded and the key had no exact hit ([`cache`], [`cache_store`]).
//! - `docker/setup-buildx-action`, `docker/login-action`: no-ops that say so ([`noops`]).
//! - `docker/build-push-action`: a build through the Docker daemon ([`build_push`]); a push only to
//!   the registry named by `PIPE_REGISTRY` in pipe's own environment.
//! - `uses: ./path`: a local action of the workspace, `composite` or `docker` ([`local`]).
//! - `uses: docker://IMAGE`: a container from a local image ([`docker_step`]).
//! - any other `owner/repo[/path]@ref`: the real action from the action cache ([`remote`],
//!   fetched before the run by [`inventory`]), composite, docker or JavaScript ([`node`]).
//!
//! What needs Docker (builds, docker actions, `docker://`) uses the run's daemon, or for a host
//! job the local daemon when it answers; without one it is a clear error.

mod artifacts;
mod build_push;
mod cache;
mod cache_store;
mod checkout;
mod composite;
mod container;
mod daemon;
mod docker_action;
mod docker_step;
pub mod inventory;
mod local;
pub mod metadata;
pub mod node;
pub mod node_version;
mod noops;
mod remote;
mod transfer;

use std::collections::BTreeMap;
use std::time::Duration;

use super::job::JobState;
use super::step::StepRun;
use crate::event::Conclusion;
use crate::expr::Status;
use crate::scope::Scope;

/// A `uses:` step as the action sees it.
pub struct Invocation<'a> {
    pub uses: &'a str,
    /// `with:`, evaluated.
    pub with: &'a [(String, String)],
    /// The step's environment without pipe's built-in variables (job env, GITHUB_ENV additions,
    /// the step's `env:`): what a composite action's steps start from.
    pub env: &'a BTreeMap<String, String>,
    /// Everything a `run:` step would see (built-in variables and env file paths included).
    pub full_env: &'a BTreeMap<String, String>,
    /// The step's scope (input defaults of local actions are evaluated in it).
    pub ctx: &'a Scope,
    /// The step's `timeout-minutes`.
    pub timeout: Option<Duration>,
}

impl Invocation<'_> {
    /// A `with:` value; empty counts as absent, as in GitHub's `core.getInput`.
    fn input(&self, name: &str) -> Option<&str> {
        self.with
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A boolean input (`true`/`false`, case-insensitive; absent = `default`).
    fn flag(&self, name: &str, default: bool) -> bool {
        self.input(name).map_or(default, |v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// Say which inputs were given that this implementation does not honour.
    fn report_ignored(&self, run: &StepRun<'_>, what: &str, supported: &[&str]) {
        for (k, v) in self.with {
            if !v.is_empty() && !supported.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                say(run, &format!("{what}: input `{k}` is not supported offline and was ignored"));
            }
        }
    }
}

/// How an action ended, and what it hands back to the job.
pub struct Done {
    pub outcome: Conclusion,
    pub outputs: Vec<(String, String)>,
    /// Variables for the following steps (like lines written to GITHUB_ENV).
    pub env: Vec<(String, String)>,
    /// Directories for the following steps' PATH (like lines written to GITHUB_PATH).
    pub path: Vec<String>,
}

impl Done {
    fn success() -> Done {
        Done::with(Conclusion::Success)
    }

    fn with(outcome: Conclusion) -> Done {
        Done { outcome, outputs: Vec::new(), env: Vec::new(), path: Vec::new() }
    }

    fn output(mut self, name: &str, value: impl Into<String>) -> Done {
        self.outputs.push((name.to_string(), value.into()));
        self
    }
}

/// Work an action leaves for after the job's last step (GitHub's `post:`), registered in
/// [`JobState::post`] and run by the job.
pub enum Post {
    SaveCache(cache::Pending),
    /// A JavaScript action's `post:` script.
    Node(node::NodePost),
}

impl Post {
    /// The workflow step that registered it (its output is shown under that step).
    pub fn step(&self) -> usize {
        match self {
            Post::SaveCache(p) => p.step,
            Post::Node(p) => p.step,
        }
    }
}

/// The remote actions of a run and how JavaScript actions run: shared by every job.
pub struct RemoteActions {
    pub fetcher: crate::fetch::Fetcher,
    /// What the run resolved before its first job.
    pub inventory: inventory::Inventory,
    /// The node binary on this machine (pipe.toml `[actions] node`, else `node` on PATH).
    pub node: Option<std::path::PathBuf>,
    /// pipe.toml `[actions] disable_builtin`.
    pub disabled_builtin: Vec<String>,
}

/// The remote actions pipe runs itself, for messages.
pub const BUILT_IN: &[&str] = &[
    "actions/checkout",
    "actions/upload-artifact",
    "actions/download-artifact",
    "actions/cache",
    "actions/cache/restore",
    "actions/cache/save",
    "docker/setup-buildx-action",
    "docker/login-action",
    "docker/build-push-action",
];

/// Run the action of a `uses:` step.
pub async fn run(run: &StepRun<'_>, state: &mut JobState, action: &Invocation<'_>) -> Result<Done, String> {
    let uses = action.uses.trim();
    if let Some(image) = uses.strip_prefix("docker://") {
        return docker_step::run(run, action, image).await;
    }
    if uses.starts_with("./") {
        return local::run(run, state, action).await;
    }
    let name = uses.split('@').next().unwrap_or(uses).to_ascii_lowercase();
    if !inventory::is_built_in(&name, &run.shared.actions.disabled_builtin) {
        return match crate::fetch::parse(uses)? {
            crate::fetch::Uses::Remote(r) => remote::run(run, state, action, &r).await,
            _ => Err(format!("`{uses}` cannot be run")),
        };
    }
    match name.as_str() {
        "actions/checkout" => checkout::run(run, action).await,
        "actions/upload-artifact" => artifacts::upload(run, action).await,
        "actions/download-artifact" => artifacts::download(run, action).await,
        "actions/cache" => cache::restore(run, state, action, true).await,
        "actions/cache/restore" => cache::restore(run, state, action, false).await,
        "actions/cache/save" => cache::save_now(run, action).await,
        "docker/setup-buildx-action" => Ok(noops::setup_buildx(run)),
        "docker/login-action" => Ok(noops::login(run, action)),
        "docker/build-push-action" => build_push::run(run, action).await,
        _ => Err(format!("`{uses}` is not a built-in action")),
    }
}

/// The pre stage of a step's action, at the start of the job (remote JavaScript actions with
/// `pre:`); `None` when there is none.
pub async fn run_pre(
    run: &StepRun<'_>,
    state: &mut JobState,
    action: &Invocation<'_>,
) -> Result<Option<Conclusion>, String> {
    match crate::fetch::parse(action.uses) {
        Ok(crate::fetch::Uses::Remote(r))
            if !inventory::is_built_in(&r.name(), &run.shared.actions.disabled_builtin) =>
        {
            remote::pre(run, state, action, &r).await
        }
        _ => Ok(None),
    }
}

/// Run a registered post step. The cache's problems are reported as output and never fail the
/// job (as GitHub's cache post step only warns); a failed JavaScript post script fails the job.
pub async fn run_post(run: &StepRun<'_>, state: &mut JobState, post: Post) {
    let status = state.status;
    match post {
        Post::Node(post) => match node::post(run, state, post).await {
            Ok(Conclusion::Failure | Conclusion::Cancelled) => fail_job(state),
            Ok(_) => {}
            Err(e) => {
                say(run, &format!("error: {e}"));
                fail_job(state);
            }
        },
        Post::SaveCache(pending) if status == Status::Success => {
            if let Err(e) = cache::save_pending(run, &pending).await {
                say(run, &format!("warning: cache not saved: {e}"));
            }
        }
        Post::SaveCache(pending) => {
            say(run, &format!("cache: the job did not succeed: `{}` is not saved", pending.key))
        }
    }
}

fn fail_job(state: &mut JobState) {
    if state.status == Status::Success {
        state.status = Status::Failure;
    }
}

/// One line of an action's own output: masked, in the step's log and in the events.
fn say(run: &StepRun<'_>, line: &str) {
    let line = run.shared.masker.mask(line);
    let log = run.log_path();
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = crate::store::append_line(&log, &line);
    run.emit_output("stdout", line);
}

/// A path of the job (as its steps see it): relative paths are taken from the workspace; `..`
/// may not leave it.
fn workspace_path(run: &StepRun<'_>, rel: Option<&str>) -> Result<String, String> {
    let base = run.handle.paths().workspace;
    match rel.map(str::trim) {
        None | Some("" | ".") => Ok(base),
        Some(r) if r.split('/').any(|c| c == "..") => Err(format!("`{r}` leaves the workspace")),
        Some(r) if r.starts_with('/') => Ok(r.to_string()),
        Some(r) => Ok(format!("{base}/{}", r.trim_start_matches("./").trim_end_matches('/'))),
    }
}

/// A multi-line or comma-separated list input (`tags`, `path`), trimmed, empties dropped.
fn list(value: Option<&str>, commas: bool) -> Vec<String> {
    let Some(value) = value else { return Vec::new() };
    value
        .split(|c| c == '\n' || (commas && c == ','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::list;

    #[test]
    fn lists() {
        assert_eq!(list(Some("a, b\nc\n\n"), true), ["a", "b", "c"]);
        assert_eq!(list(Some("a,b\n c "), false), ["a,b", "c"]);
        assert!(list(None, true).is_empty());
    }
}
