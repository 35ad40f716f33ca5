//! Waiting for the answer to a gate while the rest of the run goes on: the terminal prompt and
//! `pipe approve`/`pipe reject` from any other terminal race, and exactly one answer wins (the
//! answer file is created exclusively). Runs as a task of its own; the dispatcher gets the result.

use std::sync::Arc;
use std::time::Duration;

use super::Shared;
use super::gate::{GateQuestion, Prompter};
use crate::store::GateAnswer;

/// How often the answer file of a waiting gate is looked for.
const POLL: Duration = Duration::from_millis(200);

/// The answer that won.
#[derive(Debug, Clone)]
pub struct Answered {
    pub approved: bool,
    pub by: String,
    pub comment: Option<String>,
    /// Typed at this run's prompt (its audit line is still to be written); otherwise given by
    /// `pipe approve`/`pipe reject`, which wrote it.
    pub here: bool,
}

/// Wait for the gate of `question.environment`. `None`: the input of the prompt ended (Ctrl-D)
/// without an answer.
pub async fn answer(
    shared: Arc<Shared>,
    prompter: Arc<dyn Prompter>,
    question: GateQuestion,
) -> Option<Answered> {
    let environment = question.environment.clone();
    let elsewhere = || {
        shared
            .store
            .answers(&shared.run_id)
            .into_iter()
            .find(|a| a.environment.eq_ignore_ascii_case(&environment))
    };
    let ask = prompter.ask(&question);
    tokio::pin!(ask);
    let mut poll = tokio::time::interval(POLL);
    let typed = loop {
        tokio::select! {
            typed = &mut ask => break typed?,
            _ = poll.tick() => {
                if let Some(winner) = elsewhere() {
                    prompter.withdraw(&question, &format!("the `{environment}` gate was {}", won_by(&winner)));
                    return Some(from_file(winner));
                }
            }
        }
    };
    let record = GateAnswer {
        environment: environment.clone(),
        approved: typed.approved,
        by: question.identity.clone(),
        comment: typed.comment.clone(),
        ts: crate::event::now_rfc3339(),
    };
    match shared.store.record_answer(&shared.run_id, &record) {
        Ok(Ok(())) => {}
        Ok(Err(winner)) => {
            shared.notice("notice", format!("the `{environment}` gate was already {}", won_by(&winner)));
            return Some(from_file(winner));
        }
        Err(e) => shared.notice("warning", format!("the answer could not be recorded: {e}")),
    }
    Some(Answered { approved: typed.approved, by: record.by, comment: typed.comment, here: true })
}

fn won_by(a: &GateAnswer) -> String {
    format!("{} by {} from another terminal", if a.approved { "approved" } else { "rejected" }, a.by)
}

fn from_file(a: GateAnswer) -> Answered {
    Answered { approved: a.approved, by: a.by, comment: a.comment, here: false }
}
