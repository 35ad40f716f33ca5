//! Runs one step: decide its `if:`, build its environment and script, execute it through the
//! backend, read what it wrote to the env files, and record outcome and conclusion.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json, json};
use tokio_util::sync::CancellationToken;

use super::cancel::Cancel;
use super::job::{JobState, Leg, layer_env};
use super::output::LineSink;
use super::{Shared, actions, envfiles, shell};
use crate::backend::{Exit, JobBackend, StepCommand};
use crate::event::{Conclusion, Event};
use crate::expr::{Location, Status};
use crate::model::{Job, Step};
use crate::scope::{self, Scope};

/// What a step needs besides the job's mutable state.
pub struct StepRun<'a> {
    pub shared: &'a Shared,
    pub job: &'a Job,
    pub leg: &'a Leg,
    pub step: &'a Step,
    pub index: usize,
    pub handle: &'a dyn JobBackend,
    pub scratch: &'a Path,
    /// The job-wide contexts (`github`, `vars`, `secrets`, `inputs`, `matrix`, `needs`,
    /// `strategy`, `runner`, `job`); a composite action's steps get their own.
    pub base: &'a Scope,
    /// The job's cancellation: once it fires, only steps that ask for it (`always()`,
    /// `cancelled()`) still run.
    pub cancel: Cancel,
    /// Stops those cleanup steps: at the end of the grace period after the cancellation, or at
    /// a second Ctrl-C.
    pub cleanup: CancellationToken,
    /// Empty for a workflow step; `.K` per level of composite action (`.2.0`: step 0 of the action
    /// run by step 2 of the action run by this step). Names the step's files and counts nesting.
    pub scope: String,
    /// The step's name as the terminal shows it (its log file is named after it).
    pub title: String,
}

pub struct StepResult {
    pub outcome: Conclusion,
    pub conclusion: Conclusion,
}

impl StepRun<'_> {
    /// The step's log file, named after the leg and the step as the terminal shows them.
    pub(super) fn log_path(&self) -> std::path::PathBuf {
        let leg = format!("{}{}", self.shared.frame.name_prefix, self.leg.name);
        self.shared.store.log_path(&self.shared.run_id, &leg, self.index, &self.title)
    }

    /// What stops this step's process: the job's cancellation, or for a step that started after
    /// it (a cleanup step), the end of its grace period.
    pub(super) fn stop(&self) -> CancellationToken {
        if self.cancel.is_cancelled() { self.cleanup.clone() } else { self.cancel.token() }
    }

    /// The scope of this step: the job-wide contexts plus what the steps so far made.
    pub(super) fn scope(&self, state: &JobState, env: &BTreeMap<String, String>) -> Scope {
        let workspace = Some(std::path::PathBuf::from(&self.handle.paths().workspace))
            .filter(|_| self.handle.shares_host_files());
        let mut job_ctx = state.job_ctx.clone();
        job_ctx["status"] = json!(status_str(state.status));
        self.base
            .clone()
            .with("github", &state.github)
            .with("runner", &state.runner)
            .with("env", &scope::object(env))
            .with("job", &job_ctx)
            .with("steps", &Json::Object(state.steps.clone()))
            .with_status(state.status)
            .with_workspace(workspace)
    }

    /// An annotation of this step (shown by the reporters, kept in the events).
    pub(super) fn annotate(&self, level: &str, message: String) {
        self.shared.emitter.emit(Event::Annotation {
            job: self.leg.job_id.clone(),
            name: self.leg.name.clone(),
            step: self.index,
            level: level.into(),
            message: self.shared.masker.mask(&message),
        });
    }

    pub(super) fn emit_output(&self, stream: &str, line: String) {
        self.shared.emitter.emit(Event::StepOutput {
            job: self.leg.job_id.clone(),
            name: self.leg.name.clone(),
            step: self.index,
            stream: stream.into(),
            line,
        });
    }
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Success => "success",
        Status::Failure => "failure",
        Status::Cancelled => "cancelled",
    }
}

