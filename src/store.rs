//! The state directory (`.pipe/` by default): one folder per run with `run.json` (written
//! atomically), `events.jsonl` and `logs/` (append-only), plus the run-local artifact store.
//! Everything is masked before it gets here.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::Error;

/// What `pipe resume` needs to continue a run exactly as it was started (secrets excepted: they
/// are never stored).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RunOptions {
    pub pipeline: String,
    /// The front end the file was read with (`--syntax`): a GitLab file that is not named
    /// `.gitlab-ci.yml` is read as GitLab again on resume.
    #[serde(default)]
    pub syntax: crate::gitlab::Syntax,
    pub event: String,
    pub git_ref: String,
    pub sha: String,
    #[serde(default)]
    pub event_payload: Option<Json>,
    #[serde(default)]
    pub inputs: Vec<(String, String)>,
    #[serde(default)]
    pub vars: Vec<(String, String)>,
    #[serde(default)]
    pub jobs: Vec<String>,
    pub mode: crate::cli::Mode,
    pub executor: crate::cli::ExecutorChoice,
    #[serde(default)]
    pub platforms: Vec<(String, String)>,
    #[serde(default)]
    pub approve: Vec<String>,
    #[serde(default)]
    pub env_files: Vec<PathBuf>,
    #[serde(default)]
    pub parallel: Option<usize>,
    #[serde(default)]
    pub bind: bool,
    pub pull: crate::backend::PullPolicy,
    /// The working directory the run was started in.
    pub workdir: PathBuf,
    /// Where remote actions came from (`--action-source`, `--local-action`, `--offline`).
    #[serde(default)]
    pub actions: crate::fetch::Sources,
    /// Set for a run of `pipe rollback`: what it brings back, and who asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<crate::gate::ledger::Rollback>,
}

