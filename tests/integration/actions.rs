//! Built-in and local actions end to end through the binary: cache (post-step save, exact hits,
//! restore-keys), docker/* actions, composite actions (inputs, outputs, nesting), docker actions,
//! `docker://` steps and the error for remote actions. Tests that need Docker skip with a printed
//! reason when no daemon answers, and fail when `CI=true`; every container and image they create
//! is removed.

use std::path::Path;
use std::process::{Command, Stdio};

use bollard::Docker;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveImageOptionsBuilder};

use crate::run_host::{Exec, Ran, run_in, run_pipeline};
use crate::test::pipe_bin;

const DEBIAN: &str = "pipe-test/debian:bookworm";
const BUSYBOX: &str = "pipe-test/busybox:latest";

/// `pipe run` with JSON output and the given executor arguments, in `dir`.
fn run_with(dir: tempfile::TempDir, yaml: &str, args: &[&str]) -> Ran {
    std::fs::write(dir.path().join("p.yml"), yaml).unwrap();
    let out = Command::new(pipe_bin())
        .args(["run", "p.yml", "--output", "json", "--ref", "refs/heads/main", "--sha", &"a".repeat(40)])
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("PIPE_STATE_DIR")
        .env_remove("PIPE_REGISTRY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let events = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    Ran {
        code: out.status.code().unwrap_or(-1),
        events,
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        dir,
    }
}

fn on_docker(dir: tempfile::TempDir, yaml: &str) -> Ran {
    run_with(dir, yaml, &["--executor", "docker", "-P", &format!("x={DEBIAN}")])
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn run_id(r: &Ran) -> String {
    r.of("run_started").first().and_then(|e| e["run_id"].as_str()).unwrap_or_default().to_string()
}

fn lines(r: &Ran, job: &str) -> String {
    r.output_lines(job).join("\n")
}

/// The daemon, on a runtime of its own (the tests are synchronous).
struct Daemon {
    rt: tokio::runtime::Runtime,
    docker: Docker,
}

/// The daemon, or None with a printed reason; under `CI=true` a missing daemon fails the test.
fn docker_or_skip(test: &str) -> Option<Daemon> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    match rt.block_on(pipe::backend::docker::connect()) {
        Ok(docker) => {
            let daemon = Daemon { rt, docker };
            for image in [DEBIAN, BUSYBOX] {
                assert!(
                    daemon.image_exists(image),
                    "image {image} is missing: run scripts/test-images.sh first"
                );
            }
            Some(daemon)
        }
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but no Docker daemon: {e}")
        }
        Err(e) => {
            eprintln!("skipping {test}: no Docker daemon ({e})");
            None
        }
    }
}

impl Daemon {
    fn image_exists(&self, image: &str) -> bool {
        self.rt.block_on(self.docker.inspect_image(image)).is_ok()
    }

    fn remove_image(&self, image: &str) {
        let options = RemoveImageOptionsBuilder::default().force(true).build();
        let _ = self.rt.block_on(self.docker.remove_image(image, Some(options), None));
    }

    /// Containers (running or not) left by a run.
    fn containers_of(&self, run_id: &str) -> usize {
        let filters = std::collections::HashMap::from([("label", vec![format!("dev.pipe.run-id={run_id}")])]);
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        self.rt.block_on(self.docker.list_containers(Some(options))).map(|c| c.len()).unwrap_or(0)
    }

    /// Images whose tag names the run (docker actions tag theirs with the run id).
    fn action_images_of(&self, run_id: &str) -> Vec<String> {
        let images = self
            .rt
            .block_on(self.docker.list_images(None::<bollard::query_parameters::ListImagesOptions>))
            .unwrap_or_default();
        images.into_iter().flat_map(|i| i.repo_tags).filter(|t| t.contains(run_id)).collect()
    }

    fn assert_clean(&self, r: &Ran) {
        let id = run_id(r);
        assert!(!id.is_empty(), "no run id:\n{}\n{}", r.stdout, r.stderr);
        assert_eq!(self.containers_of(&id), 0, "containers left by run {id}");
        assert_eq!(self.action_images_of(&id), Vec::<String>::new(), "images left by run {id}");
    }
}

/// A tag unique to this test process.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("pipe-test/{name}:{}-{nanos}", std::process::id())
}

const CACHE: &str = r#"
on: push
jobs:
  build:
    runs-on: x
    outputs:
      hit: ${{ steps.cache.outputs.cache-hit }}
      matched: ${{ steps.cache.outputs.cache-matched-key }}
    steps:
      - id: cache
        uses: actions/cache@v4
        with:
          key: deps-KEY
          restore-keys: |
            deps-
          path: |
            deps
            single.txt
      - run: |
          if [ -f deps/lib/data ]; then echo "restored: $(cat deps/lib/data) $(cat single.txt)"; fi
          mkdir -p deps/lib && echo "built by KEY" > deps/lib/data && echo one > single.txt
