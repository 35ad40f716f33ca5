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

/// The context references whose value can become the expression's result (or part of it):
/// `github.head_ref`, `format('{0}', x)`, `a || x`, each with whether it is serialized whole
/// (`toJSON(x)`: every field of an object is in the text). A reference only tested
/// (`x == 'main'`, `!x`, `contains(x, 'y')`, `startsWith(x, 'y')`) yields a boolean, and one used
/// as a computed index (`a[x]`) selects rather than flows; neither is listed.
pub fn value_references(expr: &Expr) -> Vec<(Span, bool)> {
    let mut out = Vec::new();
    collect_values(expr, false, &mut out);
    out
}

fn collect_values(expr: &Expr, serialized: bool, out: &mut Vec<(Span, bool)>) {
    if chain(expr).is_some() {
        out.push((expr.span, serialized));
        return;
    }
    match &expr.kind {
        ExprKind::Literal(_) | ExprKind::Context(_) | ExprKind::Not(_) | ExprKind::Compare { .. } => {}
        ExprKind::Call { name, args, .. } => match name.to_ascii_lowercase().as_str() {
            // A boolean or a hash: the arguments do not reach the result.
            "contains" | "startswith" | "endswith" | "hashfiles" => {}
            "tojson" => args.iter().for_each(|a| collect_values(a, true, out)),
            _ => args.iter().for_each(|a| collect_values(a, false, out)),
        },
        // `a && b` is `a` when it is falsy, else `b`; `a || b` likewise: both can be the result.
        ExprKind::And(l, r) | ExprKind::Or(l, r) => {
            collect_values(l, serialized, out);
            collect_values(r, serialized, out);
        }
        ExprKind::Group(inner) | ExprKind::Filter(inner) => collect_values(inner, serialized, out),
        ExprKind::Property { object, .. } | ExprKind::Index { object, .. } => {
            collect_values(object, serialized, out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flowing(src: &str) -> Vec<String> {
        let e = super::super::parse(src).unwrap();
        value_references(&e)
            .into_iter()
            .map(|(s, whole)| format!("{}{}", &src[s.start..s.end], if whole { " (json)" } else { "" }))
            .collect()
    }

    #[test]
    fn tests_yield_booleans_values_flow() {
        for tested in [
            "github.head_ref == 'x'",
            "contains(github.head_ref, 'x')",
            "startsWith(github.head_ref, 'x')",
            "endsWith(github.head_ref, 'x')",
            "!github.head_ref",
            "github.event.pull_request.title != ''",
        ] {
            assert!(
                !flowing(tested).iter().any(|r| r.contains("head_ref") || r.contains("title")),
                "{tested}"
            );
        }
        // A computed index selects: only the chain it indexes is the value.
        assert_eq!(flowing("env[github.head_ref]"), ["env[github.head_ref]"]);
        assert_eq!(flowing("format('{0}', github.head_ref)"), ["github.head_ref"]);
        assert_eq!(flowing("toJSON(github.event)"), ["github.event (json)"]);
        assert_eq!(flowing("a || github.head_ref"), ["a", "github.head_ref"]);
        assert_eq!(flowing("a && github.head_ref"), ["a", "github.head_ref"]);
        assert_eq!(flowing("join(github.event.commits.*.message)"), ["github.event.commits.*.message"]);
    }
}
