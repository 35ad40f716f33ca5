//! The `PlanInput` of `pipe plan` and `pipe run`: the selection flags plus what git says about
//! the working copy (current dir).
//!
//! Defaults, where SPEC.md leaves room:
//! - `--ref`: the current branch (`git symbolic-ref -q HEAD`); outside a git repository or on a
//!   detached HEAD, `refs/heads/main`. A ref given without `refs/` is a branch: `dev` means
//!   `refs/heads/dev`.
//! - `--sha`: `git rev-parse HEAD` (a given sha is expanded by git when it can); outside git,
//!   40 zeros.
//! - changed files: the commit against its first parent, or every file of a root commit; unknown
//!   (`None`: path filters do not exclude the run) when git cannot tell.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::Error;
use crate::cli::{ExecutorChoice, Selection};
use crate::plan::PlanInput;

const NO_SHA: &str = "0000000000000000000000000000000000000000";
const FALLBACK_REF: &str = "refs/heads/main";

pub fn plan_input(file: &Path, select: &Selection, executor: ExecutorChoice) -> Result<PlanInput, Error> {
    let inputs = pairs("--input", &select.inputs)?.into_iter().collect::<BTreeMap<_, _>>();
    let platforms = pairs("-P/--platform", &select.platforms)?;
    let event_payload = match &select.eventpath {
        Some(path) => Some(read_payload(path)?),
        None => None,
    };
    let git_ref = match &select.git_ref {
        Some(r) => full_ref(r),
        None => current_ref(),
    };
    let sha = match &select.sha {
        Some(s) => {
            git(&["rev-parse", "--verify", "-q", &format!("{s}^{{commit}}")]).unwrap_or_else(|| s.clone())
        }
        None => git(&["rev-parse", "--verify", "-q", "HEAD"]).unwrap_or_else(|| NO_SHA.to_string()),
    };
    let changed_files = if sha == NO_SHA { None } else { changed_files(&sha) };
    Ok(PlanInput {
        pipeline_path: file.strip_prefix(".").unwrap_or(file).display().to_string(),
        event: select.event.clone(),
        git_ref,
        sha,
        changed_files,
        event_payload,
        inputs,
        jobs: select.jobs.clone(),
        mode: select.mode,
        platforms,
        executor,
        vars: pairs("--var", &select.vars)?.into_iter().collect(),
        actions: crate::fetch::Sources::default(),
        fetch: false,
    })
}

/// `NAME=VALUE` arguments, in order; a later duplicate wins when collected into a map.
pub fn pairs(flag: &str, args: &[String]) -> Result<Vec<(String, String)>, Error> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(Error::Usage {
                message: format!("{flag} `{a}`: expected NAME=VALUE"),
                hint: Some(format!("for example {flag} name=value")),
            }),
        })
        .collect()
}

pub fn full_ref(r: &str) -> String {
    if r.starts_with("refs/") { r.to_string() } else { format!("refs/heads/{r}") }
}

fn current_ref() -> String {
    git(&["symbolic-ref", "-q", "HEAD"]).unwrap_or_else(|| FALLBACK_REF.to_string())
}

fn read_payload(path: &Path) -> Result<serde_json::Value, Error> {
    let text =
        std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|e| Error::Usage {
        message: format!("--eventpath {}: not valid JSON: {e}", path.display()),
        hint: Some("the file should hold a webhook payload such as {\"action\": \"opened\"}".into()),
    })
}

/// Files changed by `sha`: against its first parent, or all files of a root commit.
fn changed_files(sha: &str) -> Option<Vec<String>> {
    let has_parent = git(&["rev-parse", "--verify", "-q", &format!("{sha}^1")]).is_some();
    let out = if has_parent {
        git_raw(&["diff", "--name-only", "-z", &format!("{sha}^1"), sha])?
    } else {
        git_raw(&["diff-tree", "--root", "--no-commit-id", "--name-only", "-r", "-z", sha])?
    };
    Some(out.split('\0').filter(|s| !s.is_empty()).map(str::to_string).collect())
}

/// A git command's trimmed stdout when it succeeds with some output.
fn git(args: &[&str]) -> Option<String> {
    let out = git_raw(args)?;
    let t = out.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn git_raw(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs() {
        assert_eq!(full_ref("dev"), "refs/heads/dev");
        assert_eq!(full_ref("refs/tags/v1"), "refs/tags/v1");
    }

    /// One row per case: the argument and the parsed pair (or the error).
    macro_rules! cases {
        ($($name:ident: $arg:expr => $want:expr;)+) => {
            $(
                #[test]
                fn $name() {
                    let got = pairs("--input", &[$arg.to_string()]).map_err(|e| e.to_string());
                    let want: Result<Vec<(String, String)>, String> =
                        $want.map(|(k, v): (&str, &str)| vec![(k.to_string(), v.to_string())]);
                    assert_eq!(got, want);
                }
            )+
        };
    }

    cases! {
        simple: "a=b" => Ok(("a", "b"));
        empty_value: "a=" => Ok(("a", ""));
        equals_in_value: "a=b=c" => Ok(("a", "b=c"));
        no_equals: "ab" => Err::<(&str, &str), _>("--input `ab`: expected NAME=VALUE".to_string());
        no_name: "=b" => Err::<(&str, &str), _>("--input `=b`: expected NAME=VALUE".to_string());
    }
}
