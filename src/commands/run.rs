//! `pipe run FILE`: validate, plan, pick the executor, run the plan, record the run, and map the
//! outcome to an exit code (`exit_code`: 0 success, 1 a job failed, 3 waiting at a gate, 130
//! interrupted).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::cli::{ExecutorChoice, Global, OutputFormat, RunArgs};
use crate::event::{Event, RunResult};
use crate::mask::Masker;
use crate::output::Ui;
use crate::runner::cancel::Cancel;
use crate::runner::emitter::Emitter;
use crate::runner::gate::Prompter;
use crate::runner::{RunFacts, Shared, dispatch_run};
use crate::store::{RunOptions, RunRecord, Store};

use super::secrets;

pub fn run(ui: &Ui, global: &Global, args: RunArgs) -> Result<i32, Error> {
    let mut input = crate::plan::context::plan_input(&args.file, &args.select, args.executor)?;
    let vars = super::pairs(&args.select.vars, "--var")?;
    let secret_names = secrets::load(&args.secrets)?.into_keys().collect();
    let context = super::Context { input: &input, vars: &vars, secret_names };
    let (pipeline, config, source) =
        super::load_valid_with_source(ui, &args.file, args.select.syntax, &context)?;
    // -P flags first, then pipe.toml's [platforms]: the first mapping of a label wins.
    if let Some(c) = &config {
        input.platforms.extend(c.platforms.iter().cloned());
    }
    let sources = super::action_sources(&args.actions, config.as_ref())?;
    // Remote called workflows are fetched while planning (a dry run only reads the cache).
    input.actions = sources.clone();
    input.fetch = !args.dry_run;
    let mut plan = crate::plan::build(&pipeline, &input)?;
    crate::plan::describe_gates(&mut plan, config.as_ref(), &args.select.approve);
    if args.dry_run {
        let fetcher = crate::fetch::Fetcher::new(sources);
        let inventory = super::action_inventory(&pipeline, &plan, &fetcher, config.as_ref(), false);
        let listed = super::plan::actions_text(&plan, &inventory);
        ui.stdout(&format!("{}{listed}", crate::plan::render::text(&plan)));
        return Ok(crate::exit_code::SUCCESS);
    }
    report_remote_workflows(ui, &plan);
    if !plan.triggered {
        ui.info(&format!(
            "nothing to run: {}",
            plan.not_triggered_reason.as_deref().unwrap_or("the workflow is not triggered by this event")
        ));
        return Ok(crate::exit_code::SUCCESS);
    }
    let secrets = secrets::load(&args.secrets)?;
    secrets::warn_missing(ui, &secrets::missing(&pipeline, &secrets, config.as_ref()));
    let env_file_vars = secrets::env_files(&args.env_files)?;
    let workdir = std::env::current_dir().map_err(|e| Error::env(format!("no current directory: {e}")))?;
    let options = RunOptions {
        pipeline: args.file.display().to_string(),
        event: input.event.clone(),
        git_ref: input.git_ref.clone(),
        sha: input.sha.clone(),
        event_payload: input.event_payload.clone(),
        inputs: input.inputs.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        vars: super::pairs(&args.select.vars, "--var")?,
        jobs: args.select.jobs.clone(),
        mode: args.select.mode,
        executor: args.executor,
        platforms: input.platforms.clone(),
        approve: args.select.approve.clone(),
        env_files: args.env_files.clone(),
        parallel: args.parallel,
        bind: args.bind,
        pull: args.pull,
        workdir,
        actions: sources,
    };
    let rt = runtime()?;
    let execution = Execution {
        options,
        plan,
        pipeline,
        source: Some(source),
        config,
        secrets,
        env_file_vars,
        output: args.output,
        as_name: args.as_name,
        resume: None,
    };
    rt.block_on(execute(ui, global, execution))
}

/// Everything a run needs, new or resumed.
pub struct Execution {
    pub options: RunOptions,
    pub plan: crate::plan::Plan,
    pub pipeline: crate::model::Pipeline,
    /// The pipeline file's text, for the positions of evaluation errors.
    pub source: Option<crate::source::Source>,
    pub config: Option<crate::gate::Config>,
    pub secrets: BTreeMap<String, String>,
    pub env_file_vars: BTreeMap<String, String>,
    pub output: OutputFormat,
    pub as_name: Option<String>,
    /// The record of the run being resumed.
    pub resume: Option<RunRecord>,
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::env(format!("cannot start the async runtime: {e}")))
}

