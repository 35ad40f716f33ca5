//! What changes when the engine runs on another machine ([`super::engine_is_remote`]): nothing of
//! this machine's disk can be bind-mounted, so files cross by archive upload and download.
//!
//! - The workspace and the runner directory of a job: see `container.rs` (copied in at the start)
//!   and `exec.rs` (the runner directory around each step).
//! - Pipe's own files (container paths under [`PIPE_FILES`], e.g. the node binary of JavaScript
//!   actions): uploaded into the job container after it starts, instead of mounted.
//! - Volumes: an absolute host path names a directory of the engine's machine (as with `docker
//!   -H`); a path relative to the workspace or home (`./data`, `~/x`) names one of this machine,
//!   which the engine cannot see: refused with a message.
//! - One-off step containers (`docker://` steps, docker actions): [`put_dirs`] before the start
//!   and [`get_dirs`] after the end, instead of bind mounts.

use std::path::{Path, PathBuf};

use bollard::Docker;

use super::tarball::{Item, download, upload};
use crate::Error;

/// Container paths below this one hold pipe's own files (mounted read-only, or uploaded).
pub const PIPE_FILES: &str = "/__pipe/";

/// Take the binds of pipe's own files (`HOST:/__pipe/…[:ro]`) out of `binds`: what to upload
/// instead, as (host file, container path).
pub(crate) fn take_pipe_files(binds: &mut Vec<String>) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    binds.retain(|bind| {
        let mut parts = bind.splitn(3, ':');
        let (Some(host), Some(target)) = (parts.next(), parts.next()) else { return true };
        if target.starts_with(PIPE_FILES) {
            files.push((PathBuf::from(host), target.to_string()));
            false
        } else {
            true
        }
    });
    files
}

/// Refuse a volume whose host side is a path of this machine (relative to the workspace or
/// home), which an engine on another machine cannot see.
pub(crate) fn check_volume(spec: &str) -> Result<(), Error> {
    let source = spec.split(':').next().unwrap_or_default();
    if spec.contains(':') && (source.starts_with('.') || source.starts_with('~')) {
        return Err(Error::Usage {
            message: format!(
                "volume `{spec}` names a directory of this machine, and the Docker engine runs on another one"
            ),
            hint: Some(
                "use a named volume, or an absolute path on the engine's machine, or a local engine"
                    .to_string(),
            ),
        });
    }
    Ok(())
}

/// Upload pipe's own files into a started container.
pub(crate) async fn put_files(
    docker: &Docker,
    container: &str,
    files: &[(PathBuf, String)],
) -> Result<(), Error> {
    if files.is_empty() {
        return Ok(());
    }
    let mut items = Vec::new();
    for (host, target) in files {
        let relative = target.trim_start_matches('/');
        let mut dir = String::new();
        for part in Path::new(relative).parent().into_iter().flat_map(Path::components) {
            if !dir.is_empty() {
                dir.push('/');
            }
            dir.push_str(&part.as_os_str().to_string_lossy());
            items.push(Item::Dir(dir.clone()));
        }
        items.push(Item::File(relative.to_string(), host.clone()));
    }
    upload(docker, container, "/", items).await
}

/// Copy host directories into a container that was created (started or not): each becomes the
/// container directory it is paired with (an absolute path; created with its parents).
pub async fn put_dirs(docker: &Docker, container: &str, dirs: &[(&str, &Path)]) -> Result<(), Error> {
    let mut items = Vec::new();
    for (target, host) in dirs {
        let relative = target.trim_matches('/');
        let mut dir = String::new();
        let parts: Vec<&str> = relative.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            if !dir.is_empty() {
                dir.push('/');
            }
            dir.push_str(part);
            items.push(Item::Dir(dir.clone()));
        }
        items.push(Item::Tree(relative.to_string(), host.to_path_buf()));
    }
    upload(docker, container, "/", items).await
}

/// Copy container directories (of a running or exited container) back into host directories;
/// files the container deleted stay on the host.
pub async fn get_dirs(docker: &Docker, container: &str, dirs: &[(&str, &Path)]) -> Result<(), Error> {
    for (source, host) in dirs {
        download(docker, container, source, host).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_files_are_taken_out_of_the_binds() {
        let mut binds = vec![
            "/usr/bin/node:/__pipe/node/bin/node:ro".to_string(),
            "/srv/data:/data".to_string(),
            "cache:/cache".to_string(),
        ];
        let files = take_pipe_files(&mut binds);
        assert_eq!(files, vec![(PathBuf::from("/usr/bin/node"), "/__pipe/node/bin/node".to_string())]);
        assert_eq!(binds, vec!["/srv/data:/data", "cache:/cache"]);
    }

    #[test]
    fn local_relative_volumes_are_refused() {
        assert!(check_volume("./data:/data").is_err());
        assert!(check_volume("~/x:/x:ro").is_err());
        for ok in ["/srv/data:/data", "named:/data", "/anonymous"] {
            assert!(check_volume(ok).is_ok(), "{ok}");
        }
    }
}