/// A finished (or running) job leg, as kept for `resume` and `runs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRecord {
    pub job: String,
    pub name: String,
    pub matrix: Option<Json>,
    pub result: crate::event::Conclusion,
    pub outputs: Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub status: String,
    pub started: String,
    #[serde(default)]
    pub finished: Option<String>,
    /// Process running the run (to tell a crashed run from a live one).
    #[serde(default)]
    pub pid: Option<u32>,
    pub options: RunOptions,
    /// Finished legs by key (`job` or `job (matrix values)`).
    #[serde(default)]
    pub jobs: std::collections::BTreeMap<String, JobRecord>,
    /// Gates waiting for a decision: job key → environment.
    #[serde(default)]
    pub waiting: std::collections::BTreeMap<String, String>,
    /// Process groups of the host steps running now, by leg key: when the pipe process dies,
    /// `pipe resume` stops them (they would otherwise run on beside the job's new attempt).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub processes: std::collections::BTreeMap<String, i32>,
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Store { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.runs_dir().join(id)
    }

    /// Create the state dir (with a .gitignore so it never gets committed) and a new run folder.
    pub fn create_run(&self) -> Result<String, Error> {
        let runs = self.runs_dir();
        fs::create_dir_all(&runs).map_err(|e| state_dir_error(&self.root, e))?;
        // Written atomically, and again when empty (a full disk may have left 0 bytes).
        let ignore = self.root.join(".gitignore");
        if fs::metadata(&ignore).map_or(true, |m| m.len() == 0) {
            let _ = write_atomic(&ignore, b"*\n");
        }
        for attempt in 0..100u32 {
            let id = new_run_id(attempt);
            match fs::create_dir(runs.join(&id)) {
                Ok(()) => return Ok(id),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(state_dir_error(&self.root, e)),
            }
        }
        Err(Error::env("could not allocate a run id"))
    }

    pub fn write_record(&self, record: &RunRecord) -> Result<(), Error> {
        let path = self.run_dir(&record.id).join("run.json");
        let text = serde_json::to_string_pretty(record).map_err(|e| Error::env(e.to_string()))?;
        write_atomic(&path, text.as_bytes())
    }

    /// Keep room for the run's last record: a disk that fills while the run goes on must not
    /// leave it `running`. [`Store::write_final_record`] frees the room and writes it.
    pub fn reserve_room(&self, id: &str) {
        let path = self.run_dir(id).join(RESERVE);
        if fs::metadata(&path).is_ok_and(|m| m.len() >= RESERVE_BYTES as u64) {
            return;
        }
        // What could be written is kept: a full disk may leave less room, never none.
        if let Ok(mut f) = File::create(&path) {
            let _ = f.write_all(&[0u8; RESERVE_BYTES]);
            let _ = f.sync_all();
        }
    }

    /// The run's record at its end, written with the room kept by [`Store::reserve_room`].
    pub fn write_final_record(&self, record: &RunRecord) -> Result<(), Error> {
        let _ = fs::remove_file(self.run_dir(&record.id).join(RESERVE));
        self.write_record(record)
    }

    pub fn read_record(&self, id: &str) -> Result<RunRecord, Error> {
        let path = self.run_dir(id).join("run.json");
        let text = fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::env(format!("{} is not a valid run record: {e}", path.display())))
    }

    /// Run ids, oldest first (ids sort by start time, to the microsecond).
    pub fn run_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = fs::read_dir(self.runs_dir())
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().join("run.json").is_file())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// `last`, a full id, or a unique prefix.
    pub fn resolve(&self, spec: &str) -> Result<String, Error> {
        let ids = self.run_ids();
        if spec == "last" {
            return ids.last().cloned().ok_or_else(|| Error::RunNotFound {
                message: format!("no runs in {}", self.root.display()),
            });
        }
        let matches: Vec<&String> = ids.iter().filter(|id| id.starts_with(spec)).collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::RunNotFound { message: format!("no run `{spec}` in {}", self.root.display()) }),
            many => Err(Error::RunNotFound {
                message: format!(
                    "`{spec}` matches {} runs ({}); give more characters",
                    many.len(),
                    many.iter().take(5).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    pub fn events_path(&self, id: &str) -> PathBuf {
        self.run_dir(id).join("events.jsonl")
    }

    /// The log of one step, named as the terminal names it: `logs/<leg name>/<NN>-<step name>.log`
    /// (`logs/test (3.12, linux)/02-Run tests.log`, `NN` the 0-based step index of the events).
    pub fn log_path(&self, id: &str, leg_name: &str, step: usize, step_name: &str) -> PathBuf {
        self.logs_dir(id).join(file_name(leg_name)).join(format!("{step:02}-{}.log", file_name(step_name)))
    }

    pub fn logs_dir(&self, id: &str) -> PathBuf {
        self.run_dir(id).join("logs")
    }

    pub fn artifacts_dir(&self, id: &str) -> PathBuf {
        self.run_dir(id).join("artifacts")
    }
}

/// A display name as one file name: path separators and control characters become `_`, and a
/// long name is cut (a step named by the first line of a long script).
pub fn file_name(name: &str) -> String {
    const MAX_CHARS: usize = 80;
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c })
        .take(MAX_CHARS)
        .collect();
    let cleaned = cleaned.trim().to_string();
    match cleaned.as_str() {
        "" | "." | ".." => "_".into(),
        _ => cleaned,
    }
}

fn state_dir_error(root: &Path, e: std::io::Error) -> Error {
    Error::Environment {
        message: format!("the state directory {} is not writable: {e}", root.display()),
        hint: Some("choose another with --state-dir DIR or PIPE_STATE_DIR".into()),
    }
}

/// A sortable, unique id: UTC start time to the microsecond, so ids sort in start order even
/// for runs started in the same second; a clash (same microsecond) takes the next value.
fn new_run_id(attempt: u32) -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}-{:06}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        (now.microsecond() + attempt) % 1_000_000
    )
}

/// The file in a run's folder that keeps room for its last record.
const RESERVE: &str = ".reserve";
const RESERVE_BYTES: usize = 32 * 1024;

