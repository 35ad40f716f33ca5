//! One answer to "what may an expression see here?". A [`Scope`] holds the contexts known at a
//! moment of a run (or of a plan); [`Scope::at`] hands out exactly the contexts and special
//! functions that GitHub's availability table ([`crate::expr::availability`], the single source
//! of truth) allows at a key. Evaluation goes through the scope too, so every error carries the
//! file position of the failing expression.

mod compiled;
mod facts;
mod failure;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value as Json;

pub use compiled::Compiled;
pub use facts::{RunFacts, object, runner};
pub use failure::EvalFailure;

use crate::expr::{self, Availability, EvalContext, EvalError, Location, Status, Value};
use crate::model::{Flag, Number, Text};

/// Every context name the expression language knows.
pub const CONTEXTS: &[&str] = &[
    "github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy", "matrix", "needs",
    "inputs",
];

/// The contexts known so far, the status for `success()`/`failure()`, the workspace for
/// `hashFiles`, and the parsed templates. Cheap to clone: values are shared.
#[derive(Clone, Default)]
pub struct Scope {
    values: BTreeMap<&'static str, Arc<Value>>,
    status: Status,
    workspace: Option<PathBuf>,
    compiled: Arc<Compiled>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").field("contexts", &self.values.keys()).field("status", &self.status).finish()
    }
}

impl Scope {
    /// An empty scope over the templates of `compiled`.
    pub fn new(compiled: Arc<Compiled>) -> Scope {
        Scope { compiled, ..Scope::default() }
    }

    /// Adds or replaces a context (`name` is one of [`CONTEXTS`]).
    pub fn set(&mut self, name: &str, value: &Json) {
        self.set_value(name, Value::from(value));
    }

    pub fn set_value(&mut self, name: &str, value: Value) {
        match CONTEXTS.iter().find(|c| c.eq_ignore_ascii_case(name)) {
            Some(c) => {
                self.values.insert(c, Arc::new(value));
            }
            None => debug_assert!(false, "unknown context `{name}`"),
        }
    }

    /// Builder form of [`Scope::set`].
    pub fn with(mut self, name: &str, value: &Json) -> Scope {
        self.set(name, value);
        self
    }

    pub fn remove(&mut self, name: &str) {
        self.values.retain(|k, _| !k.eq_ignore_ascii_case(name));
    }

    pub fn with_status(mut self, status: Status) -> Scope {
        self.status = status;
        self
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn with_workspace(mut self, dir: Option<PathBuf>) -> Scope {
        self.workspace = dir;
        self
    }

    pub fn compiled(&self) -> &Arc<Compiled> {
        &self.compiled
    }

    /// A context's value, whatever the key (for the runner's own bookkeeping, not for
    /// expressions).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref())
    }

