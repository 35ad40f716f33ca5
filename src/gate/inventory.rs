//! What runs where, read from the deployment ledger: the state of every deployment (current,
//! replaced, rolled back, failed), the artifacts a version names, and the deployment a rollback
//! brings back. The ledger's order is the order deployments finished: it is trusted over clocks.

use super::ledger::DeploymentRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The newest successful deployment of its environment: what runs there now.
    Current,
    /// A later deployment rolled forward over it.
    Replaced,
    /// A later `pipe rollback` brought an earlier artifact back over it.
    RolledBack,
    /// The deployment job did not succeed (the environment kept what it had).
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Current => "current",
            State::Replaced => "replaced",
            State::RolledBack => "rolled back",
            State::Failed => "failed",
        }
    }
}

fn same_env(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The state of each record of `records` (oldest first), in the same order.
pub fn states(records: &[DeploymentRecord]) -> Vec<State> {
    let mut out = vec![State::Failed; records.len()];
    let mut last_success: Vec<usize> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if r.result != "success" {
            continue;
        }
        if let Some(slot) =
            last_success.iter_mut().find(|j| same_env(&records[**j].environment, &r.environment))
        {
            out[*slot] = if r.rollback.is_some() { State::RolledBack } else { State::Replaced };
            *slot = i;
        } else {
            last_success.push(i);
        }
        out[i] = State::Current;
    }
    out
}

/// The record's artifact as `name=value` pairs of its outputs (`-` when it has none).
pub fn artifact(r: &DeploymentRecord) -> String {
    if r.outputs.is_empty() {
        return "-".into();
    }
    let pairs: Vec<String> = r
        .outputs
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => format!("{k}={s}"),
            None => format!("{k}={v}"),
        })
        .collect();
    pairs.join(" ")
}

/// Whether `version` names the record's artifact: an output value that is `version`, or ends
/// in `:version` (a tag) or `@version` (a digest), or the commit it was built from (7+ hex
/// digits of its SHA).
pub fn names(r: &DeploymentRecord, version: &str) -> bool {
    let version = version.trim();
    if version.is_empty() {
        return false;
    }
    let value_matches =
        r.outputs.values().filter_map(|v| v.as_str()).any(|v| {
            v == version || v.ends_with(&format!(":{version}")) || v.ends_with(&format!("@{version}"))
        });
    value_matches || (version.len() >= 7 && r.sha.starts_with(version))
}

/// The index of what runs in `environment` now.
pub fn current(records: &[DeploymentRecord], states: &[State], environment: &str) -> Option<usize> {
    (0..records.len())
        .rev()
        .find(|&i| states[i] == State::Current && same_env(&records[i].environment, environment))
}

/// The deployment `pipe rollback ENVIRONMENT [--to VERSION]` brings back: the newest earlier
/// known-good one (successful, not itself rolled back) of another artifact, or the newest one of
/// VERSION. The error says why there is none.
pub fn rollback_target(
    records: &[DeploymentRecord],
    environment: &str,
    to: Option<&str>,
) -> Result<(usize, usize), String> {
    let states = states(records);
    let Some(now) = current(records, &states, environment) else {
        return Err(format!("`{environment}` has no successful deployment: there is nothing to roll back"));
    };
    let running = artifact(&records[now]);
    let candidates = (0..now).rev().filter(|&i| same_env(&records[i].environment, environment));
    if let Some(version) = to {
        if names(&records[now], version) {
            return Err(format!("`{version}` is what runs in `{environment}` now ({running})"));
        }
        if let Some(i) =
            candidates.clone().find(|&i| states[i] != State::Failed && names(&records[i], version))
        {
            return Ok((i, now));
        }
        let seen = records.iter().any(|r| same_env(&r.environment, environment) && names(r, version));
        return Err(if seen {
            format!("`{version}` never deployed successfully to `{environment}`")
        } else {
            format!("`{version}` was never deployed to `{environment}`")
        });
    }
    for i in candidates {
        if matches!(states[i], State::Replaced) && artifact(&records[i]) != running {
            return Ok((i, now));
        }
    }
    Err(format!("`{environment}` has no earlier known-good artifact than the one that runs now ({running})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::ledger::Rollback;

    fn record(env: &str, version: &str, result: &str, rollback: bool) -> DeploymentRecord {
        let mut outputs = serde_json::Map::new();
        outputs.insert("image".into(), format!("127.0.0.1:5000/app:{version}").into());
        DeploymentRecord {
            v: 1,
            ts: "2024-05-01T10:00:00Z".into(),
            environment: env.into(),
            url: None,
            sha: format!("{version}0000000000"),
            run_id: format!("run-{version}"),
            job: format!("deploy-{env}"),
            outputs,
            result: result.into(),
            approved_by: None,
            rollback: rollback.then(|| Rollback { of_run: "run-a".into(), by: "alice".into() }),
        }
    }

    fn ledger() -> Vec<DeploymentRecord> {
        vec![
            record("production", "aaaa", "success", false),
            record("staging", "bbbb", "success", false),
            record("production", "bbbb", "success", false),
            record("production", "cccc", "failure", false),
            record("production", "aaaa", "success", true),
        ]
    }

    #[test]
    fn every_deployment_has_a_state() {
        use State::*;
        assert_eq!(states(&ledger()), [Replaced, Current, RolledBack, Failed, Current]);
    }

    #[test]
    fn a_version_names_a_tag_a_digest_or_a_commit() {
        let r = record("production", "aaaa", "success", false);
        for yes in ["aaaa", "127.0.0.1:5000/app:aaaa", "aaaa000"] {
            assert!(names(&r, yes), "{yes}");
        }
        for no in ["aaa", "", "bbbb", "app"] {
            assert!(!names(&r, no), "{no}");
        }
    }

    #[test]
    fn rollback_brings_back_the_previous_known_good_artifact() {
        let mut l = ledger();
        l.truncate(4);
        assert_eq!(rollback_target(&l, "production", None), Ok((0, 2)));
        assert_eq!(rollback_target(&l, "production", Some("aaaa")), Ok((0, 2)));
        // A version that was rolled back away from is not known-good any more.
        let l = ledger();
        assert!(rollback_target(&l, "production", None).unwrap_err().contains("no earlier known-good"));
        assert_eq!(rollback_target(&l, "production", Some("bbbb")), Ok((2, 4)));
    }

    #[test]
    fn rollback_says_why_there_is_nothing_to_bring_back() {
        let l = ledger();
        let err = |env, to| rollback_target(&l, env, to).unwrap_err();
        assert!(err("qa", None).contains("no successful deployment"));
        assert!(err("production", Some("aaaa")).contains("is what runs in `production` now"));
        assert!(err("production", Some("cccc")).contains("never deployed successfully"));
        assert!(err("production", Some("dddd")).contains("was never deployed"));
        assert!(err("staging", None).contains("no earlier known-good"));
    }
}
