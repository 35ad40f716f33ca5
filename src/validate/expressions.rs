//! Checks of `${{ }}` expressions: syntax at the exact column, contexts and functions allowed at
//! each key (GitHub's availability table), references that cannot resolve (`needs`, `steps`,
//! `matrix`, `inputs`), `if:` values that are always true, and script injection in `run:`.

use super::types::{Ty, Typer, common, contexts, of_json};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::{self, Condition, Location, Reference, Segment};
use crate::model::{Env, Job, Matrix, Pipeline, Text};
use crate::source::Source;

/// Contexts GitHub knows.
const CONTEXTS: &[&str] = &[
    "github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy", "matrix", "needs",
    "inputs",
];

/// Event fields an attacker controls (titles, bodies, branch names, commit messages...).
/// Interpolating them into a script lets them inject shell commands.
const UNTRUSTED: &[&str] = &[
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.comment.body",
    "github.event.review.body",
    "github.event.review_comment.body",
    "github.event.discussion.title",
    "github.event.discussion.body",
    "github.event.pages.*.page_name",
    "github.event.commits.*.message",
    "github.event.commits.*.author.email",
    "github.event.commits.*.author.name",
    "github.event.head_commit.message",
    "github.event.head_commit.author.email",
    "github.event.head_commit.author.name",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.default_branch",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.head_commit.message",
    "github.event.workflow_run.head_commit.author.email",
    "github.event.workflow_run.head_commit.author.name",
    "github.head_ref",
];

/// Where an expression sits: its key, and the job and step it belongs to.
struct Site<'a> {
    text: &'a Text,
    location: Location,
    job: Option<&'a Job>,
    /// Index of the step within the job (for `steps.<id>` checks).
    step: Option<usize>,
    condition: bool,
}

/// What every site's checks look up: jobs by id (a map, so big pipelines stay linear) and the
/// declared inputs.
struct Index<'a> {
    jobs: std::collections::HashMap<&'a str, &'a Job>,
    /// Declared inputs with their types (`inputs.<name>`).
    input_types: Vec<(String, Ty)>,
    inputs: Option<Vec<String>>,
    /// Outputs of the workflows that callers call (`needs.<caller>.outputs`).
    call_outputs: &'a super::reusable::CallOutputs,
    /// The workflow's events when every one has a known payload (`github.event.<key>` is
    /// judged against them), else `None`.
    events: Option<Vec<&'a str>>,
    /// Inputs declared by `workflow_dispatch` (`github.event.inputs.<name>`).
    dispatch_inputs: Vec<&'a str>,
}

pub fn check(
    p: &Pipeline,
    source: &Source,
    call_outputs: &super::reusable::CallOutputs,
    out: &mut Vec<Diagnostic>,
) {
    let index = Index {
        jobs: p.jobs.iter().map(|j| (j.id.as_str(), j)).collect(),
        input_types: input_types(p),
        inputs: declared_inputs(p),
        call_outputs,
        events: known_events(p),
        dispatch_inputs: p
            .on
            .iter()
            .filter(|t| t.event.value == "workflow_dispatch")
            .flat_map(|t| t.inputs.iter().map(|i| i.name.as_str()))
            .collect(),
    };
    for site in sites(p) {
        check_site(&index, &site, source, out);
    }
}

