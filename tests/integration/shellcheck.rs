//! `pipe validate` and shellcheck: absent, failing, cached. The findings themselves and their
//! positions are asserted by the `shellcheck-*` fixtures of the invalid corpus.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::test::pipe_bin;

/// Whether shellcheck is on PATH; without it a test skips with a printed reason, but under
/// `CI=true` (where .ci/run installs it) its absence fails.
pub fn available() -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("shellcheck").is_file()));
    if !found {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI=true but shellcheck is not on PATH");
        eprintln!("skipped: shellcheck is not on PATH (apt-get install shellcheck)");
    }
    found
}

const WORKFLOW: &str =
    "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          cd out\n";

/// `pipe validate` in `dir` with `PATH` and the cache given.
fn validate(dir: &Path, path: &std::ffi::OsStr, cache: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(pipe_bin())
        .arg("validate")
        .args(extra)
        .arg("wf.yml")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .expect("run pipe");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// A `shellcheck` that answers `--version` like `version` and fails at everything else.
fn stub(dir: &Path, version: &str) {
    let path = dir.join("shellcheck");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = --version ]; then printf 'ShellCheck\\n{version}\\n'; exit 0; fi\necho 'stub: no checks' >&2\nexit 3\n"
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn without_shellcheck_the_scripts_get_one_note_and_no_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wf.yml"), WORKFLOW).unwrap();
    let empty = dir.path().join("empty-bin");
    std::fs::create_dir(&empty).unwrap();
    let cache = dir.path().join("cache");
    let (code, stdout, stderr) = validate(dir.path(), empty.as_os_str(), &cache, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "1 file(s) checked: no problems\n");
    assert_eq!(
        stderr,
        "note: shellcheck is not on PATH, so `run:` scripts were not checked (install shellcheck, or pass --no-shellcheck)\n"
    );
    let (code, _, stderr) = validate(dir.path(), empty.as_os_str(), &cache, &["--no-shellcheck"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
}

#[test]
fn a_shellcheck_that_fails_is_a_note_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wf.yml"), WORKFLOW).unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    stub(&bin, "version: 0.0-stub");
    let (code, stdout, stderr) = validate(dir.path(), bin.as_os_str(), &dir.path().join("cache"), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with(
            "wf.yml:7:11: note: shellcheck failed (exit status: 3): stub: no checks [shellcheck]"
        ),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 file(s) checked: no problems\n"), "{stdout}");
    // Nothing of the failed run is kept: the next run asks again.
    let kept = std::fs::read_dir(dir.path().join("cache/pipe/shellcheck")).map_or(0, Iterator::count);
    assert_eq!(kept, 0);
}

#[test]
fn findings_are_cached_by_script_content() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wf.yml"), WORKFLOW).unwrap();
    let cache = dir.path().join("cache");
    let path = std::env::var_os("PATH").unwrap();
    let (code, first, stderr) = validate(dir.path(), &path, &cache, &[]);
    assert_eq!(code, 0, "{first}{stderr}");
    assert!(first.starts_with("wf.yml:7:11: warning: SC2164: "), "{first}");
    let entries = std::fs::read_dir(cache.join("pipe/shellcheck")).unwrap().count();
    assert_eq!(entries, 1, "one script, one cache entry");

    // The same script with a shellcheck that cannot check anything (but has the same version):
    // the findings come from the cache.
    let real = Command::new("shellcheck").arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&real.stdout)
        .lines()
        .find(|l| l.starts_with("version:"))
        .unwrap()
        .to_string();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    stub(&bin, &version);
    let (_, again, _) = validate(dir.path(), bin.as_os_str(), &cache, &[]);
    assert_eq!(again, first);

    // Another script is not in the cache: the stub is asked, and fails.
    std::fs::write(dir.path().join("wf.yml"), WORKFLOW.replace("cd out", "cd build")).unwrap();
    let (_, changed, _) = validate(dir.path(), bin.as_os_str(), &cache, &[]);
    assert!(changed.contains("note: shellcheck failed"), "{changed}");
}
