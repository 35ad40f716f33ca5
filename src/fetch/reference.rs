//! What a `uses:` names: a local folder (`./path`), an image (`docker://IMAGE`), or an action of
//! a repository (`owner/repo@ref`, `owner/repo/path@ref`), read the way GitHub reads it.

use std::fmt;

/// A parsed `uses:` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uses {
    /// `./path` in the workspace.
    Local(String),
    /// `docker://IMAGE`.
    Docker(String),
    Remote(RemoteRef),
}

/// `owner/repo[/path]@ref`: an action (or a reusable workflow file) in a repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RemoteRef {
    pub owner: String,
    pub repo: String,
    /// The folder (or file) inside the repository; empty for its root.
    pub path: String,
    /// Tag, branch or commit SHA, as written.
    pub git_ref: String,
}

impl RemoteRef {
    /// `owner/repo`, as written.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// `owner/repo/path` without the ref: what built-in actions and tables are keyed by.
    pub fn name(&self) -> String {
        if self.path.is_empty() { self.repository() } else { format!("{}/{}", self.repository(), self.path) }
    }

    /// A full 40-character commit SHA: such a ref never changes, so it is never fetched again.
    pub fn is_sha(&self) -> bool {
        is_full_sha(&self.git_ref)
    }
}

impl fmt::Display for RemoteRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name(), self.git_ref)
    }
}

pub fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Read a `uses:` value; the error says what a valid one looks like.
pub fn parse(uses: &str) -> Result<Uses, String> {
    let uses = uses.trim();
    if let Some(image) = uses.strip_prefix("docker://") {
        if image.is_empty() {
            return Err("`docker://` needs an image name, like `docker://alpine:3.20`".into());
        }
        return Ok(Uses::Docker(image.to_string()));
    }
    if uses.starts_with("./") || uses == "." {
        if uses.contains('@') {
            return Err(format!("`{uses}`: a local action takes no `@ref` (it is the workspace's version)"));
        }
        return Ok(Uses::Local(uses.to_string()));
    }
    let Some((name, git_ref)) = uses.rsplit_once('@') else {
        return Err(format!(
            "`{uses}` has no version: add `@` and a tag, a branch or a commit SHA (`{uses}@REF`), or write `./{uses}` for an action of this repository"
        ));
    };
    if git_ref.is_empty() {
        return Err(format!("`{uses}`: the version after `@` is empty"));
    }
    let mut parts = name.splitn(3, '/');
    let (owner, repo, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next());
    let valid = |s: &str| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if !valid(owner) || !valid(repo) || owner.starts_with('.') || repo.starts_with('.') {
        return Err(format!(
            "`{uses}` is not `owner/repo@ref`, `owner/repo/path@ref`, `./path` or `docker://image`"
        ));
    }
    let path = path.unwrap_or("").trim_end_matches('/');
    if path.split('/').any(|c| c == "..") {
        return Err(format!("`{uses}`: the path may not leave the repository"));
    }
    Ok(Uses::Remote(RemoteRef {
        owner: owner.to_string(),
        repo: repo.to_string(),
        path: path.to_string(),
        git_ref: git_ref.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(s: &str) -> RemoteRef {
        match parse(s) {
            Ok(Uses::Remote(r)) => r,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn forms_of_uses() {
        let r = remote("actions/setup-node@v4");
        assert_eq!(
            (r.owner.as_str(), r.repo.as_str(), r.path.as_str(), r.git_ref.as_str()),
            ("actions", "setup-node", "", "v4")
        );
        let r = remote("github/codeql-action/init@v3");
        assert_eq!((r.path.as_str(), r.name().as_str()), ("init", "github/codeql-action/init"));
        let r = remote("o/r/.github/workflows/x.yml@refs/heads/main");
        assert_eq!((r.path.as_str(), r.git_ref.as_str()), (".github/workflows/x.yml", "refs/heads/main"));
        assert!(remote(&format!("o/r@{}", "a".repeat(40))).is_sha());
        assert!(!remote("o/r@abc1234").is_sha());
        assert_eq!(parse("./x").unwrap(), Uses::Local("./x".into()));
        assert_eq!(parse("docker://alpine:3").unwrap(), Uses::Docker("alpine:3".into()));
        assert_eq!(remote("o/r@v1").to_string(), "o/r@v1");
    }

    #[test]
    fn bad_uses_say_what_is_expected() {
        assert!(parse("actions/checkout").unwrap_err().contains("has no version"));
        assert!(parse("actions/checkout@").unwrap_err().contains("empty"));
        assert!(parse("checkout@v4").unwrap_err().contains("owner/repo@ref"));
        assert!(parse("docker://").unwrap_err().contains("image name"));
        assert!(parse("./a@v1").unwrap_err().contains("no `@ref`"));
        assert!(parse("o/r/../x@v1").unwrap_err().contains("leave"));
        assert!(parse("o /r@v1").is_err());
    }
}
