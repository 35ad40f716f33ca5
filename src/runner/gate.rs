//! The runner's side of approval gates: before a deployment job starts, apply the policy
//! (`gate::check`), then pass, refuse, ask on a terminal, or wait for `pipe approve`. Every
//! decision is an event and a line of `audit.jsonl`.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

use serde_json::{Map, Value as Json};

use super::Shared;
use crate::event::Event;
use crate::gate::ledger::{self, AuditRecord, Decision};
use crate::gate::{self, GateCheck};
use crate::plan::PlannedJob;
use crate::store::GateAnswer;

pub enum GateOutcome {
    /// The job may start; `approved_by` goes to the deployment ledger.
    Pass {
        approved_by: Option<String>,
    },
    Refused(String),
    Wait,
}

/// What the prompt shows besides the environment.
pub struct GateContext<'a> {
    pub needs: &'a Map<String, Json>,
    /// Results of every finished job (for `requires`).
    pub results: &'a BTreeMap<String, String>,
    pub url: Option<String>,
}

pub fn decide_gate(
    shared: &Shared,
    pj: &PlannedJob,
    environment: &str,
    ctx: &GateContext<'_>,
) -> GateOutcome {
    let config = shared.config.as_ref();
    let policy = config.and_then(|c| c.environment(environment));
    // Gate jobs named by `requires` must have passed, whatever the mode.
    if let Some(p) = policy {
        for req in &p.requires {
            match ctx.results.get(req).map(String::as_str) {
                Some("success") => {}
                Some(other) => {
                    return GateOutcome::Refused(format!(
                        "gate job `{req}` did not pass ({other}): `{environment}` requires it"
                    ));
                }
                None => {
                    return GateOutcome::Refused(format!(
                        "gate job `{req}` did not run in this run: `{environment}` requires it"
                    ));
                }
            }
        }
    }
    let decided = |decision: Decision, by: &str, comment: Option<String>| {
        let word = match decision {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
            Decision::Auto => "auto",
            Decision::Rollback => "rollback",
        };
        shared.emitter.emit(Event::GateDecided {
            job: pj.id.clone(),
            environment: environment.to_string(),
            decision: word.into(),
            by: by.to_string(),
            comment: comment.clone(),
        });
        audit(shared, pj, environment, decision, by, comment);
    };
    match gate::check(environment, config, shared.mode, &shared.pre_approved, &shared.facts.git_ref) {
        GateCheck::NoGate => GateOutcome::Pass { approved_by: None },
        GateCheck::Refused { reason } => {
            decided(Decision::Rejected, "pipe", Some(reason.clone()));
            GateOutcome::Refused(format!("deployment to `{environment}` refused: {reason}"))
        }
        GateCheck::Auto => {
            decided(Decision::Auto, "auto", None);
            GateOutcome::Pass { approved_by: Some("auto".into()) }
        }
        GateCheck::PreApproved => match gate::may_decide(policy, &shared.identity) {
            Ok(()) => {
                decided(Decision::Approved, &shared.identity, Some("--approve".into()));
                GateOutcome::Pass { approved_by: Some(shared.identity.clone()) }
            }
            Err(why) => GateOutcome::Refused(format!("--approve {environment}: {why}")),
        },
        GateCheck::Wait { reviewers } => {
            // An answer given with `pipe approve`/`pipe reject` (already in the audit log).
            if let Some(a) = shared
                .store
                .answers(&shared.run_id)
                .into_iter()
                .find(|a| a.environment.eq_ignore_ascii_case(environment))
            {
                shared.emitter.emit(Event::GateDecided {
                    job: pj.id.clone(),
                    environment: environment.to_string(),
                    decision: if a.approved { "approved" } else { "rejected" }.into(),
                    by: a.by.clone(),
                    comment: a.comment.clone(),
                });
                return if a.approved {
                    GateOutcome::Pass { approved_by: Some(a.by) }
                } else {
                    GateOutcome::Refused(format!(
                        "the deployment to `{environment}` was rejected by {}",
                        a.by
                    ))
                };
            }
            shared.emitter.emit(Event::GateWaiting {
                job: pj.id.clone(),
                name: pj.name.clone(),
                environment: environment.to_string(),
            });
            if !shared.interactive {
                return GateOutcome::Wait;
            }
            if let Err(why) = gate::may_decide(policy, &shared.identity) {
                shared.notice(
                    "notice",
                    format!(
                        "{why}: waiting for a reviewer (`pipe approve {}` as one of them)",
                        shared.run_id
                    ),
                );
                return GateOutcome::Wait;
            }
            let answer =
                tokio::task::block_in_place(|| prompt(shared, pj, environment, reviewers.as_deref(), ctx));
            let Some((approved, comment)) = answer else { return GateOutcome::Wait };
            let record = GateAnswer {
                environment: environment.to_string(),
                approved,
                by: shared.identity.clone(),
                comment: comment.clone(),
                ts: crate::event::now_rfc3339(),
            };
            match shared.store.record_answer(&shared.run_id, &record) {
                Ok(Ok(())) => {}
                Ok(Err(winner)) => {
                    shared.notice(
                        "notice",
                        format!(
                            "the gate was already answered by {} ({})",
                            winner.by,
                            if winner.approved { "approved" } else { "rejected" }
                        ),
                    );
                    return if winner.approved {
                        GateOutcome::Pass { approved_by: Some(winner.by) }
                    } else {
                        GateOutcome::Refused(format!(
                            "the deployment to `{environment}` was rejected by {}",
                            winner.by
                        ))
                    };
                }
                Err(e) => shared.notice("warning", format!("the answer could not be recorded: {e}")),
            }
            decided(
                if approved { Decision::Approved } else { Decision::Rejected },
                &shared.identity,
                comment,
            );
            if approved {
                GateOutcome::Pass { approved_by: Some(shared.identity.clone()) }
            } else {
                GateOutcome::Refused(format!(
                    "the deployment to `{environment}` was rejected by {}",
                    shared.identity
                ))
            }
        }
    }
}

