//! A resolved GitLab configuration (includes, merge keys, `!reference` and `extends` applied)
//! → the shared `model::Pipeline`, for one pipeline context: rules decide which jobs exist and
//! how they run, stages become needs (a job without `needs:` waits for every job of the earlier
//! stages), scripts become steps, artifacts and dotenv reports travel through the run's artifact
//! store, variables are expanded the way GitLab expands them.

use std::collections::BTreeMap;

use super::expand::{expand, expand_all};
use super::format::{JOB, RESERVED};
use super::rules::{self, Facts, Outcome};
use super::script;
use super::{Context, duration};
use crate::diagnostic::Diagnostic;
use crate::model::{Container, Env, Environment, Flag, Job, Number, Pipeline, Step, Text, Trigger};
use crate::source::{Source, Span};
use crate::yaml::{Node, Style, Typed};

pub const DEFAULT_STAGES: &[&str] = &["build", "test", "deploy"];
/// The runs-on label of a job without `image:` or `tags:` (map it in pipe.toml `[platforms]`).
pub const DEFAULT_LABEL: &str = "gitlab-default";

pub fn t(value: impl Into<String>, span: Span) -> Text {
    Text { value: value.into(), span, style: Style::Plain }
}

fn text(node: &Node) -> Option<Text> {
    let s = node.as_scalar()?;
    if node.is_null() {
        return None;
    }
    Some(Text { value: s.text.clone(), span: node.span, style: s.style })
}

/// Script lines: strings, and nested lists of them (from `!reference`), flattened.
pub fn lines(node: Option<&Node>) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(n: &Node, out: &mut Vec<String>) {
        match n.as_seq() {
            Some(items) => items.iter().for_each(|i| walk(i, out)),
            None => {
                if let Some(s) = n.as_str() {
                    out.push(s.to_string());
                }
            }
        }
    }
    if let Some(n) = node {
        walk(n, &mut out);
    }
    out
}

fn strings(node: Option<&Node>) -> Vec<String> {
    lines(node)
}

/// One visible job after its defaults and rules, before it becomes a `model::Job`.
struct Planned {
    name: Text,
    node: Node,
    stage: usize,
    when: String,
    allow_failure: bool,
    vars: BTreeMap<String, String>,
    needs: Option<Vec<Need>>,
    start_in: Option<String>,
}

struct Need {
    job: Text,
    optional: bool,
    artifacts: bool,
}

pub fn pipeline(root: &Node, source: &Source, ctx: &Context, out: &mut Vec<Diagnostic>) -> Pipeline {
    let stages = stages(root, out);
    let predefined = ctx.predefined();
    let mut global_raw: BTreeMap<String, (String, bool)> =
        predefined.iter().map(|(k, v)| (k.clone(), (v.clone(), true))).collect();
    variables_into(root.get("variables"), &mut global_raw);
    let cli_vars: Vec<(String, String)> = ctx.vars.clone();
    for (k, v) in &cli_vars {
        global_raw.insert(k.clone(), (v.clone(), false));
    }
    let facts_vars = expand_all(&global_raw);
    let mut p = Pipeline {
        name: root.get("workflow").and_then(|w| w.get("name")).and_then(text),
        on: vec![Trigger { event: t(ctx.event.clone(), root.span), ..Trigger::default() }],
        // Project variables and --secret values reach every job as environment variables.
        env: Env::Expr(t("${{ secrets }}", root.span)),
        ..Pipeline::default()
    };
    // workflow: rules decide whether there is a pipeline at all.
    if let Some(wrules) = root.get("workflow").and_then(|w| w.get("rules")) {
        let facts = Facts {
            vars: &facts_vars,
            changed_files: ctx.changed_files.as_deref(),
            project_dir: &ctx.project_dir,
        };
        match rules::first_match(wrules, &facts, source, out) {
            Some(o) if o.when.as_deref() == Some("never") => {
                p.not_run = Some("workflow:rules: the matching rule says `when: never`".into());
            }
            Some(o) => {
                for (k, v) in o.variables {
                    global_raw.insert(k, (v, true));
                }
            }
            None => p.not_run = Some("workflow:rules: no rule matches this pipeline".into()),
        }
    }
    let defaults = defaults(root);
    let mut planned: Vec<Planned> = Vec::new();
    let is_job = |name: &str| !RESERVED.contains(&name) && !name.starts_with('.');
    // Every job the file defines, also those the rules leave out of this pipeline.
    let defined: Vec<&str> =
        root.as_map().unwrap_or(&[]).iter().filter_map(|(k, _)| k.as_str()).filter(|n| is_job(n)).collect();
    let defines = |s: &str| defined.contains(&s);
    for (key, node) in root.as_map().unwrap_or(&[]) {
        let Some(name) = key.as_str() else { continue };
        if !is_job(name) {
            continue;
        }
        if node.as_map().is_none() {
            out.push(Diagnostic::error(
                "wrong-type",
                node.span,
                format!(
                    "job `{name}` must be a mapping of keys (script, stage, ...), found {}",
                    node.kind_name()
                ),
            ));
            continue;
        }
        crate::format::check(node, &crate::format::Shape::Object(&JOB), key.span, out);
        let job = with_defaults(node, &defaults);
        // GitLab checks the whole file before its rules pick the jobs: a job this pipeline
        // leaves out must still be valid.
        super::values::check(&job, &defines, out);
        match plan_job(text(key).unwrap_or_default(), job.clone(), &stages, &global_raw, ctx, source, out) {
            Some(j) => planned.push(j),
            None => {
                references_of_excluded(name, &job, &defined, out);
                p.excluded.push((name.to_string(), excluded_reason(node)));
            }
        }
    }
    for (name, why) in &mut p.excluded {
        let _ = name;
        if why.is_empty() {
            *why = "rules".into();
        }
    }
    let in_pipeline: Vec<&str> = planned.iter().map(|j| j.name.as_str()).collect();
    let excluded: Vec<String> = p.excluded.iter().map(|(n, _)| n.clone()).collect();
    let mut jobs = Vec::new();
    for (i, j) in planned.iter().enumerate() {
        jobs.push(model_job(i, j, &planned, &stages, &in_pipeline, &excluded, ctx, out));
    }
    p.jobs = jobs;
    p
}

