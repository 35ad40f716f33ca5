//! The gate rules, pure (no I/O): given pipe.toml, `--mode`, `--approve` and the ref, what happens
//! at a deployment job's environment gate, and who may answer it.

use crate::cli::Mode;

use super::branch;
use super::config::{Config, EnvironmentPolicy};

/// What happens at one environment gate before anyone is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateCheck {
    /// pipe.toml says `approval = false`: no gate, nothing recorded.
    NoGate,
    /// `--mode deployment`: passes, recorded as `auto`.
    Auto,
    /// `--approve ENV`: passes, recorded as approved by the identity (the runner checks that
    /// identity with [`may_decide`] first, so `--approve` cannot get around `reviewers`).
    PreApproved,
    /// A branch rule refuses the ref: the job fails without asking.
    Refused { reason: String },
    /// A human decides; `reviewers` `None` = anyone may.
    Wait { reviewers: Option<Vec<String>> },
}

/// Decide what happens at the gate of `environment`. Branch rules come first and apply in both
/// modes (a deploy from the wrong branch is never right, automatic or not); environments that
/// pipe.toml does not name need an approval (the safe default is continuous delivery).
pub fn check(
    environment: &str,
    config: Option<&Config>,
    mode: Mode,
    pre_approved: &[String],
    git_ref: &str,
) -> GateCheck {
    let policy = config.and_then(|c| c.environment(environment));
    if let Some(reason) = policy.and_then(|p| refusal(p, git_ref)) {
        return GateCheck::Refused { reason };
    }
    if policy.is_some_and(|p| !p.approval) {
        return GateCheck::NoGate;
    }
    if mode == Mode::Deployment {
        return GateCheck::Auto;
    }
    if pre_approved.iter().any(|e| e.eq_ignore_ascii_case(environment)) {
        return GateCheck::PreApproved;
    }
    GateCheck::Wait { reviewers: policy.and_then(|p| p.reviewers.clone()) }
}

/// Why `git_ref` may not deploy under the policy's `branches`, if it may not.
fn refusal(policy: &EnvironmentPolicy, git_ref: &str) -> Option<String> {
    let patterns = policy.branches.as_ref()?;
    let list = patterns.join(", ");
    match branch::branch_name(git_ref) {
        Some(b) if branch::allowed(patterns, b) => None,
        Some(_) => Some(format!("branch {git_ref} is not allowed (branches: {list})")),
        None if git_ref.is_empty() => Some(format!("the run is on no branch (branches: {list})")),
        None => Some(format!("ref {git_ref} is not a branch (branches: {list})")),
    }
}

/// Whether `who` may approve or reject a gate of this environment (`None`: not in pipe.toml,
/// anyone may). Names compare ignoring ASCII case. This is an audit trail, not authentication.
pub fn may_decide(policy: Option<&EnvironmentPolicy>, who: &str) -> Result<(), String> {
    let who = who.trim();
    match policy.and_then(|p| p.reviewers.as_ref()) {
        None => Ok(()),
        Some(list) if list.iter().any(|r| r.trim().eq_ignore_ascii_case(who)) => Ok(()),
        Some(list) if list.is_empty() => {
            Err(format!("`{who}` may not decide this gate: `reviewers` is empty in pipe.toml"))
        }
        Some(list) => Err(format!("`{who}` may not decide this gate (reviewers: {})", list.join(", "))),
    }
}

/// The plan's wording for a deployment job's gate, e.g. "waits for approval (production;
/// reviewers: alice, bob)". Same arguments as [`check`].
pub fn describe(
    environment: &str,
    config: Option<&Config>,
    mode: Mode,
    pre_approved: &[String],
    git_ref: &str,
) -> String {
    describe_check(environment, &check(environment, config, mode, pre_approved, git_ref))
}