fn sites(p: &Pipeline) -> Vec<Site<'_>> {
    let mut v = Vec::new();
    let mut add = |text, location, job, step, condition| push(&mut v, text, location, job, step, condition);
    if let Some(t) = &p.run_name {
        add(t, Location::RunName, None, None, false);
    }
    for t in env_texts(&p.env) {
        add(t, Location::Env, None, None, false);
    }
    if let Some(c) = &p.concurrency {
        add(&c.group, Location::Concurrency, None, None, false);
    }
    for job in &p.jobs {
        let j = Some(job);
        if let Some(t) = &job.name {
            add(t, Location::JobName, j, None, false);
        }
        if let Some(t) = &job.condition {
            add(t, Location::JobIf, j, None, true);
        }
        for t in &job.runs_on {
            add(t, Location::JobRunsOn, j, None, false);
        }
        for (_, t) in &job.outputs {
            add(t, Location::JobOutputs, j, None, false);
        }
        for t in env_texts(&job.env) {
            add(t, Location::JobEnv, j, None, false);
        }
        if let Some(e) = &job.environment {
            add(&e.name, Location::JobEnvironment, j, None, false);
            if let Some(u) = &e.url {
                add(u, Location::JobEnvironmentUrl, j, None, false);
            }
        }
        if let Some(c) = &job.concurrency {
            add(&c.group, Location::JobConcurrency, j, None, false);
        }
        if let Some(c) = &job.container {
            add(&c.image, Location::JobContainerImage, j, None, false);
            for (_, t) in &c.env {
                add(t, Location::JobContainerEnv, j, None, false);
            }
        }
        for (_, svc) in &job.services {
            add(&svc.image, Location::JobServices, j, None, false);
            for (_, t) in &svc.env {
                add(t, Location::JobServiceEnv, j, None, false);
            }
        }
        if let Some(Matrix::Expr(t)) = job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) {
            add(t, Location::JobStrategy, j, None, false);
        }
        if let Some(crate::model::Number::Expr(t)) = &job.timeout_minutes {
            add(t, Location::JobTimeoutMinutes, j, None, false);
        }
        if let Some(crate::model::Flag::Expr(t)) = &job.continue_on_error {
            add(t, Location::JobContinueOnError, j, None, false);
        }
        for (k, step) in job.steps.iter().enumerate() {
            let s = Some(k);
            if let Some(t) = &step.name {
                add(t, Location::StepName, j, s, false);
            }
            if let Some(t) = &step.condition {
                add(t, Location::StepIf, j, s, true);
            }
            if let Some(t) = &step.run {
                add(t, Location::StepRun, j, s, false);
            }
            for (_, t) in &step.with {
                add(t, Location::StepWith, j, s, false);
            }
            for t in env_texts(&step.env) {
                add(t, Location::StepEnv, j, s, false);
            }
            if let Some(t) = &step.working_directory {
                add(t, Location::StepWorkingDirectory, j, s, false);
            }
            if let Some(crate::model::Number::Expr(t)) = &step.timeout_minutes {
                add(t, Location::StepTimeoutMinutes, j, s, false);
            }
            if let Some(crate::model::Flag::Expr(t)) = &step.continue_on_error {
                add(t, Location::StepContinueOnError, j, s, false);
            }
        }
    }
    v
}

fn push<'a>(
    v: &mut Vec<Site<'a>>,
    text: &'a Text,
    location: Location,
    job: Option<&'a Job>,
    step: Option<usize>,
    condition: bool,
) {
    if text.value.contains("${{") || condition {
        v.push(Site { text, location, job, step, condition });
    }
}

fn env_texts(e: &Env) -> Vec<&Text> {
    match e {
        Env::None => Vec::new(),
        Env::Pairs(p) => p.iter().map(|(_, v)| v).collect(),
        Env::Expr(t) => vec![t],
    }
}

fn declared_inputs(p: &Pipeline) -> Option<Vec<String>> {
    let triggers: Vec<_> =
        p.on.iter()
            .filter(|t| t.event.value == "workflow_dispatch" || t.event.value == "workflow_call")
            .collect();
    if triggers.is_empty() {
        return None;
    }
    Some(triggers.iter().flat_map(|t| t.inputs.iter().map(|i| i.name.value.clone())).collect())
}

fn known_events(p: &Pipeline) -> Option<Vec<&str>> {
    let events: Vec<&str> = p.on.iter().map(|t| t.event.as_str()).collect();
    let known = !events.is_empty() && events.iter().all(|e| super::payloads::EVENTS.contains(e));
    known.then_some(events)
}

