//! Step output throughput on the host: a step prints 200 MB of 82-byte lines; printed are the
//! rate from the step to its log file (MB/s, goal ≥ 50), pipe's peak resident memory (VmHWM of
//! the pipe process, goal ≤ 30 MB whatever the output), the size of `events.jsonl` against the
//! output, and the same step run bare (its output to a file) for comparison.
//!
//! Run: cargo bench --bench output_throughput   (`PIPE_BENCH_OUTPUT_MB` sets the size)

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const LINE: &str = "output of a busy step, with words and numbers 0123456789 as a real log would have";

fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn script(bytes: u64) -> String {
    format!("yes '{LINE}' | head -c {bytes}")
}

/// `pipe run` of one step printing `bytes`: wall time of the step and pipe's peak memory (KiB),
/// sampled until the process ends.
fn pipe_run(dir: &std::path::Path, bytes: u64, extra: &[&str]) -> (Duration, u64) {
    let yaml = format!(
        "on: push\njobs:\n  loud:\n    runs-on: x\n    steps:\n      - name: print\n        run: {}\n",
        script(bytes)
    );
    std::fs::write(dir.join("p.yml"), yaml).expect("write");
    let _ = std::fs::remove_dir_all(dir.join(".pipe"));
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipe"))
        .args(["run", "p.yml", "--executor", "host", "--ref", "refs/heads/main", "--sha", SHA])
        .args(extra)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run pipe");
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "the benchmark pipeline failed");
    (start.elapsed(), peak)
}

fn main() {
    let mb: u64 = std::env::var("PIPE_BENCH_OUTPUT_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let bytes = mb * 1_000_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();

    // The same command, its output to a file: what the machine does without pipe.
    let start = Instant::now();
    let out = std::fs::File::create(dir.join("bare.log")).expect("create");
    let bare = Command::new("bash").args(["-c", &script(bytes)]).stdout(out).status().expect("bash");
    assert!(bare.success());
    let bare = start.elapsed();
    let _ = std::fs::remove_file(dir.join("bare.log"));

    let (_, small_peak) = pipe_run(dir, bytes / 20, &[]);
    let (took, peak) = pipe_run(dir, bytes, &[]);
    let run =
        std::fs::read_dir(dir.join(".pipe/runs")).expect("runs").flatten().next().expect("a run").path();
    let logged = std::fs::metadata(run.join("logs/loud/00-print.log")).map_or(0, |m| m.len());
    assert_eq!(logged, bytes, "the log should hold every byte");
    let events = std::fs::metadata(run.join("events.jsonl")).map_or(0, |m| m.len());
    let rate = bytes as f64 / 1e6 / took.as_secs_f64();
    let (json_took, json_peak) = pipe_run(dir, bytes, &["--output", "json"]);
    let json_rate = bytes as f64 / 1e6 / json_took.as_secs_f64();

    println!(
        "output: {mb} MB of {}-byte lines through pipe in {:.2} s = {rate:.0} MB/s (goal >= 50 MB/s); bare: {:.2} s = {:.0} MB/s",
        LINE.len() + 1,
        took.as_secs_f64(),
        bare.as_secs_f64(),
        bytes as f64 / 1e6 / bare.as_secs_f64()
    );
    println!(
        "peak RSS of pipe: {:.1} MB for {mb} MB of output, {:.1} MB for {} MB (goal <= 30 MB, flat)",
        peak as f64 / 1024.0,
        small_peak as f64 / 1024.0,
        mb / 20
    );
    println!(
        "events.jsonl: {:.1} KB = {:.2} % of the output (output kept by reference into the log)",
        events as f64 / 1e3,
        events as f64 / bytes as f64 * 100.0
    );
    println!(
        "--output json (every line an event on stdout): {json_rate:.0} MB/s, peak RSS {:.1} MB",
        json_peak as f64 / 1024.0
    );
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!(
        "@figure | host step output to its log | {rate:.0} MB/s | >= 50 MB/s | {}",
        verdict(rate >= 50.0)
    );
    println!(
        "@figure | pipe peak RSS, {mb} MB of output | {:.1} MB | <= 30 MB | {}",
        peak as f64 / 1024.0,
        verdict(peak as f64 / 1024.0 <= 30.0)
    );
    println!(
        "@figure | events.jsonl size / output | {:.2} % | by reference (< 1 %) | {}",
        events as f64 / bytes as f64 * 100.0,
        verdict(events * 100 < bytes)
    );
    println!(
        "@figure | output with --output json | {json_rate:.0} MB/s, {:.1} MB RSS | (information) | -",
        json_peak as f64 / 1024.0
    );
}
