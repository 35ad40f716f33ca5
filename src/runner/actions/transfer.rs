//! Moving files between the host and the job (a host directory, or the job container), for the
//! actions that keep files on the host: checkout, artifacts, cache, builds, docker actions.

use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::super::workspace;
use crate::backend::{Exit, JobHandle, StepCommand};

/// Copy what the host directory `src` holds into the job directory `dest` (created when missing;
/// existing files are overwritten, others kept).
pub async fn copy_in(handle: &JobHandle, src: &Path, dest: &str) -> Result<(), String> {
    match handle {
        JobHandle::Host(_) => workspace::copy_dir(src, Path::new(dest)).map_err(|e| e.to_string()),
        JobHandle::Docker(j) => j.copy_in(src, dest).await.map_err(|e| e.to_string()),
    }
}

/// Copy a file or directory of the job to the host directory `dest` (a file lands as
/// `dest/NAME`, a directory's contents in `dest`); returns the number of files, 0 when `src` is
/// missing.
pub async fn copy_out(handle: &JobHandle, src: &str, dest: &Path) -> Result<usize, String> {
    match handle {
        JobHandle::Host(_) => {
            let src = Path::new(src);
            if src.is_file() {
                std::fs::create_dir_all(dest).map_err(|e| e.to_string())?;
                let name = src.file_name().ok_or("bad path")?;
                std::fs::copy(src, dest.join(name)).map_err(|e| e.to_string())?;
                Ok(1)
            } else if src.is_dir() {
                workspace::copy_dir(src, dest).map_err(|e| e.to_string())?;
                Ok(count_files(dest))
            } else {
                Ok(0)
            }
        }
        JobHandle::Docker(j) => j.copy_out(src, dest).await.map_err(|e| e.to_string()),
    }
}

/// What a job path is, since a copy out does not tell a file from a directory holding one file
/// of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    File,
    Dir,
    Missing,
}

pub async fn kind(handle: &JobHandle, path: &str) -> Result<Kind, String> {
    match handle {
        JobHandle::Host(_) => Ok(match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Kind::Dir,
            Ok(_) => Kind::File,
            Err(_) => Kind::Missing,
        }),
        JobHandle::Docker(_) => {
            // One tiny exec: `test` exists in every image pipe can run steps in.
            let script = "if [ -d \"$1\" ]; then exit 10; elif [ -e \"$1\" ]; then exit 11; else exit 12; fi";
            let cmd = StepCommand {
                argv: ["sh", "-c", script, "sh", path].map(String::from).to_vec(),
                env: Default::default(),
                workdir: "/".to_string(),
                timeout: Some(Duration::from_secs(30)),
            };
            let (tx, _) = crate::backend::output_channel();
            match handle.exec(&cmd, tx, CancellationToken::new()).await.map_err(|e| e.to_string())? {
                Exit::Code(10) => Ok(Kind::Dir),
                Exit::Code(11) => Ok(Kind::File),
                Exit::Code(12) => Ok(Kind::Missing),
                other => Err(format!("cannot tell what `{path}` is in the job container ({other:?})")),
            }
        }
    }
}

pub fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { count_files(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}