"#;

fn cache_pipeline(key: &str) -> String {
    CACHE.replace("KEY", key)
}

fn cache_miss_save_hit_and_prefix(first: Ran, rerun: impl Fn(tempfile::TempDir, &str) -> Ran) {
    let r = first;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.job("build")["outputs"]["hit"], "false");
    let text = lines(&r, "build");
    assert!(text.contains("cache: no entry for `deps-1`"), "{text}");
    assert!(text.contains("cache: saved 2 file(s) as `deps-1`"), "{text}");

    let r = rerun(r.dir, &cache_pipeline("1"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.job("build")["outputs"]["hit"], "true");
    let text = lines(&r, "build");
    assert!(text.contains("restored: built by 1 one"), "{text}");
    assert!(text.contains("hit on the primary key `deps-1`: not saving"), "{text}");

    // A new key: the newest `deps-` entry is restored, cache-hit is false, the new key is saved.
    let r = rerun(r.dir, &cache_pipeline("2"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.job("build")["outputs"]["hit"], "false");
    assert_eq!(r.job("build")["outputs"]["matched"], "deps-1");
    let text = lines(&r, "build");
    assert!(text.contains("restored: built by 1 one"), "{text}");
    assert!(text.contains("saved 2 file(s) as `deps-2`"), "{text}");
    let r = rerun(r.dir, &cache_pipeline("3"));
    assert_eq!(r.job("build")["outputs"]["matched"], "deps-2", "newest match wins");
}

#[test]
fn cache_miss_then_save_then_hit_then_restore_key_on_the_host() {
    let first = run_pipeline(Exec::Host, &cache_pipeline("1"), &[]);
    cache_miss_save_hit_and_prefix(first, |dir, yaml| run_in(Exec::Host, dir, yaml, &[]));
}

#[test]
fn cache_is_not_saved_when_the_job_fails_and_paths_are_literal() {
    let r = run_pipeline(
        Exec::Host,
        r#"
on: push
jobs:
  a:
    runs-on: x
    steps:
      - uses: actions/cache@v4
        with: {key: k, path: out}
      - run: mkdir out && touch out/f && exit 1
  b:
    runs-on: x
    steps:
      - uses: actions/cache@v4
        with: {key: k, path: "**/node_modules"}
"#,
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(lines(&r, "a").contains("the job did not succeed: `k` is not saved"), "{}", lines(&r, "a"));
    assert!(lines(&r, "b").contains("glob pattern"), "{}", lines(&r, "b"));
    assert!(!r.dir.path().join(".pipe/cache").read_dir().is_ok_and(|mut d| {
        d.any(|e| e.is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('.')))
    }));
}

#[test]
fn cache_in_a_docker_job() {
    let Some(daemon) = docker_or_skip("cache_in_a_docker_job") else { return };
    let first = on_docker(tempfile::tempdir().unwrap(), &cache_pipeline("1"));
    daemon.assert_clean(&first);
    cache_miss_save_hit_and_prefix(first, |dir, yaml| {
        let r = on_docker(dir, yaml);
        daemon.assert_clean(&r);
        r
    });
}

#[test]
fn an_uncached_remote_action_offline_stops_the_run_and_names_itself() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: someone/deploy-thing@v3\n",
    )
    .unwrap();
    let out = Command::new(pipe_bin())
        .args(["run", "p.yml", "--executor", "host", "--offline"])
        .current_dir(dir.path())
        .env("XDG_CACHE_HOME", cache.path())
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("action `someone/deploy-thing@v3`: not in the action cache"), "{stderr}");
    assert!(stderr.contains("--local-action"), "{stderr}");
    assert!(!dir.path().join(".pipe/runs").exists(), "no run may start");
}

