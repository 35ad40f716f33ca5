//! `pipe approve RUN` / `pipe reject RUN`: answer a gate of a waiting run from any terminal.
//! Exactly one answer per gate wins; the answer goes to `audit.jsonl`; `pipe resume` continues.

use std::path::Path;

use crate::Error;
use crate::cli::Decision as Args;
use crate::gate::ledger::{self, AuditRecord, Decision};
use crate::output::Ui;
use crate::store::{GateAnswer, Store};

pub fn run(ui: &Ui, store: &Store, args: &Args, approved: bool) -> Result<i32, Error> {
    let id = store.resolve(&args.run)?;
    let record = store.read_record(&id)?;
    if record.waiting.is_empty() {
        return Err(Error::Usage {
            message: format!("run {id} is not waiting at a gate (status: {})", record.status),
            hint: None,
        });
    }
    let mut envs: Vec<(&String, &String)> = record.waiting.iter().map(|(job, env)| (env, job)).collect();
    envs.sort();
    envs.dedup_by(|a, b| a.0 == b.0);
    let (environment, job) = match &args.environment {
        Some(e) => {
            envs.iter().find(|(env, _)| env.eq_ignore_ascii_case(e)).copied().ok_or_else(|| Error::Usage {
                message: format!("run {id} has no gate waiting for `{e}`"),
                hint: Some(format!(
                    "waiting: {}",
                    envs.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>().join(", ")
                )),
            })?
        }
        None if envs.len() == 1 => envs[0],
        None => {
            return Err(Error::Usage {
                message: format!("run {id} waits at several gates"),
                hint: Some(format!(
                    "name one with --env: {}",
                    envs.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>().join(", ")
                )),
            });
        }
    };
    let who = crate::gate::identity(args.as_name.as_deref());
    let (config, _) = crate::gate::load(Path::new(&record.options.workdir))?;
    let policy = config.as_ref().and_then(|c| c.environment(environment));
    crate::gate::may_decide(policy, &who).map_err(|why| Error::Usage {
        message: why,
        hint: Some("decide as a reviewer with --as NAME".into()),
    })?;
    let answer = GateAnswer {
        environment: environment.clone(),
        approved,
        by: who.clone(),
        comment: args.comment.clone(),
        ts: crate::event::now_rfc3339(),
    };
    if let Err(winner) = store.record_answer(&id, &answer)? {
        return Err(Error::Usage {
            message: format!(
                "the `{environment}` gate of run {id} was already {} by {} at {}",
                if winner.approved { "approved" } else { "rejected" },
                winner.by,
                winner.ts
            ),
            hint: None,
        });
    }
    ledger::append_audit(
        store.root(),
        &AuditRecord {
            v: ledger::VERSION,
            ts: ledger::now(),
            run_id: id.clone(),
            job: job.clone(),
            environment: environment.clone(),
            sha: record.options.sha.clone(),
            decision: if approved { Decision::Approved } else { Decision::Rejected },
            by: who.clone(),
            comment: args.comment.clone(),
        },
    )?;
    let verb = if approved { "approved" } else { "rejected" };
    ui.stdout(&format!("{verb} the deployment of run {id} to `{environment}` as {who}\n"));
    ui.info(&format!("continue the run with: pipe resume {id}"));
    Ok(crate::exit_code::SUCCESS)
}
