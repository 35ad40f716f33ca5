//! Planning a very large pipeline: 10,000 jobs in 100 layers of 100, each job needing two jobs of
//! the layer before, every tenth job with a 2×3 matrix (minus one exclude, plus one include).
//! Times `load + validate` separately from `plan::build` and prints milliseconds.
//! Goal on a 2-core machine: plan::build ≤ 200 ms.  Run: cargo bench --bench plan_10k

use std::time::Instant;

const LAYERS: usize = 100;
const WIDTH: usize = 100;

fn pipeline() -> String {
    let mut s = String::from(
        "name: big\non:\n  push:\n    branches: [main, 'releases/**']\n    paths: ['src/**', '!src/**.md']\njobs:\n",
    );
    for layer in 0..LAYERS {
        for i in 0..WIDTH {
            s.push_str(&format!("  j{layer}-{i}:\n    runs-on: ubuntu-latest\n"));
            if layer > 0 {
                let (a, b) = (i, (i * 7 + 3) % WIDTH);
                s.push_str(&format!("    needs: [j{}-{a}, j{}-{b}]\n", layer - 1, layer - 1));
            }
            if i % 10 == 0 {
                s.push_str(
                    "    strategy:\n      matrix:\n        os: [linux, mac]\n        py: ['3.10', '3.11', '3.12']\n        exclude:\n          - {os: mac, py: '3.10'}\n        include:\n          - {os: linux, py: '3.12', cov: true}\n",
                );
            }
            s.push_str("    steps:\n      - run: make\n");
        }
    }
    s
}

fn main() {
    let text = pipeline();
    let start = Instant::now();
    let checked = pipe::validate::check_source(pipe::source::Source::new("big.yml", text));
    let validate_ms = start.elapsed().as_secs_f64() * 1e3;
    assert_eq!(checked.errors(), 0, "the generated pipeline should be valid");
    let pipeline = checked.pipeline.expect("a pipeline");
    let input = pipe::plan::PlanInput {
        pipeline_path: "big.yml".into(),
        event: "push".into(),
        git_ref: "refs/heads/main".into(),
        sha: "0".repeat(40),
        changed_files: Some(vec!["src/main.rs".into(), "README.md".into()]),
        ..pipe::plan::PlanInput::default()
    };
    let start = Instant::now();
    let plan = pipe::plan::build(&pipeline, &input).expect("plan");
    let plan_ms = start.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let text = pipe::plan::render::text(&plan);
    let render_ms = start.elapsed().as_secs_f64() * 1e3;
    assert!(plan.triggered && plan.jobs.len() == LAYERS * WIDTH);
    println!("jobs: {}, text plan: {} lines", plan.jobs.len(), text.lines().count());
    println!("load + validate: {validate_ms:.1} ms");
    println!("plan::build:     {plan_ms:.1} ms (goal <= 200 ms)");
    println!(
        "@figure | plan of 10,000 jobs (plan::build) | {plan_ms:.1} ms | <= 200 ms | {}",
        if plan_ms <= 200.0 { "ok" } else { "MISSED" }
    );
    println!("@figure | load + validate of the 10,000 jobs | {validate_ms:.1} ms | (information) | -");
    println!("render text:     {render_ms:.1} ms");
}
