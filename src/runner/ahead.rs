//! Job containers made ahead: once every need of a Docker job is running or done, the
//! containers of its legs are made and started with the setup they will have if the running
//! needs succeed, so that the job's steps begin as soon as they are done. A leg
//! whose setup turns out different (its image read a need's output) removes the one made for it
//! and makes its own; what no leg used is removed when its job is done (skipped, failed,
//! cancelled) and before the run ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value as Json};
use tokio::task::JoinHandle;

use super::Shared;
use crate::Error;
use crate::backend::{Backend, JobBackend, JobSetup, Prepared, StartContext};
use crate::plan::PlannedJob;

/// How many made-ahead containers may wait for their jobs at once.
const AT_MOST: usize = 8;

/// The task making a container ahead: it ends with the container, or nothing when it failed.
type Making = JoinHandle<Option<Box<dyn Prepared>>>;

#[derive(Default)]
pub struct Ahead {
    /// By leg key: the job (its run-wide id) and the task making the container.
    made: Mutex<HashMap<String, (String, Making)>>,
}

/// Make the containers of job `pj`'s legs ahead, with `needs` as the `needs` context (a running
/// need counted as a success without outputs). Nothing when the job would not start legs then
/// (its `if:` is false, a gate, a call) or does not run in Docker.
pub(super) fn make(shared: &Arc<Shared>, pj: &PlannedJob, needs: &Map<String, Json>) {
    let Some(job) = shared.pipeline.job(&pj.id) else { return };
    let Some(legs) = super::job_start::expected_legs(shared, pj, needs) else { return };
    let job_id = shared.full_id(&pj.id);
    for leg in legs {
        let backend = shared.backends.for_executor(leg.executor).clone();
        if !backend.executor().runs_images() || leg.environment.is_some() || leg.delay.is_some() {
            continue;
        }
        {
            let Ok(made) = shared.ahead.made.lock() else { return };
            if made.len() >= AT_MOST {
                return;
            }
            if made.contains_key(&leg.key) {
                continue;
            }
        }
        let Ok((_, setup)) = super::job::scratch_and_setup(shared, &leg) else { continue };
        let Ok(setup) = super::docker_setup::complete(setup, job, shared, &leg) else { continue };
        let task = tokio::spawn(async move { backend.prepare(&setup).await });
        if let Ok(mut made) = shared.ahead.made.lock() {
            made.insert(leg.key.clone(), (job_id.clone(), task));
        }
    }
}

/// Start the leg of `setup` on `backend`: what was made ahead for it when it fits, else anew.
pub(super) async fn start(
    shared: &Arc<Shared>,
    backend: &Arc<dyn Backend>,
    setup: &JobSetup,
    ctx: StartContext,
) -> Result<Box<dyn JobBackend>, Error> {
    let task = shared.ahead.made.lock().ok().and_then(|mut m| m.remove(&setup.job_key));
    if let Some((_, mut task)) = task {
        let made = tokio::select! {
            made = &mut task => made.ok().flatten(),
            () = ctx.cancel.cancelled() => {
                discard(shared, &setup.job_key, task);
                return Err(Error::Cancelled);
            }
        };
        match made {
            Some(prepared) if prepared.fits(setup) => match prepared.start(ctx.clone()).await {
                Ok(leg) => return Ok(leg),
                Err(Error::Cancelled) => return Err(Error::Cancelled),
                // Removed under pipe, or it did not start: a new one is made below.
                Err(_) => {}
            },
            // Made for another setup: its name is free again before the new one takes it.
            Some(prepared) => {
                for problem in prepared.discard().await {
                    shared.notice("warning", problem);
                }
            }
            None => {}
        }
    }
    // What was made ahead under this name and discarded is gone before the new one is made.
    shared.reaper.wait(&setup.job_key).await;
    backend.start(setup, ctx).await
}

/// Remove the containers made ahead for job `job_id` (its run-wide id) that no leg took.
pub(super) fn discard_job(shared: &Arc<Shared>, job_id: &str) {
    let unused: Vec<(String, Making)> = match shared.ahead.made.lock() {
        Ok(mut made) => {
            let keys: Vec<String> =
                made.iter().filter(|(_, (j, _))| j == job_id).map(|(k, _)| k.clone()).collect();
            keys.into_iter().filter_map(|k| made.remove(&k).map(|(_, task)| (k, task))).collect()
        }
        Err(_) => return,
    };
    for (key, task) in unused {
        discard(shared, &key, task);
    }
}

/// Remove every container made ahead that no leg took (the run ends).
pub(super) fn discard_all(shared: &Arc<Shared>) {
    let unused: Vec<(String, (String, Making))> = match shared.ahead.made.lock() {
        Ok(mut made) => made.drain().collect(),
        Err(_) => return,
    };
    for (key, (_, task)) in unused {
        discard(shared, &key, task);
    }
}

/// Remove a made-ahead container in the background, once it is made.
fn discard(shared: &Arc<Shared>, key: &str, task: Making) {
    let owner = shared.clone();
    shared.reaper.spawn(key, async move {
        if let Ok(Some(prepared)) = task.await {
            for problem in prepared.discard().await {
                owner.notice("warning", problem);
            }
        }
    });
}
