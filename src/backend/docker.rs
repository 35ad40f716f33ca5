//! Placeholder until the Docker backend lands.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Exit, JobPaths, Output, StepCommand};

pub struct DockerJob {
    paths: JobPaths,
}

impl DockerJob {
    pub fn paths(&self) -> JobPaths {
        self.paths.clone()
    }

    pub async fn exec(
        &self,
        _cmd: &StepCommand,
        _out: mpsc::UnboundedSender<Output>,
        _cancel: CancellationToken,
    ) -> Result<Exit, crate::Error> {
        Err(crate::Error::docker("the Docker backend is not available in this build"))
    }

    pub async fn teardown(&self) {}
}
