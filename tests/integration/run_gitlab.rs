//! `pipe run` of GitLab CI files: stages versus needs, after_script after a failure, artifacts
//! and dotenv reports, extends and !reference, parallel: matrix, allow_failure, retry,
//! resource_group, manual jobs and manual gates (approve, reject, resume). Asserted on the JSON
//! events, the exit code and the output; container-relevant ones run on both backends.

use serde_json::Value as Json;

use crate::lab_fixture::{Lab, Leftovers, STAGING_TOKEN};
use crate::run_host::{Exec, Ran, TEST_IMAGE, run_pipeline};
use crate::test::{all_output as text, all_output as text_of, pipe_in as pipe};

fn gitlab(exec: Exec, yaml: &str, extra: &[&str]) -> Ran {
    let mapping = format!("gitlab-default={TEST_IMAGE}");
    let mut args = vec!["--syntax", "gitlab", "-P", mapping.as_str()];
    args.extend_from_slice(extra);
    run_pipeline(exec, yaml, &args)
}

/// Index of the first event matching `kind` and `job`.
fn at(r: &Ran, kind: &str, job: &str) -> usize {
    r.events
        .iter()
        .position(|e| e["event"] == kind && e["job"] == job)
        .unwrap_or_else(|| panic!("no {kind} for {job}:\n{}\n{}", r.stdout, r.stderr))
}

