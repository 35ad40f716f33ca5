//! `pipe resume RUN`: continue a paused (gate) or interrupted run with the options it was started
//! with. Finished jobs are not run again; their outputs are reused. Secrets are given again.

use crate::Error;
use crate::cli::{Global, OutputFormat, SecretArgs};
use crate::output::Ui;
use crate::plan::PlanInput;
use crate::store::Store;

use super::run::{Execution, execute, runtime};

pub fn run(
    ui: &Ui,
    global: &Global,
    store: &Store,
    spec: &str,
    secrets: &SecretArgs,
    output: OutputFormat,
    as_name: Option<String>,
) -> Result<i32, Error> {
    let id = store.resolve(spec)?;
    let record = store.read_record(&id)?;
    if record.status == "running" && record.pid.is_some_and(super::runs::process_alive) {
        return Err(Error::Usage { message: format!("run {id} is still running"), hint: None });
    }
    if record.status == "success" {
        ui.info(&format!("run {id} already succeeded: nothing to resume"));
        return Ok(crate::exit_code::SUCCESS);
    }
    let o = record.options.clone();
    let secrets = super::secrets::load(secrets)?;
    let Prepared { plan, pipeline, source, config, env_file_vars } = prepare(ui, &o, &secrets)?;
    ui.info(&format!("resuming run {id} ({} job leg(s) already finished)", record.jobs.len()));
    let execution = Execution {
        options: o,
        plan,
        pipeline,
        source: Some(source),
        config,
        secrets,
        env_file_vars,
        output,
        as_name,
        resume: Some(record),
        failure_lines: crate::report::FAILURE_LINES,
    };
    runtime()?.block_on(execute(ui, global, execution))
}

/// A stored run's pipeline, loaded and planned again in the run's directory with its options.
pub(super) struct Prepared {
    pub plan: crate::plan::Plan,
    pub pipeline: crate::model::Pipeline,
    pub source: crate::source::Source,
    pub config: Option<crate::gate::Config>,
    pub env_file_vars: std::collections::BTreeMap<String, String>,
}

pub(super) fn prepare(
    ui: &Ui,
    o: &crate::store::RunOptions,
    secrets: &std::collections::BTreeMap<String, String>,
) -> Result<Prepared, Error> {
    std::env::set_current_dir(&o.workdir).map_err(|e| Error::Environment {
        message: format!("the run's directory {} is not usable: {e}", o.workdir.display()),
        hint: None,
    })?;
    let file = std::path::PathBuf::from(&o.pipeline);
    let mut input = PlanInput {
        pipeline_path: o.pipeline.clone(),
        event: o.event.clone(),
        git_ref: o.git_ref.clone(),
        sha: o.sha.clone(),
        changed_files: None,
        event_payload: o.event_payload.clone(),
        inputs: o.inputs.iter().cloned().collect(),
        jobs: o.jobs.clone(),
        mode: o.mode,
        platforms: o.platforms.clone(),
        executor: o.executor,
        vars: o.vars.iter().cloned().collect(),
        actions: o.actions.clone(),
        fetch: true,
    };
    let context =
        super::Context { input: &input, vars: &o.vars, secret_names: secrets.keys().cloned().collect() };
    let (pipeline, config, source) = super::load_valid_with_source(ui, &file, o.syntax, &context)?;
    if let Some(c) = &config {
        for p in &c.platforms {
            if !input.platforms.contains(p) {
                input.platforms.push(p.clone());
            }
        }
    }
    let plan = crate::plan::build(&pipeline, &input)?;
    let env_file_vars = super::secrets::env_files(&o.env_files)?;
    super::secrets::warn_missing(ui, &super::secrets::missing(&pipeline, secrets, config.as_ref()));
    Ok(Prepared { plan, pipeline, source, config, env_file_vars })
}
