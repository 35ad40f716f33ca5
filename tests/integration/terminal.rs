//! What a person sees of a run: the plain output (snapshots for success, failure, skipped,
//! matrix and gated runs, durations and run ids masked), the live view in a pseudo-terminal,
//! `-q`, closed pipes, names that match between the view, the logs and `pipe logs`, `pipe runs`,
//! `pipe logs --follow`, completions and the manual page.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::test::{all_output, pipe_bin, pipe_in, unindent};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn dir_with(pipeline: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yml"), pipeline).unwrap();
    dir
}

/// `pipe run p.yml` on the host, one leg at a time (a stable order of lines), no terminal.
fn run(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        "p.yml",
        "--executor",
        "host",
        "--parallel",
        "1",
        "--ref",
        "refs/heads/main",
        "--sha",
        SHA,
    ];
    args.extend_from_slice(extra);
    pipe_in(dir, &args)
}

/// Run ids and durations replaced, so the output can be compared whole.
fn masked(text: &str) -> String {
    let id = regex::Regex::new(r"\d{8}-\d{6}-[0-9a-f]{6}").unwrap();
    let padded = regex::Regex::new(r" +\d+(\.\d|m\d\d)s\b").unwrap();
    let secs = regex::Regex::new(r"\b\d+(\.\d|m\d\d)s\b").unwrap();
    let text = id.replace_all(text, "RUN");
    let text = padded.replace_all(&text, " T");
    secs.replace_all(&text, "T").into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[track_caller]
fn assert_snapshot(actual: &str, expected: &str) {
    let expected = unindent(expected);
    assert!(actual == expected, "--- expected\n{expected}\n--- actual\n{actual}");
}

#[test]
fn plain_output_of_a_successful_run() {
    let dir = dir_with(
        "on: push\njobs:\n  build:\n    runs-on: x\n    steps:\n      - name: Compile\n        run: |\n          echo '::group::Compiler'\n          echo compiling\n          echo '::endgroup::'\n          echo compiled\n  test:\n    needs: build\n    runs-on: x\n    steps:\n      - run: echo tested\n",
    );
    let out = run(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_snapshot(
        &masked(&stdout(&out)),
        "
        run RUN of p.yml: push on refs/heads/main at 0123456789ab (delivery mode)
        build | job started (host)
        build | > Compile
        build | == Compiler
        build |   compiling
        build |   compiled
        build | ok Compile (T)
        build | job ok (T)
        test  | job started (host)
        test  | > Run echo tested
        test  |   tested
        test  | ok Run echo tested (T)
        test  | job ok (T)

        JOB    RESULT     DURATION  DETAILS
        build  success T
        test   success T
        run RUN succeeded in T
          logs:    pipe logs RUN
        ",
    );
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b), "no escape codes");
}

const FAILING: &str = r#"on: push
jobs:
  test:
    runs-on: x
    strategy:
      matrix:
        py: ["3.11", "3.12"]
        os: [linux]
    steps:
      - name: Run tests
        run: |
          for i in $(seq 1 25); do echo "line $i"; done
          if [ "${{ matrix.py }}" = "3.12" ]; then exit 3; fi
  off:
    if: false
    runs-on: x
    steps: [{run: echo never}]
  deploy:
    needs: test
    runs-on: x
    steps: [{run: echo never}]
"#;

