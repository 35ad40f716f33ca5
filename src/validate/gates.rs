//! Checks of deployment gates against pipe.toml: required gate jobs that are missing or can be
//! bypassed, environments pipe.toml does not know, and environment-scoped secrets used elsewhere.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::gate::{Config, EnvironmentPolicy};
use crate::model::{Env, Environment, Flag, Job, Number, Pipeline, Text};
use crate::source::Source;

pub fn check(p: &Pipeline, source: &Source, config: Option<&Config>, out: &mut Vec<Diagnostic>) {
    // Without pipe.toml there is no policy to check against: every gate simply asks.
    let Some(config) = config else {
        return;
    };
    for job in &p.jobs {
        let Some(env) = literal_environment(job) else {
            continue;
        };
        match config.environment(env.name.as_str()) {
            Some(policy) => required_gates(p, source, job, env, policy, out),
            None => out.push(unknown_environment(env, config)),
        }
    }
    scoped_secrets(p, source, config, out);
}

/// The job's environment when its name is known before the run (not an expression).
fn literal_environment(job: &Job) -> Option<&Environment> {
    job.environment.as_deref().filter(|e| !e.name.value.contains("${{") && !e.name.value.trim().is_empty())
}

fn unknown_environment(env: &Environment, config: &Config) -> Diagnostic {
    let name = env.name.as_str();
    let d = Diagnostic::note(
        "environment-unknown",
        env.name.span,
        format!("`{name}` is not in pipe.toml: it will need an approval"),
    );
    match did_you_mean(name, config.environments.keys().map(String::as_str)) {
        Some(m) => d.with_help(format!("did you mean `{m}`?")),
        None => d.with_help(format!("add [environments.{name}] to pipe.toml to give it a policy")),
    }
}

/// `requires`: each gate job must be upstream of the deploy job, and nothing may let the deploy
/// run when it fails.
fn required_gates(
    p: &Pipeline,
    source: &Source,
    job: &Job,
    env: &Environment,
    policy: &EnvironmentPolicy,
    out: &mut Vec<Diagnostic>,
) {
    let deploy = job.id.as_str();
    let env_name = env.name.as_str();
    let upstream = ancestors(p, job);
    let mut present = Vec::new();
    for required in &policy.requires {
        if upstream.contains(required.as_str()) {
            present.push(required.as_str());
            continue;
        }
        let help = if p.job(required).is_some() {
            format!("add `{required}` to the `needs` of `{deploy}` (directly or through a job it needs)")
        } else {
            format!("`{required}` is not a job of this workflow: add it, or change `requires` in pipe.toml")
        };
        out.push(
            Diagnostic::error(
                "gate-requires-missing",
                env.name.span,
                format!(
                    "`{deploy}` deploys to `{env_name}`, which requires `{required}` to pass first, \
                     but `{required}` is not in its `needs`"
                ),
            )
            .with_help(help),
        );
    }
    if present.is_empty() {
        return;
    }
    if let Some(d) = bypassing_if(job, source, |f| {
        format!(
            "`{deploy}` can deploy to `{env_name}` even when a required gate job fails: its `if:` uses `{f}`"
        )
    }) {
        out.push(d);
    }
    for required in present {
        for between in p.jobs.iter().filter(|x| x.id.value != required && upstream.contains(x.id.as_str())) {
            if !ancestors(p, between).contains(required) {
                continue;
            }
            let id = between.id.as_str();
            if let Some(d) = bypassing_if(between, source, |f| {
                format!(
                    "`{id}` runs even when the required gate job `{required}` fails (its `if:` uses `{f}`), \
                     so `{deploy}` can reach `{env_name}` without it"
                )
            }) {
                out.push(d);
            }
        }
        if let Some(gate) = p.job(required) {
            continue_on_error(gate, env_name, out);
        }
    }
}

/// Every job `job` needs, directly or through others (cycles are reported elsewhere).
fn ancestors<'p>(p: &'p Pipeline, job: &'p Job) -> BTreeSet<&'p str> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = job.needs_ids().collect();
    while let Some(id) = stack.pop() {
        if seen.insert(id)
            && let Some(j) = p.job(id)
        {
            stack.extend(j.needs_ids());
        }
    }
    seen
}