#[test]
fn buildx_and_login_are_no_ops_that_mask_the_password() {
    let r = run_pipeline(
        Exec::Host,
        r#"
on: push
jobs:
  a:
    runs-on: x
    steps:
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: me
          password: hunter2-not-a-secret
      - run: echo "leak hunter2-not-a-secret"
"#,
        &[],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let text = lines(&r, "a");
    assert!(text.contains("buildx: using the local daemon's builder"), "{text}");
    assert!(
        text.contains("login: ghcr.io: no registry is configured for offline runs: credentials not used")
    );
    assert!(text.contains("leak ***"), "{text}");
    assert!(!r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"));
}

/// A composite action with an input default, an output, GITHUB_ENV, a nested composite action.
fn composite_workspace(dir: &Path) {
    write(
        dir,
        &[
            (
                ".github/actions/greet/action.yml",
                r#"
name: greet
inputs:
  who:
    description: whom to greet
    default: world
  punctuation:
    default: "!"
outputs:
  greeting:
    value: ${{ steps.compose.outputs.text }}
  loud:
    value: ${{ steps.shout.outputs.loud }}
runs:
  using: composite
  steps:
    - id: compose
      shell: bash
      run: |
        echo "text=hello ${{ inputs.who }}${{ inputs.punctuation }}" >> "$GITHUB_OUTPUT"
        echo "GREETED=${{ inputs.who }}" >> "$GITHUB_ENV"
        test -f "$GITHUB_ACTION_PATH/action.yml"
    - id: shout
      uses: ./.github/actions/shout
      with:
        text: ${{ steps.compose.outputs.text }}
    - if: failure()
      shell: sh
      run: echo never
"#,
            ),
            (
                ".github/actions/shout/action.yml",
                r#"
inputs:
  text: {required: true}
outputs:
  loud: {value: "${{ steps.up.outputs.loud }}"}
runs:
  using: composite
  steps:
    - id: up
      shell: sh
      run: echo "loud=$(echo '${{ inputs.text }}' | tr a-z A-Z)" >> "$GITHUB_OUTPUT"
"#,
            ),
            (
                ".github/actions/loop/action.yml",
                "runs:\n  using: composite\n  steps:\n    - uses: ./.github/actions/loop\n",
            ),
        ],
    );
}

const COMPOSITE: &str = r#"
on: push
jobs:
  a:
    runs-on: x
    outputs:
      greeting: ${{ steps.greet.outputs.greeting }}
      loud: ${{ steps.greet.outputs.loud }}
      default: ${{ steps.default.outputs.greeting }}
    steps:
      - uses: actions/checkout@v4
      - id: greet
        uses: ./.github/actions/greet
        with:
          who: pipe
      - id: default
        uses: ./.github/actions/greet
      - run: echo "greeted=$GREETED"
  loops:
    runs-on: x
    steps:
      - uses: actions/checkout@v4
      - uses: ./.github/actions/loop
"#;

fn check_composite(r: &Ran) {
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let a = r.job("a");
    assert_eq!(a["result"], "success", "{}", lines(r, "a"));
    assert_eq!(a["outputs"]["greeting"], "hello pipe!");
    assert_eq!(a["outputs"]["loud"], "HELLO PIPE!");
    assert_eq!(a["outputs"]["default"], "hello world!");
    assert!(lines(r, "a").contains("greeted=world"), "{}", lines(r, "a"));
    assert!(!lines(r, "a").contains("never"));
    assert_eq!(r.job("loops")["result"], "failure");
    assert!(lines(r, "loops").contains("nest more than 10 levels"), "{}", lines(r, "loops"));
}

#[test]
fn composite_actions_on_the_host() {
    let dir = tempfile::tempdir().unwrap();
    composite_workspace(dir.path());
    check_composite(&run_in(Exec::Host, dir, COMPOSITE, &[]));
}

#[test]
fn composite_actions_in_a_docker_job() {
    let Some(daemon) = docker_or_skip("composite_actions_in_a_docker_job") else { return };
    let dir = tempfile::tempdir().unwrap();
    composite_workspace(dir.path());
    let r = on_docker(dir, COMPOSITE);
    daemon.assert_clean(&r);
    check_composite(&r);
}

#[test]
fn dockerfile_action_gets_inputs_args_env_and_the_workspace() {
    let Some(daemon) = docker_or_skip("dockerfile_action_gets_inputs_args_env_and_the_workspace") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "act/action.yml",
                r#"
inputs:
  who: {default: nobody}
runs:
  using: docker
  image: Dockerfile
  args: ["${{ inputs.who }}-as-arg"]
  env:
    FROM_ACTION: "env ${{ inputs.who }}"
"#,
            ),
            (
                "act/Dockerfile",
                "FROM pipe-test/busybox:latest\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT [\"sh\", \"/entrypoint.sh\"]\n",
            ),
            (
                "act/entrypoint.sh",
                "echo \"hello $INPUT_WHO, $1, $FROM_ACTION, in $(pwd)\"\n\
                 echo \"said=$INPUT_WHO\" >> \"$GITHUB_OUTPUT\"\n\
                 echo made-by-action > result.txt\n\
                 test \"$STEP_VAR\" = step-value || exit 4\n",
            ),
        ],
    );
    let yaml = r#"
on: push
jobs:
  a:
    runs-on: x
    outputs:
      said: ${{ steps.act.outputs.said }}
    steps:
      - uses: actions/checkout@v4
      - id: act
        uses: ./act
        env:
          STEP_VAR: step-value
        with:
          who: tester
      - run: cat result.txt
