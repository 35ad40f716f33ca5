//! The runner's side of approval gates: before a deployment job starts, apply the policy
//! (`gate::check`), then pass, refuse, ask on a terminal, or wait for `pipe approve`. Every
//! decision is an event and a line of `audit.jsonl`.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::IsTerminal;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::Shared;
use crate::event::Event;
use crate::gate::ledger::{self, AuditRecord, Decision};
use crate::gate::{self, GateCheck};
use crate::plan::PlannedJob;

pub enum GateOutcome {
    /// The job may start; `approved_by` goes to the deployment ledger.
    Pass {
        approved_by: Option<String>,
    },
    Refused(String),
    /// Nobody here can answer: the run pauses (exit 3) for `pipe approve` + `pipe resume`.
    Wait,
    /// Ask the person at the terminal, while `pipe approve`/`pipe reject` may answer first.
    Ask(Arc<dyn Prompter>, Box<GateQuestion>),
}

/// What a person at a terminal is asked at a gate (the prompt formats it).
#[derive(Debug, Clone)]
pub struct GateQuestion {
    pub job: String,
    pub job_name: String,
    pub environment: String,
    pub sha: String,
    pub git_ref: String,
    /// `need.output` and its (masked) value, for every output of the job's needs.
    pub artifacts: Vec<(String, String)>,
    /// Finished jobs with their results: `test (success)`.
    pub passed: Vec<String>,
    pub url: Option<String>,
    pub reviewers: Option<Vec<String>>,
    /// Who answers at this terminal.
    pub identity: String,
}

/// An answer typed at the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptAnswer {
    pub approved: bool,
    pub comment: Option<String>,
}

/// Asks gate questions on a terminal. The runner never prints: the command that starts a run
/// gives it one when a person can answer.
pub trait Prompter: Send + Sync {
    /// Ask one question (one at a time); `None` when the input ended. Dropping the future
    /// withdraws the question.
    fn ask<'a>(
        &'a self,
        question: &'a GateQuestion,
    ) -> Pin<Box<dyn Future<Output = Option<PromptAnswer>> + Send + 'a>>;

    /// The question was answered elsewhere (`message` says by whom) or withdrawn.
    fn withdraw(&self, question: &GateQuestion, message: &str);

    /// The run stops (Ctrl-C): whatever question is on the screen is over.
    fn interrupted(&self);
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
        decided(shared, pj, environment, decision, by, comment, true);
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
            let Some(prompter) = shared.prompter.clone() else { return GateOutcome::Wait };
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
            GateOutcome::Ask(prompter, Box::new(question(shared, pj, environment, reviewers, ctx)))
        }
    }
}

/// What the prompt shows: the environment, the job, the commit, the artifacts from `needs`
/// outputs (masked), the jobs passed, the url and the reviewers.
fn question(
    shared: &Shared,
    pj: &PlannedJob,
    environment: &str,
    reviewers: Option<Vec<String>>,
    ctx: &GateContext<'_>,
) -> GateQuestion {
    let mut artifacts = Vec::new();
    for (need, value) in ctx.needs {
        if let Some(Json::Object(outputs)) = value.get("outputs") {
            for (k, v) in outputs {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                artifacts.push((format!("{need}.{k}"), shared.masker.mask(&v)));
            }
        }
    }
    GateQuestion {
        job: pj.id.clone(),
        job_name: pj.name.clone(),
        environment: environment.to_string(),
        sha: shared.facts.sha.clone(),
        git_ref: shared.facts.git_ref.clone(),
        artifacts,
        passed: ctx.results.iter().map(|(j, r)| format!("{j} ({r})")).collect(),
        url: ctx.url.as_ref().map(|u| shared.masker.mask(u)),
        reviewers,
        identity: shared.identity.clone(),
    }
}

/// A gate's decision, as an event, and in the audit log unless it is there already (`audit`:
/// false for an answer of `pipe approve`/`pipe reject`, which wrote it).
pub(super) fn decided(
    shared: &Shared,
    pj: &PlannedJob,
    environment: &str,
    decision: Decision,
    by: &str,
    comment: Option<String>,
    write_audit: bool,
) {
    let word = match decision {
        Decision::Approved => "approved",
        Decision::Rejected => "rejected",
        Decision::Auto => "auto",
    };
    shared.emitter.emit(Event::GateDecided {
        job: pj.id.clone(),
        environment: environment.to_string(),
        decision: word.into(),
        by: by.to_string(),
        comment: comment.clone(),
    });
    if write_audit {
        audit(shared, pj, environment, decision, by, comment);
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
    };
    if let Err(e) = ledger::append_audit(shared.store.root(), &record) {
        shared.notice("warning", format!("the audit log could not be written: {e}"));
    }
}

/// Whether pipe may ask at gates: the user is at a terminal.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}
