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
            .mask_json(&serde_json::Value::Object(done.outputs.clone()))
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
