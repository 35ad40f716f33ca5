//! Whether this machine's node can run the run's JavaScript actions, checked before the first
//! job. The rule: the major version of `node --version` must be at least the one in the action's
//! `runs.using` (`node20` needs 20 or newer), as a newer node runs what an older one runs. The
//! same node runs on the host and, mounted, in Docker jobs, so the check covers both.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// Why the run cannot start, with what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfit {
    pub message: String,
    pub hint: String,
}

/// The major version `runs.using` asks for: `node20` → 20.
pub fn required(using: &str) -> Option<u32> {
    using.trim().strip_prefix("node")?.parse().ok()
}

/// The major version in `node --version`'s output (`v20.11.1`).
pub fn major(text: &str) -> Option<u32> {
    text.trim().strip_prefix('v')?.split('.').next()?.parse().ok()
}

/// What `node --version` says.
pub fn installed(node: &Path) -> Result<String, String> {
    let out = Command::new(node)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{} --version`: {e}", node.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("`{} --version` failed: {}", node.display(), err.trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Check `node` (`None`: there is none) against the JavaScript actions of the run
/// (`uses` → `runs.using`).
pub fn check(node: Option<&Path>, actions: &BTreeMap<String, String>) -> Result<(), Unfit> {
    // The most demanding action names the version to install.
    let Some((uses, using, needed)) = actions
        .iter()
        .filter_map(|(uses, using)| Some((uses, using, required(using)?)))
        .max_by_key(|(_, _, needed)| *needed)
    else {
        return Ok(());
    };
    let hint = format!(
        "install Node.js {needed} or newer on this machine, or point pipe.toml [actions] node = \"/path/to/node\" at one"
    );
    let needs = format!("the JavaScript action `{uses}` ({using}) needs Node.js {needed} or newer");
    let Some(node) = node else {
        return Err(Unfit { message: format!("{needs}: there is no `node` on PATH"), hint });
    };
    let said = installed(node).map_err(|e| Unfit { message: format!("{needs}: {e}"), hint: hint.clone() })?;
    match major(&said) {
        Some(have) if have >= needed => Ok(()),
        Some(_) => Err(Unfit { message: format!("{needs}: {} is {said}", node.display()), hint }),
        None => Err(Unfit {
            message: format!("{needs}: `{} --version` printed `{said}`, not a version", node.display()),
            hint,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(required("node20"), Some(20));
        assert_eq!(required("node12"), Some(12));
        assert_eq!(required("docker"), None);
        assert_eq!(major("v20.11.1\n"), Some(20));
        assert_eq!(major("v8.0.0"), Some(8));
        assert_eq!(major("20.1"), None);
    }

    #[test]
    fn no_node_names_the_highest_version_needed() {
        let actions = BTreeMap::from([
            ("a/old@v1".to_string(), "node16".to_string()),
            ("b/new@v2".into(), "node24".into()),
        ]);
        let e = check(None, &actions).unwrap_err();
        assert_eq!(
            e.message,
            "the JavaScript action `b/new@v2` (node24) needs Node.js 24 or newer: there is no `node` on PATH"
        );
        assert!(e.hint.contains("Node.js 24 or newer"));
        assert_eq!(check(None, &BTreeMap::new()), Ok(()));
    }
}
