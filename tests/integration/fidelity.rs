//! What a step prints is kept as printed: binary output byte for byte in its log file, raw escape
//! bytes only ever to a terminal with colours on; and runs are listed in start order.

use crate::run_host::{Exec, both_backends, run_pipeline};
use crate::support::spawn::{SHA, host_json_run, pipe_command};
use crate::test::pipe_in;

both_backends! {
    fn binary_output_is_kept_byte_for_byte_in_the_log(exec) {
        let r = run_pipeline(exec, r#"
on: push
jobs:
  bin:
    runs-on: x
    steps:
      - run: printf 'a\377\000b\033[31mred\033[0m\r\nno end'
"#, &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let dir = r.dir.path().join(".pipe/runs").join(r.events[0]["run_id"].as_str().unwrap()).join("logs/bin");
        // The step's one log file (named after the step: `00-Run printf ...log`).
        let file = std::fs::read_dir(dir).unwrap().next().unwrap().unwrap().path();
        assert!(file.file_name().unwrap().to_string_lossy().starts_with("00-Run printf"), "{}", file.display());
        let log = std::fs::read(file).unwrap();
        assert_eq!(log, b"a\xff\x00b\x1b[31mred\x1b[0m\r\nno end");
    }
}

#[test]
fn escape_bytes_do_not_reach_a_file_or_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yml"), "on: push\njobs:\n  esc:\n    runs-on: x\n    steps:\n      - run: printf 'x\\033[31mred\\033[0m\\a\\033]0;title\\007y\\tz\\n'\n").unwrap();
    let out = pipe_in(
        dir.path(),
        &["run", "p.yml", "--executor", "host", "--ref", "refs/heads/main", "--sha", SHA],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("esc |   xredy\tz\n"), "{stdout:?}");
    assert!(!stdout.contains('\x1b') && !stdout.contains('\x07'), "{stdout:?}");
}

#[test]
fn runs_and_last_follow_the_start_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: 'true'}]\n",
    )
    .unwrap();
    let mut started = Vec::new();
    // Quick runs one after the other: several start within one second.
    for _ in 0..4 {
        let out = pipe_command(dir.path()).args(host_json_run("p.yml", &[])).output().unwrap();
        let first: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
        started.push(first["run_id"].as_str().unwrap().to_string());
    }
    let listed = String::from_utf8_lossy(&pipe_in(dir.path(), &["runs"]).stdout).to_string();
    let order: Vec<usize> = started
        .iter()
        .map(|id| listed.find(id.as_str()).unwrap_or_else(|| panic!("{id} not in {listed}")))
        .collect();
    // Newest first.
    assert!(order.windows(2).all(|w| w[0] > w[1]), "runs not in start order:\n{listed}\n{started:?}");
    let resolved = pipe::store::Store::new(dir.path().join(".pipe")).resolve("last").unwrap();
    assert_eq!(&resolved, started.last().unwrap());
}
