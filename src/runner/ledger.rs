//! The deployment ledger entry of a finished deployment leg: which environment (its evaluated
//! name) got which commit and artifact, with what result, approved by whom.

use super::Shared;
use super::job::{Leg, LegResult};
use crate::gate::ledger::{self, DeploymentRecord};

pub fn record_deployment(shared: &Shared, leg: &Leg, result: &LegResult) {
    let Some(environment) = &leg.environment else { return };
    // The artifact: the job's own outputs, else what its needs handed it (`build.image`), so the
    // ledger answers "which artifact runs there" without extra wiring in the workflow.
    let mut outputs = result.outputs.clone();
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
    shared.emitter.emit(crate::event::Event::Deployed {
        job: leg.job_id.clone(),
        name: leg.name.clone(),
        environment: environment.clone(),
        url: result.environment_url.clone(),
        result: result.result,
    });
    let record = DeploymentRecord {
        v: ledger::VERSION,
        ts: ledger::now(),
        environment: environment.clone(),
        url: result.environment_url.clone(),
        sha: shared.facts.sha.clone(),
        run_id: shared.run_id.clone(),
        job: leg.job_id.clone(),
        outputs: shared
            .masker
            .mask_json(&serde_json::Value::Object(outputs))
            .as_object()
            .cloned()
            .unwrap_or_default(),
        result: result.result.as_str().to_string(),
        approved_by: leg.approved_by.clone(),
    };
    if let Err(e) = ledger::append_deployment(shared.store.root(), &record) {
        shared.notice("warning", format!("the deployment ledger could not be written: {e}"));
    }
}