/// `needs` and `dependencies` of a job left out of this pipeline name jobs the file defines (GitLab:
/// "undefined need"). The jobs of the pipeline are checked on the model, where a need may also be
/// one the rules leave out.
fn references_of_excluded(job_name: &str, job: &Node, defined: &[&str], out: &mut Vec<Diagnostic>) {
    let unknown = |n: &Node, what: &str, out: &mut Vec<Diagnostic>| {
        let Some(s) = n.as_str().filter(|s| !defined.contains(s)) else { return };
        let mut d = Diagnostic::error(
            "needs-unknown",
            n.span,
            format!("job `{job_name}` {what} `{s}`, which is not a job of this file"),
        );
        if let Some(m) = crate::diagnostic::did_you_mean(s, defined.iter().copied()) {
            d = d.with_help(format!("did you mean `{m}`?"));
        }
        out.push(d);
    };
    for need in job.get("needs").and_then(Node::as_seq).unwrap_or(&[]) {
        let optional = matches!(need.get("optional").and_then(Node::typed), Some(Typed::Bool(true)));
        let other_pipeline = need.get("pipeline").is_some() || need.get("project").is_some();
        let target = if need.as_map().is_some() { need.get("job") } else { Some(need) };
        if let Some(n) = target.filter(|_| !optional && !other_pipeline) {
            unknown(n, "needs", out);
        }
    }
    for item in job.get("dependencies").and_then(Node::as_seq).unwrap_or(&[]) {
        unknown(item, "has in `dependencies`", out);
    }
}

fn excluded_reason(node: &Node) -> String {
    if node.get("rules").is_some() {
        "no rule adds it to this pipeline".into()
    } else if node.get("only").is_some() || node.get("except").is_some() {
        "only/except leave it out of this pipeline".into()
    } else {
        "`when: never`".into()
    }
}

/// `stages:` with `.pre` first and `.post` last; the default is build, test, deploy.
fn stages(root: &Node, out: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut list: Vec<String> = match root.get("stages") {
        Some(n) => strings(Some(n)),
        None => DEFAULT_STAGES.iter().map(|s| s.to_string()).collect(),
    };
    if let Some(items) = root.get("stages").and_then(Node::as_seq) {
        for (i, item) in items.iter().enumerate() {
            let Some(s) = item.as_str() else { continue };
            if items[..i].iter().any(|o| o.as_str() == Some(s)) {
                out.push(Diagnostic::warning(
                    "stage-duplicate",
                    item.span,
                    format!("stage `{s}` is listed twice"),
                ));
            }
        }
    }
    list.retain(|s| s != ".pre" && s != ".post");
    list.insert(0, ".pre".into());
    list.push(".post".into());
    list
}