pub async fn run_step(run: &StepRun<'_>, state: &mut JobState) -> StepResult {
    let started = Instant::now();
    let step = run.step;
    let ctx = run.scope(state, &state.env);
    let display = step
        .name
        .as_ref()
        .map(|n| ctx.text(Location::StepName, n).unwrap_or_else(|_| n.value.clone()))
        .unwrap_or_else(|| step.display_name());
    let display = run.shared.masker.mask(&display);
    // The evaluated name also names the step's log file.
    let titled = StepRun {
        cancel: run.cancel.clone(),
        cleanup: run.cleanup.clone(),
        scope: run.scope.clone(),
        title: display.clone(),
        ..*run
    };
    let run = &titled;
    let id = step.id.as_ref().map(|i| i.value.clone());
    let finish =
        |outcome: Conclusion, conclusion: Conclusion, state: &mut JobState, outputs: Map<String, Json>| {
            // A step whose environment went away under it (the daemon died, its container was
            // removed) did not fail: it was interrupted, as its job is.
            let (outcome, conclusion) = if outcome == Conclusion::Failure && run.handle.lost().is_some() {
                (Conclusion::Interrupted, Conclusion::Interrupted)
            } else {
                (outcome, conclusion)
            };
            if let Some(id) = &id {
                state.steps.insert(
                id.clone(),
                json!({"outputs": outputs, "outcome": outcome.as_str(), "conclusion": conclusion.as_str()}),
            );
            }
            run.shared.emitter.emit(Event::StepFinished {
                job: run.leg.job_id.clone(),
                name: run.leg.name.clone(),
                step: run.index,
                id: id.clone(),
                step_name: display.clone(),
                outcome,
                conclusion,
                duration_ms: started.elapsed().as_millis() as u64,
            });
            StepResult { outcome, conclusion }
        };

    let should_run = match ctx.condition(Location::StepIf, step.condition.as_ref()) {
        Ok(b) => b,
        Err(e) => {
            run.annotate("error", e.describe("the step's `if:` cannot be evaluated"));
            return finish(Conclusion::Failure, Conclusion::Failure, state, Map::new());
        }
    };
    // A cancelled job runs only steps that ask for it (always(), cancelled()).
    if !should_run
        || (run.cancel.is_cancelled()
            && !ctx.uses_status_function(step.condition.as_ref().map(|c| c.value.as_str())))
    {
        return finish(Conclusion::Skipped, Conclusion::Skipped, state, Map::new());
    }
    run.shared.emitter.emit(Event::StepStarted {
        job: run.leg.job_id.clone(),
        name: run.leg.name.clone(),
        step: run.index,
        id: id.clone(),
        step_name: display.clone(),
    });
    let continue_on_error = match &step.continue_on_error {
        Some(f) => ctx.flag(Location::StepContinueOnError, f).unwrap_or_else(|e| {
            run.annotate("warning", e.describe("`continue-on-error` cannot be evaluated (taken as false)"));
            false
        }),
        None => false,
    };
    state.last_exit = None;
    let (outcome, outputs) = match execute(run, state, &ctx).await {
        Ok(r) => r,
        Err(message) => {
            run.emit_output("stderr", format!("error: {}", run.shared.masker.mask(&message)));
            (Conclusion::Failure, Map::new())
        }
    };
    let allowed = outcome == Conclusion::Failure && allowed_exit(run, state);
    let conclusion = if outcome == Conclusion::Failure && (continue_on_error || allowed) {
        Conclusion::Success
    } else {
        outcome
    };
    finish(outcome, conclusion, state, outputs)
}

/// A failure whose exit code the step allows (GitLab's `allow_failure: exit_codes`).
fn allowed_exit(run: &StepRun<'_>, state: &JobState) -> bool {
    let Some(code) = state.last_exit.filter(|c| run.step.allowed_exit_codes.contains(c)) else {
        return false;
    };
    run.emit_output("stderr", format!("Exit code {code} is an allowed failure (allow_failure: exit_codes)."));
    true
}

/// The files of one step in the runner directory (empty when it starts), and their names as the
/// step sees them.
struct StepFiles {
    host: BTreeMap<&'static str, std::path::PathBuf>,
    seen: BTreeMap<&'static str, String>,
}

/// GITHUB_STATE is what an action's post step reads back (`STATE_<name>`).
const FILE_VARS: [(&str, &str); 5] = [
    ("GITHUB_OUTPUT", "output"),
    ("GITHUB_ENV", "env"),
    ("GITHUB_PATH", "path"),
    ("GITHUB_STEP_SUMMARY", "summary"),
    ("GITHUB_STATE", "state"),
];

