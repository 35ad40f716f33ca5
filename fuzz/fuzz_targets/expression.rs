//! The expression parser and evaluator on arbitrary text: a parse error or an evaluation error,
//! never a panic. Evaluated against a context with nested objects, arrays and odd numbers, so
//! property access, filters (`a.*.b`), comparisons and every function get exercised.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pipe::expr::{MapContext, Value, evaluate, evaluate_condition, interpolate, parse, parse_condition, parse_template};

fn from_json(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(items) => Value::Array(items.into_iter().map(from_json).collect()),
        serde_json::Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, from_json(v))).collect()),
    }
}

fn context() -> MapContext {
    let event = from_json(serde_json::json!({
        "pull_request": {"title": "fix: x", "number": 12, "labels": [{"name": "bug"}, {"name": "ci"}]},
        "inputs": {"n": "3", "flag": true, "empty": ""},
        "nums": [0, -0.0, 1e308, -1e-308, 0.1],
        "nested": {"a": {"b": {"c": [1, [2, [3]]]}}}
    }));
    MapContext::new()
        .with("github", Value::object([("event", event), ("ref", Value::from("refs/heads/main"))]))
        .with("env", Value::object([("A", Value::from("1")), ("B", Value::from(""))]))
        .with("matrix", Value::object([("os", Value::from("linux")), ("v", Value::from(3.12))]))
        .with("steps", Value::object::<String>([]))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ctx = context();
    if let Ok(expr) = parse(text) {
        let _ = evaluate(&expr, &ctx);
    }
    if let Ok(cond) = parse_condition(text) {
        let _ = evaluate_condition(&cond, &ctx);
    }
    if let Ok(template) = parse_template(text) {
        let _ = interpolate(&template, &ctx);
    }
});
