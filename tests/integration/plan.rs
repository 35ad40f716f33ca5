//! `pipe plan` end to end: `on:` filters (with a real git repository for paths), `--job`,
//! matrices, inputs, the four formats, invalid pipelines, and delivery vs deployment gates.

use std::path::Path;
use std::process::Command;

use crate::test::Test;

const FILTERED: &str = "\
name: filtered
on:
  push:
    branches: [main, 'releases/**']
    tags: ['v[0-9]+.*']
    paths: ['src/**', '!src/**.md']
  pull_request:
    branches: [main]
    types: [opened, closed]
  workflow_dispatch:
    inputs:
      level:
        type: choice
        options: [info, debug]
        default: info
      dry:
        type: boolean
        required: true
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: make
";

const MATRIX: &str = "\
name: matrix
on: push
jobs:
  lint:
    runs-on: ubuntu-22.04
    outputs:
      m: ${{ steps.m.outputs.m }}
    steps:
      - id: m
        run: lint
  test:
    needs: lint
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        os: [linux, mac]
        py: ['3.11', '3.12']
        exclude:
          - os: mac
            py: '3.11'
        include:
          - os: linux
            py: '3.12'
            extra: cov
          - os: windows
            py: '3.13'
    steps:
      - run: test
  dynamic:
    needs: lint
    runs-on: ${{ matrix.os }}
    strategy:
      matrix: ${{ fromJSON(needs.lint.outputs.m) }}
    steps:
      - run: x
  docs:
    runs-on: self-hosted
    container: node:20
    if: github.ref == 'refs/heads/main'
    steps:
      - run: docs
";

/// A test directory isolated from any git repository above it.
fn test() -> Test {
    let t = Test::new();
    let ceiling = t.path().parent().map(|p| p.display().to_string()).unwrap_or_default();
    t.env("GIT_CEILING_DIRECTORIES", &ceiling)
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository on `main`: a root commit, then one commit touching `files`. Returns the last sha.
fn repo_with_commit(dir: &Path, files: &[&str]) -> String {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "root"]);
    for f in files {
        let p = dir.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "changed\n").unwrap();
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "change"]);
    git(dir, &["rev-parse", "HEAD"])
}

fn plan_json(t: Test, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["plan", "wf.yml", "--format", "json"];
    all.extend_from_slice(args);
    let (out, _dir) = t.args(&all).run();
    serde_json::from_slice(&out.stdout).expect("json plan")
}

/// One row per case: extra flags → whether the workflow is triggered.
macro_rules! triggers {
    ($($name:ident: [$($arg:expr),*] => $want:expr;)+) => {
        $(
            #[test]
            fn $name() {
                let plan = plan_json(test().write("wf.yml", FILTERED), &[$($arg),*]);
                assert_eq!(plan["triggered"], $want, "{plan:#}");
            }
        )+
    };
}

triggers! {
    branch_main: ["--ref", "refs/heads/main", "--sha", "abc"] => true;
    branch_short_ref: ["--ref", "main", "--sha", "abc"] => true;
    branch_glob: ["--ref", "refs/heads/releases/2/rc"] => true;
    branch_other: ["--ref", "refs/heads/dev"] => false;
    tag_match: ["--ref", "refs/tags/v1.2"] => true;
    tag_other: ["--ref", "refs/tags/latest"] => false;
    pr_into_main: ["--event", "pull_request", "--ref", "refs/heads/main"] => true;
    pr_into_dev: ["--event", "pull_request", "--ref", "refs/heads/dev"] => false;
    event_not_listed: ["--event", "schedule"] => false;
}

#[test]
fn not_triggered_reason_in_text() {
    test()
        .write("wf.yml", FILTERED)
        .args(&["plan", "wf.yml", "--ref", "refs/heads/dev"])
        .stdout_contains("not triggered: push to refs/heads/dev does not match branches [main, releases/**]")
        .stdout_contains("build  [skipped: not triggered]")
        .run();
}

