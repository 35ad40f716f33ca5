//! Actions pipe runs itself, offline: `actions/checkout` (a copy of the working tree) and
//! `actions/upload-artifact` / `actions/download-artifact` (a run-local artifact store under the
//! state directory). Any other remote action is an error that names it.

use std::path::Path;

use super::step::StepRun;
use super::workspace;
use crate::backend::JobHandle;

pub struct Invocation<'a> {
    pub uses: &'a str,
    pub with: &'a [(String, String)],
}

impl Invocation<'_> {
    fn input(&self, name: &str) -> Option<&str> {
        self.with
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// The built-in actions, for messages.
pub const BUILT_IN: &[&str] = &["actions/checkout", "actions/upload-artifact", "actions/download-artifact"];

/// Run a built-in action; returns lines to show.
pub async fn run(run: &StepRun<'_>, action: &Invocation<'_>) -> Result<Vec<String>, String> {
    let name = action.uses.split('@').next().unwrap_or(action.uses).to_ascii_lowercase();
    match name.as_str() {
        "actions/checkout" => checkout(run, action).await,
        "actions/upload-artifact" => upload(run, action).await,
        "actions/download-artifact" => download(run, action).await,
        _ => Err(format!(
            "the action `{}` is not available offline; pipe runs these itself: {}",
            action.uses,
            BUILT_IN.join(", ")
        )),
    }
}

fn workspace_path(run: &StepRun<'_>, rel: Option<&str>) -> Result<String, String> {
    let base = run.handle.paths().workspace;
    match rel {
        None => Ok(base),
        Some(r) if r.split('/').any(|c| c == "..") => Err(format!("`{r}` leaves the workspace")),
        Some(r) if r.starts_with('/') => Ok(r.to_string()),
        Some(r) => Ok(format!("{base}/{}", r.trim_end_matches('/'))),
    }
}

async fn checkout(run: &StepRun<'_>, action: &Invocation<'_>) -> Result<Vec<String>, String> {
    if run.shared.bind {
        return Ok(vec!["checkout: running in the working tree (--bind), nothing to copy".into()]);
    }
    let files =
        workspace::tree_files(&run.shared.workdir, run.shared.store.root()).map_err(|e| e.to_string())?;
    let dest = workspace_path(run, action.input("path"))?;
    let staging = run.scratch.join("checkout");
    let _ = std::fs::remove_dir_all(&staging);
    workspace::copy_files(&run.shared.workdir, &files, &staging).map_err(|e| e.to_string())?;
    copy_in(run.handle, &staging, &dest).await?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(vec![format!("checkout: copied {} file(s) of the working tree into {dest}", files.len())])
}

async fn upload(run: &StepRun<'_>, action: &Invocation<'_>) -> Result<Vec<String>, String> {
    let name = action.input("name").unwrap_or("artifact");
    check_name(name)?;
    let path = action.input("path").ok_or("upload-artifact needs `path`")?;
    let store = run.shared.store.artifacts_dir(&run.shared.run_id).join(name);
    let mut copied = 0;
    for p in path.lines().map(str::trim).filter(|p| !p.is_empty() && !p.starts_with('!')) {
        let src = workspace_path(run, Some(p))?;
        copied += copy_out(run.handle, &src, &store).await?;
    }
    if copied == 0 {
        return match action.input("if-no-files-found").unwrap_or("warn") {
            "error" => Err(format!("upload-artifact: no files found at `{path}`")),
            _ => Ok(vec![format!("upload-artifact: no files found at `{path}`; nothing uploaded")]),
        };
    }
    Ok(vec![format!("upload-artifact: stored {copied} file(s) as `{name}`")])
}

async fn download(run: &StepRun<'_>, action: &Invocation<'_>) -> Result<Vec<String>, String> {
    let root = run.shared.store.artifacts_dir(&run.shared.run_id);
    let names: Vec<String> = match action.input("name") {
        Some(n) => {
            check_name(n)?;
            vec![n.to_string()]
        }
        None => std::fs::read_dir(&root)
            .map(|rd| rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect())
            .unwrap_or_default(),
    };
    let mut lines = Vec::new();
    for n in &names {
        let src = root.join(n);
        if !src.is_dir() {
            return Err(format!("download-artifact: no artifact named `{n}` in this run"));
        }
        // One artifact goes to `path`; several go to `path/<name>`, as on GitHub.
        let rel = match (action.input("path"), names.len()) {
            (Some(p), 1) => p.to_string(),
            (Some(p), _) => format!("{p}/{n}"),
            (None, 1) => String::new(),
            (None, _) => n.clone(),
        };
        let dest = workspace_path(run, Some(&rel).filter(|r| !r.is_empty()).map(String::as_str))?;
        copy_in(run.handle, &src, &dest).await?;
        lines.push(format!("download-artifact: `{n}` into {dest}"));
    }
    Ok(lines)
}

fn check_name(name: &str) -> Result<(), String> {
    if name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        return Err(format!("invalid artifact name `{name}`"));
    }
    Ok(())
}

/// Copy a host directory into the job (host path or container path).
async fn copy_in(handle: &JobHandle, src: &Path, dest: &str) -> Result<(), String> {
    match handle {
        JobHandle::Host(_) => workspace::copy_dir(src, Path::new(dest)).map_err(|e| e.to_string()),
        JobHandle::Docker(j) => j.copy_in(src, dest).await.map_err(|e| e.to_string()),
    }
}

/// Copy a file or directory of the job out to a host directory; returns the number of files.
async fn copy_out(handle: &JobHandle, src: &str, dest: &Path) -> Result<usize, String> {
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

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { count_files(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}
