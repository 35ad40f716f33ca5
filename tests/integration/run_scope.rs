//! What expressions see at each key of a job, end to end on both backends: `runs-on` and
//! `container:` chosen per matrix leg (two images), `environment:` from a matrix gated and
//! recorded under its evaluated name, `continue-on-error` from `vars`, a failing `if:` reported
//! at its file position, and `pipe plan` showing what plan time can evaluate.

use std::path::Path;

use serde_json::Value as Json;

use crate::run_host::{Exec, Ran, TEST_IMAGE, run_pipeline};
use crate::test::Test;

const BUSYBOX: &str = "pipe-test/busybox:latest";

/// `-P` mappings of the labels the matrix picks (ignored with `--executor host`).
fn labels() -> Vec<String> {
    vec!["-P".into(), format!("small={BUSYBOX}"), "-P".into(), format!("big={TEST_IMAGE}")]
}

fn started<'a>(r: &'a Ran, job: &str) -> Vec<&'a Json> {
    r.of("job_started").into_iter().filter(|e| e["job"] == job).collect()
}

/// Line and column (1-based) where `needle` starts in the file the test wrote.
fn position(yaml: &str, needle: &str) -> String {
    let (line, text) = yaml.lines().enumerate().find(|(_, l)| l.contains(needle)).expect("needle in yaml");
    let col = text[..text.find(needle).unwrap_or(0)].chars().count() + 1;
    format!("{}:{col}", line + 1)
}

const MATRIX_PLACEMENT: &str = r#"
on: push
jobs:
  by-label:
    strategy:
      matrix:
        os: [small, big]
    runs-on: ${{ matrix.os }}
    name: on ${{ matrix.os }}
    timeout-minutes: ${{ matrix.os == 'big' && 5 || 4 }}
    steps:
      - run: if [ -f /etc/debian_version ]; then echo "debian on ${{ matrix.os }}"; else echo "busybox on ${{ matrix.os }}"; fi
  by-container:
    strategy:
      matrix:
        image: ['pipe-test/busybox:latest', 'pipe-test/debian:bookworm']
    runs-on: x
    container: ${{ matrix.image }}
    steps:
      - run: test -f /etc/debian_version && echo "debian in ${{ matrix.image }}" || echo "busybox in ${{ matrix.image }}"
"#;

