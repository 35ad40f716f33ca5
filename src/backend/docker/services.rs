//! Service containers (`services:`): started on the job network under their id, then waited for
//! until healthy (with a health check) or running (without one).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HealthStatusEnum, HostConfig};
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;

use super::container::{create_and_start, endpoint, ports, volumes};
use super::health::{OwnCheck, Verdict};
use super::options::RunOptions;
use super::{DockerJob, docker_error, docker_name};
use crate::Error;
use crate::backend::{JobSetup, ServiceSpec};

/// How long a service without a health check may take to be running.
const SERVICE_RUNNING_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a starting service is checked (an inspect: cheap, and the job waits on it).
const SERVICE_POLL: Duration = Duration::from_millis(50);

pub(crate) async fn start_service(
    docker: &Docker,
    setup: &JobSetup,
    service: &ServiceSpec,
    options: &RunOptions,
    network: &str,
    labels: &HashMap<String, String>,
    job: &DockerJob,
) -> Result<(), Error> {
    let what = format!("service `{}`", service.id);
    let name = docker_name(&["pipe", &setup.run_id, &setup.job_key, &service.id]);
    let mut binds = Vec::new();
    let mut anonymous = Vec::new();
    volumes(docker, &service.volumes, &setup.workspace, labels, job, &mut binds, &mut anonymous).await?;
    let (exposed, port_bindings) = ports(&service.ports, &what)?;
    let mut config = ContainerCreateBody {
        image: Some(service.image.clone()),
        env: Some(service.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(labels.clone()),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        volumes: (!anonymous.is_empty()).then_some(anonymous),
        ..Default::default()
    };
    let mut host = HostConfig {
        binds: (!binds.is_empty()).then_some(binds),
        port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
        network_mode: Some(network.to_string()),
        ..Default::default()
    };
    options.apply_to(&mut config, &mut host);
    config.host_config = Some(host);
    let mut aliases = vec![service.id.clone()];
    aliases.extend(options.aliases.iter().cloned());
    config.networking_config = Some(endpoint(network, aliases));
    let id = create_and_start(docker, &name, config, job, &what).await?;
    wait_ready(docker, &id, &what, options).await
}

/// How long a service without a health check must stay running to count as started.
const NO_HEALTHCHECK_SETTLE: Duration = Duration::from_millis(1000);

/// Wait until a service is healthy (it has a health check) or running (it has none).
async fn wait_ready(docker: &Docker, id: &str, what: &str, options: &RunOptions) -> Result<(), Error> {
    let started = Instant::now();
    // Podman without systemd runs no health check: pipe runs it (see `health`).
    let mut own: Option<Option<OwnCheck>> = None;
    loop {
        let info = docker
            .inspect_container(id, None)
            .await
            .map_err(|e| docker_error(&format!("inspecting {what}"), &e))?;
        let state = info.state.unwrap_or_default();
        let mut health = state.health.as_ref().and_then(|h| h.status);
        let mut last_output = None;
        if health == Some(HealthStatusEnum::STARTING) && state.running == Some(true) {
            if own.is_none() {
                let config = info.config.as_ref().and_then(|c| c.healthcheck.as_ref());
                let podman = crate::backend::engine::is_podman(docker).await;
                own = Some(config.filter(|_| podman).and_then(|c| OwnCheck::new(c, started)));
            }
            if let Some(Some(check)) = own.as_mut() {
                match check.poll(docker, id, what).await? {
                    Verdict::Starting => {}
                    Verdict::Healthy => health = Some(HealthStatusEnum::HEALTHY),
                    Verdict::Unhealthy(output) => {
                        health = Some(HealthStatusEnum::UNHEALTHY);
                        last_output = Some(output);
                    }
                }
            }
        }
        let has_health = matches!(
            health,
            Some(HealthStatusEnum::STARTING | HealthStatusEnum::HEALTHY | HealthStatusEnum::UNHEALTHY)
        );
        let limit = if has_health { options.health_deadline() } else { SERVICE_RUNNING_TIMEOUT };
        if state.running != Some(true) {
            let logs = last_log_lines(docker, id).await;
            return Err(Error::Docker {
                message: format!(
                    "{what} stopped while starting (exit code {}){logs}",
                    state.exit_code.unwrap_or_default()
                ),
                hint: Some("check the service's image, env and options".to_string()),
            });
        }
        match health {
            Some(HealthStatusEnum::HEALTHY) => return Ok(()),
            Some(HealthStatusEnum::UNHEALTHY) => {
                let last = last_output
                    .or_else(|| state.health.and_then(|h| h.log).and_then(|log| log.last()?.output.clone()))
                    .map(|o| {
                        format!("; last check said: {}", o.split_whitespace().collect::<Vec<_>>().join(" "))
                    })
                    .unwrap_or_default();
                return Err(Error::Docker {
                    message: format!("{what} is unhealthy{last}"),
                    hint: Some("check its --health-cmd and that the service starts".to_string()),
                });
            }
            Some(HealthStatusEnum::STARTING) => {}
            // No health check: a service is ready once it has stayed up for a moment, so one
            // that exits right after starting is reported instead of accepted.
            _ if started.elapsed() >= NO_HEALTHCHECK_SETTLE => return Ok(()),
            _ => {}
        }
        if started.elapsed() >= limit {
            return Err(Error::Docker {
                message: format!("{what} did not become healthy within {} s", limit.as_secs()),
                hint: Some("check its --health-cmd, --health-interval and --health-retries".to_string()),
            });
        }
        tokio::time::sleep(SERVICE_POLL).await;
    }
}

/// The last lines a container printed, as `: a | b | c` (empty when there are none).
async fn last_log_lines(docker: &Docker, id: &str) -> String {
    let options = LogsOptionsBuilder::default().stdout(true).stderr(true).tail("5").build();
    let mut logs = docker.logs(id, Some(options));
    let mut lines = Vec::new();
    while let Some(Ok(chunk)) = logs.next().await {
        let text = String::from_utf8_lossy(&chunk.into_bytes()).into_owned();
        lines.extend(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string));
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut joined = lines.join(" | ");
    if joined.len() > 400 {
        let mut cut = joined.len() - 400;
        while !joined.is_char_boundary(cut) {
            cut += 1;
        }
        joined = format!("…{}", &joined[cut..]);
    }
    format!(": {joined}")
}
