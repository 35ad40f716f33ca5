//! Checks of `on:`: activity types per event, filters that an event ignores or that conflict,
//! filter patterns (at the column of the bad character), `workflow_run` without `workflows`, and
//! the schedule (through `cron`).

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::format::events::{ANY_TYPE, EVENT_SPECS, EventSpec, event_spec};
use crate::plan::filter_pattern::check_syntax;
use crate::source::Source;
use crate::yaml::Node;

use super::cron;

/// Filters that exclude each other (GitHub rejects both on one event).
const EXCLUSIVE: &[(&str, &str)] =
    &[("branches", "branches-ignore"), ("tags", "tags-ignore"), ("paths", "paths-ignore")];
/// Filters whose patterns name git refs (branches and tags), not paths.
const REF_FILTERS: &[&str] = &["branches", "branches-ignore", "tags", "tags-ignore"];
const PATTERN_FILTERS: &[&str] =
    &["branches", "branches-ignore", "tags", "tags-ignore", "paths", "paths-ignore"];

pub fn check(root: &Node, source: &Source, out: &mut Vec<Diagnostic>) {
    let Some(on) = root.get("on") else { return };
    match on.as_map() {
        Some(entries) => {
            for (key, value) in entries {
                let Some(name) = key.as_str() else { continue };
                match name {
                    "schedule" => schedule(value, source, out),
                    _ => {
                        if let Some(spec) = event_spec(name) {
                            event(spec, key, value, source, out);
                        }
                    }
                }
            }
        }
        // `on: workflow_run` or `on: [push, workflow_run]`: no `workflows`, the event never fires.
        None => {
            let names: Vec<&Node> = match on.as_seq() {
                Some(items) => items.iter().collect(),
                None => vec![on],
            };
            for n in names.into_iter().filter(|n| n.as_str() == Some("workflow_run")) {
                out.push(workflow_run_needs_workflows(n));
            }
        }
    }
}

fn event(spec: &EventSpec, key: &Node, value: &Node, source: &Source, out: &mut Vec<Diagnostic>) {
    let Some(entries) = value.as_map() else {
        if spec.name == "workflow_run" {
            out.push(workflow_run_needs_workflows(key));
        }
        return;
    };
    if !spec.configurable && !entries.is_empty() {
        out.push(
            Diagnostic::error(
                "event-filter",
                entries[0].0.span,
                format!("the `{}` event takes no activity types or filters", spec.name),
            )
            .with_help(format!("write `{}:` with nothing after it", spec.name)),
        );
        return;
    }
    for (k, v) in entries {
        let Some(filter) = k.as_str() else { continue };
        if filter == "types" {
            types(spec, k, v, out);
        } else if !spec.filters.contains(&filter) {
            out.push(unsupported_filter(spec, k, filter));
            continue;
        }
        if PATTERN_FILTERS.contains(&filter) {
            patterns(filter, v, source, out);
        }
    }
    for (a, b) in EXCLUSIVE {
        if let (Some(_), Some(second)) = (value.key_node(a), value.key_node(b)) {
            out.push(
                Diagnostic::error(
                    "event-filter-conflict",
                    second.span,
                    format!("`{a}` and `{b}` cannot both filter the `{}` event", spec.name),
                )
                .with_help(format!("keep `{a}` and exclude with `!pattern` entries in it")),
            );
        }
    }
    if spec.name == "workflow_run" && value.get("workflows").is_none() {
        out.push(workflow_run_needs_workflows(key));
    }
}

fn workflow_run_needs_workflows(at: &Node) -> Diagnostic {
    Diagnostic::error(
        "workflow-run-workflows",
        at.span,
        "`workflow_run` needs `workflows`: the workflows whose runs trigger this one",
    )
    .with_help("add `workflows: [\"CI\"]` with the `name:` of the other workflow")
}

fn unsupported_filter(spec: &EventSpec, key: &Node, filter: &str) -> Diagnostic {
    let takes: Vec<&str> =
        EVENT_SPECS.iter().filter(|e| e.filters.contains(&filter)).map(|e| e.name).collect();
    let mut d = Diagnostic::error(
        "event-filter",
        key.span,
        format!("the `{}` event has no `{filter}` filter", spec.name),
    );
    if let Some(m) = did_you_mean(filter, spec.filters.iter().copied().chain(["types"])) {
        d = d.with_help(format!("did you mean `{m}`?"));
    } else if takes.is_empty() {
        d = d.with_help(format!("`{filter}` is not a filter of any event"));
    } else {
        d = d.with_help(format!("`{filter}` filters only {}", takes.join(", ")));
    }
    d
}

fn items(v: &Node) -> Vec<&Node> {
    match v.as_seq() {
        Some(s) => s.iter().collect(),
        None => vec![v],
    }
}

fn types(spec: &EventSpec, key: &Node, v: &Node, out: &mut Vec<Diagnostic>) {
    if spec.types.is_empty() {
        out.push(
            Diagnostic::error(
                "event-filter",
                key.span,
                format!("the `{}` event has no activity types", spec.name),
            )
            .with_help("remove `types:`"),
        );
        return;
    }
    if spec.types == ANY_TYPE {
        return;
    }
    for item in items(v) {
        let Some(t) = item.as_str() else { continue };
        if spec.types.contains(&t) {
            continue;
        }
        let mut d = Diagnostic::error(
            "event-activity-type",
            item.span,
            format!("`{t}` is not an activity type of the `{}` event", spec.name),
        );
        d = match did_you_mean(t, spec.types.iter().copied()) {
            Some(m) => d.with_help(format!("did you mean `{m}`?")),
            None => d.with_help(format!("its activity types: {}", spec.types.join(", "))),
        };
        out.push(d);
    }
}

/// Characters git forbids in ref names (`git check-ref-format`) that are not pattern syntax.
const REF_FORBIDDEN: &[char] = &[' ', '~', '^', ':', '\t'];

fn patterns(filter: &str, v: &Node, source: &Source, out: &mut Vec<Diagnostic>) {
    for item in items(v) {
        let Some(text) = item.as_str() else { continue };
        let at = |i: usize| item.span_in_scalar(source, i, i + 1);
        if let Err(e) = check_syntax(text) {
            out.push(
                Diagnostic::error(
                    "filter-pattern",
                    at(e.at),
                    format!("invalid pattern `{text}`: {}", e.message),
                )
                .with_help(
                    "see GitHub's filter pattern cheat sheet: `*`, `**`, `?`, `+`, `[...]`, `!`, `\\`",
                ),
            );
            continue;
        }
        if REF_FILTERS.contains(&filter)
            && let Some(i) = text.chars().position(|c| REF_FORBIDDEN.contains(&c))
        {
            let c = text.chars().nth(i).unwrap_or(' ');
            out.push(
                Diagnostic::warning(
                    "filter-pattern",
                    at(i),
                    format!("`{c}` cannot appear in a branch or tag name: `{text}` matches nothing"),
                )
                .with_help("filters are glob patterns, not regular expressions: `release/*`, `v[0-9]+.*`"),
            );
        }
    }
}

fn schedule(v: &Node, source: &Source, out: &mut Vec<Diagnostic>) {
    for entry in v.as_seq().unwrap_or_default() {
        if let Some(cron) = entry.get("cron")
            && let Some(text) = cron.as_str()
        {
            cron::check(cron, text, source, out);
        }
    }
}
