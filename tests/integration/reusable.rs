//! Reusable workflows (`jobs.<id>.uses:`): run on both backends (inputs, secrets, outputs,
//! matrix callers, nesting, failures, `caller / called` names), planned (`pipe plan`), refused
//! when they loop or nest too deep, and validated against the called file.

use std::path::Path;
use std::process::Command;

use serde_json::Value as Json;

use crate::run_host::{Exec, Ran, both_backends, read_tree, run_in};
use crate::test::{Test, pipe_bin};

/// A fresh directory holding these files (e.g. the called workflows).
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn run_with(exec: Exec, files: &[(&str, &str)], yaml: &str, extra: &[&str]) -> Ran {
    run_in(exec, dir_with(files), yaml, extra)
}

/// Every `job_finished` event of a job id, by name.
fn finished<'a>(r: &'a Ran, job: &str) -> Vec<&'a Json> {
    r.of("job_finished").into_iter().filter(|e| e["job"] == job).collect()
}

const BUILD: &str = r#"
on:
  workflow_call:
    inputs:
      version: {type: string, required: true}
      count: {type: number, default: 2}
      dry-run: {type: boolean, default: false}
      note: {type: string}
    outputs:
      image:
        value: ${{ jobs.build.outputs.image }}
      inputs:
        value: ${{ jobs.build.outputs.inputs }}
jobs:
  build:
    runs-on: x
    outputs:
      image: ${{ steps.b.outputs.image }}
      inputs: ${{ steps.b.outputs.inputs }}
    steps:
      - id: b
        run: |
          echo "image=app:${{ inputs.version }}-${{ inputs.count }}" >> "$GITHUB_OUTPUT"
          echo 'inputs=${{ toJSON(inputs) }}' | tr -d '\n ' >> "$GITHUB_OUTPUT"
          echo >> "$GITHUB_OUTPUT"
          echo "event ${{ github.event_name }} job ${{ github.job }} ref ${{ github.ref }}"
"#;

