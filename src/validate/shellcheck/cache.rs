//! shellcheck's findings kept by script: `$XDG_CACHE_HOME/pipe/shellcheck/<sha256>.json` (default
//! ~/.cache). The key hashes shellcheck's version, the shell, the options and the script, so a
//! script is checked once until one of them changes. Never fatal: an unreadable or unwritable
//! cache only means shellcheck runs again.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Finding;

pub fn root() -> Option<PathBuf> {
    let actions = crate::fetch::cache::default_root();
    Some(actions.parent()?.join("shellcheck"))
}

pub fn key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn get(dir: &Path, key: &str) -> Option<Vec<Finding>> {
    let bytes = std::fs::read(dir.join(format!("{key}.json"))).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Write through a temporary file and a rename, so a concurrent reader never sees half a file.
pub fn put(dir: &Path, key: &str, findings: &[Finding]) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(json) = serde_json::to_vec(findings) else { return };
    let tmp = dir.join(format!(".{key}.{}.tmp", std::process::id()));
    if std::fs::write(&tmp, json).is_ok() && std::fs::rename(&tmp, dir.join(format!("{key}.json"))).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}
