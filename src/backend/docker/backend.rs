//! The Docker engine behind the backend traits: [`DockerBackend`] starts job legs as
//! [`DockerJob`]s and answers for the engine; [`DockerLeg`] answers for one started leg.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::Docker;
use tokio_util::sync::CancellationToken;

use super::DockerJob;
use crate::Error;
use crate::backend::{
    Backend, BoxFuture, Executor, Exit, JobBackend, JobPaths, JobSetup, Kind, OutputSender, Prepared,
    PullPolicy, StartContext, StepCommand,
};

/// PATH of a step in a job container that did not set one (the images' usual default).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// HOME of a step in a job container that did not set one.
const DEFAULT_HOME: &str = "/root";

/// A connected Docker engine.
pub struct DockerBackend {
    docker: Docker,
}

impl DockerBackend {
    pub fn new(docker: Docker) -> DockerBackend {
        DockerBackend { docker }
    }
}

impl Backend for DockerBackend {
    fn executor(&self) -> Executor {
        Executor::Docker
    }

    fn start<'a>(
        &'a self,
        setup: &'a JobSetup,
        ctx: StartContext,
    ) -> BoxFuture<'a, Result<Box<dyn JobBackend>, Error>> {
        Box::pin(async move {
            // Image checks, the network, services and their health waits: all stop at Ctrl-C,
            // and what was created is removed.
            let job = super::start_job_until(&self.docker, setup, &ctx.cancel).await?;
            let leg = DockerLeg { job: job.with_force(ctx.force), setup: setup.clone() };
            Ok(Box::new(leg) as Box<dyn JobBackend>)
        })
    }

    fn unreachable(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(super::unreachable(&self.docker))
    }

    fn ensure_image<'a>(&'a self, image: &'a str, pull: PullPolicy) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(super::ensure_image(&self.docker, image, pull, None))
    }

    fn remove_job<'a>(&'a self, run_id: &'a str, job_key: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            super::remove_job(&self.docker, run_id, job_key).await.map(|_| ()).map_err(|e| e.to_string())
        })
    }

    fn docker_api(&self) -> Option<Docker> {
        Some(self.docker.clone())
    }

    fn prepare<'a>(&'a self, setup: &'a JobSetup) -> BoxFuture<'a, Option<Box<dyn Prepared>>> {
        Box::pin(async move {
            if !super::can_prepare(setup) {
                return None;
            }
            let prepared = super::prepare_job(&self.docker, setup).await.ok()?;
            Some(Box::new(PreparedLeg { prepared, setup: setup.clone() }) as Box<dyn Prepared>)
        })
    }
}

/// A job container made ahead (see `prepared.rs`), with the setup it was made for.
struct PreparedLeg {
    prepared: super::PreparedJob,
    setup: JobSetup,
}

impl Prepared for PreparedLeg {
    fn fits(&self, setup: &JobSetup) -> bool {
        self.prepared.fits(setup)
    }

    fn start(self: Box<Self>, ctx: StartContext) -> BoxFuture<'static, Result<Box<dyn JobBackend>, Error>> {
        Box::pin(async move {
            let job = self.prepared.start(&ctx.cancel).await?;
            let leg = DockerLeg { job: job.with_force(ctx.force), setup: self.setup };
            Ok(Box::new(leg) as Box<dyn JobBackend>)
        })
    }

    fn discard(self: Box<Self>) -> BoxFuture<'static, Vec<String>> {
        Box::pin(self.prepared.discard())
    }
}

/// A job leg running in its container, with the setup it was started from (its services make
/// the `job` context).
pub struct DockerLeg {
    job: DockerJob,
    setup: JobSetup,
}

impl DockerLeg {
    /// The started job.
    pub fn job(&self) -> &DockerJob {
        &self.job
    }
}

impl JobBackend for DockerLeg {
    fn executor(&self) -> Executor {
        Executor::Docker
    }

    fn paths(&self) -> JobPaths {
        self.job.paths()
    }

    fn shares_host_files(&self) -> bool {
        false
    }

    fn workspace_on_host(&self) -> Option<PathBuf> {
        // With --bind the workspace is the user's tree, mounted into the container.
        self.setup.bind.then(|| self.setup.workspace.clone())
    }

    fn default_path(&self) -> String {
        DEFAULT_PATH.to_string()
    }

    fn default_home(&self) -> String {
        DEFAULT_HOME.to_string()
    }

    fn keeps_any_env_name(&self) -> bool {
        // The container's exec goes through `sh`, and dash drops variables whose names are no
        // shell identifiers.
        false
    }

    fn job_context(&self) -> BoxFuture<'_, Option<serde_json::Value>> {
        Box::pin(async move { Some(self.job.job_context(&self.setup).await) })
    }

    fn exec<'a>(
        &'a self,
        cmd: &'a StepCommand,
        out: OutputSender,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Exit, Error>> {
        Box::pin(self.job.exec(cmd, out, cancel))
    }

    fn copy_in<'a>(&'a self, src: &'a Path, dest: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.job.copy_in(src, dest))
    }

    fn copy_out<'a>(&'a self, src: &'a str, dest: &'a Path) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(self.job.copy_out(src, dest))
    }

    fn kind<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Kind, Error>> {
        Box::pin(async move {
            // One tiny exec: `test` exists in every image pipe can run steps in.
            let script = "if [ -d \"$1\" ]; then exit 10; elif [ -e \"$1\" ]; then exit 11; else exit 12; fi";
            let cmd = StepCommand {
                argv: ["sh", "-c", script, "sh", path].map(String::from).to_vec(),
                env: Default::default(),
                workdir: "/".to_string(),
                timeout: Some(Duration::from_secs(30)),
            };
            let (tx, _) = crate::backend::output_channel();
            match self.job.exec(&cmd, tx, CancellationToken::new()).await? {
                Exit::Code(10) => Ok(Kind::Dir),
                Exit::Code(11) => Ok(Kind::File),
                Exit::Code(12) => Ok(Kind::Missing),
                other => {
                    Err(Error::env(format!("cannot tell what `{path}` is in the job container ({other:?})")))
                }
            }
        })
    }

    fn lost(&self) -> Option<String> {
        self.job.lost()
    }

    fn teardown(&self) -> BoxFuture<'_, Vec<String>> {
        Box::pin(self.job.teardown())
    }
}