/// Steps run one after the other, so one set of files per level of composite action serves all
/// of a job's steps: they are emptied for each step instead of made anew (creating files is
/// what a trivial step spent most of its time on).
fn step_file_name(run: &StepRun<'_>, stem: &str) -> String {
    match run.scope.matches('.').count() {
        0 => stem.to_string(),
        depth => format!("{stem}-{depth}"),
    }
}

/// The host path of one of the step's env files (`output`, `env`, `path`, `summary`, `state`).
pub(super) fn step_file(run: &StepRun<'_>, stem: &str) -> std::path::PathBuf {
    run.handle.paths().host_runner_dir.join(step_file_name(run, stem))
}

/// Make `path` a regular file holding `bytes`, reusing the file that is there. Whatever else a
/// step left under the name (a symbolic link, a directory) is removed first, never written
/// through.
fn write_reused(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() && m.len() == 0 && bytes.is_empty() => return Ok(()),
        Ok(m) if m.is_file() => {}
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path)?,
        Ok(_) => std::fs::remove_file(path)?,
        Err(_) => {}
    }
    std::fs::write(path, bytes)
}

fn step_files(run: &StepRun<'_>) -> Result<StepFiles, String> {
    let paths = run.handle.paths();
    let mut host = BTreeMap::new();
    let mut seen = BTreeMap::new();
    for (var, stem) in FILE_VARS {
        let p = step_file(run, stem);
        write_reused(&p, b"").map_err(|e| format!("cannot create {}: {e}", p.display()))?;
        host.insert(var, p);
        seen.insert(var, format!("{}/{}", paths.runner_dir, step_file_name(run, stem)));
    }
    Ok(StepFiles { host, seen })
}

