//! Who answers a gate: `--as NAME`, else `git config user.name`, else `$USER`, else "unknown".
//! An audit trail on one machine, not authentication.

use std::process::{Command, Stdio};

pub fn identity(as_name: Option<&str>) -> String {
    resolve(as_name, git_user_name, || std::env::var("USER").ok())
}

/// The first non-blank answer, trimmed; the sources are functions so only the needed ones run.
fn resolve(
    as_name: Option<&str>,
    git: impl FnOnce() -> Option<String>,
    user: impl FnOnce() -> Option<String>,
) -> String {
    let usable = |s: String| {
        let t = s.trim().to_string();
        (!t.is_empty()).then_some(t)
    };
    as_name
        .map(str::to_string)
        .and_then(usable)
        .or_else(|| git().and_then(usable))
        .or_else(|| user().and_then(usable))
        .unwrap_or_else(|| "unknown".to_string())
}

fn git_user_name() -> Option<String> {
    let out = Command::new("git")
        .args(["config", "user.name"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_non_blank_source_wins() {
        let some = |s: &str| {
            let s = s.to_string();
            move || Some(s)
        };
        assert_eq!(resolve(Some("carol"), some("git"), some("user")), "carol");
        assert_eq!(resolve(Some("  "), some(" Alice Smith\n"), some("user")), "Alice Smith");
        assert_eq!(resolve(None, || None, some("bob")), "bob");
        assert_eq!(resolve(None, some(""), || None), "unknown");
    }
}
