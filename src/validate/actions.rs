//! Checks of `uses:` steps and of the workflow commands in `run:` scripts.
//!
//! Without I/O ([`check`], part of every validation): the form of `uses:` (`owner/repo@ref`,
//! `owner/repo/path@ref`, `./path`, `docker://image`; a missing or empty ref), and the deprecated
//! workflow commands `::set-output`, `::save-state`, `::set-env`, `::add-path` (warnings, with the
//! env-file fix).
//!
//! With an [`ActionFacts`] lookup ([`check_metadata`], `pipe validate`): the step's `with:`
//! against the action's declared inputs (a required input without a default that is missing is an
//! error; an input the action does not declare is a warning, as GitHub's runner only warns), and
//! `steps.<id>.outputs.<name>` read anywhere in the job against the outputs the action declares.
//! The facts come from local actions, from the action cache, or from the table of popular
//! actions ([`super::known_actions`]), so the check needs no network.

use crate::diagnostic::{Diagnostic, Severity};
use crate::fetch::{RemoteRef, Uses};
use crate::model::{Job, Pipeline, Text};
use crate::source::Source;

/// What an action declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionFacts {
    /// Input names, and whether each is required without a default.
    pub inputs: Vec<(String, bool)>,
    pub outputs: Vec<String>,
    /// A docker action: `args` and `entrypoint` are accepted besides its inputs.
    pub docker: bool,
    /// Where the facts come from, for messages (`the cached commit 1a2b…`, `the table (v4)`).
    pub from: String,
    /// Read from the action's own action.yml (local or cached): an undeclared output is an
    /// error. From the table it is a warning, as the table may lag behind a minor release.
    pub exact: bool,
}

/// The facts of the action a `uses:` names, when they are known without the network.
pub trait ActionLookup {
    fn local(&self, path: &str) -> Option<ActionFacts>;
    fn remote(&self, action: &RemoteRef) -> Option<ActionFacts>;
}

const DEPRECATED: &[(&str, &str)] = &[
    ("::set-output", "write `echo \"NAME=VALUE\" >> \"$GITHUB_OUTPUT\"` instead"),
    ("::save-state", "write `echo \"NAME=VALUE\" >> \"$GITHUB_STATE\"` instead"),
    (
        "::set-env",
        "write `echo \"NAME=VALUE\" >> \"$GITHUB_ENV\"` instead (GitHub refuses `set-env` unless ACTIONS_ALLOW_UNSECURE_COMMANDS is true)",
    ),
    (
        "::add-path",
        "write `echo \"DIR\" >> \"$GITHUB_PATH\"` instead (GitHub refuses `add-path` unless ACTIONS_ALLOW_UNSECURE_COMMANDS is true)",
    ),
];

/// The checks that need no I/O.
pub fn check(p: &Pipeline, source: &Source, out: &mut Vec<Diagnostic>) {
    for job in &p.jobs {
        for step in &job.steps {
            if let Some(uses) = &step.uses
                && !uses.value.contains("${{")
                && let Err(message) = crate::fetch::parse(&uses.value)
            {
                out.push(Diagnostic::error("uses-syntax", uses.span, message).with_help(
                    "write `owner/repo@v1` (a tag, branch or commit SHA), `owner/repo/path@v1`, `./path` or `docker://image`",
                ));
            }
            if let Some(run) = &step.run {
                deprecated_commands(run, source, out);
            }
        }
    }
}

fn deprecated_commands(run: &Text, source: &Source, out: &mut Vec<Diagnostic>) {
    let text = run.value.as_str();
    for (command, fix) in DEPRECATED {
        let mut from = 0;
        while let Some(found) = text[from..].find(command) {
            let byte = from + found;
            from = byte + command.len();
            // `::set-output name=x::v` or `::set-output::` — not `::set-outputs`.
            let next = text[from..].chars().next();
            if next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-') {
                continue;
            }
            let start = text[..byte].chars().count();
            let end = start + command.chars().count();
            let name = command.trim_start_matches(':');
            out.push(
                Diagnostic::warning(
                    "deprecated-command",
                    run.span_of(source, start, end),
                    format!("the workflow command `{name}` is deprecated"),
                )
                .with_help(*fix),
            );
        }
    }
}

