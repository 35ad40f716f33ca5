//! A full disk under the state dir: nothing half-written is left (no empty `.gitignore`, no cut
//! event line, no record left `running`), the first write failure is said once with its cause,
//! the run ends as failed (exit 2), and `pipe runs`, `pipe logs` and `pipe resume` read what is
//! there. The state dir is a small tmpfs of the test's own.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value as Json;

use crate::support::spawn::{REF, pipe_command};
use crate::test::all_output;

/// A small tmpfs, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mount one of 64 KiB, or say why it cannot be (skipped locally, a failure under CI=true).
    fn mount() -> Option<SmallDisk> {
        SmallDisk::mount_of("64k")
    }

    /// Mount one of `size` (`mount -o size=`).
    fn mount_of(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(SmallDisk { dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
                    Err(e) => e.to_string(),
                };
                let reason = format!("cannot mount a small tmpfs as the state dir (needs root): {why}");
                assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {reason}");
                eprintln!("skipping: {reason}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fill what is left of it; the file that did.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        while f.write_all(&[0u8; 4096]).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).output();
    }
}

fn pipe(project: &Path, state: &Path, args: &[&str]) -> Output {
    pipe_command(project).arg("--state-dir").arg(state).args(args).env("NO_COLOR", "1").output().unwrap()
}

fn run(project: &Path, state: &Path) -> Output {
    let mut args = vec!["run", "p.yml", "--executor", "host"];
    args.extend(REF);
    pipe(project, state, &args)
}

fn only_run(state: &Path) -> PathBuf {
    let runs: Vec<PathBuf> =
        std::fs::read_dir(state.join("runs")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.into_iter().next().unwrap()
}

#[test]
fn the_first_run_on_a_full_state_dir_leaves_no_empty_gitignore_and_the_next_one_repairs_it() {
    let Some(disk) = SmallDisk::mount() else { return };
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("p.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo hi}]\n",
    )
    .unwrap();
    let filler = disk.fill();
    let full = run(project.path(), disk.path());
    let said = all_output(&full);
    assert_eq!(full.status.code(), Some(2), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    let ignore = disk.path().join(".gitignore");
    if let Ok(m) = std::fs::metadata(&ignore) {
        assert_ne!(m.len(), 0, "an empty .gitignore was left");
    }
    // No run without a record.
    let runs = pipe(project.path(), disk.path(), &["runs"]);
    assert_eq!(runs.status.code(), Some(0), "{}", all_output(&runs));
    assert!(String::from_utf8_lossy(&runs.stdout).contains("no runs yet"), "{}", all_output(&runs));

    // With room again (and an empty .gitignore, as older versions left one): repaired.
    std::fs::remove_file(filler).unwrap();
    std::fs::write(&ignore, "").unwrap();
    let ok = run(project.path(), disk.path());
    assert_eq!(ok.status.code(), Some(0), "{}", all_output(&ok));
    assert_eq!(std::fs::read_to_string(&ignore).unwrap(), "*\n");
}

#[test]
fn when_the_disk_fills_mid_run_the_run_fails_with_exit_2_and_leaves_its_state_readable() {
    let Some(disk) = SmallDisk::mount() else { return };
    let project = tempfile::tempdir().unwrap();
    // About 150 KiB of output: more than the disk holds.
    let pipeline = "on: push\njobs:\n  big:\n    runs-on: x\n    steps:\n      - run: for i in $(seq 1 3000); do echo \"line $i of output that fills the disk\"; done\n      - run: echo second\n  next:\n    needs: big\n    runs-on: x\n    steps: [{run: echo next}]\n";
    std::fs::write(project.path().join("p.yml"), pipeline).unwrap();
    let out = run(project.path(), disk.path());
    let said = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    // Said once, with its cause; never "succeeded".
    assert_eq!(said.matches("No space left on device").count(), 1, "{said}");
    assert!(said.contains("the run's state could not be written"), "{said}");
    assert!(!said.contains("succeeded"), "{said}");
    assert!(said.contains("failed"), "{said}");

    let run_dir = only_run(disk.path());
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(record["status"], "failure", "{record}");
    assert!(record["pid"].is_null(), "{record}");
    // Every line of the event log is whole.
    let events = std::fs::read_to_string(run_dir.join("events.jsonl")).unwrap();
    assert!(
        events.is_empty() || events.ends_with('\n'),
        "a cut last line: {:?}",
        &events[events.len().saturating_sub(200)..]
    );
    for line in events.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }

    let runs = pipe(project.path(), disk.path(), &["runs"]);
    assert_eq!(runs.status.code(), Some(0), "{}", all_output(&runs));
    assert!(String::from_utf8_lossy(&runs.stdout).contains("failure"), "{}", all_output(&runs));
    // The cut log says where it ends.
    let logs = pipe(project.path(), disk.path(), &["logs", "last"]);
    let shown = all_output(&logs);
    assert_eq!(logs.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("[pipe: the rest of this log could not be written: No space left on device"),
        "{shown}"
    );
    let resumed = pipe(project.path(), disk.path(), &["resume", "last"]);
    let said = all_output(&resumed);
    assert!(matches!(resumed.status.code(), Some(0..=2)), "{said}");
    assert!(!said.contains("cannot read"), "{said}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    assert_ne!(record["status"], "running", "{record}");
}

#[test]
fn when_something_else_fills_the_disk_the_run_still_records_how_it_ended() {
    let Some(disk) = SmallDisk::mount() else { return };
    let project = tempfile::tempdir().unwrap();
    // The step itself fills the disk (as another program would): the log, the event log and the
    // record all fail from then on; the final record gets the room the run kept.
    let filler = disk.path().join("filler");
    let pipeline = format!(
        "on: push\njobs:\n  fill:\n    runs-on: x\n    steps:\n      - run: head -c 1000000 /dev/zero 2>/dev/null > '{}' || true; echo filled\n      - run: echo second\n  next:\n    needs: fill\n    runs-on: x\n    steps: [{{run: echo next}}]\n",
        filler.display()
    );
    std::fs::write(project.path().join("p.yml"), pipeline).unwrap();
    let out = run(project.path(), disk.path());
    let said = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert_eq!(said.matches("No space left on device").count(), 1, "{said}");
    assert!(!said.contains("succeeded"), "{said}");
    let run_dir = only_run(disk.path());
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(record["status"], "failure", "{record}");
    let events = std::fs::read_to_string(run_dir.join("events.jsonl")).unwrap();
    assert!(events.is_empty() || events.ends_with('\n'), "a cut last line");
    for line in events.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let runs = pipe(project.path(), disk.path(), &["runs"]);
    assert_eq!(runs.status.code(), Some(0), "{}", all_output(&runs));
    assert!(String::from_utf8_lossy(&runs.stdout).contains("failure"), "{}", all_output(&runs));
    let logs = pipe(project.path(), disk.path(), &["logs", "last"]);
    assert_eq!(logs.status.code(), Some(0), "{}", all_output(&logs));
}

#[test]
fn after_the_disk_filled_mid_run_resume_runs_what_was_not_recorded_and_the_run_succeeds() {
    let Some(disk) = SmallDisk::mount_of("256k") else { return };
    let project = tempfile::tempdir().unwrap();
    // Each step counts its attempts in a file outside the state dir.
    let marks = project.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let filler = disk.path().join("filler");
    // `first` ends before the disk fills. `fill` fills it (the first time only) and goes on;
    // `slow` runs beside it and ends afterwards: neither result can be recorded, and `last`,
    // which needs both, must not start.
    let pipeline = format!(
        r#"on: push
jobs:
  first:
    runs-on: x
    steps: [{{run: echo run >> '{m}/first'}}]
  fill:
    needs: first
    runs-on: x
    steps:
      - run: |
          echo run >> '{m}/fill'
          if [ ! -e '{m}/filled' ]; then touch '{m}/filled'; head -c 2000000 /dev/zero > '{f}' 2>/dev/null || true; fi
          echo filled
      - run: echo second
  slow:
    needs: first
    runs-on: x
    steps:
      - run: echo run >> '{m}/slow'; sleep 3; echo slept
  last:
    needs: [fill, slow]
    runs-on: x
    steps: [{{run: echo run >> '{m}/last'}}]
"#,
        m = marks.display(),
        f = filler.display()
    );
    std::fs::write(project.path().join("p.yml"), pipeline).unwrap();
    let attempts = |job: &str| std::fs::read_to_string(marks.join(job)).map_or(0, |t| t.lines().count());
    let record = |run_dir: &Path| -> Json {
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap()
    };
    let result_of = |r: &Json, job: &str| r["jobs"][job]["result"].as_str().map(str::to_string);

    let out = run(project.path(), disk.path());
    let said = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert_eq!(said.matches("No space left on device").count(), 1, "{said}");
    assert!(said.contains("no more jobs start"), "{said}");
    assert!(said.contains("its result could not be recorded"), "{said}");
    assert!(!said.contains("succeeded"), "{said}");
    assert!(filler.exists(), "the step did not fill the disk: nothing to show");
    let run_dir = only_run(disk.path());
    let first = record(&run_dir);
    assert_eq!(first["status"], "failure", "{first}");
    assert!(first["pid"].is_null(), "{first}");
    // What ended before the disk filled is done; what ended after is not; `last` never started.
    assert_eq!(result_of(&first, "first").as_deref(), Some("success"), "{first}");
    assert_eq!(result_of(&first, "fill").as_deref(), Some("interrupted"), "{first}");
    assert_eq!(result_of(&first, "slow").as_deref(), Some("interrupted"), "{first}");
    assert_eq!(result_of(&first, "last"), None, "{first}");
    assert_eq!(
        ["first", "fill", "slow", "last"].map(attempts),
        [1, 1, 1, 0],
        "attempts of first, fill, slow, last"
    );

    // With room again, resume runs what was not recorded, and only that.
    std::fs::remove_file(&filler).unwrap();
    let resumed = pipe(project.path(), disk.path(), &["resume", "last"]);
    let said = all_output(&resumed);
    assert_eq!(resumed.status.code(), Some(0), "{said}");
    assert!(said.contains("(1 job leg(s) already finished)"), "{said}");
    assert_eq!(
        ["first", "fill", "slow", "last"].map(attempts),
        [1, 2, 2, 1],
        "attempts of first, fill, slow, last"
    );
    let done = record(&run_dir);
    assert_eq!(done["status"], "success", "{done}");
    assert!(done["pid"].is_null(), "{done}");
    assert!(done.get("processes").is_none(), "{done}");
    for job in ["first", "fill", "slow", "last"] {
        assert_eq!(result_of(&done, job).as_deref(), Some("success"), "{job}: {done}");
    }
    let runs = pipe(project.path(), disk.path(), &["runs"]);
    assert!(String::from_utf8_lossy(&runs.stdout).contains("success"), "{}", all_output(&runs));

    // Nothing left behind: no kept room, no temporary file, no scratch dir, every event whole.
    let mut left: Vec<String> = std::fs::read_dir(&run_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["events.jsonl", "logs", "run.json"], "in the run's folder");
    let mut top: Vec<String> = std::fs::read_dir(disk.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, [".gitignore", "runs"], "in the state dir");
    let id = run_dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(!std::env::temp_dir().join(format!("pipe-{id}")).exists(), "the run's scratch dir is left");
    let events = std::fs::read_to_string(run_dir.join("events.jsonl")).unwrap();
    assert!(events.ends_with('\n'), "a cut last line");
    for line in events.lines() {
        serde_json::from_str::<Json>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}
