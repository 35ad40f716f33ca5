//! Running one step: an exec in the job container, its output streamed as it arrives, its own
//! timeout, and a graceful stop (SIGTERM to its process group, 5 s grace, SIGKILL) on
//! cancellation.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::tarball::{Item, download, upload};
use super::{DockerJob, docker_error};
use crate::Error;
use crate::backend::{Exit, Output, RUNNER_DIR_IN_CONTAINER, StepCommand};

/// Time a step gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);
/// Time to wait for a killed process to be reported gone.
const AFTER_KILL: Duration = Duration::from_secs(3);
/// How often a running step is checked for having exited while its output stays open.
const EXIT_POLL: Duration = Duration::from_millis(500);
/// Time for output still in flight once the process is gone.
const DRAIN: Duration = Duration::from_millis(300);

enum Ended {
    /// The output ended (the process and everything holding its output are gone).
    Finished(Result<(), bollard::errors::Error>),
    /// The process exited while its output is still open.
    Exited,
    Cancelled,
    TimedOut,
}

impl DockerJob {
    /// Run one step command in the job container. Output chunks go to `out` in order of arrival.
    /// `cmd.timeout` → the process is stopped and [`Exit::TimedOut`] returned; a cancelled token →
    /// the process is stopped and [`Exit::Cancelled`] returned.
    pub async fn exec(
        &self,
        cmd: &StepCommand,
        out: crate::backend::OutputSender,
        cancel: CancellationToken,
    ) -> Result<Exit, Error> {
        if cmd.argv.is_empty() {
            return Err(Error::usage("a step command needs at least a program"));
        }
        // Once the container or the daemon is gone, no later step can run.
        if let Some(why) = self.lost() {
            return Err(Error::docker(why));
        }
        let seq = self.state.exec_seq.fetch_add(1, Ordering::Relaxed);
        let pid_name = format!(".pid-{seq}");
        let result = self.exec_inner(cmd, &pid_name, out, cancel).await;
        let copied_back = if self.state.copy_runner_dir {
            download(&self.docker, &self.container_id, RUNNER_DIR_IN_CONTAINER, &self.state.host_runner_dir)
                .await
                .map(drop)
        } else {
            Ok(())
        };
        let _ = std::fs::remove_file(self.state.host_runner_dir.join(&pid_name));
        // A step that failed may have failed because its environment went away under it (the
        // daemon died, the container was removed or killed): that is no failure of the step.
        // (A step killed by a signal may be the first to know that its container is being
        // killed: the daemon is given a moment to say so.)
        let checks = match &result {
            Err(_) => 1,
            Ok(Exit::Code(code)) if *code >= 128 => 10,
            Ok(Exit::Code(code)) if *code != 0 => 1,
            Ok(_) => 0,
        };
        if let Some(why) = self.check_alive(checks).await {
            return Err(Error::docker(why));
        }
        let exit = result?;
        // A step that was stopped has its outcome already; a failed copy only matters otherwise.
        if matches!(exit, Exit::Code(_)) {
            copied_back?;
        }
        Ok(exit)
    }