    /// What an expression at `location` sees.
    pub fn at(&self, location: Location) -> View<'_> {
        View { scope: self, location, allowed: expr::allowed(location) }
    }

    /// A text with `${{ }}` parts, interpolated.
    pub fn text(&self, location: Location, text: &Text) -> Result<String, EvalFailure> {
        self.text_with(location, &text.value, Some(text))
    }

    /// [`Scope::text`] for a string that is not from the pipeline file.
    pub fn text_str(&self, location: Location, text: &str) -> Result<String, EvalFailure> {
        self.text_with(location, text, None)
    }

    fn text_with(&self, location: Location, s: &str, from: Option<&Text>) -> Result<String, EvalFailure> {
        if !s.contains("${{") {
            return Ok(s.to_string());
        }
        let t = self.compiled.template(s).map_err(|e| self.failure(from, e.span.start, e.message))?;
        expr::interpolate(&t, &self.at(location)).map_err(|e| self.eval_failure(location, from, e))
    }

    /// A value: a lone `${{ expr }}` gives the expression's value (an object, a number...);
    /// anything else gives the interpolated string.
    pub fn value(&self, location: Location, text: &Text) -> Result<Json, EvalFailure> {
        self.value_with(location, &text.value, Some(text))
    }

    pub fn value_str(&self, location: Location, text: &str) -> Result<Json, EvalFailure> {
        self.value_with(location, text, None)
    }

    fn value_with(&self, location: Location, s: &str, from: Option<&Text>) -> Result<Json, EvalFailure> {
        let t = self.compiled.template(s).map_err(|e| self.failure(from, e.span.start, e.message))?;
        expr::evaluate_template(&t, &self.at(location))
            .map(|v| v.to_json())
            .map_err(|e| self.eval_failure(location, from, e))
    }

    /// An `if:` (absent = `success()`), with GitHub's implicit `success() &&`.
    pub fn condition(&self, location: Location, text: Option<&Text>) -> Result<bool, EvalFailure> {
        self.condition_with(location, text.map_or("", |t| t.value.as_str()), text)
    }

    pub fn condition_str(&self, location: Location, text: Option<&str>) -> Result<bool, EvalFailure> {
        self.condition_with(location, text.unwrap_or(""), None)
    }

    fn condition_with(&self, location: Location, s: &str, from: Option<&Text>) -> Result<bool, EvalFailure> {
        let c = self.compiled.condition(s).map_err(|e| self.failure(from, e.span.start, e.message))?;
        expr::evaluate_condition(&c, &self.at(location)).map_err(|e| self.eval_failure(location, from, e))
    }

    /// Whether an `if:` calls a status function (then a failure so far does not skip it).
    pub fn uses_status_function(&self, text: Option<&str>) -> bool {
        match text.map(|t| self.compiled.condition(t)) {
            Some(Ok(c)) => match c.as_ref() {
                expr::Condition::Expression(e) => expr::uses_status_function(e),
                expr::Condition::AlwaysTrueTemplate(t) => t.expressions().any(expr::uses_status_function),
                expr::Condition::Empty => false,
            },
            _ => false,
        }
    }

    /// A boolean key (`continue-on-error`): an expression counts by its truthiness.
    pub fn flag(&self, location: Location, flag: &Flag) -> Result<bool, EvalFailure> {
        match flag {
            Flag::Value(b, _) => Ok(*b),
            Flag::Expr(t) => self.value(location, t).map(|v| truthy(&v)),
        }
    }

    /// A number key (`timeout-minutes`): a number, or a string that reads as one.
    pub fn number(&self, location: Location, number: &Number) -> Result<f64, EvalFailure> {
        match number {
            Number::Value(v, _) => Ok(*v),
            Number::Expr(t) => {
                let v = self.value(location, t)?;
                let n = match &v {
                    Json::Number(n) => n.as_f64(),
                    Json::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                n.ok_or_else(|| self.failure(Some(t), 0, format!("expected a number, got {v}")))
            }
        }
    }

    fn failure(&self, from: Option<&Text>, index: usize, message: String) -> EvalFailure {
        let at = match (from, self.compiled.source()) {
            (Some(t), Some(source)) if t.span != crate::source::Span::default() => {
                Some((source.path.clone(), t.pos(source, index)))
            }
            _ => None,
        };
        EvalFailure { message, at }
    }

    fn eval_failure(&self, location: Location, from: Option<&Text>, e: EvalError) -> EvalFailure {
        // A context GitHub does not offer at this key reads as unknown to the evaluator; say why.
        let unavailable = CONTEXTS.iter().find(|c| {
            e.message.eq_ignore_ascii_case(&format!("unrecognized named-value: `{c}`"))
                && !expr::allowed(location).allows_context(c)
        });
        let message = match unavailable {
            Some(c) => format!("the `{c}` context is not available in `{}`", location.key()),
            None => e.message,
        };
        self.failure(from, e.span.start, message)
    }
}

/// Truthiness as GitHub defines it (`''`, `0`, `false`, `null` are false).
pub fn truthy(v: &Json) -> bool {
    Value::from(v).is_truthy()
}

/// A scope seen from one key: only the contexts and functions allowed there.
pub struct View<'a> {
    scope: &'a Scope,
    location: Location,
    allowed: Availability,
}

impl View<'_> {
    pub fn location(&self) -> Location {
        self.location
    }
}

impl EvalContext for View<'_> {
    fn context(&self, name: &str) -> Option<Value> {
        self.context_ref(name).cloned()
    }

    fn context_ref(&self, name: &str) -> Option<&Value> {
        if !self.allowed.allows_context(name) {
            return None;
        }
        self.scope.values.get(name).map(|v| v.as_ref())
    }

    fn status(&self) -> Status {
        self.scope.status
    }

    fn hash_files(&self, patterns: &[String]) -> Result<String, String> {
        if !self.allowed.allows_function("hashFiles") {
            return Err(format!("hashFiles is not available in `{}`", self.location.key()));
        }
        match &self.scope.workspace {
            Some(dir) => expr::hash_files(dir, patterns),
            None => Err("hashFiles is unavailable: no workspace directory is set".to_string()),
        }
    }
}