/// The checks against what the actions declare.
pub fn check_metadata(p: &Pipeline, source: &Source, lookup: &dyn ActionLookup, out: &mut Vec<Diagnostic>) {
    for job in &p.jobs {
        let mut by_id: Vec<(&str, ActionFacts, &Text)> = Vec::new();
        for step in &job.steps {
            let Some(uses) = &step.uses else { continue };
            let facts = match crate::fetch::parse(&uses.value) {
                Ok(Uses::Local(path)) => lookup.local(&path),
                Ok(Uses::Remote(r)) => lookup.remote(&r),
                _ => None,
            };
            let Some(facts) = facts else { continue };
            inputs(step, uses, &facts, out);
            if let Some(id) = &step.id {
                by_id.push((id.value.as_str(), facts, uses));
            }
        }
        if !by_id.is_empty() {
            outputs(job, source, &by_id, out);
        }
    }
}

fn inputs(step: &crate::model::Step, uses: &Text, facts: &ActionFacts, out: &mut Vec<Diagnostic>) {
    let declared = |name: &str| facts.inputs.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    for (name, _) in &step.with {
        let extra = facts.docker && ["args", "entrypoint"].contains(&name.value.as_str());
        if !declared(&name.value) && !extra {
            let known: Vec<&str> = facts.inputs.iter().map(|(n, _)| n.as_str()).collect();
            let d = Diagnostic::warning(
                "action-unknown-input",
                name.span,
                format!("`{}` declares no input `{}` (per {})", uses.value, name.value, facts.from),
            );
            out.push(match crate::diagnostic::did_you_mean(&name.value, known.iter().copied()) {
                Some(m) => d.with_help(format!("did you mean `{m}`?")),
                None if known.is_empty() => d.with_help("the action takes no inputs"),
                None => d.with_help(format!("its inputs: {}", known.join(", "))),
            });
        }
    }
    for (name, required) in &facts.inputs {
        if *required && !step.with.iter().any(|(k, _)| k.value.eq_ignore_ascii_case(name)) {
            out.push(
                Diagnostic::error(
                    "action-missing-input",
                    uses.span,
                    format!(
                        "`{}` needs the input `{name}` (required, no default; per {})",
                        uses.value, facts.from
                    ),
                )
                .with_help(format!("add `with:` and `{name}: ...` to the step")),
            );
        }
    }
}

/// `steps.<id>.outputs.<name>` in the job's texts, for steps whose action's outputs are known.
fn outputs(job: &Job, source: &Source, by_id: &[(&str, ActionFacts, &Text)], out: &mut Vec<Diagnostic>) {
    for (text, condition) in job_texts(job) {
        if !text.value.contains("steps.") {
            continue;
        }
        for (start, id, name) in references(&text.value, condition) {
            let Some((_, facts, uses)) = by_id.iter().find(|(i, _, _)| i.eq_ignore_ascii_case(id)) else {
                continue;
            };
            if facts.outputs.iter().any(|o| o.eq_ignore_ascii_case(name)) {
                continue;
            }
            let name_start = start + format!("steps.{id}.outputs.").chars().count();
            let span = text.span_of(source, name_start, name_start + name.chars().count());
            let known = &facts.outputs;
            let severity = if facts.exact { Severity::Error } else { Severity::Warning };
            let d = Diagnostic::new(
                severity,
                "action-unknown-output",
                span,
                format!("step `{id}` (`{}`) has no output `{name}` (per {})", uses.value, facts.from),
            );
            out.push(match crate::diagnostic::did_you_mean(name, known.iter().map(String::as_str)) {
                Some(m) => d.with_help(format!("did you mean `{m}`?")),
                None if known.is_empty() => d.with_help("the action declares no outputs"),
                None => d.with_help(format!("its outputs: {}", known.join(", "))),
            });
        }
    }
}