both_backends! {
    fn matrix_chooses_runs_on_and_container(exec) {
        let extra = labels();
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let r = run_pipeline(exec, MATRIX_PLACEMENT, &extra);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let names: Vec<&str> = started(&r, "by-label").iter().filter_map(|e| e["name"].as_str()).collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"on small") && names.contains(&"on big"), "{names:?}");
        let image_of = |job: &str, name: &str| {
            started(&r, job).into_iter().find(|e| e["name"] == name).map(|e| e["image"].clone()).unwrap()
        };
        let lines = r.output_lines("by-label");
        let in_container = r.output_lines("by-container");
        match exec {
            Exec::Docker => {
                assert_eq!(image_of("by-label", "on small"), BUSYBOX);
                assert_eq!(image_of("by-label", "on big"), TEST_IMAGE);
                assert!(lines.contains(&"busybox on small".to_string()), "{lines:?}");
                assert!(lines.contains(&"debian on big".to_string()), "{lines:?}");
                assert_eq!(image_of("by-container", &format!("by-container ({BUSYBOX})")), BUSYBOX);
                assert_eq!(image_of("by-container", &format!("by-container ({TEST_IMAGE})")), TEST_IMAGE);
                assert!(in_container.contains(&format!("busybox in {BUSYBOX}")), "{in_container:?}");
                assert!(in_container.contains(&format!("debian in {TEST_IMAGE}")), "{in_container:?}");
                assert!(r.of("annotation").iter().all(|a| a["level"] != "notice"), "{}", r.stdout);
            }
            Exec::Host => {
                for e in r.of("job_started") {
                    assert_eq!((e["executor"].as_str(), e["image"].as_str()), (Some("host"), None), "{e}");
                }
                assert!(lines.iter().any(|l| l.ends_with("on small")) && lines.iter().any(|l| l.ends_with("on big")));
                // Each leg of the job with `container:` says once that it is not used here.
                let notices: Vec<&Json> = r.of("annotation").into_iter().filter(|a| a["level"] == "notice").collect();
                assert_eq!(notices.len(), 2, "{}", r.stdout);
                assert!(notices.iter().all(|n| n["job"] == "by-container"
                    && n["message"] == "this job runs on the host: its `container:` and `services:` are not used"));
                assert!(r.stderr.contains("notice: this job runs on the host"), "{}", r.stderr);
            }
        }
    }

    fn environment_from_a_matrix_is_gated_and_recorded_under_its_name(exec) {
        let yaml = r#"
    on: push
    jobs:
      deploy:
        strategy:
          matrix:
            target: [staging, qa]
        runs-on: x
        environment:
          name: ${{ matrix.target }}
          url: https://${{ matrix.target }}.example/v${{ steps.v.outputs.v }}
        steps:
          - id: v
            run: echo "v=7" >> "$GITHUB_OUTPUT"
    "#;
        // Delivery mode without a terminal: both gates wait, under their evaluated names.
        let r = run_pipeline(exec, yaml, &[]);
        assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
        let mut waiting: Vec<&str> = r.of("gate_waiting").iter().filter_map(|e| e["environment"].as_str()).collect();
        waiting.sort_unstable();
        assert_eq!(waiting, ["qa", "staging"]);
        // Each gate is answered by its name; the resumed run deploys both legs.
        let run_id = r.events[0]["run_id"].as_str().unwrap().to_string();
        let hint = pipe_in(r.dir.path(), &["approve", &run_id]);
        assert_eq!(hint.status.code(), Some(2), "two gates wait: the environment must be named");
        assert!(String::from_utf8_lossy(&hint.stderr).contains("qa, staging"), "{hint:?}");
        for env in ["staging", "qa"] {
            let o = pipe_in(r.dir.path(), &["approve", &run_id, "--env", env, "--as", "alice"]);
            assert!(o.status.success(), "{o:?}");
        }
        let resumed = pipe_in(r.dir.path(), &["resume", &run_id]);
        assert_eq!(resumed.status.code(), Some(0), "{resumed:?}");
        let ledger = lines(&r.dir.path().join(".pipe/deployments.jsonl"));
        let mut approved: Vec<(&str, &str)> = ledger
            .iter()
            .map(|d| (d["environment"].as_str().unwrap(), d["approved_by"].as_str().unwrap_or("-")))
            .collect();
        approved.sort_unstable();
        assert_eq!(approved, [("qa", "alice"), ("staging", "alice")]);
        // Deployment mode: passed automatically, audited and recorded per leg under its name.
        let r = run_pipeline(exec, yaml, &["--mode", "deployment"]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let mut decided: Vec<(&str, &str)> = r
            .of("gate_decided")
            .iter()
            .map(|e| (e["environment"].as_str().unwrap(), e["decision"].as_str().unwrap()))
            .collect();
        decided.sort_unstable();
        assert_eq!(decided, [("qa", "auto"), ("staging", "auto")]);
        let state = r.dir.path().join(".pipe");
        let mut ledger: Vec<(String, String)> = lines(&state.join("deployments.jsonl"))
            .iter()
            .map(|d| (d["environment"].as_str().unwrap().to_string(), d["url"].as_str().unwrap_or("").to_string()))
            .collect();
        ledger.sort_unstable();
        assert_eq!(
            ledger,
            [("qa".to_string(), "https://qa.example/v7".to_string()), ("staging".into(), "https://staging.example/v7".into())]
        );
        let audit = std::fs::read_to_string(state.join("audit.jsonl")).unwrap();
        assert!(!audit.contains("${{") && audit.contains("\"staging\"") && audit.contains("\"qa\""), "{audit}");
    }

    fn continue_on_error_from_vars(exec) {
        let yaml = r#"
    on: push
    jobs:
      flaky:
        runs-on: x
        continue-on-error: ${{ vars.ALLOW_FAIL == 'yes' }}
        steps:
          - run: exit 1
            continue-on-error: ${{ vars.ALLOW_FAIL == 'yes' }}
          - run: exit 2
      after:
        needs: flaky
        runs-on: x
        steps:
          - run: echo "flaky was ${{ needs.flaky.result }}"
    "#;
        let r = run_pipeline(exec, yaml, &["--var", "ALLOW_FAIL=yes"]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        assert_eq!((r.step("flaky", 0)["outcome"].as_str(), r.step("flaky", 0)["conclusion"].as_str()), (Some("failure"), Some("success")));
        assert_eq!(r.job("flaky")["result"], "failure");
        assert_eq!(r.job("after")["result"], "success");
        assert!(r.output_lines("after").contains(&"flaky was success".to_string()));
        let r = run_pipeline(exec, yaml, &["--var", "ALLOW_FAIL=no"]);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(r.step("flaky", 0)["conclusion"], "failure");
        assert_eq!(r.job("after")["result"], "skipped");
    }

    fn a_failing_if_is_reported_at_its_position(exec) {
        let yaml = r#"
    on: push
    jobs:
      gated:
        runs-on: x
        if: ${{ fromJSON('{not json') }}
        steps: [{run: echo never}]
      checks:
        runs-on: x
        steps:
          - run: echo first
          - if: ${{ fromJSON('[broken') == 1 }}
            run: echo never
    "#;
        let r = run_pipeline(exec, yaml, &[]);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        let messages: Vec<&str> = r.of("annotation").iter().filter_map(|a| a["message"].as_str()).collect();
        let job_if = format!("p.yml:{}: the job's `if:` cannot be evaluated: ", position(yaml, "fromJSON('{not"));
        let step_if = format!("p.yml:{}: the step's `if:` cannot be evaluated: ", position(yaml, "fromJSON('[broken"));
        assert!(messages.iter().any(|m| m.starts_with(&job_if)), "{job_if}\n{messages:?}");
        assert!(messages.iter().any(|m| m.starts_with(&step_if)), "{step_if}\n{messages:?}");
        assert_eq!(r.job("gated")["result"], "failure");
        assert_eq!(r.step("checks", 1)["conclusion"], "failure");
        assert!(r.stderr.contains(&job_if), "{}", r.stderr);
    }
}

fn pipe_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(crate::test::pipe_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PIPE_STATE_DIR")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn lines(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn a_missing_image_of_one_leg_stops_the_run_before_it_starts() {
    let Some(exec) = Exec::docker() else { return };
    let yaml = "on: push\njobs:\n  a:\n    strategy:\n      matrix:\n        os: [small, gone]\n    runs-on: ${{ matrix.os }}\n    steps: [{run: echo}]\n";
    let mut extra = labels();
    extra.extend(["-P".to_string(), "gone=pipe-test/no-such-image:2".to_string()]);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let r = run_pipeline(exec, yaml, &extra);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("image `pipe-test/no-such-image:2` is not available"), "{}", r.stderr);
    assert!(r.events.is_empty(), "nothing ran: {}", r.stdout);
}

