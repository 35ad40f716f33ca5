//! Whether a job (or the pipeline) is added, and how: `rules:` (first matching rule wins;
//! `if`, `changes`, `exists`, then its `when`, `allow_failure`, `variables`, `start_in`, `needs`)
//! and the older `only:`/`except:` (refs, variables, changes). Evaluated for one pipeline at plan
//! time.

use std::collections::BTreeMap;
use std::path::Path;

use super::expr;
use crate::diagnostic::Diagnostic;
use crate::source::Source;
use crate::yaml::{Node, Typed};

/// What the matching rule says.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// `None`: the job keeps its own `when`.
    pub when: Option<String>,
    pub allow_failure: Option<bool>,
    pub variables: Vec<(String, String)>,
    pub start_in: Option<String>,
    pub needs: Option<Node>,
}

/// Facts a rule is matched against.
pub struct Facts<'a> {
    pub vars: &'a BTreeMap<String, String>,
    pub changed_files: Option<&'a [String]>,
    pub project_dir: &'a Path,
}

/// The first rule of `rules` that matches, or `None` when none does (the job is not added).
/// Expression syntax errors are reported (and the rule does not match).
pub fn first_match(
    rules: &Node,
    facts: &Facts<'_>,
    source: &Source,
    out: &mut Vec<Diagnostic>,
) -> Option<Outcome> {
    for rule in rules.as_seq().unwrap_or(&[]) {
        if matches(rule, facts, source, out) {
            let text = |k: &str| rule.get(k).and_then(Node::as_str).map(String::from);
            return Some(Outcome {
                when: text("when"),
                allow_failure: match rule.get("allow_failure").and_then(Node::typed) {
                    Some(Typed::Bool(b)) => Some(b),
                    _ => None,
                },
                variables: pairs(rule.get("variables")),
                start_in: text("start_in"),
                needs: rule.get("needs").cloned(),
            });
        }
    }
    None
}

fn pairs(node: Option<&Node>) -> Vec<(String, String)> {
    node.and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    Some((k.as_str()?.to_string(), v.as_str().unwrap_or_default().to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn matches(rule: &Node, facts: &Facts<'_>, source: &Source, out: &mut Vec<Diagnostic>) -> bool {
    if let Some(cond) = rule.get("if") {
        match condition(cond, facts.vars, source, out) {
            Some(true) => {}
            _ => return false,
        }
    }
    if let Some(changes) = rule.get("changes")
        && !changed(changes, facts)
    {
        return false;
    }
    if let Some(exists) = rule.get("exists")
        && !exist(exists, facts.project_dir)
    {
        return false;
    }
    true
}

/// Evaluate an `if:` node; `None` after reporting a syntax error.
pub fn condition(
    node: &Node,
    vars: &BTreeMap<String, String>,
    source: &Source,
    out: &mut Vec<Diagnostic>,
) -> Option<bool> {
    let text = node.as_str()?;
    match expr::parse(text) {
        Ok(e) => Some(expr::eval(&e, vars)),
        Err(err) => {
            out.push(Diagnostic::error(
                "rules-if-syntax",
                node.span_in_scalar(source, err.at, err.at + 1),
                format!("invalid `if:` expression: {}", err.message),
            ));
            None
        }
    }
}

/// Globs of a `changes:` (list, or `paths:`).
fn globs(node: &Node) -> Vec<String> {
    let list = node.get("paths").unwrap_or(node);
    list.as_seq().unwrap_or(&[]).iter().filter_map(Node::as_str).map(String::from).collect()
}

fn glob_set(patterns: &[String]) -> Option<globset::GlobSet> {
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        b.add(globset::GlobBuilder::new(p).literal_separator(true).build().ok()?);
    }
    b.build().ok()
}

/// `changes:` matches when a changed file matches a glob; with unknown changes it matches (as
/// GitLab does for pipelines without a diff to compare with).
fn changed(node: &Node, facts: &Facts<'_>) -> bool {
    let Some(files) = facts.changed_files else { return true };
    let Some(set) = glob_set(&globs(node)) else { return true };
    files.iter().any(|f| set.is_match(f))
}

fn exist(node: &Node, project_dir: &Path) -> bool {
    let patterns = globs(node);
    let Some(set) = glob_set(&patterns) else { return false };
    let mut stack = vec![project_dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for entry in rd.flatten() {
            seen += 1;
            // GitLab stops looking after 10,000 files; so does pipe.
            if seen > 10_000 {
                return false;
            }
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != ".git" && name != ".pipe" {
                    stack.push(path);
                }
            } else if let Ok(rel) = path.strip_prefix(project_dir)
                && set.is_match(rel)
            {
                return true;
            }
        }
    }
    false
}

/// `only:` / `except:` for this pipeline: `true` when the job is added.
pub fn only_except(
    only: Option<&Node>,
    except: Option<&Node>,
    facts: &Facts<'_>,
    source: &Source,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let included = match only {
        // GitLab's default: only: [branches, tags].
        None => refs_match(&["branches".to_string(), "tags".to_string()], facts.vars),
        Some(n) => policy_matches(n, facts, source, out),
    };
    let excluded = except.is_some_and(|n| policy_matches(n, facts, source, out));
    included && !excluded
}

/// A policy (a list of refs, or refs/variables/changes) matches when each part given matches.
fn policy_matches(node: &Node, facts: &Facts<'_>, source: &Source, out: &mut Vec<Diagnostic>) -> bool {
    let strings = |n: &Node| -> Vec<String> {
        match n.as_seq() {
            Some(items) => items.iter().filter_map(Node::as_str).map(String::from).collect(),
            None => n.as_str().map(String::from).into_iter().collect(),
        }
    };
    if node.as_map().is_none() {
        return refs_match(&strings(node), facts.vars);
    }
    if let Some(refs) = node.get("refs")
        && !refs_match(&strings(refs), facts.vars)
    {
        return false;
    }
    if let Some(vars) = node.get("variables") {
        let any =
            vars.as_seq().unwrap_or(&[]).iter().any(|v| condition(v, facts.vars, source, out) == Some(true));
        if !any {
            return false;
        }
    }
    if let Some(changes) = node.get("changes")
        && !changed(changes, facts)
    {
        return false;
    }
    true
}

/// `only: refs` entries: keywords, `/regex/`, or a ref name.
fn refs_match(refs: &[String], vars: &BTreeMap<String, String>) -> bool {
    let get = |k: &str| vars.get(k).map(String::as_str);
    let source = get("CI_PIPELINE_SOURCE").unwrap_or("push");
    let name = get("CI_COMMIT_REF_NAME").unwrap_or("");
    let is_tag = get("CI_COMMIT_TAG").is_some();
    refs.iter().any(|r| match r.as_str() {
        "branches" => !is_tag && source != "merge_request_event",
        "tags" => is_tag,
        "merge_requests" => source == "merge_request_event",
        "pushes" => source == "push",
        "schedules" => source == "schedule",
        "web" => source == "web",
        "api" => source == "api",
        "triggers" => source == "trigger",
        "pipelines" => source == "pipeline",
        "external" => source == "external",
        "external_pull_requests" => source == "external_pull_request_event",
        "chat" => source == "chat",
        pattern if pattern.starts_with('/') => match pattern[1..].rsplit_once('/') {
            Some((p, flags)) => {
                let prefix = if flags.contains('i') { "(?i)" } else { "" };
                regex::Regex::new(&format!("{prefix}{p}")).is_ok_and(|re| re.is_match(name))
            }
            None => false,
        },
        // `name@project`: the project part is this repository.
        exact => exact.split('@').next() == Some(name),
    })
}
