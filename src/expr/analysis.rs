//! Static facts about an expression for the workflow validator: which
//! context paths it reads, which functions it calls, whether it contains a
//! status-check function.

use super::ast::{Expr, ExprKind};
use super::functions;
use super::span::Span;
use super::value::Value;

/// One step of a context path.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// `.name`, with the span of the name.
    Name(String, Span),
    /// `[literal]`, e.g. `['my-key']` or `[0]`.
    Index(Value),
    /// `.*` or `[*]`.
    Wildcard,
    /// `[expr]` with a computed index.
    Dynamic,
}

/// A read of a named context, e.g. `needs.build.outputs.sha`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Context name, lower-cased (`needs`).
    pub context: String,
    /// The longest property chain after the context name.
    pub path: Vec<Segment>,
    /// Span of the whole chain.
    pub span: Span,
}

impl Reference {
    /// The leading run of plain names, lower-cased: `["build", "outputs", "sha"]`.
    pub fn names(&self) -> Vec<String> {
        self.path
            .iter()
            .map_while(|s| match s {
                Segment::Name(n, _) => Some(n.to_lowercase()),
                Segment::Index(Value::String(n)) => Some(n.to_lowercase()),
                _ => None,
            })
            .collect()
    }
}

/// Every context reference, in source order.
pub fn references(expr: &Expr) -> Vec<Reference> {
    let mut out = Vec::new();
    collect_refs(expr, &mut out);
    out
}

fn collect_refs(expr: &Expr, out: &mut Vec<Reference>) {
    if let Some((context, path, dynamic)) = chain(expr) {
        out.push(Reference { context: context.to_lowercase(), path, span: expr.span });
        for index in dynamic {
            collect_refs(index, out);
        }
        return;
    }
    for child in expr.children() {
        collect_refs(child, out);
    }
}

/// Decomposes a postfix chain rooted at a context into its segments plus the
/// computed index expressions (which may hold references of their own).
fn chain(expr: &Expr) -> Option<(&str, Vec<Segment>, Vec<&Expr>)> {
    let mut segments = Vec::new();
    let mut dynamic = Vec::new();
    let mut current = expr;
    loop {
        current = match &current.kind {
            ExprKind::Context(name) => {
                segments.reverse();
                dynamic.reverse();
                return Some((name, segments, dynamic));
            }
            ExprKind::Property { object, name, name_span } => {
                segments.push(Segment::Name(name.clone(), *name_span));
                object
            }
            ExprKind::Index { object, index } => {
                match &index.kind {
                    ExprKind::Literal(v) => segments.push(Segment::Index(v.clone())),
                    _ => {
                        segments.push(Segment::Dynamic);
                        dynamic.push(index.as_ref());
                    }
                }
                object
            }
            ExprKind::Filter(object) => {
                segments.push(Segment::Wildcard);
                object
            }
            ExprKind::Group(inner) => inner,
            _ => return None,
        };
    }
}

/// Every function call as (canonical name, span of the call, argument count).
pub fn calls(expr: &Expr) -> Vec<(String, Span, usize)> {
    let mut out = Vec::new();
    collect_calls(expr, &mut out);
    out
}

fn collect_calls(expr: &Expr, out: &mut Vec<(String, Span, usize)>) {
    if let ExprKind::Call { name, args, .. } = &expr.kind {
        out.push((name.clone(), expr.span, args.len()));
    }
    for child in expr.children() {
        collect_calls(child, out);
    }
}

/// True when any of `always()`, `failure()`, `cancelled()`, `success()`
/// appears; such conditions get no implicit `success() &&`.
pub fn uses_status_function(expr: &Expr) -> bool {
    let is_status = match &expr.kind {
        ExprKind::Call { name, .. } => functions::lookup(name).is_some_and(|spec| spec.is_status),
        _ => false,
    };
    if is_status {
        return true;
    }
    expr.children().into_iter().any(uses_status_function)
}
