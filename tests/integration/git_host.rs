//! A git host for tests: bare repositories in a temporary folder, reached through `file://`
//! URLs (`--action-source file:///…/{owner}/{repo}.git`), holding small actions. A JavaScript
//! action gets `@actions/core` from the npm registry, installed once into a fixture folder of
//! the build and copied into the action (as real actions ship their `node_modules`).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct GitHost {
    pub root: tempfile::TempDir,
}

pub struct Repo {
    pub bare: PathBuf,
    work: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl GitHost {
    pub fn new() -> GitHost {
        GitHost { root: tempfile::tempdir().unwrap() }
    }

    /// The `--action-source` template for this host.
    pub fn source(&self) -> String {
        format!("file://{}/{{owner}}/{{repo}}.git", self.root.path().display())
    }

    /// A new repository `owner/name` whose `main` branch holds `files` (one commit).
    pub fn repo(&self, owner: &str, name: &str, files: &[(&str, &str)]) -> Repo {
        let bare = self.root.path().join(owner).join(format!("{name}.git"));
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "--quiet", "--bare"]);
        let work = self.root.path().join("work").join(owner).join(name);
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "--quiet"]);
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        let repo = Repo { bare, work };
        repo.commit(files, "first");
        repo
    }
}

impl Repo {
    /// Commit `files` on `main` and push; returns the commit SHA.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, text) in files {
            let p = self.work.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            if path.ends_with(".sh") {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "--quiet", "-m", message]);
        git(&self.work, &["push", "--quiet", "origin", "HEAD:refs/heads/main"]);
        self.sha()
    }

    /// Copy a folder into the repository's work tree (committed with the next [`Repo::commit`]).
    pub fn add_dir(&self, from: &Path, to: &str) {
        let status = Command::new("cp").arg("-a").arg(from).arg(self.work.join(to)).status().unwrap();
        assert!(status.success());
    }

    pub fn sha(&self) -> String {
        git(&self.work, &["rev-parse", "HEAD"])
    }

    /// An annotated tag at the current commit, pushed.
    pub fn tag(&self, name: &str) {
        git(&self.work, &["tag", "-a", name, "-m", name]);
        git(&self.work, &["push", "--quiet", "origin", name]);
    }

    /// A branch at the current commit, pushed.
    pub fn branch(&self, name: &str) {
        git(&self.work, &["push", "--quiet", "origin", &format!("HEAD:refs/heads/{name}")]);
    }
}

/// `node_modules` with `@actions/core`, installed from the npm registry once per build (shared
/// by tests and test processes). `None` (skip, with the reason printed) when npm is missing or
/// the registry does not answer; under `CI=true` that is a failure.
pub fn actions_core() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("npm-actions-core");
    let modules = dir.join("node_modules");
    if modules.join("@actions/core/package.json").is_file() {
        return Some(modules);
    }
    std::fs::create_dir_all(&dir).unwrap();
    // One installer at a time across test threads and processes.
    let lock = std::fs::File::create(dir.join(".lock")).unwrap();
    lock.lock().unwrap();
    if modules.join("@actions/core/package.json").is_file() {
        return Some(modules);
    }
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
        .arg(&dir)
        .arg("@actions/core@1")
        .output();
    match out {
        Ok(o) if o.status.success() && modules.join("@actions/core/package.json").is_file() => Some(modules),
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but npm install @actions/core failed: {why}"
            );
            eprintln!("skipping: npm install @actions/core failed: {why}");
            None
        }
    }
}

/// Whether `node` is on PATH (JavaScript action tests need it on the host and as the runtime
/// pipe mounts into containers); under `CI=true` a missing node fails.
pub fn node_or_skip() -> bool {
    let ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but no node on PATH");
        eprintln!("skipping: no node on PATH");
    }
    ok
}
