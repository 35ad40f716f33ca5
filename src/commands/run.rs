//! `pipe run FILE`: validate, plan, pick the executor, run the plan, record the run, and map the
//! outcome to an exit code (`exit_code`: 0 success, 1 a job failed, 3 waiting at a gate, 130
//! interrupted).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Error;
use crate::backend::{Backend, Backends, Executor};
use crate::cli::{Global, OutputFormat, RunArgs};
use crate::event::RunResult;
use crate::mask::Masker;
use crate::output::Ui;
use crate::runner::RunInputs;
use crate::runner::emitter::Emitter;
use crate::runner::gate::Prompter;
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
        syntax: args.select.syntax,
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
        rollback: None,
    };
    let rt = runtime()?;
    let execution = Execution {
        inputs: RunInputs { options, plan, pipeline, source: Some(source), config, secrets, env_file_vars },
        output: args.output,
        as_name: args.as_name,
        resume: None,
        failure_lines: args.failure_lines,
    };
    rt.block_on(execute(ui, global, execution))
}

/// Everything a run needs, new or resumed.
pub struct Execution {
    pub inputs: RunInputs,
    pub output: OutputFormat,
    pub as_name: Option<String>,
    /// The record of the run being resumed.
    pub resume: Option<RunRecord>,
    /// Lines of a failed step shown in the summary.
    pub failure_lines: usize,
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::env(format!("cannot start the async runtime: {e}")))
}

/// Run a plan (a new run, or a resumed one when `resume` holds its record).
pub async fn execute(ui: &Ui, global: &Global, execution: Execution) -> Result<i32, Error> {
    let Execution { inputs, output, as_name, resume, failure_lines } = execution;
    let RunInputs { options, plan, pipeline, config, secrets, .. } = &inputs;
    let unreachable = |e: Executor| {
        ui.notice(&format!(
            "notice: the {} is not reachable: running every job on the host (use --executor {e} to require it)",
            e.engine()
        ));
    };
    let backends = Backends::connect(options.executor, &planned_executors(plan), &unreachable).await?;
    let actions =
        tokio::task::block_in_place(|| preflight_actions(ui, pipeline, plan, options, config.as_ref()))?;
    // From here on Ctrl-C is pipe's to handle: the image checks stop at it, the concurrency
    // wait too, and then the dispatcher owns it.
    let mut signals = crate::runner::signals::Signals::listen()
        .map_err(|e| Error::env(format!("cannot listen for Ctrl-C: {e}")))?;
    for backend in backends.engines() {
        tokio::select! {
            checked = preflight_images(backend.as_ref(), plan, options.pull) => checked?,
            _ = signals.next() => return Ok(crate::exit_code::INTERRUPTED),
        }
    }
    let store = Store::new(&global.state_dir);
    let new_run = resume.is_none();
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
                processes: BTreeMap::new(),
            };
            (id, record)
        }
    };
    record.status = "running".into();
    record.pid = Some(std::process::id());
    record.waiting.clear();
    if let Err(e) = store.write_record(&record) {
        // A full disk: no run without a record is left behind.
        if new_run {
            let _ = std::fs::remove_dir_all(store.run_dir(&run_id));
        }
        return Err(e);
    }
    store.reserve_room(&run_id);

    let masker = Masker::new();
    for v in secrets.values() {
        masker.add(v);
    }
    let reporters = crate::report::for_run(crate::report::RunView {
        output,
        color: global.color,
        quiet: ui.quiet,
        store: &store,
        names: crate::report::plan_names(plan),
        failure_lines,
    });
    let emitter = Emitter::new(&run_id, Some(store.events_path(&run_id)), reporters, masker.clone());
    let prompter = crate::runner::gate::interactive()
        .then(|| Arc::new(super::prompt::TerminalPrompter::holding(emitter.clone())) as Arc<dyn Prompter>);
    let request = crate::runner::RunRequest {
        store: store.clone(),
        record,
        inputs,
        masker,
        emitter: emitter.clone(),
        backends,
        actions,
        identity: crate::gate::identity(as_name.as_deref()),
        prompter,
        signals,
    };
    let result = crate::runner::run(request, &|message: &str| ui.info(message)).await?;
    // Said when it happened; the run failed (its state is incomplete), as an environment
    // problem.
    if emitter.write_error().is_some() {
        return Ok(crate::exit_code::ERROR);
    }
    if result == RunResult::Waiting {
        ui.info(&format!(
            "the run waits at an approval gate: `pipe approve {run_id}` (or `pipe reject {run_id}`), then `pipe resume {run_id}`"
        ));
    }
    Ok(crate::exit_code::of_run(result))
}

/// The backends the runnable jobs and their matrix legs are planned on.
fn planned_executors(plan: &crate::plan::Plan) -> Vec<Executor> {
    let mut executors = Vec::new();
    for job in crate::plan::call::runnable_jobs(plan) {
        executors.extend(job.executor);
        if let crate::plan::Legs::Matrix { legs, .. } = &job.legs {
            executors.extend(legs.iter().filter_map(|l| l.executor));
        }
    }
    executors
}

/// Every image the run needs is there (or pulled) before anything runs: an offline machine gets
/// one clear error (exit 2) instead of a run that fails half-way.
async fn preflight_images(
    backend: &dyn Backend,
    plan: &crate::plan::Plan,
    pull: crate::backend::PullPolicy,
) -> Result<(), Error> {
    let on = Some(backend.executor());
    let mut seen = std::collections::BTreeSet::new();
    for job in crate::plan::call::runnable_jobs(plan).into_iter().filter(|j| j.executor == on) {
        // Each matrix leg may run in its own image; legs on the host need none.
        let images: Vec<(Option<&String>, Option<&String>)> = match &job.legs {
            crate::plan::Legs::Matrix { legs, .. } => legs
                .iter()
                .filter(|l| l.executor == on)
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
                backend.ensure_image(image, pull).await?;
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
                    ui.notice(&format!("notice: {note}"));
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
            ui.notice(&format!("notice: {note}"));
        }
    }
}
