//! Starting `pipe` as a user would without a terminal, and reading the JSON events it prints.

// Not every test module uses every helper.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

/// The commit the runs of these helpers are started at.
pub const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// `--ref refs/heads/main --sha SHA`: a push to main.
pub const REF: [&str; 4] = ["--ref", "refs/heads/main", "--sha", SHA];

/// The events a running `pipe` prints on stdout, one line each.
pub type EventLines = Lines<BufReader<ChildStdout>>;

/// The `pipe` binary cargo built for these tests (and benchmarks).
pub fn pipe_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pipe"))
}

/// `pipe` to run in `dir`: the state directory inside `dir` (`.pipe`), no standard input.
pub fn pipe_command(dir: &Path) -> Command {
    let mut c = Command::new(pipe_bin());
    c.current_dir(dir).env_remove("PIPE_STATE_DIR").stdin(Stdio::null());
    c
}

/// The arguments of `pipe run FILE --executor host --output json` as a push to main, then
/// `extra`.
pub fn host_json_run<'a>(file: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", file, "--executor", "host", "--output", "json"];
    args.extend(REF);
    args.extend_from_slice(extra);
    args
}

/// Write `yaml` to `dir`/p.yml and start `pipe run p.yml --output json` on it as a push to
/// main, then `extra` (the executor's flags), without colours; its stdout and stderr piped.
pub fn spawn_json_run<S: AsRef<OsStr>>(dir: &Path, yaml: &str, extra: &[S]) -> Child {
    std::fs::write(dir.join("p.yml"), yaml).unwrap();
    pipe_command(dir)
        .args(["run", "p.yml", "--output", "json"])
        .args(REF)
        .args(extra)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The id of the only run of `dir`'s state directory (`.pipe`), once it has one (up to 30 s).
pub fn wait_for_run_id(dir: &Path) -> String {
    let runs = dir.join(".pipe/runs");
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(run) = std::fs::read_dir(&runs).ok().and_then(|mut rd| rd.next()).and_then(Result::ok) {
            return run.file_name().to_string_lossy().into_owned();
        }
        assert!(Instant::now() < until, "the run never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Start `command` with its events read as they come (its stderr goes nowhere).
pub fn spawn_events(command: &mut Command) -> (Child, EventLines) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// Read events until the first one of `kind`; that event.
pub fn until_event(lines: &mut EventLines, kind: &str) -> Json {
    for line in lines.by_ref() {
        let event: Json = serde_json::from_str(&line.unwrap()).unwrap();
        if event["event"] == kind {
            return event;
        }
    }
    panic!("the run ended before a `{kind}` event");
}

/// The events of a finished `pipe … --output json` (lines that are not JSON left out).
pub fn stdout_events(out: &Output) -> Vec<Json> {
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}
