//! Where actions come from: the source URL template (`--action-source`, pipe.toml
//! `[actions] source`, default GitHub), local folders standing in for an `owner/repo@ref`
//! (`--local-action`), and whether the network may be used at all (`--offline`).

use std::path::PathBuf;

use super::reference::RemoteRef;

/// The default source of `owner/repo` actions.
pub const DEFAULT_SOURCE: &str = "https://github.com/{owner}/{repo}";

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sources {
    /// A URL with `{owner}` and `{repo}`; without them, `/{owner}/{repo}` is appended.
    pub source: Option<String>,
    /// `owner/repo@ref` (ref optional: any ref) → a folder used instead of a fetch.
    pub local: Vec<(String, PathBuf)>,
    /// Use only the cache and the local folders.
    pub offline: bool,
}

impl Sources {
    /// Read the `--local-action OWNER/REPO@REF=PATH` values.
    pub fn with_local_flags(mut self, flags: &[String]) -> Result<Sources, String> {
        for flag in flags {
            let Some((action, path)) = flag.split_once('=') else {
                return Err(format!("--local-action {flag}: expected OWNER/REPO@REF=PATH"));
            };
            if action.split('@').next().is_none_or(|n| n.split('/').count() != 2) || path.is_empty() {
                return Err(format!("--local-action {flag}: expected OWNER/REPO@REF=PATH"));
            }
            let path = std::path::absolute(path).map_err(|e| format!("--local-action {flag}: {e}"))?;
            self.local.push((action.to_string(), path));
        }
        Ok(self)
    }

    /// The git URL of a repository.
    pub fn url(&self, owner: &str, repo: &str) -> String {
        let template = self.source.as_deref().unwrap_or(DEFAULT_SOURCE).trim_end_matches('/');
        if template.contains("{owner}") || template.contains("{repo}") {
            template.replace("{owner}", owner).replace("{repo}", repo)
        } else {
            format!("{template}/{owner}/{repo}")
        }
    }

    /// The local folder standing in for this repository at this ref, if any.
    pub fn local_for(&self, r: &RemoteRef) -> Option<&PathBuf> {
        self.local.iter().find_map(|(action, path)| {
            let (name, git_ref) = action.split_once('@').unwrap_or((action, ""));
            let same =
                name.eq_ignore_ascii_case(&r.repository()) && (git_ref.is_empty() || git_ref == r.git_ref);
            same.then_some(path)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> RemoteRef {
        match super::super::reference::parse(s).unwrap() {
            super::super::reference::Uses::Remote(r) => r,
            _ => unreachable!(),
        }
    }

    #[test]
    fn urls_from_templates() {
        let s = Sources::default();
        assert_eq!(s.url("actions", "checkout"), "https://github.com/actions/checkout");
        let s = Sources { source: Some("file:///srv/git/".into()), ..Sources::default() };
        assert_eq!(s.url("o", "r"), "file:///srv/git/o/r");
        let s =
            Sources { source: Some("git://127.0.0.1:9418/{owner}-{repo}.git".into()), ..Sources::default() };
        assert_eq!(s.url("o", "r"), "git://127.0.0.1:9418/o-r.git");
    }

    #[test]
    fn local_folders_by_repository_and_ref() {
        let s =
            Sources::default().with_local_flags(&["Acme/Tool@v1=/x".into(), "acme/other=/y".into()]).unwrap();
        assert_eq!(s.local_for(&r("acme/tool/sub@v1")).unwrap(), &PathBuf::from("/x"));
        assert!(s.local_for(&r("acme/tool@v2")).is_none());
        assert_eq!(s.local_for(&r("acme/other@main")).unwrap(), &PathBuf::from("/y"));
        assert!(Sources::default().with_local_flags(&["acme/tool@v1".into()]).is_err());
        assert!(Sources::default().with_local_flags(&["tool@v1=/x".into()]).is_err());
    }
}
