//! A job container made ahead of its job: created (not started) with the workspace copied in,
//! while the jobs it needs still run, so that once they are done the job only starts it.
//!
//! Made from the setup the job is expected to have; a job that starts with another setup (an
//! image or an env value that read a need's outputs) does not use it. Jobs with services are not
//! made ahead: their containers share a network and start together.

use bollard::Docker;
use tokio_util::sync::CancellationToken;

use super::container::{Start, begin, cleaned_up, job_container, start};
use super::{DockerJob, docker_name, engine_is_remote, labels};
use crate::Error;
use crate::backend::JobSetup;

/// A created job container, not started yet, and the setup it was made for.
pub struct PreparedJob {
    setup: JobSetup,
    job: DockerJob,
}

/// Whether a job of this setup can be made ahead (it has no services).
pub fn can_prepare(setup: &JobSetup) -> bool {
    setup.services.is_empty()
}

/// Make the job container of `setup` without starting it: images checked (pulled per
/// `setup.pull`), the container created and the workspace copied in. What fails midway is
/// removed again.
pub async fn prepare_job(docker: &Docker, setup: &JobSetup) -> Result<PreparedJob, Error> {
    if !can_prepare(setup) {
        return Err(Error::docker(format!("job {}: a job with services is not made ahead", setup.job_key)));
    }
    let remote = engine_is_remote();
    let (mut job, image, options, _) = begin(docker, setup, remote).await?;
    let labels = labels(&setup.run_id, &setup.job_key);
    let name = docker_name(&["pipe", &setup.run_id, &setup.job_key]);
    let created =
        job_container(docker, setup, &image, &job, &options, &labels, &name, None, Start::Later).await;
    job.container_id = cleaned_up(&job, created).await?;
    Ok(PreparedJob { setup: setup.clone(), job })
}

impl PreparedJob {
    /// Whether it was made for a job of exactly this setup.
    pub fn fits(&self, setup: &JobSetup) -> bool {
        self.setup == *setup
    }

    /// Start the container: the job is ready for its steps. When that fails, or `cancel` fires
    /// first, the container is removed ([`Error::Cancelled`] for the latter).
    pub async fn start(self, cancel: &CancellationToken) -> Result<DockerJob, Error> {
        let what =
            format!("job container {}", docker_name(&["pipe", &self.setup.run_id, &self.setup.job_key]));
        let started = tokio::select! {
            started = start(&self.job.docker, &self.job.container_id, &what) => started,
            () = cancel.cancelled() => Err(Error::Cancelled),
        };
        cleaned_up(&self.job, started).await?;
        Ok(self.job)
    }

    /// Remove it, unused. Returns what could not be removed.
    pub async fn discard(self) -> Vec<String> {
        self.job.teardown().await
    }

    /// Id of its container.
    pub fn container_id(&self) -> &str {
        self.job.container_id()
    }
}
