//! The deployment ledger entry of a finished deployment job: which environment got which commit
//! and artifact, with what result, approved by whom.

use super::Shared;
use super::dispatcher::JobDone;
use super::job::Leg;
use crate::gate::ledger::{self, DeploymentRecord};
use crate::plan::PlannedJob;

pub fn record_deployment(
    shared: &Shared,
    pj: &PlannedJob,
    leg: &Leg,
    done: &JobDone,
    approved_by: Option<String>,
) {
    let github = shared.facts.github(&pj.id, "");
    let ctx = super::contexts::build(
        &[("github", &github), ("needs", &leg.needs)],
        crate::expr::Status::Success,
        None,
    );
    let eval = |s: &String| super::eval::text(s, &ctx).unwrap_or_else(|_| s.clone());
    // The artifact: the job's own outputs, else what its needs handed it (`build.image`), so the
    // ledger answers "which artifact runs there" without extra wiring in the workflow.
    let mut outputs = done.outputs.clone();
    if outputs.is_empty()
        && let Some(needs) = leg.needs.as_object()
    {
        for (need, v) in needs {
            if let Some(o) = v.get("outputs").and_then(|o| o.as_object()) {
                for (k, val) in o {
                    outputs.insert(format!("{need}.{k}"), val.clone());
                }
            }
        }
    }
    let record = DeploymentRecord {
        v: ledger::VERSION,
        ts: ledger::now(),
        environment: pj.environment.as_ref().map(eval).unwrap_or_default(),
        url: pj.environment_url.as_ref().map(eval),
        sha: shared.facts.sha.clone(),
        run_id: shared.run_id.clone(),
        job: pj.id.clone(),
        outputs: shared
            .masker
            .mask_json(&serde_json::Value::Object(outputs))
            .as_object()
            .cloned()
            .unwrap_or_default(),
        result: done.result.as_str().to_string(),
        approved_by,
    };
    if let Err(e) = ledger::append_deployment(shared.store.root(), &record) {
        eprintln!("warning: the deployment ledger could not be written: {e}");
    }
}
