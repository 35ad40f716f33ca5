//! Lots of step output: pipe's memory stays flat whatever a step prints, the event log keeps the
//! output by reference into the step's log (not one event per line), `pipe logs` streams, and
//! the JSON stream on stdout still has every line.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value as Json;

use crate::test::{pipe_bin, stored_events};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// A line of 82 bytes with its newline.
const LINE: &str = "output of a busy step, with words and numbers 0123456789 as a real log would have";

/// Peak resident memory (VmHWM) of a process, in KiB, while it runs.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Wait for `child`, sampling its peak memory until it ends: the last sample is taken while the
/// process still runs, after the work measured (the commands end with a pause).
fn wait_sampling(mut child: Child) -> (std::process::ExitStatus, u64) {
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(kib) = peak_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status, peak);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Run a one-step host pipeline printing `bytes` bytes of 82-byte lines, then pausing; the
/// terminal text goes nowhere. The run's folder and pipe's peak memory in KiB.
fn run_printing(dir: &Path, bytes: u64) -> (PathBuf, u64) {
    let yaml = format!(
        "on: push\njobs:\n  loud:\n    runs-on: x\n    steps:\n      - name: print\n        run: |\n          yes '{LINE}' | head -c {bytes}\n          sleep 0.5\n"
    );
    std::fs::write(dir.join("p.yml"), yaml).unwrap();
    let child = Command::new(pipe_bin())
        .args(["run", "p.yml", "--executor", "host", "--ref", "refs/heads/main", "--sha", SHA])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (status, peak) = wait_sampling(child);
    assert!(status.success(), "the run failed: {status:?}");
    let run = std::fs::read_dir(dir.join(".pipe/runs")).unwrap().flatten().next().unwrap().path();
    (run, peak)
}

/// Run `pipe ARGS` in `dir`, reading its stdout as it comes: bytes and lines read, peak memory.
fn streamed(dir: &Path, args: &[&str]) -> (u64, u64, u64) {
    let mut child = Command::new(pipe_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let (mut bytes, mut lines, mut peak) = (0u64, 0u64, 0u64);
    let mut buf = vec![0u8; 64 * 1024];
    let mut reads = 0u64;
    loop {
        let n = out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        reads += 1;
        if reads % 16 == 1
            && let Some(kib) = peak_kib(pid)
        {
            peak = peak.max(kib);
        }
    }
    assert!(child.wait().unwrap().success());
    (bytes, lines, peak)
}

#[test]
fn memory_stays_flat_and_the_event_log_small_whatever_a_step_prints() {
    const SMALL: u64 = 4_000_000;
    const LARGE: u64 = 48_000_000;
    let small_dir = tempfile::tempdir().unwrap();
    let (_, small_peak) = run_printing(small_dir.path(), SMALL);
    let dir = tempfile::tempdir().unwrap();
    let (run, peak) = run_printing(dir.path(), LARGE);
    let (small_mb, mb) = (small_peak as f64 / 1024.0, peak as f64 / 1024.0);
    assert!(mb <= 30.0, "pipe's peak memory was {mb:.1} MB for {LARGE} bytes of output");
    // Flat: 12 times the output, about the same memory.
    assert!(mb <= small_mb + 4.0, "peak memory grew from {small_mb:.1} MB to {mb:.1} MB with the output");

    // The log has every byte; the event log points into it, in order, without a gap.
    let log = run.join("logs/loud/00-print.log");
    assert_eq!(std::fs::metadata(&log).unwrap().len(), LARGE);
    let events_size = std::fs::metadata(run.join("events.jsonl")).unwrap().len();
    assert!(events_size < LARGE / 100, "events.jsonl is {events_size} bytes for {LARGE} bytes of output");
    let text = std::fs::read_to_string(run.join("events.jsonl")).unwrap();
    let refs: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|e| e["event"] == "step_log")
        .collect();
    assert!(!text.contains("\"step_output\""), "no event per line in events.jsonl");
    let mut at = 0;
    for r in &refs {
        assert_eq!(
            (r["log"].as_str(), r["offset"].as_u64(), r["stream"].as_str()),
            (Some("logs/loud/00-print.log"), Some(at), Some("stdout"))
        );
        at += r["len"].as_u64().unwrap();
    }
    assert_eq!(at, LARGE, "the references cover the whole log");

    // `pipe logs` streams the log: all of it, in flat memory; `--follow` of the finished run
    // reads the references and prints every line.
    let lines = LARGE.div_ceil(LINE.len() as u64 + 1);
    let (bytes, _, logs_peak) = streamed(dir.path(), &["logs", "last"]);
    assert!(bytes > LARGE, "pipe logs printed {bytes} bytes");
    assert!(logs_peak as f64 / 1024.0 <= 30.0, "pipe logs used {} MB", logs_peak / 1024);
    let (_, followed, follow_peak) = streamed(dir.path(), &["logs", "last", "--follow"]);
    // Every output line, plus the job's, the step's and the run's own lines.
    assert!(
        followed >= lines && followed <= lines + 10,
        "pipe logs --follow printed {followed} lines, the step {lines}"
    );
    assert!(follow_peak as f64 / 1024.0 <= 30.0, "pipe logs --follow used {} MB", follow_peak / 1024);
}

