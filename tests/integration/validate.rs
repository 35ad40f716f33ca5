//! `pipe validate`: one invalid fixture per check (its full rendered output is a snapshot, and the
//! fixture's `# expect: LINE:COL RULE` line is asserted on its own), formats, exit codes, garbage.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::test::{Test, pipe_bin};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn validate_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    // A cache of shellcheck findings of this call's own, never the user's.
    let cache = tempfile::tempdir().expect("tempdir");
    let out = Command::new(pipe_bin())
        .arg("validate")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .expect("run pipe");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Each invalid fixture reports its rule at the expected line:col, exits 1, and renders exactly
/// as its snapshot (`PIPE_BLESS=1` rewrites the snapshots after a deliberate change).
#[test]
fn every_invalid_fixture_reports_its_rule_at_its_position() {
    let dir = fixtures().join("invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "fixtures missing");
    let bless = std::env::var_os("PIPE_BLESS").is_some();
    let mut failures = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .expect("first line `# expect: L:C rule`");
        let mut words = expect.split(' ');
        let (pos, rule) = (words.next().unwrap(), words.next().expect("a rule"));
        let severity = words.next().unwrap_or("error");
        // The shellcheck fixtures need shellcheck; the others are judged without it, so that
        // their snapshots do not depend on what is installed.
        let (code, stdout, stderr) = if name.starts_with("shellcheck-") {
            if !crate::shellcheck::available() {
                continue;
            }
            validate_in(&dir, &[&name])
        } else {
            validate_in(&dir, &["--no-shellcheck", &name])
        };
        if code != i32::from(severity == "error") {
            failures.push(format!("{name}: exit {code}, stderr {stderr}"));
        }
        let header = format!("{name}:{pos}: {severity}: ");
        if !stdout.lines().any(|l| l.starts_with(&header) && l.ends_with(&format!("[{rule}]"))) {
            failures.push(format!("{name}: no `{header}... [{rule}]` line in:\n{stdout}"));
        }
        let snapshot = file.with_extension("txt");
        if bless {
            std::fs::write(&snapshot, &stdout).unwrap();
        } else if std::fs::read_to_string(&snapshot).ok().as_deref() != Some(stdout.as_str()) {
            failures.push(format!("{name}: output differs from {}:\n{stdout}", snapshot.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The corpus of valid workflows (one or more per key of GitHub's workflow syntax: every event
/// with its types and filters, matrices, containers, services, permissions, concurrency,
/// environments, reusable workflows called and defined...) gives no error and no warning: GitHub
/// accepts every one of them, so any finding would be a false alarm.
#[test]
fn the_valid_corpus_has_no_error_and_no_warning() {
    let dir = fixtures().join("valid");
    let count = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "yml"))
        .count();
    assert!(count >= 100, "the corpus has {count} workflows, fewer than 100");
    let (code, stdout, stderr) = validate_in(&dir, &["--format", "json", "."]);
    let v: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    let mut findings = Vec::new();
    for file in v["files"].as_array().unwrap() {
        for d in file["diagnostics"].as_array().unwrap() {
            if d["severity"] != "note" {
                findings.push(format!(
                    "{}:{}:{}: {} [{}]",
                    file["path"], d["line"], d["column"], d["message"], d["rule"]
                ));
            }
        }
    }
    assert!(findings.is_empty(), "false alarms:\n{}", findings.join("\n"));
    assert_eq!(v["files"].as_array().unwrap().len(), count);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn the_example_pipelines_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, stdout, stderr) = validate_in(root, &["pipelines"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("file(s) checked: no problems"), "{stdout}");
}

#[test]
fn default_paths_are_pipelines_and_github_workflows() {
    Test::new()
        .write("pipelines/a.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a}]\n")
        .write(".github/workflows/b.yaml", "on: push\njobs:\n  b:\n    runs-on: x\n    steps: [{run: b}]\n")
        .write(".github/workflows/notes.txt", "not yaml")
        .args(&["validate"])
        .stdout("2 file(s) checked: no problems\n")
        .run();
}

#[test]
fn every_file_and_every_problem_is_reported() {
    Test::new()
        .write("p/a.yml", "on: push\njobs:\n  a:\n    runs_on: x\n    steps: [{run: a}]\n")
        .write(
            "p/b.yml",
            "on: push\njobs:\n  b:\n    runs-on: x\n    needs: [zz]\n    steps: [{shell: bsh}]\n",
        )
        .args(&["validate", "p"])
        .status(1)
        .stdout_contains("p/a.yml:3:3: error: job is missing the required key `runs-on` [missing-key]")
        .stdout_contains("p/a.yml:4:5: error: unknown key `runs_on` in job [unknown-key]")
        .stdout_contains("p/b.yml:5:13: error: job `b` needs `zz`")
        .stdout_contains("p/b.yml:6:13: error: a step needs `run`")
        .stdout_contains("p/b.yml:6:21: error: unknown shell `bsh` [unknown-shell]")
        .stdout_contains("2 file(s) checked: 5 error(s), 0 warning(s) in 2 file(s)")
        .run();
}

#[test]
fn a_clean_file_exits_zero_and_a_warning_does_not_fail() {
    Test::new()
        .write("w.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a}]\n  b:\n    needs: [a, a]\n    runs-on: x\n    steps: [{run: b}]\n")
        .args(&["validate", "w.yml"])
        .stdout_contains("w.yml:7:16: warning: `a` is listed twice in `needs` [needs-duplicate]")
        .stdout_contains("0 error(s), 1 warning(s)")
        .run();
}

#[test]
fn json_format() {
    let (out, _dir) = Test::new()
        .write("bad.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a, shell: bsh}]\n")
        .args(&["validate", "--format", "json", "bad.yml"])
        .status(1)
        .run();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["errors"], 1);
    let d = &v["files"][0]["diagnostics"][0];
    assert_eq!(v["files"][0]["path"], "bad.yml");
    assert_eq!(
        (d["rule"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("unknown-shell"), Some(5), Some(29))
    );
    assert_eq!(d["severity"], "error");
    assert_eq!(d["help"].as_str().map(|h| h.starts_with("did you mean `bash`?")), Some(true));
}

#[test]
fn github_format_escapes_workflow_commands() {
    Test::new()
        .write("bad.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a, shell: bsh}]\n")
        .args(&["validate", "--format", "github", "bad.yml"])
        .status(1)
        .stdout("::error file=bad.yml,line=5,col=29,endLine=5,endColumn=32,title=unknown-shell::unknown shell `bsh` [unknown-shell] — did you mean `bash`? A custom shell is a command with `{0}` for the script, e.g. `perl {0}`\n")
        .run();
}

#[test]
fn sarif_format() {
    let (out, _dir) = Test::new()
        .write("bad.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a, shell: bsh}]\n")
        .args(&["validate", "--format", "sarif", "bad.yml"])
        .status(1)
        .run();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "unknown-shell");
    assert_eq!(r["level"], "error");
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 5);
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startColumn"], 29);
    assert_eq!(v["runs"][0]["tool"]["driver"]["rules"][0]["id"], "unknown-shell");
}

#[test]
fn a_missing_path_is_a_usage_error() {
    Test::new()
        .args(&["validate", "nope.yml"])
        .status(2)
        .stderr_contains("error: cannot read nope.yml:")
        .run();
    Test::new()
        .args(&["validate"])
        .status(2)
        .stderr("error: no pipeline files: neither pipelines/, .github/workflows/ nor .gitlab-ci.yml exists here\nhint: name a file or folder: pipe validate path/to/pipeline.yml\n")
        .run();
}

#[test]
fn garbage_gives_messages_not_panics() {
    let deep_flow = format!("on: push\njobs: {}", "[".repeat(5000));
    let mut deep_block = String::from("on: push\njobs:\n");
    for i in 0..200 {
        deep_block.push_str(&format!("{}k{i}:\n", "  ".repeat(i + 1)));
    }
    let (out, _dir) = Test::new()
        .write("binary.yml", [0u8, 159, 146, 150, 255, 0, 1])
        .write("empty.yml", "")
        .write("comment.yml", "# nothing\n")
        .write("scalar.yml", "just a string\n")
        .write("list.yml", "- a\n- b\n")
        .write("deep-flow.yml", deep_flow)
        .write("deep-block.yml", deep_block)
        .write("tabs.yml", "on: push\njobs:\n\tbuild: x\n")
        .write("null-jobs.yml", "on: push\njobs:\n")
        .args(&["validate", "."])
        .status(1)
        .stdout_contains("binary.yml:1:1: error: not a text file: invalid UTF-8 at byte 1 [yaml-syntax]")
        .stdout_contains("empty.yml:1:1: error: the file is empty")
        .stdout_contains("comment.yml:1:1: error: the file is empty")
        .stdout_contains("scalar.yml:1:1: error: a workflow is a mapping with `on` and `jobs`, found a string [wrong-type]")
        .stdout_contains("list.yml:1:1: error: a workflow is a mapping")
        .stdout_contains("deep-flow.yml:")
        .stdout_contains("nesting deeper than 64 levels is not supported [yaml-syntax]")
        .stdout_contains("tabs.yml:3:2: error: invalid YAML")
        .stdout_contains("null-jobs.yml:2:5: error: expected a mapping (jobs), found null [wrong-type]")
        .run();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn a_thousand_files_in_a_folder() {
    let mut t = Test::new();
    for i in 0..1000 {
        // One in a hundred has no job: an error, as on GitHub.
        let body = if i % 100 == 7 {
            "on: push\njobs: {}\n".to_string()
        } else {
            format!("on: push\njobs:\n  j{i}:\n    runs-on: x\n    steps: [{{run: echo {i}}}]\n")
        };
        t = t.write(&format!("many/f{i:04}.yml"), body);
    }
    t.args(&["validate", "many"])
        .status(1)
        .stdout_contains(
            "many/f0107.yml:2:7: error: `jobs` is empty: a workflow needs at least one job [no-jobs]",
        )
        .stdout_contains("\n1000 file(s) checked: 10 error(s), 0 warning(s) in 10 file(s)\n")
        .run();
}
