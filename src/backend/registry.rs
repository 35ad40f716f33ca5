//! The backends pipe knows, in one place: their names, what the planner needs to know of them,
//! and the factory that connects one for a run. Adding a backend is a module of its own plus a
//! variant of [`Executor`] and an arm of [`Executor::connect`] here.

use std::sync::Arc;

use super::sweep::Swept;
use super::{Backend, docker, host};
use crate::Error;

/// Where a job leg runs: one variant per backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Executor {
    /// Processes on this machine.
    Host,
    /// A container of a Docker engine.
    Docker,
}

impl Executor {
    /// Every backend, in the order `--executor` lists them.
    pub const ALL: &'static [Executor] = &[Executor::Docker, Executor::Host];

    /// The backend that runs the jobs whose `runs-on` maps to an image (and `container:` jobs)
    /// unless `--executor` names another one.
    pub const IMAGES: Executor = Executor::Docker;

    /// The name in events, plans and `--executor`.
    pub fn name(self) -> &'static str {
        match self {
            Executor::Host => "host",
            Executor::Docker => "docker",
        }
    }

    /// Whether jobs run in an image of their own: `container:`, `services:` and the `runs-on`
    /// images apply. Without one a job runs wherever the backend puts it and those keys are
    /// not used.
    pub fn runs_images(self) -> bool {
        match self {
            Executor::Host => false,
            Executor::Docker => true,
        }
    }

    /// What does not answer when [`Executor::connect`] fails (`notice: the Docker daemon is not
    /// reachable`).
    pub fn engine(self) -> &'static str {
        match self {
            Executor::Host => "host",
            Executor::Docker => "Docker daemon",
        }
    }

    /// Whether the engine answers within a couple of seconds (`--executor auto` asks before it
    /// connects).
    pub async fn available(self) -> bool {
        match self {
            Executor::Host => true,
            Executor::Docker => docker::available().await,
        }
    }

    /// The factory: a connected backend of this kind.
    pub async fn connect(self) -> Result<Arc<dyn Backend>, Error> {
        Ok(match self {
            Executor::Host => Arc::new(host::HostBackend),
            Executor::Docker => Arc::new(docker::DockerBackend::new(docker::connect().await?)),
        })
    }
}

impl Executor {
    /// Remove what runs whose pipe process is gone left in this backend's engine: every such
    /// run's (`pipe prune`; what belongs to runs still going is kept and counted), or only
    /// `run`'s (`pipe resume`). `None`: the backend leaves nothing outside pipe's state and the
    /// run's scratch folder, which the commands clear themselves (the host).
    pub async fn sweep(self, run: Option<&str>) -> Result<Option<Swept>, Error> {
        Ok(match self {
            Executor::Host => None,
            Executor::Docker => {
                let engine = docker::connect().await?;
                Some(match run {
                    None => docker::prune(&engine).await?,
                    Some(id) => docker::prune_run(&engine, Some(id)).await?,
                })
            }
        })
    }
}

impl std::fmt::Display for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `--executor`: one backend for every job, or `auto` (the planned backend of each job when it
/// answers, else the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ExecutorChoice {
    #[default]
    Auto,
    Only(Executor),
}

impl ExecutorChoice {
    pub const HOST: ExecutorChoice = ExecutorChoice::Only(Executor::Host);
    pub const DOCKER: ExecutorChoice = ExecutorChoice::Only(Executor::Docker);

    pub fn name(self) -> &'static str {
        match self {
            ExecutorChoice::Auto => "auto",
            ExecutorChoice::Only(e) => e.name(),
        }
    }
}

impl From<ExecutorChoice> for String {
    fn from(c: ExecutorChoice) -> String {
        c.name().to_string()
    }
}

impl TryFrom<String> for ExecutorChoice {
    type Error = String;

    fn try_from(name: String) -> Result<ExecutorChoice, String> {
        if name == "auto" {
            return Ok(ExecutorChoice::Auto);
        }
        Executor::ALL
            .iter()
            .find(|e| e.name() == name)
            .map(|e| ExecutorChoice::Only(*e))
            .ok_or_else(|| format!("unknown executor `{name}`"))
    }
}

/// Every choice of `--executor`: `auto`, then each backend.
const CHOICES: &[ExecutorChoice] = &[ExecutorChoice::Auto, ExecutorChoice::DOCKER, ExecutorChoice::HOST];

impl clap::ValueEnum for ExecutorChoice {
    fn value_variants<'a>() -> &'a [Self] {
        CHOICES
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// The backends of one run: the host always, and each other one the plan needs that answered.
#[derive(Clone)]
pub struct Backends {
    host: Arc<dyn Backend>,
    connected: Vec<Arc<dyn Backend>>,
}

impl Backends {
    /// Only the host (every job runs on this machine).
    pub fn host_only() -> Backends {
        Backends { host: Arc::new(host::HostBackend), connected: Vec::new() }
    }

    /// Connect the backends `needed` (the planned executors of the runnable jobs). Under
    /// `--executor auto` one that does not answer is left out, and `unreachable` is told: its
    /// jobs run on the host. Otherwise it is an error.
    pub async fn connect(
        choice: ExecutorChoice,
        needed: &[Executor],
        unreachable: &dyn Fn(Executor),
    ) -> Result<Backends, Error> {
        let mut backends = Backends::host_only();
        let mut wanted: Vec<Executor> = needed.iter().copied().filter(|e| *e != Executor::Host).collect();
        if let ExecutorChoice::Only(e) = choice
            && e != Executor::Host
            && !wanted.contains(&e)
        {
            wanted.push(e);
        }
        wanted.sort();
        wanted.dedup();
        for executor in wanted {
            match choice {
                ExecutorChoice::Only(_) => backends.connected.push(executor.connect().await?),
                ExecutorChoice::Auto => {
                    if executor.available().await
                        && let Ok(backend) = executor.connect().await
                    {
                        backends.connected.push(backend);
                    } else {
                        unreachable(executor);
                        // Every job runs on the host then, as `--executor host` would.
                        return Ok(Backends::host_only());
                    }
                }
            }
        }
        Ok(backends)
    }

    /// The backend a leg planned on `executor` runs on: that one when it is connected, else the
    /// host (`--executor auto` without the engine).
    pub fn for_executor(&self, executor: Option<Executor>) -> &Arc<dyn Backend> {
        executor.and_then(|e| self.connected.iter().find(|b| b.executor() == e)).unwrap_or(&self.host)
    }

    /// The connected backends other than the host.
    pub fn engines(&self) -> impl Iterator<Item = &Arc<dyn Backend>> {
        self.connected.iter()
    }

    /// The Docker API of the run's engine, for actions that build or run containers of their own.
    pub fn docker_api(&self) -> Option<bollard::Docker> {
        self.connected.iter().find_map(|b| b.docker_api())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_round_trip_by_name() {
        for choice in CHOICES {
            assert_eq!(ExecutorChoice::try_from(choice.name().to_string()), Ok(*choice));
        }
        assert!(ExecutorChoice::try_from("kubernetes".to_string()).is_err());
        // Every backend can be chosen.
        for e in Executor::ALL {
            assert!(CHOICES.contains(&ExecutorChoice::Only(*e)), "{e}");
        }
        assert_eq!(serde_json::to_string(&ExecutorChoice::HOST).unwrap(), "\"host\"");
        assert_eq!(serde_json::to_string(&Some(Executor::Docker)).unwrap(), "\"docker\"");
    }
}
