//! Throughput of the expression engine: parse, evaluate, and both, over a
//! mix of realistic workflow expressions. Run with
//! `cargo bench --bench expr_throughput`; set `EXPR_BENCH_ITERS` to change
//! the number of rounds (default 20000).

use std::hint::black_box;
use std::time::{Duration, Instant};

use pipe::expr::{
    Condition, EvalContext, Expr, MapContext, Status, Template, Value, evaluate, evaluate_condition,
    interpolate, parse, parse_condition, parse_template,
};

/// What kind of workflow value each sample is.
enum Sample {
    Expr(&'static str),
    Template(&'static str),
    Condition(&'static str),
}

const SAMPLES: &[Sample] = &[
    Sample::Condition("github.ref == 'refs/heads/main' && github.event_name == 'push'"),
    Sample::Condition("${{ startsWith(github.ref, 'refs/tags/v') }}"),
    Sample::Condition("contains(github.event.pull_request.labels.*.name, 'deploy')"),
    Sample::Condition("contains(fromJSON('[\"push\", \"workflow_dispatch\"]'), github.event_name)"),
    Sample::Condition("needs.build.outputs.version != '' && needs.test.result == 'success'"),
    Sample::Condition("${{ success() && !cancelled() }}"),
    Sample::Condition("failure() || cancelled()"),
    Sample::Condition("always()"),
    Sample::Condition(
        "github.event.pull_request.draft == false && !contains(github.event.pull_request.title, '[wip]')",
    ),
    Sample::Condition("steps.cache.outputs.cache-hit != 'true'"),
    Sample::Condition("matrix.os == 'ubuntu-latest' && matrix.node >= 18"),
    Sample::Expr("format('{0}-node{1}-{2}', runner.os, matrix.node, github.sha)"),
    Sample::Expr("toJSON(github.event.pull_request)"),
    Sample::Expr("toJSON(matrix)"),
    Sample::Expr("fromJSON(needs.setup.outputs.matrix).include[0].project"),
    Sample::Expr(
        "case(github.ref == 'refs/heads/main', 'production', startsWith(github.ref, 'refs/heads/release/'), 'staging', 'dev')",
    ),
    Sample::Expr("join(github.event.commits.*.author.name, ', ')"),
    Sample::Expr("env.DEPLOY_ENV || 'staging'"),
    Sample::Expr("inputs.dry_run == true || vars.DRY_RUN == 'true'"),
    Sample::Template("app-${{ needs.build.outputs.version }}-${{ github.sha }}.tar.gz"),
    Sample::Template("${{ runner.os }}-cargo-${{ matrix.node }}-${{ github.run_number }}"),
];

enum Parsed {
    Expr(Expr),
    Template(Template),
    Condition(Condition),
}

fn parse_sample(sample: &Sample) -> Parsed {
    let parsed = match sample {
        Sample::Expr(src) => parse(src).map(Parsed::Expr),
        Sample::Template(src) => parse_template(src).map(Parsed::Template),
        Sample::Condition(src) => parse_condition(src).map(Parsed::Condition),
    };
    match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("benchmark sample failed to parse: {e}");
            std::process::exit(1);
        }
    }
}

/// Evaluates one parsed sample; returns a size so the work is observable.
fn eval_parsed(parsed: &Parsed, ctx: &dyn EvalContext) -> usize {
    let outcome = match parsed {
        Parsed::Expr(e) => evaluate(e, ctx).map(|v| v.to_string().len()),
        Parsed::Template(t) => interpolate(t, ctx).map(|s| s.len()),
        Parsed::Condition(c) => evaluate_condition(c, ctx).map(usize::from),
    };
    match outcome {
        Ok(n) => n,
        Err(e) => {
            eprintln!("benchmark sample failed to evaluate: {e}");
            std::process::exit(1);
        }
    }
}

fn json(text: &str) -> Value {
    match Value::from_json_str(text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("benchmark context is not valid JSON: {e}");
            std::process::exit(1);
        }
    }
}

fn context() -> MapContext {
    MapContext::new()
        .with(
            "github",
            json(
                r#"{
                "ref": "refs/heads/main", "sha": "3f2a9c0d1e", "event_name": "push",
                "repository": "octo/pipe", "run_number": 128,
                "event": {
                    "pull_request": {
                        "title": "Add expression engine", "draft": false, "number": 7,
                        "labels": [{"name": "enhancement"}, {"name": "deploy"}],
                        "head": {"ref": "feature/expr", "sha": "abc"}, "base": {"ref": "main"}
                    },
                    "commits": [
                        {"message": "a", "author": {"name": "Mona"}},
                        {"message": "b", "author": {"name": "Hubot"}}
                    ]
                }
            }"#,
            ),
        )
        .with("runner", json(r#"{"os": "Linux", "arch": "X64"}"#))
        .with("matrix", json(r#"{"os": "ubuntu-latest", "node": 20}"#))
        .with("env", json(r#"{"DEPLOY_ENV": ""}"#))
        .with("vars", json(r#"{"DRY_RUN": "false"}"#))
        .with("inputs", json(r#"{"dry_run": false}"#))
        .with(
            "steps",
            json(r#"{"cache": {"outputs": {"cache-hit": "false"}, "outcome": "success"}}"#),
        )
        .with(
            "needs",
            json(
                r#"{
                "build": {"result": "success", "outputs": {"version": "1.4.2"}},
                "test": {"result": "success", "outputs": {}},
                "setup": {"result": "success", "outputs": {"matrix": "{\"include\":[{\"project\":\"core\"}]}"}}
            }"#,
            ),
        )
        .with_status(Status::Success)
}

fn report(phase: &str, count: usize, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
    let rate = count as f64 / secs;
    println!("{phase:<18} {count:>9} expressions in {:>8.3} s  = {rate:>12.0} expressions/second", secs);
    if phase == "parse + evaluate" {
        println!("@figure | expressions parsed + evaluated | {rate:.0} /s | (information) | -");
    }
}

fn main() {
    let iterations: usize =
        std::env::var("EXPR_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let ctx = context();
    let count = iterations * SAMPLES.len();
    println!("expr_throughput: {} samples x {iterations} iterations", SAMPLES.len());

    let start = Instant::now();
    for _ in 0..iterations {
        for sample in SAMPLES {
            black_box(parse_sample(black_box(sample)));
        }
    }
    report("parse", count, start.elapsed());

    let parsed: Vec<Parsed> = SAMPLES.iter().map(parse_sample).collect();
    let start = Instant::now();
    let mut sink = 0usize;
    for _ in 0..iterations {
        for p in &parsed {
            sink = sink.wrapping_add(eval_parsed(black_box(p), &ctx));
        }
    }
    report("evaluate", count, start.elapsed());

    let start = Instant::now();
    for _ in 0..iterations {
        for sample in SAMPLES {
            let p = parse_sample(black_box(sample));
            sink = sink.wrapping_add(eval_parsed(&p, &ctx));
        }
    }
    report("parse + evaluate", count, start.elapsed());
    black_box(sink);
}
