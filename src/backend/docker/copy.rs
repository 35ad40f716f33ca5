//! Copying files between the host and a job container (checkout and artifact actions).

use std::path::Path;

use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;

use super::tarball::{Item, download, upload};
use super::{DockerJob, docker_error};
use crate::Error;

impl DockerJob {
    /// Copy what the host directory `src` holds into the container directory `dest` (created
    /// when missing; existing files are overwritten).
    pub async fn copy_in(&self, src: &Path, dest: &str) -> Result<(), Error> {
        if !src.is_dir() {
            return Err(Error::Read {
                path: src.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
            });
        }
        let items = || vec![Item::Contents(src.to_path_buf())];
        match upload(&self.docker, &self.container_id, dest, items()).await {
            Ok(()) => Ok(()),
            Err(_) => {
                // Most likely `dest` does not exist yet: create it, then try again.
                self.mkdir(dest).await?;
                upload(&self.docker, &self.container_id, dest, items()).await
            }
        }
    }

    /// Copy the container file or directory `src` into the host directory `dest` (a file lands
    /// as `dest/NAME`, a directory's contents in `dest`). Returns the number of files copied; a
    /// missing `src` copies none. Only regular files and directories are copied.
    pub async fn copy_out(&self, src: &str, dest: &Path) -> Result<usize, Error> {
        std::fs::create_dir_all(dest).map_err(|source| Error::Write { path: dest.to_path_buf(), source })?;
        download(&self.docker, &self.container_id, src, dest).await
    }

    async fn mkdir(&self, dir: &str) -> Result<(), Error> {
        let options = CreateExecOptions {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(vec!["mkdir".to_string(), "-p".to_string(), "--".to_string(), dir.to_string()]),
            ..Default::default()
        };
        let doing = format!("creating {dir} in the container");
        let created = self
            .docker
            .create_exec(&self.container_id, options)
            .await
            .map_err(|e| docker_error(&doing, &e))?;
        let mut said = Vec::new();
        if let StartExecResults::Attached { mut output, .. } =
            self.docker.start_exec(&created.id, None).await.map_err(|e| docker_error(&doing, &e))?
        {
            while let Some(Ok(chunk)) = output.next().await {
                said.extend_from_slice(&chunk.into_bytes());
            }
        }
        let info = self.docker.inspect_exec(&created.id).await.map_err(|e| docker_error(&doing, &e))?;
        match info.exit_code {
            Some(0) | None => Ok(()),
            Some(code) => Err(Error::docker(format!(
                "{doing}: mkdir exited with {code}: {}",
                String::from_utf8_lossy(&said).trim()
            ))),
        }
    }
}
