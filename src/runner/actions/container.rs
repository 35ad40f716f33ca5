//! One container for one step (`docker://` steps and docker actions), as GitHub runs them: the
//! workspace bind-mounted at `/github/workspace` (its working directory), the step's env files at
//! `/github/file_commands`, output streamed as it comes, the exit code as the outcome. The
//! container carries pipe's labels (so `pipe prune` finds it after a crash) and is removed when
//! the step ends; on timeout or cancellation it is stopped first (SIGTERM, 5 s, SIGKILL).
//!
//! For a Docker job the workspace lives in the job container: it is copied out to a host folder
//! for the step and copied back afterwards (files the step deletes stay in the job container).
//! A remote engine cannot mount that folder: it is uploaded into the step container (with the
//! env files) before the start and downloaded after the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::transfer::{copy_in, copy_out};
use crate::backend::docker::{docker_name, labels, one_line, remote};
use crate::backend::{Exit, Output, WORKSPACE_IN_CONTAINER};
use crate::runner::output::LineSink;
use crate::runner::step::StepRun;

/// Where the step's env files (GITHUB_OUTPUT ...) appear in the container.
pub const FILE_COMMANDS: &str = "/github/file_commands";
/// Seconds between SIGTERM and SIGKILL when a container step is stopped.
const GRACE_SECS: i32 = 5;

/// What to run.
pub struct OneOff {
    pub image: String,
    pub entrypoint: Option<String>,
    /// The command (arguments of the entrypoint); empty = the image's own.
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub timeout: Option<Duration>,
}

