//! The machine-local cache behind `actions/cache`: `<state dir>/cache/<entry>/` holds
//! `entry.json` (key, version, creation time, the paths and what each was) and `files/<i>/`
//! (the content of path `i`). Entries are immutable, as on GitHub: one is written in a temporary
//! directory and renamed into place, so two jobs saving the same key cannot mix their files and
//! a crash leaves no half entry (only a `.tmp-*` directory that lookups ignore).
//!
//! A key may hold a secret (`${{ secrets.X }}` in `key:`): `entry.json` keeps the key with its
//! secrets masked plus a digest of the whole key, and folder names are digests, so no secret is
//! written in plain text. A restore key then matches such an entry by the masked text (up to
//! and including the `***`).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::transfer::Kind;
use crate::mask::Masker;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The key as shown: secrets written `***`.
    pub key: String,
    /// SHA-256 of the key as given: an exact match compares this.
    #[serde(default)]
    pub key_digest: String,
    /// Identifies the path list: an entry restores only where the same paths are cached.
    pub version: String,
    /// Nanoseconds since the epoch: among prefix matches the newest wins.
    pub created: u128,
    pub paths: Vec<(String, Kind)>,
}

pub struct CacheStore {
    root: PathBuf,
    masker: Masker,
}

/// The version of a path list (GitHub's "cache version" also derives from the paths).
pub fn version(paths: &[String]) -> String {
    hex(&Sha256::digest(paths.join("\n").as_bytes()))[..16].to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key_digest(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

impl Entry {
    /// Whether this entry was saved under exactly `key`.
    pub fn has_key(&self, key: &str) -> bool {
        if self.key_digest.is_empty() { self.key == key } else { self.key_digest == key_digest(key) }
    }
}

impl CacheStore {
    /// The cache of a state dir; `masker` holds the secrets no key may show.
    pub fn new(state_dir: &Path, masker: &Masker) -> CacheStore {
        CacheStore { root: state_dir.join("cache"), masker: masker.clone() }
    }

    fn entry_dir(&self, key: &str, version: &str) -> PathBuf {
        let digest = hex(&Sha256::digest(format!("{version}\0{key}").as_bytes()));
        self.root.join(&digest[..32])
    }

    /// The entry to restore: an exact `key` match, else the newest entry whose key starts with
    /// `key`, else, for each restore key in order, the newest entry whose key starts with it.
    pub fn lookup(&self, key: &str, restore_keys: &[String], version: &str) -> Option<(PathBuf, Entry)> {
        let exact = self.entry_dir(key, version);
        if let Some(entry) = read_entry(&exact).filter(|e| e.has_key(key) && e.version == version) {
            return Some((exact, entry));
        }
        let all: Vec<(PathBuf, Entry)> = std::fs::read_dir(&self.root)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter_map(|p| read_entry(&p).map(|e| (p, e)))
                    .filter(|(_, e)| e.version == version)
                    .collect()
            })
            .unwrap_or_default();
        std::iter::once(key).chain(restore_keys.iter().map(String::as_str)).find_map(|prefix| {
            let prefix = self.masker.mask(prefix);
            all.iter().filter(|(_, e)| e.key.starts_with(&prefix)).max_by_key(|(_, e)| e.created).cloned()
        })
    }

    pub fn exists(&self, key: &str, version: &str) -> bool {
        read_entry(&self.entry_dir(key, version)).is_some()
    }

    /// A fresh directory to write an entry's files into (`<dir>/files/<i>/`).
    pub fn begin(&self, job_key: &str) -> Result<PathBuf, String> {
        let nanos = now();
        let dir = self.root.join(format!(".tmp-{}-{job_key}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("files"))
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(dir)
    }

    /// Write the entry's description and move it into place. `Ok(false)`: another job saved the
    /// same key first (this one is dropped).
    pub fn commit(
        &self,
        tmp: &Path,
        key: &str,
        version: &str,
        paths: Vec<(String, Kind)>,
    ) -> Result<bool, String> {
        let entry = Entry {
            key: self.masker.mask(key),
            key_digest: key_digest(key),
            version: version.to_string(),
            created: now(),
            paths,
        };
        let json = serde_json::to_vec_pretty(&entry).map_err(|e| e.to_string())?;
        std::fs::write(tmp.join("entry.json"), json)
            .map_err(|e| format!("cannot write the cache entry: {e}"))?;
        let dest = self.entry_dir(key, version);
        if dest.exists() {
            let _ = std::fs::remove_dir_all(tmp);
            return Ok(false);
        }
        match std::fs::rename(tmp, &dest) {
            Ok(()) => Ok(true),
            Err(_) if dest.exists() => {
                let _ = std::fs::remove_dir_all(tmp);
                Ok(false)
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(tmp);
                Err(format!("cannot store the cache entry in {}: {e}", dest.display()))
            }
        }
    }
}

fn read_entry(dir: &Path) -> Option<Entry> {
    if dir.file_name()?.to_str()?.starts_with('.') {
        return None;
    }
    serde_json::from_slice(&std::fs::read(dir.join("entry.json")).ok()?).ok()
}

fn now() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(store: &CacheStore, key: &str, version: &str) {
        let tmp = store.begin("t").unwrap();
        assert!(store.commit(&tmp, key, version, vec![("p".into(), Kind::Dir)]).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(2));
    }

    #[test]
    fn exact_then_prefix_newest_then_restore_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = CacheStore::new(dir.path(), &Masker::new());
        let v = version(&["target".to_string()]);
        assert!(store.lookup("deps-1", &[], &v).is_none());
        save(&store, "deps-a", &v);
        save(&store, "deps-b", &v);
        save(&store, "other", &version(&["elsewhere".to_string()]));
        assert_eq!(store.lookup("deps-a", &[], &v).unwrap().1.key, "deps-a");
        assert_eq!(store.lookup("deps-", &[], &v).unwrap().1.key, "deps-b");
        assert_eq!(store.lookup("x", &["nope-".into(), "deps-".into()], &v).unwrap().1.key, "deps-b");
        // Another path list does not match.
        assert!(store.lookup("other", &["o".into()], &v).is_none());
        // Entries are immutable.
        let tmp = store.begin("t").unwrap();
        assert!(!store.commit(&tmp, "deps-a", &v, Vec::new()).unwrap());
        assert!(!tmp.exists());
    }

    #[test]
    fn a_secret_in_a_key_is_never_stored() {
        let dir = tempfile::tempdir().unwrap();
        let masker = Masker::new();
        masker.add("hunter22");
        let store = CacheStore::new(dir.path(), &masker);
        let v = version(&["p".to_string()]);
        save(&store, "deps-hunter22-1", &v);
        let (_, found) = store.lookup("deps-hunter22-1", &[], &v).expect("exact hit");
        assert!(found.has_key("deps-hunter22-1"));
        assert_eq!(found.key, "deps-***-1");
        assert!(store.lookup("deps-hunter22-2", &["deps-hunter22".into()], &v).is_some());
        assert!(store.lookup("deps-other-1", &[], &v).is_none());
        for file in walk(dir.path()) {
            let text = std::fs::read(&file).unwrap_or_default();
            assert!(!String::from_utf8_lossy(&text).contains("hunter22"), "{}", file.display());
            assert!(!file.to_string_lossy().contains("hunter22"));
        }
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = vec![dir.to_path_buf()];
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.path().is_dir() { out.extend(walk(&e.path())) } else { out.push(e.path()) }
        }
        out
    }
}
