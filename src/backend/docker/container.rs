//! Starting a job: images, network, services, the job container, the workspace copy; and
//! removing all of it again.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, NetworkCreateRequest, NetworkingConfig, PortBinding,
    VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder,
};
use tokio_util::sync::CancellationToken;

use super::image::{ensure_image, ensure_image_user};
use super::options::RunOptions;
use super::tarball::{Item, upload};
use super::{DockerJob, JobState, docker_error, docker_name, engine_is_remote, is_not_found, labels};
use crate::Error;
use crate::backend::{JobSetup, RUNNER_DIR_IN_CONTAINER, WORKSPACE_IN_CONTAINER};

/// What was created for one job, in creation order, so it can be removed.
#[derive(Default)]
pub(crate) struct Resources {
    inner: Mutex<Created>,
}

#[derive(Default, Clone)]
struct Created {
    containers: Vec<String>,
    network: Option<String>,
    volumes: Vec<String>,
}

impl Resources {
    fn add_container(&self, id: &str) {
        if let Ok(mut created) = self.inner.lock() {
            created.containers.push(id.to_string());
        }
    }

    fn set_network(&self, id: &str) {
        if let Ok(mut created) = self.inner.lock() {
            created.network = Some(id.to_string());
        }
    }

    fn add_volume(&self, name: &str) {
        if let Ok(mut created) = self.inner.lock() {
            created.volumes.push(name.to_string());
        }
    }

    /// Remove everything (job container first, network and volumes last); best effort. Returns
    /// what could not be removed, for the runner to report.
    pub(crate) async fn remove_all(&self, docker: &Docker) -> Vec<String> {
        let created = match self.inner.lock() {
            Ok(created) => created.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
        let removals = created.containers.iter().rev().map(|id| {
            let options = options.clone();
            async move {
                match docker.remove_container(id, Some(options)).await {
                    Ok(()) => None,
                    Err(e) if is_not_found(&e) => None,
                    // 409: a removal of this container is already in progress.
                    Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => None,
                    Err(e) => Some(format!("could not remove container {id}: {}", super::one_line(&e))),
                }
            }
        });
        let mut problems: Vec<String> =
            futures_util::future::join_all(removals).await.into_iter().flatten().collect();
        if let Some(network) = &created.network {
            match docker.remove_network(network).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => {
                    problems.push(format!("could not remove network {network}: {}", super::one_line(&e)))
                }
            }
        }
        for volume in &created.volumes {
            let options = RemoveVolumeOptionsBuilder::default().force(true).build();
            match docker.remove_volume(volume, Some(options)).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => problems.push(format!("could not remove volume {volume}: {}", super::one_line(&e))),
            }
        }
        problems
    }
}

/// Start a job: make sure the images are there (per `setup.pull`), create the job network and
/// the service containers (when there are services) and wait until they are healthy, create and
/// start the job container, and copy the workspace in (unless `setup.bind`). Whatever fails
/// midway removes what was already created.
pub async fn start_job(docker: &Docker, setup: &JobSetup) -> Result<DockerJob, Error> {
    let remote = engine_is_remote();
    start_job_with(docker, setup, remote).await
}

/// [`start_job`] that stops when `cancel` fires (image checks, creations, health waits): then
/// everything the job created is removed, including what a request cut short may have created
/// (found by the job's labels), and [`Error::Cancelled`] is returned.
pub async fn start_job_until(
    docker: &Docker,
    setup: &JobSetup,
    cancel: &CancellationToken,
) -> Result<DockerJob, Error> {
    let remote = engine_is_remote();
    let job = tokio::select! {
        job = start_job_with(docker, setup, remote) => return job,
        () = cancel.cancelled() => Error::Cancelled,
    };
    // A second pass catches a creation the daemon finished after the first one looked.
    for pause in [None, Some(std::time::Duration::from_millis(500))] {
        if let Some(p) = pause {
            tokio::time::sleep(p).await;
        }
        if let Err(e) = super::prune::remove_job(docker, &setup.run_id, &setup.job_key).await {
            return Err(Error::Docker { message: format!("{job}; cleaning up: {e}"), hint: None });
        }
    }
    Err(job)
}