/// Run a step's `run:` or `uses:` (no `if:`, no events): composite actions run their steps
/// through here too, with their own [`JobState`].
pub(super) async fn execute(
    run: &StepRun<'_>,
    state: &mut JobState,
    ctx: &Scope,
) -> Result<(Conclusion, Map<String, Json>), String> {
    let step = run.step;
    let paths = run.handle.paths();
    let (env, full_env, files) = step_env(run, state, ctx)?;
    let timeout = match &step.timeout_minutes {
        Some(n) => {
            let minutes = ctx
                .number(Location::StepTimeoutMinutes, n)
                .map_err(|e| e.describe("the step's `timeout-minutes` cannot be evaluated"))?;
            Some(Duration::from_secs_f64(minutes.max(0.0) * 60.0))
        }
        None => None,
    };

    let mut action_outputs = Map::new();
    let outcome = if let Some(uses) = &step.uses {
        let with = evaluated_with(step, ctx)?;
        let action = actions::Invocation {
            uses: &uses.value,
            with: &with,
            env: &env,
            full_env: &full_env,
            ctx,
            timeout,
        };
        let done = actions::run(run, state, &action).await?;
        action_outputs.extend(done.outputs.into_iter().map(|(k, v)| (k, Json::String(v))));
        state.env.extend(done.env);
        state.path_prepend.extend(done.path);
        done.outcome
    } else {
        let script = match &step.run {
            Some(r) => ctx.text(Location::StepRun, r).map_err(|e| e.describe("`run`"))?,
            None => String::new(),
        };
        let shell = step
            .shell
            .as_ref()
            .or(run.job.defaults.shell.as_ref())
            .or(run.shared.pipeline.defaults.shell.as_ref())
            .map(|s| ctx.text(Location::StepRun, s).map_err(|e| e.describe("`shell`")))
            .transpose()?;
        // One script file per level of composite action, rewritten for each step.
        let script_name = step_file_name(run, "step");
        let (argv, ext) = shell::command(shell.as_deref(), &format!("{}/{script_name}", paths.runner_dir))?;
        let (mut argv, script_name) = if ext.is_empty() {
            (argv, script_name)
        } else {
            let with_ext = format!("{script_name}{ext}");
            (shell::command(shell.as_deref(), &format!("{}/{with_ext}", paths.runner_dir))?.0, with_ext)
        };
        // On the host, whether bash is there is known here: no `sh` in between to ask.
        if run.handle.shares_host_files() && shell.as_deref().is_none_or(|s| s.trim().is_empty()) {
            let path =
                full_env.get("PATH").map(std::ffi::OsString::from).or_else(|| std::env::var_os("PATH"));
            if let Some(bash) = path.and_then(|p| crate::backend::host::find_program("bash", &p)) {
                argv = shell::default_with_bash(&bash, &format!("{}/{script_name}", paths.runner_dir));
            }
        }
        let script_path = paths.host_runner_dir.join(&script_name);
        write_reused(&script_path, script.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", script_path.display()))?;
        let workdir = step
            .working_directory
            .as_ref()
            .or(run.job.defaults.working_directory.as_ref())
            .or(run.shared.pipeline.defaults.working_directory.as_ref())
            .map(|w| {
                ctx.text(Location::StepWorkingDirectory, w).map_err(|e| e.describe("`working-directory`"))
            })
            .transpose()?;
        let workdir = match workdir {
            Some(w) if w.starts_with('/') => w,
            Some(w) => format!("{}/{w}", paths.workspace),
            None => paths.workspace.clone(),
        };
        let cmd = StepCommand { argv, env: full_env, workdir, timeout };
        let ran = exec_streaming(run, &cmd).await?;
        state.last_exit = if let Exit::Code(c) = ran.exit { Some(c) } else { None };
        ran.outcome(run)
    };

    // What the step wrote to its env files.
    let read = |var: &str| std::fs::read_to_string(&files.host[var]).unwrap_or_default();
    let mut outputs = action_outputs;
    outputs.extend(
        envfiles::parse_pairs(&read("GITHUB_OUTPUT"))
            .map_err(|e| format!("GITHUB_OUTPUT: {e}"))?
            .into_iter()
            .map(|(k, v)| (k, Json::String(v))),
    );
    for (k, v) in envfiles::parse_pairs(&read("GITHUB_ENV")).map_err(|e| format!("GITHUB_ENV: {e}"))? {
        state.env.insert(k, v);
    }
    state.path_prepend.extend(envfiles::parse_path(&read("GITHUB_PATH")));
    let summary = read("GITHUB_STEP_SUMMARY");
    if !summary.is_empty() {
        let path = run.shared.store.run_dir(&run.shared.run_id).join("summary.md");
        let _ = crate::store::append_line(&path, run.shared.masker.mask(&summary).trim_end());
    }
    Ok((outcome, outputs))
}

/// The step's environment: the job's (with GITHUB_ENV additions), then the step's own `env:`;
/// and everything its process sees (built-in variables, env files, PATH additions).
type StepEnv = (BTreeMap<String, String>, BTreeMap<String, String>, StepFiles);

fn step_env(run: &StepRun<'_>, state: &JobState, ctx: &Scope) -> Result<StepEnv, String> {
    let paths = run.handle.paths();
    let mut env = state.env.clone();
    layer_env(&run.step.env, ctx, Location::StepEnv, &mut env)?;
    let files = step_files(run)?;
    let mut full_env = builtin_env(run, state, &paths.workspace, &paths.runner_dir);
    full_env.extend(files.seen.iter().map(|(k, v)| (k.to_string(), v.clone())));
    full_env.extend(env.clone());
    if !state.path_prepend.is_empty() {
        let base = run.handle.default_path();
        let mut parts: Vec<&str> = state.path_prepend.iter().rev().map(String::as_str).collect();
        parts.push(&base);
        full_env.insert("PATH".into(), parts.join(":"));
    }
    Ok((env, full_env, files))
}

fn evaluated_with(step: &Step, ctx: &Scope) -> Result<Vec<(String, String)>, String> {
    step.with
        .iter()
        .map(|(k, v)| Ok((k.value.clone(), ctx.text(Location::StepWith, v)?)))
        .collect::<Result<_, crate::scope::EvalFailure>>()
        .map_err(|e| e.describe("`with`"))
}

/// The pre stage of a `uses:` step's action, at the start of the job: a failure fails the job
/// (its main step then does not run, as on GitHub).
pub(super) async fn run_pre(run: &StepRun<'_>, state: &mut JobState) {
    let Some(uses) = &run.step.uses else { return };
    let ctx = run.scope(state, &state.env);
    let pre = async {
        let (env, full_env, _files) = step_env(run, state, &ctx)?;
        let with = evaluated_with(run.step, &ctx)?;
        let action = actions::Invocation {
            uses: &uses.value,
            with: &with,
            env: &env,
            full_env: &full_env,
            ctx: &ctx,
            timeout: None,
        };
        actions::run_pre(run, state, &action).await
    };
    match pre.await {
        Ok(Some(Conclusion::Failure | Conclusion::Cancelled)) => state.status = Status::Failure,
        Ok(_) => {}
        Err(message) => {
            run.emit_output("stderr", format!("error: {}", run.shared.masker.mask(&message)));
            state.status = Status::Failure;
        }
    }
}

/// How a step's process (or container) ended, as an outcome, with the line GitHub prints.
pub(super) fn exit_outcome(run: &StepRun<'_>, exit: Exit) -> Conclusion {
    match exit {
        Exit::Code(0) => Conclusion::Success,
        Exit::Code(code) => {
            run.emit_output("stderr", format!("Process completed with exit code {code}."));
            Conclusion::Failure
        }
        Exit::TimedOut => {
            run.emit_output("stderr", "The step exceeded its timeout-minutes and was stopped.".into());
            Conclusion::Failure
        }
        Exit::Cancelled => Conclusion::Cancelled,
    }
}

/// How a command ended, and whether it used a workflow command it may not use.
pub(super) struct Ran {
    pub exit: Exit,
    pub refused: bool,
}

impl Ran {
    /// The step's outcome: a disabled workflow command fails it, as on GitHub.
    pub(super) fn outcome(self, run: &StepRun<'_>) -> Conclusion {
        match exit_outcome(run, self.exit) {
            Conclusion::Success if self.refused => Conclusion::Failure,
            outcome => outcome,
        }
    }
}

/// Run a command, turning its output into masked lines, log lines and events.
pub(super) async fn exec_streaming(run: &StepRun<'_>, cmd: &StepCommand) -> Result<Ran, String> {
    let (tx, mut rx) = crate::backend::output_channel();
    let log = run.log_path();
    let mut sink = LineSink::new(run, log);
    sink.follow_env(&cmd.env);
    let exec = run.handle.exec(cmd, tx, run.stop());
    tokio::pin!(exec);
    let mut flush = tokio::time::interval(super::output::FLUSH_EVERY);
    let exit = loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(c) => sink.chunk(c),
                None => break (&mut exec).await,
            },
            _ = flush.tick() => sink.tick(),
            r = &mut exec => {
                while let Ok(c) = rx.try_recv() {
                    sink.chunk(c);
                }
                break r;
            }
        }
    };
    sink.flush();
    exit.map(|exit| Ran { exit, refused: sink.refused() }).map_err(|e| e.to_string())
}

