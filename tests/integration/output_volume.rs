//! Lots of step output: pipe's memory stays flat whatever a step prints, the event log keeps the
//! output by reference into the step's log (not one event per line), `pipe logs` streams, and
//! the JSON stream on stdout still has every line.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value as Json;

use crate::support::printing::{LINE, peak_kib, run_printing};
use crate::support::spawn::{host_json_run, pipe_command, stdout_events};
use crate::test::stored_events;

/// Run `pipe ARGS` in `dir`, reading its stdout as it comes: bytes and lines read, peak memory.
fn streamed(dir: &Path, args: &[&str]) -> (u64, u64, u64) {
    let mut child =
        pipe_command(dir).args(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
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
    let small_peak = run_printing(small_dir.path(), SMALL, &["sleep 0.5"], &[]).peak_kib;
    let dir = tempfile::tempdir().unwrap();
    let printed = run_printing(dir.path(), LARGE, &["sleep 0.5"], &[]);
    let (run, peak) = (printed.run, printed.peak_kib);
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
    let out = pipe_command(dir.path())
        .args(host_json_run("p.yml", &["--secret", &format!("S={SECRET}")]))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events = stdout_events(&out);
    assert_eq!(events.len(), String::from_utf8_lossy(&out.stdout).lines().count(), "every line is JSON");
    let stdout = String::from_utf8(out.stdout).unwrap();
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