/// Run a plan (a new run, or a resumed one when `resume` holds its record).
pub async fn execute(ui: &Ui, global: &Global, execution: Execution) -> Result<i32, Error> {
    let Execution {
        options,
        plan,
        pipeline,
        source,
        config,
        secrets,
        env_file_vars,
        output,
        as_name,
        resume,
    } = execution;
    let docker = match options.executor {
        ExecutorChoice::Host => None,
        ExecutorChoice::Docker => Some(crate::backend::docker::connect().await?),
        ExecutorChoice::Auto => {
            if crate::plan::call::runnable_jobs(&plan).iter().any(|j| j.executor == "docker") {
                if crate::backend::docker::available().await {
                    crate::backend::docker::connect().await.ok()
                } else {
                    ui.notice("notice: the Docker daemon is not reachable: running every job on the host (use --executor docker to require it)");
                    None
                }
            } else {
                None
            }
        }
    };
    if let Some(d) = &docker {
        preflight_images(d, &plan, options.pull).await?;
    }
    let actions =
        tokio::task::block_in_place(|| preflight_actions(ui, &pipeline, &plan, &options, config.as_ref()))?;
    let store = Store::new(&global.state_dir);
    let (run_id, mut record) = match resume {
        Some(r) => (r.id.clone(), r),
        None => {
            let id = store.create_run()?;
            let record = RunRecord {
                id: id.clone(),
                status: "running".into(),
                started: crate::event::now_rfc3339(),
                finished: None,
                pid: Some(std::process::id()),
                options: options.clone(),
                jobs: BTreeMap::new(),
                waiting: BTreeMap::new(),
            };
            (id, record)
        }
    };
    record.status = "running".into();
    record.pid = Some(std::process::id());
    record.waiting.clear();
    store.write_record(&record)?;

    let masker = Masker::new();
    for v in secrets.values() {
        masker.add(v);
    }
    let reporters = crate::report::for_run(crate::report::RunView {
        output,
        color: global.color,
        quiet: ui.quiet,
        store: &store,
        names: crate::report::plan_names(&plan),
    });
    let emitter = Emitter::new(&run_id, Some(store.events_path(&run_id)), reporters, masker.clone());
    // From here on Ctrl-C is the dispatcher's to handle (and the concurrency wait's before it).
    let mut signals = crate::runner::signals::Signals::listen()
        .map_err(|e| Error::env(format!("cannot listen for Ctrl-C: {e}")))?;
    let cancel = Cancel::new();
    let force = CancellationToken::new();
    let run_number = store.run_ids().len() as u64;
    let facts = RunFacts {
        run_id: run_id.clone(),
        run_number,
        workflow: plan.workflow_name.clone(),
        event_name: options.event.clone(),
        git_ref: options.git_ref.clone(),
        sha: options.sha.clone(),
        repository: repository_name(&options.workdir),
        actor: crate::gate::identity(as_name.as_deref()),
        event: options.event_payload.clone().unwrap_or_else(|| serde_json::json!({})),
        inputs: plan.inputs.clone(),
        vars: options.vars.iter().cloned().collect(),
    };
    let compiled = Arc::new(crate::scope::Compiled::of(&pipeline, source));
    let shared = Arc::new(Shared {
        run_id: run_id.clone(),
        pipeline,
        compiled,
        facts,
        store: store.clone(),
        emitter: emitter.clone(),
        masker,
        secrets,
        env_file_vars,
        docker,
        workdir: options.workdir.clone(),
        bind: options.bind,
        pull: options.pull,
        platforms: options.platforms.clone(),
        executor: options.executor,
        // Every ready leg at once unless `--parallel N` caps it (as on GitHub, not the CPU count:
        // most steps wait on something other than a core).
        parallel: options.parallel.unwrap_or(usize::MAX),
        mode: options.mode,
        pre_approved: options.approve.clone(),
        config,
        prompter: crate::runner::gate::interactive().then(|| {
            Arc::new(super::prompt::TerminalPrompter::holding(emitter.clone())) as Arc<dyn Prompter>
        }),
        identity: crate::gate::identity(as_name.as_deref()),
        record: Arc::new(std::sync::Mutex::new(record.clone())),
        cancel: cancel.clone(),
        force,
        frame: crate::runner::Frame::default(),
        actions: Arc::new(actions),
    });
    // A workflow-level concurrency group: wait for (or stop) the run that holds it.
    let _group = match &shared.pipeline.concurrency {
        Some(c) => {
            let group = shared
                .scope("")
                .text(crate::expr::Location::Concurrency, &c.group)
                .map_err(|e| Error::env(e.describe("concurrency group")))?;
            let cancel_older = matches!(c.cancel_in_progress, Some(crate::model::Flag::Value(true, _)));
            let guard = crate::runner::concurrency::acquire(store.root(), &group, cancel_older, |holder| {
                let who = holder.map(|p| format!(" (pipe process {p})")).unwrap_or_default();
                if cancel_older {
                    ui.info(&format!(
                        "concurrency group `{group}` is busy{who}: cancelling the run in progress"
                    ));
                } else {
                    ui.info(&format!("concurrency group `{group}` is busy{who}: waiting for it"));
                }
            });
            let guard = tokio::select! {
                g = guard => Some(g?),
                _ = signals.next() => return Ok(crate::exit_code::INTERRUPTED),
            };
            guard
        }
        None => None,
    };
    let started = Instant::now();
    emitter.emit(Event::RunStarted {
        pipeline: options.pipeline.clone(),
        event_name: options.event.clone(),
        git_ref: options.git_ref.clone(),
        sha: options.sha.clone(),
        mode: match options.mode {
            crate::cli::Mode::Delivery => "delivery".into(),
            crate::cli::Mode::Deployment => "deployment".into(),
        },
    });
    let finished = dispatch_run(shared.clone(), &plan, &record.jobs, signals).await;
    let mut record = match shared.record.lock() {
        Ok(r) => r.clone(),
        Err(p) => p.into_inner().clone(),
    };
    // Scratch space of the run's jobs (scripts, env files, workspaces): nothing of it is kept.
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("pipe-{run_id}")));
    emitter.emit(Event::RunFinished {
        result: finished.result,
        duration_ms: started.elapsed().as_millis() as u64,
    });

    for r in finished.records {
        let key = match &r.matrix {
            Some(m) => format!("{} {}", r.job, m),
            None => r.job.clone(),
        };
        record.jobs.insert(key, r);
    }
    // Gates still waiting are the ones of this attempt; answered ones are gone.
    if finished.result != RunResult::Waiting {
        record.waiting.clear();
    }
    record.status = match finished.result {
        RunResult::Success => "success",
        RunResult::Failure => "failure",
        RunResult::Cancelled => "cancelled",
        RunResult::Waiting => "waiting",
    }
    .into();
    record.finished = Some(crate::event::now_rfc3339());
    record.pid = None;
    store.write_record(&record)?;
    if let Some(e) = emitter.write_error() {
        ui.info(&format!("warning: the event log could not be written completely: {e}"));
    }
    if finished.result == RunResult::Waiting {
        ui.info(&format!(
            "the run waits at an approval gate: `pipe approve {run_id}` (or `pipe reject {run_id}`), then `pipe resume {run_id}`"
        ));
    }
    Ok(crate::exit_code::of_run(finished.result))
}

