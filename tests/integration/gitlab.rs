//! GitLab CI files: one invalid fixture per GitLab rule (exact line:col, full output snapshot),
//! detection, and `pipe plan` (stages as needs, rules for the event and ref, manual jobs, the
//! example showing the same DAG and gates as its GitHub twin).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use crate::test::{Test, pipe_bin};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gitlab")
}

fn pipe_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out =
        Command::new(pipe_bin()).args(args).current_dir(dir).env("NO_COLOR", "1").output().expect("run pipe");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Each fixture reports its rule at the expected line:col (of the file it includes, for
/// `# expect: FILE:L:C rule`), exits 1, and renders exactly as its snapshot (`PIPE_BLESS=1`
/// rewrites them).
#[test]
fn every_gitlab_fixture_reports_its_rule_at_its_position() {
    let dir = fixtures();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".gitlab-ci.yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "fixtures missing");
    let bless = std::env::var_os("PIPE_BLESS").is_some();
    let mut failures = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let expect =
            text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).expect("`# expect: L:C rule`");
        let mut words = expect.split(' ');
        let (pos, rule) = (words.next().unwrap(), words.next().expect("a rule"));
        let (code, stdout, stderr) = pipe_in(&dir, &["validate", &name]);
        if code != 1 {
            failures.push(format!("{name}: exit {code}, stderr {stderr}"));
        }
        // `L:C` in the fixture itself, `FILE:L:C` in a file it includes.
        let header = if pos.matches(':').count() == 2 {
            format!("{pos}: error: ")
        } else {
            format!("{name}:{pos}: error: ")
        };
        if !stdout.lines().any(|l| l.starts_with(&header) && l.ends_with(&format!("[{rule}]"))) {
            failures.push(format!("{name}: no `{header}... [{rule}]` line in:\n{stdout}"));
        }
        let snapshot = dir.join(name.replace(".gitlab-ci.yml", ".txt"));
        if bless {
            std::fs::write(&snapshot, &stdout).unwrap();
        } else if std::fs::read_to_string(&snapshot).ok().as_deref() != Some(stdout.as_str()) {
            failures.push(format!("{name}: output differs from {}:\n{stdout}", snapshot.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

const VALID: &str = r#"
stages: [build, test, deploy]
variables:
  APP: demo
.defaults: &defaults
  tags: [linux]
.script:
  script: [echo shared]
build:
  <<: *defaults
  stage: build
  script:
    - !reference [.script, script]
    - echo "$APP"
include:
  - local: ci/extra.yml
"#;

#[test]
fn merge_keys_references_and_local_includes_are_valid_gitlab() {
    Test::new()
        .write(".gitlab-ci.yml", VALID)
        .write("ci/extra.yml", "extra:\n  stage: test\n  script: [echo extra]\n")
        .args(&["validate"])
        .stdout("1 file(s) checked: no problems\n")
        .run();
}

#[test]
fn an_error_in_an_included_file_names_that_file() {
    Test::new()
        .write(".gitlab-ci.yml", "include: ci/extra.yml\nbuild:\n  script: make\n")
        .write("ci/extra.yml", "stages: {a: 1}\n")
        .args(&["validate", ".gitlab-ci.yml"])
        .status(1)
        .stdout_contains("ci/extra.yml:1:9: error: expected a sequence, found a mapping [wrong-type]")
        .run();
    // Machine formats name the included file too; `pipe plan` refuses with the same position.
    let (_, dir) = Test::new()
        .write(".gitlab-ci.yml", "include: ci/extra.yml\nbuild:\n  script: make\n")
        .write(
            "ci/extra.yml",
            "# the deploy job\ndeploy:\n  stage: deploy\n  needs: [biuld]\n  script: make\n",
        )
        .args(&["validate", ".gitlab-ci.yml", "--format", "json"])
        .status(1)
        .run();
    let (code, stdout, _) = pipe_in(dir.path(), &["validate", ".gitlab-ci.yml", "--format", "json"]);
    assert_eq!(code, 1);
    let v: Json = serde_json::from_str(&stdout).unwrap();
    let d = &v["files"][0]["diagnostics"][0];
    assert_eq!(
        (d["path"].as_str(), d["line"].as_u64(), d["column"].as_u64(), d["rule"].as_str()),
        (Some("ci/extra.yml"), Some(4), Some(11), Some("needs-unknown")),
        "{stdout}"
    );
    let (code, _, stderr) = pipe_in(dir.path(), &["plan", ".gitlab-ci.yml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("ci/extra.yml:4:11: error: job `deploy` needs `biuld`"), "{stderr}");
}

#[test]
fn the_github_front_end_still_rejects_merge_keys() {
    Test::new()
        .write("p.yml", "on: push\n.x: &x {runs-on: a}\njobs:\n  a:\n    <<: *x\n    steps: [{run: x}]\n")
        .args(&["validate", "p.yml"])
        .status(1)
        .stdout_contains("p.yml:5:5: error: GitHub does not support YAML merge keys (`<<`) [merge-key]")
        .run();
}

fn plan_json(dir: &Path, file: &str, extra: &[&str]) -> Json {
    let mut args =
        vec!["plan", file, "--format", "json", "--sha", "0123456789abcdef0123456789abcdef01234567"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = pipe_in(dir, &args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn needs_of(plan: &Json) -> Vec<(String, Vec<String>)> {
    plan["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            let needs =
                j["needs"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect();
            (j["id"].as_str().unwrap().to_string(), needs)
        })
        .collect()
}

const STAGES: &str = r#"
stages: [build, test, deploy]
build:
  stage: build
  script: [make]
unit:
  stage: test
  script: [make test]
lint:
  stage: test
  needs: []
  script: [make lint]
deploy:
  stage: deploy
  script: [make deploy]
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
    - if: $CI_COMMIT_TAG =~ /^v\d+/
docs:
  stage: deploy
  script: [make docs]
  when: manual
report:
  stage: .post
  script: [echo done]
  when: always
"#;

#[test]
fn stages_become_needs_and_needs_make_a_dag_job() {
    let t = Test::new().write(".gitlab-ci.yml", STAGES);
    let plan = plan_json(t.path(), ".gitlab-ci.yml", &["--ref", "main"]);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        needs_of(&plan),
        vec![
            ("build".into(), s(&[])),
            ("unit".into(), s(&["build"])),
            ("lint".into(), s(&[])),
            ("deploy".into(), s(&["build", "unit", "lint"])),
            ("docs".into(), s(&["build", "unit", "lint"])),
            // The manual job may fail (GitLab's default), so it does not hold back later stages.
            ("report".into(), s(&["build", "unit", "lint", "deploy"])),
        ]
    );
    let report = plan["jobs"].as_array().unwrap().iter().find(|j| j["id"] == "report").unwrap();
    assert_eq!(report["condition"], "${{ always() }}");
    let docs = plan["jobs"].as_array().unwrap().iter().find(|j| j["id"] == "docs").unwrap();
    assert_eq!(docs["manual"], "pipe run .gitlab-ci.yml --job docs");
}

/// GitLab drops an optional need on a job no file defines; a plain need on it stays an error.
#[test]
fn an_optional_need_on_an_undefined_job_is_dropped() {
    let file = "build:\n  script: [make]\ntest:\n  script: [make test]\n  needs:\n    - build\n    - job: hello\n      optional: true\n";
    let t = Test::new().write(".gitlab-ci.yml", file);
    let plan = plan_json(t.path(), ".gitlab-ci.yml", &["--ref", "main"]);
    assert_eq!(needs_of(&plan), vec![("build".into(), vec![]), ("test".into(), vec!["build".to_string()])]);
    let t = Test::new().write(".gitlab-ci.yml", file.replace("\n      optional: true", ""));
    let (code, stdout, stderr) = pipe_in(t.path(), &["validate", ".gitlab-ci.yml"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains(".gitlab-ci.yml:7:12: error:") && stdout.contains("[needs-unknown]"), "{stdout}");
}

#[test]
fn rules_are_decided_for_the_event_and_ref() {
    let t = Test::new().write(".gitlab-ci.yml", STAGES);
    let on_dev = plan_json(t.path(), ".gitlab-ci.yml", &["--ref", "dev"]);
    assert_eq!(on_dev["excluded"][0]["job"], "deploy", "{on_dev:#}");
    assert!(needs_of(&on_dev).iter().all(|(id, _)| id != "deploy"));
    let on_tag = plan_json(t.path(), ".gitlab-ci.yml", &["--ref", "refs/tags/v1.2"]);
    assert!(needs_of(&on_tag).iter().any(|(id, _)| id == "deploy"));
    let on_tag_text = pipe_in(t.path(), &["plan", ".gitlab-ci.yml", "--ref", "refs/tags/x1"]).1;
    assert!(
        on_tag_text.contains("not in this pipeline: deploy (no rule adds it to this pipeline)"),
        "{on_tag_text}"
    );
    assert!(
        on_tag_text.contains("manual: not run (run it with `pipe run .gitlab-ci.yml --job docs`)"),
        "{on_tag_text}"
    );
    // --var sets a pipeline variable that rules see; --event maps to CI_PIPELINE_SOURCE.
    let gated =
        "job:\n  script: [x]\n  rules:\n    - if: $FORCE == \"yes\" || $CI_PIPELINE_SOURCE == \"schedule\"\n";
    let t = Test::new().write(".gitlab-ci.yml", gated);
    assert_eq!(plan_json(t.path(), ".gitlab-ci.yml", &[])["jobs"].as_array().unwrap().len(), 0);
    assert_eq!(plan_json(t.path(), ".gitlab-ci.yml", &["--var", "FORCE=yes"])["jobs"][0]["id"], "job");
    assert_eq!(plan_json(t.path(), ".gitlab-ci.yml", &["--event", "schedule"])["jobs"][0]["id"], "job");
}

#[test]
fn workflow_rules_decide_whether_there_is_a_pipeline() {
    let yaml = "workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\njob:\n  script: [x]\n";
    let t = Test::new().write(".gitlab-ci.yml", yaml);
    assert_eq!(plan_json(t.path(), ".gitlab-ci.yml", &["--ref", "main"])["triggered"], true);
    let dev = plan_json(t.path(), ".gitlab-ci.yml", &["--ref", "dev"]);
    assert_eq!(dev["triggered"], false);
    assert_eq!(dev["not_triggered_reason"], "workflow:rules: no rule matches this pipeline");
}

#[test]
fn only_and_except_refs() {
    let yaml = "a:\n  script: [x]\n  only: [main, /^release-/]\nb:\n  script: [x]\n  except: [tags]\nc:\n  script: [x]\n  only: [merge_requests]\n";
    let t = Test::new().write(".gitlab-ci.yml", yaml);
    let ids = |p: &Json| needs_of(p).into_iter().map(|(i, _)| i).collect::<Vec<_>>();
    assert_eq!(ids(&plan_json(t.path(), ".gitlab-ci.yml", &["--ref", "main"])), ["a", "b"]);
    assert_eq!(ids(&plan_json(t.path(), ".gitlab-ci.yml", &["--ref", "release-2"])), ["a", "b"]);
    assert_eq!(ids(&plan_json(t.path(), ".gitlab-ci.yml", &["--ref", "refs/tags/v1"])), Vec::<String>::new());
    assert_eq!(
        ids(&plan_json(t.path(), ".gitlab-ci.yml", &["--event", "pull_request", "--ref", "feature"])),
        ["c"]
    );
}

#[test]
fn a_file_shaped_like_gitlab_is_read_as_gitlab() {
    Test::new()
        .write("ci.yml", "stages: [a]\njob:\n  stage: a\n  script: [x]\n")
        .args(&["validate", "ci.yml"])
        .stdout("1 file(s) checked: no problems\n")
        .run();
    Test::new()
        .write("ci.yml", "job:\n  stage: a\n  script: [x]\n")
        .args(&["validate", "ci.yml", "--syntax", "github"])
        .status(1)
        .stdout_contains("[missing-key]")
        .run();
}

/// The GitLab example and its GitHub twin plan the same DAG and the same gates.
#[test]
fn both_example_files_plan_the_same_dag_and_gates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for mode in ["delivery", "deployment"] {
        let github = plan_json(root, "pipelines/cd-starter.yml", &["--ref", "main", "--mode", mode]);
        let gitlab =
            plan_json(root, "pipelines/cd-starter.gitlab-ci.yml", &["--ref", "main", "--mode", mode]);
        let shape = |p: &Json| -> Vec<(Json, Json, Json, Json)> {
            p["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| (j["id"].clone(), j["needs"].clone(), j["environment"].clone(), j["gate"].clone()))
                .collect()
        };
        assert_eq!(shape(&github), shape(&gitlab), "mode {mode}");
        let prod =
            gitlab["jobs"].as_array().unwrap().iter().find(|j| j["id"] == "deploy-production").unwrap();
        assert_eq!(prod["environment"], "production");
    }
}