both_backends! {
    fn inputs_are_typed_with_defaults_and_outputs_reach_dependents(exec) {
        let r = run_with(exec, &[(".github/workflows/build.yml", BUILD)], r#"
    on: push
    jobs:
      version:
        runs-on: x
        outputs:
          v: ${{ steps.v.outputs.v }}
        steps:
          - id: v
            run: echo "v=1.4" >> "$GITHUB_OUTPUT"
      call:
        needs: version
        uses: ./.github/workflows/build.yml
        with:
          version: ${{ needs.version.outputs.v }}
          dry-run: true
      after:
        needs: call
        runs-on: x
        steps:
          - run: echo "got ${{ needs.call.outputs.image }} (${{ needs.call.result }})"
    "#, &[]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let call = r.job("call");
        assert_eq!(call["result"], "success");
        assert_eq!(call["outputs"]["image"], "app:1.4-2");
        let inputs: Json = serde_json::from_str(call["outputs"]["inputs"].as_str().unwrap()).unwrap();
        assert_eq!(inputs, serde_json::json!({"version": "1.4", "count": 2, "dry-run": true, "note": ""}));
        assert!(r.output_lines("after").contains(&"got app:1.4-2 (success)".to_string()));
        // The called workflow sees the caller's event and ref.
        assert!(r.output_lines("call/build").contains(&"event push job build ref refs/heads/main".to_string()),
            "{:?}", r.output_lines("call/build"));
        let started: Vec<&Json> = r.of("job_started").into_iter().filter(|e| e["job"] == "call/build").collect();
        assert_eq!(started.len(), 1);
        assert_eq!(started[0]["name"], "call / build");
        assert_eq!(r.job("call/build")["name"], "call / build");
        // No job_started for the caller itself: it runs nothing.
        assert!(!r.of("job_started").iter().any(|e| e["job"] == "call"));
    }

    fn secrets_named_or_inherited_only_those_passed_and_masked(exec) {
        let called = r#"
    on:
      workflow_call:
        secrets:
          token: {required: true}
    jobs:
      show:
        runs-on: x
        steps:
          - run: |
              echo "token=${{ secrets.token }}"
              echo "other=${{ secrets.OTHER }}"
              test -n "${{ secrets.token }}"
    "#;
        let r = run_with(exec, &[(".github/workflows/s.yml", called)], r#"
    on: push
    jobs:
      named:
        uses: ./.github/workflows/s.yml
        secrets:
          token: ${{ secrets.MY_TOKEN }}
      inherit:
        uses: ./.github/workflows/s.yml
        secrets: inherit
    "#, &["--secret", "MY_TOKEN=tok-Qv81x", "--secret", "OTHER=oth-Lm27y", "--secret", "token=inh-Pz33w"]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let named = r.output_lines("named/show");
        assert!(named.contains(&"token=***".to_string()), "{named:?}");
        assert!(named.contains(&"other=".to_string()), "only passed secrets are seen: {named:?}");
        let inherited = r.output_lines("inherit/show");
        assert!(inherited.contains(&"token=***".to_string()), "{inherited:?}");
        assert!(inherited.contains(&"other=***".to_string()), "inherit passes every secret: {inherited:?}");
        let all = format!("{}{}{}", r.stdout, r.stderr, read_tree(&r.dir.path().join(".pipe")));
        for s in ["tok-Qv81x", "oth-Lm27y", "inh-Pz33w"] {
            assert!(!all.contains(s), "`{s}` leaked");
        }
    }

    fn each_matrix_leg_of_the_caller_calls_with_its_values(exec) {
        let r = run_with(exec, &[(".github/workflows/build.yml", BUILD)], r#"
    on: push
    jobs:
      call:
        strategy:
          matrix:
            flavour: [slim, full]
        uses: ./.github/workflows/build.yml
        with:
          version: ${{ matrix.flavour }}
          count: ${{ strategy.job-index }}
    "#, &[]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let mut legs: Vec<(String, String)> = finished(&r, "call/build")
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_string(), e["outputs"]["image"].as_str().unwrap().to_string()))
            .collect();
        legs.sort();
        assert_eq!(legs, [
            ("call (full) / build".to_string(), "app:full-1".to_string()),
            ("call (slim) / build".to_string(), "app:slim-0".to_string()),
        ]);
        let callers: Vec<&Json> = finished(&r, "call");
        assert_eq!(callers.len(), 2);
        assert!(callers.iter().all(|e| e["result"] == "success" && e["matrix"].is_object()));
        // The run record keeps each leg's called jobs apart, under `caller / called` names.
        let runs = std::fs::read_dir(r.dir.path().join(".pipe/runs")).unwrap().next().unwrap().unwrap().path();
        let record: Json = serde_json::from_str(&std::fs::read_to_string(runs.join("run.json")).unwrap()).unwrap();
        let mut names: Vec<&str> = record["jobs"].as_object().unwrap().values()
            .filter(|j| j["job"] == "call/build").map(|j| j["name"].as_str().unwrap()).collect();
        names.sort_unstable();
        assert_eq!(names, ["call (full) / build", "call (slim) / build"]);
    }

    fn a_called_workflow_may_call_another(exec) {
        let inner = r#"
    on:
      workflow_call:
        inputs:
          who: {type: string, required: true}
        outputs:
          said:
            value: ${{ jobs.say.outputs.said }}
    jobs:
      say:
        runs-on: x
        outputs:
          said: ${{ steps.s.outputs.said }}
        steps:
          - id: s
            run: echo "said=hello ${{ inputs.who }}" >> "$GITHUB_OUTPUT"
    "#;
        let outer = r#"
    on:
      workflow_call:
        outputs:
          said:
            value: ${{ jobs.inner.outputs.said }}
    jobs:
      inner:
        uses: ./.github/workflows/inner.yml
        with:
          who: nested
    "#;
        let r = run_with(exec, &[(".github/workflows/inner.yml", inner), (".github/workflows/outer.yml", outer)], r#"
    on: push
    jobs:
      top:
        uses: ./.github/workflows/outer.yml
      check:
        needs: top
        runs-on: x
        steps:
          - run: test "${{ needs.top.outputs.said }}" = "hello nested"
    "#, &[]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(r.job("top/inner/say")["name"], "top / inner / say");
        assert_eq!(r.job("top/inner")["outputs"]["said"], "hello nested");
        assert_eq!(r.job("top")["outputs"]["said"], "hello nested");
        assert_eq!(r.job("check")["result"], "success");
    }

    fn a_failing_called_job_fails_the_caller_and_skips_its_dependents(exec) {
        let called = r#"
    on: workflow_call
    jobs:
      boom:
        runs-on: x
        steps:
          - run: exit 3
      later:
        needs: boom
        runs-on: x
        steps:
          - run: echo never
    "#;
        let r = run_with(exec, &[(".github/workflows/f.yml", called)], r#"
    on: push
    jobs:
      call:
        uses: ./.github/workflows/f.yml
      deploy:
        needs: call
        runs-on: x
        steps:
          - run: echo deploying
      cleanup:
        needs: call
        if: always()
        runs-on: x
        steps:
          - run: echo "call was ${{ needs.call.result }}"
    "#, &[]);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(r.job("call/boom")["result"], "failure");
        assert_eq!(r.job("call/later")["result"], "skipped");
        assert_eq!(r.job("call")["result"], "failure");
        assert_eq!(r.job("deploy")["result"], "skipped");
        assert!(r.output_lines("cleanup").contains(&"call was failure".to_string()));
        assert_eq!(r.of("run_finished")[0]["result"], "failure");
    }

    fn the_callers_if_skips_the_whole_call(exec) {
        let r = run_with(exec, &[(".github/workflows/build.yml", BUILD)], r#"
    on: push
    jobs:
      call:
        if: github.ref == 'refs/heads/release'
        uses: ./.github/workflows/build.yml
        with:
          version: "1"
    "#, &[]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(r.job("call")["result"], "skipped");
        assert!(r.of("job_started").is_empty(), "nothing runs");
    }
}

#[test]
fn a_wrong_input_at_run_time_fails_the_caller_with_the_reason() {
    let r = run_with(
        Exec::Host,
        &[(".github/workflows/build.yml", BUILD)],
        r#"
    on: push
    jobs:
      call:
        uses: ./.github/workflows/build.yml
        with:
          version: "1"
          count: ${{ github.ref }}
    "#,
        &[],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.job("call")["result"], "failure");
    let notes: Vec<&str> = r.of("annotation").iter().filter_map(|e| e["message"].as_str()).collect();
    assert!(
        notes.iter().any(|m| m.contains("input `count`: `refs/heads/main` (a string) is not a number")),
        "{notes:?}"
    );
    assert!(r.of("job_started").is_empty());
}

/// `n` workflows calling each other in a line: w1 → w2 → … → wn.
fn chain(n: usize) -> Vec<(String, String)> {
    (1..=n)
        .map(|i| {
            let body = if i == n {
                "jobs:\n  last:\n    runs-on: x\n    steps: [{run: echo end}]\n".to_string()
            } else {
                format!("jobs:\n  next:\n    uses: ./.github/workflows/w{}.yml\n", i + 1)
            };
            (format!(".github/workflows/w{i}.yml"), format!("on: workflow_call\n{body}"))
        })
        .collect()
}

fn plan_in(files: &[(String, String)], top: &str, args: &[&str]) -> std::process::Output {
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let dir = dir_with(&refs);
    std::fs::write(dir.path().join("p.yml"), top).unwrap();
    Command::new(pipe_bin()).args(args).current_dir(dir.path()).env("NO_COLOR", "1").output().unwrap()
}

const TOP: &str = "on: push\njobs:\n  start:\n    uses: ./.github/workflows/w1.yml\n";

#[test]
fn nesting_within_the_limit_runs_and_deeper_is_refused() {
    // The top workflow and nine called ones: GitHub's limit of ten levels.
    let out = plan_in(&chain(9), TOP, &["run", "p.yml", "--executor", "host", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"job\":\"start/next/next/next/next/next/next/next/next/last\""), "{stdout}");

    let out = plan_in(&chain(10), TOP, &["run", "p.yml", "--executor", "host"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("reusable workflows nest deeper than 10 levels: p.yml → .github/workflows/w1.yml"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: GitHub connects at most 10 levels"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing ran: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_loop_of_calls_is_refused_before_anything_runs() {
    let files = vec![
        (
            ".github/workflows/a.yml".to_string(),
            "on: workflow_call\njobs:\n  b:\n    uses: ./.github/workflows/b.yml\n".to_string(),
        ),
        (
            ".github/workflows/b.yml".to_string(),
            "on: workflow_call\njobs:\n  a:\n    uses: ./.github/workflows/a.yml\n".to_string(),
        ),
    ];
    let top = "on: push\njobs:\n  go:\n    uses: ./.github/workflows/a.yml\n";
    for args in [&["run", "p.yml", "--executor", "host"][..], &["plan", "p.yml"]] {
        let cmd = args[0];
        let out = plan_in(&files, top, args);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(
            "job `a`: reusable workflows call each other in a loop: .github/workflows/a.yml → .github/workflows/b.yml → .github/workflows/a.yml"
        ), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing ran: {}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn a_remote_call_says_what_is_missing() {
    let cache = tempfile::tempdir().unwrap();
    let cache = cache.path().to_str().unwrap();
    let yaml = "on: push\njobs:\n  call:\n    uses: octo/tools/.github/workflows/ci.yml@v2\n";
    // Planning never fetches: the call is listed as not cached.
    Test::new()
        .write("p.yml", yaml)
        .env("XDG_CACHE_HOME", cache)
        .args(&["plan", "p.yml"])
        .status(0)
        .stdout_contains("calls: octo/tools/.github/workflows/ci.yml@v2 (0 job(s), not cached")
        .run();
    Test::new()
        .write("p.yml", yaml)
        .env("XDG_CACHE_HOME", cache)
        .args(&["run", "p.yml", "--executor", "host", "--offline"])
        .status(2)
        .stderr_contains(
            "job `call`: reusable workflow `octo/tools/.github/workflows/ci.yml@v2`: not in the action cache",
        )
        .stderr_contains("hint: run once without --offline")
        .run();
}

#[test]
fn plan_shows_called_jobs_as_caller_slash_called_in_every_format() {
    let dir = dir_with(&[(".github/workflows/build.yml", BUILD)]);
    let top = "on: push\njobs:\n  call:\n    uses: ./.github/workflows/build.yml\n    with: {version: '1'}\n  after:\n    needs: call\n    runs-on: ubuntu-latest\n    steps: [{run: echo}]\n";
    std::fs::write(dir.path().join("p.yml"), top).unwrap();
    let plan = |format: &str| {
        let out = Command::new(pipe_bin())
            .args(["plan", "p.yml", "--format", format])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let json: Json = serde_json::from_str(&plan("json")).unwrap();
    let call = &json["jobs"][0];
    assert_eq!(call["id"], "call");
    assert_eq!(call["executor"], "none");
    assert_eq!(call["call"]["uses"], "./.github/workflows/build.yml");
    assert_eq!(call["call"]["path"], ".github/workflows/build.yml");
    assert_eq!(call["call"]["jobs"][0]["id"], "call/build");
    assert_eq!(call["call"]["jobs"][0]["name"], "call / build");
    assert_eq!(call["call"]["jobs"][0]["runs_on"][0], "x");
    assert_eq!(json["jobs"][1]["needs"][0], "call");

    let text = plan("text");
    assert!(text.contains("  call\n    calls: ./.github/workflows/build.yml (1 job(s))\n\n    call/build (call / build)\n      runs: docker\n"), "{text}");
    let mermaid = plan("mermaid");
    assert!(mermaid.contains("j1[\"call / build\"]") && mermaid.contains("j0 --> j1"), "{mermaid}");
    let dot = plan("dot");
    assert!(
        dot.contains("\"call/build\" [label=\"call / build\"];")
            && dot.contains("\"call\" -> \"call/build\";"),
        "{dot}"
    );
}

#[test]
fn valid_calls_validate_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reusable");
    let out = Command::new(pipe_bin())
        .args(["validate", "."])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("2 file(s) checked: no problems"), "{stdout}");
}

fn pipe_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(pipe_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PIPE_STATE_DIR")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn run_events(dir: &Path) -> Vec<Json> {
    let run = std::fs::read_dir(dir.join(".pipe/runs")).unwrap().flatten().next().unwrap().path();
    crate::test::stored_events(&run)
}

#[test]
fn a_gate_inside_a_called_workflow_waits_and_resume_finishes_the_call() {
    let called = "on:\n  workflow_call:\n    outputs:\n      where:\n        value: ${{ jobs.deploy.outputs.where }}\njobs:\n  build:\n    runs-on: x\n    steps: [{run: echo building}]\n  deploy:\n    needs: build\n    environment: production\n    runs-on: x\n    outputs:\n      where: ${{ steps.d.outputs.where }}\n    steps:\n      - id: d\n        run: echo \"where=prod\" >> \"$GITHUB_OUTPUT\"\n";
    let dir = dir_with(&[(".github/workflows/release.yml", called)]);
    let top = "on: push\njobs:\n  release:\n    uses: ./.github/workflows/release.yml\n  announce:\n    needs: release\n    runs-on: x\n    steps:\n      - run: echo \"released to ${{ needs.release.outputs.where }}\"\n";
    std::fs::write(dir.path().join("p.yml"), top).unwrap();
    let first = pipe_in(dir.path(), &["run", "p.yml", "--executor", "host", "--output", "json"]);
    assert_eq!(first.status.code(), Some(3), "{}", String::from_utf8_lossy(&first.stderr));
    let ev = run_events(dir.path());
    let count = |ev: &[Json], kind: &str, job: &str| {
        ev.iter().filter(|e| e["event"] == kind && e["job"] == job).count()
    };
    assert_eq!(count(&ev, "gate_waiting", "release/deploy"), 1);
    assert_eq!(count(&ev, "job_finished", "release/build"), 1);
    assert_eq!(count(&ev, "job_finished", "release"), 0, "the caller waits too");
    assert_eq!(count(&ev, "job_started", "announce"), 0);

    let ok = pipe_in(dir.path(), &["approve", "last", "--env", "production", "--as", "alice"]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    let resumed = pipe_in(dir.path(), &["resume", "last", "--output", "json"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", String::from_utf8_lossy(&resumed.stderr));
    let ev = run_events(dir.path());
    assert_eq!(count(&ev, "job_started", "release/build"), 1, "the finished called job was not re-run");
    assert_eq!(count(&ev, "job_finished", "release/deploy"), 1);
    let lines: Vec<&str> = ev
        .iter()
        .filter(|e| e["event"] == "step_output" && e["job"] == "announce")
        .filter_map(|e| e["line"].as_str())
        .collect();
    assert!(lines.contains(&"released to prod"), "{lines:?}");
}
