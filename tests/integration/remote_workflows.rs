//! Reusable workflows of other repositories (`owner/repo/.github/workflows/x.yml@ref`) end to
//! end, against a git host made by the tests: fetched at a tag and at a SHA with inputs, secrets
//! and outputs, the actions of their jobs resolved before the run, the cache reused without a
//! fetch, `--offline`, `pipe plan`/`--dry-run`/`pipe validate`; and the checks made before the
//! first job (a missing action inside a called workflow, the node version).

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value as Json;

use crate::git_host::{GitHost, Repo, node_or_skip};
use crate::remote_actions::{TINY, pipe, run, run_in};
use crate::run_host::Exec;

use crate::test::pipe_bin;

const FLOW: &str = r#"
on:
  workflow_call:
    inputs:
      version: {type: string, required: true}
      label: {type: string, default: none}
    secrets:
      token: {required: true}
    outputs:
      image:
        value: ${{ jobs.build.outputs.image }}
jobs:
  build:
    runs-on: x
    outputs:
      image: ${{ steps.js.outputs.said }}
    steps:
      - uses: acme/tiny@v1
        with:
          word: ${{ inputs.label }}
      - id: js
        uses: acme/js@v1
        with:
          word: ${{ inputs.version }}
      - run: echo "token is ${{ secrets.token }} of length $(printf %s '${{ secrets.token }}' | wc -c | tr -d ' ')"
"#;

/// A JavaScript action without dependencies: it says its input and sets an output.
const JS: &[(&str, &str)] = &[
    (
        "action.yml",
        "name: js\ninputs:\n  word:\n    required: true\nruns:\n  using: node20\n  main: main.js\n",
    ),
    (
        "main.js",
        "const fs = require('fs');\nconsole.log('js says ' + process.env.INPUT_WORD);\nfs.appendFileSync(process.env.GITHUB_OUTPUT, 'said=js-' + process.env.INPUT_WORD + '\\n');\n",
    ),
];

/// A git host with `acme/flows` (the called workflow, tagged `v1`), `acme/tiny` and `acme/js`
/// (tagged `v1`); returns the host, the flows repository and its commit.
fn flows_host() -> (GitHost, Repo, String) {
    let host = GitHost::new();
    host.repo("acme", "tiny", TINY).tag("v1");
    host.repo("acme", "js", JS).tag("v1");
    let flows = host.repo("acme", "flows", &[(".github/workflows/build.yml", FLOW)]);
    flows.tag("v1");
    let sha = flows.sha();
    (host, flows, sha)
}

fn caller(sha: &str) -> String {
    format!(
        r#"
on: push
jobs:
  tag:
    uses: acme/flows/.github/workflows/build.yml@v1
    with:
      version: "1.2"
    secrets:
      token: ${{{{ secrets.TOKEN }}}}
  pinned:
    uses: acme/flows/.github/workflows/build.yml@{sha}
    with:
      version: "2.0"
      label: pinned
    secrets: inherit
  after:
    needs: [tag, pinned]
    runs-on: x
    steps:
      - run: echo "tag=${{{{ needs.tag.outputs.image }}}} pinned=${{{{ needs.pinned.outputs.image }}}}"
"#
    )
}

const TAG_FLOW: &str = "acme/flows/.github/workflows/build.yml@v1";