/// Every image the run needs is there (or pulled) before anything runs: an offline machine gets
/// one clear error (exit 2) instead of a run that fails half-way.
async fn preflight_images(
    docker: &bollard::Docker,
    plan: &crate::plan::Plan,
    pull: crate::backend::PullPolicy,
) -> Result<(), Error> {
    let mut seen = std::collections::BTreeSet::new();
    for job in crate::plan::call::runnable_jobs(plan).into_iter().filter(|j| j.executor == "docker") {
        // Each matrix leg may run in its own image; legs on the host need none.
        let images: Vec<(Option<&String>, Option<&String>)> = match &job.legs {
            crate::plan::Legs::Matrix { legs, .. } => legs
                .iter()
                .filter(|l| l.executor == "docker")
                .map(|l| (l.image.as_ref(), l.platform_note.as_ref()))
                .collect(),
            _ => vec![(job.image.as_ref(), job.platform_note.as_ref())],
        };
        for (image, note) in images {
            let Some(image) = image else {
                // Chosen by an expression plan time cannot evaluate: checked when the leg starts.
                let later =
                    |n: &String| n.ends_with("is chosen at run time") || n == "calls a reusable workflow";
                if note.is_some_and(later) || matches!(job.legs, crate::plan::Legs::Dynamic { .. }) {
                    continue;
                }
                let label = job.runs_on.first().map_or("(none)", String::as_str);
                return Err(Error::Usage {
                    message: format!("job `{}`: no image for runs-on `{label}`", job.id),
                    hint: Some(format!(
                        "map the label with -P {label}=IMAGE or in pipe.toml [platforms], or run with --executor host"
                    )),
                });
            };
            if seen.insert(image.clone()) {
                crate::backend::docker::ensure_image(docker, image, pull, None).await?;
            }
        }
    }
    Ok(())
}

