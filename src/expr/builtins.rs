//! Implementations of the built-in functions. Names arrive in canonical
//! spelling (the parser resolved them through the function table), and
//! argument counts were checked at parse time.

use super::ast::Expr;
use super::compare::loose_eq;
use super::context::Status;
use super::error::EvalError;
use super::eval::Evaluator;
use super::span::Span;
use super::text::{contains_ignore_case, ends_with_ignore_case, starts_with_ignore_case};
use super::value::Value;

/// Upper bound on a string built by a function. Nesting `toJSON` or
/// `format('{0}{0}', …)` doubles the size at each level; GitHub also caps
/// expression memory, and the cap keeps hostile input from exhausting ours.
pub const MAX_STRING_BYTES: usize = 4 * 1024 * 1024;

pub(super) fn call<'a>(
    ev: &Evaluator<'a>,
    name: &str,
    args: &'a [Expr],
    span: Span,
) -> Result<Value, EvalError> {
    // Status functions take no arguments; `case` evaluates lazily.
    match name {
        "success" => return Ok(Value::Bool(ev.ctx().status() == Status::Success)),
        "failure" => return Ok(Value::Bool(ev.ctx().status() == Status::Failure)),
        "cancelled" => return Ok(Value::Bool(ev.ctx().status() == Status::Cancelled)),
        "always" => return Ok(Value::Bool(true)),
        "case" => return case(ev, args),
        _ => {}
    }
    let values = args.iter().map(|a| ev.arg(a)).collect::<Result<Vec<_>, _>>()?;
    let arg = |i: usize| values.get(i).map(|v| v.as_ref()).unwrap_or(&Value::Null);
    let err = |message: String| EvalError::new(message, span);
    let result = match name {
        "contains" => Value::Bool(contains(arg(0), arg(1))),
        "startsWith" => Value::Bool(
            arg(0).is_primitive()
                && arg(1).is_primitive()
                && starts_with_ignore_case(&arg(0).to_string(), &arg(1).to_string()),
        ),
        "endsWith" => Value::Bool(
            arg(0).is_primitive()
                && arg(1).is_primitive()
                && ends_with_ignore_case(&arg(0).to_string(), &arg(1).to_string()),
        ),
        "format" => {
            let rest: Vec<&Value> = values.iter().skip(1).map(|v| v.as_ref()).collect();
            Value::String(format(&arg(0).to_string(), &rest).map_err(err)?)
        }
        "join" => Value::String(join(arg(0), values.get(1).map(|v| v.as_ref()))),
        "toJSON" => Value::String(arg(0).to_json_pretty()),
        "fromJSON" => Value::from_json_str(&arg(0).to_string())
            .map_err(|e| err(format!("invalid JSON passed to `fromJSON`: {e}")))?,
        "hashFiles" => {
            let patterns: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            Value::String(ev.ctx().hash_files(&patterns).map_err(err)?)
        }
        other => return Err(err(format!("unknown function `{other}`"))),
    };
    match &result {
        Value::String(s) if s.len() > MAX_STRING_BYTES => Err(err(format!(
            "the result of `{name}` is larger than the {} MiB limit",
            MAX_STRING_BYTES / (1024 * 1024)
        ))),
        _ => Ok(result),
    }
}

/// Array: any element loosely equal to the item. Otherwise: case-insensitive
/// substring test on the string forms.
fn contains(search: &Value, item: &Value) -> bool {
    match search {
        Value::Array(items) => items.iter().any(|v| loose_eq(v, item)),
        _ => contains_ignore_case(&search.to_string(), &item.to_string()),
    }
}

/// Arrays join the string forms of their primitive elements (non-primitive
/// elements contribute an empty string); a primitive is returned as its
/// string form; an object gives "".
fn join(items: &Value, separator: Option<&Value>) -> String {
    let separator = match separator {
        Some(sep) if sep.is_primitive() => sep.to_string(),
        _ => ",".to_string(),
    };
    match items {
        Value::Array(items) => items
            .iter()
            .map(|v| if v.is_primitive() { v.to_string() } else { String::new() })
            .collect::<Vec<_>>()
            .join(&separator),
        Value::Object(_) => String::new(),
        primitive => primitive.to_string(),
    }
}

/// `case(pred1, val1, …, default)`: the value after the first truthy
/// predicate, else the default. Only the needed arguments are evaluated.
fn case<'a>(ev: &Evaluator<'a>, args: &'a [Expr]) -> Result<Value, EvalError> {
    let Some((default, pairs)) = args.split_last() else {
        return Ok(Value::Null);
    };
    for pair in pairs.chunks_exact(2) {
        if let [predicate, value] = pair
            && ev.arg(predicate)?.is_truthy()
        {
            return ev.arg(value).map(|v| v.into_owned());
        }
    }
    ev.arg(default).map(|v| v.into_owned())
}

/// `format('{0} {{x}}', a)`: `{N}` is replaced by argument N, `{{`/`}}`
/// are literal braces; anything else with a brace is an error.
pub(super) fn format(template: &str, args: &[&Value]) -> Result<String, String> {
    let invalid = |why: &str| format!("invalid format string `{template}`: {why}");
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '{' => {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                if chars.next() != Some('}') || digits.is_empty() {
                    return Err(invalid("expected `{N}` with N a number, or `{{` for a literal brace"));
                }
                let index: usize = digits.parse().map_err(|_| invalid("argument index is too large"))?;
                let value = args.get(index).ok_or_else(|| {
                    format!(
                        "format string `{template}` references argument {index} but only {} {} supplied",
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    )
                })?;
                out.push_str(&value.to_string());
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err(invalid("unmatched `}` (use `}}` for a literal brace)")),
            c => out.push(c),
        }
    }
    Ok(out)
}
