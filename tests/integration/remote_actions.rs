//! Remote actions end to end, against a git host made by the tests (bare repositories through
//! `file://`): fetching by tag, branch and SHA into a private action cache, reuse without a
//! fetch, two runs fetching at once, `--offline`, `--local-action`, `pipe plan`'s list, and the
//! three kinds of action — JavaScript (with `@actions/core`, pre and post), Docker (a
//! Dockerfile), composite (calling another remote action) — on the host and in Docker.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value as Json;

use crate::git_host::{GitHost, Repo, actions_core, node_or_skip};
use crate::run_host::{Exec, Ran};
use crate::test::pipe_bin;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// `pipe ARGS` in `dir` with its own action cache; JSON events parsed from stdout.
pub(crate) fn pipe(dir: tempfile::TempDir, cache: &Path, args: &[&str]) -> Ran {
    let out = Command::new(pipe_bin())
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("XDG_CACHE_HOME", cache)
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let events = stdout.lines().filter_map(|l| serde_json::from_str::<Json>(l).ok()).collect();
    Ran {
        code: out.status.code().unwrap_or(-1),
        events,
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        dir,
    }
}

/// `pipe run p.yml` of `yaml` with JSON output on `exec`, actions from `host`.
pub(crate) fn run(exec: Exec, host: &GitHost, cache: &Path, yaml: &str, extra: &[&str]) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    run_in(exec, dir, host, cache, yaml, extra)
}

pub(crate) fn run_in(
    exec: Exec,
    dir: tempfile::TempDir,
    host: &GitHost,
    cache: &Path,
    yaml: &str,
    extra: &[&str],
) -> Ran {
    std::fs::write(dir.path().join("p.yml"), yaml).unwrap();
    let source = host.source();
    let mut args: Vec<String> = [
        "run",
        "p.yml",
        "--output",
        "json",
        "--ref",
        "refs/heads/main",
        "--sha",
        SHA,
        "--action-source",
        &source,
    ]
    .map(String::from)
    .to_vec();
    args.extend(exec.args());
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = pipe(dir, cache, &args);
    if exec == Exec::Docker
        && let Some(id) = r.events.first().and_then(|e| e["run_id"].as_str())
    {
        assert!(crate::run_host::labelled_containers(id).is_empty(), "containers of run {id} left behind");
    }
    r
}

/// Position of the first output line containing `text`.
fn at(r: &Ran, job: &str, text: &str) -> usize {
    r.output_lines(job)
        .iter()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no line with `{text}`:\n{}\n{}", r.output_lines(job).join("\n"), r.stderr))
}

pub(crate) const TINY: &[(&str, &str)] = &[(
    "action.yml",
    "name: tiny\ninputs:\n  word:\n    default: tiny\noutputs:\n  said:\n    value: ${{ steps.s.outputs.said }}\nruns:\n  using: composite\n  steps:\n    - id: s\n      shell: sh\n      run: echo \"tiny says ${{ inputs.word }}\" && echo \"said=${{ inputs.word }}\" >> \"$GITHUB_OUTPUT\"\n",
)];

/// The JavaScript action: inputs (a default, a name with a space), outputs, exported
/// variables, and state from pre to main to post.
fn hello_repo(host: &GitHost) -> Option<String> {
    let modules = actions_core()?;
    let repo = host.repo(
        "acme",
        "hello",
        &[
            (
                "action.yml",
                "name: hello\ninputs:\n  who-to-greet:\n    required: true\n    default: world\n  greeting word:\n    default: Hello\noutputs:\n  greeting:\n    description: the greeting\nruns:\n  using: node20\n  pre: pre.js\n  main: main.js\n  post: post.js\n  post-if: always()\n",
            ),
            (
                "pre.js",
                "const core = require('@actions/core');\ncore.saveState('from_pre', 'pre-was-here');\nconsole.log('pre: action path ' + (process.env.GITHUB_ACTION_PATH ? 'set' : 'unset'));\n",
            ),
            (
                "main.js",
                "const core = require('@actions/core');\nconst who = core.getInput('who-to-greet', { required: true });\nconst text = process.env.INPUT_GREETING_WORD + ', ' + who;\nconsole.log('main: ' + text + ' state=' + core.getState('from_pre') + ' action=' + process.env.GITHUB_ACTION);\ncore.setOutput('greeting', text);\ncore.exportVariable('GREETED', who);\ncore.saveState('from_main', 'main-was-here');\n",
            ),
            ("post.js", "const core = require('@actions/core');\nconsole.log('post: ' + core.getState('from_pre') + ' ' + core.getState('from_main'));\n"),
        ],
    );
    repo.add_dir(&modules, "node_modules");
    repo.commit(&[], "bundle @actions/core");
    repo.tag("v1");
    Some(repo.sha())
}

