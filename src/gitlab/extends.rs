//! `extends:`: a job (or hidden job) inherits the merged configuration of one or more parents,
//! deep-merged in order, its own keys last. Unknown parents and cycles are reported at the
//! `extends` value; resolution never loops.

use std::collections::{HashMap, HashSet};

use super::merge::deep_merge;
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, Value};

/// GitLab supports up to 11 levels of inheritance.
const MAX_DEPTH: usize = 11;

/// Resolve `extends` of every top-level job of `root` in place.
pub fn resolve(root: &mut Node, reserved: &[&str], out: &mut Vec<Diagnostic>) {
    let Some(entries) = root.as_map() else { return };
    let jobs: HashMap<String, Node> = entries
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone())))
        .filter(|(k, v)| !reserved.contains(&k.as_str()) && v.as_map().is_some())
        .collect();
    let mut done: HashMap<String, Node> = HashMap::new();
    let names: Vec<String> = entries.iter().filter_map(|(k, _)| k.as_str().map(String::from)).collect();
    for name in &names {
        if jobs.contains_key(name) {
            let mut trail = Vec::new();
            let mut reported = HashSet::new();
            resolve_job(name, &jobs, &mut done, &mut trail, &mut reported, out);
        }
    }
    if let Value::Map(entries) = &mut root.value {
        for (k, v) in entries.iter_mut() {
            if let Some(resolved) = k.as_str().and_then(|n| done.get(n)) {
                *v = resolved.clone();
            }
        }
    }
}

fn parents(job: &Node) -> Vec<&Node> {
    match job.get("extends") {
        Some(n) => match n.as_seq() {
            Some(items) => items.iter().collect(),
            None => vec![n],
        },
        None => Vec::new(),
    }
}

fn resolve_job(
    name: &str,
    jobs: &HashMap<String, Node>,
    done: &mut HashMap<String, Node>,
    trail: &mut Vec<String>,
    reported: &mut HashSet<String>,
    out: &mut Vec<Diagnostic>,
) -> Option<Node> {
    if let Some(n) = done.get(name) {
        return Some(n.clone());
    }
    let job = jobs.get(name)?;
    trail.push(name.to_string());
    let mut merged: Option<Node> = None;
    for parent in parents(job) {
        let Some(pname) = parent.as_str() else { continue };
        if trail.iter().any(|t| t == pname) {
            if reported.insert(pname.to_string()) {
                let mut cycle: Vec<&str> =
                    trail.iter().skip_while(|t| *t != pname).map(String::as_str).collect();
                cycle.push(pname);
                out.push(Diagnostic::error(
                    "extends-cycle",
                    parent.span,
                    format!("`extends` cycle: {}", cycle.join(" -> ")),
                ));
            }
            continue;
        }
        if !jobs.contains_key(pname) {
            let mut d = Diagnostic::error(
                "extends-unknown",
                parent.span,
                format!("`{name}` extends `{pname}`, which is not defined"),
            );
            if let Some(m) = crate::diagnostic::did_you_mean(pname, jobs.keys().map(String::as_str)) {
                d = d.with_help(format!("did you mean `{m}`?"));
            }
            out.push(d);
            continue;
        }
        if trail.len() >= MAX_DEPTH {
            out.push(Diagnostic::error(
                "extends-cycle",
                parent.span,
                format!("`extends` is nested more than {MAX_DEPTH} levels deep"),
            ));
            continue;
        }
        if let Some(p) = resolve_job(pname, jobs, done, trail, reported, out) {
            merged = Some(match merged {
                Some(m) => deep_merge(&m, &p),
                None => p,
            });
        }
    }
    trail.pop();
    let mut own = job.clone();
    let resolved = match merged {
        Some(mut m) => {
            // The parents' `extends` is not inherited; the job's own is kept for messages.
            if let Value::Map(e) = &mut m.value {
                e.retain(|(k, _)| k.as_str() != Some("extends"));
            }
            own = deep_merge(&m, &own);
            own
        }
        None => own,
    };
    done.insert(name.to_string(), resolved.clone());
    Some(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Node, Vec<String>) {
        let mut root = crate::yaml::parse_with(text, crate::yaml::Dialect::Gitlab).0.unwrap();
        let mut out = Vec::new();
        resolve(&mut root, &["stages"], &mut out);
        (root, out.iter().map(|d| format!("{}:{} {}", d.span.start.line, d.span.start.col, d.rule)).collect())
    }

    #[test]
    fn several_parents_merge_in_order() {
        let (root, diags) = run(
            ".a:\n  variables: {A: a, B: a}\n  script: [a]\n.b:\n  variables: {B: b}\njob:\n  extends: [.a, .b]\n  variables: {C: c}\n",
        );
        assert!(diags.is_empty());
        let vars = root.get("job").unwrap().get("variables").unwrap();
        assert_eq!(vars.get("A").unwrap().as_str(), Some("a"));
        assert_eq!(vars.get("B").unwrap().as_str(), Some("b"));
        assert_eq!(vars.get("C").unwrap().as_str(), Some("c"));
        assert!(root.get("job").unwrap().get("script").is_some());
    }

    #[test]
    fn chains_and_unknown_parents() {
        let (root, diags) =
            run(".a: {script: [x]}\n.b: {extends: .a}\njob: {extends: .b}\nbad: {extends: .nope}\n");
        assert!(root.get("job").unwrap().get("script").is_some());
        assert_eq!(diags, vec!["4:16 extends-unknown"]);
    }

    #[test]
    fn cycles_are_reported_once() {
        let (_, diags) = run(".a: {extends: .b}\n.b: {extends: .a}\njob: {extends: .a}\n");
        assert_eq!(diags, vec!["2:15 extends-cycle"]);
    }
}
