//! Checks of values the shape table cannot express: durations (`start_in`, `expire_in`),
//! the `parallel` range, and `environment: on_stop` naming a job. GitLab rejects each of these
//! when it reads the file, before `rules:` decide which jobs a pipeline has, so they are checked
//! for every job, also one the rules leave out of this pipeline.

use super::duration;
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, Typed};

/// GitLab's bounds for `parallel: N`.
const PARALLEL: std::ops::RangeInclusive<i64> = 1..=200;
/// GitLab's limit for `start_in`: one week.
const START_IN_MAX: u64 = 604_800;

pub fn check(node: &Node, is_job: &dyn Fn(&str) -> bool, out: &mut Vec<Diagnostic>) {
    let rule_delays =
        node.get("rules").and_then(Node::as_seq).unwrap_or(&[]).iter().filter_map(|r| r.get("start_in"));
    for delay in node.get("start_in").into_iter().chain(rule_delays) {
        if let Some(secs) = duration_value(delay, "start_in", false, out)
            && secs > START_IN_MAX
        {
            out.push(Diagnostic::error(
                "invalid-value",
                delay.span,
                format!(
                    "`start_in: {}` is longer than one week, GitLab's limit for a delayed job",
                    delay.as_str().unwrap_or_default()
                ),
            ));
        }
    }
    if let Some(expire) = node.get("artifacts").and_then(|a| a.get("expire_in")) {
        duration_value(expire, "expire_in", true, out);
    }
    if let Some(p) = node.get("parallel")
        && let Some(Typed::Int(n)) = p.typed()
        && !PARALLEL.contains(&n)
    {
        out.push(Diagnostic::error("invalid-value", p.span, format!("`parallel` is 1 to 200, not {n}")));
    }
    if let Some(stop) = node.get("environment").and_then(|e| e.get("on_stop"))
        && let Some(job) = stop.as_str()
        && !is_job(job)
    {
        out.push(Diagnostic::error(
            "needs-unknown",
            stop.span,
            format!("`environment: on_stop` names `{job}`, which is not a job"),
        ));
    }
}

/// The duration in seconds, or an error when the value is not one (`never`, where allowed, is
/// neither).
fn duration_value(node: &Node, key: &str, never_allowed: bool, out: &mut Vec<Diagnostic>) -> Option<u64> {
    let text = node.as_str()?;
    if never_allowed && text.trim().eq_ignore_ascii_case("never") {
        return None;
    }
    let secs = duration::seconds(text);
    if secs.is_none() {
        out.push(Diagnostic::error(
            "invalid-value",
            node.span,
            format!("`{key}: {text}` is not a duration (write e.g. `30 minutes`, `1 week`)"),
        ));
    }
    secs
}
