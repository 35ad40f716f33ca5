//! pipe.toml and gates end to end: pipe.toml's own diagnostics in `pipe validate`, the gate
//! checks of pipelines against it (rule and line:col each), and `pipe history` on a fixed ledger.

use crate::test::Test;

/// A pipeline whose `deploy` job deploys to `production` after `build`, which needs `test`.
const PIPELINE: &str = "\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
  build:
    needs: test
    runs-on: ubuntu-latest
    steps:
      - run: make build
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: make deploy
";

#[test]
fn pipe_toml_problems_are_reported_like_pipeline_problems() {
    Test::new()
        .args(&["validate"])
        .write("pipe.toml", "[environments.production]\naproval = false\nwait_timer = \"soon\"\n")
        .write("pipelines/ci.yml", PIPELINE)
        .status(1)
        .stdout(
            "
            pipe.toml:2:1: error: unknown key `aproval` in environment `production` [unknown-key]
              |
            2 | aproval = false
              | ^^^^^^^
              |
              = help: did you mean `approval`?

            pipe.toml:3:14: error: `soon` is not a duration: use a whole number with a unit (h, m, s), like `30s`, `5m` or `1h30m` [invalid-duration]
              |
            3 | wait_timer = \"soon\"
              |              ^^^^^^

            1 file(s) checked: 2 error(s), 0 warning(s) in 1 file(s)
            ",
        )
        .run();
}

#[test]
fn invalid_toml_syntax_is_a_diagnostic_with_a_position() {
    Test::new()
        .args(&["validate"])
        .write("pipe.toml", "[environments.production]\napproval = \n")
        .write("pipelines/ci.yml", PIPELINE)
        .status(1)
        .stdout_contains("pipe.toml:2:")
        .stdout_contains("[toml-syntax]")
        .run();
}

#[test]
fn a_clean_pipe_toml_and_pipeline_pass() {
    Test::new()
        .args(&["validate"])
        .write("pipe.toml", "[environments.production]\nrequires = [\"test\"]\nbranches = [\"main\"]\n")
        .write("pipelines/ci.yml", PIPELINE)
        .stdout("1 file(s) checked: no problems\n")
        .run();
}

#[test]
fn a_required_gate_job_missing_from_needs_is_an_error_at_the_environment() {
    Test::new()
        .args(&["validate"])
        .write("pipe.toml", "[environments.production]\nrequires = [\"test\", \"scan\"]\n")
        .write("pipelines/ci.yml", PIPELINE)
        .args(&["--format", "json"])
        .status(1)
        .stdout_contains("\"rule\": \"gate-requires-missing\"")
        .run();
    Test::new()
        .args(&["validate"])
        .write("pipe.toml", "[environments.production]\nrequires = [\"test\", \"scan\"]\n")
        .write("pipelines/ci.yml", PIPELINE)
        .status(1)
        .stdout_contains(
            "pipelines/ci.yml:15:18: error: `deploy` deploys to `production`, which requires `scan` to pass \
             first, but `scan` is not in its `needs` [gate-requires-missing]",
        )
        .stdout_contains("help: `scan` is not a job of this workflow")
        .run();
}

#[test]
fn a_gate_that_can_be_bypassed_is_a_warning_naming_the_cause() {
    let pipeline = PIPELINE
        .replace("    needs: test\n", "    needs: test\n    if: ${{ always() }}\n")
        .replace("      - run: make test\n", "      - run: make test\n        continue-on-error: true\n")
        .replace("    environment: production\n", "    environment: production\n    if: \"!cancelled()\"\n");
    Test::new()
        .args(&["validate"])
        .write("pipe.toml", "[environments.production]\nrequires = [\"test\"]\n")
        .write("pipelines/ci.yml", pipeline)
        .status(0)
        .stdout_contains(
            "pipelines/ci.yml:7:28: warning: step `Run make test` of the required gate job `test` has \
             `continue-on-error: true`: its failure does not stop deploys to `production` [gate-bypassable]",
        )
        .stdout_contains(
            "pipelines/ci.yml:10:13: warning: `build` runs even when the required gate job `test` fails (its \
             `if:` uses `always()`), so `deploy` can reach `production` without it [gate-bypassable]",
        )
        .stdout_contains(
            "pipelines/ci.yml:18:10: warning: `deploy` can deploy to `production` even when a required gate job \
             fails: its `if:` uses `!cancelled()` [gate-bypassable]",
        )
        .stdout_contains("3 warning(s)")
        .run();
}

