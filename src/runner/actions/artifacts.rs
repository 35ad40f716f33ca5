//! `actions/upload-artifact` and `actions/download-artifact`: a run-local artifact store under
//! `<state dir>/runs/<id>/artifacts/<name>/`.

use super::transfer::{copy_in, copy_out};
use super::{Done, Invocation, say, workspace_path};
use crate::runner::step::StepRun;

pub async fn upload(run: &StepRun<'_>, action: &Invocation<'_>) -> Result<Done, String> {
    let name = action.input("name").unwrap_or("artifact");
    check_name(run, name)?;
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
            _ => {
                say(run, &format!("upload-artifact: no files found at `{path}`; nothing uploaded"));
                Ok(Done::success())
            }
        };
    }
    say(run, &format!("upload-artifact: stored {copied} file(s) as `{name}`"));
    Ok(Done::success())
}

pub async fn download(run: &StepRun<'_>, action: &Invocation<'_>) -> Result<Done, String> {
    let root = run.shared.store.artifacts_dir(&run.shared.run_id);
    let names: Vec<String> = match action.input("name") {
        Some(n) => {
            check_name(run, n)?;
            vec![n.to_string()]
        }
        None => std::fs::read_dir(&root)
            .map(|rd| rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect())
            .unwrap_or_default(),
    };
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
        say(run, &format!("download-artifact: `{n}` into {dest}"));
    }
    Ok(Done::success())
}

fn check_name(run: &StepRun<'_>, name: &str) -> Result<(), String> {
    if name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        return Err(format!("invalid artifact name `{name}`"));
    }
    // The name becomes a folder of the state dir, and no secret is ever written into a file name.
    if run.shared.masker.mask(name) != name {
        return Err(format!(
            "the artifact name `{}` holds a secret; artifact names become folder names: use a name without it",
            run.shared.masker.mask(name)
        ));
    }
    Ok(())
}
