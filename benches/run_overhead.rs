//! Runner overhead on the host, printed as figures (goals from the project's issues):
//! - per-step overhead of `pipe run --executor host` against a bare spawn of the same shell on a
//!   script file, `bash -e {0}` (goal ≤ 1.5 ms beyond the spawn);
//! - per-job cost of a dependent one-step job, against the same spawn;
//! - wall time of generated DAGs against their critical path (goal: within 5 % plus per-job overhead).
//!
//! Run: cargo bench --bench run_overhead

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn pipe_run(dir: &std::path::Path, yaml: &str) -> Duration {
    std::fs::write(dir.join("p.yml"), yaml).expect("write");
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_pipe"))
        .args([
            "run",
            "p.yml",
            "--executor",
            "host",
            "-q",
            "--parallel",
            "8",
            "--ref",
            "refs/heads/main",
            "--sha",
            SHA,
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run pipe");
    assert!(status.success(), "the benchmark pipeline failed");
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();

    // Per-step overhead: one job with N `true` steps, against N bare spawns of the same shell.
    const STEPS: usize = 100;
    let mut yaml = String::from("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n");
    for _ in 0..STEPS {
        yaml.push_str("      - run: \"true\"\n");
    }
    let one = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: \"true\"\n";
    let base = median((0..5).map(|_| pipe_run(dir, one)).collect());
    let many = median((0..5).map(|_| pipe_run(dir, &yaml)).collect());
    // What pipe runs for such a step: GitHub's default shell on a script file.
    let script = dir.join("step.sh");
    std::fs::write(&script, "true").expect("write");
    let spawn = median(
        (0..5)
            .map(|_| {
                let s = Instant::now();
                for _ in 0..STEPS {
                    Command::new("bash").arg("-e").arg(&script).status().expect("bash");
                }
                s.elapsed()
            })
            .collect(),
    );
    let per_step = (many.saturating_sub(base)).as_secs_f64() * 1e3 / (STEPS - 1) as f64;
    let per_spawn = spawn.as_secs_f64() * 1e3 / STEPS as f64;
    let step_over = per_step - per_spawn;
    println!(
        "per step: {per_step:.2} ms in pipe vs {per_spawn:.2} ms bare spawn = {step_over:.2} ms overhead (goal <= 1.5 ms)"
    );

    // Per job: a chain of N one-step jobs against one such job, per added job.
    const JOBS: usize = 20;
    let mut chain = String::from("on: push\njobs:\n");
    for j in 0..JOBS {
        chain.push_str(&format!("  j{j}:\n    runs-on: x\n"));
        if j > 0 {
            chain.push_str(&format!("    needs: j{}\n", j - 1));
        }
        chain.push_str("    steps:\n      - run: \"true\"\n");
    }
    let jobs = median((0..5).map(|_| pipe_run(dir, &chain)).collect());
    let per_job = jobs.saturating_sub(base).as_secs_f64() * 1e3 / (JOBS - 1) as f64;
    println!(
        "per job: {per_job:.2} ms for a dependent one-step job vs {per_spawn:.2} ms bare spawn = {:.1}x",
        per_job / per_spawn
    );

    // DAG: three independent chains with known sleep lengths; the critical path is the longest chain.
    let chains = [[0.3, 0.3, 0.3], [0.2, 0.6, 0.1], [0.5, 0.5, 0.2]];
    let mut dag = String::from("on: push\njobs:\n");
    for (c, chain) in chains.iter().enumerate() {
        for (k, secs) in chain.iter().enumerate() {
            dag.push_str(&format!("  c{c}j{k}:\n    runs-on: x\n"));
            if k > 0 {
                dag.push_str(&format!("    needs: c{c}j{}\n", k - 1));
            }
            dag.push_str(&format!("    steps:\n      - run: sleep {secs}\n"));
        }
    }
    let critical: f64 = chains.iter().map(|c| c.iter().sum::<f64>()).fold(0.0, f64::max);
    let wall = median((0..3).map(|_| pipe_run(dir, &dag)).collect()).as_secs_f64();
    let job_overhead = base.as_secs_f64();
    println!(
        "DAG: wall {wall:.2} s vs critical path {critical:.2} s + {} jobs x per-job overhead (~{:.0} ms for a one-step run) = {:.1} % over the path",
        chains[0].len(),
        job_overhead * 1e3,
        (wall - critical) / critical * 100.0
    );

    // For scripts/bench.sh: one table line each.
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!(
        "@figure | host step overhead | {per_step:.2} vs {per_spawn:.2} ms bare spawn = {:.2}x (+{step_over:.2} ms) | <= +1.5 ms | {}",
        per_step / per_spawn,
        verdict(step_over <= 1.5)
    );
    println!(
        "@figure | host per-job cost (dependent job) | {per_job:.2} vs {per_spawn:.2} ms bare spawn = {:.1}x | (information) | -",
        per_job / per_spawn
    );
    // Allowed: 5 % of the path plus the per-job cost of each job on it.
    let allowed = critical * 0.05 + chains[0].len() as f64 * per_job / 1e3;
    println!(
        "@figure | DAG wall time vs critical path | {wall:.2} s vs {critical:.2} s (+{:.1} %) | <= path + 5 % + jobs x per-job | {}",
        (wall - critical) / critical * 100.0,
        verdict(wall - critical <= allowed)
    );
}