/// The step's environment as a container sees it: paths of the job replaced by the mounts,
/// without the job's PATH (the image has its own).
pub fn container_env(run: &StepRun<'_>, full_env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let runner_dir = run.handle.paths().runner_dir;
    let mut env: BTreeMap<String, String> = full_env
        .iter()
        .filter(|(k, _)| k.as_str() != "PATH")
        .map(|(k, v)| {
            let v = match v.strip_prefix(&format!("{runner_dir}/")) {
                Some(file) => format!("{FILE_COMMANDS}/{file}"),
                None => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    env.insert("GITHUB_WORKSPACE".into(), WORKSPACE_IN_CONTAINER.into());
    env.insert("RUNNER_TEMP".into(), "/tmp".into());
    env
}

/// `INPUT_<NAME>` variables, as GitHub passes inputs to container actions.
pub fn input_env(inputs: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    inputs
        .into_iter()
        .map(|(k, v)| (format!("INPUT_{}", k.replace(' ', "_").to_ascii_uppercase()), v))
        .collect()
}

/// Run `spec` with the job's workspace; returns how it ended.
pub async fn run_container(run: &StepRun<'_>, docker: &Docker, spec: &OneOff) -> Result<Exit, String> {
    let workspace = Workspace::mount(run).await?;
    let result = run_mounted(run, docker, spec, &workspace.host_dir).await;
    let synced = workspace.unmount(run).await;
    let exit = result?;
    synced?;
    Ok(exit)
}

async fn run_mounted(
    run: &StepRun<'_>,
    docker: &Docker,
    spec: &OneOff,
    workspace: &Path,
) -> Result<Exit, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let step = format!("{}{}", run.index, run.scope);
    let name = docker_name(&["pipe", &run.shared.run_id, &run.leg.key, "step", &step, &nanos.to_string()]);
    let runner_dir = run.handle.paths().host_runner_dir;
    // A remote engine cannot mount this machine's folders: they are copied in and back out.
    let remote = crate::backend::docker::engine_is_remote();
    let binds = if remote {
        Vec::new()
    } else {
        vec![
            format!("{}:{WORKSPACE_IN_CONTAINER}", absolute(workspace)?),
            format!("{}:{FILE_COMMANDS}", absolute(&runner_dir)?),
        ]
    };
    let config = ContainerCreateBody {
        image: Some(spec.image.clone()),
        entrypoint: spec.entrypoint.clone().map(|e| vec![e]),
        cmd: (!spec.args.is_empty()).then(|| spec.args.clone()),
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: Some(WORKSPACE_IN_CONTAINER.to_string()),
        labels: Some(labels(&run.shared.run_id, &run.leg.key)),
        host_config: Some(HostConfig { binds: Some(binds), ..Default::default() }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    let created = docker
        .create_container(Some(options), config)
        .await
        .map_err(|e| format!("creating a container from {}: {}", spec.image, one_line(&e)))?;
    let dirs = [(WORKSPACE_IN_CONTAINER, workspace), (FILE_COMMANDS, runner_dir.as_path())];
    let copied_in = if remote { remote::put_dirs(docker, &created.id, &dirs).await } else { Ok(()) };
    let result = match copied_in {
        Ok(()) => attach_start_wait(run, docker, &created.id, spec.timeout).await,
        Err(e) => Err(format!("copying the workspace into the step container: {e}")),
    };
    // What the step wrote (the workspace, its env files) comes back before the removal.
    let copied_back = if remote && result.is_ok() {
        remote::get_dirs(docker, &created.id, &dirs).await.map_err(|e| e.to_string())
    } else {
        Ok(())
    };
    if matches!(result, Ok(Exit::Cancelled | Exit::TimedOut) | Err(_)) {
        let stop = StopContainerOptionsBuilder::default().t(GRACE_SECS).build();
        let _ = docker.stop_container(&created.id, Some(stop)).await;
    }
    let remove = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    if let Err(e) = docker.remove_container(&created.id, Some(remove)).await {
        run.annotate("warning", format!("could not remove container {name}: {}", one_line(&e)));
    }
    let exit = result?;
    copied_back?;
    Ok(exit)
}

async fn attach_start_wait(
    run: &StepRun<'_>,
    docker: &Docker,
    id: &str,
    timeout: Option<Duration>,
) -> Result<Exit, String> {
    // Attached before the start, with the logs so far: no early line is lost.
    let attach = AttachContainerOptionsBuilder::default().stdout(true).stderr(true).stream(true).logs(true);
    let mut attached = docker
        .attach_container(id, Some(attach.build()))
        .await
        .map_err(|e| format!("attaching to the step container: {}", one_line(&e)))?;
    docker
        .start_container(id, None)
        .await
        .map_err(|e| format!("starting the step container: {}", one_line(&e)))?;
    let log = run.log_path();
    let mut sink = LineSink::new(run, log);
    let mut waiter = docker.wait_container(id, None);
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let timer = async move {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timer);
    let stop = run.stop();
    let mut open = true;
    let mut flush = tokio::time::interval(crate::runner::output::FLUSH_EVERY);
    let exit = loop {
        tokio::select! {
            chunk = attached.output.next(), if open => match chunk {
                Some(Ok(chunk)) => sink.chunk(output(chunk)),
                Some(Err(_)) | None => open = false,
            },
            waited = waiter.next() => break match waited {
                Some(Ok(r)) => Ok(Exit::Code(r.status_code)),
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(Exit::Code(code)),
                Some(Err(e)) => Err(format!("waiting for the step container: {}", one_line(&e))),
                None => Err("the daemon stopped reporting on the step container".to_string()),
            },
            () = stop.cancelled() => break Ok(Exit::Cancelled),
            () = &mut timer => break Ok(Exit::TimedOut),
            _ = flush.tick() => sink.tick(),
        }
    };
    // The rest of the output, which ends with the container.
    if open {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(chunk)) = attached.output.next().await {
                sink.chunk(output(chunk));
            }
        })
        .await;
    }
    sink.flush();
    exit
}

fn output(chunk: LogOutput) -> Output {
    match chunk {
        LogOutput::StdErr { message } => Output::Stderr(message.to_vec()),
        LogOutput::StdOut { message } | LogOutput::Console { message } | LogOutput::StdIn { message } => {
            Output::Stdout(message.to_vec())
        }
    }
}

/// The job's workspace as a host folder a container can mount.
struct Workspace {
    host_dir: PathBuf,
    /// The job folder it was copied from and goes back to (Docker jobs without --bind).
    copied_from: Option<String>,
}

impl Workspace {
    async fn mount(run: &StepRun<'_>) -> Result<Workspace, String> {
        let job_dir = run.handle.paths().workspace;
        if let Some(host_dir) = run.handle.workspace_on_host() {
            return Ok(Workspace { host_dir, copied_from: None });
        }
        let dir = run.scratch.join(format!("container-workspace-{}{}", run.index, run.scope));
        let _ = std::fs::remove_dir_all(&dir);
        copy_out(run.handle, &job_dir, &dir).await?;
        Ok(Workspace { host_dir: dir, copied_from: Some(job_dir) })
    }

    async fn unmount(self, run: &StepRun<'_>) -> Result<(), String> {
        let Some(job_dir) = self.copied_from else { return Ok(()) };
        let copied = copy_in(run.handle, &self.host_dir, &job_dir).await;
        let _ = std::fs::remove_dir_all(&self.host_dir);
        copied
    }
}

fn absolute(path: &Path) -> Result<String, String> {
    std::path::absolute(path)
        .map(|p| p.to_string_lossy().into_owned())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::input_env;

    #[test]
    fn inputs_become_upper_case_variables() {
        let env = input_env([("who to greet".to_string(), "x".to_string()), ("a-b".into(), "y".into())]);
        assert_eq!(env["INPUT_WHO_TO_GREET"], "x");
        assert_eq!(env["INPUT_A-B"], "y");
    }
}
