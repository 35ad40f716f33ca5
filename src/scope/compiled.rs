//! Every `${{ }}` of a pipeline, parsed once when the run starts (the validator has already
//! proved they parse), plus the file they came from so evaluation errors can point into it.
//! Texts met later (an action's `action.yml`) are parsed on first use and kept.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::expr::{self, Condition, ExprError, Template};
use crate::model::{Container, Env, Flag, Job, Matrix, Number, Pipeline, Step, Text};
use crate::source::Source;

#[derive(Debug, Default)]
pub struct Compiled {
    source: Option<Source>,
    templates: RwLock<HashMap<String, Arc<Template>>>,
    conditions: RwLock<HashMap<String, Arc<Condition>>>,
}

impl Compiled {
    /// The expressions of `pipeline`, read from `source`.
    pub fn of(pipeline: &Pipeline, source: Option<Source>) -> Compiled {
        let compiled = Compiled { source, ..Compiled::default() };
        let mut texts = Vec::new();
        let mut conditions = Vec::new();
        collect_pipeline(pipeline, &mut texts, &mut conditions);
        for t in texts.into_iter().filter(|t| t.value.contains("${{")) {
            let _ = compiled.template(&t.value);
        }
        for c in conditions {
            let _ = compiled.condition(&c.value);
        }
        compiled
    }

    pub fn source(&self) -> Option<&Source> {
        self.source.as_ref()
    }

    pub fn template(&self, text: &str) -> Result<Arc<Template>, ExprError> {
        cached(&self.templates, text, expr::parse_template)
    }

    pub fn condition(&self, text: &str) -> Result<Arc<Condition>, ExprError> {
        cached(&self.conditions, text, expr::parse_condition)
    }

    /// How many distinct templates are held (for tests).
    pub fn len(&self) -> usize {
        self.templates.read().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The parsed form of `text`, parsed on first use.
fn cached<T>(
    map: &RwLock<HashMap<String, Arc<T>>>,
    text: &str,
    parse: impl Fn(&str) -> Result<T, ExprError>,
) -> Result<Arc<T>, ExprError> {
    if let Some(t) = map.read().ok().and_then(|m| m.get(text).cloned()) {
        return Ok(t);
    }
    let t = Arc::new(parse(text)?);
    if let Ok(mut m) = map.write() {
        m.insert(text.to_string(), t.clone());
    }
    Ok(t)
}

fn collect_pipeline<'a>(p: &'a Pipeline, texts: &mut Vec<&'a Text>, conditions: &mut Vec<&'a Text>) {
    texts.extend(p.run_name.iter());
    env(&p.env, texts);
    texts.extend(p.defaults.shell.iter().chain(p.defaults.working_directory.iter()));
    texts.extend(p.concurrency.iter().map(|c| &c.group));
    for job in &p.jobs {
        collect_job(job, texts, conditions);
    }
}

fn collect_job<'a>(job: &'a Job, texts: &mut Vec<&'a Text>, conditions: &mut Vec<&'a Text>) {
    texts.extend(job.name.iter().chain(&job.runs_on));
    conditions.extend(job.condition.iter());
    if let Some(e) = &job.environment {
        texts.push(&e.name);
        texts.extend(e.url.iter());
    }
    texts.extend(job.outputs.iter().map(|(_, v)| v));
    env(&job.env, texts);
    texts.extend(job.defaults.shell.iter().chain(job.defaults.working_directory.iter()));
    if let Some(Matrix::Expr(t)) = job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) {
        texts.push(t);
    }
    for c in job.container.as_deref().into_iter().chain(job.services.iter().map(|(_, c)| c)) {
        container(c, texts);
    }
    number(&job.timeout_minutes, texts);
    flag(&job.continue_on_error, texts);
    texts.extend(job.concurrency.iter().map(|c| &c.group));
    for step in &job.steps {
        collect_step(step, texts, conditions);
    }
}

fn collect_step<'a>(s: &'a Step, texts: &mut Vec<&'a Text>, conditions: &mut Vec<&'a Text>) {
    conditions.extend(s.condition.iter());
    texts.extend(s.name.iter().chain(s.run.iter()).chain(s.shell.iter()).chain(s.working_directory.iter()));
    texts.extend(s.with.iter().map(|(_, v)| v));
    env(&s.env, texts);
    flag(&s.continue_on_error, texts);
    number(&s.timeout_minutes, texts);
}

fn env<'a>(e: &'a Env, texts: &mut Vec<&'a Text>) {
    match e {
        Env::None => {}
        Env::Pairs(p) => texts.extend(p.iter().map(|(_, v)| v)),
        Env::Expr(t) => texts.push(t),
    }
}

fn container<'a>(c: &'a Container, texts: &mut Vec<&'a Text>) {
    texts.push(&c.image);
    texts.extend(c.env.iter().map(|(_, v)| v));
    texts.extend(c.options.iter());
    if let Some((u, p)) = &c.credentials {
        texts.extend([u, p]);
    }
}

fn number<'a>(n: &'a Option<Number>, texts: &mut Vec<&'a Text>) {
    if let Some(Number::Expr(t)) = n {
        texts.push(t);
    }
}

fn flag<'a>(f: &'a Option<Flag>, texts: &mut Vec<&'a Text>) {
    if let Some(Flag::Expr(t)) = f {
        texts.push(t);
    }
}