/// [`start_job`] with the runner-dir transfer chosen by the caller: `copy_runner_dir` copies it
/// in and out around each step (what a remote daemon needs) instead of bind-mounting it.
pub async fn start_job_with(
    docker: &Docker,
    setup: &JobSetup,
    copy_runner_dir: bool,
) -> Result<DockerJob, Error> {
    let (mut job, image, job_options, service_options) = begin(docker, setup, copy_runner_dir).await?;
    let created = create_everything(docker, setup, &image, &job, &job_options, &service_options).await;
    job.container_id = cleaned_up(&job, created).await?;
    Ok(job)
}

/// The job container's image, and the user its configuration names.
pub(crate) struct JobImage {
    pub name: String,
    pub user: Option<String>,
}

/// Checks, parsed `options:` and images before anything is created: the job (with nothing
/// created yet), its image, the job container's options and each service's.
pub(crate) async fn begin(
    docker: &Docker,
    setup: &JobSetup,
    copy_runner_dir: bool,
) -> Result<(DockerJob, JobImage, RunOptions, Vec<RunOptions>), Error> {
    let image = setup.image.as_deref().filter(|i| !i.trim().is_empty()).ok_or_else(|| Error::Usage {
        message: format!("job {}: the docker executor needs an image", setup.job_key),
        hint: Some("set `container:` on the job, or map its runs-on label with -P LABEL=IMAGE".to_string()),
    })?;
    if setup.bind && copy_runner_dir {
        return Err(Error::Usage {
            message: "--bind needs a Docker daemon on this machine (the Docker engine runs on another host)"
                .to_string(),
            hint: Some("run without --bind, or with --executor host".to_string()),
        });
    }
    // Parse every `options:` before creating anything.
    let spec = setup.container.clone().unwrap_or_default();
    let job_options =
        RunOptions::parse(spec.options.as_deref(), &format!("job {} container", setup.job_key))?;
    let mut service_options = Vec::with_capacity(setup.services.len());
    for service in &setup.services {
        service_options
            .push(RunOptions::parse(service.options.as_deref(), &format!("service `{}`", service.id))?);
    }

    // The images are checked (or pulled) side by side.
    let services = setup.services.iter().map(|s| ensure_image(docker, &s.image, setup.pull, None));
    let (user, _) = futures_util::future::try_join(
        ensure_image_user(docker, image, setup.pull, spec.credentials.as_ref()),
        futures_util::future::try_join_all(services),
    )
    .await?;

    let job = DockerJob {
        docker: docker.clone(),
        container_id: String::new(),
        state: Box::new(JobState {
            resources: Resources::default(),
            host_runner_dir: setup.runner_dir.clone(),
            copy_runner_dir,
            exec_seq: AtomicU64::new(0),
            force: CancellationToken::new(),
            lost: std::sync::Mutex::new(None),
        }),
    };
    Ok((job, JobImage { name: image.to_string(), user }, job_options, service_options))
}

/// What a creation gave; when it failed, everything the job created is removed first, and what
/// could not be is part of the error the user sees.
pub(crate) async fn cleaned_up<T>(job: &DockerJob, created: Result<T, Error>) -> Result<T, Error> {
    let e = match created {
        Ok(t) => return Ok(t),
        Err(e) => e,
    };
    let problems = job.teardown().await;
    if problems.is_empty() {
        return Err(e);
    }
    let hint = e.hint().map(str::to_string);
    Err(Error::Docker { message: format!("{e}; cleaning up: {}", problems.join("; ")), hint })
}