#[test]
fn plan_shows_what_plan_time_can_evaluate() {
    let yaml = "on: push\njobs:\n  deploy:\n    name: deploy ${{ vars.APP }}\n    strategy:\n      matrix:\n        os: [small, big]\n        target: [staging]\n    runs-on: ${{ matrix.os }}\n    environment: ${{ matrix.target }}-${{ matrix.os }}\n    outputs:\n      label: ${{ steps.l.outputs.label }}\n    steps: [{id: l, run: x}]\n  later:\n    needs: deploy\n    runs-on: ${{ needs.deploy.outputs.label }}\n    steps: [{run: x}]\n";
    let (small, big) = (format!("small={BUSYBOX}"), format!("big={TEST_IMAGE}"));
    let plan = |format: &str| {
        let args = ["plan", "wf.yml", "--format", format, "--var", "APP=shop", "-P", &small, "-P", &big];
        let (out, _dir) = Test::new().write("wf.yml", yaml).args(&args).run();
        out.stdout
    };
    let out = plan("json");
    let plan_json: Json = serde_json::from_slice(&out).expect("json plan");
    let legs = plan_json["jobs"][0]["legs"]["legs"].as_array().expect("legs");
    let seen: Vec<(&str, &str, &str)> = legs
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap(),
                l["image"].as_str().unwrap_or("-"),
                l["environment"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(seen, [("deploy shop", BUSYBOX, "staging-small"), ("deploy shop", TEST_IMAGE, "staging-big")]);
    assert_eq!(plan_json["jobs"][0]["name"], "deploy shop");
    assert_eq!(plan_json["jobs"][1]["image"], Json::Null);
    assert_eq!(
        plan_json["jobs"][1]["platform_note"],
        "runs-on `${{ needs.deploy.outputs.label }}` is chosen at run time"
    );
    let text = String::from_utf8_lossy(&plan("text")).to_string();
    assert!(
        text.contains(&format!(
            "- deploy shop  [runs: docker {BUSYBOX}, environment: staging-small, waits for approval (staging-small)]"
        )),
        "{text}"
    );
    assert!(text.contains("one gate per environment of the legs (listed with them)"), "{text}");
}