/// Write a file so that readers see the old or the new content, never a half-written one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|source| {
        let _ = fs::remove_file(&tmp);
        Error::Write { path: path.to_path_buf(), source }
    })
}

/// Append one line (the newline is added) in a single write, so concurrent appenders interleave
/// whole lines.
pub fn append_line(path: &Path, line: &str) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|source| Error::Write { path: path.to_path_buf(), source })?;
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| Error::Write { path: path.to_path_buf(), source })?;
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    f.write_all(buf.as_bytes()).map_err(|source| Error::Write { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_files_are_named_as_the_terminal_names_them() {
        let store = Store::new("/s");
        assert_eq!(
            store.log_path("r", "test (3.12, linux)", 2, "Run tests"),
            Path::new("/s/runs/r/logs/test (3.12, linux)/02-Run tests.log")
        );
        assert_eq!(
            store.log_path("r", "call / build", 0, "Run a/b"),
            Path::new("/s/runs/r/logs/call _ build/00-Run a_b.log")
        );
        assert_eq!(file_name(".."), "_");
        assert_eq!(file_name("a\tb"), "a_b");
        assert_eq!(file_name(&"x".repeat(200)).len(), 80);
    }

    #[test]
    fn ids_resolve_by_prefix_and_last() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let a = store.create_run().unwrap();
        let b = store.create_run().unwrap();
        assert_ne!(a, b);
        for id in [&a, &b] {
            let rec = RunRecord {
                id: id.clone(),
                status: "success".into(),
                started: "t".into(),
                finished: None,
                pid: None,
                options: RunOptions::default(),
                jobs: Default::default(),
                waiting: Default::default(),
                processes: Default::default(),
            };
            store.write_record(&rec).unwrap();
        }
        let last = store.resolve("last").unwrap();
        assert_eq!(last, store.run_ids().last().unwrap().clone());
        assert_eq!(store.resolve(&a).unwrap(), a);
        assert!(store.resolve("zzz").is_err());
        assert!(dir.path().join(".gitignore").is_file());
    }

    #[test]
    fn an_empty_gitignore_is_repaired() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "").unwrap();
        Store::new(dir.path()).create_run().unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(), "*\n");
    }

    #[test]
    fn ids_made_in_one_second_sort_in_start_order() {
        let ids: Vec<String> = (0..50).map(|_| new_run_id(0)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}

/// A gate answer recorded for a run by `pipe approve`/`pipe reject` (or at a prompt).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GateAnswer {
    pub environment: String,
    pub approved: bool,
    pub by: String,
    pub comment: Option<String>,
    pub ts: String,
}

impl Store {
    fn answer_path(&self, id: &str, environment: &str) -> PathBuf {
        let safe: String = environment
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .collect();
        self.run_dir(id).join("decisions").join(format!("{safe}.json"))
    }

    /// Record an answer; exactly one answer per environment and run wins (the file is created
    /// exclusively), the loser gets the winning answer back.
    pub fn record_answer(&self, id: &str, answer: &GateAnswer) -> Result<Result<(), GateAnswer>, Error> {
        let path = self.answer_path(id, &answer.environment);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
        }
        let text = serde_json::to_string(answer).map_err(|e| Error::env(e.to_string()))?;
        // Write a temporary file, then link it into place: `hard_link` fails when the target
        // exists, so two concurrent answers cannot both win, and no reader sees half a file.
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        fs::write(&tmp, text.as_bytes()).map_err(|source| Error::Write { path: tmp.clone(), source })?;
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(Ok(())),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let existing = fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
                Ok(Err(existing.unwrap_or_else(|| answer.clone())))
            }
            Err(source) => Err(Error::Write { path, source }),
        }
    }

    pub fn answers(&self, id: &str) -> Vec<GateAnswer> {
        let dir = self.run_dir(id).join("decisions");
        let mut out: Vec<GateAnswer> = fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .filter_map(|e| serde_json::from_str(&fs::read_to_string(e.path()).ok()?).ok())
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| a.ts.cmp(&b.ts));
        out
    }
}
