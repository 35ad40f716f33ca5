//! `pipe prune`: remove what crashed runs left behind, found by pipe's labels.

use std::collections::HashMap;

use bollard::Docker;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder,
};

use super::{LABEL_MANAGED, docker_error, is_not_found};
use crate::Error;
pub use crate::backend::sweep::Swept as PruneReport;

/// Remove every container (running or not), network and volume labelled
/// `dev.pipe.managed=true`. Containers go first, since they hold networks and volumes.
pub async fn prune(docker: &Docker) -> Result<PruneReport, Error> {
    remove_labelled(docker, vec![format!("{LABEL_MANAGED}=true")], true).await
}

/// [`prune`], limited to one run's leftovers when `run_id` is given.
pub async fn prune_run(docker: &Docker, run_id: Option<&str>) -> Result<PruneReport, Error> {
    let mut labels = vec![format!("{LABEL_MANAGED}=true")];
    if let Some(id) = run_id {
        labels.push(format!("{}={id}", super::LABEL_RUN_ID));
    }
    remove_labelled(docker, labels, false).await
}

/// Whether the pipe process named by a resource's labels is alive (on this machine).
fn owner_alive(labels: Option<&HashMap<String, String>>) -> bool {
    let pid = labels.and_then(|l| l.get(super::LABEL_PID)).and_then(|p| p.parse::<i32>().ok());
    pid.is_some_and(|p| p > 0 && nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None).is_ok())
}

/// Remove every container, network and volume carrying all of `labels`; with `keep_live`, not
/// those whose pipe process is still running.
async fn remove_labelled(
    docker: &Docker,
    labels: Vec<String>,
    keep_live: bool,
) -> Result<PruneReport, Error> {
    let filters = HashMap::from([("label", labels)]);
    let mut report = PruneReport::default();

    let containers = docker
        .list_containers(Some(ListContainersOptionsBuilder::default().all(true).filters(&filters).build()))
        .await
        .map_err(|e| docker_error("listing pipe's containers", &e))?;
    let remove = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    for c in &containers {
        let Some(id) = c.id.as_deref() else { continue };
        if keep_live && owner_alive(c.labels.as_ref()) {
            report.kept += 1;
            continue;
        }
        match docker.remove_container(id, Some(remove.clone())).await {
            Ok(()) => report.containers += 1,
            Err(e) if is_not_found(&e) || is_conflict(&e) => {}
            Err(e) => return Err(docker_error(&format!("removing container {id}"), &e)),
        }
    }

    let networks = docker
        .list_networks(Some(ListNetworksOptionsBuilder::default().filters(&filters).build()))
        .await
        .map_err(|e| docker_error("listing pipe's networks", &e))?;
    for n in &networks {
        let Some(id) = n.id.as_deref() else { continue };
        if keep_live && owner_alive(n.labels.as_ref()) {
            report.kept += 1;
            continue;
        }
        match docker.remove_network(id).await {
            Ok(()) => report.networks += 1,
            Err(e) if is_not_found(&e) || is_conflict(&e) => {}
            Err(e) => return Err(docker_error(&format!("removing network {id}"), &e)),
        }
    }

    let volumes = docker
        .list_volumes(Some(ListVolumesOptionsBuilder::default().filters(&filters).build()))
        .await
        .map_err(|e| docker_error("listing pipe's volumes", &e))?;
    for volume in volumes.volumes.unwrap_or_default() {
        if keep_live && owner_alive(Some(&volume.labels)) {
            report.kept += 1;
            continue;
        }
        let options = RemoveVolumeOptionsBuilder::default().force(true).build();
        match docker.remove_volume(&volume.name, Some(options)).await {
            Ok(()) => report.volumes += 1,
            Err(e) if is_not_found(&e) || is_conflict(&e) => {}
            Err(e) => {
                return Err(docker_error(&format!("removing volume {}", volume.name), &e));
            }
        }
    }
    Ok(report)
}

/// Remove what one job of a run created (containers first, then networks and volumes), found by
/// its labels: also what a request cut short created without pipe learning its id.
pub async fn remove_job(docker: &Docker, run_id: &str, job_key: &str) -> Result<PruneReport, Error> {
    remove_labelled(
        docker,
        vec![
            format!("{LABEL_MANAGED}=true"),
            format!("{}={run_id}", super::LABEL_RUN_ID),
            format!("{}={job_key}", super::LABEL_JOB),
        ],
        false,
    )
    .await
}

/// 409: another prune or teardown is removing the same thing right now; it will be gone.
fn is_conflict(err: &bollard::errors::Error) -> bool {
    matches!(err, bollard::errors::Error::DockerResponseServerError { status_code: 409, .. })
}
