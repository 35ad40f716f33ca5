//! The action cache: one folder per repository and commit, shared by every repository of the
//! user and by concurrent pipe processes.
//!
//! ```text
//! $XDG_CACHE_HOME/pipe/actions/          (default ~/.cache/pipe/actions)
//!   <owner>/<repo>/<sha>/                the repository's files at that commit (no .git)
//!   <owner>/<repo>/refs/<source>-<ref>   the commit a tag or branch last resolved to
//!   <owner>/<repo>/.lock                 held while a commit is fetched
//! ```
//!
//! A commit is fetched into a temporary folder next to its place and renamed into it, under the
//! repository's lock: a reader sees a complete folder or none, and two processes never fetch the
//! same commit twice. A full SHA is never fetched again; a tag or branch is resolved (one
//! `git ls-remote`) at most once per [`Fetcher`], i.e. once per run.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::git;
use super::reference::RemoteRef;
use super::settings::Sources;

/// A repository at a commit, on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// The commit (`local` for a `--local-action` folder).
    pub sha: String,
    /// The repository's files.
    pub root: PathBuf,
    /// `root` joined with the ref's path: the action's folder (or the workflow file).
    pub dir: PathBuf,
    pub origin: Origin,
    /// Something the user should know (e.g. a cached resolution used because the source did
    /// not answer).
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Fetched by this call.
    Fetched,
    Cached,
    /// A `--local-action` folder.
    Local,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Fetched => "fetched",
            Origin::Cached => "cached",
            Origin::Local => "local",
        }
    }
}

/// Why an action is not available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("action `{action}`: {message}")]
pub struct FetchError {
    pub action: String,
    pub message: String,
    pub hint: String,
}

/// Where the cache lives: `$XDG_CACHE_HOME/pipe/actions`, else `~/.cache/pipe/actions`.
pub fn default_root() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".cache"))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("pipe-cache"));
    base.join("pipe").join("actions")
}

/// Fetches and finds actions; remembers what it resolved, so one run resolves a tag once.
pub struct Fetcher {
    root: PathBuf,
    sources: Sources,
    resolved: Mutex<HashMap<String, String>>,
}

impl Fetcher {
    pub fn new(sources: Sources) -> Fetcher {
        Fetcher::with_root(default_root(), sources)
    }

    pub fn with_root(root: PathBuf, sources: Sources) -> Fetcher {
        Fetcher { root, sources, resolved: Mutex::new(HashMap::new()) }
    }

    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The repository of `r` at its ref, fetched when needed (never with `--offline`).
    pub fn checkout(&self, r: &RemoteRef) -> Result<Checkout, FetchError> {
        if let Some(found) = self.local(r) {
            return found;
        }
        let url = self.sources.url(&r.owner, &r.repo);
        let fail =
            |message: String, hint: &str| FetchError { action: r.to_string(), message, hint: hint.into() };
        let (sha, note) = if r.is_sha() {
            (r.git_ref.to_ascii_lowercase(), None)
        } else if let Some(sha) = self.memo(&url, &r.git_ref) {
            (sha, None)
        } else if self.sources.offline {
            let sha = self.remembered(r, &url).ok_or_else(|| {
                fail(format!("not in the action cache ({}), and --offline forbids fetching it", self.root.display()),
                    "run once without --offline to fetch it, or point --local-action OWNER/REPO@REF=PATH at a copy")
            })?;
            (sha, None)
        } else {
            match git::resolve(&url, &r.git_ref) {
                Ok(Some(sha)) => {
                    self.remember(r, &url, &sha);
                    (sha, None)
                }
                Ok(None) => {
                    return Err(fail(
                        format!("{url} has no tag or branch `{}`", r.git_ref),
                        "check the version after `@` (a tag, a branch, or a full 40-character commit SHA)",
                    ));
                }
                // The source does not answer: a resolution made before still works, with a note.
                Err(e) => match self.remembered(r, &url) {
                    Some(sha) => {
                        let note = format!("{url} did not answer ({e}); using the cached {}", short(&sha));
                        (sha, Some(note))
                    }
                    None => return Err(fail(format!("cannot reach {url}: {e}"), SOURCE_HINT)),
                },
            }
        };
        self.memo_insert(&url, &r.git_ref, &sha);
        let root = self.commit_dir(r, &sha);
        let origin = if root.is_dir() {
            Origin::Cached
        } else if self.sources.offline {
            return Err(fail(
                format!("commit {} is not in the action cache ({})", short(&sha), self.root.display()),
                "run once without --offline to fetch it, or point --local-action OWNER/REPO@REF=PATH at a copy",
            ));
        } else {
            self.fetch(r, &url, &sha).map_err(|e| fail(e, SOURCE_HINT))?
        };
        Ok(Checkout { dir: join(&root, &r.path), root, sha, origin, note })
    }