/// A warning at the status function in the job's `if:` that lets it run after a failure.
fn bypassing_if(job: &Job, source: &Source, message: impl Fn(&str) -> String) -> Option<Diagnostic> {
    let condition = job.condition.as_ref()?;
    let (function, at) = bypass_function(&condition.value)?;
    let start = condition.value[..at].chars().count();
    let span = condition.span_of(source, start, start + function.len());
    Some(
        Diagnostic::warning("gate-bypassable", span, message(function))
            .with_help("let the deploy run only when its gate jobs succeeded: drop this status function"),
    )
}

/// The status function of an `if:` that makes a job run after a failure, and its byte offset.
/// A text search, not an evaluation: `always()`, `!cancelled()`, and `failure()` unless negated.
fn bypass_function(condition: &str) -> Option<(&'static str, usize)> {
    let lower = condition.to_ascii_lowercase();
    if let Some(i) = lower.find("always()") {
        return Some(("always()", i));
    }
    if let Some(i) = lower.find("!cancelled()") {
        return Some(("!cancelled()", i));
    }
    // `!failure()` means "nothing failed": that one does not bypass.
    lower
        .match_indices("failure()")
        .find(|(i, _)| !lower[..*i].trim_end().ends_with('!'))
        .map(|(i, _)| ("failure()", i))
}

/// A gate job that cannot fail (or has a step that cannot) is no gate.
fn continue_on_error(gate: &Job, env_name: &str, out: &mut Vec<Diagnostic>) {
    let id = gate.id.as_str();
    if let Some(Flag::Value(true, span)) = &gate.continue_on_error {
        out.push(
            Diagnostic::warning(
                "gate-bypassable",
                *span,
                format!(
                    "the required gate job `{id}` cannot stop deploys to `{env_name}`: \
                     `continue-on-error: true` lets the run go on when it fails"
                ),
            )
            .with_help("remove `continue-on-error` from a job that pipe.toml requires"),
        );
    }
    for step in &gate.steps {
        if let Some(Flag::Value(true, span)) = &step.continue_on_error {
            out.push(
                Diagnostic::warning(
                    "gate-bypassable",
                    *span,
                    format!(
                        "step `{}` of the required gate job `{id}` has `continue-on-error: true`: \
                         its failure does not stop deploys to `{env_name}`",
                        step.display_name()
                    ),
                )
                .with_help("remove `continue-on-error` from the steps of a job that pipe.toml requires"),
            );
        }
    }
}

/// `secrets.NAME` (or `secrets['NAME']`) used by a job that is not in an environment whose
/// `secrets_file` defines NAME: there, the secret is empty.
fn scoped_secrets(p: &Pipeline, source: &Source, config: &Config, out: &mut Vec<Diagnostic>) {
    // NAME (upper case: GitHub's secret names ignore case) → the environments that define it.
    let mut scoped: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (env_name, policy) in &config.environments {
        let Some(path) = &policy.secrets_file else {
            continue;
        };
        // A missing or unreadable file is `pipe run`'s problem to report; here it scopes nothing.
        let Some(pairs) =
            std::fs::read_to_string(path).ok().and_then(|t| crate::gate::secrets::parse(&t).ok())
        else {
            continue;
        };
        for (name, _) in pairs {
            scoped.entry(name.to_ascii_uppercase()).or_default().push(env_name);
        }
    }
    if scoped.is_empty() {
        return;
    }
    let in_scope = |job: &Job, envs: &[&str]| {
        // A job whose environment is an expression may be in scope: it gets the benefit of doubt.
        job.environment.as_ref().is_some_and(|e| {
            e.name.value.contains("${{") || envs.iter().any(|n| n.eq_ignore_ascii_case(e.name.as_str()))
        })
    };
    for job in &p.jobs {
        for text in job_texts(job) {
            for (name, start, end) in secret_refs(&text.value) {
                let Some(envs) = scoped.get(&name.to_ascii_uppercase()) else {
                    continue;
                };
                if in_scope(job, envs) {
                    continue;
                }
                let list = envs.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ");
                out.push(
                    Diagnostic::warning(
                        "secret-out-of-scope",
                        text.span_of(source, start, end),
                        format!(
                            "`{}` uses `secrets.{name}`, which only jobs of environment {list} see \
                             (secrets_file in pipe.toml): here it is empty",
                            job.id.value
                        ),
                    )
                    .with_help(format!(
                        "use it in a job with `environment: {}`, or pass it to every job with --secret",
                        envs.first().copied().unwrap_or_default()
                    )),
                );
            }
        }
    }
}

