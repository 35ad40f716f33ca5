//! Which container engine the Docker backend talks to: Docker, or Podman through its
//! Docker-compatible API (`podman system service`). The choice is made once, before anything
//! runs, and becomes `DOCKER_HOST`: pipe connects there, and what a host step runs (a `docker`
//! CLI in a `self-hosted` job) reaches the same engine.

use std::path::{Path, PathBuf};

use crate::Error;

/// `--engine` / `PIPE_ENGINE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Engine {
    /// `DOCKER_HOST` as set, else Docker's socket `/var/run/docker.sock`.
    #[default]
    Docker,
    /// Podman's API socket: the user's own (rootless) or the system one (rootful).
    Podman,
}

/// Podman's API sockets in the order they are tried: for a user other than root their own
/// (rootless, under `$XDG_RUNTIME_DIR`, else `/run/user/UID`) first, then the system one (rootful).
pub fn podman_sockets(uid: u32, runtime_dir: Option<&str>) -> Vec<PathBuf> {
    let system = PathBuf::from("/run/podman/podman.sock");
    if uid == 0 {
        return vec![system];
    }
    let runtime = runtime_dir
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("/run/user/{uid}")));
    vec![runtime.join("podman/podman.sock"), system]
}

/// The `DOCKER_HOST` value for Podman: the first of `sockets` that exists.
pub fn podman_host(sockets: &[PathBuf], exists: impl Fn(&Path) -> bool) -> Result<String, Error> {
    match sockets.iter().find(|s| exists(s)) {
        Some(socket) => Ok(format!("unix://{}", socket.display())),
        None => {
            let looked: Vec<String> = sockets.iter().map(|s| s.display().to_string()).collect();
            Err(Error::Environment {
                message: format!("--engine podman: no Podman API socket at {}", looked.join(" or ")),
                hint: Some(
                    "start Podman's API service (`podman system service --time=0 &`, or \
                     `systemctl --user start podman.socket`), or set DOCKER_HOST to its socket"
                        .to_string(),
                ),
            })
        }
    }
}

/// Apply the choice before any thread starts: for Podman, `DOCKER_HOST` names its socket.
pub fn select(engine: Engine) -> Result<(), Error> {
    if engine == Engine::Docker {
        return Ok(());
    }
    // The owner of /proc/self is this process's user.
    let uid = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap_or(0);
    let runtime_dir = std::env::var("XDG_RUNTIME_DIR").ok();
    let host = podman_host(&podman_sockets(uid, runtime_dir.as_deref()), Path::exists)?;
    // SAFETY: called from `main` after parsing the command line and before the async runtime or
    // any other thread exists, so nothing reads the environment concurrently.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("DOCKER_HOST", host)
    };
    Ok(())
}

/// Whether the daemon behind `docker` is Podman: its version lists a `Podman Engine` component.
pub async fn is_podman(docker: &bollard::Docker) -> bool {
    let Ok(version) = docker.version().await else { return false };
    version.components.unwrap_or_default().iter().any(|c| c.name.to_ascii_lowercase().starts_with("podman"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_uses_the_system_socket_a_user_their_own_first() {
        assert_eq!(podman_sockets(0, Some("/run/user/0")), vec![PathBuf::from("/run/podman/podman.sock")]);
        assert_eq!(
            podman_sockets(1000, Some("/run/user/1000")),
            vec![
                PathBuf::from("/run/user/1000/podman/podman.sock"),
                PathBuf::from("/run/podman/podman.sock")
            ]
        );
        assert_eq!(podman_sockets(1000, None)[0], PathBuf::from("/run/user/1000/podman/podman.sock"));
        assert_eq!(podman_sockets(1000, Some(""))[0], PathBuf::from("/run/user/1000/podman/podman.sock"));
    }

    #[test]
    fn the_first_socket_that_exists_wins_and_none_is_an_error_naming_them() {
        let sockets = podman_sockets(1000, Some("/run/user/1000"));
        let rootful = |p: &Path| p == Path::new("/run/podman/podman.sock");
        assert_eq!(podman_host(&sockets, rootful).unwrap(), "unix:///run/podman/podman.sock");
        assert_eq!(podman_host(&sockets, |_| true).unwrap(), "unix:///run/user/1000/podman/podman.sock");
        let err = podman_host(&sockets, |_| false).unwrap_err();
        assert!(
            err.to_string().contains("/run/user/1000/podman/podman.sock or /run/podman/podman.sock"),
            "{err}"
        );
        assert!(err.hint().is_some_and(|h| h.contains("podman system service")));
    }
}
