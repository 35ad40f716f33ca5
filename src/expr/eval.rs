//! The evaluator: walks an [`Expr`] against an [`EvalContext`].
//!
//! Values read from contexts are borrowed (`Cow`) while navigating property
//! chains, so `github.event.pull_request.title` clones one string, not the
//! whole `github` object.

use std::borrow::Cow;

use super::ast::{CompareOp, Expr, ExprKind};
use super::builtins;
use super::compare::{loose_cmp, loose_eq};
use super::context::EvalContext;
use super::error::EvalError;
use super::template::{Part, Template};
use super::value::Value;

/// Evaluates an expression to a value.
pub fn evaluate(expr: &Expr, ctx: &dyn EvalContext) -> Result<Value, EvalError> {
    Evaluator { ctx }.value(expr).map(Cow::into_owned)
}

/// Renders a template to a string: literal text plus the string form of
/// each expression (see [`Value`]'s `Display`).
pub fn interpolate(template: &Template, ctx: &dyn EvalContext) -> Result<String, EvalError> {
    let evaluator = Evaluator { ctx };
    let mut out = String::new();
    for part in &template.parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Expr(expr) => out.push_str(&evaluator.value(expr)?.to_string()),
        }
    }
    Ok(out)
}

/// Evaluates a template keeping types: a template that is exactly one
/// `${{ }}` yields that expression's value (an object for
/// `matrix: ${{ fromJSON(...) }}`); anything else yields the interpolated
/// string.
pub fn evaluate_template(template: &Template, ctx: &dyn EvalContext) -> Result<Value, EvalError> {
    match template.single_expression() {
        Some(expr) => evaluate(expr, ctx),
        None => interpolate(template, ctx).map(Value::String),
    }
}

/// An intermediate result: a plain value, or the output of an object
/// filter (`.*`), to which later property accesses and indexes apply
/// element-wise.
enum Res<'a> {
    Value(Cow<'a, Value>),
    Filtered(Vec<Cow<'a, Value>>),
}

impl<'a> Res<'a> {
    fn into_value(self) -> Cow<'a, Value> {
        match self {
            Res::Value(v) => v,
            Res::Filtered(items) => {
                Cow::Owned(Value::Array(items.into_iter().map(Cow::into_owned).collect()))
            }
        }
    }
}

/// A step along a property chain.
enum Key<'k> {
    Name(&'k str),
    Index(&'k Value),
}

/// Property or index lookup on one value; `None` when absent.
fn lookup<'v>(value: &'v Value, key: &Key<'_>) -> Option<&'v Value> {
    match key {
        Key::Name(name) => value.get(name),
        Key::Index(index) => match value {
            Value::Array(items) => {
                // GitHub floors numeric indexes and ignores negative/NaN ones.
                let n = index.to_number().floor();
                if n.is_nan() || n < 0.0 || n > f64::from(i32::MAX) {
                    None
                } else {
                    // In [0, i32::MAX] after the checks above.
                    items.get(n as usize)
                }
            }
            Value::Object(_) if index.is_primitive() => value.get(&index.to_string()),
            _ => None,
        },
    }
}

/// Looks up a child, borrowing when the parent is borrowed.
fn child<'a>(parent: Cow<'a, Value>, key: &Key<'_>) -> Option<Cow<'a, Value>> {
    match parent {
        Cow::Borrowed(p) => lookup(p, key).map(Cow::Borrowed),
        Cow::Owned(p) => lookup(&p, key).cloned().map(Cow::Owned),
    }
}

/// The elements a filter selects from one value: array items or object
/// values; anything else contributes nothing.
fn elements<'a>(value: Cow<'a, Value>, out: &mut Vec<Cow<'a, Value>>) {
    match value {
        Cow::Borrowed(Value::Array(items)) => out.extend(items.iter().map(Cow::Borrowed)),
        Cow::Borrowed(Value::Object(pairs)) => {
            out.extend(pairs.iter().map(|(_, v)| Cow::Borrowed(v)));
        }
        Cow::Owned(Value::Array(items)) => out.extend(items.into_iter().map(Cow::Owned)),
        Cow::Owned(Value::Object(pairs)) => out.extend(pairs.into_iter().map(|(_, v)| Cow::Owned(v))),
        _ => {}
    }
}