fn check_site(index: &Index<'_>, site: &Site<'_>, source: &Source, out: &mut Vec<Diagnostic>) {
    let text = site.text;
    let span = |s: expr::Span| text.span_of(source, s.start, s.end);
    let mut in_string = false;
    // The parsed text lives here; the checks borrow its expressions.
    let parsed: Vec<expr::Expr>;
    let template: expr::Template;
    let exprs: Vec<&expr::Expr> = if site.condition {
        match expr::parse_condition(&text.value) {
            Ok(Condition::Expression(e)) => {
                super::constant::check_if(&e, text.span, out);
                parsed = vec![e];
                parsed.iter().collect()
            }
            Ok(Condition::Empty) => Vec::new(),
            Ok(Condition::AlwaysTrueTemplate(t)) => {
                out.push(
                    Diagnostic::warning(
                        "if-always-true",
                        text.span,
                        "this `if:` is always true: text around `${{ }}` makes it a non-empty string",
                    )
                    .with_help("put the whole condition inside one `${{ }}`, or write it without `${{ }}`"),
                );
                template = t;
                template.expressions().collect()
            }
            Err(e) => {
                out.push(Diagnostic::error("expression-syntax", span(e.span), e.message.clone()));
                return;
            }
        }
    } else {
        match expr::parse_template(&text.value) {
            Ok(t) => {
                in_string = t.parts.len() > 1;
                template = t;
                template.expressions().collect()
            }
            Err(e) => {
                let rule = if e.message.contains("never closed") || e.message.contains("unterminated") {
                    "expression-unterminated"
                } else {
                    "expression-syntax"
                };
                out.push(Diagnostic::error(rule, span(e.span), e.message.clone()));
                return;
            }
        }
    };
    let allowed = expr::allowed(site.location);
    for e in &exprs {
        for (name, fspan, _) in expr::calls(e) {
            if !allowed.allows_function(&name) {
                out.push(
                    Diagnostic::error(
                        "expression-unavailable",
                        span(fspan),
                        format!("`{name}()` is not available in `{}`", site.location.key()),
                    )
                    .with_help(format!("available special functions here: {}", list(allowed.functions))),
                );
            }
        }
        // Script injection needs the value itself in the script: a reference only tested
        // (`github.head_ref == 'main'`) becomes a boolean.
        let values = if site.location == Location::StepRun { expr::value_references(e) } else { Vec::new() };
        for r in expr::references(e) {
            let flows = values.iter().find(|(s, _)| *s == r.span).map(|(_, whole)| *whole);
            check_reference(index, site, &r, &allowed, span(r.span), flows, out);
        }
        let context = |name: &str| context_type(index, site, name);
        let mut typer = Typer { context: &context, span: &span, text: &text.value, out };
        let t = typer.ty(e);
        if in_string && t.is_composite() {
            let what: String =
                text.value.chars().skip(e.span.start).take(e.span.end - e.span.start).collect();
            out.push(
                Diagnostic::warning(
                    "expression-type",
                    span(e.span),
                    format!(
                        "`{what}` is {}: in a string it becomes the text `{}`",
                        t.name(),
                        if t.is_object() { "Object" } else { "Array" }
                    ),
                )
                .with_help(format!("to print its contents, use `toJSON({what})`")),
            );
        }
    }
}

/// The type of a context at a site: the documented ones from the tables, the file's own (steps,
/// needs, matrix, inputs) from its declarations. Names other checks judge (an unknown step id, an
/// undeclared input) are left open here, so each mistake is reported once.
fn context_type(index: &Index<'_>, site: &Site<'_>, name: &str) -> Ty {
    let strings = || Ty::Map(Box::new(Ty::String));
    let open = |props: Vec<(String, Ty)>| Ty::Object { props, strict: false };
    match name {
        "github" => Ty::Static(contexts::GITHUB),
        "runner" => Ty::Static(contexts::RUNNER),
        "job" => Ty::Static(contexts::JOB),
        "strategy" => Ty::Static(contexts::STRATEGY),
        "env" | "vars" | "secrets" => strings(),
        "inputs" => open(index.input_types.clone()),
        "steps" => {
            let Some(job) = site.job else { return Ty::Any };
            let step = || Ty::Object {
                props: vec![
                    ("outputs".into(), strings()),
                    ("outcome".into(), Ty::String),
                    ("conclusion".into(), Ty::String),
                ],
                strict: true,
            };
            open(
                job.steps.iter().filter_map(|s| s.id.as_ref()).map(|id| (id.value.clone(), step())).collect(),
            )
        }
        "needs" => {
            let Some(job) = site.job else { return Ty::Any };
            let need = || Ty::Object {
                props: vec![("outputs".into(), strings()), ("result".into(), Ty::String)],
                strict: true,
            };
            open(job.needs.iter().map(|n| (n.value.clone(), need())).collect())
        }
        "matrix" => site.job.map_or(Ty::Any, matrix_type),
        _ => Ty::Any,
    }
}