"#;
    let copy = tempfile::tempdir().unwrap();
    for entry in ["act/action.yml", "act/Dockerfile", "act/entrypoint.sh"] {
        write(copy.path(), &[(entry, &std::fs::read_to_string(dir.path().join(entry)).unwrap())]);
    }
    // The same action in a Docker job and in a host job (through the local daemon).
    for (executor, r) in [("docker", on_docker(dir, yaml)), ("host", run_in(Exec::Host, copy, yaml, &[]))] {
        daemon.assert_clean(&r);
        assert_eq!(r.code, 0, "{executor}: {}\n{}", r.stdout, r.stderr);
        let text = lines(&r, "a");
        assert!(
            text.contains("hello tester, tester-as-arg, env tester, in /github/workspace"),
            "{executor}: {text}"
        );
        assert!(text.contains("made-by-action"), "{text}");
        assert_eq!(r.job("a")["outputs"]["said"], "tester");
    }
}

#[test]
fn docker_url_steps_run_a_local_image() {
    let Some(daemon) = docker_or_skip("docker_url_steps_run_a_local_image") else { return };
    let yaml = r#"
on: push
jobs:
  a:
    runs-on: x
    outputs:
      out: ${{ steps.ok.outputs.greeting }}
    steps:
      - run: echo from-the-job > shared.txt
      - id: ok
        uses: docker://pipe-test/busybox:latest
        env:
          NAME: pipe
        with:
          entrypoint: sh
          args: -c "echo \"hi $NAME $(cat shared.txt)\"; echo greeting=hi >> $GITHUB_OUTPUT"
      - id: fails
        continue-on-error: true
        uses: docker://pipe-test/busybox:latest
        with:
          args: sh -c "exit 3"
      - run: echo "fails=${{ steps.fails.outcome }}"
      - uses: docker://pipe-test/not-here:latest
"#;
    let r = run_with(
        tempfile::tempdir().unwrap(),
        yaml,
        &["--executor", "docker", "-P", &format!("x={DEBIAN}"), "--pull", "never"],
    );
    daemon.assert_clean(&r);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let text = lines(&r, "a");
    assert!(text.contains("hi pipe from-the-job"), "{text}");
    assert!(text.contains("Process completed with exit code 3."), "{text}");
    assert!(text.contains("fails=failure"), "{text}");
    assert!(text.contains("pipe-test/not-here:latest"), "{text}");
    assert_eq!(r.step("a", 2)["outcome"], "failure");
    assert_eq!(r.step("a", 4)["conclusion"], "failure");
    assert_eq!(r.job("a")["outputs"]["out"], "hi");

    // A host job uses the local daemon for it too.
    let r = run_pipeline(
        Exec::Host,
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: docker://pipe-test/busybox:latest\n        with: {args: echo on-the-host}\n",
        &[],
    );
    daemon.assert_clean(&r);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(lines(&r, "a").contains("on-the-host"));
}

#[test]
fn build_push_builds_an_image_through_the_daemon() {
    let Some(daemon) = docker_or_skip("build_push_builds_an_image_through_the_daemon") else { return };
    let tag = unique("built");
    let second = format!("{tag}-second");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "app/Containerfile",
            "FROM pipe-test/busybox:latest\nARG MESSAGE=unset\nRUN echo \"$MESSAGE\" > /message\n",
        )],
    );
    let yaml = format!(
        r#"
on: push
jobs:
  a:
    runs-on: x
    outputs:
      id: ${{{{ steps.build.outputs.imageid }}}}
    steps:
      - uses: actions/checkout@v4
      - uses: docker/setup-buildx-action@v3
      - id: build
        uses: docker/build-push-action@v6
        with:
          context: app
          file: app/Containerfile
          tags: {tag}, {second}
          build-args: |
            MESSAGE=built by pipe
          push: true
          platforms: linux/amd64
      - uses: docker://{tag}
        with:
          args: cat /message
"#
    );
    let r = on_docker(dir, &yaml);
    let built = daemon.image_exists(&tag) && daemon.image_exists(&second);
    daemon.remove_image(&tag);
    daemon.remove_image(&second);
    daemon.assert_clean(&r);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(built, "the image was not built");
    let text = lines(&r, "a");
    assert!(text.contains("built by pipe"), "{text}");
    assert!(text.contains("no registry is configured (PIPE_REGISTRY): the image stays in the local daemon"));
    assert!(text.contains("input `platforms` is not supported offline and was ignored"), "{text}");
    assert!(r.job("a")["outputs"]["id"].as_str().is_some_and(|id| id.starts_with("sha256:")));

    // A host job builds through the local daemon too.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("Dockerfile", "FROM pipe-test/busybox:latest\n")]);
    let host_tag = unique("built-on-host");
    let yaml = format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker/build-push-action@v6\n        with: {{tags: \"{host_tag}\"}}\n"
    );
    let r = run_in(Exec::Host, dir, &yaml, &[]);
    let built = daemon.image_exists(&host_tag);
    daemon.remove_image(&host_tag);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(built, "the host job's image was not built");
}