    /// The cached checkout of `r`, without any network access (for `pipe plan` and `validate`).
    pub fn cached(&self, r: &RemoteRef) -> Option<Checkout> {
        if let Some(found) = self.local(r) {
            return found.ok();
        }
        let url = self.sources.url(&r.owner, &r.repo);
        let sha = if r.is_sha() {
            r.git_ref.to_ascii_lowercase()
        } else {
            self.memo(&url, &r.git_ref).or_else(|| self.remembered(r, &url))?
        };
        let root = self.commit_dir(r, &sha);
        root.is_dir().then(|| Checkout {
            dir: join(&root, &r.path),
            root,
            sha,
            origin: Origin::Cached,
            note: None,
        })
    }

    fn local(&self, r: &RemoteRef) -> Option<Result<Checkout, FetchError>> {
        let root = self.sources.local_for(r)?;
        let dir = join(root, &r.path);
        Some(if root.is_dir() {
            Ok(Checkout { sha: "local".into(), root: root.clone(), dir, origin: Origin::Local, note: None })
        } else {
            Err(FetchError {
                action: r.to_string(),
                message: format!("the --local-action folder {} does not exist", root.display()),
                hint: "give an existing folder: --local-action OWNER/REPO@REF=PATH".into(),
            })
        })
    }

    fn repo_dir(&self, r: &RemoteRef) -> PathBuf {
        self.root.join(safe(&r.owner.to_ascii_lowercase())).join(safe(&r.repo.to_ascii_lowercase()))
    }

    fn commit_dir(&self, r: &RemoteRef, sha: &str) -> PathBuf {
        self.repo_dir(r).join(sha)
    }

    /// Where the last resolution of this ref from this source is kept.
    fn ref_file(&self, r: &RemoteRef, url: &str) -> PathBuf {
        let source = hex(&Sha256::digest(url.as_bytes())[..6]);
        self.repo_dir(r).join("refs").join(format!("{source}-{}", safe(&r.git_ref)))
    }

    fn remembered(&self, r: &RemoteRef, url: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.ref_file(r, url)).ok()?;
        let sha = text.trim();
        super::reference::is_full_sha(sha).then(|| sha.to_string())
    }

    fn remember(&self, r: &RemoteRef, url: &str, sha: &str) {
        let file = self.ref_file(r, url);
        if let Some(dir) = file.parent()
            && std::fs::create_dir_all(dir).is_ok()
        {
            // Best effort: without it, --offline cannot use this tag later, nothing else breaks.
            let _ = crate::store::write_atomic(&file, format!("{sha}\n").as_bytes());
        }
    }

    fn memo(&self, url: &str, git_ref: &str) -> Option<String> {
        self.resolved.lock().ok()?.get(&format!("{url}@{git_ref}")).cloned()
    }

    fn memo_insert(&self, url: &str, git_ref: &str, sha: &str) {
        if let Ok(mut m) = self.resolved.lock() {
            m.insert(format!("{url}@{git_ref}"), sha.to_string());
        }
    }

    /// Fetch one commit into the cache under the repository's lock.
    fn fetch(&self, r: &RemoteRef, url: &str, sha: &str) -> Result<Origin, String> {
        let repo_dir = self.repo_dir(r);
        std::fs::create_dir_all(&repo_dir)
            .map_err(|e| format!("cannot create {}: {e}", repo_dir.display()))?;
        let lock_path = repo_dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
        lock.lock().map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
        let dest = self.commit_dir(r, sha);
        // Another process may have fetched it while we waited for the lock.
        if dest.is_dir() {
            return Ok(Origin::Cached);
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let tmp = repo_dir.join(format!(".tmp-{sha}-{}-{nanos}", std::process::id()));
        let result = git::checkout_commit(url, sha, &tmp).and_then(|()| {
            std::fs::rename(&tmp, &dest).map_err(|e| format!("cannot move into {}: {e}", dest.display()))
        });
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result.map(|()| Origin::Fetched)
    }
}

const SOURCE_HINT: &str = "check the network or the source (--action-source URL, pipe.toml [actions] source), \
     or use --local-action OWNER/REPO@REF=PATH";

/// The short form of a commit SHA, for messages.
pub fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn join(root: &Path, path: &str) -> PathBuf {
    if path.is_empty() { root.to_path_buf() } else { root.join(path) }
}

/// A file-name-safe form of a name or ref (`/` and other characters as `%XX`).
fn safe(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') && !(out.is_empty() && b == b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names() {
        assert_eq!(safe("refs/heads/main"), "refs%2Fheads%2Fmain");
        assert_eq!(safe("v1.2"), "v1.2");
        assert_eq!(safe(".."), "%2E.");
    }
}