pub(super) struct Evaluator<'a> {
    ctx: &'a dyn EvalContext,
}

impl<'a> Evaluator<'a> {
    fn value(&self, expr: &'a Expr) -> Result<Cow<'a, Value>, EvalError> {
        self.eval(expr).map(Res::into_value)
    }

    fn eval(&self, expr: &'a Expr) -> Result<Res<'a>, EvalError> {
        let value = match &expr.kind {
            ExprKind::Literal(v) => Cow::Borrowed(v),
            ExprKind::Context(name) => self.context(name, expr)?,
            ExprKind::Group(inner) => return self.eval(inner),
            ExprKind::Property { object, name, .. } => {
                return self.navigate(object, &Key::Name(name));
            }
            ExprKind::Index { object, index } => {
                let index = self.value(index)?;
                return self.navigate(object, &Key::Index(&index));
            }
            ExprKind::Filter(object) => {
                let mut out = Vec::new();
                match self.eval(object)? {
                    Res::Value(v) => elements(v, &mut out),
                    // A second `.*` flattens one more level.
                    Res::Filtered(items) => {
                        for item in items {
                            elements(item, &mut out);
                        }
                    }
                }
                return Ok(Res::Filtered(out));
            }
            ExprKind::Not(inner) => Cow::Owned(Value::Bool(!self.value(inner)?.is_truthy())),
            // `&&` and `||` short-circuit and yield an operand, not a bool.
            ExprKind::And(left, right) => {
                let l = self.value(left)?;
                if l.is_truthy() { self.value(right)? } else { l }
            }
            ExprKind::Or(left, right) => {
                let l = self.value(left)?;
                if l.is_truthy() { l } else { self.value(right)? }
            }
            ExprKind::Compare { op, left, right } => {
                let l = self.value(left)?;
                let r = self.value(right)?;
                Cow::Owned(Value::Bool(compare(*op, &l, &r)))
            }
            ExprKind::Call { name, args, .. } => Cow::Owned(builtins::call(self, name, args, expr.span)?),
        };
        Ok(Res::Value(value))
    }

    fn context(&self, name: &str, expr: &Expr) -> Result<Cow<'a, Value>, EvalError> {
        let lower = if name.chars().any(char::is_uppercase) {
            Cow::Owned(name.to_lowercase())
        } else {
            Cow::Borrowed(name)
        };
        if let Some(v) = self.ctx.context_ref(&lower) {
            return Ok(Cow::Borrowed(v));
        }
        self.ctx
            .context(&lower)
            .map(Cow::Owned)
            .ok_or_else(|| EvalError::new(format!("unrecognized named-value: `{name}`"), expr.span))
    }

    /// `object.name` / `object[index]`: missing properties are null, and
    /// after a filter the lookup maps over the elements, dropping misses.
    fn navigate(&self, object: &'a Expr, key: &Key<'_>) -> Result<Res<'a>, EvalError> {
        Ok(match self.eval(object)? {
            Res::Value(v) => Res::Value(child(v, key).unwrap_or(Cow::Owned(Value::Null))),
            Res::Filtered(items) => Res::Filtered(items.into_iter().filter_map(|v| child(v, key)).collect()),
        })
    }

    /// Evaluates a function argument (used by the builtins).
    pub(super) fn arg(&self, expr: &'a Expr) -> Result<Cow<'a, Value>, EvalError> {
        self.value(expr)
    }

    pub(super) fn ctx(&self) -> &'a dyn EvalContext {
        self.ctx
    }
}

/// Applies a comparison operator with GitHub's loose semantics.
fn compare(op: CompareOp, l: &Value, r: &Value) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        CompareOp::Eq => loose_eq(l, r),
        CompareOp::Ne => !loose_eq(l, r),
        CompareOp::Lt => loose_cmp(l, r) == Some(Less),
        CompareOp::Le => matches!(loose_cmp(l, r), Some(Less | Equal)),
        CompareOp::Gt => loose_cmp(l, r) == Some(Greater),
        CompareOp::Ge => matches!(loose_cmp(l, r), Some(Greater | Equal)),
    }
}