#[test]
fn an_environment_missing_from_pipe_toml_is_a_note_only_with_a_pipe_toml() {
    let pipeline = PIPELINE.replace("environment: production", "environment: prodution");
    Test::new()
        .args(&["validate"])
        .write("pipe.toml", "[environments.production]\n")
        .write("pipelines/ci.yml", &pipeline)
        .stdout_contains(
            "pipelines/ci.yml:15:18: note: `prodution` is not in pipe.toml: it will need an approval \
             [environment-unknown]",
        )
        .stdout_contains("help: did you mean `production`?")
        .run();
    Test::new()
        .args(&["validate"])
        .write("pipelines/ci.yml", &pipeline)
        .stdout("1 file(s) checked: no problems\n")
        .run();
}

#[test]
fn a_secret_scoped_to_an_environment_used_elsewhere_is_a_warning() {
    let pipeline = PIPELINE
        .replace("      - run: make build\n", "      - run: make build TOKEN=${{ secrets.PROD_TOKEN }}\n");
    Test::new()
        .args(&["validate"])
        .write("pipe.toml", "[environments.production]\nsecrets_file = \"secrets/production.env\"\n")
        .write("secrets/production.env", "# production only\nPROD_TOKEN=hunter2\n")
        .write("pipelines/ci.yml", &pipeline)
        .stdout_contains(
            "pipelines/ci.yml:11:35: warning: `build` uses `secrets.PROD_TOKEN`, which only jobs of environment \
             `production` see (secrets_file in pipe.toml): here it is empty [secret-out-of-scope]",
        )
        .run();
    // The deploy job itself may use it; a missing secrets file scopes nothing.
    let in_scope = PIPELINE
        .replace("      - run: make deploy\n", "      - run: make deploy ${{ secrets.PROD_TOKEN }}\n");
    Test::new()
        .args(&["validate"])
        .write("pipe.toml", "[environments.production]\nsecrets_file = \"secrets/production.env\"\n")
        .write("secrets/production.env", "PROD_TOKEN=hunter2\n")
        .write("pipelines/ci.yml", &in_scope)
        .stdout("1 file(s) checked: no problems\n")
        .run();
    Test::new()
        .args(&["validate"])
        .write("pipe.toml", "[environments.production]\nsecrets_file = \"secrets/missing.env\"\n")
        .write("pipelines/ci.yml", &pipeline)
        .stdout("1 file(s) checked: no problems\n")
        .run();
}

