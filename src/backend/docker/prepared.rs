//! A job container made ahead of its job: created and started, the workspace copied in, while
//! the jobs it needs still run, so that once they are done the job's steps begin at once. (Made
//! but not started, the job still waited for the engine's start, which is most of a container's
//! setup; idle, the container only runs `tail`, and never what the image would run.)
//!
//! Made from the setup the job is expected to have; a job that starts with another setup (an
//! image or an env value that read a need's outputs) does not use it. Jobs with services are not
//! made ahead (their containers share a network and start together), nor jobs whose container
//! publishes host ports.

use bollard::Docker;
use tokio_util::sync::CancellationToken;

use super::container::{begin, cleaned_up, job_container};
use super::{DockerJob, docker_name, engine_is_remote, labels};
use crate::Error;
use crate::backend::JobSetup;

/// A job container made and started for a job that has not begun, and the setup it was made for.
pub struct PreparedJob {
    setup: JobSetup,
    job: DockerJob,
}

/// Whether a job of this setup can be made ahead: it has no services, and its container
/// publishes no host ports (started ahead, it would hold them while other jobs run).
pub fn can_prepare(setup: &JobSetup) -> bool {
    setup.services.is_empty() && setup.container.as_ref().is_none_or(|c| c.ports.is_empty())
}

/// Make the job container of `setup` ahead: images checked (pulled per `setup.pull`), the
/// container created and started, the workspace copied in. What fails midway is removed again.
pub async fn prepare_job(docker: &Docker, setup: &JobSetup) -> Result<PreparedJob, Error> {
    if !can_prepare(setup) {
        return Err(Error::docker(format!(
            "job {}: a job with services or published ports is not made ahead",
            setup.job_key
        )));
    }
    let remote = engine_is_remote();
    let (mut job, image, options, _) = begin(docker, setup, remote).await?;
    let labels = labels(&setup.run_id, &setup.job_key);
    let name = docker_name(&["pipe", &setup.run_id, &setup.job_key]);
    let created = job_container(docker, setup, &image, &job, &options, &labels, &name, None).await;
    job.container_id = cleaned_up(&job, created).await?;
    Ok(PreparedJob { setup: setup.clone(), job })
}

impl PreparedJob {
    /// Whether it was made for a job of exactly this setup.
    pub fn fits(&self, setup: &JobSetup) -> bool {
        self.setup == *setup
    }

    /// Hand the container to its job, once the engine says it still runs (it may have been
    /// stopped or removed under pipe while it waited). When it does not, or `cancel` fires
    /// first, the container is removed ([`Error::Cancelled`] for the latter).
    pub async fn start(self, cancel: &CancellationToken) -> Result<DockerJob, Error> {
        let what =
            format!("job container {}", docker_name(&["pipe", &self.setup.run_id, &self.setup.job_key]));
        let running = async {
            let inspected = self
                .job
                .docker
                .inspect_container(&self.job.container_id, None)
                .await
                .map_err(|e| super::docker_error(&format!("inspecting {what}"), &e))?;
            match inspected.state.and_then(|s| s.running) {
                Some(true) => Ok(()),
                _ => Err(Error::docker(format!("{what} made ahead is no longer running"))),
            }
        };
        let checked = tokio::select! {
            checked = running => checked,
            () = cancel.cancelled() => Err(Error::Cancelled),
        };
        cleaned_up(&self.job, checked).await?;
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
