//! A whole run, once it is decided that it runs: the shared state of its jobs, the workflow's
//! concurrency group, the dispatcher, and the run record's final state. It says everything as
//! events; the command around it chooses the reporters and maps the result to an exit code.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::cancel::Cancel;
use super::dispatcher::dispatch_run;
use super::emitter::Emitter;
use super::gate::Prompter;
use super::signals::Signals;
use super::{Frame, RemoteActions, RunFacts, Shared};
use crate::Error;
use crate::event::{Event, RunResult};
use crate::mask::Masker;
use crate::store::{RunOptions, RunRecord, Store};

/// What a run is made of, whichever command starts it (run, resume, rollback): its options, the
/// planned pipeline, and the values its steps read.
pub struct RunInputs {
    pub options: RunOptions,
    pub plan: crate::plan::Plan,
    pub pipeline: crate::model::Pipeline,
    /// The pipeline file's text, for the positions of evaluation errors.
    pub source: Option<crate::source::Source>,
    pub config: Option<crate::gate::Config>,
    pub secrets: BTreeMap<String, String>,
    pub env_file_vars: BTreeMap<String, String>,
}

/// Everything a run starts from: its inputs, and where it records and says what happens.
pub struct RunRequest {
    pub store: Store,
    /// The run's record, already written as running.
    pub record: RunRecord,
    pub inputs: RunInputs,
    pub masker: Masker,
    pub emitter: Emitter,
    /// The backends jobs run on (see [`crate::backend::Backends::connect`]).
    pub backends: crate::backend::Backends,
    pub actions: RemoteActions,
    /// Who runs it (the actor, and who answers at the prompt).
    pub identity: String,
    pub prompter: Option<Arc<dyn Prompter>>,
    pub signals: Signals,
}

/// Run the plan to its end (or its pause at a gate); the record is written as it ends. `busy`
/// hears about a busy concurrency group (before the run starts, so not as an event).
pub async fn run(request: RunRequest, busy: &(dyn Fn(&str) + Sync)) -> Result<RunResult, Error> {
    let RunRequest {
        store,
        mut record,
        inputs: RunInputs { options, plan, pipeline, source, config, secrets, env_file_vars },
        masker,
        emitter,
        backends,
        actions,
        identity,
        prompter,
        mut signals,
    } = request;
    let run_id = record.id.clone();
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
        actor: identity.clone(),
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
        docker: backends.docker_api(),
        backends,
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
        prompter,
        identity: identity.clone(),
        record: Arc::new(std::sync::Mutex::new(record.clone())),
        cancel: cancel.clone(),
        force,
        frame: Frame::default(),
        actions: Arc::new(actions),
        ahead: Arc::default(),
        reaper: Arc::default(),
    });
    // A workflow-level concurrency group: wait for (or stop) the run that holds it.
    let _group = match &shared.pipeline.concurrency {
        Some(c) => {
            let group = shared
                .scope("")
                .text(crate::expr::Location::Concurrency, &c.group)
                .map_err(|e| Error::env(e.describe("concurrency group")))?;
            let cancel_older = matches!(c.cancel_in_progress, Some(crate::model::Flag::Value(true, _)));
            let guard = super::concurrency::acquire(store.root(), &group, cancel_older, |holder| {
                let who = holder.map(|p| format!(" (pipe process {p})")).unwrap_or_default();
                if cancel_older {
                    busy(&format!(
                        "concurrency group `{group}` is busy{who}: cancelling the run in progress"
                    ));
                } else {
                    busy(&format!("concurrency group `{group}` is busy{who}: waiting for it"));
                }
            });
            tokio::select! {
                g = guard => Some(g?),
                _ = signals.next() => {
                    // Nothing ran: the run is over, not interrupted half-way.
                    record.status = "cancelled".into();
                    record.finished = Some(crate::event::now_rfc3339());
                    record.pid = None;
                    store.write_final_record(&record)?;
                    return Ok(RunResult::Cancelled);
                }
            }
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
    // No container outlives the run: the unused ones made ahead, and every teardown still going.
    super::ahead::discard_all(&shared);
    shared.reaper.wait_all().await;
    let mut record = match shared.record.lock() {
        Ok(r) => r.clone(),
        Err(p) => p.into_inner().clone(),
    };
    // Scratch space of the run's jobs (scripts, env files, workspaces): nothing of it is kept.
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("pipe-{run_id}")));
    // A run whose state could not be written (a full disk) did not succeed, whatever its jobs
    // did: its logs and records are incomplete.
    let mut finished = finished;
    // Its unrecorded legs are interrupted (resume runs them again); the run itself failed.
    if emitter.write_error().is_some()
        && matches!(finished.result, RunResult::Success | RunResult::Waiting | RunResult::Interrupted)
    {
        finished.result = RunResult::Failure;
    }
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
        RunResult::Interrupted => "interrupted",
    }
    .into();
    record.finished = Some(crate::event::now_rfc3339());
    record.pid = None;
    store.write_final_record(&record)?;
    Ok(finished.result)
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
