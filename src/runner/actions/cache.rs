//! `actions/cache`: restore when the step runs, save after the job's last step (a post step)
//! when the job succeeded and the primary key had no exact hit. `actions/cache/restore` only
//! restores; `actions/cache/save` saves at once.
//!
//! The cache lives on this machine (see [`super::cache_store`]), shared by every run and branch.
//! `path` lists paths literally (relative to the workspace, absolute, or `~/…`: `$HOME` of pipe for
//! a host job, `/root` in a container unless the step's env sets `HOME`); glob patterns are not
//! expanded and are an error, `!` exclusions are ignored.

use super::cache_store::{CacheStore, version};
use super::transfer::{Kind, copy_in, copy_out, count_files, kind};
use super::{Done, Invocation, Post, list, say, workspace_path};
use crate::backend::JobBackend;
use crate::runner::job::JobState;
use crate::runner::step::StepRun;

/// A save registered by a restore, for the post step.
pub struct Pending {
    pub step: usize,
    pub key: String,
    pub version: String,
    /// The paths as the job sees them, in the order of `path`.
    pub paths: Vec<String>,
    pub exact_hit: bool,
}

const INPUTS: &[&str] = &[
    "key",
    "path",
    "restore-keys",
    "lookup-only",
    "fail-on-cache-miss",
    "enableCrossOsArchive",
    "upload-chunk-size",
    "save-always",
];

pub async fn restore(
    run: &StepRun<'_>,
    state: &mut JobState,
    action: &Invocation<'_>,
    save_after: bool,
) -> Result<Done, String> {
    action.report_ignored(run, "cache", INPUTS);
    let (key, written, paths) = key_and_paths(run, action)?;
    let version = version(&written);
    let restore_keys = list(action.input("restore-keys"), false);
    let store = CacheStore::new(run.shared.store.root(), &run.shared.masker);
    let found = store.lookup(&key, &restore_keys, &version);
    let exact_hit = found.as_ref().is_some_and(|(_, e)| e.has_key(&key));
    let matched = found.as_ref().map(|(_, e)| e.key.clone()).unwrap_or_default();
    match found {
        None if action.flag("fail-on-cache-miss", false) => {
            return Err(format!("cache: no entry for `{key}` or its restore keys (fail-on-cache-miss)"));
        }
        None => say(run, &format!("cache: no entry for `{key}`")),
        Some((_, entry)) if action.flag("lookup-only", false) => {
            say(run, &format!("cache: found `{}` (lookup-only: nothing restored)", entry.key))
        }
        Some((dir, entry)) => {
            let mut files = 0;
            for (i, ((_, was), dest)) in entry.paths.iter().zip(&paths).enumerate() {
                let src = dir.join("files").join(i.to_string());
                let into = match was {
                    Kind::Missing => continue,
                    Kind::Dir => dest.clone(),
                    // A file was stored as `files/<i>/NAME`: its folder goes to the file's parent.
                    Kind::File => parent(dest),
                };
                copy_in(run.handle, &src, &into).await?;
                files += count_files(&src);
            }
            let how = if exact_hit { "hit" } else { "partial match" };
            say(run, &format!("cache: restored {files} file(s) from `{}` ({how})", entry.key));
        }
    }
    if save_after {
        let pending = Pending { step: run.index, key: key.clone(), version, paths, exact_hit };
        state.post.push(Post::SaveCache(pending));
    }
    Ok(Done::success()
        .output("cache-hit", exact_hit.to_string())
        .output("cache-primary-key", key)
        .output("cache-matched-key", matched))
}

/// `actions/cache/save`: save now (a key already saved is left as it is).
pub async fn save_now(run: &StepRun<'_>, action: &Invocation<'_>) -> Result<Done, String> {
    action.report_ignored(run, "cache", INPUTS);
    let (key, written, paths) = key_and_paths(run, action)?;
    let pending = Pending { step: run.index, key, version: version(&written), paths, exact_hit: false };
    save_pending(run, &pending).await?;
    Ok(Done::success())
}

/// Save the paths under the key, unless the key had an exact hit or is already saved.
pub async fn save_pending(run: &StepRun<'_>, pending: &Pending) -> Result<(), String> {
    let key = &pending.key;
    if pending.exact_hit {
        say(run, &format!("cache: hit on the primary key `{key}`: not saving"));
        return Ok(());
    }
    let store = CacheStore::new(run.shared.store.root(), &run.shared.masker);
    if store.exists(key, &pending.version) {
        say(run, &format!("cache: `{key}` is already saved (entries are immutable): not saving"));
        return Ok(());
    }
    let tmp = store.begin(&run.leg.key)?;
    let copied = copy_paths(run.handle, &pending.paths, &tmp).await;
    let (kinds, files) = match copied {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    if kinds.iter().all(|(_, k)| *k == Kind::Missing) {
        let _ = std::fs::remove_dir_all(&tmp);
        say(run, &format!("cache: none of the paths exist: `{key}` is not saved"));
        return Ok(());
    }
    if store.commit(&tmp, key, &pending.version, kinds)? {
        say(run, &format!("cache: saved {files} file(s) as `{key}`"));
    } else {
        say(run, &format!("cache: another job saved `{key}` first: not saving"));
    }
    Ok(())
}

async fn copy_paths(
    handle: &dyn JobBackend,
    paths: &[String],
    tmp: &std::path::Path,
) -> Result<(Vec<(String, Kind)>, usize), String> {
    let mut kinds = Vec::new();
    let mut files = 0;
    for (i, p) in paths.iter().enumerate() {
        let k = kind(handle, p).await?;
        if k != Kind::Missing {
            files += copy_out(handle, p, &tmp.join("files").join(i.to_string())).await?;
        }
        kinds.push((p.clone(), k));
    }
    Ok((kinds, files))
}

/// The key, the paths as written (they make the version) and as the job sees them.
fn key_and_paths(
    run: &StepRun<'_>,
    action: &Invocation<'_>,
) -> Result<(String, Vec<String>, Vec<String>), String> {
    let key = action.input("key").ok_or("cache needs `key`")?.trim().to_string();
    if key.contains(',') || key.len() > 512 {
        return Err(format!("cache: the key `{key}` must be at most 512 characters, without commas"));
    }
    let mut written = Vec::new();
    for p in list(action.input("path"), false) {
        if p.starts_with('!') {
            say(run, &format!("cache: exclusion `{p}` is ignored (pipe caches paths literally)"));
        } else if p.contains(['*', '?', '[']) {
            return Err(format!("cache: `{p}` is a glob pattern; pipe's cache takes literal paths"));
        } else {
            written.push(p);
        }
    }
    if written.is_empty() {
        return Err("cache needs `path` (one or more paths)".into());
    }
    let home = action.env.get("HOME").cloned().unwrap_or_else(|| run.handle.default_home());
    let resolved = written
        .iter()
        .map(|p| match p.strip_prefix("~/") {
            Some(rest) => Ok(format!("{}/{}", home.trim_end_matches('/'), rest.trim_end_matches('/'))),
            None if p == "~" => Ok(home.clone()),
            None => workspace_path(run, Some(p)),
        })
        .collect::<Result<_, String>>()?;
    Ok((key, written, resolved))
}

fn parent(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) => "/".to_string(),
        Some((dir, _)) => dir.to_string(),
        None => ".".to_string(),
    }
}
