//! Step output throughput on the host: a step prints 200 MB of 82-byte lines; printed are the
//! rate from the step to its log file (MB/s, goal ≥ 50), pipe's peak resident memory (VmHWM of
//! the pipe process, goal ≤ 30 MB whatever the output), the size of `events.jsonl` against the
//! output, and the same step run bare (its output to a file) for comparison.
//!
//! Run: cargo bench --bench output_throughput   (`PIPE_BENCH_OUTPUT_MB` sets the size)

use std::process::Command;
use std::time::Instant;

// The step and the sampling of pipe's memory are the output test's.
#[path = "../tests/integration/support/mod.rs"]
mod support;

use support::printing::{LINE, run_printing, script};

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

    let small_peak = run_printing(dir, bytes / 20, &[], &[]).peak_kib;
    let printed = run_printing(dir, bytes, &[], &[]);
    let (took, peak, run) = (printed.took, printed.peak_kib, printed.run);
    let logged = std::fs::metadata(run.join("logs/loud/00-print.log")).map_or(0, |m| m.len());
    assert_eq!(logged, bytes, "the log should hold every byte");
    let events = std::fs::metadata(run.join("events.jsonl")).map_or(0, |m| m.len());
    let rate = bytes as f64 / 1e6 / took.as_secs_f64();
    let json = run_printing(dir, bytes, &[], &["--output", "json"]);
    let (json_took, json_peak) = (json.took, json.peak_kib);
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
