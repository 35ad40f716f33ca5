//! `concurrency:` groups as a lock shared by every pipe process of this state directory: a run
//! (or a job) in a busy group waits for the holder, or with `cancel-in-progress: true` stops the
//! holder (SIGTERM, which it handles like Ctrl-C) and takes the group over.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::Error;

/// Held while the group is ours; dropping it (or the process ending) frees the group.
pub struct GroupGuard {
    _file: File,
}

fn lock_path(state_dir: &Path, group: &str) -> PathBuf {
    let safe: String = group
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    state_dir.join("concurrency").join(format!("{safe}.lock"))
}

/// Take the group; `on_wait` is told once when another process holds it.
pub async fn acquire(
    state_dir: &Path,
    group: &str,
    cancel_in_progress: bool,
    on_wait: impl FnOnce(Option<u32>),
) -> Result<GroupGuard, Error> {
    let path = lock_path(state_dir, group);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| Error::Write { path: path.clone(), source })?;
    if file.try_lock().is_err() {
        let mut text = String::new();
        let _ = file.read_to_string(&mut text);
        let holder: Option<u32> = text.trim().parse().ok();
        on_wait(holder);
        // Never stop ourselves: another leg of this very run holds the group, so wait for it.
        if cancel_in_progress && let Some(pid) = holder.filter(|p| *p != std::process::id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let f = file;
        file = tokio::task::spawn_blocking(move || f.lock().map(|()| f))
            .await
            .map_err(|e| Error::env(format!("waiting for concurrency group `{group}`: {e}")))?
            .map_err(|source| Error::Write { path: path.clone(), source })?;
    }
    // Record the holder so a newer run with cancel-in-progress knows whom to stop.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    let _ = file.flush();
    Ok(GroupGuard { _file: file })
}