async fn create_everything(
    docker: &Docker,
    setup: &JobSetup,
    image: &JobImage,
    job: &DockerJob,
    job_options: &RunOptions,
    service_options: &[RunOptions],
) -> Result<String, Error> {
    let labels = labels(&setup.run_id, &setup.job_key);
    let base_name = docker_name(&["pipe", &setup.run_id, &setup.job_key]);

    let network = if setup.services.is_empty() {
        None
    } else {
        let request = NetworkCreateRequest {
            name: base_name.clone(),
            driver: Some("bridge".to_string()),
            labels: Some(labels.clone()),
            ..Default::default()
        };
        let created = docker
            .create_network(request)
            .await
            .map_err(|e| docker_error(&format!("creating network {base_name}"), &e))?;
        job.state.resources.set_network(&created.id);
        Some(base_name.clone())
    };

    // The services start side by side, and beside the job container: the steps wait for all of
    // them. Every start runs to its end (none is dropped half-way), so whatever was created is
    // known and removed when one fails.
    let services = futures_util::future::join_all(setup.services.iter().zip(service_options).map(
        |(service, options)| {
            super::services::start_service(
                docker,
                setup,
                service,
                options,
                network.as_deref().unwrap_or_default(),
                &labels,
                job,
            )
        },
    ));
    let job_container =
        job_container(docker, setup, image, job, job_options, &labels, &base_name, network.clone());
    let (services, id) = futures_util::future::join(services, job_container).await;
    services.into_iter().collect::<Result<Vec<()>, Error>>()?;
    id
}

/// Create and start the job container, and copy the workspace into it (unless the engine's own
/// directories or a bind give the same, see `workdir.rs`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn job_container(
    docker: &Docker,
    setup: &JobSetup,
    image: &JobImage,
    job: &DockerJob,
    job_options: &RunOptions,
    labels: &HashMap<String, String>,
    base_name: &str,
    network: Option<String>,
) -> Result<String, Error> {
    let spec = setup.container.clone().unwrap_or_default();
    // The job container: kept alive by `tail -f /dev/null`; steps are execs.
    let mut binds = Vec::new();
    if !job.state.copy_runner_dir {
        binds.push(format!("{}:{RUNNER_DIR_IN_CONTAINER}", absolute(&setup.runner_dir)?));
    }
    if setup.bind {
        binds.push(format!("{}:{WORKSPACE_IN_CONTAINER}", absolute(&setup.workspace)?));
    }
    let mut anonymous = Vec::new();
    volumes(docker, &spec.volumes, &setup.workspace, labels, job, &mut binds, &mut anonymous).await?;
    // A remote engine gets pipe's own files (the node binary) by upload, after the start.
    let pipe_files =
        if job.state.copy_runner_dir { super::remote::take_pipe_files(&mut binds) } else { Vec::new() };
    let (exposed, port_bindings) = ports(&spec.ports, &format!("job {} container", setup.job_key))?;
    let env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut config = ContainerCreateBody {
        image: Some(image.name.clone()),
        entrypoint: Some(vec!["tail".to_string()]),
        cmd: Some(vec!["-f".to_string(), "/dev/null".to_string()]),
        working_dir: Some(WORKSPACE_IN_CONTAINER.to_string()),
        env: Some(env),
        labels: Some(labels.clone()),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        volumes: (!anonymous.is_empty()).then_some(anonymous),
        ..Default::default()
    };
    let mut host = HostConfig {
        binds: Some(binds),
        port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
        network_mode: network.clone(),
        ..Default::default()
    };
    job_options.apply_to(&mut config, &mut host);
    config.host_config = Some(host);
    if let Some(network) = &network {
        config.networking_config = Some(endpoint(network, job_options.aliases.clone()));
    }
    // The workspace is copied in, unless the engine makes what that copy would, or a bind of the
    // host's empty workspace gives the same (both on this machine only).
    let local = !job.state.copy_runner_dir;
    let image_user = image.user.as_deref();
    let mut copy_workspace =
        !setup.bind && (!local || !super::workdir::engine_makes_them(&setup.workspace, &config, image_user));
    if copy_workspace
        && local
        && super::workdir::bind_gives_the_same(&setup.workspace, &config, image_user)
        && super::workdir::keeps_host_user_ids(docker).await
    {
        let bind = format!("{}:{WORKSPACE_IN_CONTAINER}", absolute(&setup.workspace)?);
        if let Some(binds) = config.host_config.as_mut().and_then(|h| h.binds.as_mut()) {
            binds.push(bind);
            copy_workspace = false;
        }
    }
    let what = format!("job container {base_name}");
    let id = create_and_start(docker, base_name, config, job, &what).await?;
    super::remote::put_files(docker, &id, &pipe_files).await?;
    // The workspace (and, for a remote daemon, the runner dir) is copied in.
    let mut items = Vec::new();
    if copy_workspace {
        items.push(Item::Tree("github/workspace".to_string(), setup.workspace.clone()));
    }
    if job.state.copy_runner_dir {
        items.push(Item::Tree("github/runner".to_string(), setup.runner_dir.clone()));
    }
    if !items.is_empty() {
        items.insert(0, Item::Dir("github".to_string()));
        upload(docker, &id, "/", items).await?;
    }
    Ok(id)
}

