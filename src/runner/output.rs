//! Step output → lines: workflow commands are acted on, every line is masked, written to the
//! step's log file and shown by the reporters. The log is written through a buffer, flushed
//! when it holds [`LOG_BUFFER`] bytes, on a timer ([`LineSink::tick`]) and at the step's end;
//! each flush records the range it wrote in the event log (a `step_log` event), so the event log
//! carries the output by reference and `pipe logs --follow` still sees it within moments.

use std::io::Write;
use std::path::PathBuf;

use super::commands::{self, Command};
use super::step::StepRun;
use crate::backend::Output;
use crate::event::Event;

pub struct LineSink<'a> {
    run: &'a StepRun<'a>,
    log: Option<std::fs::File>,
    /// The log's path relative to the run's folder (as `step_log` events name it).
    log_name: String,
    /// Masked log bytes not written yet.
    pending: Vec<u8>,
    /// The streams of `pending`: (stream, where its bytes start in `pending`), in order.
    ranges: Vec<(&'static str, usize)>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Set by `::stop-commands::TOKEN`: commands are ignored until `::TOKEN::`.
    stopped: Option<String>,
    /// `ACTIONS_ALLOW_UNSECURE_COMMANDS` is true for this step: `::set-env`/`::add-path` work.
    unsecure_allowed: bool,
    /// A command the step may not use was given: the step fails (as on GitHub).
    refused: bool,
    /// Host paths of the env files the command was given, by variable.
    files: std::collections::BTreeMap<&'static str, PathBuf>,
}

const SET_OUTPUT_DEPRECATED: &str = "The `set-output` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/";
const SAVE_STATE_DEPRECATED: &str = "The `save-state` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/";

/// Longest line kept whole; longer output is split so memory stays bounded.
const MAX_LINE: usize = 64 * 1024;

/// Log bytes kept before they are written.
const LOG_BUFFER: usize = 64 * 1024;

/// How often buffered output is written when a step prints little: `pipe logs --follow` and
/// a resumed run see it at most this late.
pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

impl<'a> LineSink<'a> {
    pub fn new(run: &'a StepRun<'a>, log: PathBuf) -> Self {
        if let Some(dir) = log.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let run_dir = run.shared.store.run_dir(&run.shared.run_id);
        let log_name = log.strip_prefix(&run_dir).unwrap_or(&log).to_string_lossy().into_owned();
        let log = match std::fs::OpenOptions::new().create(true).append(true).open(&log) {
            Ok(f) => Some(f),
            Err(e) => {
                run.shared.emitter.state_write_failed(format!("cannot write {}: {e}", log.display()));
                None
            }
        };
        LineSink {
            run,
            log,
            log_name,
            pending: Vec::new(),
            ranges: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            stopped: None,
            unsecure_allowed: false,
            refused: false,
            files: std::collections::BTreeMap::new(),
        }
    }

    /// Read the command's environment: whether `::set-env` and `::add-path` may be used, and
    /// which env files (GITHUB_OUTPUT ...) the old commands write to.
    pub fn follow_env(&mut self, env: &std::collections::BTreeMap<String, String>) {
        self.unsecure_allowed =
            env.get("ACTIONS_ALLOW_UNSECURE_COMMANDS").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let paths = self.run.handle.paths();
        for var in ["GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_PATH"] {
            let host = env
                .get(var)
                .and_then(|seen| seen.strip_prefix(&paths.runner_dir))
                .map(|rest| paths.host_runner_dir.join(rest.trim_start_matches('/')));
            if let Some(host) = host {
                self.files.insert(var, host);
            }
        }
    }

    /// Whether the step used a command it may not use (it then fails).
    pub fn refused(&self) -> bool {
        self.refused
    }

    pub fn chunk(&mut self, chunk: Output) {
        let (buf, stream) = match chunk {
            Output::Stdout(b) => (joined(&mut self.stdout, b), "stdout"),
            Output::Stderr(b) => (joined(&mut self.stderr, b), "stderr"),
        };
        // One time stamp for the lines of one chunk.
        let ts = crate::event::now_rfc3339();
        let mut rest = buf.as_slice();
        while let Some(pos) = memchr(b'\n', rest) {
            self.line(stream, &rest[..pos], b"\n", &ts);
            rest = &rest[pos + 1..];
        }
        while rest.len() > MAX_LINE {
            // Never split a secret (each piece is masked on its own) nor a character.
            let cut = match self.run.shared.masker.safe_cut(rest, MAX_LINE) {
                0 => MAX_LINE,
                cut => cut,
            };
            self.line(stream, &rest[..cut], b"", &ts);
            rest = &rest[cut..];
        }
        let keep = rest.to_vec();
        if stream == "stdout" {
            self.stdout = keep;
        } else {
            self.stderr = keep;
        }
        if self.pending.len() >= LOG_BUFFER {
            self.write_log();
        }
    }

    /// Time passed: write what the buffer holds (a step that prints little is seen soon).
    pub fn tick(&mut self) {
        self.write_log();
    }

    /// The step ended: its last partial lines and everything buffered are written.
    pub fn flush(&mut self) {
        let ts = crate::event::now_rfc3339();
        for stream in ["stdout", "stderr"] {
            let buf = if stream == "stdout" {
                std::mem::take(&mut self.stdout)
            } else {
                std::mem::take(&mut self.stderr)
            };
            if !buf.is_empty() {
                self.line(stream, &buf, b"", &ts);
            }
        }
        self.write_log();
    }

