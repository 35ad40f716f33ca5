//! Runs steps as processes on this machine. Each step gets its own process group so that a
//! timeout or Ctrl-C stops the whole tree (SIGTERM, a grace period, then SIGKILL), and whatever a
//! step left running in the background is stopped when the step ends.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::{Exit, JobPaths, JobSetup, Output, StepCommand};
use crate::Error;

/// How long a step may take to exit after SIGTERM before it is killed.
pub const GRACE_PERIOD: Duration = Duration::from_secs(5);

/// Variables of the user's environment that steps on the host see; everything else comes from
/// the workflow, so runs do not depend on what happens to be exported in the user's shell.
const INHERITED: &[&str] =
    &["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SHELL", "TERM", "DOCKER_HOST"];

/// Told the process group of a step when it starts (`Some`) and when it is gone (`None`), so
/// that the runner can record it: if pipe itself is killed, the group outlives it.
pub type Tracker = std::sync::Arc<dyn Fn(Option<i32>) + Send + Sync>;

pub struct HostJob {
    workspace: PathBuf,
    runner_dir: PathBuf,
    /// Cut the grace period short (a second Ctrl-C).
    force: CancellationToken,
    track: Option<Tracker>,
}

impl HostJob {
    pub fn start(setup: &JobSetup, force: CancellationToken) -> HostJob {
        HostJob {
            workspace: setup.workspace.clone(),
            runner_dir: setup.runner_dir.clone(),
            force,
            track: None,
        }
    }

    /// Tell `track` the process group of every step (see [`Tracker`]).
    #[must_use]
    pub fn with_tracker(mut self, track: Tracker) -> HostJob {
        self.track = Some(track);
        self
    }

    pub fn paths(&self) -> JobPaths {
        JobPaths {
            workspace: self.workspace.display().to_string(),
            runner_dir: self.runner_dir.display().to_string(),
            host_runner_dir: self.runner_dir.clone(),
        }
    }

    pub async fn exec(
        &self,
        cmd: &StepCommand,
        out: crate::backend::OutputSender,
        cancel: CancellationToken,
    ) -> Result<Exit, Error> {
        let Some((program, args)) = cmd.argv.split_first() else {
            return Err(Error::env("empty command"));
        };
        let mut command = Command::new(program);
        command.args(args).env_clear().current_dir(&cmd.workdir).process_group(0);
        for k in INHERITED {
            if let Some(v) = std::env::var_os(k) {
                command.env(k, v);
            }
        }
        command.envs(&cmd.env).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| Error::Environment {
            message: format!("cannot start `{program}`: {e}"),
            hint: Some(format!(
                "is `{program}` installed on this machine? (steps on the host use its programs)"
            )),
        })?;
        let pgid = child.id().map(|id| Pid::from_raw(id as i32));
        let _tracked = pgid.and_then(|pg| self.track.clone().map(|t| Tracked::new(t, pg.as_raw())));
        let readers = [
            child.stdout.take().map(|s| tokio::spawn(forward(s, out.clone(), true))),
            child.stderr.take().map(|s| tokio::spawn(forward(s, out.clone(), false))),
        ];
        let timeout = cmd.timeout.unwrap_or(Duration::MAX);
        let exit = tokio::select! {
            status = child.wait() => match status {
                Ok(s) => Exit::Code(s.code().map_or_else(|| 128 + signal_of(&s), i64::from)),
                Err(e) => return Err(Error::env(format!("waiting for `{program}`: {e}"))),
            },
            () = sleep_or_forever(timeout) => {
                self.terminate(pgid, &mut child).await;
                Exit::TimedOut
            }
            () = cancel.cancelled() => {
                self.terminate(pgid, &mut child).await;
                Exit::Cancelled
            }
        };
        // Stop whatever the step left running in its group, then collect the last output.
        if let Some(pg) = pgid {
            let _ = killpg(pg, Signal::SIGKILL);
        }
        for r in readers.into_iter().flatten() {
            let _ = tokio::time::timeout(Duration::from_secs(2), r).await;
        }
        Ok(exit)
    }

    /// SIGTERM to the group, then SIGKILL after the grace period (or at once when forced).
    async fn terminate(&self, pgid: Option<Pid>, child: &mut tokio::process::Child) {
        let Some(pg) = pgid else {
            let _ = child.kill().await;
            return;
        };
        let _ = killpg(pg, Signal::SIGTERM);
        tokio::select! {
            _ = child.wait() => {}
            () = tokio::time::sleep(GRACE_PERIOD) => {}
            () = self.force.cancelled() => {}
        }
        let _ = killpg(pg, Signal::SIGKILL);
        let _ = child.wait().await;
    }

    pub async fn teardown(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A step's process group as the tracker knows it: forgotten when the step is over (also on an
/// early return).
struct Tracked(Tracker);

impl Tracked {
    fn new(track: Tracker, pgid: i32) -> Tracked {
        track(Some(pgid));
        Tracked(track)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        (self.0)(None);
    }
}

fn signal_of(status: &std::process::ExitStatus) -> i64 {
    use std::os::unix::process::ExitStatusExt;
    status.signal().map_or(0, i64::from)
}

async fn sleep_or_forever(d: Duration) {
    if d == Duration::MAX {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(d).await;
    }
}

async fn forward(mut r: impl tokio::io::AsyncRead + Unpin, out: crate::backend::OutputSender, stdout: bool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let chunk = buf[..n].to_vec();
                // Waits while the reader is behind; a reader gone: keep draining the process.
                let _ = out.send(if stdout { Output::Stdout(chunk) } else { Output::Stderr(chunk) }).await;
            }
        }
    }
}
