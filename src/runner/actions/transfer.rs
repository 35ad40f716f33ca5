//! Moving files between the host and the job, for the actions that keep files on the host:
//! checkout, artifacts, cache, builds, docker actions. The job's backend moves them (see
//! [`JobBackend::copy_in`]).

use std::path::Path;

use crate::backend::JobBackend;
pub use crate::backend::Kind;
pub use crate::backend::host::count_files;

/// Copy what the host directory `src` holds into the job directory `dest` (created when missing;
/// existing files are overwritten, others kept).
pub async fn copy_in(handle: &dyn JobBackend, src: &Path, dest: &str) -> Result<(), String> {
    handle.copy_in(src, dest).await.map_err(|e| e.to_string())
}

/// Copy a file or directory of the job to the host directory `dest` (a file lands as
/// `dest/NAME`, a directory's contents in `dest`); returns the number of files, 0 when `src` is
/// missing.
pub async fn copy_out(handle: &dyn JobBackend, src: &str, dest: &Path) -> Result<usize, String> {
    handle.copy_out(src, dest).await.map_err(|e| e.to_string())
}

/// What a job path is, since a copy out does not tell a file from a directory holding one file
/// of the same name.
pub async fn kind(handle: &dyn JobBackend, path: &str) -> Result<Kind, String> {
    handle.kind(path).await.map_err(|e| e.to_string())
}