/// Every secret name the workflow refers to (`secrets.NAME`, `secrets['NAME']`), upper-cased as
/// GitHub compares them.
pub fn referenced_secrets(p: &Pipeline) -> BTreeSet<String> {
    let texts = env_texts(&p.env).into_iter().chain(p.jobs.iter().flat_map(job_texts));
    texts.flat_map(|t| secret_refs(&t.value)).map(|(name, _, _)| name.to_ascii_uppercase()).collect()
}

static SECRET_REF: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)\bsecrets\s*(?:\.\s*([a-z_][a-z0-9_]*)|\[\s*['"]([a-z_][a-z0-9_]*)['"]\s*\])"#).ok()
});

/// The secret names a string refers to, with the character range of each reference.
fn secret_refs(value: &str) -> Vec<(String, usize, usize)> {
    let Some(re) = SECRET_REF.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(value)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let name = c.get(1).or_else(|| c.get(2))?;
            let start = value[..whole.start()].chars().count();
            let end = start + whole.as_str().chars().count();
            Some((name.as_str().to_string(), start, end))
        })
        .collect()
}

/// Every string of a job where a secret may be referenced.
fn job_texts(job: &Job) -> Vec<&Text> {
    let mut v: Vec<&Text> = Vec::new();
    v.extend(job.name.iter().chain(job.condition.iter()).chain(job.runs_on.iter()));
    if let Some(e) = &job.environment {
        v.extend(e.url.iter());
    }
    v.extend(job.outputs.iter().map(|(_, t)| t));
    v.extend(env_texts(&job.env));
    v.extend(job.defaults.shell.iter().chain(job.defaults.working_directory.iter()));
    let containers = job.container.as_deref().into_iter().chain(job.services.iter().map(|(_, c)| c));
    for c in containers {
        v.push(&c.image);
        v.extend(c.env.iter().map(|(_, t)| t));
        v.extend(c.options.iter());
        if let Some((user, password)) = &c.credentials {
            v.extend([user, password]);
        }
    }
    v.extend(job.concurrency.iter().map(|c| &c.group));
    v.extend(
        flag_text(job.continue_on_error.as_ref())
            .into_iter()
            .chain(number_text(job.timeout_minutes.as_ref())),
    );
    for step in &job.steps {
        v.extend(
            step.name.iter().chain(step.condition.iter()).chain(step.run.iter()).chain(step.uses.iter()),
        );
        v.extend(step.with.iter().map(|(_, t)| t));
        v.extend(env_texts(&step.env));
        v.extend(step.shell.iter().chain(step.working_directory.iter()));
        v.extend(
            flag_text(step.continue_on_error.as_ref())
                .into_iter()
                .chain(number_text(step.timeout_minutes.as_ref())),
        );
    }
    v
}

fn env_texts(env: &Env) -> Vec<&Text> {
    match env {
        Env::None => Vec::new(),
        Env::Pairs(pairs) => pairs.iter().map(|(_, t)| t).collect(),
        Env::Expr(t) => vec![t],
    }
}

fn flag_text(flag: Option<&Flag>) -> Option<&Text> {
    match flag {
        Some(Flag::Expr(t)) => Some(t),
        _ => None,
    }
}

fn number_text(number: Option<&Number>) -> Option<&Text> {
    match number {
        Some(Number::Expr(t)) => Some(t),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_functions_that_bypass() {
        assert_eq!(bypass_function("${{ always() }}"), Some(("always()", 4)));
        assert_eq!(bypass_function("!cancelled() && x"), Some(("!cancelled()", 0)));
        assert_eq!(bypass_function("success() || failure()"), Some(("failure()", 13)));
        assert_eq!(bypass_function("ALWAYS()"), Some(("always()", 0)));
        assert_eq!(bypass_function("!failure()"), None);
        assert_eq!(bypass_function("! failure()"), None);
        assert_eq!(bypass_function("success() && github.ref == 'refs/heads/main'"), None);
    }

    #[test]
    fn secret_references() {
        let refs = secret_refs("a ${{ secrets.PROD_TOKEN }} b ${{ SECRETS['Other'] }} ${{ github.token }}");
        assert_eq!(refs, [("PROD_TOKEN".to_string(), 6, 24), ("Other".to_string(), 34, 50)]);
        assert!(secret_refs("mysecrets.x").is_empty());
    }
}
