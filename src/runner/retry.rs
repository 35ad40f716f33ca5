//! GitLab's `retry:`: a failed leg is run again, up to the job's count, in a fresh job
//! environment; the last attempt's result counts. A cancelled leg is never retried.

use std::sync::Arc;

use super::Shared;
use super::cancel::Cancel;
use super::job::{Leg, LegResult, run_leg};
use super::timer::JobTimer;
use crate::event::{Conclusion, Event};
use crate::model::Job;

pub(super) async fn run_leg_with_retry(
    shared: Arc<Shared>,
    job: &Job,
    leg: &Leg,
    cancel: Cancel,
    timer: JobTimer,
) -> LegResult {
    let mut result = run_leg(shared.clone(), job, leg, cancel.clone(), &timer).await;
    for attempt in 2..=job.retry + 1 {
        if result.result != Conclusion::Failure || cancel.is_cancelled() {
            break;
        }
        shared.emitter.emit(Event::StepOutput {
            job: leg.job_id.clone(),
            name: leg.name.clone(),
            step: 0,
            stream: "stderr".into(),
            line: format!("the job failed: retrying (attempt {attempt} of {})", job.retry + 1),
        });
        result = run_leg(shared.clone(), job, leg, cancel.clone(), &timer).await;
    }
    result
}
