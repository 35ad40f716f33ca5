//! Checks of single values and of ids: step `run`/`uses`, job and step ids, env names, timeouts,
//! shells, matrix excludes.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::format::SHELLS;
use crate::model::{Env, Job, Matrix, Number, Pipeline, Text};
use crate::yaml::Node;

/// Keys that make a step a control step for background steps (no `run` nor `uses`).
const CONTROL_STEP_KEYS: &[&str] = &["wait", "wait-all", "cancel"];

pub fn check(p: &Pipeline, root: &Node, out: &mut Vec<Diagnostic>) {
    // `jobs: {}` is a mapping of the right type, and GitHub still refuses it.
    if let Some(jobs) = root.get("jobs").filter(|j| j.as_map().is_some_and(<[_]>::is_empty)) {
        out.push(
            Diagnostic::error("no-jobs", jobs.span, "`jobs` is empty: a workflow needs at least one job")
                .with_help("add a job, e.g. `build: { runs-on: ubuntu-latest, steps: [run: make] }`"),
        );
    }
    env_names(&p.env, out);
    shell(p.defaults.shell.as_ref(), out);
    let mut seen: HashMap<Cow<'_, str>, &Text> = HashMap::with_capacity(p.jobs.len());
    // Looked up once: a job's node by id in constant time, however many jobs there are.
    let job_nodes: HashMap<&str, &Node> = root
        .get("jobs")
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .rev()
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .collect();
    for job in &p.jobs {
        let folded = fold_case(&job.id.value);
        if let Some(first) = seen.get(&folded) {
            // GitHub compares job ids without case; exact duplicates are caught by the YAML reader.
            if first.value != job.id.value {
                out.push(
                    Diagnostic::error(
                        "duplicate-job",
                        job.id.span,
                        format!("job id `{}` differs only in case from `{}`", job.id.value, first.value),
                    )
                    .with_help("job ids are case-insensitive: rename one of them"),
                );
            }
        } else {
            seen.insert(folded, &job.id);
        }
        let step_nodes = job_nodes
            .get(job.id.as_str())
            .and_then(|j| j.get("steps"))
            .and_then(Node::as_seq)
            .unwrap_or_default();
        check_job(job, step_nodes, out);
    }
}

/// An id as GitHub compares it (without case); borrowed when it is lowercase ASCII already.
fn fold_case(id: &str) -> Cow<'_, str> {
    if id.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(id)
    } else {
        Cow::Owned(id.to_lowercase())
    }
}

/// GitHub's rule for job and step ids.
pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn check_job(job: &Job, step_nodes: &[Node], out: &mut Vec<Diagnostic>) {
    if !is_valid_id(&job.id.value) {
        out.push(
            Diagnostic::error("invalid-id", job.id.span, format!("invalid job id `{}`", job.id.value))
                .with_help(
                    "a job id starts with a letter or `_` and holds only letters, digits, `-` and `_`",
                ),
        );
    }
    env_names(&job.env, out);
    shell(job.defaults.shell.as_ref(), out);
    timeout(job.timeout_minutes.as_ref(), out);
    if let Some(c) = &job.container {
        env_pairs(&c.env, out);
    }
    for (_, svc) in &job.services {
        env_pairs(&svc.env, out);
    }
    if let Some(Matrix::Axes(m)) = job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) {
        let axes: Vec<&str> = m.axes.iter().map(|(n, _)| n.as_str()).collect();
        for row in &m.exclude {
            for (key, _) in &row.entries {
                if !axes.contains(&key.as_str()) {
                    let mut d = Diagnostic::error(
                        "matrix-unknown-axis",
                        key.span,
                        format!("matrix exclude names `{}`, which is not an axis of the matrix", key.value),
                    );
                    d = match did_you_mean(&key.value, axes.iter().copied()) {
                        Some(m) => d.with_help(format!("did you mean `{m}`?")),
                        None => d.with_help(format!("the axes are: {}", axes.join(", "))),
                    };
                    out.push(d);
                }
            }
        }
    }
    let mut step_ids: HashMap<String, &Text> = HashMap::new();
    for (k, step) in job.steps.iter().enumerate() {
        let control = step_nodes.get(k).is_some_and(|n| CONTROL_STEP_KEYS.iter().any(|c| n.get(c).is_some()));
        match (&step.run, &step.uses) {
            (Some(_), Some(u)) => out.push(
                Diagnostic::error("step-run-and-uses", u.span, "a step has either `run` or `uses`, not both")
                    .with_help("split it into two steps"),
            ),
            (None, None) if !control => out.push(Diagnostic::error(
                "step-run-or-uses",
                step.span,
                "a step needs `run` (a script) or `uses` (an action)",
            )),
            _ => {}
        }
        if let Some(id) = &step.id {
            if !is_valid_id(&id.value) {
                out.push(
                    Diagnostic::error("invalid-id", id.span, format!("invalid step id `{}`", id.value))
                        .with_help("a step id starts with a letter or `_` and holds only letters, digits, `-` and `_`"),
                );
            }
            // GitHub compares step ids without case, as `steps.<id>` does.
            if let Some(first) = step_ids.insert(id.value.to_lowercase(), id) {
                out.push(
                    Diagnostic::error(
                        "duplicate-step-id",
                        id.span,
                        format!("step id `{}` is used twice in job `{}`", id.value, job.id.value),
                    )
                    .with_help(format!("first used at line {}", first.span.start.line)),
                );
            }
        }
        env_names(&step.env, out);
        shell(step.shell.as_ref(), out);
        timeout(step.timeout_minutes.as_ref(), out);
    }
}

fn env_names(env: &Env, out: &mut Vec<Diagnostic>) {
    env_pairs(env.pairs(), out);
}

/// GitHub's schema takes any non-empty string as a variable name (`my-var`, `${{ x }}` too);
/// only an empty one can never be set.
fn env_pairs(pairs: &[(Text, Text)], out: &mut Vec<Diagnostic>) {
    for (name, _) in pairs.iter().filter(|(name, _)| name.value.is_empty()) {
        out.push(
            Diagnostic::error("invalid-env-name", name.span, "an environment variable name cannot be empty")
                .with_help("name the variable, for example `MY_VAR: value`"),
        );
    }
}

fn timeout(t: Option<&Number>, out: &mut Vec<Diagnostic>) {
    if let Some(Number::Value(v, span)) = t
        && (*v <= 0.0 || !v.is_finite())
    {
        out.push(Diagnostic::error(
            "invalid-timeout",
            *span,
            format!("`timeout-minutes` must be a positive number, found {v}"),
        ));
    }
}

fn shell(shell: Option<&Text>, out: &mut Vec<Diagnostic>) {
    let Some(s) = shell else { return };
    let v = s.value.trim();
    if v.contains("{0}") || v.contains("${{") || SHELLS.iter().any(|k| k.eq_ignore_ascii_case(v)) {
        return;
    }
    let mut d = Diagnostic::error("unknown-shell", s.span, format!("unknown shell `{v}`"));
    d = match did_you_mean(v, SHELLS.iter().copied()) {
        Some(m) => d.with_help(format!(
            "did you mean `{m}`? A custom shell is a command with `{{0}}` for the script, e.g. `perl {{0}}`"
        )),
        None => d.with_help(format!(
            "known shells: {}; or a command with `{{0}}` for the script, e.g. `perl {{0}}`",
            SHELLS.join(", ")
        )),
    };
    out.push(d);
}
