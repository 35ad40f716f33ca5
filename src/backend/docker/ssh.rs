//! `ssh://[user@]host[:port]` engines, reached as Docker's CLI reaches them: every connection is
//! `ssh [-l user] [-p port] -- host docker system dial-stdio`, the HTTP API over the ssh process's
//! stdin and stdout. Connections are kept and reused (one ssh process per connection in use),
//! and an ssh process ends with its connection.
//!
//! The ssh program is `ssh` from PATH, with the user's ssh configuration and agent; `BatchMode`
//! is on (no password prompts), and the connections share one ssh connection (`ControlMaster`,
//! a control socket in `$TMPDIR/pipe-ssh-UID`, kept 60 s after the last use). `PIPE_SSH_COMMAND` replaces the program and may add options
//! (`ssh -F /path/config`), split at white space.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bollard::{BollardRequest, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::Error;

/// Where an `ssh://` address points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl Target {
    /// Parse `ssh://[user@]host[:port]` (no path, as Docker's CLI requires).
    pub fn parse(address: &str) -> Result<Target, Error> {
        let bad = |why: &str| Error::Docker {
            message: format!("{address} is not a valid ssh address: {why}"),
            hint: Some("use ssh://[user@]host[:port]".to_string()),
        };
        let rest = address.strip_prefix("ssh://").ok_or_else(|| bad("it does not start with ssh://"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('?') {
            return Err(bad("a path or query after the host is not supported"));
        }
        let (user, authority) = match rest.rsplit_once('@') {
            Some((user, authority)) => (Some(user.to_string()), authority),
            None => (None, rest),
        };
        let (host, port) = match authority.strip_prefix('[') {
            Some(bracketed) => {
                let (host, after) = bracketed.split_once(']').ok_or_else(|| bad("an unclosed ["))?;
                (host, after.strip_prefix(':'))
            }
            None => match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        let port = port.map(|p| p.parse::<u16>().map_err(|_| bad("the port is not a number"))).transpose()?;
        if host.is_empty()
            || host.starts_with('-')
            || user.as_deref().is_some_and(|u| u.is_empty() || u.starts_with('-'))
        {
            return Err(bad("no host"));
        }
        Ok(Target { user, host: host.to_string(), port })
    }

    /// The ssh command line for one connection.
    pub fn command_line(&self) -> Vec<String> {
        let configured = std::env::var("PIPE_SSH_COMMAND").ok().filter(|c| !c.trim().is_empty());
        let mut argv: Vec<String> = match configured {
            Some(c) => c.split_whitespace().map(str::to_string).collect(),
            None => vec!["ssh".to_string()],
        };
        argv.extend(["-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-T"].map(str::to_string));
        // Every exec's output is a connection of its own: one ssh connection shared by all
        // (multiplexed), kept 60 s after the last one ends, makes each a matter of milliseconds.
        if let Some(dir) = control_dir() {
            argv.extend([
                "-o".to_string(),
                "ControlMaster=auto".to_string(),
                "-o".to_string(),
                format!("ControlPath={}/%C", dir.display()),
                "-o".to_string(),
                "ControlPersist=60".to_string(),
            ]);
        }
        if let Some(user) = &self.user {
            argv.extend(["-l".to_string(), user.clone()]);
        }
        if let Some(port) = self.port {
            argv.extend(["-p".to_string(), port.to_string()]);
        }
        argv.extend(["--", &self.host, "docker", "system", "dial-stdio"].map(str::to_string));
        argv
    }
}

/// A directory of this user's own for ssh's control sockets (`$TMPDIR/pipe-ssh-UID`, mode 0700),
/// or None when it cannot be made safely (then every connection is an ssh login of its own).
fn control_dir() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    // The owner of /proc/self is this process's user.
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let dir = std::env::temp_dir().join(format!("pipe-ssh-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    let private = meta.is_dir() && meta.uid() == uid && meta.permissions().mode() & 0o077 == 0;
    private.then_some(dir)
}

/// A client for the engine behind `address`. `said` collects what ssh wrote on its standard
/// error (why a connection failed).
pub fn client(address: &str, said: Arc<Mutex<String>>) -> Result<Docker, Error> {
    let target = Target::parse(address)?;
    let connector = Connector { argv: Arc::new(target.command_line()), said };
    let client = Arc::new(Client::builder(TokioExecutor::new()).build(connector));
    let transport = move |request: BollardRequest| {
        let client = Arc::clone(&client);
        async move { client.request(request).await.map_err(bollard::errors::Error::from) }
    };
    Docker::connect_with_custom_transport(
        transport,
        Some("http://docker.ssh"),
        120,
        bollard::API_DEFAULT_VERSION,
    )
    .map_err(|e| Error::docker(format!("{address}: {}", super::one_line(&e))))
}

/// Makes connections by starting ssh.
#[derive(Clone)]
struct Connector {
    argv: Arc<Vec<String>>,
    said: Arc<Mutex<String>>,
}

impl tower_service::Service<hyper::Uri> for Connector {
    type Response = Stream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Stream>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let argv = Arc::clone(&self.argv);
        let said = Arc::clone(&self.said);
        Box::pin(async move {
            let mut child = Command::new(&argv[0])
                .args(&argv[1..])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                // A group of its own: Ctrl-C at the terminal is pipe's to handle (it still needs
                // the engine to stop steps and remove containers), not ssh's.
                .process_group(0)
                .spawn()
                .map_err(|e| io::Error::new(e.kind(), format!("starting {}: {e}", argv[0])))?;
            let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                return Err(io::Error::other("ssh has no stdin or stdout"));
            };
            if let Some(mut stderr) = child.stderr.take() {
                tokio::spawn(async move {
                    let mut text = String::new();
                    let _ = stderr.read_to_string(&mut text).await;
                    if !text.trim().is_empty()
                        && let Ok(mut said) = said.lock()
                    {
                        *said = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    }
                });
            }
            Ok(Stream { _child: child, stdin: TokioIo::new(stdin), stdout: TokioIo::new(stdout) })
        })
    }
}

/// One connection: the ssh process's stdout to read, its stdin to write.
struct Stream {
    _child: Child,
    stdin: TokioIo<ChildStdin>,
    stdout: TokioIo<ChildStdout>,
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdout).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Stream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stdin).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdin).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdin).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn addresses() {
        let t = Target::parse("ssh://ci@build-box:2222").unwrap();
        assert_eq!((t.user.as_deref(), t.host.as_str(), t.port), (Some("ci"), "build-box", Some(2222)));
        let t = Target::parse("ssh://build-box/").unwrap();
        assert_eq!((t.user, t.host.as_str(), t.port), (None, "build-box", None));
        let t = Target::parse("ssh://root@[fd00::2]:22").unwrap();
        assert_eq!(t.host, "fd00::2");
        for bad in
            ["ssh://", "ssh://h/var/run/docker.sock", "ssh://h:port", "ssh://-oProxyCommand=x", "tcp://h"]
        {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
        let argv = Target::parse("ssh://ci@build-box:2222").unwrap().command_line();
        let tail: Vec<&str> = argv.iter().rev().take(5).rev().map(String::as_str).collect();
        assert_eq!(tail, ["--", "build-box", "docker", "system", "dial-stdio"]);
        assert!(argv.windows(2).any(|w| w == ["-p", "2222"]) && argv.windows(2).any(|w| w == ["-l", "ci"]));
    }
}
