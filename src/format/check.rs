//! Structural checks: a node tree against a [`Shape`]. Reports unknown keys (with a suggestion),
//! missing required keys, wrong types and values outside an enumeration — all of them, not the first.

use super::{Object, Shape};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::source::Span;
use crate::yaml::{Node, Typed, Value};

/// Check `node` against `shape`. `owner` is the span of the key holding the node, where a
/// "missing key" error points.
pub fn check(node: &Node, shape: &Shape, owner: Span, out: &mut Vec<Diagnostic>) {
    match shape {
        Shape::Any => {}
        Shape::Null => {
            if !node.is_null() {
                out.push(wrong_type(node, "null"));
            }
        }
        Shape::String => {
            if node.as_scalar().is_none() || node.is_null() {
                out.push(wrong_type(node, "a string"));
            }
        }
        Shape::Text => {
            if !matches!(node.typed(), Some(Typed::Str(_))) {
                out.push(wrong_type(node, "a string"));
            }
        }
        Shape::Expr => match node.typed() {
            Some(Typed::Str(s)) if is_expression(s) => {}
            _ => out.push(wrong_type(node, "a `${{ }}` expression")),
        },
        Shape::Bool => match node.typed() {
            Some(Typed::Bool(_)) => {}
            Some(Typed::Str(s)) if s.contains("${{") => {}
            _ => out.push(wrong_type(node, "a boolean (true or false)")),
        },
        Shape::Number => match node.typed() {
            Some(Typed::Int(_) | Typed::Float(_)) => {}
            Some(Typed::Str(s)) if s.contains("${{") => {}
            _ => out.push(wrong_type(node, "a number")),
        },
        Shape::Enum(values) => match node.as_str() {
            Some(s) if values.contains(&s) => {}
            Some(s) if node.as_seq().is_none() && node.as_map().is_none() => {
                let mut d = Diagnostic::error(
                    "invalid-value",
                    node.span,
                    format!("`{s}` is not {}", describe(shape)),
                );
                if let Some(m) = did_you_mean(s, values.iter().copied()) {
                    d = d.with_help(format!("did you mean `{m}`?"));
                }
                out.push(d);
            }
            _ => out.push(wrong_type(node, &describe(shape))),
        },
        Shape::Seq(item) => match node.as_seq() {
            Some(items) => items.iter().for_each(|i| check(i, item, i.span, out)),
            None => out.push(wrong_type(node, "a sequence")),
        },
        Shape::Object(object) => match node.as_map() {
            Some(entries) => check_object(entries, object, owner, out),
            None => out.push(wrong_type(node, &format!("a mapping ({})", object.name))),
        },
        Shape::OneOf(alternatives) => check_one_of(node, alternatives, owner, out),
    }
}

fn check_object(entries: &[(Node, Node)], object: &Object, owner: Span, out: &mut Vec<Diagnostic>) {
    for (key, value) in entries {
        let Some(name) = key.as_str() else {
            out.push(Diagnostic::error("wrong-type", key.span, "keys must be strings"));
            continue;
        };
        if name == "<<" {
            // A merge key: reported by the YAML reader (`merge-key`) already.
            continue;
        }
        if let Some(k) = object.keys.iter().find(|k| k.name == name) {
            check(value, &k.shape, key.span, out);
        } else if let Some(other) = object.other_keys {
            check(value, other, key.span, out);
        } else {
            let mut d = Diagnostic::error(
                "unknown-key",
                key.span,
                format!("unknown key `{name}` in {}", object.name),
            );
            if let Some(m) = did_you_mean(name, object.keys.iter().map(|k| k.name)) {
                d = d.with_help(format!("did you mean `{m}`?"));
            } else {
                let known: Vec<_> = object.keys.iter().map(|k| k.name).collect();
                d = d.with_help(format!("known keys: {}", known.join(", ")));
            }
            out.push(d);
        }
    }
    let has = |n: &str| entries.iter().any(|(k, _)| k.as_str() == Some(n));
    if object.required_unless.is_some_and(has) {
        return;
    }
    for key in object.keys.iter().filter(|k| k.required && !has(k.name)) {
        out.push(Diagnostic::error(
            "missing-key",
            owner,
            format!("{} is missing the required key `{}`", object.name, key.name),
        ));
    }
}

fn check_one_of(node: &Node, alternatives: &[Shape], owner: Span, out: &mut Vec<Diagnostic>) {
    let fits = |s: &Shape| {
        matches!(
            (&node.value, s),
            (_, Shape::Any)
                | (Value::Map(_), Shape::Object(_))
                | (Value::Seq(_), Shape::Seq(_))
                | (
                    Value::Scalar(_),
                    Shape::String
                        | Shape::Text
                        | Shape::Bool
                        | Shape::Number
                        | Shape::Enum(_)
                        | Shape::Null
                        | Shape::Expr
                )
        )
    };
    let candidates: Vec<&Shape> = alternatives.iter().filter(|s| fits(s)).collect();
    // Use the first candidate that accepts the value; otherwise report against the first.
    let mut first_errors = None;
    for candidate in &candidates {
        let mut errs = Vec::new();
        check(node, candidate, owner, &mut errs);
        if errs.is_empty() {
            return;
        }
        first_errors.get_or_insert(errs);
    }
    match first_errors {
        Some(errs) => out.extend(errs),
        None => {
            let expected: Vec<String> = alternatives.iter().map(describe).collect();
            out.push(wrong_type(node, &expected.join(" or ")));
        }
    }
}

fn wrong_type(node: &Node, expected: &str) -> Diagnostic {
    Diagnostic::error("wrong-type", node.span, format!("expected {expected}, found {}", node.kind_name()))
}

fn describe(shape: &Shape) -> String {
    match shape {
        Shape::String | Shape::Text => "a string".into(),
        Shape::Bool => "a boolean".into(),
        Shape::Number => "a number".into(),
        Shape::Enum(v) if v.len() > 6 => "a known value".into(),
        Shape::Enum(v) => {
            format!("one of {}", v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "))
        }
        Shape::Seq(_) => "a sequence".into(),
        Shape::Object(o) => format!("a mapping ({})", o.name),
        Shape::OneOf(alts) => alts.iter().map(describe).collect::<Vec<_>>().join(" or "),
        Shape::Any => "any value".into(),
        Shape::Null => "nothing".into(),
        Shape::Expr => "a `${{ }}` expression".into(),
    }
}

/// A string that is one `${{ }}` expression (surrounding blanks allowed).
fn is_expression(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("${{") && t.ends_with("}}")
}