#[test]
fn the_json_stream_has_every_line_and_the_event_log_keeps_them_by_reference() {
    const SECRET: &str = "Sec-r3t-Volume-42";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yml"),
        "on: push\njobs:\n  count:\n    runs-on: x\n    steps:\n      - run: |\n          seq 1 30000\n          sleep 0.3\n          echo \"the key is $S\" >&2\n          sleep 0.3\n          seq 30001 30010\n        env:\n          S: ${{ secrets.S }}\n",
    )
    .unwrap();
    let out = Command::new(pipe_bin())
        .args([
            "run",
            "p.yml",
            "--executor",
            "host",
            "--output",
            "json",
            "--ref",
            "refs/heads/main",
            "--sha",
            SHA,
        ])
        .args(["--secret", &format!("S={SECRET}")])
        .current_dir(dir.path())
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let events: Vec<Json> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let lines = |events: &[Json]| -> Vec<(String, String)> {
        events
            .iter()
            .filter(|e| e["event"] == "step_output")
            .map(|e| (e["stream"].as_str().unwrap().to_string(), e["line"].as_str().unwrap().to_string()))
            .collect()
    };
    // (Pauses between the streams: stdout and stderr are two pipes, read side by side.)
    let mut expected: Vec<(String, String)> =
        (1..=30000).map(|i| ("stdout".to_string(), i.to_string())).collect();
    expected.push(("stderr".into(), "the key is ***".into()));
    expected.extend((30001..=30010).map(|i| ("stdout".to_string(), i.to_string())));
    same_lines(&lines(&events), &expected, "one step_output event per line on stdout, in order");
    assert!(!stdout.contains("step_log"), "references stay out of the JSON stream");
    assert_eq!(events.last().unwrap()["event"], "run_finished");

    let run = std::fs::read_dir(dir.path().join(".pipe/runs")).unwrap().flatten().next().unwrap().path();
    let stored = std::fs::read_to_string(run.join("events.jsonl")).unwrap();
    assert!(stored.lines().count() < 100, "{} events stored for 30,011 lines", stored.lines().count());
    same_lines(&lines(&stored_events(&run)), &expected, "the stored references give the same lines");
    let log = std::fs::read_to_string(run.join("logs/count/00-Run seq 1 30000.log")).unwrap();
    assert!(log.contains("the key is ***\n") && !log.contains(SECRET));
    assert!(!stored.contains(SECRET));
}

/// `got` is `expected`; else the first difference (not 30,000 lines of them).
fn same_lines(got: &[(String, String)], expected: &[(String, String)], what: &str) {
    if let Some(i) = (0..got.len().max(expected.len())).find(|i| got.get(*i) != expected.get(*i)) {
        panic!(
            "{what}: line {i} is {:?}, expected {:?} ({} lines, expected {})",
            got.get(i),
            expected.get(i),
            got.len(),
            expected.len()
        );
    }
}
