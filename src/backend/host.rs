//! Runs steps as processes on this machine. Each step gets its own process group so that a
//! timeout or Ctrl-C stops the whole tree (SIGTERM, a grace period, then SIGKILL), and whatever a
//! step left running in the background is stopped when the step ends.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::{
    BoxFuture, Executor, Exit, JobBackend, JobPaths, JobSetup, Kind, Output, StartContext, StepCommand,
};
use crate::Error;

/// How long a step may take to exit after SIGTERM before it is killed.
pub const GRACE_PERIOD: Duration = Duration::from_secs(5);

/// Variables of the user's environment that steps on the host see; everything else comes from
/// the workflow, so runs do not depend on what happens to be exported in the user's shell. The
/// Docker ones make a step's `docker` reach the engine pipe uses (TLS, a context, ssh).
const INHERITED: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "SHELL",
    "TERM",
    "DOCKER_HOST",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "PIPE_SSH_COMMAND",
];

/// How long a step runs before its process group is told to the [`Tracker`]: most steps are
/// over sooner, and recording them would cost two writes of the run record each.
pub const TRACK_AFTER: Duration = Duration::from_millis(50);

/// Told the process group of a step once it has run for [`TRACK_AFTER`] (`Some`) and when it is
/// gone (`None`), so that the runner can record it: if pipe itself is killed, the group outlives
/// it.
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
        // Looked up here, in the PATH the step sees: with a path, the process is spawned
        // directly (posix_spawn) instead of forking pipe and searching PATH in the child.
        let path = cmd.env.get("PATH").map(|p| p.into()).or_else(|| std::env::var_os("PATH"));
        let mut command = match path.as_deref().and_then(|p| find_program(program, p)) {
            Some(found) => {
                let mut c = Command::new(found);
                c.arg0(program);
                c
            }
            None => Command::new(program),
        };
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
        let readers = [
            child.stdout.take().map(|s| tokio::spawn(forward(s, out.clone(), true))),
            child.stderr.take().map(|s| tokio::spawn(forward(s, out.clone(), false))),
        ];
        let timeout = sleep_or_forever(cmd.timeout.unwrap_or(Duration::MAX));
        tokio::pin!(timeout);
        let track_after = tokio::time::sleep(TRACK_AFTER);
        tokio::pin!(track_after);
        let mut tracked: Option<Tracked> = None;
        let trackable = pgid.is_some() && self.track.is_some();
        let exit = loop {
            tokio::select! {
                status = child.wait() => break match status {
                    Ok(s) => Exit::Code(s.code().map_or_else(|| 128 + signal_of(&s), i64::from)),
                    Err(e) => return Err(Error::env(format!("waiting for `{program}`: {e}"))),
                },
                () = &mut track_after, if trackable && tracked.is_none() => {
                    tracked = pgid.zip(self.track.clone()).map(|(pg, t)| Tracked::new(t, pg.as_raw()));
                }
                () = &mut timeout => {
                    self.terminate(pgid, &mut child).await;
                    break Exit::TimedOut;
                }
                () = cancel.cancelled() => {
                    self.terminate(pgid, &mut child).await;
                    break Exit::Cancelled;
                }
            }
        };
        // Stop whatever the step left running in its group, then collect the last output.
        if let Some(pg) = pgid {
            let _ = killpg(pg, Signal::SIGKILL);
        }
        for r in readers.into_iter().flatten() {
            let _ = tokio::time::timeout(Duration::from_secs(2), r).await;
        }
        // The group is gone: the run record forgets it.
        drop(tracked);
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

/// The host backend: steps are processes of this machine, in the job's own directories.
pub struct HostBackend;

impl super::Backend for HostBackend {
    fn executor(&self) -> Executor {
        Executor::Host
    }

    fn start<'a>(
        &'a self,
        setup: &'a JobSetup,
        ctx: StartContext,
    ) -> BoxFuture<'a, Result<Box<dyn JobBackend>, Error>> {
        let mut job = HostJob::start(setup, ctx.force);
        if let Some(track) = ctx.tracker {
            job = job.with_tracker(track);
        }
        Box::pin(async move { Ok(Box::new(job) as Box<dyn JobBackend>) })
    }
}

impl JobBackend for HostJob {
    fn executor(&self) -> Executor {
        Executor::Host
    }

    fn paths(&self) -> JobPaths {
        HostJob::paths(self)
    }

    fn shares_host_files(&self) -> bool {
        true
    }

    fn workspace_on_host(&self) -> Option<PathBuf> {
        Some(PathBuf::from(self.paths().workspace))
    }

    fn default_path(&self) -> String {
        std::env::var("PATH").unwrap_or_default()
    }

    fn default_home(&self) -> String {
        std::env::var("HOME").unwrap_or_else(|_| "/root".into())
    }

    fn exec<'a>(
        &'a self,
        cmd: &'a StepCommand,
        out: crate::backend::OutputSender,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Exit, Error>> {
        Box::pin(HostJob::exec(self, cmd, out, cancel))
    }

    fn copy_in<'a>(&'a self, src: &'a Path, dest: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move { super::files::copy_dir(src, Path::new(dest)) })
    }

    fn copy_out<'a>(&'a self, src: &'a str, dest: &'a Path) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move { copy_out(Path::new(src), dest) })
    }

    fn kind<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Kind, Error>> {
        let kind = match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Kind::Dir,
            Ok(_) => Kind::File,
            Err(_) => Kind::Missing,
        };
        Box::pin(async move { Ok(kind) })
    }

    fn teardown(&self) -> BoxFuture<'_, Vec<String>> {
        Box::pin(HostJob::teardown(self))
    }
}

/// A file of this machine into the directory `dest`, or a directory's contents (see
/// [`JobBackend::copy_out`]).
fn copy_out(src: &Path, dest: &Path) -> Result<usize, Error> {
    let write = |e: std::io::Error| Error::env(e.to_string());
    if src.is_file() {
        std::fs::create_dir_all(dest).map_err(write)?;
        let name = src.file_name().ok_or_else(|| Error::env("bad path"))?;
        std::fs::copy(src, dest.join(name)).map_err(write)?;
        Ok(1)
    } else if src.is_dir() {
        super::files::copy_dir(src, dest)?;
        Ok(count_files(dest))
    } else {
        Ok(0)
    }
}

/// The files under `dir`, in all its subdirectories.
pub fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { count_files(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
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

/// Where `program` is on `path` (a `PATH` value): the first executable file of that name.
/// `None` when it is not there, for a name with a slash, and when a relative directory comes
/// first (it names a place relative to the step's working directory): the OS looks then.
pub fn find_program(program: &str, path: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if program.contains('/') {
        return None;
    }
    for dir in std::env::split_paths(path) {
        if !dir.is_absolute() {
            return None;
        }
        let candidate = dir.join(program);
        if std::fs::metadata(&candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0) {
            return Some(candidate);
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_on_the_path_given() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&first).unwrap();
        std::fs::create_dir_all(&second).unwrap();
        use std::os::unix::fs::PermissionsExt;
        // Not executable in the first directory: the second one's is taken.
        std::fs::write(first.join("tool"), "").unwrap();
        std::fs::write(second.join("tool"), "").unwrap();
        std::fs::set_permissions(second.join("tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths([&first, &second]).unwrap();
        assert_eq!(find_program("tool", &path), Some(second.join("tool")));
        assert_eq!(find_program("missing", &path), None);
        // A name with a slash, or a relative directory first: left to the OS.
        assert_eq!(find_program("./tool", &path), None);
        assert_eq!(find_program("tool", std::ffi::OsStr::new("rel:/bin")), None);
    }
}