fn ok(r: &Ran) {
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

both_backends! {
    fn allow_failure_and_exit_codes(exec) {
        // The exit code comes from the shell of the job's container or process.
        let yaml = r#"
flaky:
  stage: build
  allow_failure: true
  script: [exit 1]
tolerated:
  stage: build
  allow_failure:
    exit_codes: [3, 4]
  script: [exit 3]
next:
  stage: test
  script: [echo next]
"#;
        let r = gitlab(exec, yaml, &[]);
        ok(&r);
        assert_eq!(r.job("next")["result"], "success");
        let r = gitlab(exec, &yaml.replace("[exit 3]", "[exit 5]"), &[]);
        assert_eq!(r.code, 1);
        assert_eq!(r.job("tolerated")["result"], "failure");
        assert_eq!(r.job("next")["result"], "skipped");
    }

    fn a_stage_waits_for_the_earlier_stage_and_needs_do_not(exec) {
        let r = gitlab(exec, r#"
stages: [build, test]
build:
  stage: build
  script: [sleep 3, echo built]
unit:
  stage: test
  script: [echo unit]
lint:
  stage: test
  needs: []
  script: [echo lint]
"#, &[]);
        ok(&r);
        assert!(at(&r, "job_started", "unit") > at(&r, "job_finished", "build"));
        assert!(at(&r, "job_finished", "lint") < at(&r, "job_finished", "build"), "lint does not wait for build");
        // Each command is echoed as GitLab's log shows it.
        assert!(r.output_lines("lint").contains(&"$ echo lint".to_string()));
    }

    fn after_script_runs_after_a_failed_script(exec) {
        let r = gitlab(exec, r#"
job:
  before_script: [echo before]
  script: [echo main, exit 3, echo never]
  after_script: ['echo "after: $CI_JOB_STATUS"']
later:
  stage: deploy
  script: [echo later]
"#, &[]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_eq!(r.job("job")["result"], "failure");
        let lines = r.output_lines("job");
        assert!(lines.contains(&"after: failed".to_string()), "{lines:?}");
        assert!(!lines.contains(&"never".to_string()));
        assert_eq!(r.job("later")["result"], "skipped");
    }

    fn artifacts_and_dotenv_reach_later_jobs(exec) {
        let r = gitlab(exec, r#"
build:
  stage: build
  script:
    - mkdir -p out/deep && echo payload > out/deep/file.txt && echo skip > out/skip.log
    - echo "VERSION=1.$CI_COMMIT_SHORT_SHA" > build.env
  artifacts:
    paths: [out/]
    exclude: ["out/*.log"]
    reports:
      dotenv: build.env
test:
  stage: test
  script:
    - test "$(cat out/deep/file.txt)" = payload
    - test ! -e out/skip.log
    - echo "version $VERSION"
no-artifacts:
  stage: test
  dependencies: []
  script: [test ! -e out/deep/file.txt, 'test -z "$VERSION"']
"#, &[]);
        ok(&r);
        assert!(r.output_lines("test").contains(&"version 1.01234567".to_string()), "{:?}", r.output_lines("test"));
        assert_eq!(r.job("no-artifacts")["result"], "success");
    }

    fn services_and_images_are_the_jobs_containers(exec) {
        // On the host, image: is not used; in Docker the job runs in it.
        let r = gitlab(exec, &format!(r#"
job:
  image: {TEST_IMAGE}
  variables:
    GREETING: hello
  script: ['echo "$GREETING from $CI_JOB_NAME in $CI_JOB_STAGE"']
"#), &[]);
        ok(&r);
        assert!(r.output_lines("job").contains(&"hello from job in test".to_string()));
        let started = &r.of("job_started")[0];
        if exec == Exec::Docker {
            assert_eq!(started["image"], TEST_IMAGE);
        }
    }
fn variables_extends_and_references(exec) {
    let r = gitlab(
        exec,
        r#"
variables:
  BASE: base
  DERIVED: ${BASE}-derived
  LITERAL:
    value: "$BASE"
    expand: false
  ESCAPED: $$BASE
.common:
  variables:
    FROM_TEMPLATE: t
  before_script: [echo common-before]
.tools:
  script: [echo tool-one, echo tool-two]
job:
  extends: .common
  variables:
    OWN: own
  script:
    - !reference [.tools, script]
    - echo "$DERIVED $LITERAL $FROM_TEMPLATE $OWN $ESCAPED"
"#,
        &[],
    );
    ok(&r);
    let lines = r.output_lines("job");
    for want in ["common-before", "tool-one", "tool-two", "base-derived $BASE t own $BASE"] {
        assert!(lines.contains(&want.to_string()), "{want}: {lines:?}");
    }
}

fn parallel_matrix_runs_one_job_per_combination(exec) {
    let r = gitlab(
        exec,
        r#"
test:
  parallel:
    matrix:
      - OS: [linux, mac]
        ARCH: [amd64, arm64]
      - OS: windows
  script: ['echo "on $OS/$ARCH"']
shard:
  parallel: 2
  script: ['echo "shard $CI_NODE_INDEX of $CI_NODE_TOTAL"']
"#,
        &[],
    );
    ok(&r);
    let legs: Vec<&Json> = r.of("job_finished").into_iter().filter(|e| e["job"] == "test").collect();
    assert_eq!(legs.len(), 5);
    let lines = r.output_lines("test");
    for want in ["on linux/amd64", "on linux/arm64", "on mac/amd64", "on mac/arm64", "on windows/"] {
        assert!(lines.contains(&want.to_string()), "{want}: {lines:?}");
    }
    let shards = r.output_lines("shard");
    assert!(shards.contains(&"shard 1 of 2".to_string()) && shards.contains(&"shard 2 of 2".to_string()));
}

    fn a_retried_job_runs_its_attempts_then_fails(exec) {
        let r = gitlab(exec, "bad:\n  retry: 1\n  script: [exit 1]\n", &[]);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(r.of("job_started").len(), 2);
        assert_eq!(r.job("bad")["result"], "failure");
    }

    fn a_resource_group_runs_its_jobs_one_after_the_other(exec) {
        let job = |name: &str| format!("{name}:\n  resource_group: production\n  script: [sleep 1]\n");
        let r = gitlab(exec, &format!("{}{}", job("a"), job("b")), &[]);
        ok(&r);
        let (a0, a1) = (at(&r, "job_started", "a"), at(&r, "job_finished", "a"));
        let (b0, b1) = (at(&r, "job_started", "b"), at(&r, "job_finished", "b"));
        assert!(a1 < b0 || b1 < a0, "the two jobs overlap:\n{}", r.stdout);
    }

    fn a_manual_gate_is_approved_or_rejected_then_resumed(exec) {
        let mapping = format!("gitlab-default={TEST_IMAGE}");
        let mut run: Vec<String> = RUN.iter().filter(|a| **a != "--executor" && **a != "host").map(|a| a.to_string()).collect();
        run.extend(exec.args());
        run.extend(["-P".to_string(), mapping]);
        let run: Vec<&str> = run.iter().map(String::as_str).collect();
        for (answer, code, deployed) in [("approve", 0, true), ("reject", 1, false)] {
            let dir = gated_dir();
            let first = pipe(dir.path(), &run);
            assert_eq!(first.status.code(), Some(3), "{}", text(&first));
            assert!(text(&first).contains("staging gets 7"), "{}", text(&first));
            assert!(!text(&first).contains("production gets"));
            let decided = pipe(dir.path(), &[answer, "last", "--as", "alice"]);
            assert_eq!(decided.status.code(), Some(0), "{}", text(&decided));
            let resumed = pipe(dir.path(), &["resume", "last"]);
            assert_eq!(resumed.status.code(), Some(code), "{}", text(&resumed));
            assert_eq!(text(&resumed).contains("production gets 7"), deployed, "{}", text(&resumed));
            assert!(!text(&resumed).contains("staging gets"), "finished jobs are not run again");
        }
    }

}

#[test]
fn retry_runs_a_failed_job_again() {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("attempts");
    let yaml = format!(
        "flaky:\n  retry: 2\n  script:\n    - echo x >> {c}\n    - test \"$(wc -l < {c})\" -ge 2\n",
        c = counter.display()
    );
    let r = gitlab(Exec::Host, &yaml, &[]);
    ok(&r);
    assert_eq!(r.of("job_started").len(), 2);
    assert_eq!(std::fs::read_to_string(&counter).unwrap().lines().count(), 2);
    let never = gitlab(Exec::Host, "bad:\n  retry: 1\n  script: [exit 1]\n", &[]);
    assert_eq!(never.code, 1);
    assert_eq!(never.of("job_started").len(), 2);
}

#[test]
fn a_retry_after_a_timeout_gets_a_timeout_of_its_own() {
    // The first attempt sleeps past its 2 s timeout; the second finishes at once: each attempt's
    // timer starts anew.
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("attempts");
    let yaml = format!(
        "slow-once:\n  retry: 1\n  timeout: 2 seconds\n  script:\n    - echo x >> {c}\n    - if [ \"$(wc -l < {c})\" -lt 2 ]; then sleep 30; fi\n",
        c = counter.display()
    );
    let started = std::time::Instant::now();
    let r = gitlab(Exec::Host, &yaml, &[]);
    ok(&r);
    assert_eq!(r.of("job_started").len(), 2);
    assert_eq!(std::fs::read_to_string(&counter).unwrap().lines().count(), 2);
    assert!(r.events.iter().any(|e| e["event"] == "annotation"
        && e["message"].as_str().is_some_and(|m| m.contains("exceeded its timeout"))));
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
}

#[test]
fn a_resource_group_runs_one_job_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let job = |name: &str| {
        format!(
            "{name}:\n  resource_group: production\n  script:\n    - echo start $CI_JOB_NAME >> {l}\n    - sleep 2\n    - echo end $CI_JOB_NAME >> {l}\n",
            l = log.display()
        )
    };
    let r = gitlab(Exec::Host, &format!("{}{}", job("a"), job("b")), &[]);
    ok(&r);
    let lines: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(String::from).collect();
    let first = lines[0].trim_start_matches("start ").to_string();
    let second = if first == "a" { "b" } else { "a" };
    assert_eq!(
        lines,
        [
            format!("start {first}"),
            format!("end {first}"),
            format!("start {second}"),
            format!("end {second}")
        ]
    );
}

#[test]
fn a_manual_job_is_not_run_and_says_how_to_run_it() {
    let yaml = "build:\n  script: [echo build]\ncleanup:\n  script: [echo cleaned]\n  when: manual\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitlab-ci.yml"), yaml).unwrap();
    let out = pipe(dir.path(), &["run", ".gitlab-ci.yml", "--executor", "host"]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "cleanup  manual            -  not run (run it with `pipe run .gitlab-ci.yml --job cleanup`)"
        ),
        "{text}"
    );
    assert!(!text.contains("cleaned"));
    let out = pipe(dir.path(), &["run", ".gitlab-ci.yml", "--executor", "host", "--job", "cleanup"]);
    assert!(text_of(&out).contains("cleaned"), "{}", text_of(&out));
}

const GATED: &str = r#"
stages: [build, staging, production]
build:
  stage: build
  script: [echo "VERSION=7" > build.env]
  artifacts:
    reports:
      dotenv: build.env
staging:
  stage: staging
  environment: staging
  script: [echo "staging gets $VERSION"]
production:
  stage: production
  environment:
    name: production
    url: https://prod.example
  when: manual
  allow_failure: false
  script: [echo "production gets $VERSION"]
"#;

fn gated_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitlab-ci.yml"), GATED).unwrap();
    std::fs::write(dir.path().join("pipe.toml"), "[environments.staging]\napproval = false\n").unwrap();
    dir
}

const RUN: &[&str] = &["run", ".gitlab-ci.yml", "--executor", "host", "--ref", "main"];

#[test]
fn a_manual_deploy_waits_then_approve_and_resume() {
    let dir = gated_dir();
    let first = pipe(dir.path(), RUN);
    assert_eq!(first.status.code(), Some(3), "{}", text(&first));
    assert!(text(&first).contains("staging gets 7"));
    assert!(!text(&first).contains("production gets"));
    let ok = pipe(dir.path(), &["approve", "last", "--as", "alice", "--comment", "ship it"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let resumed = pipe(dir.path(), &["resume", "last"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    assert!(text(&resumed).contains("production gets 7"), "{}", text(&resumed));
    assert!(!text(&resumed).contains("staging gets"), "finished jobs are not run again");
    let audit = std::fs::read_to_string(dir.path().join(".pipe/audit.jsonl")).unwrap();
    assert!(audit.contains("\"alice\"") && audit.contains("ship it"), "{audit}");
    let ledger = std::fs::read_to_string(dir.path().join(".pipe/deployments.jsonl")).unwrap();
    assert!(ledger.contains("https://prod.example"), "{ledger}");
}

/// A GitLab file under another name, whose jobs get their scripts from an included template: only
/// `--syntax gitlab` makes it GitLab, and `pipe resume` reads it the same way again.
#[test]
fn resume_reads_the_file_with_the_syntax_the_run_was_started_with() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("ci")).unwrap();
    std::fs::write(
        dir.path().join("ci/deploy.yml"),
        ".deploy:\n  script: ['echo \"deploying to $CI_ENVIRONMENT_NAME\"']\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("release.yml"),
        "include:\n  - local: ci/deploy.yml\nstaging:\n  extends: .deploy\n  stage: build\n  environment: staging\nproduction:\n  extends: .deploy\n  stage: deploy\n  environment: production\n  when: manual\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("pipe.toml"), "[environments.staging]\napproval = false\n").unwrap();
    let guessed = pipe(dir.path(), &["plan", "release.yml"]);
    assert_eq!(guessed.status.code(), Some(2), "without --syntax the file is not GitLab: {}", text(&guessed));
    for command in ["validate", "plan"] {
        let forced = pipe(dir.path(), &[command, "release.yml", "--syntax", "gitlab"]);
        assert_eq!(forced.status.code(), Some(0), "{command} --syntax gitlab: {}", text(&forced));
    }
    assert!(text(&pipe(dir.path(), &["plan", "release.yml", "--syntax", "gitlab"])).contains("production"));
    let first = pipe(
        dir.path(),
        &["run", "release.yml", "--syntax", "gitlab", "--executor", "host", "--ref", "main"],
    );
    assert_eq!(first.status.code(), Some(3), "{}", text(&first));
    assert!(text(&first).contains("deploying to staging"), "{}", text(&first));
    assert_eq!(pipe(dir.path(), &["approve", "last", "--as", "alice"]).status.code(), Some(0));
    let resumed = pipe(dir.path(), &["resume", "last"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    assert!(text(&resumed).contains("deploying to production"), "{}", text(&resumed));
    assert!(!text(&resumed).contains("deploying to staging"), "finished jobs are not run again");
}

#[test]
fn a_rejected_manual_deploy_fails_and_deployment_mode_passes() {
    let dir = gated_dir();
    assert_eq!(pipe(dir.path(), RUN).status.code(), Some(3));
    assert_eq!(pipe(dir.path(), &["reject", "last", "--as", "bob"]).status.code(), Some(0));
    let resumed = pipe(dir.path(), &["resume", "last"]);
    assert_eq!(resumed.status.code(), Some(1), "{}", text(&resumed));
    assert!(!text(&resumed).contains("production gets"));
    let dir = gated_dir();
    let mut args = RUN.to_vec();
    args.extend(["--mode", "deployment"]);
    let auto = pipe(dir.path(), &args);
    assert_eq!(auto.status.code(), Some(0), "{}", text(&auto));
    assert!(text(&auto).contains("production gets 7"));
}

#[test]
fn secrets_are_variables_and_masked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".gitlab-ci.yml"),
        "job:\n  variables:\n    TOKEN: from-file\n  script: ['echo \"token=$TOKEN\"']\n",
    )
    .unwrap();
    let out =
        pipe(dir.path(), &["run", ".gitlab-ci.yml", "--executor", "host", "--secret", "TOKEN=s3cr3t-value"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("token=***"), "a project variable wins over the file's: {t}");
    let stored = std::fs::read_to_string(
        std::fs::read_dir(dir.path().join(".pipe/runs"))
            .unwrap()
            .flatten()
            .next()
            .unwrap()
            .path()
            .join("events.jsonl"),
    )
    .unwrap();
    assert!(!stored.contains("s3cr3t-value"));
}

/// The example runs the lab for real, offline, as its GitHub twin does: the image is built once
/// (tagged with the short SHA), published to the lab's registry, deployed blue/green to staging;
/// production waits for a human, then gets the same image.
#[test]
fn the_gitlab_example_runs_the_lab_end_to_end() {
    let Some(lab) = Lab::start("gitlab", true) else { return };
    let sha = "cccccccc33333333333333333333333333333333";
    let version = &sha[..8];
    let first = lab.run_file("pipelines/cd-starter.gitlab-ci.yml", sha, &[]);
    let text_first = text(&first);
    assert_eq!(first.status.code(), Some(3), "{text_first}");
    assert!(text_first.contains(&format!("published {}/tasks-app:{version}", lab.registry)), "{text_first}");
    assert_eq!(lab.healthy_version("staging").as_deref(), Some(version), "{text_first}");
    assert_eq!(lab.get("production", "/health"), None, "production is not deployed before the approval");
    assert!(!text_first.contains(STAGING_TOKEN), "a secret reached the output");
    let approve = lab.pipe(&["approve", "last", "--env", "production", "--as", "alice"]);
    assert_eq!(approve.status.code(), Some(0), "{}", text(&approve));
    let resumed = lab.pipe(&["resume", "last"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    assert_eq!(lab.healthy_version("production").as_deref(), Some(version), "{}", text(&resumed));
    assert!(
        text(&resumed).contains(&format!("pulled {}/tasks-app@sha256:", lab.registry)),
        "{}",
        text(&resumed)
    );
    let ledger = lab.deployments();
    let environments: Vec<&str> = ledger.iter().map(|r| r["environment"].as_str().unwrap()).collect();
    assert_eq!(environments, ["staging", "production"], "{ledger:?}");
    assert_eq!(ledger[1]["approved_by"], "alice");
    assert_eq!(lab.finish(), Leftovers { containers: vec![], networks: vec![], registry_running: false });
}

#[test]
fn cache_is_restored_in_the_next_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = r#"
job:
  cache:
    key: deps-$CI_COMMIT_REF_SLUG
    paths: [vendor/]
  script:
    - if [ -f vendor/dep ]; then echo "cached $(cat vendor/dep)"; else mkdir -p vendor && echo v1 > vendor/dep; fi
"#;
    std::fs::write(dir.path().join(".gitlab-ci.yml"), yaml).unwrap();
    let args = ["run", ".gitlab-ci.yml", "--executor", "host", "--ref", "main"];
    let first = pipe(dir.path(), &args);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(!text(&first).contains("cached v1"));
    let second = pipe(dir.path(), &args);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(text(&second).contains("cached v1"), "{}", text(&second));
}
