//! The two append-only JSONL files of the state dir: `audit.jsonl` (every gate decision) and
//! `deployments.jsonl` (every finished deployment job: the ledger `pipe history` reads).
//!
//! Two `pipe` processes may append at once. Each record is one `write` of the whole line
//! (newline included) to a file opened with `O_APPEND`: the kernel moves to the end and writes in
//! one step, and local Linux filesystems do not interleave concurrent `write`s to one file, so
//! lines stay whole. (Not so on NFS; an advisory lock would need `libc` and `unsafe`, which the
//! project does not allow.) A crash can still leave a torn last line; the next record is then
//! appended right after it, so readers skip what is not a whole record and recover a record that
//! follows a torn one on the same line (every record starts with `{"v":`). Writers do not try to
//! repair the file: checking its last byte races with the other writer.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;

pub const AUDIT_FILE: &str = "audit.jsonl";
pub const DEPLOYMENTS_FILE: &str = "deployments.jsonl";

/// The record format version written in `v`.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approved,
    Rejected,
    Auto,
    /// `pipe rollback` was asked for by `by`; the gate of the deploy job it runs decides apart.
    Rollback,
}

/// What marks a run of `pipe rollback`: the earlier deployment it brings back, and who asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollback {
    /// The run whose deployment is brought back: its recorded outputs are reused, nothing is
    /// rebuilt.
    pub of_run: String,
    /// Who rolled back.
    pub by: String,
}

/// One gate decision: who let which commit through to which environment, when, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub v: u32,
    /// RFC 3339, UTC.
    pub ts: String,
    pub run_id: String,
    pub job: String,
    pub environment: String,
    pub sha: String,
    pub decision: Decision,
    pub by: String,
    pub comment: Option<String>,
    /// Set for the decisions of a rollback (and the request itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
}

/// One deployment job that finished, whatever its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub v: u32,
    /// RFC 3339, UTC.
    pub ts: String,
    pub environment: String,
    /// `environment.url`, evaluated.
    pub url: Option<String>,
    pub sha: String,
    pub run_id: String,
    pub job: String,
    /// The job's outputs: the artifact that was deployed (e.g. `image`).
    #[serde(default)]
    pub outputs: Map<String, Value>,
    /// `success`, `failure`, `cancelled`, ...
    pub result: String,
    /// Who approved the gate; `auto` in deployment mode; `None` when the environment has no gate.
    pub approved_by: Option<String>,
    /// Set when the deployment was a `pipe rollback` (else it rolled forward).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
}

/// Now, as RFC 3339 UTC (`2024-05-01T10:00:00.123456Z`).
pub fn now() -> String {
    let format = time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

pub fn append_audit(state_dir: &Path, record: &AuditRecord) -> Result<(), Error> {
    append(&state_dir.join(AUDIT_FILE), record)
}

pub fn append_deployment(state_dir: &Path, record: &DeploymentRecord) -> Result<(), Error> {
    append(&state_dir.join(DEPLOYMENTS_FILE), record)
}

/// Every readable gate decision, oldest first; no file yet means none.
pub fn read_audit(state_dir: &Path) -> Result<Vec<AuditRecord>, Error> {
    read(&state_dir.join(AUDIT_FILE))
}

/// Every readable deployment, in the order they finished (oldest first).
pub fn read_deployments(state_dir: &Path) -> Result<Vec<DeploymentRecord>, Error> {
    read(&state_dir.join(DEPLOYMENTS_FILE))
}

fn append(path: &Path, record: &impl Serialize) -> Result<(), Error> {
    let write_err = |source| Error::Write { path: path.to_path_buf(), source };
    let mut line = serde_json::to_string(record).map_err(|e| write_err(std::io::Error::other(e)))?;
    line.push('\n');
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    }
    let mut file = OpenOptions::new().append(true).create(true).open(path).map_err(write_err)?;
    // One write of the whole line: see the module comment.
    file.write_all(line.as_bytes()).map_err(write_err)
}

fn read<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Read { path: PathBuf::from(path), source }),
    };
    Ok(bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .filter_map(parse_line)
        .collect())
}

/// A whole record, or the whole record that follows a torn one on the same line.
fn parse_line<T: DeserializeOwned>(line: &[u8]) -> Option<T> {
    const START: &[u8] = b"{\"v\":";
    serde_json::from_slice(line).ok().or_else(|| {
        let last = line.windows(START.len()).rposition(|w| w == START).filter(|&i| i > 0)?;
        serde_json::from_slice(&line[last..]).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(i: usize) -> DeploymentRecord {
        let mut outputs = Map::new();
        outputs.insert("image".into(), Value::String(format!("app:{i}")));
        DeploymentRecord {
            v: VERSION,
            ts: now(),
            environment: "production".into(),
            url: Some("https://example.test".into()),
            sha: "0123456789abcdef".into(),
            run_id: format!("run-{i}"),
            job: "deploy".into(),
            outputs,
            result: "success".into(),
            approved_by: Some("alice".into()),
            rollback: None,
        }
    }

    #[test]
    fn two_writers_at_once_keep_every_line_whole() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".pipe");
        std::thread::scope(|s| {
            for t in 0..2 {
                let state = &state;
                s.spawn(move || {
                    for i in 0..200 {
                        append_deployment(state, &deployment(t * 1000 + i)).unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(state.join(DEPLOYMENTS_FILE)).unwrap();
        assert_eq!(text.lines().count(), 400);
        for line in text.lines() {
            serde_json::from_str::<DeploymentRecord>(line).unwrap();
        }
        let records = read_deployments(&state).unwrap();
        assert_eq!(records.len(), 400);
        assert!(records.iter().any(|r| r.run_id == "run-1199"));
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_the_next_append_is_readable() {
        let dir = tempfile::tempdir().unwrap();
        append_deployment(dir.path(), &deployment(1)).unwrap();
        let path = dir.path().join(DEPLOYMENTS_FILE);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"v\":1,\"ts\":\"2024-").unwrap();
        let records = read_deployments(dir.path()).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].run_id, "run-1");
        append_deployment(dir.path(), &deployment(2)).unwrap();
        let runs: Vec<String> = read_deployments(dir.path()).unwrap().into_iter().map(|r| r.run_id).collect();
        assert_eq!(runs, ["run-1", "run-2"]);
    }

    #[test]
    fn audit_records_round_trip_with_the_spec_fields() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_audit(dir.path()).unwrap().is_empty());
        let record = AuditRecord {
            v: VERSION,
            ts: "2024-05-01T10:00:00Z".into(),
            run_id: "r1".into(),
            job: "deploy".into(),
            environment: "production".into(),
            sha: "abc".into(),
            decision: Decision::Approved,
            by: "alice".into(),
            comment: Some("ship it".into()),
            rollback: None,
        };
        append_audit(dir.path(), &record).unwrap();
        let text = std::fs::read_to_string(dir.path().join(AUDIT_FILE)).unwrap();
        assert_eq!(
            text,
            "{\"v\":1,\"ts\":\"2024-05-01T10:00:00Z\",\"run_id\":\"r1\",\"job\":\"deploy\",\"environment\":\"production\",\"sha\":\"abc\",\"decision\":\"approved\",\"by\":\"alice\",\"comment\":\"ship it\"}\n"
        );
        assert_eq!(read_audit(dir.path()).unwrap(), vec![record]);
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let ts = now();
        assert!(ts.ends_with('Z'), "{ts}");
        time::OffsetDateTime::parse(&ts, &time::format_description::well_known::Rfc3339).unwrap();
    }
}