pub(crate) async fn create_and_start(
    docker: &Docker,
    name: &str,
    config: ContainerCreateBody,
    job: &DockerJob,
    what: &str,
) -> Result<String, Error> {
    let id = create(docker, name, config, job, what).await?;
    start(docker, &id, what).await?;
    Ok(id)
}

/// Create a container and record it for removal.
async fn create(
    docker: &Docker,
    name: &str,
    config: ContainerCreateBody,
    job: &DockerJob,
    what: &str,
) -> Result<String, Error> {
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    let asked = config.host_config.as_ref().map(|h| (h.memory.unwrap_or(0), h.nano_cpus.unwrap_or(0)));
    let created = docker
        .create_container(Some(options), config)
        .await
        .map_err(|e| docker_error(&format!("creating {what}"), &e))?;
    job.state.resources.add_container(&created.id);
    if let Some((memory, cpus)) = asked.filter(|(m, c)| *m > 0 || *c > 0) {
        limits_kept(docker, &created.id, memory, cpus, what).await?;
    }
    Ok(created.id)
}

/// A container whose resource limits the engine dropped is an error, not a job without limits:
/// rootless Podman on cgroup v1 ignores `--memory` and `--cpus` without a word.
async fn limits_kept(docker: &Docker, id: &str, memory: i64, cpus: i64, what: &str) -> Result<(), Error> {
    let info = docker
        .inspect_container(id, None)
        .await
        .map_err(|e| docker_error(&format!("inspecting {what}"), &e))?;
    let host = info.host_config.unwrap_or_default();
    let mut dropped = Vec::new();
    if memory > 0 && host.memory.unwrap_or(0) == 0 {
        dropped.push("--memory");
    }
    if cpus > 0 && host.nano_cpus.unwrap_or(0) == 0 && host.cpu_quota.unwrap_or(0) == 0 {
        dropped.push("--cpus");
    }
    if dropped.is_empty() {
        return Ok(());
    }
    Err(Error::Docker {
        message: format!(
            "{what}: the engine ignored {} (rootless Podman cannot limit resources on cgroup v1)",
            dropped.join(" and ")
        ),
        hint: Some("drop them from `options:`, or run Podman rootful or on cgroup v2".to_string()),
    })
}

pub(crate) async fn start(docker: &Docker, id: &str, what: &str) -> Result<(), Error> {
    docker.start_container(id, None).await.map_err(|e| docker_error(&format!("starting {what}"), &e))
}

pub(crate) fn endpoint(network: &str, aliases: Vec<String>) -> NetworkingConfig {
    let settings =
        EndpointSettings { aliases: (!aliases.is_empty()).then_some(aliases), ..Default::default() };
    NetworkingConfig { endpoints_config: Some(HashMap::from([(network.to_string(), settings)])) }
}

