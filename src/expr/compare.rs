//! Loose equality and ordering.
//!
//! GitHub compares values of different primitive types by coercing both to
//! numbers; strings compare case-insensitively; arrays and objects are equal
//! only when they are the same instance, which a value-based evaluator can
//! never prove, so they are never equal; any comparison involving NaN is
//! false.

use std::cmp::Ordering;

use super::text::{cmp_ignore_case, eq_ignore_case};
use super::value::Value;

/// The `==` operator (and the element test of `contains` on arrays).
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => eq_ignore_case(x, y),
        _ if a.is_primitive() && b.is_primitive() => a.to_number() == b.to_number(),
        _ => false,
    }
}

/// Ordering for `<`, `<=`, `>` and `>=`; `None` means every relational
/// operator yields false (NaN involved, or an array/object operand).
pub fn loose_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(cmp_ignore_case(x, y)),
        _ if a.is_primitive() && b.is_primitive() => a.to_number().partial_cmp(&b.to_number()),
        _ => None,
    }
}