/// The variables every step sees (GitHub's default environment variables).
fn builtin_env(
    run: &StepRun<'_>,
    state: &JobState,
    workspace: &str,
    runner_dir: &str,
) -> BTreeMap<String, String> {
    let g = &state.github;
    let s = |k: &str| g.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let mut e = BTreeMap::new();
    let temp = format!("{runner_dir}/temp");
    for (k, v) in [
        ("CI", "true".to_string()),
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_ACTION", format!("__run_{}", run.index)),
        ("GITHUB_ACTOR", s("actor")),
        ("GITHUB_EVENT_NAME", s("event_name")),
        ("GITHUB_JOB", run.leg.job_id.clone()),
        ("GITHUB_REF", s("ref")),
        ("GITHUB_REF_NAME", s("ref_name")),
        ("GITHUB_REF_TYPE", s("ref_type")),
        ("GITHUB_REPOSITORY", s("repository")),
        ("GITHUB_REPOSITORY_OWNER", s("repository_owner")),
        ("GITHUB_RUN_ID", s("run_id")),
        ("GITHUB_RUN_NUMBER", s("run_number")),
        ("GITHUB_RUN_ATTEMPT", "1".to_string()),
        ("GITHUB_SHA", s("sha")),
        ("GITHUB_WORKFLOW", s("workflow")),
        ("GITHUB_WORKSPACE", workspace.to_string()),
        ("GITHUB_SERVER_URL", s("server_url")),
        ("GITHUB_API_URL", s("api_url")),
        ("GITHUB_GRAPHQL_URL", s("graphql_url")),
        ("GITHUB_HEAD_REF", s("head_ref")),
        ("GITHUB_BASE_REF", s("base_ref")),
        ("RUNNER_OS", "Linux".to_string()),
        ("RUNNER_ARCH", state.runner.get("arch").and_then(Json::as_str).unwrap_or("X64").to_string()),
        ("RUNNER_NAME", "pipe".to_string()),
        ("RUNNER_TEMP", temp),
        ("RUNNER_TOOL_CACHE", "/opt/hostedtoolcache".to_string()),
        ("RUNNER_ENVIRONMENT", "self-hosted".to_string()),
    ] {
        e.insert(k.to_string(), v);
    }
    e
}
