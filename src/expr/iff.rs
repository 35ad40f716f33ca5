//! `if:` conditions.
//!
//! GitHub's rules: a value that is exactly one `${{ … }}` (after trimming)
//! is that expression; a value without `${{` is an expression as written; a
//! value mixing text and `${{ }}` is a template, whose result is a
//! non-empty string and therefore always true — almost always a mistake,
//! so it gets its own variant for the validator to warn about. Unless the
//! expression calls a status function, `success() &&` is implied.

use super::analysis::uses_status_function;
use super::ast::Expr;
use super::context::{EvalContext, Status};
use super::error::{EvalError, ExprError};
use super::eval::{evaluate, interpolate};
use super::parser::parse;
use super::template::{Part, Template, parse_template};

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// An empty `if:`, which behaves like `success()`.
    Empty,
    Expression(Expr),
    /// Text around `${{ }}`: evaluates to a string, true whenever non-empty.
    AlwaysTrueTemplate(Template),
}

/// Parses an `if:` value; spans are character offsets into `src`.
pub fn parse_condition(src: &str) -> Result<Condition, ExprError> {
    if src.trim().is_empty() {
        return Ok(Condition::Empty);
    }
    if !src.contains("${{") {
        return parse(src).map(Condition::Expression);
    }
    let template = parse_template(src)?;
    let blank = |p: &Part| matches!(p, Part::Literal(t) if t.trim().is_empty());
    let mut significant = template.parts.iter().skip_while(|p| blank(p)).collect::<Vec<_>>();
    while significant.last().is_some_and(|p| blank(p)) {
        significant.pop();
    }
    if let [Part::Expr(expr)] = significant.as_slice() {
        return Ok(Condition::Expression(expr.clone()));
    }
    Ok(Condition::AlwaysTrueTemplate(template))
}

/// Evaluates a condition, applying the implicit `success() &&`.
pub fn evaluate_condition(cond: &Condition, ctx: &dyn EvalContext) -> Result<bool, EvalError> {
    let succeeded = ctx.status() == Status::Success;
    match cond {
        Condition::Empty => Ok(succeeded),
        Condition::Expression(expr) => {
            // Like `success() && (expr)`: the operand is not evaluated
            // once a previous failure already decided the result.
            if !uses_status_function(expr) && !succeeded {
                return Ok(false);
            }
            Ok(evaluate(expr, ctx)?.is_truthy())
        }
        Condition::AlwaysTrueTemplate(template) => {
            if !template.expressions().any(uses_status_function) && !succeeded {
                return Ok(false);
            }
            Ok(!interpolate(template, ctx)?.is_empty())
        }
    }
}