#[test]
fn plain_output_of_a_failed_matrix_with_skipped_jobs() {
    let dir = dir_with(FAILING);
    let out = run(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let text = masked(&stdout(&out));
    let tail: String = (6..=25).map(|i| format!("  | line {i}\n")).collect();
    let expected_block = format!(
        "test (3.12, linux): step `Run tests` failed (exit code 3)\n  last 20 line(s):\n{}  | Process completed with exit code 3.\n  full log: .pipe/runs/RUN/logs/test (3.12, linux)/00-Run tests.log\n",
        &tail[tail.find("  | line 7").unwrap()..]
    );
    assert!(text.contains(&expected_block), "{text}");
    assert!(text.contains("test (3.12, linux) | FAILED Run tests (T)\n"), "{text}");
    assert!(text.contains("off                | job skipped\n"), "{text}");
    let table = &text[text.find("\nJOB ").expect("a table")..];
    assert_snapshot(
        table,
        "

        JOB                 RESULT     DURATION  DETAILS
        test (3.11, linux)  success T
        test (3.12, linux)  failure T  `Run tests` failed (exit code 3)
        off                 skipped           -
        deploy              skipped           -
        run RUN failed in T
          logs:    pipe logs RUN 'test (3.12, linux)'
          resume:  pipe resume RUN (runs what did not succeed)
        ",
    );
    // The log named in the block is there, and `pipe logs` takes the leg's name or the job id.
    let log = std::fs::read_dir(dir.path().join(".pipe/runs")).unwrap().next().unwrap().unwrap().path();
    let log = log.join("logs/test (3.12, linux)/00-Run tests.log");
    assert!(std::fs::read_to_string(&log).unwrap().starts_with("line 1\n"), "{}", log.display());
    let one = pipe_in(dir.path(), &["logs", "last", "test (3.12, linux)"]);
    let one = stdout(&one);
    assert!(one.starts_with("== test (3.12, linux) / Run tests ==\nline 1\n"), "{one}");
    assert!(!one.contains("3.11"), "{one}");
    let both = stdout(&pipe_in(dir.path(), &["logs", "last", "test"]));
    assert!(
        both.contains("== test (3.11, linux) / Run tests ==")
            && both.contains("== test (3.12, linux) / Run tests ==")
    );
    let unknown = pipe_in(dir.path(), &["logs", "last", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        all_output(&unknown).contains("jobs with logs: 'test (3.11, linux)', 'test (3.12, linux)'"),
        "{}",
        all_output(&unknown)
    );
}

/// `--failure-lines N` shows exactly the last N lines of the failed step (the closing
/// "Process completed" line counts as one); `0` leaves the title and the log's path.
#[test]
fn failure_lines_sets_how_many_last_lines_are_shown() {
    let dir = dir_with(FAILING);
    let out = run(dir.path(), &["--failure-lines", "5"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let text = masked(&stdout(&out));
    let expected = "test (3.12, linux): step `Run tests` failed (exit code 3)\n  last 5 line(s):\n  | line 22\n  | line 23\n  | line 24\n  | line 25\n  | Process completed with exit code 3.\n  full log: .pipe/runs/RUN/logs/test (3.12, linux)/00-Run tests.log\n";
    assert!(text.contains(expected), "{text}");
    assert!(!text.contains("  | line 21\n"), "more than 5 lines shown:\n{text}");

    let none = run(dir.path(), &["--failure-lines", "0"]);
    assert_eq!(none.status.code(), Some(1), "{}", all_output(&none));
    let text = masked(&stdout(&none));
    let expected = "test (3.12, linux): step `Run tests` failed (exit code 3)\n  full log: .pipe/runs/RUN/logs/test (3.12, linux)/00-Run tests.log\n";
    assert!(text.contains(expected), "{text}");
    assert!(!text.contains("  | line 25\n") && !text.contains("last 0"), "{text}");
}

#[test]
fn quiet_prints_results_and_problems_only() {
    let dir = dir_with(FAILING);
    let out = run(dir.path(), &["-q"]);
    assert_eq!(out.status.code(), Some(1));
    let text = masked(&stdout(&out));
    assert!(
        !text.contains("job started") && !text.contains("  line 1\n") && !text.contains("> Run tests"),
        "{text}"
    );
    assert!(text.contains("test (3.12, linux) | FAILED Run tests (T)\n"), "{text}");
    assert!(text.contains("  last 20 line(s):\n"), "{text}");
    assert!(text.contains("test (3.11, linux) | job ok (T)\n"), "{text}");
    assert!(text.contains("run RUN failed in T\n"), "{text}");
    // A notice that changes what runs is never hidden.
    let dir = dir_with(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ secrets.API_KEY }}\n",
    );
    let out = run(dir.path(), &["-q"]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: the workflow uses secret `API_KEY`, which is not given"), "{err}");
    let given = run(dir.path(), &["-q", "--secret", "API_KEY=x"]);
    assert!(!String::from_utf8_lossy(&given.stderr).contains("API_KEY"));
}

const GATED: &str = r#"on: push
jobs:
  build:
    runs-on: x
    steps: [{name: Build, run: echo built}]
  deploy:
    needs: build
    runs-on: x
    environment:
      name: production
      url: https://prod.example
    steps: [{run: echo deploying}]
"#;

#[test]
fn plain_output_of_a_gated_run_then_its_resume() {
    let dir = dir_with(GATED);
    let out = run(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(3), "{}", all_output(&out));
    assert_snapshot(
        &masked(&stdout(&out)),
        "
        run RUN of p.yml: push on refs/heads/main at 0123456789ab (delivery mode)
        build  | job started (host)
        build  | > Build
        build  |   built
        build  | ok Build (T)
        build  | job ok (T)
        deploy | waiting for approval to deploy to `production`

        JOB    RESULT     DURATION  DETAILS
        build  success T
        run RUN is waiting for approval in T
          logs:    pipe logs RUN
          approve: pipe approve RUN --env production (or pipe reject RUN --env production)
          resume:  pipe resume RUN
        ",
    );
    let runs = stdout(&pipe_in(dir.path(), &["runs"]));
    assert!(runs.lines().nth(1).is_some_and(|l| l.contains(" waiting ")), "{runs}");
    let approved = pipe_in(dir.path(), &["approve", "last", "--as", "alice", "--comment", "ship it"]);
    assert_eq!(approved.status.code(), Some(0), "{}", all_output(&approved));
    let resumed = pipe_in(dir.path(), &["resume", "last"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", all_output(&resumed));
    let text = masked(&stdout(&resumed));
    let table = &text[text.find("\nJOB ").expect("a table")..];
    assert_snapshot(
        table,
        "

        JOB     RESULT     DURATION  DETAILS
        deploy  success T
        gates:
          production: approved by alice: ship it
        deployed:
          production: https://prod.example (success)
        run RUN succeeded in T
          logs:    pipe logs RUN
        ",
    );
    let runs = stdout(&pipe_in(dir.path(), &["runs"]));
    let row = runs.lines().nth(1).unwrap();
    assert!(row.contains(" success ") && regex::Regex::new(r" \d+\.\ds ").unwrap().is_match(row), "{runs}");
}

/// `script` gives pipe a pseudo-terminal: the live view (spinner line with the running step and
/// its elapsed time, the final table), and with NO_COLOR plain lines without any escape code.
#[test]
fn the_live_view_in_a_terminal_and_plain_lines_with_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        assert!(std::env::var("CI").is_err(), "`script` (util-linux) is needed under CI");
        eprintln!("skipped: `script` is not installed");
        return;
    }
    let dir = dir_with(
        "on: push\njobs:\n  slow:\n    runs-on: x\n    steps:\n      - name: Take a nap\n        run: |\n          echo before\n          sleep 2\n          echo after\n",
    );
    let cmd = format!("{} run p.yml --executor host --ref refs/heads/main --sha {SHA}", pipe_bin().display());
    let in_terminal = |no_color: bool| {
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"])
            .current_dir(dir.path())
            .env("USER", "tester")
            .env("TERM", "xterm");
        c.env_remove("CI").env_remove("NO_COLOR").env_remove("PIPE_STATE_DIR");
        if no_color {
            c.env("NO_COLOR", "1");
        }
        c.stdin(Stdio::null()).output().unwrap()
    };
    let live = in_terminal(false);
    assert_eq!(live.status.code(), Some(0), "{}", all_output(&live));
    let screen = String::from_utf8_lossy(&live.stdout);
    let plain = console::strip_ansi_codes(&screen).replace('\r', "");
    let running = regex::Regex::new(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] slow Take a nap +\d+s").unwrap();
    assert!(running.is_match(&plain), "no spinner line for the running step:\n{plain}");
    assert!(plain.contains("slow | after"), "{plain}");
    assert!(plain.contains("slow ✓ ok in "), "{plain}");
    assert!(plain.contains("JOB   RESULT     DURATION  DETAILS\nslow  success "), "{plain}");
    assert!(screen.contains('\u{1b}'), "the live view draws with escape codes");

    let plain_run = in_terminal(true);
    assert_eq!(plain_run.status.code(), Some(0), "{}", all_output(&plain_run));
    let text = String::from_utf8_lossy(&plain_run.stdout);
    assert!(!text.contains('\u{1b}'), "escape codes with NO_COLOR:\n{text:?}");
    assert!(text.contains("slow | > Take a nap\r\nslow |   before\r\n"), "{text:?}");
    assert!(!text.contains('⠋') && !text.contains("\r\r"), "{text:?}");
}

/// The reader of pipe's output goes away (`| head`): pipe ends quietly, never with a panic.
#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = dir_with(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo first; sleep 1; for i in $(seq 1 2000); do echo more $i; done\n      - run: echo again\n",
    );
    std::fs::create_dir_all(dir.path().join("pipelines")).unwrap();
    for i in 0..300 {
        std::fs::write(
            dir.path().join(format!("pipelines/p{i}.yml")),
            "on: push\njobs:\n  a:\n    steps: []\n",
        )
        .unwrap();
    }
    let cases: &[(&[&str], i32)] = &[
        (&["run", "p.yml", "--executor", "host"], 0),
        (&["run", "p.yml", "--executor", "host", "--output", "json"], 0),
        (&["validate"], 1),
        (&["schema"], 0),
        (&["completions", "bash"], 0),
        (&["man"], 0),
    ];
    for (args, code) in cases {
        let mut child = Command::new(pipe_bin())
            .args(*args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env_remove("PIPE_STATE_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        // The reader is dropped here: pipe's next writes meet a closed pipe.
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "pipe {args:?}: {err}");
        assert_eq!(out.status.code(), Some(*code), "pipe {args:?}: {err}");
        assert!(!first.is_empty(), "pipe {args:?} printed nothing");
    }
}

#[test]
fn logs_follow_a_live_run_to_its_end() {
    let dir = dir_with(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: |\n          echo early\n          while [ ! -e go ]; do sleep 0.1; done\n          echo late\n",
    );
    let mut run = Command::new(pipe_bin())
        .args(["run", "p.yml", "--executor", "host", "--bind"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("PIPE_STATE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let started = || {
        std::fs::read_dir(dir.path().join(".pipe/runs")).ok().and_then(|rd| rd.flatten().next()).is_some_and(
            |run| {
                crate::test::stored_events(&run.path())
                    .iter()
                    .any(|e| e["event"] == "step_output" && e["line"] == "early")
            },
        )
    };
    while !started() {
        assert!(Instant::now() < deadline, "the run did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut follow = Command::new(pipe_bin())
        .args(["logs", "last", "a", "--follow"])
        .current_dir(dir.path())
        .env_remove("PIPE_STATE_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(follow.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("early") {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "follow ended early: {seen}");
        seen.push_str(&line);
    }
    // Still following: what the run prints from now on arrives too.
    std::fs::write(dir.path().join("go"), "").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let status = follow.wait().unwrap();
    assert_eq!(run.wait().unwrap().code(), Some(0));
    assert!(status.success());
    assert!(rest.contains("a |   late\n"), "{rest}");
    assert!(rest.trim_end().ends_with("succeeded"), "{rest}");
}

#[test]
fn completions_and_manual_page_come_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = pipe_in(dir.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = stdout(&out);
        for word in ["validate", "approve", "completions", "follow"] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
    let bad = pipe_in(dir.path(), &["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    let man = stdout(&pipe_in(dir.path(), &["man"]));
    assert!(
        man.contains(".TH pipe 1") && man.contains("validate") && man.contains("\\-\\-state\\-dir"),
        "{man}"
    );
}

#[test]
fn validate_counts_pipeline_files_not_pipe_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pipelines")).unwrap();
    std::fs::write(
        dir.path().join("pipelines/a.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: 'true'}]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("pipe.toml"), "[environments.production]\nreviewers = [\"alice\"]\n")
        .unwrap();
    let out = pipe_in(dir.path(), &["validate"]);
    assert_eq!(stdout(&out), "1 file(s) checked: no problems\n");
}
