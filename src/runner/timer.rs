//! Job timeouts, kept by the dispatcher: a leg arms its timer when its steps start (each retry
//! attempt anew), and the dispatcher's loop cancels the attempt with [`CancelReason::Timeout`]
//! when it runs out. No task per timer, no sleeping inside the leg.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::cancel::Cancel;

/// A timer the dispatcher keeps for one leg.
pub(super) struct Armed {
    pub leg: u64,
    pub at: Instant,
    pub cancel: Cancel,
}

/// What a leg holds to arm its timer.
#[derive(Clone)]
pub(super) struct JobTimer {
    leg: u64,
    tx: mpsc::UnboundedSender<Armed>,
}

impl JobTimer {
    pub(super) fn new(leg: u64, tx: mpsc::UnboundedSender<Armed>) -> JobTimer {
        JobTimer { leg, tx }
    }

    /// Cancel `cancel` for a timeout `after` from now (replacing this leg's earlier timer).
    pub(super) fn arm(&self, after: Duration, cancel: &Cancel) {
        // A deadline too far to represent is no deadline.
        let Some(at) = Instant::now().checked_add(after) else { return };
        let _ = self.tx.send(Armed { leg: self.leg, at, cancel: cancel.clone() });
    }
}
