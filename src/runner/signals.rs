//! The signals a run listens to: SIGINT (Ctrl-C) and SIGTERM. Registered once per process, before
//! anything can wait (a concurrency group, a gate), and handed to the dispatcher, which decides
//! what each one means.

use tokio::signal::unix::{Signal, SignalKind, signal};

use super::cancel::CancelReason;

pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    /// From now on SIGINT and SIGTERM no longer end the process: they arrive here.
    pub fn listen() -> std::io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The next signal, as the reason to stop it gives.
    pub async fn next(&mut self) -> CancelReason {
        tokio::select! {
            _ = self.interrupt.recv() => CancelReason::Interrupt,
            _ = self.terminate.recv() => CancelReason::Terminate,
        }
    }
}
