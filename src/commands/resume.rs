//! `pipe resume RUN`: continue a paused (gate) or interrupted run with the options it was started
//! with. Finished jobs are not run again; their outputs are reused. Secrets are given again.

use crate::Error;
use crate::cli::{Global, OutputFormat, SecretArgs};
use crate::output::Ui;
use crate::plan::PlanInput;
use crate::runner::RunInputs;
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
    let mut record = store.read_record(&id)?;
    if record.status == "running" && record.pid.is_some_and(super::runs::process_alive) {
        return Err(Error::Usage { message: format!("run {id} is still running"), hint: None });
    }
    if record.status == "success" {
        ui.info(&format!("run {id} already succeeded: nothing to resume"));
        return Ok(crate::exit_code::SUCCESS);
    }
    // Its pipe process is gone: nothing of what it left may run on, clash or be kept.
    clean_up_after(ui, &mut record)?;
    let secrets = super::secrets::load(secrets)?;
    let inputs = prepare(ui, record.options.clone(), secrets)?;
    // Cancelled and interrupted legs run again: they did not finish.
    let finished = record
        .jobs
        .values()
        .filter(|r| {
            !matches!(r.result, crate::event::Conclusion::Cancelled | crate::event::Conclusion::Interrupted)
        })
        .count();
    ui.info(&format!("resuming run {id} ({finished} job leg(s) already finished)"));
    let execution = Execution {
        inputs,
        output,
        as_name,
        resume: Some(record),
        failure_lines: crate::report::FAILURE_LINES,
    };
    runtime()?.block_on(execute(ui, global, execution))
}

/// Remove what the run's dead pipe process left: host steps still running in their process
/// groups (the job would run twice at once), its scratch files (step scripts hold secret values
/// in plain text), and its containers, networks and volumes (their names would clash).
fn clean_up_after(ui: &Ui, record: &mut crate::store::RunRecord) -> Result<(), Error> {
    for (key, pgid) in std::mem::take(&mut record.processes) {
        if stop_orphan(&record.id, pgid) {
            ui.info(&format!("stopped the step of `{key}` that was left running (process group {pgid})"));
        }
    }
    // A step is recorded once it has run for a moment: one that had just started when pipe died
    // is found by the run's scratch dir in its environment.
    for pgid in unrecorded_groups(&record.id) {
        if stop_orphan(&record.id, pgid) {
            ui.info(&format!("stopped a step that was left running (process group {pgid})"));
        }
    }
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("pipe-{}", record.id)));
    if record.options.executor == crate::cli::ExecutorChoice::HOST {
        return Ok(());
    }
    let id = record.id.clone();
    runtime()?.block_on(async {
        // Each backend's engine that answers: one that does not holds nothing this resume
        // could reach anyway.
        for backend in crate::backend::Executor::ALL {
            if !backend.available().await {
                continue;
            }
            match backend.sweep(Some(&id)).await {
                Ok(Some(r)) if r.removed_any() => ui.info(&format!(
                    "removed what the run's pipe process left: {} container(s), {} network(s), {} volume(s)",
                    r.containers, r.networks, r.volumes
                )),
                Ok(_) => {}
                Err(e) => ui.notice(&format!(
                    "warning: what the run left in the {} could not be removed: {e}",
                    backend.engine()
                )),
            }
        }
    });
    Ok(())
}

/// Process groups holding a process of run `run_id` (see [`stop_orphan`]), but never this
/// process's own group.
fn unrecorded_groups(run_id: &str) -> Vec<i32> {
    let marker = format!("pipe-{run_id}/");
    let own = nix::unistd::getpgrp().as_raw();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut groups: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let group = stat.rsplit_once(')')?.1.split_whitespace().nth(2)?.parse::<i32>().ok()?;
            let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            environ.windows(marker.len()).any(|w| w == marker.as_bytes()).then_some(group)
        })
        .filter(|g| *g > 1 && *g != own)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    groups
}

/// Kill process group `pgid` if it still holds a step of run `run_id` (a process of it sees the
/// run's scratch dir in its environment: a group id reused by something else is left alone).
fn stop_orphan(run_id: &str, pgid: i32) -> bool {
    let marker = format!("pipe-{run_id}/");
    let Ok(entries) = std::fs::read_dir("/proc") else { return false };
    let ours = entries.flatten().any(|e| {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { return false };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
        // `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses.
        let group = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(2));
        if group.and_then(|g| g.parse::<i32>().ok()) != Some(pgid) {
            return false;
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        environ.windows(marker.len()).any(|w| w == marker.as_bytes())
    });
    ours && nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), nix::sys::signal::Signal::SIGKILL)
        .is_ok()
}

/// A stored run's pipeline, loaded and planned again in the run's directory with its options.
pub(super) fn prepare(
    ui: &Ui,
    o: crate::store::RunOptions,
    secrets: std::collections::BTreeMap<String, String>,
) -> Result<RunInputs, Error> {
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
    super::secrets::warn_missing(ui, &super::secrets::missing(&pipeline, &secrets, config.as_ref()));
    Ok(RunInputs { options: o, plan, pipeline, source: Some(source), config, secrets, env_file_vars })
}