both_backends! {
    fn a_remote_workflow_runs_at_a_tag_and_a_sha_with_inputs_secrets_and_outputs(exec) {
        if !node_or_skip() {
            return;
        }
        let (host, _flows, sha) = flows_host();
        let cache = tempfile::tempdir().unwrap();
        let r = run(exec, &host, cache.path(), &caller(&sha), &["--secret", "TOKEN=s3cret"]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        for (job, label, version) in [("tag/build", "none", "1.2"), ("pinned/build", "pinned", "2.0")] {
            let lines = r.output_lines(job);
            assert!(lines.contains(&format!("tiny says {label}")), "{job}: {lines:?}\n{}", r.stderr);
            assert!(lines.contains(&format!("js says {version}")), "{job}: {lines:?}");
            // The secret arrived (its length) and is masked.
            assert!(lines.contains(&"token is *** of length 6".to_string()), "{job}: {lines:?}");
            assert_eq!(r.job(job)["result"], "success");
        }
        assert_eq!(r.job("tag/build")["name"], "tag / build");
        assert!(r.output_lines("after").contains(&"tag=js-1.2 pinned=js-2.0".to_string()), "{:?}", r.output_lines("after"));
        assert!(!r.stdout.contains("s3cret"), "the secret leaked: {}", r.stdout);
        assert!(r.stderr.contains(&format!("workflow {TAG_FLOW}: fetched {}", &sha[..12])), "{}", r.stderr);
        assert!(r.stderr.contains(&format!("workflow acme/flows/.github/workflows/build.yml@{sha}: cached")), "{}", r.stderr);
        // The actions of the called jobs were resolved before the run, once each.
        assert_eq!(r.stderr.matches("action acme/js@v1: fetched").count(), 1, "{}", r.stderr);
        assert_eq!(r.stderr.matches("action acme/tiny@v1: fetched").count(), 1, "{}", r.stderr);
    }
}

#[test]
fn the_cached_workflow_is_reused_without_a_fetch_and_offline_names_what_is_missing() {
    let (host, flows, sha) = flows_host();
    let cache = tempfile::tempdir().unwrap();
    let yaml = caller(&sha);
    let secret = ["--secret", "TOKEN=s3cret"];
    let first = run(Exec::Host, &host, cache.path(), &yaml, &secret);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    let commits = |repo: &str| -> Vec<String> {
        std::fs::read_dir(cache.path().join("pipe/actions/acme").join(repo))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && n != "refs")
            .collect()
    };
    assert_eq!(commits("flows"), std::slice::from_ref(&sha));

    // Every source is gone: the second run works from the cache alone, and says so.
    std::fs::remove_dir_all(host.root.path().join("acme")).unwrap();
    let second = run(Exec::Host, &host, cache.path(), &yaml, &secret);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert!(
        second.stderr.contains(&format!("workflow {TAG_FLOW}: cached {}", &sha[..12])),
        "{}",
        second.stderr
    );
    assert!(second.stderr.contains("did not answer"), "{}", second.stderr);
    assert!(!second.stderr.contains("fetched"), "nothing may be fetched: {}", second.stderr);
    assert!(second.output_lines("after").contains(&"tag=js-1.2 pinned=js-2.0".to_string()));
    drop(flows);

    let offline = run(Exec::Host, &host, cache.path(), &yaml, &["--secret", "TOKEN=s3cret", "--offline"]);
    assert_eq!(offline.code, 0, "{}\n{}", offline.stdout, offline.stderr);
    assert!(!offline.stderr.contains("did not answer"), "--offline asks no source: {}", offline.stderr);

    // Offline with an empty cache: nothing runs, and the message names the workflow.
    let empty = tempfile::tempdir().unwrap();
    let missing = run(Exec::Host, &host, empty.path(), &yaml, &["--secret", "TOKEN=s3cret", "--offline"]);
    assert_eq!(missing.code, 2, "{}\n{}", missing.stdout, missing.stderr);
    assert!(missing.events.is_empty(), "nothing may run: {}", missing.stdout);
    assert!(
        missing.stderr.contains(&format!("reusable workflow `{TAG_FLOW}`: not in the action cache")),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("hint: run once without --offline"), "{}", missing.stderr);
}

