//! Typed expressions: every context has a type (see `contexts.rs` and the per-file ones built by
//! the expression checks), and each expression is typed bottom-up. Reported, as warnings since
//! GitHub accepts the file and evaluates them to something useless: properties a context does not
//! have (`expression-property`), arguments of the wrong type, object filters on values that are
//! not objects, comparisons that are always false, objects printed into strings
//! (`expression-type`). Where a type is not known it is `Any` and nothing is said.

pub mod contexts;
mod ty;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::{CompareOp, Expr, ExprKind, Span, Value};

pub use ty::{Ty, common, of_json};

/// Types an expression; `context` gives the type of a context by its lower-case name, `span` turns
/// expression offsets into file spans, `text` is the string the offsets are into.
pub struct Typer<'a> {
    pub context: &'a dyn Fn(&str) -> Ty,
    pub span: &'a dyn Fn(Span) -> crate::source::Span,
    pub text: &'a str,
    pub out: &'a mut Vec<Diagnostic>,
}

impl Typer<'_> {
    fn source(&self, s: Span) -> String {
        self.text.chars().skip(s.start).take(s.end.saturating_sub(s.start)).collect()
    }

    fn warn(&mut self, rule: &'static str, at: Span, message: String, help: Option<String>) {
        let mut d = Diagnostic::warning(rule, (self.span)(at), message);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.out.push(d);
    }

    pub fn ty(&mut self, e: &Expr) -> Ty {
        match &e.kind {
            ExprKind::Literal(v) => literal(v),
            ExprKind::Context(name) => (self.context)(&name.to_ascii_lowercase()),
            ExprKind::Group(inner) => self.ty(inner),
            ExprKind::Property { object, name, name_span } => {
                let t = self.ty(object);
                self.property(&t, name, *name_span, object.span)
            }
            ExprKind::Index { object, index } => {
                let t = self.ty(object);
                let i = self.ty(index);
                match (&index.kind, &t) {
                    (ExprKind::Literal(Value::String(name)), _) if t.is_object() => {
                        self.property(&t, name, index.span, object.span)
                    }
                    (_, Ty::Array(elem)) if !i.is_composite() => (**elem).clone(),
                    _ if t.is_object() => t.values(),
                    _ => Ty::Any,
                }
            }
            ExprKind::Filter(inner) => {
                let t = self.ty(inner);
                match &t {
                    Ty::Array(_) => t,
                    _ if t.is_object() => Ty::Array(Box::new(t.values())),
                    Ty::Any => Ty::Array(Box::new(Ty::Any)),
                    _ => {
                        let what = self.source(inner.span);
                        self.warn(
                            "expression-type",
                            e.span,
                            format!(
                                "`{what}` is {}: the object filter `.*` on it is always an empty array",
                                t.name()
                            ),
                            Some("`.*` collects the values of an object or the items of an array".into()),
                        );
                        Ty::Any
                    }
                }
            }
            ExprKind::Call { name, args, .. } => {
                let types: Vec<Ty> = args.iter().map(|a| self.ty(a)).collect();
                self.call(name, args, &types)
            }
            ExprKind::Not(inner) => {
                self.ty(inner);
                Ty::Bool
            }
            ExprKind::And(l, r) | ExprKind::Or(l, r) => {
                let (a, b) = (self.ty(l), self.ty(r));
                if a == b { a } else { Ty::Any }
            }
            ExprKind::Compare { op, left, right } => {
                let (a, b) = (self.ty(left), self.ty(right));
                self.compare(*op, e, (left, &a), (right, &b));
                Ty::Bool
            }
        }
    }

    fn property(&mut self, t: &Ty, name: &str, at: Span, object: Span) -> Ty {
        match t {
            Ty::Static(props) => {
                if let Some((_, s)) = props.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                    return s.ty();
                }
                let names: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
                self.unknown_property(object, name, at, &names);
                Ty::Any
            }
            Ty::Object { props, strict } => {
                if let Some((_, found)) = props.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                    return found.clone();
                }
                if *strict {
                    let names: Vec<&str> = props.iter().map(|(k, _)| k.as_str()).collect();
                    self.unknown_property(object, name, at, &names);
                }
                Ty::Any
            }
            Ty::Map(v) => (**v).clone(),
            // `a.*.b`: the `b` of every item.
            Ty::Array(elem) => Ty::Array(Box::new(self.property(elem, name, at, object))),
            Ty::Any | Ty::Null => Ty::Any,
            Ty::Bool | Ty::Number | Ty::String => {
                let what = self.source(object);
                self.warn(
                    "expression-type",
                    at,
                    format!("`{what}` is {}, it has no property `{name}`: this is always null", t.name()),
                    None,
                );
                Ty::Any
            }
        }
    }

    fn unknown_property(&mut self, object: Span, name: &str, at: Span, names: &[&str]) {
        let what = self.source(object);
        let help = match did_you_mean(name, names.iter().copied()) {
            Some(m) => format!("did you mean `{what}.{m}`?"),
            None => format!("its properties: {}", names.join(", ")),
        };
        self.warn(
            "expression-property",
            at,
            format!("`{what}` has no property `{name}`: this is always null"),
            Some(help),
        );
    }

    fn call(&mut self, name: &str, args: &[Expr], types: &[Ty]) -> Ty {
        let lower = name.to_ascii_lowercase();
        // Arguments GitHub reads as strings: an object or an array is the text `Object`/`Array`.
        let string_args: &[usize] = match lower.as_str() {
            "startswith" | "endswith" => &[0, 1],
            "format" => &[0],
            "fromjson" => &[0],
            "join" => &[1],
            "hashfiles" => &[usize::MAX],
            _ => &[],
        };
        for (i, (arg, t)) in args.iter().zip(types).enumerate() {
            let is_string_arg = string_args.contains(&i) || string_args == [usize::MAX];
            if is_string_arg && t.is_composite() {
                let what = self.source(arg.span);
                self.warn(
                    "expression-type",
                    arg.span,
                    format!("argument {} of `{name}()` is a string, but `{what}` is {}", i + 1, t.name()),
                    Some("to pass an object or an array as text, wrap it in `toJSON()`".into()),
                );
            }
        }
        if lower == "contains" && types.first().is_some_and(Ty::is_object) {
            let what = self.source(args[0].span);
            self.warn(
                "expression-type",
                args[0].span,
                format!("`contains()` searches a string or an array, but `{what}` is an object"),
                Some("search its values with an object filter (`x.*`) or its JSON with `toJSON()`".into()),
            );
        }
        if lower == "format" {
            self.format_placeholders(args);
        }
        match lower.as_str() {
            "contains" | "startswith" | "endswith" | "success" | "always" | "cancelled" | "failure" => {
                Ty::Bool
            }
            "format" | "join" | "tojson" | "hashfiles" => Ty::String,
            "case" => common(types.iter().skip(1).step_by(2).cloned().chain(types.last().cloned())),
            _ => Ty::Any,
        }
    }

    /// `format('{0} {1}', a)` fails the run: every `{N}` needs an argument.
    fn format_placeholders(&mut self, args: &[Expr]) {
        let Some(ExprKind::Literal(Value::String(f))) = args.first().map(|a| &a.kind) else { return };
        let given = args.len() - 1;
        let chars: Vec<char> = f.chars().collect();
        let mut i = 0;
        let mut highest: Option<usize> = None;
        while i < chars.len() {
            match chars[i] {
                '{' if chars.get(i + 1) == Some(&'{') => i += 2,
                '}' if chars.get(i + 1) == Some(&'}') => i += 2,
                '{' => {
                    let digits: String = chars[i + 1..].iter().take_while(|c| c.is_ascii_digit()).collect();
                    if !digits.is_empty() && chars.get(i + 1 + digits.len()) == Some(&'}') {
                        let n: usize = digits.parse().unwrap_or(usize::MAX);
                        highest = highest.max(Some(n));
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
        if let Some(n) = highest.filter(|n| *n >= given) {
            self.warn(
                "expression-type",
                args[0].span,
                format!("the format string uses `{{{n}}}` but `format()` is given {given} value(s) after it"),
                Some("add the missing values, or escape literal braces as `{{` and `}}`".into()),
            );
        }
    }

    fn compare(&mut self, op: CompareOp, e: &Expr, (l, a): (&Expr, &Ty), (r, b): (&Expr, &Ty)) {
        let equality = matches!(op, CompareOp::Eq | CompareOp::Ne);
        if equality {
            // An object or array equals only itself: against a literal or a primitive it never does.
            let (composite, other) = if a.is_composite() { (l, b) } else { (r, a) };
            if (a.is_composite() || b.is_composite()) && matches!(other, Ty::Bool | Ty::Number | Ty::String) {
                let what = self.source(composite.span);
                let outcome = if op == CompareOp::Eq { "false" } else { "true" };
                self.warn(
                    "expression-type",
                    e.span,
                    format!(
                        "`{what}` is {}: comparing it with `{op}` to {} is always {outcome}",
                        if a.is_composite() { a.name() } else { b.name() },
                        other.name()
                    ),
                    Some("compare one of its properties, or its `toJSON()`".into()),
                );
            }
            return;
        }
        for (side, t) in [(l, a), (r, b)] {
            if matches!(t, Ty::Bool | Ty::Null) || t.is_composite() {
                let what = self.source(side.span);
                self.warn(
                    "expression-type",
                    side.span,
                    format!("`{what}` is {}: ordering it with `{op}` makes no sense", t.name()),
                    Some("`<`, `<=`, `>`, `>=` compare numbers and strings".into()),
                );
                return;
            }
        }
    }
}

fn literal(v: &Value) -> Ty {
    match v {
        Value::Null => Ty::Null,
        Value::Bool(_) => Ty::Bool,
        Value::Number(_) => Ty::Number,
        Value::String(_) => Ty::String,
        Value::Array(_) | Value::Object(_) => Ty::Any,
    }
}