/// Every remote action of the selected jobs (and the actions they use) is fetched, or found in
/// the cache, before anything runs: a missing one stops the run at once (exit 2, with what to do).
fn preflight_actions(
    ui: &Ui,
    pipeline: &crate::model::Pipeline,
    plan: &crate::plan::Plan,
    options: &RunOptions,
    config: Option<&crate::gate::Config>,
) -> Result<crate::runner::RemoteActions, Error> {
    let fetcher = crate::fetch::Fetcher::new(options.actions.clone());
    let inventory = super::action_inventory(pipeline, plan, &fetcher, config, true);
    let mut missing = Vec::new();
    for (uses, needed) in &inventory.actions {
        match &needed.found {
            Ok(c) => {
                let at = match c.origin {
                    crate::fetch::Origin::Local => c.root.display().to_string(),
                    _ => crate::fetch::cache::short(&c.sha).to_string(),
                };
                ui.info(&format!("action {uses}: {} {at}", c.origin.as_str()));
                if let Some(note) = &c.note {
                    ui.info(&format!("notice: {note}"));
                }
            }
            Err(e) => missing.push(e),
        }
    }
    if let Some(first) = missing.first() {
        let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
        return Err(Error::Environment {
            message: format!(
                "{} action(s) not available, nothing was run: {}",
                missing.len(),
                list.join("; ")
            ),
            hint: Some(first.hint.clone()),
        });
    }
    let configured = config.and_then(|c| c.actions.node.clone());
    if let Some(node) = configured.as_ref().filter(|n| !n.is_file())
        && !inventory.node_jobs.is_empty()
    {
        return Err(Error::Usage {
            message: format!(
                "pipe.toml [actions] node: {} is not a file; JavaScript actions need it",
                node.display()
            ),
            hint: Some("point it at a node binary, or remove it to use the `node` on PATH".into()),
        });
    }
    let node = crate::runner::host_node(configured.as_ref());
    crate::runner::node_version::check(node.as_deref(), &inventory.node_actions).map_err(|unfit| {
        Error::Environment { message: format!("{}; nothing was run", unfit.message), hint: Some(unfit.hint) }
    })?;
    Ok(crate::runner::RemoteActions {
        fetcher,
        inventory,
        node,
        disabled_builtin: config.map(|c| c.actions.disable_builtin.clone()).unwrap_or_default(),
    })
}

/// Where each remote reusable workflow came from (as for actions: fetched, cached or local).
fn report_remote_workflows(ui: &Ui, plan: &crate::plan::Plan) {
    let mut said = std::collections::BTreeSet::new();
    for call in crate::plan::call::remote_calls(plan) {
        let Some(c) = &call.workflow.checkout else { continue };
        if !said.insert(call.uses.clone()) {
            continue;
        }
        let at = match c.origin {
            crate::fetch::Origin::Local => c.root.display().to_string(),
            _ => crate::fetch::cache::short(&c.sha).to_string(),
        };
        ui.info(&format!("workflow {}: {} {at}", call.uses, c.origin.as_str()));
        if let Some(note) = &c.note {
            ui.info(&format!("notice: {note}"));
        }
    }
}

/// `owner/name` for `github.repository`: from the `origin` remote when there is one.
fn repository_name(workdir: &Path) -> String {
    let url = std::process::Command::new("git")
        .args(["config", "--get", "remote.origin.url"])
        .current_dir(workdir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(url) = url {
        let trimmed = url.trim_end_matches(".git").trim_end_matches('/');
        let parts: Vec<&str> = trimmed.rsplit(['/', ':']).take(2).collect();
        if parts.len() == 2 {
            return format!("{}/{}", parts[1], parts[0]);
        }
    }
    let dir = workdir.file_name().and_then(|n| n.to_str()).unwrap_or("repository");
    format!("local/{dir}")
}