const LEDGER: &str = r#"{"v":1,"ts":"2024-05-01T10:00:00Z","environment":"staging","url":null,"sha":"1111111aaaa","run_id":"r1","job":"deploy-staging","outputs":{"image":"app:1.0"},"result":"success","approved_by":null}
{"v":1,"ts":"2024-05-01T11:00:00.5Z","environment":"production","url":"https://app.test","sha":"1111111aaaa","run_id":"r1","job":"deploy","outputs":{"image":"app:1.0"},"result":"success","approved_by":"alice"}
{"v":1,"ts":"2024-05-02T09:00:00Z","environment":"staging","url":null,"sha":"2222222bbbb","run_id":"r2","job":"deploy-staging","outputs":{"image":"app:1.1"},"result":"success","approved_by":null}
{"v":1,"ts":"2024-05-02T09:30:00Z","environment":"production","url":null,"sha":"2222222bbbb","run_id":"r2","job":"deploy","outputs":{"image":"app:1.1","notes":"x"},"result":"failure","approved_by":"bob"}
{"v":1,"ts":"2024-05-0"#;

#[test]
fn history_lists_the_ledger_newest_first_and_marks_what_runs_now() {
    Test::new()
        .write(".pipe/deployments.jsonl", LEDGER)
        .args(&["history"])
        .stdout(
            "
            production  runs image=app:1.0 (commit 1111111, since 2024-05-01 11:00:00Z, approved by alice, run r1)
            staging     runs image=app:1.1 (commit 2222222, since 2024-05-02 09:00:00Z, run r2)

            TIME                  ENVIRONMENT  KIND          RESULT   STATE     COMMIT   ARTIFACT               APPROVED BY  RUN
            2024-05-02 09:30:00Z  production   roll-forward  failure  failed    2222222  image=app:1.1 notes=x  bob          r2
            2024-05-02 09:00:00Z  staging      roll-forward  success  current   2222222  image=app:1.1          -            r2
            2024-05-01 11:00:00Z  production   roll-forward  success  current   1111111  image=app:1.0          alice        r1
            2024-05-01 10:00:00Z  staging      roll-forward  success  replaced  1111111  image=app:1.0          -            r1
            ",
        )
        .run();
}

#[test]
fn history_of_one_environment() {
    Test::new()
        .write("state/deployments.jsonl", LEDGER)
        .args(&["history", "production", "--state-dir", "state"])
        .stdout(
            "
            production  runs image=app:1.0 (commit 1111111, since 2024-05-01 11:00:00Z, approved by alice, run r1)

            TIME                  ENVIRONMENT  KIND          RESULT   STATE    COMMIT   ARTIFACT               APPROVED BY  RUN
            2024-05-02 09:30:00Z  production   roll-forward  failure  failed   2222222  image=app:1.1 notes=x  bob          r2
            2024-05-01 11:00:00Z  production   roll-forward  success  current  1111111  image=app:1.0          alice        r1
            ",
        )
        .run();
    Test::new()
        .write(".pipe/deployments.jsonl", LEDGER)
        .args(&["history", "qa"])
        .stdout("`qa` has never been deployed (deployed environments: production, staging).\n")
        .run();
}

/// A rollback after the ledger above: production went to 1.1 and was rolled back to 1.0.
const ROLLED_BACK: &str = r#"
{"v":1,"ts":"2024-05-03T09:00:00Z","environment":"production","url":null,"sha":"2222222bbbb","run_id":"r3","job":"deploy","outputs":{"image":"app:1.1"},"result":"success","approved_by":"bob"}
{"v":1,"ts":"2024-05-03T10:00:00Z","environment":"production","url":null,"sha":"1111111aaaa","run_id":"r4","job":"deploy","outputs":{"image":"app:1.0"},"result":"success","approved_by":"auto","rollback":{"of_run":"r1","by":"carol"}}
"#;

#[test]
fn history_tells_rollbacks_from_roll_forwards_and_where_an_artifact_ran() {
    Test::new()
        .write(".pipe/deployments.jsonl", format!("{}{ROLLED_BACK}", LEDGER.trim_end_matches("{\"v\":1,\"ts\":\"2024-05-0")))
        .args(&["history", "production"])
        .stdout(
            "
            production  runs image=app:1.0 (commit 1111111, since 2024-05-03 10:00:00Z, rolled back by carol, run r4)

            TIME                  ENVIRONMENT  KIND               RESULT   STATE        COMMIT   ARTIFACT               APPROVED BY  RUN
            2024-05-03 10:00:00Z  production   rollback by carol  success  current      1111111  image=app:1.0          auto         r4
            2024-05-03 09:00:00Z  production   roll-forward       success  rolled back  2222222  image=app:1.1          bob          r3
            2024-05-02 09:30:00Z  production   roll-forward       failure  failed       2222222  image=app:1.1 notes=x  bob          r2
            2024-05-01 11:00:00Z  production   roll-forward       success  replaced     1111111  image=app:1.0          alice        r1
            ",
        )
        .run();
    Test::new()
        .write(".pipe/deployments.jsonl", format!("{LEDGER}{ROLLED_BACK}"))
        .args(&["history", "--artifact", "app:1.1"])
        .stdout(
            "
            `app:1.1` was deployed to 2 environment(s): production, staging

            STATE        ENVIRONMENT  KIND          RESULT   TIME                  COMMIT   ARTIFACT               APPROVED BY  RUN
            rolled back  production   roll-forward  success  2024-05-03 09:00:00Z  2222222  image=app:1.1          bob          r3
            failed       production   roll-forward  failure  2024-05-02 09:30:00Z  2222222  image=app:1.1 notes=x  bob          r2
            current      staging      roll-forward  success  2024-05-02 09:00:00Z  2222222  image=app:1.1          -            r2
            ",
        )
        .run();
    Test::new()
        .write(".pipe/deployments.jsonl", LEDGER)
        .args(&["history", "--artifact", "9.9"])
        .stdout("`9.9` was never deployed (4 deployment(s) in the ledger).\n")
        .run();
}

#[test]
fn history_of_an_empty_ledger_is_a_friendly_line() {
    Test::new()
        .args(&["history"])
        .stdout("No deployments yet: the ledger (.pipe/deployments.jsonl) is empty.\n")
        .run();
}

#[test]
fn rollback_says_why_it_cannot_bring_anything_back() {
    Test::new()
        .write(".pipe/deployments.jsonl", LEDGER)
        .args(&["rollback", "qa"])
        .status(2)
        .stderr_contains("`qa` has no successful deployment: there is nothing to roll back")
        .run();
    Test::new()
        .write(".pipe/deployments.jsonl", LEDGER)
        .args(&["rollback", "production", "--to", "app:1.1"])
        .status(2)
        .stderr_contains("`app:1.1` never deployed successfully to `production`")
        .run();
    // The ledger names run r1, whose record (and so its outputs) is not in the state dir.
    Test::new()
        .write(".pipe/deployments.jsonl", format!("{LEDGER}{ROLLED_BACK}"))
        .args(&["rollback", "production", "--to", "app:1.1"])
        .status(2)
        .stderr_contains("the run r3 that deployed image=app:1.1 is gone from the state dir")
        .run();
}
