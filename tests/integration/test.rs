//! A small builder for end-to-end tests of the `pipe` binary: each test gets its own directory,
//! sets the expected status, stdout and stderr together, and sees every mismatch at once.

// Not every test module uses every builder method.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

pub use crate::support::spawn::pipe_bin;

/// Run `pipe ARGS` in `dir` as a user would, without a terminal: no colours, a fixed `$USER`, the
/// state directory inside `dir`, no standard input.
pub fn pipe_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(pipe_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Standard output followed by standard error, for assertions and failure messages.
pub fn all_output(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Text with the common indentation and the first empty line removed, so expected output can be
/// written indented in the test.
pub fn unindent(s: &str) -> String {
    let s = s.strip_prefix('\n').unwrap_or(s);
    let indent =
        s.lines().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    let mut out: String = s
        .lines()
        .map(|l| if l.len() >= indent { &l[indent..] } else { l.trim_start() })
        .collect::<Vec<_>>()
        .join("\n");
    if s.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[must_use]
pub struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
    status: i32,
    stdout: Option<String>,
    stderr: Option<String>,
    stdout_contains: Vec<String>,
    stderr_contains: Vec<String>,
}

impl Test {
    pub fn new() -> Self {
        Test {
            dir: tempfile::tempdir().expect("tempdir"),
            args: Vec::new(),
            env: vec![("NO_COLOR".into(), "1".into())],
            stdin: None,
            status: 0,
            stdout: None,
            stderr: None,
            stdout_contains: Vec::new(),
            stderr_contains: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write a file (parent folders created) relative to the test directory.
    pub fn write(self, path: &str, contents: impl AsRef<[u8]>) -> Self {
        let p = self.dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, contents).expect("write");
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn stdin(mut self, s: &str) -> Self {
        self.stdin = Some(s.into());
        self
    }

    pub fn status(mut self, code: i32) -> Self {
        self.status = code;
        self
    }

    pub fn stdout(mut self, s: &str) -> Self {
        self.stdout = Some(unindent(s));
        self
    }

    pub fn stderr(mut self, s: &str) -> Self {
        self.stderr = Some(unindent(s));
        self
    }

    pub fn stdout_contains(mut self, s: &str) -> Self {
        self.stdout_contains.push(s.into());
        self
    }

    pub fn stderr_contains(mut self, s: &str) -> Self {
        self.stderr_contains.push(s.into());
        self
    }

    /// Run and check; returns the output and the directory for further assertions.
    #[track_caller]
    pub fn run(self) -> (Output, tempfile::TempDir) {
        let mut cmd = Command::new(pipe_bin());
        cmd.args(&self.args).current_dir(self.dir.path());
        cmd.env_remove("PIPE_STATE_DIR").env_remove("CLICOLOR_FORCE");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn pipe");
        if let Some(input) = &self.stdin {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(input.as_bytes()).expect("write stdin");
        }
        let output = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let mut problems = Vec::new();
        if output.status.code() != Some(self.status) {
            problems.push(format!("status: expected {}, got {:?}", self.status, output.status.code()));
        }
        if let Some(expected) = &self.stdout
            && &stdout != expected
        {
            problems.push(format!("stdout differs:\n--- expected\n{expected}\n--- actual\n{stdout}"));
        }
        if let Some(expected) = &self.stderr
            && &stderr != expected
        {
            problems.push(format!("stderr differs:\n--- expected\n{expected}\n--- actual\n{stderr}"));
        }
        for s in &self.stdout_contains {
            if !stdout.contains(s.as_str()) {
                problems.push(format!("stdout does not contain {s:?}"));
            }
        }
        for s in &self.stderr_contains {
            if !stderr.contains(s.as_str()) {
                problems.push(format!("stderr does not contain {s:?}"));
            }
        }
        if !problems.is_empty() {
            panic!(
                "pipe {}\n{}\n=== full stdout\n{stdout}\n=== full stderr\n{stderr}",
                self.args.join(" "),
                problems.join("\n")
            );
        }
        (output, self.dir)
    }
}

/// The events of a run folder's `events.jsonl`, with the output it keeps by reference
/// (`step_log`: a byte range of a step's log file) read back as one `step_output` event per line,
/// as the JSON stream shows them.
pub fn stored_events(run_dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(run_dir.join("events.jsonl")).unwrap_or_default();
    let mut events = Vec::new();
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if event["event"] != "step_log" {
            events.push(event);
            continue;
        }
        let log = std::fs::read(run_dir.join(event["log"].as_str().unwrap())).unwrap();
        let from = event["offset"].as_u64().unwrap() as usize;
        let bytes = &log[from..from + event["len"].as_u64().unwrap() as usize];
        let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        for piece in bytes.split(|b| *b == b'\n') {
            let text = String::from_utf8_lossy(piece.strip_suffix(b"\r").unwrap_or(piece)).to_string();
            let mut out = event.clone();
            let fields = out.as_object_mut().unwrap();
            fields["event"] = "step_output".into();
            for gone in ["log", "offset", "len"] {
                fields.remove(gone);
            }
            fields.insert("line".into(), text.into());
            events.push(out);
        }
    }
    events
}