#[test]
fn pull_request_base_and_action_from_payload() {
    let plan_for = |action: &str| {
        let payload = format!(r#"{{"action": "{action}", "pull_request": {{"base": {{"ref": "main"}}}}}}"#);
        let t = test().write("wf.yml", FILTERED).write("event.json", payload);
        plan_json(t, &["--event", "pull_request", "--ref", "refs/heads/feature", "--eventpath", "event.json"])
    };
    assert_eq!(plan_for("opened")["triggered"], true);
    let plan = plan_for("synchronize");
    assert_eq!(plan["triggered"], false);
    assert_eq!(
        plan["not_triggered_reason"],
        "pull_request activity `synchronize` is not in types [opened, closed]"
    );
}

#[test]
fn bad_event_payload_is_a_usage_error() {
    test()
        .write("wf.yml", FILTERED)
        .write("bad.json", "{not json")
        .args(&["plan", "wf.yml", "--eventpath", "bad.json"])
        .status(2)
        .stderr_contains("error: --eventpath bad.json: not valid JSON")
        .run();
}

#[test]
fn paths_filter_with_a_real_repository() {
    // A commit touching only docs does not trigger; one touching src/ does; src/*.md is negated.
    for (files, want) in [(&["docs/a.txt"][..], false), (&["src/main.rs"], true), (&["src/notes.md"], false)]
    {
        let t = test().write("wf.yml", FILTERED).write("README", "root\n");
        let sha = repo_with_commit(t.path(), files);
        let plan = plan_json(t, &["--sha", &sha]);
        assert_eq!(plan["triggered"], want, "{files:?}: {plan:#}");
        assert_eq!(plan["git_ref"], "refs/heads/main", "the current branch is the default ref");
        assert_eq!(plan["sha"], sha);
    }
}

#[test]
fn root_commit_counts_every_file_as_changed() {
    let t = test().write("wf.yml", FILTERED).write("src/lib.rs", "x\n");
    git(t.path(), &["init", "-q", "-b", "main"]);
    git(t.path(), &["add", "-A"]);
    git(t.path(), &["commit", "-q", "-m", "root"]);
    let plan = plan_json(t, &[]);
    assert_eq!(plan["triggered"], true, "{plan:#}");
}

#[test]
fn outside_git_defaults() {
    let plan = plan_json(test().write("wf.yml", MATRIX), &[]);
    assert_eq!(plan["git_ref"], "refs/heads/main");
    assert_eq!(plan["sha"], "0".repeat(40));
}

#[test]
fn matrix_legs_in_text() {
    test()
        .write("wf.yml", MATRIX)
        .args(&["plan", "wf.yml"])
        .stdout(
            "
            plan: matrix (wf.yml)
            event: push on refs/heads/main at 000000000000, mode delivery

            4 job(s) in order:

              lint
                runs: docker ubuntu:22.04

              test
                needs: lint
                matrix: 4 leg(s), no fail-fast
                  - test (linux, 3.11)
                  - test (linux, 3.12, cov)
                  - test (mac, 3.12)
                  - test (windows, 3.13)
                runs: docker ubuntu:24.04

              dynamic
                needs: lint
                matrix: from ${{ fromJSON(needs.lint.outputs.m) }} (expanded at run time)
                runs: docker
                note: runs-on `${{ matrix.os }}` is chosen at run time

              docs
                if: github.ref == 'refs/heads/main'
                runs: docker node:20
            ",
        )
        .run();
}

#[test]
fn matrix_legs_in_json() {
    let plan = plan_json(test().write("wf.yml", MATRIX), &[]);
    let test_job = &plan["jobs"][1];
    assert_eq!(test_job["id"], "test");
    assert_eq!(test_job["legs"]["kind"], "matrix");
    assert_eq!(test_job["legs"]["fail_fast"], false);
    let legs = test_job["legs"]["legs"].as_array().unwrap();
    assert_eq!(legs.len(), 4);
    assert_eq!(legs[1]["matrix"], serde_json::json!({"os": "linux", "py": "3.12", "extra": "cov"}));
    assert_eq!(legs[3]["name"], "test (windows, 3.13)");
    assert_eq!(plan["jobs"][2]["legs"]["kind"], "dynamic");
    assert_eq!(plan["jobs"][3]["executor"], "docker");
    assert_eq!(plan["jobs"][3]["image"], "node:20");
}

#[test]
fn job_selection_takes_what_is_needed() {
    let plan = plan_json(test().write("wf.yml", MATRIX), &["--job", "test"]);
    let ids: Vec<&str> = plan["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["lint", "test"]);
    assert_eq!(plan["not_selected"], serde_json::json!(["dynamic", "docs"]));
}

#[test]
fn unknown_job_suggests() {
    test()
        .write("wf.yml", MATRIX)
        .args(&["plan", "wf.yml", "--job", "tset"])
        .status(2)
        .stderr("error: --job tset: no such job\nhint: did you mean `test`?\n")
        .run();
}

#[test]
fn platform_flag_maps_labels() {
    let plan = plan_json(
        test().write("wf.yml", MATRIX),
        &["-P", "ubuntu-22.04=host", "-P", "ubuntu-latest=debian:12"],
    );
    assert_eq!(plan["jobs"][0]["executor"], "host");
    assert_eq!(plan["jobs"][1]["image"], "debian:12");
}

#[test]
fn malformed_platform_flag() {
    test()
        .write("wf.yml", MATRIX)
        .args(&["plan", "wf.yml", "-P", "ubuntu-latest"])
        .status(2)
        .stderr_contains("error: -P/--platform `ubuntu-latest`: expected NAME=VALUE")
        .run();
}

#[test]
fn mermaid_and_dot() {
    test()
        .write("wf.yml", MATRIX)
        .args(&["plan", "wf.yml", "--format", "mermaid"])
        .stdout(
            r#"
            flowchart LR
              j0["lint"]
              j1["test ×4"]
              j2["dynamic ×?"]
              j3["docs"]
              j0 --> j1
              j0 --> j2
            "#,
        )
        .run();
    test()
        .write("wf.yml", MATRIX)
        .args(&["plan", "wf.yml", "--format", "dot"])
        .stdout(
            r#"
            digraph "matrix" {
              rankdir=LR;
              "lint" [label="lint"];
              "test" [label="test ×4"];
              "dynamic" [label="dynamic ×?"];
              "docs" [label="docs"];
              "lint" -> "test";
              "lint" -> "dynamic";
            }
            "#,
        )
        .run();
}

/// One row per case: `--input` flags → the error line and hint on stderr.
macro_rules! input_errors {
    ($($name:ident: [$($arg:expr),*] => $stderr:expr;)+) => {
        $(
            #[test]
            fn $name() {
                test()
                    .write("wf.yml", FILTERED)
                    .args(&["plan", "wf.yml", "--event", "workflow_dispatch", $($arg),*])
                    .status(2)
                    .stderr($stderr)
                    .run();
            }
        )+
    };
}

input_errors! {
    input_required: [] => "error: input `dry` is required\nhint: give it with --input dry=VALUE\n";
    input_bad_boolean: ["--input", "dry=maybe"] => "error: input `dry`: `maybe` is not a boolean\nhint: use true or false\n";
    input_bad_choice: ["--input", "dry=true", "--input", "level=loud"]
        => "error: input `level`: `loud` is not one of the options\nhint: options: info, debug\n";
    input_unknown: ["--input", "dry=true", "--input", "levle=info"]
        => "error: unknown input `levle`\nhint: did you mean `level`?\n";
    input_malformed: ["--input", "dry"] => "error: --input `dry`: expected NAME=VALUE\nhint: for example --input name=value\n";
}

#[test]
fn inputs_resolved_with_defaults() {
    let plan =
        plan_json(test().write("wf.yml", FILTERED), &["--event", "workflow_dispatch", "--input", "dry=true"]);
    assert_eq!(plan["inputs"], serde_json::json!({"level": "info", "dry": true}));
    assert_eq!(plan["triggered"], true);
}

#[test]
fn inputs_refused_for_push() {
    test()
        .write("wf.yml", FILTERED)
        .args(&["plan", "wf.yml", "--input", "dry=true"])
        .status(2)
        .stderr("error: --input is only used by workflow_dispatch, not by `push`\nhint: add --event workflow_dispatch\n")
        .run();
}

#[test]
fn invalid_pipeline_exits_2_with_diagnostics() {
    test()
        .write("wf.yml", "on: push\njobs:\n  a:\n    needs: ghost\n    runs-on: x\n    steps: [{run: x}]\n")
        .args(&["plan", "wf.yml"])
        .status(2)
        .stdout("")
        .stderr_contains("wf.yml:4:")
        .stderr_contains("error: wf.yml: the pipeline has 1 error(s); nothing was run")
        .run();
}

#[test]
fn missing_file_exits_2() {
    test().args(&["plan", "nope.yml"]).status(2).stderr_contains("cannot read nope.yml").run();
}

fn cd_starter() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/cd-starter.yml")).unwrap()
}

#[test]
fn delivery_and_deployment_differ_in_the_gate_lines() {
    let run = |mode: &str| {
        let (out, _dir) = test()
            .write("pipelines/cd-starter.yml", cd_starter())
            .args(&["plan", "pipelines/cd-starter.yml", "--mode", mode, "--ref", "main"])
            .run();
        String::from_utf8(out.stdout).unwrap()
    };
    let delivery = run("delivery");
    let deployment = run("deployment");
    assert!(delivery.contains("    environment: staging, waits for approval (staging)\n"), "{delivery}");
    assert!(
        delivery.contains("    environment: production, waits for approval (production)\n"),
        "{delivery}"
    );
    assert!(deployment.contains("    environment: production, deploys automatically (deployment mode)\n"));
    let differing: Vec<(&str, &str)> =
        delivery.lines().zip(deployment.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(differing.len(), 3, "the mode line and the two gate lines: {differing:?}");
}