/// `(char index, id, output)` of every `steps.ID.outputs.NAME` inside `${{ }}` of a text (all of
/// it for an `if:` written without `${{ }}`).
fn references(text: &str, condition: bool) -> Vec<(usize, &str, &str)> {
    let re = reference_regex();
    let spans = if condition && !text.contains("${{") {
        std::iter::once(0..text.len()).collect()
    } else {
        expression_spans(text)
    };
    let mut found = Vec::new();
    for span in spans {
        for c in re.captures_iter(&text[span.clone()]) {
            let (Some(all), Some(id), Some(name)) = (c.get(0), c.get(1), c.get(2)) else { continue };
            let byte = span.start + all.start();
            // Not a property of something else (`x.steps.a.outputs.b`).
            if text[..byte].ends_with('.') {
                continue;
            }
            found.push((text[..byte].chars().count(), id.as_str(), name.as_str()));
        }
    }
    found
}

fn reference_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"(?i)\bsteps\.([a-z_][a-z0-9_-]*)\.outputs\.([a-z_][a-z0-9_-]*)")
            .expect("valid regex")
    })
}

/// Byte ranges of the `${{ … }}` parts of a text (an `if:` is an expression as a whole).
fn expression_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("${{") {
        let start = from + open + 3;
        let end = text[start..].find("}}").map_or(text.len(), |e| start + e);
        spans.push(start..end);
        from = end;
    }
    spans
}

/// Every text of a job where an expression may read a step's outputs; `true` for an `if:`.
fn job_texts(job: &Job) -> Vec<(&Text, bool)> {
    let mut texts: Vec<(&Text, bool)> = job.outputs.iter().map(|(_, v)| (v, false)).collect();
    for step in &job.steps {
        texts.extend(step.name.iter().chain(&step.run).chain(&step.working_directory).map(|t| (t, false)));
        texts.extend(step.with.iter().map(|(_, v)| (v, false)));
        texts.extend(step.env.pairs().iter().map(|(_, v)| (v, false)));
        texts.extend(step.condition.iter().map(|t| (t, true)));
    }
    texts
}

/// Facts from the places pipe knows without the network: local actions in the working tree, the
/// action cache, and the table of popular actions.
/// Each action is looked up once per run, however many files use it (the same few actions
/// appear in most workflows of a repository).
pub struct Catalog<'a> {
    /// The repository root (where `./path` actions are).
    pub root: std::path::PathBuf,
    pub fetcher: &'a crate::fetch::Fetcher,
    /// The answers so far, by `./path` or `owner/repo@ref`.
    seen: Memo,
}

type Memo = std::sync::Mutex<std::collections::HashMap<(bool, String), Option<ActionFacts>>>;

impl<'a> Catalog<'a> {
    pub fn new(root: std::path::PathBuf, fetcher: &'a crate::fetch::Fetcher) -> Self {
        Catalog { root, fetcher, seen: Memo::default() }
    }

    fn memo(&self, key: (bool, String), find: impl FnOnce() -> Option<ActionFacts>) -> Option<ActionFacts> {
        if let Some(found) = self.seen.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return found.clone();
        }
        let found = find();
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(key, found.clone());
        found
    }

    fn read_remote(&self, r: &RemoteRef) -> Option<ActionFacts> {
        if let Some(c) = self.fetcher.cached(r)
            && let Ok(action) = crate::runner::metadata::read_dir(&c.dir, &r.to_string())
        {
            let from = format!("{r} at {}", crate::fetch::cache::short(&c.sha));
            return Some(facts_of(&action, from));
        }
        super::known_actions::lookup(r)
    }
}

impl ActionLookup for Catalog<'_> {
    fn local(&self, path: &str) -> Option<ActionFacts> {
        self.memo((true, path.to_string()), || {
            let action = crate::runner::metadata::read_dir(&self.root.join(path), path).ok()?;
            Some(facts_of(&action, format!("{path}/action.yml")))
        })
    }

    fn remote(&self, r: &RemoteRef) -> Option<ActionFacts> {
        self.memo((false, r.to_string()), || self.read_remote(r))
    }
}

fn facts_of(action: &crate::runner::metadata::Action, from: String) -> ActionFacts {
    ActionFacts {
        inputs: action.inputs.iter().map(|i| (i.name.clone(), i.required && i.default.is_none())).collect(),
        outputs: action.outputs.iter().map(|(name, _)| name.clone()).collect(),
        docker: matches!(action.runs, crate::runner::metadata::Runs::Docker { .. }),
        from,
        exact: true,
    }
}