/// The wording of an already computed check.
pub fn describe_check(environment: &str, check: &GateCheck) -> String {
    match check {
        GateCheck::NoGate => "deploys automatically (approval = false in pipe.toml)".into(),
        GateCheck::Auto => "deploys automatically (deployment mode)".into(),
        GateCheck::PreApproved => {
            format!("deploys automatically (pre-approved with --approve {environment})")
        }
        GateCheck::Refused { reason } => format!("refused: {reason}"),
        GateCheck::Wait { reviewers: None } => format!("waits for approval ({environment})"),
        GateCheck::Wait { reviewers: Some(list) } if list.is_empty() => {
            format!("waits for approval ({environment}; reviewers: none)")
        }
        GateCheck::Wait { reviewers: Some(list) } => {
            format!("waits for approval ({environment}; reviewers: {})", list.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let mut c = Config::default();
        c.environments.insert("staging".into(), EnvironmentPolicy { approval: false, ..Default::default() });
        c.environments.insert(
            "production".into(),
            EnvironmentPolicy {
                reviewers: Some(vec!["alice".into(), "bob".into()]),
                branches: Some(vec!["main".into(), "release/**".into()]),
                ..Default::default()
            },
        );
        c.environments.insert(
            "locked".into(),
            EnvironmentPolicy { approval: false, branches: Some(vec!["main".into()]), ..Default::default() },
        );
        c
    }

    /// environment, pipe.toml, mode, --approve, ref → expected.
    type Row<'a> = (&'a str, Option<&'a Config>, Mode, &'a [String], &'a str, GateCheck);

    fn wait(reviewers: Option<&[&str]>) -> GateCheck {
        GateCheck::Wait { reviewers: reviewers.map(|r| r.iter().map(|s| s.to_string()).collect()) }
    }

    #[test]
    fn rules_in_both_modes() {
        use Mode::{Delivery, Deployment};
        let c = config();
        let none: &[String] = &[];
        let prod = vec!["production".to_string()];
        let qa = vec!["QA".to_string()];
        let refused_dev = GateCheck::Refused {
            reason: "branch refs/heads/dev is not allowed (branches: main, release/**)".into(),
        };
        #[rustfmt::skip]
        let table: Vec<Row<'_>> = vec![
            // approval = false: no gate in either mode.
            ("staging", Some(&c), Delivery, none, "refs/heads/dev", GateCheck::NoGate),
            ("staging", Some(&c), Deployment, none, "refs/heads/dev", GateCheck::NoGate),
            // Named environment with reviewers.
            ("production", Some(&c), Delivery, none, "refs/heads/main", wait(Some(&["alice", "bob"]))),
            ("production", Some(&c), Deployment, none, "refs/heads/main", GateCheck::Auto),
            ("production", Some(&c), Delivery, &prod, "refs/heads/main", GateCheck::PreApproved),
            ("Production", Some(&c), Delivery, &prod, "refs/heads/release/1/2", GateCheck::PreApproved),
            // Branch rules come first, in both modes, even before --approve.
            ("production", Some(&c), Delivery, none, "refs/heads/dev", refused_dev.clone()),
            ("production", Some(&c), Deployment, none, "refs/heads/dev", refused_dev.clone()),
            ("production", Some(&c), Delivery, &prod, "refs/heads/dev", refused_dev),
            ("locked", Some(&c), Deployment, none, "refs/tags/v1",
                GateCheck::Refused { reason: "ref refs/tags/v1 is not a branch (branches: main)".into() }),
            ("locked", Some(&c), Delivery, none, "main", GateCheck::NoGate),
            // Unknown environments need an approval; so does everything without pipe.toml.
            ("qa", Some(&c), Delivery, none, "refs/heads/dev", wait(None)),
            ("qa", Some(&c), Deployment, none, "refs/heads/dev", GateCheck::Auto),
            ("qa", None, Delivery, none, "refs/heads/dev", wait(None)),
            ("qa", None, Deployment, none, "refs/heads/dev", GateCheck::Auto),
            ("qa", None, Delivery, &qa, "", GateCheck::PreApproved),
        ];
        for (env, config, mode, pre, git_ref, expected) in table {
            assert_eq!(check(env, config, mode, pre, git_ref), expected, "{env} {mode:?} {pre:?} {git_ref}");
        }
    }

    #[test]
    fn reviewers_restrict_who_decides() {
        let c = config();
        let prod = c.environment("production");
        assert_eq!(may_decide(prod, "alice"), Ok(()));
        assert_eq!(may_decide(prod, "Bob "), Ok(()));
        assert_eq!(
            may_decide(prod, "carol"),
            Err("`carol` may not decide this gate (reviewers: alice, bob)".into())
        );
        assert_eq!(may_decide(c.environment("staging"), "carol"), Ok(()));
        assert_eq!(may_decide(None, "anyone"), Ok(()));
        let empty = EnvironmentPolicy { reviewers: Some(vec![]), ..Default::default() };
        assert!(may_decide(Some(&empty), "alice").is_err());
    }

    #[test]
    fn plan_wording() {
        let c = config();
        let d = |env, mode, git_ref| describe(env, Some(&c), mode, &[], git_ref);
        assert_eq!(
            d("production", Mode::Delivery, "refs/heads/main"),
            "waits for approval (production; reviewers: alice, bob)"
        );
        assert_eq!(d("qa", Mode::Delivery, "refs/heads/main"), "waits for approval (qa)");
        assert_eq!(
            d("production", Mode::Deployment, "refs/heads/main"),
            "deploys automatically (deployment mode)"
        );
        assert_eq!(
            d("staging", Mode::Delivery, "refs/heads/main"),
            "deploys automatically (approval = false in pipe.toml)"
        );
        assert_eq!(
            d("locked", Mode::Delivery, "refs/heads/dev"),
            "refused: branch refs/heads/dev is not allowed (branches: main)"
        );
        assert_eq!(
            describe("production", Some(&c), Mode::Delivery, &["production".into()], "main"),
            "deploys automatically (pre-approved with --approve production)"
        );
    }
}