    /// Write the buffered log bytes, then tell the event log where they are.
    fn write_log(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let ranges = std::mem::take(&mut self.ranges);
        let Some(f) = &mut self.log else { return };
        let before = f.metadata().map(|m| m.len());
        if let Err(e) = f.write_all(&pending) {
            // Undone (the log ends with a whole line) and said once: the run fails.
            if let Ok(len) = before {
                let _ = f.set_len(len);
            }
            // The log says where it ends, when that little fits.
            let _ =
                f.write_all(format!("[pipe: the rest of this log could not be written: {e}]\n").as_bytes());
            let path = self.run.shared.store.run_dir(&self.run.shared.run_id).join(&self.log_name);
            self.run.shared.emitter.state_write_failed(format!("cannot write {}: {e}", path.display()));
            self.log = None;
            return;
        }
        // Appended: the bytes end where the file ends now (other lines of the step, an action's
        // own messages, may have been appended since the last write).
        let Ok(end) = f.metadata().map(|m| m.len()) else { return };
        let start = end.saturating_sub(pending.len() as u64);
        let run = self.run;
        for (i, (stream, from)) in ranges.iter().enumerate() {
            let to = ranges.get(i + 1).map_or(pending.len(), |r| r.1);
            run.shared.emitter.emit(Event::StepLog {
                job: run.leg.job_id.clone(),
                name: run.leg.name.clone(),
                step: run.index,
                stream: (*stream).to_string(),
                log: self.log_name.clone(),
                offset: start + *from as u64,
                len: (to - from) as u64,
            });
        }
    }

    /// One line (or piece of a long line) without its `end` (the newline, or nothing): the log
    /// gets the bytes as printed, secrets masked; the event gets the text.
    fn line(&mut self, stream: &'static str, raw: &[u8], end: &[u8], ts: &str) {
        let text = String::from_utf8_lossy(raw);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let run = self.run;
        if let Some(token) = &self.stopped {
            if text.trim() == format!("::{token}::") {
                self.stopped = None;
                return;
            }
        } else if let Some(cmd) = commands::parse(text) {
            match cmd {
                Command::AddMask(v) => {
                    run.shared.masker.add(&v);
                    return;
                }
                Command::StopCommands(t) => {
                    self.stopped = Some(t);
                    return;
                }
                Command::Annotation { level, message, .. } => run.annotate(level, message),
                Command::Group(_) | Command::EndGroup | Command::Debug(_) => {}
                legacy => return self.legacy(legacy),
            }
        }
        let masked = run.shared.masker.mask(text);
        if self.log.is_some() {
            if self.ranges.last().is_none_or(|r| r.0 != stream) {
                self.ranges.push((stream, self.pending.len()));
            }
            self.pending.extend_from_slice(&run.shared.masker.mask_bytes(raw));
            self.pending.extend_from_slice(end);
        }
        run.shared.emitter.output(&run.leg.job_id, &run.leg.name, run.index, stream, masked, ts);
    }
}

impl LineSink<'_> {
    /// The old workflow commands, done as the env files they stand for: the command's
    /// GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV and GITHUB_PATH files get the same lines.
    fn legacy(&mut self, cmd: Command) {
        let run = self.run;
        let (var, stem, line, name) = match cmd {
            Command::SetOutput { name, value } => {
                run.annotate("warning", SET_OUTPUT_DEPRECATED.to_string());
                ("GITHUB_OUTPUT", "output", pair(&name, &value), "set-output")
            }
            Command::SaveState { name, value } => {
                run.annotate("warning", SAVE_STATE_DEPRECATED.to_string());
                ("GITHUB_STATE", "state", pair(&name, &value), "save-state")
            }
            Command::SetEnv { name, value } => ("GITHUB_ENV", "env", pair(&name, &value), "set-env"),
            Command::AddPath(dir) => ("GITHUB_PATH", "path", format!("{dir}\n"), "add-path"),
            _ => return,
        };
        if matches!(name, "set-env" | "add-path") && !self.unsecure_allowed {
            self.refused = true;
            run.annotate(
                "error",
                format!(
                    "The `{name}` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`. For more information see: https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/"
                ),
            );
            return;
        }
        let path = self.files.get(var).cloned().unwrap_or_else(|| super::step::step_file(run, stem));
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            run.annotate("error", format!("`::{name}::` could not be recorded: {e}"));
            self.refused = true;
        }
    }
}

impl Drop for LineSink<'_> {
    fn drop(&mut self) {
        self.write_log();
    }
}

/// `kept` (a partial line from before) followed by `chunk`, leaving `kept` empty.
fn joined(kept: &mut Vec<u8>, chunk: Vec<u8>) -> Vec<u8> {
    if kept.is_empty() {
        return chunk;
    }
    let mut buf = std::mem::take(kept);
    buf.extend_from_slice(&chunk);
    buf
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == needle)
}

/// `name<<DELIMITER` … `DELIMITER`: a value of any content as an env-file entry.
fn pair(name: &str, value: &str) -> String {
    let mut delimiter = String::from("PIPE_EOF");
    while value.lines().any(|l| l == delimiter) {
        delimiter.push('_');
    }
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}
