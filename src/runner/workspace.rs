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

fn walk(root: &Path, dir: &Path, skip: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if skip(&p) {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(root, &p, skip, out),
            Ok(_) => {
                if let Ok(rel) = p.strip_prefix(root) {
                    out.push(rel.to_path_buf());
                }
            }
            Err(_) => {}
        }
    }
}

/// Copy `files` (relative to `from`) into `to`, keeping modes and symlinks.
pub fn copy_files(from: &Path, files: &[PathBuf], to: &Path) -> Result<(), Error> {
    for rel in files {
        let src = from.join(rel);
        let dst = to.join(rel);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| Error::Write { path: parent.to_path_buf(), source })?;
        }
        let meta = src.symlink_metadata().map_err(|source| Error::Read { path: src.clone(), source })?;
        if meta.file_type().is_symlink() {
            let target =
                std::fs::read_link(&src).map_err(|source| Error::Read { path: src.clone(), source })?;
            let _ = std::fs::remove_file(&dst);
            std::os::unix::fs::symlink(target, &dst)
                .map_err(|source| Error::Write { path: dst.clone(), source })?;
        } else if meta.is_file() {
            std::fs::copy(&src, &dst).map_err(|source| Error::Write { path: dst.clone(), source })?;
        }
    }
    Ok(())
}

/// Copy a whole directory tree.
pub fn copy_dir(from: &Path, to: &Path) -> Result<(), Error> {
    let mut files = Vec::new();
    walk(from, from, &|_| false, &mut files);
    std::fs::create_dir_all(to).map_err(|source| Error::Write { path: to.to_path_buf(), source })?;
    copy_files(from, &files, to)
}
