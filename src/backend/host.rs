//! Runs steps as processes on this machine (placeholder until the host runner lands).

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Exit, JobPaths, Output, StepCommand};

pub struct HostJob {
    paths: JobPaths,
}

impl HostJob {
    pub fn paths(&self) -> JobPaths {
        self.paths.clone()
    }

    pub async fn exec(
        &self,
        _cmd: &StepCommand,
        _out: mpsc::UnboundedSender<Output>,
        _cancel: CancellationToken,
    ) -> Result<Exit, crate::Error> {
        Err(crate::Error::env("not implemented yet"))
    }

    pub async fn teardown(&self) {}
}