/// `matrix.<key>`: the one type all of the key's values have (strings, numbers...), else open.
fn matrix_type(job: &Job) -> Ty {
    let Some(Matrix::Axes(m)) = job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) else { return Ty::Any };
    if m.include_expr.is_some() {
        return Ty::Any;
    }
    let mut props: Vec<(String, Vec<Ty>)> = Vec::new();
    let mut add = |key: &str, t: Ty| match props.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
        Some((_, ts)) => ts.push(t),
        None => props.push((key.to_string(), vec![t])),
    };
    for (name, values) in &m.axes {
        match values {
            crate::model::AxisValues::List(items) => items.iter().for_each(|v| add(&name.value, of_json(v))),
            crate::model::AxisValues::Expr(_) => add(&name.value, Ty::Any),
        }
    }
    for row in &m.include {
        for (k, v) in &row.entries {
            add(&k.value, of_json(v));
        }
    }
    Ty::Object {
        props: props.into_iter().map(|(k, ts)| (k, common(ts.into_iter()))).collect(),
        strict: false,
    }
}

/// `inputs.<name>` of workflow_dispatch and workflow_call, typed by their `type:` (a name declared
/// twice with different types is open).
fn input_types(p: &Pipeline) -> Vec<(String, Ty)> {
    let mut out: Vec<(String, Ty)> = Vec::new();
    for t in p.on.iter().filter(|t| t.event.value == "workflow_dispatch" || t.event.value == "workflow_call")
    {
        for input in &t.inputs {
            let ty = match input.kind.as_str() {
                "boolean" => Ty::Bool,
                "number" => Ty::Number,
                "string" | "choice" | "environment" => Ty::String,
                _ => Ty::Any,
            };
            match out.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(&input.name.value)) {
                Some((_, existing)) if *existing != ty => *existing = Ty::Any,
                Some(_) => {}
                None => out.push((input.name.value.clone(), ty)),
            }
        }
    }
    out
}

fn list(items: &[&str]) -> String {
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

fn check_reference(
    index: &Index<'_>,
    site: &Site<'_>,
    r: &Reference,
    allowed: &expr::Availability,
    at: crate::source::Span,
    flows: Option<bool>,
    out: &mut Vec<Diagnostic>,
) {
    let inputs = &index.inputs;
    let ctx = r.context.as_str();
    if !CONTEXTS.contains(&ctx) {
        let mut d = Diagnostic::error("expression-unknown-context", at, format!("unknown context `{ctx}`"));
        if let Some(m) = did_you_mean(ctx, CONTEXTS.iter().copied()) {
            d = d.with_help(format!("did you mean `{m}`?"));
        } else {
            d = d.with_help(format!("the contexts are: {}", CONTEXTS.join(", ")));
        }
        out.push(d);
        return;
    }
    if !allowed.allows_context(ctx) {
        out.push(
            Diagnostic::error(
                "expression-unavailable",
                at,
                format!("the `{ctx}` context is not available in `{}`", site.location.key()),
            )
            .with_help(format!("available here: {}", list(allowed.contexts))),
        );
        return;
    }
    let names = r.names();
    match ctx {
        "needs" => check_needs(index, site, &names, at, out),
        "steps" => check_steps(site, &names, at, out),
        "matrix" => check_matrix(site, &names, at, out),
        "inputs" => {
            if let (Some(name), Some(declared)) = (names.first(), inputs) {
                if !declared.iter().any(|d| d.eq_ignore_ascii_case(name)) {
                    let mut d =
                        Diagnostic::error("unknown-input", at, format!("input `{name}` is not declared"));
                    if let Some(m) = did_you_mean(name, declared.iter().map(String::as_str)) {
                        d = d.with_help(format!("did you mean `{m}`?"));
                    }
                    out.push(d);
                }
            } else if let (Some(name), None) = (names.first(), inputs) {
                out.push(
                    Diagnostic::error("unknown-input", at, format!("input `{name}` is not declared"))
                        .with_help(
                            "inputs come from `on.workflow_dispatch.inputs` or `on.workflow_call.inputs`",
                        ),
                );
            }
        }
        "github" => {
            if let Some(serialized) = flows {
                injection(r, serialized, at, out)
            }
            if names.first().map(String::as_str) == Some("event") {
                check_event(index, &names[1..], at, out);
            }
        }
        _ => {}
    }
}

/// `github.event.<key>` under events none of whose payloads has the key, and
/// `github.event.inputs.<name>` that `workflow_dispatch` does not declare: both are null at run
/// time (GitHub accepts the file, so warnings).
fn check_event(index: &Index<'_>, names: &[String], at: crate::source::Span, out: &mut Vec<Diagnostic>) {
    let (Some(events), Some(key)) = (&index.events, names.first()) else { return };
    let Some(carriers) = super::payloads::carriers(key) else { return };
    let list = |v: &[&str]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
        }
    };
    if !events.iter().any(|e| carriers.contains(e)) {
        out.push(
            Diagnostic::warning(
                "expression-property",
                at,
                format!(
                    "`github.event.{key}` is always null here: the payload of {} has no `{key}`",
                    list(events)
                ),
            )
            .with_help(format!("`{key}` is in the payload of {}", list(carriers))),
        );
        return;
    }
    if key == "inputs"
        && let Some(name) = names.get(1)
        && !index.dispatch_inputs.iter().any(|i| i.eq_ignore_ascii_case(name))
    {
        let mut d = Diagnostic::warning(
            "unknown-input",
            at,
            format!(
                "`github.event.inputs.{name}`: `workflow_dispatch` declares no input `{name}`, so it is always null"
            ),
        );
        d = match did_you_mean(name, index.dispatch_inputs.iter().copied()) {
            Some(m) => d.with_help(format!("did you mean `{m}`?")),
            None => d.with_help(format!("declared inputs: {}", list(&index.dispatch_inputs))),
        };
        out.push(d);
    }
}

