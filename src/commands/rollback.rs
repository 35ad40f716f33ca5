//! `pipe rollback ENV [--to VERSION]`: bring back the previous known-good artifact of an
//! environment (or VERSION) from the ledger. The deployment job that put it there runs again, in
//! a new run whose other jobs are the finished legs of the run that built it: their recorded
//! outputs (the image tag) are reused and nothing is rebuilt. The gate of the environment decides
//! as for any deploy; the request, the gate decision and the deployment are recorded as a
//! rollback.

use crate::Error;
use crate::cli::{Global, RollbackArgs};
use crate::gate::inventory;
use crate::gate::ledger::{self, AuditRecord, Decision, Rollback};
use crate::output::Ui;
use crate::store::{RunRecord, Store};

use super::resume::prepare;
use super::run::{Execution, execute, runtime};

pub fn run(ui: &Ui, global: &Global, store: &Store, args: RollbackArgs) -> Result<i32, Error> {
    let records = ledger::read_deployments(store.root())?;
    let usage =
        |message: String| Error::Usage { message, hint: Some("see what ran where: pipe history".into()) };
    let (target, now) =
        inventory::rollback_target(&records, &args.environment, args.to.as_deref()).map_err(usage)?;
    let (target, now) = (&records[target], &records[now]);
    let original = store.read_record(&target.run_id).map_err(|e| Error::Environment {
        message: format!(
            "the run {} that deployed {} is gone from the state dir ({e}): its outputs cannot be reused",
            target.run_id,
            inventory::artifact(target)
        ),
        hint: Some("deploy that version again with pipe run (it will be rebuilt)".into()),
    })?;
    let by = crate::gate::identity(args.as_name.as_deref());
    let mut options = original.options.clone();
    options.jobs = vec![target.job.clone()];
    options.mode = args.mode;
    options.approve = args.approve.clone();
    options.rollback = Some(Rollback { of_run: target.run_id.clone(), by: by.clone() });
    // The legs of the original run other than the deploy job count as finished: the deploy job
    // gets their recorded outputs.
    let finished = original
        .jobs
        .iter()
        .filter(|(_, leg)| leg.job != target.job && leg.result == crate::event::Conclusion::Success)
        .map(|(key, leg)| (key.clone(), leg.clone()))
        .collect();

    let secrets = super::secrets::load(&args.secrets)?;
    let inputs = prepare(ui, options, secrets)?;
    let options = &inputs.options;
    if !inputs.plan.jobs.iter().any(|j| j.id == target.job) {
        return Err(Error::Usage {
            message: format!(
                "{} has no job `{}` any more: it cannot be run again",
                options.pipeline, target.job
            ),
            hint: None,
        });
    }

    let id = store.create_run()?;
    let record = RunRecord {
        id: id.clone(),
        status: "running".into(),
        started: crate::event::now_rfc3339(),
        finished: None,
        pid: Some(std::process::id()),
        options: options.clone(),
        jobs: finished,
        waiting: Default::default(),
        processes: Default::default(),
    };
    store.write_record(&record)?;
    ledger::append_audit(
        store.root(),
        &AuditRecord {
            v: ledger::VERSION,
            ts: ledger::now(),
            run_id: id.clone(),
            job: target.job.clone(),
            environment: target.environment.clone(),
            sha: target.sha.clone(),
            decision: Decision::Rollback,
            by: by.clone(),
            comment: Some(format!(
                "bring back {} (run {}) in place of {} (run {})",
                inventory::artifact(target),
                target.run_id,
                inventory::artifact(now),
                now.run_id
            )),
            rollback: options.rollback.clone(),
        },
    )?;
    ui.info(&format!(
        "rollback of `{}` by {by}: job `{}` of run {} runs again in run {id} with its recorded outputs ({}); nothing is rebuilt",
        target.environment,
        target.job,
        target.run_id,
        inventory::artifact(target)
    ));
    let execution = Execution {
        inputs,
        output: args.output,
        as_name: args.as_name,
        resume: Some(record),
        failure_lines: crate::report::FAILURE_LINES,
    };
    runtime()?.block_on(execute(ui, global, execution))
}
