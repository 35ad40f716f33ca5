use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::expr::Location::{self, *};
use crate::source::Source;

/// A scope in which every context is known.
fn full() -> Scope {
    let mut s = Scope::new(Arc::new(Compiled::default()));
    for c in CONTEXTS {
        s.set(c, &json!({"x": c}));
    }
    s
}

fn visible(location: Location) -> Vec<&'static str> {
    let scope = full();
    let view = scope.at(location);
    CONTEXTS.iter().copied().filter(|c| view.context_ref(c).is_some()).collect()
}

/// One row per key: the contexts an expression there sees (in [`CONTEXTS`] order).
macro_rules! keys {
    ($($name:ident: $location:expr => [$($ctx:literal),*];)+) => {
        $(
            #[test]
            fn $name() {
                let want: &[&str] = &[$($ctx),*];
                assert_eq!(visible($location), want);
            }
        )+
    };
}

keys! {
    run_name: RunName => ["github", "vars", "inputs"];
    workflow_env: Env => ["github", "vars", "secrets", "inputs"];
    job_if: JobIf => ["github", "vars", "needs", "inputs"];
    job_name: JobName => ["github", "vars", "strategy", "matrix", "needs", "inputs"];
    runs_on: JobRunsOn => ["github", "vars", "strategy", "matrix", "needs", "inputs"];
    container_image: JobContainerImage => ["github", "vars", "strategy", "matrix", "needs", "inputs"];
    container_credentials: JobContainerCredentials => ["github", "env", "vars", "secrets", "strategy", "matrix", "needs", "inputs"];
    services: JobServices => ["github", "vars", "strategy", "matrix", "needs", "inputs"];
    environment: JobEnvironment => ["github", "vars", "strategy", "matrix", "needs", "inputs"];
    environment_url: JobEnvironmentUrl => ["github", "env", "vars", "job", "steps", "runner", "strategy", "matrix", "needs", "inputs"];
    timeout: JobTimeoutMinutes => ["github", "vars", "strategy", "matrix", "needs", "inputs"];
    job_continue_on_error: JobContinueOnError => ["github", "vars", "strategy", "matrix", "needs", "inputs"];
    strategy: JobStrategy => ["github", "vars", "needs", "inputs"];
    job_env: JobEnv => ["github", "vars", "secrets", "strategy", "matrix", "needs", "inputs"];
    outputs: JobOutputs => ["github", "env", "vars", "job", "steps", "runner", "secrets", "strategy", "matrix", "needs", "inputs"];
    step_if: StepIf => ["github", "env", "vars", "job", "steps", "runner", "strategy", "matrix", "needs", "inputs"];
    step_run: StepRun => ["github", "env", "vars", "job", "steps", "runner", "secrets", "strategy", "matrix", "needs", "inputs"];
    call_output: WorkflowCallOutputValue => ["github", "vars", "jobs", "inputs"];
}

fn text(value: &str) -> Text {
    Text { value: value.into(), ..Text::default() }
}

#[test]
fn continue_on_error_reads_vars() {
    let s = Scope::new(Arc::new(Compiled::default())).with("vars", &json!({"X": "yes"}));
    let flag = Flag::Expr(text("${{ vars.X == 'yes' }}"));
    assert_eq!(s.flag(JobContinueOnError, &flag), Ok(true));
}

#[test]
fn a_context_not_offered_at_a_key_is_named() {
    let e = full().text(JobRunsOn, &text("${{ steps.a.outputs.b }}")).unwrap_err();
    assert_eq!(e.message, "the `steps` context is not available in `jobs.<job_id>.runs-on`");
}

#[test]
fn hash_files_only_where_allowed() {
    let e = full().text(JobIf, &text("${{ hashFiles('x') }}")).unwrap_err();
    assert!(e.message.contains("hashFiles is not available in `jobs.<job_id>.if`"), "{e}");
}

#[test]
fn status_functions_follow_the_scope_status() {
    let s = full().with_status(Status::Failure);
    assert_eq!(s.condition(StepIf, None), Ok(false));
    assert_eq!(s.condition(StepIf, Some(&text("failure()"))), Ok(true));
    assert!(s.uses_status_function(Some("always()")));
    assert!(!s.uses_status_function(Some("github.x")));
}

#[test]
fn numbers_and_values() {
    let s = full().with("matrix", &json!({"t": 2, "s": "3", "o": {"a": 1}}));
    assert_eq!(s.number(JobTimeoutMinutes, &Number::Expr(text("${{ matrix.t }}"))), Ok(2.0));
    assert_eq!(s.number(JobTimeoutMinutes, &Number::Expr(text("${{ matrix.s }}"))), Ok(3.0));
    assert_eq!(s.value(JobRunsOn, &text("${{ matrix.o }}")), Ok(json!({"a": 1})));
    assert_eq!(s.text(JobName, &text("n-${{ matrix.t }}")), Ok("n-2".into()));
}

#[test]
fn errors_point_into_the_file() {
    let yaml = "on: push\njobs:\n  a:\n    if: ${{ fromJSON('{') }}\n    runs-on: x\n    steps: [{run: x}]\n";
    let source = Source::new("p.yml", yaml);
    let p = crate::load::load(&source).pipeline.expect("pipeline");
    let compiled = Arc::new(Compiled::of(&p, Some(source)));
    let s = Scope::new(compiled);
    let e = s.condition(JobIf, p.jobs[0].condition.as_ref()).unwrap_err();
    assert_eq!(e.at.as_ref().map(|(f, p)| format!("{f}:{p}")).as_deref(), Some("p.yml:4:13"), "{e}");
    assert!(e.describe("the job's `if:` cannot be evaluated").starts_with("p.yml:4:13: the job's `if:`"));
}

#[test]
fn templates_are_parsed_once_when_the_run_starts() {
    let yaml = "on: push\njobs:\n  a:\n    runs-on: ${{ matrix.os }}\n    strategy: {matrix: {os: [x]}}\n    env: {A: '${{ vars.A }}', B: plain}\n    steps:\n      - run: echo ${{ vars.A }}\n      - run: echo ${{ github.sha }}\n";
    let source = Source::new("p.yml", yaml);
    let p = crate::load::load(&source).pipeline.expect("pipeline");
    let compiled = Compiled::of(&p, Some(source));
    // `${{ matrix.os }}`, `${{ vars.A }}`, `echo ${{ vars.A }}`, `echo ${{ github.sha }}`; not `plain`.
    assert_eq!(compiled.len(), 4);
    let again = compiled.template("echo ${{ vars.A }}").expect("parsed");
    assert!(Arc::ptr_eq(&again, &compiled.template("echo ${{ vars.A }}").expect("parsed")));
}
