//! Why something was stopped, kept with the token that stops it: a job knows whether it was
//! interrupted, cut by fail-fast or timed out from the reason, not by guessing which token fired.

use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

use crate::event::Conclusion;

/// What stopped a run, a job or a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The first Ctrl-C (or SIGTERM): stop gracefully, run the cleanup steps.
    Interrupt,
    /// A second signal: kill at once.
    Kill,
    /// Another leg of the same matrix failed (`strategy.fail-fast`).
    FailFast,
    /// The job ran longer than its `timeout-minutes`.
    Timeout,
    /// SIGTERM: `kill`, or a newer run of the same concurrency group (`cancel-in-progress`).
    Terminate,
}

impl CancelReason {
    /// The result of a job stopped for this reason: a timeout is the job's failure, everything
    /// else a cancellation.
    pub fn conclusion(self) -> Conclusion {
        match self {
            CancelReason::Timeout => Conclusion::Failure,
            _ => Conclusion::Cancelled,
        }
    }
}

/// A cancellation token with its reason; children are cancelled with their parent and see the
/// parent's reason unless they were cancelled for one of their own first.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    token: CancellationToken,
    reason: Arc<OnceLock<CancelReason>>,
    parent: Option<Arc<Cancel>>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancelled when this one is, or on its own.
    pub fn child(&self) -> Cancel {
        Cancel {
            token: self.token.child_token(),
            reason: Arc::default(),
            parent: Some(Arc::new(self.clone())),
        }
    }

    /// Cancel for `reason` (the first reason given is kept).
    pub fn cancel(&self, reason: CancelReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    pub async fn cancelled(&self) {
        self.token.cancelled().await;
    }

    /// Why this was cancelled (`None` while it is not).
    pub fn reason(&self) -> Option<CancelReason> {
        if !self.is_cancelled() {
            return None;
        }
        self.reason.get().copied().or_else(|| self.parent.as_ref().and_then(|p| p.reason()))
    }

    /// The plain token, for backends (they only need to know when to stop).
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_sees_its_own_reason_first_then_its_parents() {
        let run = Cancel::new();
        let job = run.child();
        let leg = job.child();
        assert_eq!(leg.reason(), None);
        job.cancel(CancelReason::FailFast);
        assert_eq!(leg.reason(), Some(CancelReason::FailFast));
        assert!(!run.is_cancelled());
        run.cancel(CancelReason::Interrupt);
        assert_eq!(job.reason(), Some(CancelReason::FailFast));
        assert_eq!(run.child().reason(), Some(CancelReason::Interrupt));
    }

    #[test]
    fn the_first_reason_is_kept() {
        let leg = Cancel::new();
        leg.cancel(CancelReason::Timeout);
        leg.cancel(CancelReason::Interrupt);
        assert_eq!(leg.reason(), Some(CancelReason::Timeout));
        assert_eq!(CancelReason::Timeout.conclusion(), Conclusion::Failure);
        assert_eq!(CancelReason::Interrupt.conclusion(), Conclusion::Cancelled);
    }
}