    async fn exec_inner(
        &self,
        cmd: &StepCommand,
        pid_name: &str,
        out: crate::backend::OutputSender,
        cancel: CancellationToken,
    ) -> Result<Exit, Error> {
        let docker = &self.docker;
        if self.state.copy_runner_dir {
            let items = vec![Item::Tree("runner".to_string(), self.state.host_runner_dir.clone())];
            upload(docker, &self.container_id, "/github", items).await?;
        }
        // The wrapper records the step's pid (it is the leader of its own process group: exec'd
        // processes start a new session) so another exec can signal it; then it becomes the step.
        // (/tmp when the container's user may not write the runner dir.)
        let wrapper = format!(
            "{{ echo $$ > {RUNNER_DIR_IN_CONTAINER}/{pid_name} || echo $$ > /tmp/pipe{pid_name}; }} \
             2>/dev/null; exec \"$@\""
        );
        let mut argv = vec!["sh".to_string(), "-c".to_string(), wrapper, "sh".to_string()];
        // The wrapper shell drops variables whose names it cannot use (`my-var`); `env` hands
        // them on to the step, as the host backend does.
        let odd: Vec<String> =
            cmd.env.iter().filter(|(k, _)| !is_shell_name(k)).map(|(k, v)| format!("{k}={v}")).collect();
        if !odd.is_empty() {
            argv.push("env".to_string());
            argv.extend(odd);
        }
        argv.extend(cmd.argv.iter().cloned());
        let options = CreateExecOptions {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            env: Some(cmd.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            cmd: Some(argv),
            working_dir: Some(cmd.workdir.clone()),
            ..Default::default()
        };
        let created = docker
            .create_exec(&self.container_id, options)
            .await
            .map_err(|e| docker_error("creating a step process", &e))?;
        let started = docker
            .start_exec(&created.id, None)
            .await
            .map_err(|e| docker_error("starting a step process", &e))?;
        let StartExecResults::Attached { mut output, input } = started else {
            return Err(Error::docker("starting a step process: the daemon did not attach its output"));
        };
        drop(input);

        let forward = async move {
            while let Some(chunk) = output.next().await {
                let chunk = match chunk? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        Output::Stdout(message.to_vec())
                    }
                    LogOutput::StdErr { message } => Output::Stderr(message.to_vec()),
                    LogOutput::StdIn { .. } => continue,
                };
                // A receiver that went away only means nobody reads the output any more.
                let _ = out.send(chunk).await;
            }
            Ok(())
        };
        tokio::pin!(forward);
        let deadline = cmd.timeout.map(|t| Instant::now() + t);
        let timer = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let ended = tokio::select! {
            result = &mut forward => Ended::Finished(result),
            () = cancel.cancelled() => Ended::Cancelled,
            () = timer => Ended::TimedOut,
            () = self.exited(&created.id) => Ended::Exited,
        };
        let stopped_as = match ended {
            Ended::Finished(Ok(())) => return self.exit_code(&created.id).await.map(Exit::Code),
            Ended::Exited => {
                // The step's process is gone but something it started in the background still
                // holds its output open: the step is over all the same (as on GitHub).
                let _ = tokio::time::timeout(DRAIN, &mut forward).await;
                return self.exit_code(&created.id).await.map(Exit::Code);
            }
            Ended::Finished(Err(e)) => return Err(docker_error("reading a step's output", &e)),
            Ended::Cancelled => Exit::Cancelled,
            Ended::TimedOut => Exit::TimedOut,
        };
        // Stop the process while still forwarding what it prints.
        let stop = self.stop(&created.id, pid_name);
        tokio::pin!(stop);
        let mut forwarding = true;
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = &mut forward, if forwarding => forwarding = false,
            }
        }
        if forwarding {
            let _ = tokio::time::timeout(DRAIN, &mut forward).await;
        }
        Ok(stopped_as)
    }

    /// SIGTERM to the step's process group, then SIGKILL after the grace period (at once on a
    /// second Ctrl-C).
    async fn stop(&self, exec_id: &str, pid_name: &str) {
        if !self.state.force.is_cancelled() {
            self.signal(pid_name, "TERM").await;
            let gone = tokio::select! {
                gone = self.wait_gone(exec_id, GRACE) => gone,
                () = self.state.force.cancelled() => false,
            };
            if gone {
                return;
            }
        }
        self.signal(pid_name, "KILL").await;
        self.wait_gone(exec_id, AFTER_KILL).await;
    }

    /// Send a signal to the step's process group (or the process alone) from inside the container.
    /// (`kill -SIG -PGID` first: busybox's `kill` does not accept `--`.)
    async fn signal(&self, pid_name: &str, signal: &str) {
        let script = format!(
            "p=$(cat {RUNNER_DIR_IN_CONTAINER}/{pid_name} 2>/dev/null || cat /tmp/pipe{pid_name} 2>/dev/null) \
             || exit 0; \
             kill -{signal} -$p 2>/dev/null || kill -{signal} -- -$p 2>/dev/null || kill -{signal} $p 2>/dev/null; \
             exit 0"
        );
        let options = CreateExecOptions {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(vec!["sh".to_string(), "-c".to_string(), script]),
            user: Some("0".to_string()),
            ..Default::default()
        };
        let Ok(created) = self.docker.create_exec(&self.container_id, options).await else {
            return;
        };
        if let Ok(StartExecResults::Attached { mut output, .. }) =
            self.docker.start_exec(&created.id, None).await
        {
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                while output.next().await.is_some() {}
            })
            .await;
        }
    }

    /// Resolves once the exec's process has exited (checked every [`EXIT_POLL`]); never resolves
    /// while the daemon cannot be asked.
    async fn exited(&self, exec_id: &str) {
        loop {
            tokio::time::sleep(EXIT_POLL).await;
            let info = self.docker.inspect_exec(exec_id).await;
            if info.is_ok_and(|info| info.running == Some(false)) {
                return;
            }
        }
    }

    /// Whether the exec's process is gone within `limit`.
    async fn wait_gone(&self, exec_id: &str, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            match self.docker.inspect_exec(exec_id).await {
                Ok(info) if info.running == Some(false) => return true,
                Ok(_) => {}
                // The container is gone: so is the process.
                Err(_) => return true,
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The exit code of a finished exec (its output has ended; the daemon may take a moment to
    /// record the exit).
    async fn exit_code(&self, exec_id: &str) -> Result<i64, Error> {
        let until = Instant::now() + Duration::from_secs(10);
        let mut pause = Duration::from_millis(1);
        loop {
            let info = self
                .docker
                .inspect_exec(exec_id)
                .await
                .map_err(|e| docker_error("reading a step's exit code", &e))?;
            if info.running != Some(true) {
                return info
                    .exit_code
                    .ok_or_else(|| Error::docker("the daemon reported no exit code for a step"));
            }
            if Instant::now() >= until {
                return Err(Error::docker("a step's output ended but its process kept running"));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

/// A name a POSIX shell keeps in its environment: letters, digits and `_`, not starting with a
/// digit.
fn is_shell_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
