//! Copying files of this machine: whole trees, or listed files, keeping modes and symlinks (the
//! host backend's `copy_in`/`copy_out`, and the runner's checkout of the working tree).

use std::path::{Path, PathBuf};

use crate::Error;

/// The files under `dir`, relative to `root`, into `out` (directories for which `skip` holds are
/// left out).
pub fn walk(root: &Path, dir: &Path, skip: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
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
