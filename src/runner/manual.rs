//! Manual jobs (GitLab's `when: manual` without an environment): not run unless asked for with
//! `--job`, and never skipped silently — the run says so, with the command that runs it.

use super::Shared;
use super::job_start::Start;
use crate::event::Event;
use crate::plan::PlannedJob;

pub(super) fn not_run(shared: &Shared, pj: &PlannedJob, command: &str) -> Start {
    shared.emitter.emit(Event::Annotation {
        job: pj.id.clone(),
        name: pj.name.clone(),
        step: 0,
        level: "notice".into(),
        message: format!("manual: not run (run it with `{command}`)"),
    });
    Start::Skip
}
