//! Reusable workflows: each call (`jobs.<id>.uses:`) checked against the called file — the file
//! exists and can be called, `with:` names declared inputs of the right type and gives every
//! required one, `secrets:` names declared secrets and gives every required one (`inherit` gives
//! them all), a caller job has only the keys GitHub allows. The called workflow's own
//! `on.workflow_call` declarations are checked by the format table and `inputs`.
//!
//! The outputs each called workflow declares are handed back so that `needs.<caller>.outputs.X`
//! in dependents is checked like any job's outputs (see `expressions`).

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::model::{CallSecrets, Job, Pipeline, Text};
use crate::reusable::{self, Interface, Lookup, Unavailable, inputs};
use crate::yaml::Node;

/// Keys a job that calls a reusable workflow may have besides `uses` (GitHub's list).
const CALLER_KEYS: &[&str] =
    &["name", "uses", "with", "secrets", "needs", "if", "permissions", "strategy", "concurrency"];

/// Declared outputs of the workflow each caller calls, by caller id; a caller whose file could not
/// be read is absent (its outputs are not checked).
pub type CallOutputs = HashMap<String, Vec<String>>;

/// `lookup` finds the called files (remote ones from the action cache only: validation never
/// fetches; a remote workflow that is not cached is not checked).
pub fn check(
    p: &Pipeline,
    root: Option<&Node>,
    lookup: Lookup<'_>,
    out: &mut Vec<Diagnostic>,
) -> CallOutputs {
    let mut outputs = CallOutputs::new();
    for job in &p.jobs {
        let Some(uses) = &job.uses else { continue };
        if let Some(node) = root.and_then(|r| r.get("jobs")).and_then(|j| j.get(&job.id.value)) {
            caller_keys(node, out);
        }
        let called = match reusable::load(&uses.value, Lookup { fetch: false, ..lookup }) {
            Ok(c) => c,
            // Remote workflows are checked once they are in the cache; nothing to say before.
            Err(Unavailable::NotCached(_)) => continue,
            Err(e @ Unavailable::Remote(_)) => {
                out.push(Diagnostic::error("call-file-missing", uses.span, e.to_string()));
                continue;
            }
            Err(Unavailable::Syntax(m)) => {
                out.push(Diagnostic::error("call-invalid-uses", uses.span, m));
                continue;
            }
            Err(e @ Unavailable::Missing { .. }) => {
                out.push(
                    Diagnostic::error("call-file-missing", uses.span, format!("the called workflow: {e}"))
                        .with_help(
                            "the path is relative to the repository root, e.g. ./.github/workflows/build.yml",
                        ),
                );
                continue;
            }
        };
        let Some(interface) = &called.interface else {
            if called.pipeline.is_some() {
                out.push(
                    Diagnostic::error(
                        "call-not-reusable",
                        uses.span,
                        format!(
                            "`{}` cannot be called: its `on:` has no `workflow_call`",
                            called.source.path
                        ),
                    )
                    .with_help("add `on: workflow_call` to the called workflow"),
                );
            }
            continue;
        };
        out.extend(call_problems(job, uses, interface));
        outputs
            .insert(job.id.value.clone(), interface.outputs.iter().map(|o| o.name.value.clone()).collect());
    }
    outputs
}

/// What is wrong with a call's `with:` and `secrets:` against the called file's declarations.
pub fn call_problems(job: &Job, uses: &Text, interface: &Interface) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    call_inputs(job, uses, interface, &mut out);
    call_secrets(job, uses, interface, &mut out);
    out
}

fn caller_keys(node: &Node, out: &mut Vec<Diagnostic>) {
    for (k, _) in node.as_map().unwrap_or_default() {
        let Some(key) = k.as_str() else { continue };
        if !CALLER_KEYS.contains(&key) {
            out.push(
                Diagnostic::error(
                    "call-job-key",
                    k.span,
                    format!("a job that calls a reusable workflow cannot have `{key}`"),
                )
                .with_help(format!("it may have: {}", CALLER_KEYS.join(", "))),
            );
        }
    }
}

fn call_inputs(job: &Job, uses: &Text, interface: &Interface, out: &mut Vec<Diagnostic>) {
    for (name, value) in &job.with {
        let Some(decl) = interface.input(&name.value) else {
            let declared = interface.inputs.iter().map(|i| i.name.as_str());
            let mut d = Diagnostic::error(
                "call-unknown-input",
                name.span,
                format!("the called workflow declares no input `{}`", name.value),
            );
            d = match did_you_mean(&name.value, declared) {
                Some(m) => d.with_help(format!("did you mean `{m}`?")),
                None => d.with_help(format!(
                    "its inputs: {}",
                    list(interface.inputs.iter().map(|i| i.name.as_str()))
                )),
            };
            out.push(d);
            continue;
        };
        if let Some(why) = inputs::literal(value).and_then(|v| inputs::literal_mismatch(decl.kind(), &v)) {
            out.push(Diagnostic::error(
                "call-input-type",
                value.span,
                format!("input `{}` is a {}: {why}", decl.name.value, decl.kind()),
            ));
        }
    }
    // A required input's default is never used (the `input-default` check says so).
    for decl in interface.inputs.iter().filter(|i| i.required) {
        if !job.with.iter().any(|(n, _)| n.value.eq_ignore_ascii_case(&decl.name.value)) {
            out.push(
                Diagnostic::error(
                    "call-missing-input",
                    uses.span,
                    format!("the called workflow requires the input `{}`", decl.name.value),
                )
                .with_help(format!("give it under `with:`: {}: VALUE", decl.name.value)),
            );
        }
    }
}

fn call_secrets(job: &Job, uses: &Text, interface: &Interface, out: &mut Vec<Diagnostic>) {
    let given: &[(Text, Text)] = match &job.secrets {
        CallSecrets::Inherit(_) => return,
        CallSecrets::Pairs(p) => p,
        CallSecrets::None => &[],
    };
    for (name, _) in given {
        if interface.secret(&name.value).is_none() {
            let mut d = Diagnostic::error(
                "call-unknown-secret",
                name.span,
                format!("the called workflow declares no secret `{}`", name.value),
            );
            d = match did_you_mean(&name.value, interface.secrets.iter().map(|s| s.name.as_str())) {
                Some(m) => d.with_help(format!("did you mean `{m}`?")),
                None => d.with_help(format!(
                    "its secrets: {} (or pass them all with `secrets: inherit`)",
                    list(interface.secrets.iter().map(|s| s.name.as_str()))
                )),
            };
            out.push(d);
        }
    }
    for decl in interface.secrets.iter().filter(|s| s.required) {
        if !given.iter().any(|(n, _)| n.value.eq_ignore_ascii_case(&decl.name.value)) {
            out.push(
                Diagnostic::error(
                    "call-missing-secret",
                    uses.span,
                    format!("the called workflow requires the secret `{}`", decl.name.value),
                )
                .with_help(format!(
                    "pass it under `secrets:` ({}: ${{{{ secrets.{} }}}}) or use `secrets: inherit`",
                    decl.name.value, decl.name.value
                )),
            );
        }
    }
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.collect();
    if v.is_empty() { "none".into() } else { v.join(", ") }
}
