//! Checks of values the shape table cannot express: durations (`start_in`, `expire_in`),
//! the `parallel` range, and `environment: on_stop` naming a job. GitLab rejects each of these
//! when the pipeline is created, so pipe reports them at validation.

use super::duration;
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, Typed};

/// GitLab's bounds for `parallel: N`.
const PARALLEL: std::ops::RangeInclusive<i64> = 1..=200;

pub fn check(node: &Node, is_job: &dyn Fn(&str) -> bool, out: &mut Vec<Diagnostic>) {
    let rule_delays =
        node.get("rules").and_then(Node::as_seq).unwrap_or(&[]).iter().filter_map(|r| r.get("start_in"));
    for delay in node.get("start_in").into_iter().chain(rule_delays) {
        duration_value(delay, "start_in", false, out);
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

fn duration_value(node: &Node, key: &str, never_allowed: bool, out: &mut Vec<Diagnostic>) {
    let Some(text) = node.as_str() else { return };
    if never_allowed && text.trim().eq_ignore_ascii_case("never") {
        return;
    }
    if duration::seconds(text).is_none() {
        out.push(Diagnostic::error(
            "invalid-value",
            node.span,
            format!("`{key}: {text}` is not a duration (write e.g. `30 minutes`, `1 week`)"),
        ));
    }
}
