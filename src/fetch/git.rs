//! The few git commands the fetcher needs, run through the `git` CLI (so the user's git
//! configuration, credentials helpers and proxies apply). Git never prompts: a source that
//! needs a password fails with git's own message.

use std::path::Path;
use std::process::Command;

fn git(dir: Option<&Path>, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    let out = cmd
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .output()
        .map_err(|e| format!("cannot run git (is it installed?): {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("(no message)");
        Err(format!("git {}: {last}", args.first().copied().unwrap_or("")))
    }
}

/// The commit a tag or branch of `url` points at (tags win over branches, as on GitHub); `None`
/// when the repository has no such ref.
pub fn resolve(url: &str, git_ref: &str) -> Result<Option<String>, String> {
    // In order of preference; an annotated tag's peeled commit (`^{}`) is what runs.
    let wanted: Vec<String> = if git_ref.starts_with("refs/") {
        vec![format!("{git_ref}^{{}}"), git_ref.to_string()]
    } else {
        vec![
            format!("refs/tags/{git_ref}^{{}}"),
            format!("refs/tags/{git_ref}"),
            format!("refs/heads/{git_ref}"),
        ]
    };
    let mut args = vec!["ls-remote", "--", url];
    args.extend(wanted.iter().map(String::as_str));
    let listing = git(None, &args)?;
    let refs: Vec<(&str, &str)> = listing.lines().filter_map(|l| l.split_once('\t')).collect();
    Ok(wanted.iter().find_map(|w| refs.iter().find(|(_, r)| r == w).map(|(sha, _)| sha.to_string())))
}

/// Fetch one commit of `url` (depth 1) and check its files out into `dest` (a new folder),
/// without the `.git` folder.
pub fn checkout_commit(url: &str, sha: &str, dest: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    git(Some(dest), &["init", "--quiet"])?;
    git(Some(dest), &["fetch", "--quiet", "--depth", "1", "--no-tags", "--", url, sha])?;
    git(Some(dest), &["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", "FETCH_HEAD"])?;
    let got = git(Some(dest), &["rev-parse", "HEAD"])?;
    if got.trim() != sha {
        return Err(format!("git fetched {} instead of {sha}", got.trim()));
    }
    std::fs::remove_dir_all(dest.join(".git")).map_err(|e| format!("cannot tidy {}: {e}", dest.display()))
}