/// What `default:` (and the older top-level keys) give every job that does not set them.
fn defaults(root: &Node) -> Vec<(Node, Node)> {
    let mut d: Vec<(Node, Node)> = Vec::new();
    for key in ["image", "services", "cache", "before_script", "after_script"] {
        if let Some((k, v)) = root.as_map().unwrap_or(&[]).iter().find(|(k, _)| k.as_str() == Some(key)) {
            d.push((k.clone(), v.clone()));
        }
    }
    if let Some(entries) = root.get("default").and_then(Node::as_map) {
        for (k, v) in entries {
            d.retain(|(dk, _)| dk.as_str() != k.as_str());
            d.push((k.clone(), v.clone()));
        }
    }
    d
}

fn with_defaults(job: &Node, defaults: &[(Node, Node)]) -> Node {
    let inherit = job.get("inherit").and_then(|i| i.get("default"));
    let takes = |key: &str| match inherit {
        None => true,
        Some(n) => match n.typed() {
            Some(Typed::Bool(b)) => b,
            _ => strings(Some(n)).iter().any(|s| s == key),
        },
    };
    let mut node = job.clone();
    if let crate::yaml::Value::Map(entries) = &mut node.value {
        for (k, v) in defaults {
            let Some(name) = k.as_str() else { continue };
            if takes(name) && !entries.iter().any(|(ek, _)| ek.as_str() == Some(name)) {
                entries.push((k.clone(), v.clone()));
            }
        }
    }
    node
}

fn variables_into(node: Option<&Node>, into: &mut BTreeMap<String, (String, bool)>) {
    for (k, v) in node.and_then(Node::as_map).unwrap_or(&[]) {
        let Some(name) = k.as_str() else { continue };
        let (value, expand_it) = match v.as_map() {
            Some(_) => (
                v.get("value").and_then(Node::as_str).unwrap_or_default().to_string(),
                !matches!(v.get("expand").and_then(Node::typed), Some(Typed::Bool(false))),
            ),
            None => (v.as_str().unwrap_or_default().to_string(), true),
        };
        into.insert(name.to_string(), (value, expand_it));
    }
}

