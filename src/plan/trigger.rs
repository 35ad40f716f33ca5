//! Does the workflow run for this event, ref and set of changed files? `on:` with its
//! `branches`/`tags`/`paths` filters and activity `types`, as GitHub documents them.
//!
//! Decisions where the docs are silent: unknown changed files (`None`) never filter a run out, and
//! neither does an unknown activity type (no payload `action`); for `pull_request` without a payload
//! the `--ref` branch stands for the base branch.

use serde_json::Value as Json;

use super::filter_pattern::FilterList;
use crate::model::{Text, Trigger};

/// What `on:` says about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Runs,
    /// Not triggered, with a one-line reason for humans.
    Skipped(String),
}

/// The facts of the event being simulated.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub name: &'a str,
    pub git_ref: &'a str,
    pub changed_files: Option<&'a [String]>,
    pub payload: Option<&'a Json>,
}

/// Activity types GitHub uses for `pull_request`/`pull_request_target` when `types` is absent.
const PR_DEFAULT_TYPES: &[&str] = &["opened", "synchronize", "reopened"];

/// One family of filters: `types`, `branches`/`tags`, `paths`.
type Filter = fn(&Trigger, Event<'_>) -> Result<Decision, String>;

/// Decide whether `on` runs the workflow; `Err` for a filter pattern that cannot be compiled.
pub fn check(on: &[Trigger], event: Event<'_>) -> Result<Decision, String> {
    let Some(trigger) = on.iter().find(|t| t.event.value == event.name) else {
        let names: Vec<&str> = on.iter().map(|t| t.event.as_str()).collect();
        return Ok(Decision::Skipped(format!(
            "the workflow does not run on `{}` (on: {})",
            event.name,
            if names.is_empty() { "nothing".to_string() } else { names.join(", ") }
        )));
    };
    let steps: [Filter; 3] = [types, refs, paths];
    for step in steps {
        let d = step(trigger, event)?;
        if d != Decision::Runs {
            return Ok(d);
        }
    }
    Ok(Decision::Runs)
}

/// `types`: compared with the payload's `action` when there is one.
fn types(t: &Trigger, e: Event<'_>) -> Result<Decision, String> {
    let Some(action) = e.payload.and_then(|p| p.get("action")).and_then(Json::as_str) else {
        return Ok(Decision::Runs);
    };
    let allowed: Vec<&str> = match &t.types {
        Some(list) => list.iter().map(Text::as_str).collect(),
        None if is_pull_request(e.name) => PR_DEFAULT_TYPES.to_vec(),
        None => return Ok(Decision::Runs),
    };
    Ok(if allowed.contains(&action) {
        Decision::Runs
    } else {
        Decision::Skipped(format!("{} activity `{action}` is not in types [{}]", e.name, allowed.join(", ")))
    })
}

fn is_pull_request(event: &str) -> bool {
    event == "pull_request" || event == "pull_request_target"
}

/// `branches`/`tags` filters: the pushed ref for `push`, the base branch for pull requests.
fn refs(t: &Trigger, e: Event<'_>) -> Result<Decision, String> {
    if is_pull_request(e.name) {
        let base = base_branch(e);
        let what = format!("{} into {base}", e.name);
        return include_exclude(&what, &base, "branches", &t.branches, &t.branches_ignore);
    }
    if e.name != "push" {
        return Ok(Decision::Runs);
    }
    let has_branches = t.branches.is_some() || t.branches_ignore.is_some();
    let has_tags = t.tags.is_some() || t.tags_ignore.is_some();
    let what = format!("push to {}", e.git_ref);
    // GitHub: with only branch filters a tag push does not run, and vice versa.
    if let Some(branch) = e.git_ref.strip_prefix("refs/heads/") {
        if has_branches {
            return include_exclude(&what, branch, "branches", &t.branches, &t.branches_ignore);
        }
        if has_tags {
            return Ok(Decision::Skipped(format!("{what}: the workflow filters tags only")));
        }
    } else if let Some(tag) = e.git_ref.strip_prefix("refs/tags/") {
        if has_tags {
            return include_exclude(&what, tag, "tags", &t.tags, &t.tags_ignore);
        }
        if has_branches {
            return Ok(Decision::Skipped(format!("{what}: the workflow filters branches only")));
        }
    } else if has_branches || has_tags {
        return Ok(Decision::Skipped(format!(
            "{what}: neither a branch nor a tag, and the workflow filters them"
        )));
    }
    Ok(Decision::Runs)
}

/// The branch a pull request targets: the payload's `pull_request.base.ref`, else the `--ref`.
fn base_branch(e: Event<'_>) -> String {
    let from_payload = e
        .payload
        .and_then(|p| p.pointer("/pull_request/base/ref"))
        .and_then(Json::as_str)
        .map(str::to_string);
    let raw = from_payload.unwrap_or_else(|| e.git_ref.to_string());
    raw.strip_prefix("refs/heads/").unwrap_or(&raw).to_string()
}

/// One include list (`branches`) or one ignore list (`branches-ignore`) applied to `name`.
fn include_exclude(
    what: &str,
    name: &str,
    key: &str,
    include: &Option<Vec<Text>>,
    ignore: &Option<Vec<Text>>,
) -> Result<Decision, String> {
    if let Some(list) = include {
        let f = compile(list)?;
        if !f.matches(name) {
            return Ok(Decision::Skipped(format!("{what} does not match {key} [{}]", f.texts().join(", "))));
        }
    }
    if let Some(list) = ignore {
        let f = compile(list)?;
        if f.matches(name) {
            return Ok(Decision::Skipped(format!("{what} matches {key}-ignore [{}]", f.texts().join(", "))));
        }
    }
    Ok(Decision::Runs)
}

/// `paths`: some changed file is included; `paths-ignore`: some changed file is not ignored. Not
/// evaluated for tag pushes (GitHub docs), nor when the changed files are unknown.
fn paths(t: &Trigger, e: Event<'_>) -> Result<Decision, String> {
    if !(e.name == "push" || is_pull_request(e.name)) || e.git_ref.starts_with("refs/tags/") {
        return Ok(Decision::Runs);
    }
    let Some(files) = e.changed_files else { return Ok(Decision::Runs) };
    if let Some(list) = &t.paths {
        let f = compile(list)?;
        if !files.iter().any(|file| f.matches(file)) {
            return Ok(Decision::Skipped(format!(
                "no changed file matches paths [{}] (changed: {})",
                f.texts().join(", "),
                summary(files)
            )));
        }
    }
    if let Some(list) = &t.paths_ignore {
        let f = compile(list)?;
        if files.iter().all(|file| f.matches(file)) {
            return Ok(Decision::Skipped(format!(
                "every changed file matches paths-ignore [{}] (changed: {})",
                f.texts().join(", "),
                summary(files)
            )));
        }
    }
    Ok(Decision::Runs)
}

fn compile(list: &[Text]) -> Result<FilterList, String> {
    FilterList::new(&list.iter().map(Text::as_str).collect::<Vec<_>>())
}

/// A short list of files for a message.
fn summary(files: &[String]) -> String {
    const SHOWN: usize = 5;
    match files.len() {
        0 => "none".into(),
        n if n <= SHOWN => files.join(", "),
        n => format!("{}, and {} more", files[..SHOWN].join(", "), n - SHOWN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    fn on(yaml: &str) -> Vec<Trigger> {
        let text = format!("on:\n{yaml}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: x\n");
        let loaded = crate::load::load(&Source::new("t.yml", text));
        loaded.pipeline.expect("pipeline").on
    }

    fn decide(
        yaml: &str,
        name: &str,
        git_ref: &str,
        files: Option<&[&str]>,
        payload: Option<Json>,
    ) -> Decision {
        let files: Option<Vec<String>> = files.map(|f| f.iter().map(|s| s.to_string()).collect());
        let e = Event { name, git_ref, changed_files: files.as_deref(), payload: payload.as_ref() };
        check(&on(yaml), e).expect("valid patterns")
    }

    fn runs(d: Decision) -> bool {
        d == Decision::Runs
    }

    /// One row per case: `on:` body, event, ref, changed files, payload, whether it runs.
    macro_rules! cases {
        ($($name:ident: $yaml:expr, $event:expr, $ref:expr, $files:expr, $payload:expr => $want:expr;)+) => {
            $(
                #[test]
                fn $name() {
                    let d = decide($yaml, $event, $ref, $files, $payload);
                    assert_eq!(runs(d.clone()), $want, "{d:?}");
                }
            )+
        };
    }

    const NONE: Option<&[&str]> = None;

    cases! {
        plain_push: "  push:", "push", "refs/heads/x", NONE, None => true;
        other_event: "  push:", "pull_request", "refs/heads/x", NONE, None => false;
        branch_match: "  push:\n    branches: [main]", "push", "refs/heads/main", NONE, None => true;
        branch_no_match: "  push:\n    branches: [main]", "push", "refs/heads/dev", NONE, None => false;
        branch_glob: "  push:\n    branches: ['releases/**']", "push", "refs/heads/releases/1/x", NONE, None => true;
        branch_ignore: "  push:\n    branches-ignore: [dev]", "push", "refs/heads/dev", NONE, None => false;
        branch_ignore_other: "  push:\n    branches-ignore: [dev]", "push", "refs/heads/main", NONE, None => true;
        tag_with_branch_filter: "  push:\n    branches: ['**']", "push", "refs/tags/v1", NONE, None => false;
        branch_with_tag_filter: "  push:\n    tags: ['v*']", "push", "refs/heads/main", NONE, None => false;
        tag_match: "  push:\n    tags: ['v*']", "push", "refs/tags/v1.2", NONE, None => true;
        tag_no_match: "  push:\n    tags: ['v*']", "push", "refs/tags/x1", NONE, None => false;
        tag_ignore: "  push:\n    tags-ignore: ['v*']", "push", "refs/tags/v1", NONE, None => false;
        tag_no_filters: "  push:", "push", "refs/tags/v1", NONE, None => true;
        both_filters_tag: "  push:\n    branches: [main]\n    tags: ['v*']", "push", "refs/tags/v1", NONE, None => true;
        paths_match: "  push:\n    paths: ['src/**']", "push", "refs/heads/main", Some(&["src/a.rs"]), None => true;
        paths_no_match: "  push:\n    paths: ['src/**']", "push", "refs/heads/main", Some(&["docs/a.md"]), None => false;
        paths_unknown: "  push:\n    paths: ['src/**']", "push", "refs/heads/main", NONE, None => true;
        paths_not_for_tags: "  push:\n    paths: ['src/**']", "push", "refs/tags/v1", Some(&["docs/a.md"]), None => true;
        paths_ignore_all: "  push:\n    paths-ignore: ['docs/**']", "push", "refs/heads/main", Some(&["docs/a.md"]), None => false;
        paths_ignore_some: "  push:\n    paths-ignore: ['docs/**']", "push", "refs/heads/main", Some(&["docs/a.md", "src/b"]), None => true;
        paths_and_branches: "  push:\n    branches: [main]\n    paths: ['src/**']", "push", "refs/heads/dev", Some(&["src/a"]), None => false;
        paths_negated: "  push:\n    paths: ['**.md', '!docs/**']", "push", "refs/heads/main", Some(&["docs/a.md"]), None => false;
        pr_base_from_ref: "  pull_request:\n    branches: [main]", "pull_request", "refs/heads/main", NONE, None => true;
        pr_base_from_payload: "  pull_request:\n    branches: [main]", "pull_request", "refs/heads/feature",
            NONE, Some(serde_json::json!({"pull_request": {"base": {"ref": "main"}}})) => true;
        pr_base_payload_mismatch: "  pull_request:\n    branches: [main]", "pull_request", "refs/heads/main",
            NONE, Some(serde_json::json!({"pull_request": {"base": {"ref": "dev"}}})) => false;
        pr_default_types_closed: "  pull_request:", "pull_request", "refs/heads/main",
            NONE, Some(serde_json::json!({"action": "closed"})) => false;
        pr_default_types_sync: "  pull_request:", "pull_request", "refs/heads/main",
            NONE, Some(serde_json::json!({"action": "synchronize"})) => true;
        pr_types_closed: "  pull_request:\n    types: [closed]", "pull_request", "refs/heads/main",
            NONE, Some(serde_json::json!({"action": "closed"})) => true;
        pr_types_unknown_action: "  pull_request:\n    types: [closed]", "pull_request", "refs/heads/main", NONE, None => true;
        label_types: "  label:\n    types: [created]", "label", "refs/heads/main",
            NONE, Some(serde_json::json!({"action": "deleted"})) => false;
        list_form: "  [push, pull_request]", "pull_request", "refs/heads/x", NONE, None => true;
        dispatch: "  workflow_dispatch:", "workflow_dispatch", "refs/heads/x", NONE, None => true;
    }

    #[test]
    fn string_form() {
        let e = Event { name: "push", git_ref: "refs/heads/a", changed_files: None, payload: None };
        let on = crate::load::load(&Source::new("t.yml", "on: push\njobs: {}\n")).pipeline.unwrap().on;
        assert_eq!(check(&on, e), Ok(Decision::Runs));
    }

    #[test]
    fn reasons_are_readable() {
        assert_eq!(
            decide("  push:\n    branches: [main]", "push", "refs/heads/dev", NONE, None),
            Decision::Skipped("push to refs/heads/dev does not match branches [main]".into())
        );
        assert_eq!(
            decide("  push:", "pull_request", "refs/heads/dev", NONE, None),
            Decision::Skipped("the workflow does not run on `pull_request` (on: push)".into())
        );
        assert_eq!(
            decide("  push:\n    paths: ['src/**']", "push", "refs/heads/m", Some(&["a", "b"]), None),
            Decision::Skipped("no changed file matches paths [src/**] (changed: a, b)".into())
        );
    }

    #[test]
    fn bad_pattern_is_an_error() {
        let e = Event { name: "push", git_ref: "refs/heads/a", changed_files: None, payload: None };
        assert!(check(&on("  push:\n    branches: ['v[1']"), e).is_err());
    }
}
