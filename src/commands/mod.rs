//! One file per command: each turns parsed flags into work and returns an exit code.

mod completions;
mod decide;
mod history;
mod logs;
mod plan;
mod prompt;
mod prune;
mod resume;
mod rollback;
mod run;
mod runs;
mod schema;
mod secrets;
mod validate;

use std::path::Path;

use crate::Error;
use crate::cli::{Cli, Command};
use crate::output::Ui;
use crate::store::Store;

pub fn dispatch(cli: Cli) -> Result<i32, Error> {
    let ui = Ui::new(&cli.global);
    let store = Store::new(&cli.global.state_dir);
    match cli.command {
        Command::Validate { paths, format, actions, syntax, no_shellcheck } => {
            validate::run(&ui, &paths, format, &actions, syntax, !no_shellcheck)
        }
        Command::Schema => schema::run(&ui),
        Command::Completions { shell } => Ok(completions::completions(&ui, shell)),
        Command::Man => completions::man(&ui),
        Command::Run(args) => run::run(&ui, &cli.global, *args),
        Command::Runs => runs::run(&ui, &store),
        Command::Logs { run, job, follow } => logs::run(&ui, &store, &run, job.as_deref(), follow),
        Command::History { environment, artifact } => {
            history::run(&ui, &cli.global.state_dir, environment.as_deref(), artifact.as_deref())
        }
        Command::Rollback(args) => rollback::run(&ui, &cli.global, &store, args),
        Command::Approve(args) => decide::run(&ui, &store, &args, true),
        Command::Reject(args) => decide::run(&ui, &store, &args, false),
        Command::Resume { run, secrets, output, as_name } => {
            resume::run(&ui, &cli.global, &store, &run, &secrets, output, as_name)
        }
        Command::Prune => prune::run(&ui),
        Command::Plan { file, select, format, actions } => plan::run(&ui, &file, &select, format, &actions),
    }
}

/// Read and validate a pipeline (and pipe.toml, from the current directory) for `plan`/`run`:
/// errors stop here (exit 2, diagnostics on stderr); warnings are printed and do not block.
/// `context` is the pipeline being planned: a GitLab file's rules are decided for it.
pub fn load_valid(
    ui: &Ui,
    file: &Path,
    syntax: crate::gitlab::Syntax,
    context: &Context,
) -> Result<(crate::model::Pipeline, Option<crate::gate::Config>), Error> {
    load_valid_with_source(ui, file, syntax, context).map(|(p, c, _)| (p, c))
}

/// [`load_valid`], also giving the file's text (the runner points evaluation errors into it).
pub fn load_valid_with_source(
    ui: &Ui,
    file: &Path,
    syntax: crate::gitlab::Syntax,
    context: &Context,
) -> Result<(crate::model::Pipeline, Option<crate::gate::Config>, crate::source::Source), Error> {
    let color = ui.color_stderr();
    let (config, config_diags) = crate::gate::load(Path::new("."))?;
    let mut config_errors = 0;
    if let Some(source) = config.as_ref().and_then(|c| c.source.as_ref()) {
        for d in &config_diags {
            crate::output::stderr(&crate::render::text_one(source, d, color));
        }
        config_errors = config_diags.iter().filter(|d| d.is_error()).count();
    }
    let gitlab = context.gitlab(config.as_ref());
    // Remote called workflows are checked when the plan reads them (it may fetch them first).
    let calls = crate::reusable::Lookup::here();
    let checked = validate::check_file_for(file, config.as_ref(), syntax, Some(&gitlab), calls)?;
    for d in &checked.diagnostics {
        if d.severity != crate::diagnostic::Severity::Note || ui.verbose {
            crate::output::stderr(&crate::render::text_one(checked.source_of(d.span), d, color));
        }
    }
    if config_errors > 0 {
        return Err(Error::InvalidPipeline { path: "pipe.toml".into(), count: config_errors });
    }
    let errors = checked.errors();
    match checked.pipeline {
        Some(p) if errors == 0 => Ok((p, config, checked.source)),
        _ => Err(Error::InvalidPipeline { path: file.display().to_string(), count: errors.max(1) }),
    }
}

/// What `plan`/`run`/`resume` know about the pipeline before loading it.
pub struct Context<'a> {
    pub input: &'a crate::plan::PlanInput,
    /// `--var` values.
    pub vars: &'a [(String, String)],
    pub secret_names: Vec<String>,
}

impl Context<'_> {
    fn gitlab(&self, config: Option<&crate::gate::Config>) -> crate::gitlab::Context {
        crate::gitlab::Context {
            event: self.input.event.clone(),
            git_ref: self.input.git_ref.clone(),
            sha: self.input.sha.clone(),
            changed_files: self.input.changed_files.clone(),
            vars: self.vars.to_vec(),
            project_vars: config.map(|c| c.variables.clone()).unwrap_or_default(),
            project_dir: std::path::PathBuf::from("."),
            secret_names: self.secret_names.clone(),
            selected: self.input.jobs.clone(),
        }
    }
}

/// `NAME=VALUE` flag values.
pub fn pairs(values: &[String], flag: &str) -> Result<Vec<(String, String)>, Error> {
    values
        .iter()
        .map(|v| {
            v.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| Error::Usage {
                message: format!("{flag} {v}: expected NAME=VALUE"),
                hint: None,
            })
        })
        .collect()
}

/// Where actions come from: the flags over pipe.toml's `[actions] source`.
pub fn action_sources(
    args: &crate::cli::ActionArgs,
    config: Option<&crate::gate::Config>,
) -> Result<crate::fetch::Sources, Error> {
    let source = args.source.clone().or_else(|| config.and_then(|c| c.actions.source.clone()));
    crate::fetch::Sources { source, local: Vec::new(), offline: args.offline }
        .with_local_flags(&args.local)
        .map_err(Error::usage)
}

/// The remote actions of the plan's jobs: fetched (`pipe run`) or looked up in the cache only.
pub fn action_inventory(
    pipeline: &crate::model::Pipeline,
    plan: &crate::plan::Plan,
    fetcher: &crate::fetch::Fetcher,
    config: Option<&crate::gate::Config>,
    fetch: bool,
) -> crate::runner::inventory::Inventory {
    let disabled = config.map(|c| c.actions.disable_builtin.clone()).unwrap_or_default();
    let workdir = std::env::current_dir().unwrap_or_else(|_| Path::new(".").to_path_buf());
    crate::runner::inventory::collect(pipeline, plan, fetcher, &disabled, &workdir, fetch)
}