#[test]
fn plan_dry_run_and_validate_read_remote_workflows_from_the_cache() {
    let (host, _flows, sha) = flows_host();
    let cache = tempfile::tempdir().unwrap();
    let source = host.source();
    let yaml = caller(&sha);
    let in_dir = |yaml: &str, args: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.yml"), yaml).unwrap();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--action-source", &source]);
        pipe(dir, cache.path(), &all)
    };
    let before = in_dir(&yaml, &["plan", "p.yml"]);
    assert_eq!(before.code, 0, "{}", before.stderr);
    assert!(
        before.stdout.contains(&format!(
            "2 remote workflow(s):\n  {TAG_FLOW}: not cached (pipe run fetches it; --offline would stop)\n"
        )),
        "{}",
        before.stdout
    );
    assert!(before.stdout.contains(&format!("calls: {TAG_FLOW} (0 job(s), not cached")), "{}", before.stdout);
    let dry = in_dir(&yaml, &["run", "p.yml", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains(&format!("{TAG_FLOW}: not cached")), "{}", dry.stdout);
    assert!(!cache.path().join("pipe/actions/acme/flows").exists(), "a dry run fetched something");

    // Not cached: a wrong call cannot be checked yet, so nothing is reported.
    let wrong = yaml.replace("version: \"1.2\"", "versoin: \"1.2\"");
    let unchecked = in_dir(&wrong, &["validate", "p.yml"]);
    assert_eq!(unchecked.code, 0, "{}", unchecked.stdout);

    let ran = run(Exec::Host, &host, cache.path(), &yaml, &["--secret", "TOKEN=x"]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let short = &sha[..12];
    let after = in_dir(&yaml, &["plan", "p.yml"]);
    assert!(after.stdout.contains(&format!("  {TAG_FLOW}: cached at {short}\n")), "{}", after.stdout);
    assert!(
        after.stdout.contains(&format!("calls: {TAG_FLOW} (1 job(s), cached at {short})")),
        "{}",
        after.stdout
    );
    assert!(after.stdout.contains("tag/build (tag / build)"), "{}", after.stdout);
    assert!(after.stdout.contains("acme/js@v1: cached at"), "{}", after.stdout);
    assert!(after.stdout.contains("(jobs: pinned/build, tag/build)"), "{}", after.stdout);
    let json: Json =
        serde_json::from_str(&in_dir(&yaml, &["plan", "p.yml", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["workflows"][0]["uses"], TAG_FLOW);
    assert_eq!(json["workflows"][0]["cached"], true);
    assert_eq!(json["workflows"][0]["sha"], sha.as_str());
    assert_eq!(json["jobs"][0]["call"]["remote"]["sha"], sha.as_str());

    let checked = in_dir(&wrong, &["validate", "p.yml"]);
    assert_eq!(checked.code, 1, "{}", checked.stdout);
    assert!(checked.stdout.contains("the called workflow declares no input `versoin`"), "{}", checked.stdout);
    assert!(checked.stdout.contains("did you mean `version`?"), "{}", checked.stdout);
    assert!(
        checked.stdout.contains("the called workflow requires the input `version`"),
        "{}",
        checked.stdout
    );
    // A run refuses the same call before anything starts.
    let refused = run(Exec::Host, &host, cache.path(), &wrong, &["--secret", "TOKEN=x"]);
    assert_eq!(refused.code, 2, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.events.is_empty(), "{}", refused.stdout);
    assert!(refused.stderr.contains("the call does not match"), "{}", refused.stderr);
}

#[test]
fn a_missing_action_inside_a_called_workflow_stops_the_run_before_any_job() {
    let host = GitHost::new();
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inner = "on: workflow_call\njobs:\n  deep:\n    runs-on: x\n    steps:\n      - run: echo inner\n      - uses: acme/absent@v1\n";
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(dir.path().join(".github/workflows/inner.yml"), inner).unwrap();
    let yaml = "on: push\njobs:\n  first:\n    runs-on: x\n    steps:\n      - run: echo should not run\n  call:\n    needs: first\n    uses: ./.github/workflows/inner.yml\n";
    let r = run_in(Exec::Host, dir, &host, cache.path(), yaml, &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.of("job_started").is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("action `acme/absent@v1`: cannot reach"), "{}", r.stderr);
}

/// `pipe run` on the host with `PATH` set to `path` only (a local JavaScript action, so no git
/// is needed).
fn run_with_path(path: &Path) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("js")).unwrap();
    std::fs::write(dir.path().join("js/action.yml"), JS[0].1).unwrap();
    std::fs::write(dir.path().join("js/main.js"), JS[1].1).unwrap();
    let yaml = "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: echo should not run\n      - uses: actions/checkout@v4\n      - uses: ./js\n        with:\n          word: hi\n";
    std::fs::write(dir.path().join("p.yml"), yaml).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(pipe_bin())
        .args(["run", "p.yml", "--executor", "host", "--output", "json", "--ref", "refs/heads/main"])
        .args(["--sha", "0123456789abcdef0123456789abcdef01234567"])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("XDG_CACHE_HOME", cache.path())
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_javascript_action_needs_a_node_at_least_as_new_as_its_runs_using() {
    let bin = tempfile::tempdir().unwrap();
    // The shells the steps need, and no node.
    for shell in ["sh", "bash"] {
        let real = Path::new("/bin").join(shell);
        if real.exists() {
            std::os::unix::fs::symlink(&real, bin.path().join(shell)).unwrap();
        }
    }
    let (code, stdout, stderr) = run_with_path(bin.path());
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stdout.is_empty(), "nothing may run: {stdout}");
    assert!(
        stderr.contains(
            "the JavaScript action `./js` (node20) needs Node.js 20 or newer: there is no `node` on PATH"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("hint: install Node.js 20 or newer"), "{stderr}");

    let node = bin.path().join("node");
    std::fs::write(&node, "#!/bin/sh\necho v16.20.2\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, stdout, stderr) = run_with_path(bin.path());
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stdout.is_empty(), "nothing may run: {stdout}");
    assert!(
        stderr.contains(&format!("needs Node.js 20 or newer: {} is v16.20.2", node.display())),
        "{stderr}"
    );

    // A new enough node passes the check (this fake one then runs the action and prints nothing).
    std::fs::write(
        &node,
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo v22.1.0; else echo fake node ran; fi\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run_with_path(bin.path());
    assert!(stdout.contains("fake node ran"), "{code}\n{stdout}\n{stderr}");
}

#[test]
fn a_remote_workflow_calls_files_of_its_own_repository_and_a_local_folder_can_stand_in() {
    let outer = "on: workflow_call\njobs:\n  hop:\n    uses: ./.github/workflows/inner.yml\n";
    let inner = |who: &str| {
        format!(
            "on: workflow_call\njobs:\n  leaf:\n    runs-on: x\n    steps:\n      - run: echo inner of {who}\n"
        )
    };
    let host = GitHost::new();
    let flows = host.repo(
        "acme",
        "flows",
        &[(".github/workflows/outer.yml", outer), (".github/workflows/inner.yml", &inner("flows"))],
    );
    flows.tag("v1");
    let cache = tempfile::tempdir().unwrap();
    let yaml = "on: push\njobs:\n  go:\n    uses: acme/flows/.github/workflows/outer.yml@v1\n";
    // The caller's repository has an inner.yml of its own: not the one the remote file means.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(dir.path().join(".github/workflows/inner.yml"), inner("the caller")).unwrap();
    let mirror = dir.path().join("mirror/.github/workflows");
    std::fs::create_dir_all(&mirror).unwrap();
    std::fs::write(mirror.join("outer.yml"), outer).unwrap();
    std::fs::write(mirror.join("inner.yml"), inner("the mirror")).unwrap();
    let r = run_in(Exec::Host, dir, &host, cache.path(), yaml, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.output_lines("go/hop/leaf"), ["inner of flows"], "{}", r.stderr);

    let dir = r.dir;
    let r = run_in(Exec::Host, dir, &host, cache.path(), yaml, &["--local-action", "acme/flows@v1=mirror"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.output_lines("go/hop/leaf"), ["inner of the mirror"], "{}", r.stderr);
    assert!(r.stderr.contains("workflow acme/flows/.github/workflows/outer.yml@v1: local "), "{}", r.stderr);
}