// `both_backends!` (from run_host): each test runs on the host and in Docker.
both_backends! {
    fn javascript_action_runs_pre_main_and_post_with_state_inputs_and_outputs(exec) {
        if !node_or_skip() {
            return;
        }
        let host = GitHost::new();
        let Some(_) = hello_repo(&host) else { return };
        let cache = tempfile::tempdir().unwrap();
        let r = run(exec, &host, cache.path(), r#"
on: push
jobs:
  greet:
    runs-on: x
    steps:
      - run: echo first step
      - id: hi
        uses: acme/hello@v1
        with:
          who-to-greet: pipe
      - run: echo "said ${{ steps.hi.outputs.greeting }} to $GREETED"
      - run: exit 3
"#, &[]);
        // The last step fails the job; the post step runs anyway.
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(r.job("greet")["result"], "failure");
        assert_eq!(r.step("greet", 1)["outcome"], "success", "{}\n{}", r.output_lines("greet").join("\n"), r.stderr);
        let pre = at(&r, "greet", "pre: action path set");
        let first = at(&r, "greet", "first step");
        let main = at(&r, "greet", "main: Hello, pipe state=pre-was-here action=hi");
        let said = at(&r, "greet", "said Hello, pipe to pipe");
        let post = at(&r, "greet", "post: pre-was-here main-was-here");
        assert!(pre < first && first < main && main < said && said < post, "order: {pre} {first} {main} {said} {post}");
        assert!(r.stderr.contains("action acme/hello@v1: fetched"), "{}", r.stderr);
    }

    fn composite_action_by_branch_calls_a_remote_action_by_sha(exec) {
        let host = GitHost::new();
        let tiny = host.repo("acme", "tiny", TINY);
        let sha = tiny.sha();
        let combo = format!(
            "name: combo\ninputs:\n  name:\n    required: true\noutputs:\n  both:\n    value: ${{{{ steps.t.outputs.said }}}}\nruns:\n  using: composite\n  steps:\n    - id: t\n      uses: acme/tiny@{sha}\n      with:\n        word: ${{{{ inputs.name }}}}\n    - shell: sh\n      run: sh \"${{{{ github.action_path }}}}/script.sh\"\n"
        );
        let repo = host.repo("acme", "combo", &[("sub/action.yml", &combo), ("sub/script.sh", "echo \"script of combo at $GITHUB_ACTION_PATH\"\n")]);
        repo.branch("release");
        let cache = tempfile::tempdir().unwrap();
        let r = run(exec, &host, cache.path(), r#"
on: push
jobs:
  use:
    runs-on: x
    steps:
      - id: c
        uses: acme/combo/sub@release
        with:
          name: nested
      - run: echo "got ${{ steps.c.outputs.both }}"
"#, &[]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let lines = r.output_lines("use").join("\n");
        assert!(lines.contains("tiny says nested"), "{lines}");
        assert!(lines.contains("got nested"), "{lines}");
        assert!(lines.contains("script of combo at ") && lines.contains("/sub"), "{lines}");
        // The action used inside the composite action was resolved before the run, too.
        assert!(r.stderr.contains(&format!("action acme/tiny@{sha}: fetched")), "{}", r.stderr);
        assert!(r.stderr.contains("action acme/combo/sub@release: fetched"), "{}", r.stderr);
    }

    fn docker_actions_from_a_repository_and_a_local_dockerfile_take_with_args(exec) {
        if crate::run_host::Exec::docker().is_none() {
            return;
        }
        let host = GitHost::new();
        let entry = "#!/bin/sh\necho \"args: $# [$1] [$2] label=$INPUT_LABEL\"\necho \"said=$1\" >> \"$GITHUB_OUTPUT\"\n";
        let repo = host.repo("acme", "boxed", &[
            ("action.yml", "name: boxed\ninputs:\n  label:\n    default: none\nruns:\n  using: docker\n  image: Dockerfile\n"),
            ("Dockerfile", "FROM pipe-test/busybox:latest\nCOPY entry.sh /entry.sh\nENTRYPOINT [\"/entry.sh\"]\n"),
            ("entry.sh", entry),
        ]);
        let sha = repo.sha();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("only-docker")).unwrap();
        std::fs::write(dir.path().join("only-docker/Dockerfile"), "FROM pipe-test/busybox:latest\nENTRYPOINT [\"echo\", \"local dockerfile:\"]\n").unwrap();
        let cache = tempfile::tempdir().unwrap();
        let yaml = format!(r#"
on: push
jobs:
  boxed:
    runs-on: x
    steps:
      - uses: actions/checkout@v4
      - id: b
        uses: acme/boxed@{sha}
        with:
          label: L
          args: one 'two three'
      - run: echo "out=${{{{ steps.b.outputs.said }}}}"
      - uses: ./only-docker
        with:
          args: hello there
"#);
        let r = run_in(exec, dir, &host, cache.path(), &yaml, &[]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let lines = r.output_lines("boxed").join("\n");
        assert!(lines.contains("args: 2 [one] [two three] label=L"), "{lines}");
        assert!(lines.contains("out=one"), "{lines}");
        assert!(lines.contains("local dockerfile: hello there"), "{lines}");
    }
}

/// A git host with the tiny action at `acme/tiny`, tagged `v1`, and an empty action cache.
fn tiny_at_v1() -> (GitHost, Repo, tempfile::TempDir) {
    let host = GitHost::new();
    let repo = host.repo("acme", "tiny", TINY);
    repo.tag("v1");
    (host, repo, tempfile::tempdir().unwrap())
}

fn tiny_workflow(refs: &[&str]) -> String {
    let steps: String = refs
        .iter()
        .map(|r| format!("      - uses: acme/tiny@{r}\n        with:\n          word: at-{r}\n"))
        .collect();
    format!("on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n{steps}")
}

#[test]
fn the_cache_is_reused_without_a_fetch_and_offline_names_what_is_missing() {
    let (host, repo, cache) = tiny_at_v1();
    let sha = repo.sha();
    let yaml = tiny_workflow(&["v1", &sha]);

    let first = run(Exec::Host, &host, cache.path(), &yaml, &[]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.output_lines("t").contains(&"tiny says at-v1".to_string()),
        "{:?}",
        first.output_lines("t")
    );
    let fetched = first.stderr.matches(": fetched ").count();
    assert_eq!(fetched, 1, "one commit, fetched once:\n{}", first.stderr);
    let commits: Vec<String> = std::fs::read_dir(cache.path().join("pipe/actions/acme/tiny"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && n != "refs")
        .collect();
    assert_eq!(commits, std::slice::from_ref(&sha));

    // The source is gone: a second run still works from the cache, and says so.
    std::fs::remove_dir_all(&repo.bare).unwrap();
    let second = run(Exec::Host, &host, cache.path(), &yaml, &[]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert!(second.stderr.contains(&format!("action acme/tiny@{sha}: cached")), "{}", second.stderr);
    assert!(second.stderr.contains("action acme/tiny@v1: cached"), "{}", second.stderr);
    assert!(second.stderr.contains("did not answer"), "{}", second.stderr);
    assert!(!second.stderr.contains("fetched"), "{}", second.stderr);

    let offline = run(Exec::Host, &host, cache.path(), &yaml, &["--offline"]);
    assert_eq!(offline.code, 0, "{}\n{}", offline.stdout, offline.stderr);
    assert!(offline.output_lines("t").contains(&format!("tiny says at-{sha}")));

    // Offline with an empty cache: nothing runs, and the message names the actions.
    let empty = tempfile::tempdir().unwrap();
    let missing = run(Exec::Host, &host, empty.path(), &yaml, &["--offline"]);
    assert_eq!(missing.code, 2, "{}\n{}", missing.stdout, missing.stderr);
    assert!(missing.events.is_empty(), "nothing may run: {}", missing.stdout);
    assert!(missing.stderr.contains("2 action(s) not available"), "{}", missing.stderr);
    assert!(
        missing.stderr.contains("action `acme/tiny@v1`") && missing.stderr.contains("--offline"),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("hint: run once without --offline"), "{}", missing.stderr);
}

#[test]
fn a_missing_action_stops_the_run_before_any_job() {
    let host = GitHost::new();
    host.repo("acme", "tiny", TINY);
    let cache = tempfile::tempdir().unwrap();
    let yaml = "on: push\njobs:\n  first:\n    runs-on: x\n    steps:\n      - run: echo should not run\n  second:\n    needs: first\n    runs-on: x\n    steps:\n      - uses: acme/tiny@v9\n      - uses: acme/absent@v1\n";
    let r = run(Exec::Host, &host, cache.path(), yaml, &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.of("job_started").is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("has no tag or branch `v9`"), "{}", r.stderr);
    assert!(r.stderr.contains("action `acme/absent@v1`: cannot reach"), "{}", r.stderr);
}

#[test]
fn two_runs_fetching_at_once_share_one_cache_entry() {
    let (host, repo, cache) = tiny_at_v1();
    let yaml = tiny_workflow(&["v1"]);
    let source = host.source();
    let spawn = || {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.yml"), &yaml).unwrap();
        let child = Command::new(pipe_bin())
            .args(["run", "p.yml", "--executor", "host", "--action-source", &source])
            .current_dir(dir.path())
            .env("XDG_CACHE_HOME", cache.path())
            .env("NO_COLOR", "1")
            .env_remove("PIPE_STATE_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        (dir, child)
    };
    let (a, b) = (spawn(), spawn());
    for (_dir, child) in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("tiny says at-v1"));
    }
    let entries: Vec<String> = std::fs::read_dir(cache.path().join("pipe/actions/acme/tiny"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(entries.contains(&repo.sha()), "{entries:?}");
    assert!(!entries.iter().any(|e| e.starts_with(".tmp")), "a temporary folder was left: {entries:?}");
    assert!(
        std::path::Path::new(&cache.path().join(format!("pipe/actions/acme/tiny/{}/action.yml", repo.sha())))
            .is_file()
    );
}

#[test]
fn plan_and_dry_run_list_the_actions_and_whether_they_are_cached() {
    let (host, repo, cache) = tiny_at_v1();
    let yaml = tiny_workflow(&["v1"]);
    let source = host.source();
    let plan = |format: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.yml"), &yaml).unwrap();
        pipe(dir, cache.path(), &["plan", "p.yml", "--format", format, "--action-source", &source])
    };
    let before = plan("text");
    assert_eq!(before.code, 0, "{}", before.stderr);
    assert!(before.stdout.contains("1 remote action(s):\n  acme/tiny@v1: not cached"), "{}", before.stdout);

    let ran = run(Exec::Host, &host, cache.path(), &yaml, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let after = plan("text");
    let short = &repo.sha()[..12];
    assert!(
        after.stdout.contains(&format!("acme/tiny@v1: cached at {short}, composite (jobs: t)")),
        "{}",
        after.stdout
    );
    let json: Json = serde_json::from_str(&plan("json").stdout).unwrap();
    assert_eq!(json["actions"][0]["uses"], "acme/tiny@v1");
    assert_eq!(json["actions"][0]["cached"], true);
    assert_eq!(json["actions"][0]["sha"], repo.sha().as_str());

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yml"), &yaml).unwrap();
    let dry = pipe(
        dir,
        tempfile::tempdir().unwrap().path(),
        &["run", "p.yml", "--dry-run", "--action-source", &source],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("acme/tiny@v1: not cached"), "{}", dry.stdout);
}

#[test]
fn a_local_action_folder_stands_in_for_a_repository() {
    let host = GitHost::new();
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("mine");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("action.yml"), TINY[0].1).unwrap();
    let yaml = "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: acme/nowhere@v1\n        with:\n          word: local\n";
    let r = run_in(Exec::Host, dir, &host, cache.path(), yaml, &["--local-action", "acme/nowhere@v1=mine"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.output_lines("t").contains(&"tiny says local".to_string()));
    assert!(r.stderr.contains("action acme/nowhere@v1: local "), "{}", r.stderr);
    let bad =
        pipe(tempfile::tempdir().unwrap(), cache.path(), &["run", "p.yml", "--local-action", "acme/nowhere"]);
    assert_eq!(bad.code, 2);
}

#[test]
fn pipe_toml_turns_a_built_in_action_off_so_the_real_one_runs() {
    let host = GitHost::new();
    let repo = host.repo("actions", "checkout", &[(
        "action.yml",
        "name: checkout\nruns:\n  using: composite\n  steps:\n    - shell: sh\n      run: echo the fetched checkout ran\n",
    )]);
    repo.tag("v4");
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipe.toml"), "[actions]\ndisable_builtin = [\"actions/checkout\"]\n")
        .unwrap();
    let yaml = "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/cache@v4\n        with:\n          key: k\n          path: p\n";
    let r = run_in(Exec::Host, dir, &host, cache.path(), yaml, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.output_lines("t").contains(&"the fetched checkout ran".to_string()),
        "{:?}",
        r.output_lines("t")
    );
    // actions/cache stays built in: nothing is fetched for it.
    assert!(!r.stderr.contains("action actions/cache"), "{}", r.stderr);
}

#[test]
fn validate_checks_inputs_and_outputs_of_cached_actions_without_the_network() {
    let (host, repo, cache) = tiny_at_v1();
    let source = host.source();
    let yaml = "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - id: t\n        uses: acme/tiny@v1\n        with:\n          wrd: x\n      - run: echo \"${{ steps.t.outputs.sayd }} ${{ steps.t.outputs.said }}\"\n";
    let validate = || {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.yml"), yaml).unwrap();
        pipe(dir, cache.path(), &["validate", "p.yml", "--action-source", &source])
    };
    // Not cached yet: nothing is known about the action, nothing is reported.
    let before = validate();
    assert_eq!(before.code, 0, "{}", before.stdout);
    assert!(!before.stdout.contains("[action-"), "{}", before.stdout);

    let ran = run(Exec::Host, &host, cache.path(), &tiny_workflow(&["v1"]), &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    std::fs::remove_dir_all(&repo.bare).unwrap();
    let after = validate();
    assert_eq!(after.code, 1, "{}", after.stdout);
    assert!(
        after.stdout.contains("p.yml:9:11: warning: `acme/tiny@v1` declares no input `wrd`"),
        "{}",
        after.stdout
    );
    assert!(after.stdout.contains("did you mean `word`?"), "{}", after.stdout);
    assert!(
        after.stdout.contains("p.yml:10:40: error: step `t` (`acme/tiny@v1`) has no output `sayd`"),
        "{}",
        after.stdout
    );
    assert_eq!(after.stdout.matches("[action-unknown-output]").count(), 1, "{}", after.stdout);
}

#[test]
fn a_configured_node_that_does_not_exist_stops_a_run_with_javascript_actions() {
    let host = GitHost::new();
    let repo = host.repo(
        "acme",
        "js",
        &[
            ("action.yml", "name: js\nruns:\n  using: node20\n  main: main.js\n"),
            ("main.js", "console.log('ran');\n"),
        ],
    );
    repo.tag("v1");
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipe.toml"), "[actions]\nnode = \"/nonexistent/node\"\n").unwrap();
    let yaml = "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: acme/js@v1\n";
    let r = run_in(Exec::Host, dir, &host, cache.path(), yaml, &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("pipe.toml [actions] node: /nonexistent/node is not a file"), "{}", r.stderr);
    assert!(r.of("job_started").is_empty(), "{}", r.stdout);
}