pub fn audit(
    shared: &Shared,
    pj: &PlannedJob,
    environment: &str,
    decision: Decision,
    by: &str,
    comment: Option<String>,
) {
    let record = AuditRecord {
        v: ledger::VERSION,
        ts: ledger::now(),
        run_id: shared.run_id.clone(),
        job: pj.id.clone(),
        environment: environment.to_string(),
        sha: shared.facts.sha.clone(),
        decision,
        by: by.to_string(),
        comment: comment.map(|c| shared.masker.mask(&c)),
        rollback: shared.rollback(),
    };
    if let Err(e) = ledger::append_audit(shared.store.root(), &record) {
        shared.notice("warning", format!("the audit log could not be written: {e}"));
    }
}

/// Ask on the terminal. `None`: no answer (end of input).
fn prompt(
    shared: &Shared,
    pj: &PlannedJob,
    environment: &str,
    reviewers: Option<&[String]>,
    ctx: &GateContext<'_>,
) -> Option<(bool, Option<String>)> {
    let mut err = std::io::stderr().lock();
    let sha: String = shared.facts.sha.chars().take(12).collect();
    let _ = writeln!(err, "\nDeploy to `{environment}`?");
    let _ = writeln!(err, "  job:       {} ({})", pj.name, pj.id);
    let _ = writeln!(err, "  commit:    {sha} on {}", shared.facts.git_ref);
    for (need, value) in ctx.needs {
        if let Some(Json::Object(outputs)) = value.get("outputs") {
            for (k, v) in outputs {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                let _ = writeln!(err, "  artifact:  {need}.{k} = {}", shared.masker.mask(&v));
            }
        }
    }
    let passed: Vec<String> = ctx.results.iter().map(|(j, r)| format!("{j} ({r})")).collect();
    let _ = writeln!(err, "  passed:    {}", if passed.is_empty() { "-".into() } else { passed.join(", ") });
    if let Some(u) = &ctx.url {
        let _ = writeln!(err, "  url:       {u}");
    }
    if let Some(r) = reviewers {
        let _ = writeln!(err, "  reviewers: {}", r.join(", "));
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        let _ = write!(err, "Approve as {}? [y]es / [n]o: ", shared.identity);
        let _ = err.flush();
        let line = lines.next()?.ok()?;
        let approved = match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => true,
            "n" | "no" => false,
            _ => continue,
        };
        let _ = write!(err, "Comment (optional): ");
        let _ = err.flush();
        let comment =
            lines.next().and_then(Result::ok).map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        return Some((approved, comment));
    }
}

/// Whether pipe may ask at gates: the user is at a terminal.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}
