//! What GitHub still runs, end to end on both backends: the old workflow commands
//! (`::set-output`, `::save-state` with their deprecation warnings; `::set-env`, `::add-path`
//! only with `ACTIONS_ALLOW_UNSECURE_COMMANDS`), expressions inside matrix values, a service
//! whose image is empty, and variable names such as `my-var`.

use serde_json::Value as Json;

use crate::run_host::{Exec, Ran, run_pipeline};

fn annotations<'a>(r: &'a Ran, job: &str, level: &str) -> Vec<&'a str> {
    r.of("annotation")
        .into_iter()
        .filter(|a| a["job"] == job && a["level"] == level)
        .filter_map(|a| a["message"].as_str())
        .collect()
}

both_backends! {
    fn old_workflow_commands(exec) {
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      a:
        runs-on: x
        outputs:
          v: ${{ steps.s.outputs.v }}
        env:
          my-var: dashed
        steps:
          - id: s
            run: |
              echo "::set-output name=v::old%0Astyle"
              echo "::save-state name=pid::42"
          # Shells do not hand on names they cannot use themselves; the shell process got it.
          - shell: sh -e {0}
            run: echo "dashed is [$(tr '\0' '\n' < /proc/$$/environ | sed -n 's/^my-var=//p')]"
          - run: echo "state file has [$(cat "$GITHUB_STATE")]"
          - env:
              ACTIONS_ALLOW_UNSECURE_COMMANDS: true
            run: |
              mkdir -p "$RUNNER_TEMP/bin"
              printf '#!/bin/sh\necho tool ran\n' > "$RUNNER_TEMP/bin/mytool"
              chmod +x "$RUNNER_TEMP/bin/mytool"
              echo "::set-env name=FROM_SET_ENV::yes"
              echo "::add-path::$RUNNER_TEMP/bin"
          - run: |
              echo "set-env gave [$FROM_SET_ENV]"
              mytool
      refused:
        runs-on: x
        steps:
          - run: echo "::set-env name=X::y"
          - if: always()
            run: echo "X is [$X]"
    "#,
            &[],
        );
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(r.job("a")["result"], "success", "{}", r.stdout);
        assert_eq!(r.job("a")["outputs"]["v"], "old\nstyle");
        let warnings = annotations(&r, "a", "warning");
        assert!(warnings.iter().any(|w| w.starts_with("The `set-output` command is deprecated")), "{warnings:?}");
        assert!(warnings.iter().any(|w| w.starts_with("The `save-state` command is deprecated")), "{warnings:?}");
        let lines = r.output_lines("a");
        assert!(lines.contains(&"dashed is [dashed]".to_string()), "{lines:?}");
        assert!(lines.contains(&"set-env gave [yes]".to_string()), "{lines:?}");
        assert!(lines.contains(&"tool ran".to_string()), "{lines:?}");
        // The step that saved state has its own state file; the next step starts with an empty one.
        assert!(lines.contains(&"state file has []".to_string()), "{lines:?}");
        assert!(lines.iter().all(|l| !l.starts_with("::")), "commands are not printed: {lines:?}");
        assert_eq!(r.step("refused", 0)["conclusion"], "failure");
        let errors = annotations(&r, "refused", "error");
        assert!(errors.iter().any(|e| e.starts_with("The `set-env` command is disabled")), "{errors:?}");
        assert!(r.output_lines("refused").contains(&"X is []".to_string()));
    }

    fn expressions_inside_matrix_values(exec) {
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      setup:
        runs-on: x
        outputs:
          extra: ${{ steps.s.outputs.extra }}
        steps:
          - id: s
            run: echo "extra=from-needs" >> "$GITHUB_OUTPUT"
      test:
        needs: setup
        runs-on: x
        strategy:
          matrix:
            flavour: [plain, '${{ vars.FLAVOUR }}', '${{ needs.setup.outputs.extra }}']
            include:
              - flavour: plain
                note: ${{ format('note-{0}', vars.FLAVOUR) }}
        steps:
          - run: echo "flavour=${{ matrix.flavour }} note=${{ matrix.note }}"
    "#,
            &["--var", "FLAVOUR=spicy"],
        );
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let mut legs: Vec<String> = r
            .of("job_finished")
            .iter()
            .filter(|e| e["job"] == "test")
            .map(|e| e["matrix"]["flavour"].as_str().unwrap_or("?").to_string())
            .collect();
        legs.sort_unstable();
        assert_eq!(legs, ["from-needs", "plain", "spicy"]);
        let lines = r.output_lines("test");
        assert!(lines.contains(&"flavour=plain note=note-spicy".to_string()), "{lines:?}");
        assert!(lines.contains(&"flavour=from-needs note=".to_string()), "{lines:?}");
    }

    fn a_service_with_an_empty_image_is_not_started(exec) {
        let r = run_pipeline(exec,
            r#"
    on: push
    jobs:
      a:
        runs-on: x
        services:
          db:
            image: ${{ vars.DB_IMAGE }}
        steps:
          - run: echo "services=${{ toJSON(job.services) }}"
    "#,
            &[],
        );
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        assert!(r.output_lines("a").contains(&"services={}".to_string()), "{:?}", r.output_lines("a"));
        let notices = annotations(&r, "a", "notice");
        let expected: Vec<&str> = match exec {
            Exec::Host => vec!["this job runs on the host: its `container:` and `services:` are not used"],
            Exec::Docker => vec![],
        };
        assert_eq!(notices, expected);
        let started: Vec<&Json> = r.of("job_started");
        assert_eq!(started.len(), 1);
    }
}