fn plan_job(
    name: Text,
    node: Node,
    stages: &[String],
    global_raw: &BTreeMap<String, (String, bool)>,
    ctx: &Context,
    source: &Source,
    out: &mut Vec<Diagnostic>,
) -> Option<Planned> {
    let stage_node = node.get("stage");
    let stage_name = stage_node.and_then(Node::as_str).unwrap_or("test");
    let stage = match stages.iter().position(|s| s == stage_name) {
        Some(i) => i,
        None => {
            let mut d = Diagnostic::error(
                "stage-unknown",
                stage_node.map_or(name.span, |n| n.span),
                format!("job `{}` is in stage `{stage_name}`, which `stages:` does not list", name.value),
            );
            if let Some(m) = crate::diagnostic::did_you_mean(stage_name, stages.iter().map(String::as_str)) {
                d = d.with_help(format!("did you mean `{m}`?"));
            }
            out.push(d);
            1.min(stages.len() - 1)
        }
    };
    if node.get("script").is_none() && node.get("trigger").is_none() {
        out.push(Diagnostic::error(
            "missing-key",
            name.span,
            format!("job `{}` has no `script` (after `extends` and `default:`)", name.value),
        ));
    }
    if let Some(tr) = node.key_node("trigger") {
        out.push(Diagnostic::error(
            "unsupported",
            tr.span,
            "`trigger:` (downstream pipelines) is not supported by pipe",
        ));
    }
    // Job variables: predefined and global first (unless `inherit: variables: false`), then the
    // job's own, then pipeline variables (--var) over everything.
    let inherit_vars = node.get("inherit").and_then(|i| i.get("variables"));
    let mut raw: BTreeMap<String, (String, bool)> =
        ctx.predefined().into_iter().map(|(k, v)| (k, (v, true))).collect();
    for (k, v) in global_raw {
        let takes = match inherit_vars {
            None => true,
            Some(n) => match n.typed() {
                Some(Typed::Bool(b)) => b,
                _ => strings(Some(n)).contains(k),
            },
        };
        if takes || k.starts_with("CI") || k.starts_with("GITLAB") {
            raw.insert(k.clone(), v.clone());
        }
    }
    raw.insert("CI_JOB_NAME".into(), (name.value.clone(), false));
    raw.insert("CI_JOB_NAME_SLUG".into(), (super::predefined::slug(&name.value), false));
    raw.insert("CI_JOB_STAGE".into(), (stages[stage].clone(), false));
    raw.insert("CI_PROJECT_DIR".into(), ("${{ github.workspace }}".into(), false));
    raw.insert("CI_BUILDS_DIR".into(), ("${{ github.workspace }}".into(), false));
    variables_into(node.get("variables"), &mut raw);
    for (k, v) in &ctx.vars {
        raw.insert(k.clone(), (v.clone(), false));
    }
    let vars_now = expand_all(&raw);
    let facts =
        Facts { vars: &vars_now, changed_files: ctx.changed_files.as_deref(), project_dir: &ctx.project_dir };
    let own_when = node.get("when").and_then(Node::as_str).map(String::from);
    let mut outcome = Outcome::default();
    let mut from_rules = false;
    if let Some(r) = node.get("rules") {
        if node.get("only").is_some() || node.get("except").is_some() {
            out.push(Diagnostic::error(
                "rules-and-only",
                node.key_node("rules").map_or(r.span, |k| k.span),
                "`rules` cannot be used with `only` or `except`",
            ));
        }
        outcome = rules::first_match(r, &facts, source, out)?;
        from_rules = true;
    } else if !rules::only_except(node.get("only"), node.get("except"), &facts, source, out) {
        return None;
    }
    let when = outcome.when.clone().or(own_when).unwrap_or_else(|| "on_success".into());
    if when == "never" {
        return None;
    }
    for (k, v) in &outcome.variables {
        raw.insert(k.clone(), (v.clone(), true));
    }
    let vars = expand_all(&raw);
    // GitLab: manual jobs may fail by default, except when made manual by a rule.
    let allow_failure = match (outcome.allow_failure, node.get("allow_failure").map(|n| (n.typed(), n))) {
        (Some(b), _) => b,
        (None, Some((Some(Typed::Bool(b)), _))) => b,
        (None, Some((_, n))) if n.as_map().is_some() => false,
        _ => when == "manual" && !(from_rules && outcome.when.as_deref() == Some("manual")),
    };
    let needs_node = outcome.needs.as_ref().or(node.get("needs"));
    let needs = needs_node.map(needs);
    let start_in =
        outcome.start_in.clone().or_else(|| node.get("start_in").and_then(Node::as_str).map(String::from));
    if when == "delayed" && start_in.is_none() {
        out.push(Diagnostic::error(
            "missing-key",
            node.key_node("when").map_or(name.span, |k| k.span),
            "`when: delayed` needs `start_in` (e.g. `start_in: 30 minutes`)",
        ));
    }
    Some(Planned { name, node, stage, when, allow_failure, vars, needs, start_in })
}