/// `host:container[:ro]`, `volume:container[:ro]` or `container` strings → binds / anonymous
/// volumes. Named volumes that do not exist yet are created (labelled) and removed at teardown;
/// relative host paths are taken from the workspace.
pub(crate) async fn volumes(
    docker: &Docker,
    specs: &[String],
    workspace: &Path,
    labels: &HashMap<String, String>,
    job: &DockerJob,
    binds: &mut Vec<String>,
    anonymous: &mut Vec<String>,
) -> Result<(), Error> {
    for spec in specs {
        if job.state.copy_runner_dir && !spec.contains(super::remote::PIPE_FILES) {
            super::remote::check_volume(spec)?;
        }
        let Some((source, rest)) = spec.split_once(':') else {
            anonymous.push(spec.clone());
            continue;
        };
        if source.starts_with('/') {
            binds.push(spec.clone());
        } else if source.starts_with('.') || source.starts_with('~') {
            let base = if let Some(home_relative) = source.strip_prefix("~/") {
                std::env::var("HOME")
                    .map(|h| Path::new(&h).join(home_relative))
                    .unwrap_or_else(|_| workspace.join(source))
            } else {
                workspace.join(source)
            };
            binds.push(format!("{}:{rest}", absolute(&base)?));
        } else {
            match docker.inspect_volume(source).await {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {
                    let request = VolumeCreateRequest {
                        name: Some(source.to_string()),
                        labels: Some(labels.clone()),
                        ..Default::default()
                    };
                    docker
                        .create_volume(request)
                        .await
                        .map_err(|e| docker_error(&format!("creating volume {source}"), &e))?;
                    job.state.resources.add_volume(source);
                }
                Err(e) => return Err(docker_error(&format!("inspecting volume {source}"), &e)),
            }
            binds.push(spec.clone());
        }
    }
    Ok(())
}

type PortMap = HashMap<String, Option<Vec<PortBinding>>>;

/// `[ip:][host:]container[/proto]` strings → exposed ports and bindings.
pub(crate) fn ports(specs: &[String], what: &str) -> Result<(Vec<String>, PortMap), Error> {
    let mut exposed = Vec::new();
    let mut bindings: PortMap = HashMap::new();
    for spec in specs {
        let (address, proto) = spec.split_once('/').unwrap_or((spec.as_str(), "tcp"));
        let parts: Vec<&str> = address.rsplitn(3, ':').collect();
        let bad = || Error::Usage {
            message: format!("{what}: port `{spec}` is not valid"),
            hint: Some(
                "use CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER, optionally with /tcp or /udp"
                    .to_string(),
            ),
        };
        let valid_port = |p: &str| p.parse::<u16>().is_ok_and(|n| n > 0);
        if !matches!(proto, "tcp" | "udp" | "sctp") || parts.is_empty() || !valid_port(parts[0]) {
            return Err(bad());
        }
        let key = format!("{}/{proto}", parts[0]);
        if !exposed.contains(&key) {
            exposed.push(key.clone());
        }
        let host_port = parts.get(1).copied().unwrap_or_default();
        if !host_port.is_empty() && !valid_port(host_port) {
            return Err(bad());
        }
        let host_ip = parts.get(2).map(|ip| ip.trim_start_matches('[').trim_end_matches(']').to_string());
        let binding = PortBinding { host_ip, host_port: Some(host_port.to_string()) };
        bindings.entry(key).or_insert_with(|| Some(Vec::new())).get_or_insert_with(Vec::new).push(binding);
    }
    Ok((exposed, bindings))
}

fn absolute(path: &Path) -> Result<String, Error> {
    let absolute =
        std::path::absolute(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    Ok(absolute.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs() {
        let (exposed, bindings) =
            ports(&["8080:80".into(), "53/udp".into(), "127.0.0.1:5432:5432".into()], "job").unwrap();
        assert_eq!(exposed, vec!["80/tcp", "53/udp", "5432/tcp"]);
        let b = bindings["80/tcp"].as_ref().unwrap();
        assert_eq!(b[0].host_port.as_deref(), Some("8080"));
        let b = bindings["5432/tcp"].as_ref().unwrap();
        assert_eq!(b[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert!(ports(&["x:80".into()], "job").is_err());
        assert!(ports(&["80/foo".into()], "job").is_err());
        assert!(ports(&["99999".into()], "job").is_err());
    }
}
