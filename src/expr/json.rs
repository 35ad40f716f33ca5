//! JSON conversions: `serde_json` interop, `fromJSON` parsing and the
//! pretty printer behind `toJSON`.
//!
//! `toJSON` output mimics the runner (Newtonsoft.Json, indented): two-space
//! indentation, `"key": value`, `[]`/`{}` for empty containers, integral
//! numbers without a fraction and non-finite numbers as bare `NaN`/`Infinity`.

use std::fmt::Write;

use super::value::Value;

impl From<serde_json::Value> for Value {
    fn from(json: serde_json::Value) -> Self {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => Value::Array(items.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(map) => {
                Value::Object(map.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl From<&serde_json::Value> for Value {
    fn from(json: &serde_json::Value) -> Self {
        Value::from(json.clone())
    }
}

impl Value {
    /// Converts to `serde_json`; integral numbers become JSON integers and
    /// non-finite numbers (not representable in JSON) become `null`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => match as_integer(*n) {
                Some(i) => serde_json::Value::from(i),
                None => serde_json::Number::from_f64(*n)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null),
            },
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => serde_json::Value::Array(items.iter().map(Value::to_json).collect()),
            Value::Object(pairs) => {
                serde_json::Value::Object(pairs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Parses JSON text into a value (the `fromJSON` function).
    pub fn from_json_str(text: &str) -> Result<Value, String> {
        serde_json::from_str::<serde_json::Value>(text).map(Value::from).map_err(|e| e.to_string())
    }

    /// Pretty-printed JSON exactly as GitHub's `toJSON` renders it.
    pub fn to_json_pretty(&self) -> String {
        let mut out = String::new();
        write_pretty(self, 0, &mut out);
        out
    }
}

/// Integral values that fit in an `i64` print without a fraction, as the
/// runner stores such numbers as integers before serialising.
fn as_integer(n: f64) -> Option<i64> {
    // 2^63 as f64 is exact; values at or beyond it do not fit.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.is_finite() && n.fract() == 0.0 && (-LIMIT..LIMIT).contains(&n) {
        // In range and integral, so the conversion is exact.
        Some(n as i64)
    } else {
        None
    }
}

fn write_number(n: f64, out: &mut String) {
    if let Some(i) = as_integer(n) {
        let _ = write!(out, "{i}");
    } else if n.is_nan() {
        out.push_str("NaN");
    } else if n.is_infinite() {
        out.push_str(if n > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        // Shortest round-trip form, like .NET's "R" format.
        let _ = write!(out, "{n:?}");
    }
}

fn write_string(s: &str, out: &mut String) {
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        // Serialising a &str cannot fail; keep a sane fallback anyway.
        Err(_) => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
    }
}

fn indent(level: usize, out: &mut String) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_pretty(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(*n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                indent(level + 1, out);
                write_pretty(item, level + 1, out);
            }
            out.push('\n');
            indent(level, out);
            out.push(']');
        }
        Value::Object(pairs) if pairs.is_empty() => out.push_str("{}"),
        Value::Object(pairs) => {
            out.push_str("{\n");
            for (i, (key, item)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                indent(level + 1, out);
                write_string(key, out);
                out.push_str(": ");
                write_pretty(item, level + 1, out);
            }
            out.push('\n');
            indent(level, out);
            out.push('}');
        }
    }
}
