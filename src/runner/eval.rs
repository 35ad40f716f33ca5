//! The runner's one door to the expression engine: interpolate a string, evaluate a value, decide
//! an `if:`. Errors come back as plain messages; the runner turns them into failed steps or jobs.

use serde_json::Value as Json;

use crate::expr::{self, MapContext};

/// A string with `${{ }}` parts, interpolated.
pub fn text(s: &str, ctx: &MapContext) -> Result<String, String> {
    if !s.contains("${{") {
        return Ok(s.to_string());
    }
    let t = expr::parse_template(s).map_err(|e| e.to_string())?;
    expr::interpolate(&t, ctx).map_err(|e| e.to_string())
}

/// A value: `${{ expr }}` alone gives the expression's value (an object, a number...), anything
/// else gives the interpolated string.
pub fn value(s: &str, ctx: &MapContext) -> Result<Json, String> {
    let t = expr::parse_template(s).map_err(|e| e.to_string())?;
    expr::evaluate_template(&t, ctx).map(|v| v.to_json()).map_err(|e| e.to_string())
}

/// An `if:` (absent = `success()`), with GitHub's implicit `success() &&`.
pub fn condition(s: Option<&str>, ctx: &MapContext) -> Result<bool, String> {
    let c = expr::parse_condition(s.unwrap_or("")).map_err(|e| e.to_string())?;
    expr::evaluate_condition(&c, ctx).map_err(|e| e.to_string())
}

/// Whether a condition calls a status function (then a failed need does not skip the job).
pub fn uses_status_function(s: Option<&str>) -> bool {
    match s.map(expr::parse_condition) {
        Some(Ok(expr::Condition::Expression(e))) => expr::uses_status_function(&e),
        _ => false,
    }
}
