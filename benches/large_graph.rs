//! Large `needs:` graphs, printed as figures:
//! - load + validate and plan::build of a 100,000-job chain and of a 100,000-job layered graph
//!   (goal: validate < 1 s, both near-linear: the 100k figure about 10× the 10k one);
//! - `pipe run --executor host` cost per job at 250 and at 2,000 jobs in one chain (goal: the
//!   same per-job cost whatever the graph's size).
//!
//! Uses the CLI's allocator (mimalloc, without the purge-at-once setting that only commands
//! running steps get).
//!
//! Run: cargo bench --bench large_graph

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `n` jobs, each needing the one before (the deepest graph there is).
fn chain(n: usize) -> String {
    let mut s = String::with_capacity(n * 80);
    s.push_str("on: push\njobs:\n");
    for i in 0..n {
        s.push_str(&format!("  j{i}:\n    runs-on: ubuntu-latest\n"));
        if i > 0 {
            s.push_str(&format!("    needs: j{}\n", i - 1));
        }
        s.push_str("    steps:\n      - run: 'true'\n");
    }
    s
}

/// `n` jobs in layers of 100, each needing three jobs of the layer before.
fn layered(n: usize) -> String {
    const WIDTH: usize = 100;
    let mut s = String::with_capacity(n * 100);
    s.push_str("on: push\njobs:\n");
    for i in 0..n {
        s.push_str(&format!("  j{i}:\n    runs-on: ubuntu-latest\n"));
        if i >= WIDTH {
            let base = i - i % WIDTH - WIDTH;
            let (a, b, c) = (base + i % WIDTH, base + (i * 7 + 3) % WIDTH, base + (i * 13 + 5) % WIDTH);
            s.push_str(&format!("    needs: [j{a}, j{b}, j{c}]\n"));
        }
        s.push_str("    steps:\n      - run: 'true'\n");
    }
    s
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Milliseconds of load + validate and of plan::build.
fn validate_and_plan(name: &str, text: String) -> (f64, f64) {
    let start = Instant::now();
    let checked = pipe::validate::check_source(pipe::source::Source::new(name, text));
    let validate = ms(start.elapsed());
    assert_eq!(checked.errors(), 0, "the generated pipeline should be valid");
    let pipeline = checked.pipeline.expect("a pipeline");
    let input = pipe::plan::PlanInput {
        pipeline_path: name.into(),
        event: "push".into(),
        git_ref: "refs/heads/main".into(),
        sha: "0".repeat(40),
        ..pipe::plan::PlanInput::default()
    };
    let start = Instant::now();
    let plan = pipe::plan::build(&pipeline, &input).expect("plan");
    assert_eq!(plan.jobs.len(), pipeline.jobs.len());
    (validate, ms(start.elapsed()))
}

/// Wall time of `pipe run --executor host` of a chain of `n` one-step jobs.
fn run_chain(n: usize) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.yml"), chain(n)).expect("write");
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_pipe"))
        .args(["run", "p.yml", "--executor", "host", "-q", "--ref", "refs/heads/main", "--sha"])
        .arg("0123456789abcdef0123456789abcdef01234567")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run pipe");
    assert!(status.success(), "the benchmark pipeline failed");
    start.elapsed()
}

fn main() {
    println!("{:<28} {:>12} {:>12}", "graph", "validate ms", "plan ms");
    for (name, text) in [
        ("chain 10,000", chain(10_000)),
        ("chain 100,000", chain(100_000)),
        ("layered 10,000", layered(10_000)),
        ("layered 100,000", layered(100_000)),
    ] {
        let (validate, plan) = validate_and_plan("big.yml", text);
        println!("{name:<28} {validate:>12.1} {plan:>12.1}");
        if name.contains("100,000") {
            println!(
                "@figure | validate {name} jobs | {validate:.0} ms (plan {plan:.0} ms) | < 1000 ms | {}",
                if validate < 1000.0 { "ok" } else { "MISSED" }
            );
        }
    }
    println!("goal: validate 100,000 jobs < 1000 ms, 100k ≈ 10× 10k (near-linear)");
    println!();
    println!("{:<28} {:>12} {:>12}", "pipe run --executor host", "wall ms", "ms per job");
    let mut per_job = Vec::new();
    for n in [250, 2_000] {
        let wall = run_chain(n);
        let each = ms(wall) / n as f64;
        per_job.push(each);
        println!("{:<28} {:>12.0} {each:>12.2}", format!("chain of {n}"), ms(wall));
    }
    let ratio = per_job[1] / per_job[0];
    println!("goal: the same cost per job at 250 and 2,000 jobs (ratio {ratio:.2})");
    println!(
        "@figure | run cost per job, 2,000 vs 250 jobs | {:.2} vs {:.2} ms = {ratio:.2}x | ~1x (<= 1.5x) | {}",
        per_job[1],
        per_job[0],
        if ratio <= 1.5 { "ok" } else { "MISSED" }
    );
}
