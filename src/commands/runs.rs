//! `pipe runs`: the runs of this state directory, newest first, with their status (`waiting`
//! for a run at a gate, `interrupted` for one whose process is gone) and duration.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Error;
use crate::output::Ui;
use crate::store::{RunRecord, Store};

pub fn run(ui: &Ui, store: &Store) -> Result<i32, Error> {
    let ids = store.run_ids();
    if ids.is_empty() {
        ui.stdout(&format!("no runs yet in {}\n", store.root().display()));
        return Ok(crate::exit_code::SUCCESS);
    }
    let row = |id: &str, status: &str, duration: &str, sha: &str, started: &str, pipeline: &str| {
        format!("{id:<22} {status:<11} {duration:>8}  {sha:<12} {started:<19} {pipeline}\n")
    };
    let mut out = row("RUN", "STATUS", "DURATION", "SHA", "STARTED", "PIPELINE");
    for id in ids.iter().rev() {
        let Ok(r) = store.read_record(id) else { continue };
        let sha: String = r.options.sha.chars().take(12).collect();
        let duration = duration_of(&r).unwrap_or_else(|| "-".into());
        // To the second, in UTC: `2026-12-02 14:52:38`.
        let started: String = r.started.replacen('T', " ", 1).chars().take(19).collect();
        out.push_str(&row(&r.id, &status_of(&r), &duration, &sha, &started, &r.options.pipeline));
    }
    ui.stdout(&out);
    Ok(crate::exit_code::SUCCESS)
}

/// What a person wants to know of a run's state: a live run at a gate is `waiting`, a run
/// whose process died is `interrupted`.
fn status_of(r: &RunRecord) -> String {
    let live = r.pid.is_some_and(process_alive);
    match r.status.as_str() {
        "running" if !live && r.pid.is_some() => "interrupted".into(),
        "running" if !r.waiting.is_empty() => "waiting".into(),
        other => other.to_string(),
    }
}

/// From the start to the end of the run, or to now while it runs.
fn duration_of(r: &RunRecord) -> Option<String> {
    let started = OffsetDateTime::parse(&r.started, &Rfc3339).ok()?;
    let end = match &r.finished {
        Some(f) => OffsetDateTime::parse(f, &Rfc3339).ok()?,
        None if r.status == "running" && r.pid.is_some_and(process_alive) => OffsetDateTime::now_utc(),
        None => return None,
    };
    let ms = (end - started).whole_milliseconds().max(0) as u64;
    Some(crate::report::duration(ms))
}

/// Whether a process with this id exists (signal 0 checks without sending anything).
pub fn process_alive(pid: u32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok()
}
