//! The working tree as a job sees it: `actions/checkout` copies the files git would commit —
//! tracked and untracked-but-not-ignored, with uncommitted changes — into the job's workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;

/// Files of the working tree at `root`, relative to it, as git lists them; outside a git
/// repository every file except the state directory and `target/`.
pub fn tree_files(root: &Path, state_dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let out = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(root)
        .output();
    if let Ok(out) = out
        && out.status.success()
    {
        return Ok(out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            // Tracked files deleted in the working tree are not copied.
            .filter(|p| root.join(p).symlink_metadata().is_ok())
            .collect());
    }
    let mut files = Vec::new();
    let state = state_dir.canonicalize().unwrap_or_else(|_| state_dir.to_path_buf());
    let skip = |p: &Path| {
        p.file_name().is_some_and(|n| n == ".git" || n == "target")
            || p.canonicalize().is_ok_and(|c| c == state)
    };
    walk(root, root, &skip, &mut files);
    Ok(files)
}

use crate::backend::files::walk;
pub use crate::backend::files::{copy_dir, copy_files};