fn check_needs(
    index: &Index<'_>,
    site: &Site<'_>,
    names: &[String],
    at: crate::source::Span,
    out: &mut Vec<Diagnostic>,
) {
    let (Some(job), Some(target)) = (site.job, names.first()) else { return };
    let Some(need) = job.needs.iter().find(|n| n.value.eq_ignore_ascii_case(target)) else {
        let needs: Vec<&str> = job.needs.iter().map(|n| n.as_str()).collect();
        let mut d = Diagnostic::error(
            "needs-context",
            at,
            format!("`needs.{target}`: job `{}` does not need `{target}`", job.id.value),
        );
        d = match did_you_mean(target, needs.iter().copied()) {
            Some(m) => d.with_help(format!("did you mean `{m}`?")),
            None => d.with_help(format!("add `{target}` to `needs:` (it needs: {})", list(&needs))),
        };
        out.push(d);
        return;
    };
    let Some(dep) = index.jobs.get(need.value.as_str()) else { return };
    // A caller's outputs are those of the workflow it calls (unknown when it cannot be read).
    let declared: Vec<&str> = match (&dep.uses, index.call_outputs.get(&dep.id.value)) {
        (Some(_), Some(outputs)) => outputs.iter().map(String::as_str).collect(),
        (Some(_), None) => return,
        (None, _) => dep.outputs.iter().map(|(k, _)| k.as_str()).collect(),
    };
    if names.get(1).map(String::as_str) == Some("outputs")
        && let Some(output) = names.get(2)
        && !declared.iter().any(|k| k.eq_ignore_ascii_case(output))
    {
        let whose = if dep.uses.is_some() { "the workflow called by job" } else { "job" };
        let mut d = Diagnostic::error(
            "needs-output",
            at,
            format!("{whose} `{}` declares no output `{output}`", dep.id.value),
        );
        d = match did_you_mean(output, declared.iter().copied()) {
            Some(m) => d.with_help(format!("did you mean `{m}`?")),
            None => d.with_help(format!("its outputs: {}", list(&declared))),
        };
        out.push(d);
    }
}

