//! The runner's side of approval gates: before a deployment job starts, decide whether it
//! passes (deployment mode, pre-approval, a recorded decision), is refused, or waits.

use serde_json::{Map, Value as Json};

use super::Shared;
use crate::cli::Mode;
use crate::event::Event;
use crate::plan::PlannedJob;

pub enum GateOutcome {
    Pass,
    Refused(String),
    Wait,
}

/// A decision recorded for this run (by `pipe approve`/`reject`, or a prompt).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    pub environment: String,
    pub approved: bool,
    pub by: String,
    pub comment: Option<String>,
}

pub fn decide_gate(
    shared: &Shared,
    pj: &PlannedJob,
    environment: &str,
    _needs: &Map<String, Json>,
) -> GateOutcome {
    let decided = |decision: &str, by: &str, comment: Option<String>| {
        shared.emitter.emit(Event::GateDecided {
            job: pj.id.clone(),
            environment: environment.to_string(),
            decision: decision.to_string(),
            by: by.to_string(),
            comment,
        });
    };
    if let Some(d) = shared.decisions.iter().find(|d| d.environment == environment) {
        decided(if d.approved { "approved" } else { "rejected" }, &d.by, d.comment.clone());
        return if d.approved {
            GateOutcome::Pass
        } else {
            GateOutcome::Refused(format!("the deployment to `{environment}` was rejected by {}", d.by))
        };
    }
    if shared.mode == Mode::Deployment {
        decided("auto", "pipe", None);
        return GateOutcome::Pass;
    }
    if shared.pre_approved.iter().any(|e| e == environment) {
        decided("approved", &shared.identity, Some("--approve".into()));
        return GateOutcome::Pass;
    }
    shared.emitter.emit(Event::GateWaiting {
        job: pj.id.clone(),
        name: pj.name.clone(),
        environment: environment.to_string(),
    });
    GateOutcome::Wait
}
