//! A step that prints a lot, run by `pipe` on the host while pipe's memory is sampled: the test
//! of flat memory and the output benchmark run the same thing.

// Not every user uses every helper.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::spawn::{REF, pipe_command};

/// One line of output, 82 bytes with its newline.
pub const LINE: &str = "output of a busy step, with words and numbers 0123456789 as a real log would have";

/// A shell command printing `bytes` bytes of [`LINE`]s.
pub fn script(bytes: u64) -> String {
    format!("yes '{LINE}' | head -c {bytes}")
}

/// Peak resident memory (VmHWM) of a process, in KiB, while it runs.
pub fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Wait for `child`, sampling its peak memory until it ends.
pub fn wait_sampling(mut child: Child) -> (ExitStatus, u64) {
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(kib) = peak_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status, peak);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How a run of [`run_printing`] went.
pub struct Printed {
    /// The run's folder.
    pub run: std::path::PathBuf,
    /// From start to exit.
    pub took: Duration,
    /// pipe's peak resident memory, in KiB.
    pub peak_kib: u64,
}

/// In `dir` (its state dir emptied first), run a one-step host pipeline (job `loud`, step
/// `print`) printing `bytes` bytes of [`LINE`]s, then the shell lines `then` (a pause lets the
/// last memory sample be taken while pipe still runs, after the work measured); `extra` are
/// more arguments of `pipe run`. Its terminal text goes nowhere; the run must succeed.
pub fn run_printing(dir: &Path, bytes: u64, then: &[&str], extra: &[&str]) -> Printed {
    let mut body = format!("          {}\n", script(bytes));
    for line in then {
        body.push_str(&format!("          {line}\n"));
    }
    let yaml = format!(
        "on: push\njobs:\n  loud:\n    runs-on: x\n    steps:\n      - name: print\n        run: |\n{body}"
    );
    std::fs::write(dir.join("p.yml"), yaml).unwrap();
    let _ = std::fs::remove_dir_all(dir.join(".pipe"));
    let started = Instant::now();
    let child = pipe_command(dir)
        .args(["run", "p.yml", "--executor", "host"])
        .args(REF)
        .args(extra)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (status, peak_kib) = wait_sampling(child);
    let took = started.elapsed();
    assert!(status.success(), "the run failed: {status:?}");
    let run = std::fs::read_dir(dir.join(".pipe/runs")).unwrap().flatten().next().unwrap().path();
    Printed { run, took, peak_kib }
}