fn check_steps(site: &Site<'_>, names: &[String], at: crate::source::Span, out: &mut Vec<Diagnostic>) {
    let (Some(job), Some(target)) = (site.job, names.first()) else { return };
    let before = site.step.unwrap_or(job.steps.len());
    let ids = |range: std::ops::Range<usize>| -> Vec<&str> {
        job.steps[range].iter().filter_map(|s| s.id.as_ref().map(|i| i.as_str())).collect()
    };
    let earlier = ids(0..before.min(job.steps.len()));
    if earlier.iter().any(|i| i.eq_ignore_ascii_case(target)) {
        return;
    }
    let later = ids(before.min(job.steps.len())..job.steps.len());
    let d = if later.iter().any(|i| i.eq_ignore_ascii_case(target)) {
        Diagnostic::error(
            "steps-context",
            at,
            format!("step `{target}` runs after this one: its outputs are not known yet"),
        )
    } else {
        let d = Diagnostic::error("steps-context", at, format!("no earlier step has the id `{target}`"));
        match did_you_mean(target, earlier.iter().copied()) {
            Some(m) => d.with_help(format!("did you mean `{m}`?")),
            None => d.with_help(format!("earlier step ids: {}", list(&earlier))),
        }
    };
    out.push(d);
}

/// A warning, not an error: GitHub accepts an unknown `matrix.K` (it evaluates to null), so the
/// file is valid; the key is still most likely a typo.
fn check_matrix(site: &Site<'_>, names: &[String], at: crate::source::Span, out: &mut Vec<Diagnostic>) {
    let (Some(job), Some(key)) = (site.job, names.first()) else { return };
    let matrix = job.strategy.as_ref().and_then(|s| s.matrix.as_ref());
    let mut keys: Vec<&str> = match matrix {
        None => {
            out.push(Diagnostic::warning(
                "matrix-context",
                at,
                format!("`matrix.{key}`: job `{}` has no matrix", job.id.value),
            ));
            return;
        }
        // Computed at run time: any key may exist.
        Some(Matrix::Expr(_)) => return,
        Some(Matrix::Axes(m)) if m.include_expr.is_some() => return,
        Some(Matrix::Axes(m)) => m
            .axes
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(m.include.iter().flat_map(|row| row.entries.iter().map(|(k, _)| k.as_str())))
            .collect(),
    };
    // An `include` row names axes again: each key once, where it first stands.
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(*k));
    if !keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
        let mut d =
            Diagnostic::warning("matrix-context", at, format!("`{key}` is not a key of this job's matrix"));
        d = match did_you_mean(key, keys.iter().copied()) {
            Some(m) => d.with_help(format!("did you mean `{m}`?")),
            None => d.with_help(format!("matrix keys: {}", list(&keys))),
        };
        out.push(d);
    }
}

/// A reference whose value reaches a `run:` script: an untrusted field (or something inside
/// one), or, serialized whole by `toJSON()`, an object that contains one.
fn injection(r: &Reference, serialized: bool, at: crate::source::Span, out: &mut Vec<Diagnostic>) {
    let mut path = String::from("github");
    for seg in &r.path {
        match seg {
            Segment::Name(n, _) => path.push_str(&format!(".{}", n.to_lowercase())),
            Segment::Index(expr::Value::String(n)) => path.push_str(&format!(".{}", n.to_lowercase())),
            Segment::Wildcard | Segment::Index(_) | Segment::Dynamic => path.push_str(".*"),
        }
    }
    let within = |outer: &str, inner: &str| inner.starts_with(outer) && inner[outer.len()..].starts_with('.');
    let (u, message) = if let Some(u) = UNTRUSTED.iter().find(|u| path == **u || within(u, &path)) {
        (
            u.to_string(),
            format!(
                "`{u}` is controlled by whoever triggers the event: interpolated into `run:`, it can inject shell commands"
            ),
        )
    } else if let Some(inner) = UNTRUSTED.iter().find(|u| serialized && within(&path, u)) {
        (
            path.clone(),
            format!(
                "`{path}` holds fields controlled by whoever triggers the event (`{inner}`...): its JSON interpolated into `run:` can inject shell commands"
            ),
        )
    } else {
        return;
    };
    let var = u.rsplit('.').next().unwrap_or("VALUE").replace('*', "VALUE").to_uppercase();
    out.push(Diagnostic::warning("script-injection", at, message).with_help(format!(
        "pass it through the environment: `env: {{ {var}: ${{{{ {} }}}} }}` and use \"${var}\" in the script",
        if serialized { format!("toJSON({u})") } else { u.clone() }
    )));
}