fn needs(node: &Node) -> Vec<Need> {
    node.as_seq()
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| match n.as_map() {
            None => Some(Need { job: text(n)?, optional: false, artifacts: true }),
            Some(_) => {
                let flag = |k: &str, d: bool| match n.get(k).and_then(Node::typed) {
                    Some(Typed::Bool(b)) => b,
                    _ => d,
                };
                if n.get("pipeline").is_some() || n.get("project").is_some() {
                    return None;
                }
                Some(Need {
                    job: text(n.get("job")?)?,
                    optional: flag("optional", false),
                    artifacts: flag("artifacts", true),
                })
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn model_job(
    i: usize,
    j: &Planned,
    all: &[Planned],
    stages: &[String],
    in_pipeline: &[&str],
    excluded: &[String],
    ctx: &Context,
    out: &mut Vec<Diagnostic>,
) -> Job {
    let node = &j.node;
    // Needs: the explicit list (a DAG job), or every job of the earlier stages that can block.
    let (needs, artifact_from): (Vec<Text>, Vec<String>) = match &j.needs {
        Some(list) => {
            let mut needs = Vec::new();
            let mut from = Vec::new();
            for n in list {
                let present = in_pipeline.contains(&n.job.as_str());
                // GitLab drops an optional need on a job that is not in the pipeline, also one
                // no file defines (a job an `include` with rules may or may not bring in).
                if !present && n.optional {
                    continue;
                }
                if !present && excluded.iter().any(|e| e == n.job.as_str()) {
                    out.push(
                        Diagnostic::error(
                            "needs-not-in-pipeline",
                            n.job.span,
                            format!(
                                "`{}` needs `{}`, which is not in this pipeline (its rules leave it out)",
                                j.name.value, n.job.value
                            ),
                        )
                        .with_help("mark the need `optional: true`, or give both jobs the same rules"),
                    );
                    continue;
                }
                if n.artifacts {
                    from.push(n.job.value.clone());
                }
                needs.push(n.job.clone());
            }
            (needs, from)
        }
        None => {
            let earlier: Vec<&Planned> = all
                .iter()
                .filter(|o| o.stage < j.stage && !(o.when == "manual" && o.allow_failure))
                .collect();
            let needs = earlier.iter().map(|o| t(o.name.value.clone(), o.name.span)).collect();
            let from = all.iter().filter(|o| o.stage < j.stage).map(|o| o.name.value.clone()).collect();
            (needs, from)
        }
    };
    let artifact_from = match node.get("dependencies") {
        Some(d) => {
            let listed = strings(Some(d));
            for item in d.as_seq().unwrap_or(&[]) {
                if let Some(s) = item.as_str()
                    && !in_pipeline.contains(&s)
                    && !excluded.iter().any(|e| e == s)
                {
                    out.push(Diagnostic::error(
                        "needs-unknown",
                        item.span,
                        format!("`dependencies` names `{s}`, which is not a job"),
                    ));
                }
            }
            listed
        }
        None => artifact_from,
    };
    let sources: Vec<&Planned> = artifact_from
        .iter()
        .filter_map(|n| all.iter().find(|o| o.name.value == *n))
        .filter(|o| o.node.get("artifacts").is_some())
        .collect();
    let span = j.name.span;
    let x = |s: &str| expand(s, &j.vars);
    let image = image(node.get("image"), &x);
    let services = services(node.get("services"), &x, &j.vars);
    let environment = environment(node.get("environment"), &x);
    let manual_gate = j.when == "manual" && environment.is_some();
    let manual = j.when == "manual" && !manual_gate && !ctx.selected.iter().any(|s| s == j.name.as_str());
    let condition = match j.when.as_str() {
        "on_failure" => Some(t("${{ failure() }}", span)),
        "always" => Some(t("${{ always() }}", span)),
        _ => None,
    };
    let tags: Vec<Text> = node
        .get("tags")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(text)
        .map(|mut tg| {
            tg.value = x(&tg.value);
            tg
        })
        .collect();
    let runs_on = if tags.is_empty() { vec![t(DEFAULT_LABEL, span)] } else { tags };
    let mut steps = Vec::new();
    if j.when == "delayed"
        && let Some(s) = &j.start_in
    {
        let secs = duration::seconds(s).unwrap_or(0);
        steps.push(run_step(format!("Wait {s} (when: delayed)"), format!("sleep {secs}"), span));
    }
    let git_strategy = j.vars.get("GIT_STRATEGY").map(String::as_str);
    if git_strategy != Some("none") {
        steps.push(uses_step("Get sources", "actions/checkout", Vec::new(), span));
    }
    steps.extend(script::cache_steps(node.get("cache"), &x, span));
    if !sources.is_empty() {
        for s in &sources {
            let mut step = uses_step(
                &format!("Get artifacts of {}", s.name.value),
                "actions/download-artifact",
                vec![
                    ("name", script::artifact_name(&s.name.value)),
                    (
                        "path",
                        format!("${{{{ runner.temp }}}}/gitlab-in/{}", script::artifact_name(&s.name.value)),
                    ),
                ],
                span,
            );
            // A job that uploaded nothing leaves nothing to get: not an error.
            step.continue_on_error = Some(Flag::Value(true, span));
            steps.push(step);
        }
        steps.push(run_step("Unpack artifacts".into(), script::UNPACK.into(), span));
    }
    let before = lines(node.get("before_script"));
    let main = lines(node.get("script"));
    let mut main_step = run_step("script".into(), script::shell_script(&before, &main), span);
    main_step.allowed_exit_codes = exit_codes(node.get("allow_failure"));
    steps.push(main_step);
    let after = lines(node.get("after_script"));
    if !after.is_empty() {
        let mut step = run_step("after_script".into(), script::shell_script(&[], &after), span);
        step.condition = Some(t("${{ always() }}", span));
        step.continue_on_error = Some(Flag::Value(true, span));
        step.env = Env::Pairs(vec![(
            t("CI_JOB_STATUS", span),
            t(
                "${{ job.status == 'failure' && 'failed' || job.status == 'cancelled' && 'canceled' || job.status }}",
                span,
            ),
        )]);
        steps.push(step);
    }
    if let Some(a) = node.get("artifacts") {
        let when = a.get("when").and_then(Node::as_str).unwrap_or("on_success");
        let condition = match when {
            "on_failure" => Some(t("${{ failure() }}", span)),
            "always" => Some(t("${{ always() }}", span)),
            _ => None,
        };
        let mut pack = run_step("Pack artifacts".into(), script::pack(a, &x), span);
        pack.condition = condition.clone();
        steps.push(pack);
        let mut upload = uses_step(
            "Keep artifacts",
            "actions/upload-artifact",
            vec![
                ("name", script::artifact_name(&j.name.value)),
                ("path", "${{ runner.temp }}/gitlab-out".into()),
            ],
            span,
        );
        upload.condition = condition;
        steps.push(upload);
    }
    let env_pairs: Vec<(Text, Text)> = j
        .vars
        .iter()
        .filter(|(k, _)| !ctx.secret_names.contains(k))
        .map(|(k, v)| (t(k.clone(), span), t(v.clone(), span)))
        .chain(environment.iter().flat_map(|e| {
            let mut v = vec![(t("CI_ENVIRONMENT_NAME", span), t(e.name.value.clone(), span))];
            if let Some(u) = &e.url {
                v.push((t("CI_ENVIRONMENT_URL", span), t(u.value.clone(), span)));
            }
            if let Some(tier) =
                node.get("environment").and_then(|n| n.get("deployment_tier")).and_then(Node::as_str)
            {
                v.push((t("CI_ENVIRONMENT_TIER", span), t(tier, span)));
            }
            v
        }))
        .collect();
    let parallel = super::parallel::strategy(node.get("parallel"), span);
    let mut env_pairs = env_pairs;
    if parallel.is_some() {
        env_pairs.extend(super::parallel::env(node.get("parallel"), span));
    }
    let timeout_minutes = node
        .get("timeout")
        .and_then(|n| n.as_str().map(|s| (s.to_string(), n.span)))
        .and_then(|(s, sp)| match duration::seconds(&s) {
            Some(secs) => Some(Number::Value(secs as f64 / 60.0, sp)),
            None => {
                out.push(Diagnostic::error(
                    "invalid-timeout",
                    sp,
                    format!("`{s}` is not a duration (write e.g. `1h 30m`, `45 minutes`)"),
                ));
                None
            }
        });
    let retry = retry(node.get("retry"), out);
    let _ = (i, stages);
    Job {
        id: j.name.clone(),
        name: None,
        runs_on,
        needs,
        condition,
        environment: environment.map(Box::new),
        outputs: Vec::new(),
        env: Env::Pairs(env_pairs),
        defaults: Default::default(),
        strategy: parallel.map(Box::new),
        container: image.map(Box::new),
        services,
        timeout_minutes,
        continue_on_error: j.allow_failure.then_some(Flag::Value(true, span)),
        concurrency: node.get("resource_group").and_then(text).map(|mut g| {
            g.value = format!("resource_group/{}", x(&g.value));
            Box::new(crate::model::Concurrency { group: g, cancel_in_progress: None })
        }),
        steps,
        uses: None,
        with: Vec::new(),
        secrets: crate::model::CallSecrets::None,
        manual,
        retry,
        span: node.span,
    }
}

fn exit_codes(node: Option<&Node>) -> Vec<i64> {
    let Some(codes) = node.and_then(|n| n.get("exit_codes")) else { return Vec::new() };
    let one = |n: &Node| match n.typed() {
        Some(Typed::Int(i)) => Some(i),
        _ => None,
    };
    match codes.as_seq() {
        Some(items) => items.iter().filter_map(one).collect(),
        None => one(codes).into_iter().collect(),
    }
}

fn retry(node: Option<&Node>, out: &mut Vec<Diagnostic>) -> u32 {
    let Some(n) = node else { return 0 };
    let (max_node, when) = match n.as_map() {
        Some(_) => (n.get("max"), strings(n.get("when"))),
        None => (Some(n), Vec::new()),
    };
    let max = match max_node.and_then(Node::typed) {
        Some(Typed::Int(i)) if (0..=2).contains(&i) => i as u32,
        Some(_) => {
            out.push(Diagnostic::error(
                "invalid-value",
                max_node.map_or(n.span, |m| m.span),
                "`retry` is 0, 1 or 2",
            ));
            return 0;
        }
        None => 0,
    };
    // pipe's failures are script failures: other kinds (runner_system_failure, ...) never happen.
    let applies = when.is_empty()
        || when.iter().any(|w| matches!(w.as_str(), "always" | "script_failure" | "unknown_failure"));
    if applies { max } else { 0 }
}

fn image(node: Option<&Node>, x: &dyn Fn(&str) -> String) -> Option<Container> {
    let node = node?;
    let name = match node.as_map() {
        Some(_) => node.get("name")?,
        None => node,
    };
    let mut image = text(name)?;
    image.value = x(&image.value);
    Some(Container {
        image,
        env: Vec::new(),
        ports: Vec::new(),
        volumes: Vec::new(),
        options: None,
        credentials: None,
        span: node.span,
    })
}

/// Services with the host names GitLab gives them: `alias`, else the image name without tag,
/// `/` replaced by `-` (`tutum/wordpress:latest` → `tutum-wordpress`).
fn services(
    node: Option<&Node>,
    x: &dyn Fn(&str) -> String,
    vars: &BTreeMap<String, String>,
) -> Vec<(Text, Container)> {
    let mut out = Vec::new();
    for s in node.and_then(Node::as_seq).unwrap_or(&[]) {
        let name_node = if s.as_map().is_some() { s.get("name") } else { Some(s) };
        let Some(mut image) = name_node.and_then(text) else { continue };
        image.value = x(&image.value);
        let alias = s.get("alias").and_then(Node::as_str).map(x).unwrap_or_else(|| {
            let base = image.value.split('@').next().unwrap_or("");
            let no_tag = match base.rsplit_once(':') {
                Some((b, tag)) if !tag.contains('/') => b,
                _ => base,
            };
            no_tag.replace('/', "-")
        });
        // A service sees the job's variables, then its own.
        let mut env: Vec<(Text, Text)> = vars
            .iter()
            .filter(|(k, _)| !k.starts_with("CI_PROJECT_DIR") && *k != "CI_BUILDS_DIR")
            .map(|(k, v)| (t(k.clone(), s.span), t(v.clone(), s.span)))
            .collect();
        for (k, v) in s.get("variables").and_then(Node::as_map).unwrap_or(&[]) {
            if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                env.retain(|(ek, _)| ek.value != k);
                env.push((t(k, s.span), t(x(v), s.span)));
            }
        }
        let first_alias = alias.split(',').next().unwrap_or(&alias).trim().to_string();
        out.push((
            t(first_alias, s.span),
            Container {
                image,
                env,
                ports: Vec::new(),
                volumes: Vec::new(),
                options: None,
                credentials: None,
                span: s.span,
            },
        ));
    }
    out
}

fn environment(node: Option<&Node>, x: &dyn Fn(&str) -> String) -> Option<Environment> {
    let node = node?;
    let action = node.get("action").and_then(Node::as_str).unwrap_or("start");
    // Only `start` deploys; prepare/verify/access/stop jobs are not deployments.
    if action != "start" {
        return None;
    }
    let (mut name, url) = match node.as_map() {
        Some(_) => (text(node.get("name")?)?, node.get("url").and_then(text)),
        None => (text(node)?, None),
    };
    name.value = x(&name.value);
    let url = url.map(|mut u| {
        u.value = x(&u.value);
        u
    });
    Some(Environment { name, url })
}

fn run_step(name: String, script: String, span: Span) -> Step {
    Step {
        id: None,
        name: Some(t(name, span)),
        condition: None,
        run: Some(t(script, span)),
        uses: None,
        with: Vec::new(),
        env: Env::None,
        shell: None,
        working_directory: None,
        continue_on_error: None,
        timeout_minutes: None,
        allowed_exit_codes: Vec::new(),
        span,
    }
}

fn uses_step(name: &str, action: &str, with: Vec<(&str, String)>, span: Span) -> Step {
    Step {
        name: Some(t(name, span)),
        run: None,
        uses: Some(t(action, span)),
        with: with.into_iter().map(|(k, v)| (t(k, span), t(v, span))).collect(),
        ..run_step(String::new(), String::new(), span)
    }
}
