//! The Docker daemon an action builds or runs containers with: the run's, else (a host job, or
//! `--executor host`) the local daemon when it answers. Host jobs may build images this way, as a
//! developer's shell could.

use bollard::Docker;

use crate::runner::step::StepRun;

pub async fn docker(run: &StepRun<'_>, what: &str) -> Result<Docker, String> {
    if let Some(docker) = &run.shared.docker {
        return Ok(docker.clone());
    }
    crate::backend::docker::connect().await.map_err(|e| {
        let hint = e.hint().map(|h| format!(" (hint: {h})")).unwrap_or_default();
        format!("{what} needs a Docker daemon: {e}{hint}")
    })
}
