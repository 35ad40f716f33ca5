//! A caller's `with:` values as the called workflow's `inputs` context: unknown names refused,
//! required ones demanded, defaults filled in, every value of its declared type.
//!
//! Where the docs are silent: an optional input nobody gives and without a default is `false`,
//! `0` or `""` by its type (as GitHub's runner does); a string from an expression converts to a
//! boolean input when it is `true`/`false` and to a number input when it is a number.

use serde_json::{Map, Value as Json};

use super::interface::Interface;
use crate::model::Text;
use crate::yaml::{Scalar, Typed};

/// What a `with:` value is when it holds no expression: YAML's core types for a plain scalar, a
/// string when quoted. `None` for a value with `${{ }}` (known when the job runs).
pub fn literal(text: &Text) -> Option<Json> {
    if text.value.contains("${{") {
        return None;
    }
    let scalar = Scalar { text: text.value.clone(), style: text.style };
    Some(match scalar.typed() {
        Typed::Null => Json::Null,
        Typed::Bool(b) => Json::Bool(b),
        Typed::Int(i) => Json::from(i),
        Typed::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        Typed::Str(s) => Json::String(s.to_string()),
    })
}

/// Why a literal does not fit an input of type `kind` (GitHub checks the type of literals
/// strictly; a number or boolean is fine for a string input).
pub fn literal_mismatch(kind: &str, value: &Json) -> Option<String> {
    let fits = match kind {
        "boolean" => value.is_boolean(),
        "number" => value.is_number(),
        _ => !value.is_array() && !value.is_object(),
    };
    (!fits).then(|| format!("{} is not a {kind}", describe(value)))
}

/// `value` converted to an input of type `kind`.
pub fn coerce(kind: &str, value: Json) -> Result<Json, String> {
    let bad = |v: &Json| Err(format!("{} is not a {kind}", describe(v)));
    match kind {
        "boolean" => match &value {
            Json::Bool(_) => Ok(value),
            Json::String(s) if s.eq_ignore_ascii_case("true") => Ok(Json::Bool(true)),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Ok(Json::Bool(false)),
            v => bad(v),
        },
        "number" => match &value {
            Json::Number(_) => Ok(value),
            Json::String(s) => match crate::expr::parse_number(s) {
                n if n.is_finite() && !s.trim().is_empty() => Ok(number(n)),
                _ => bad(&value),
            },
            v => bad(v),
        },
        _ => match value {
            Json::String(_) => Ok(value),
            Json::Null => Ok(Json::String(String::new())),
            Json::Bool(b) => Ok(Json::String(b.to_string())),
            Json::Number(n) => Ok(Json::String(n.to_string())),
            v => bad(&v),
        },
    }
}

/// The `inputs` context of a call: `given` are the evaluated `with:` values; `default` turns a
/// declared default into its value (defaults may hold expressions).
pub fn resolve(
    interface: &Interface,
    given: &[(String, Json)],
    default: impl Fn(&Json) -> Result<Json, String>,
) -> Result<Map<String, Json>, String> {
    for (name, _) in given {
        if interface.input(name).is_none() {
            return Err(format!(
                "input `{name}` is not declared by the called workflow's `on.workflow_call.inputs`"
            ));
        }
    }
    let mut out = Map::new();
    for decl in &interface.inputs {
        let name = decl.name.as_str();
        let kind = decl.kind();
        let value = match (given.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)), &decl.default) {
            (Some((_, v)), _) => v.clone(),
            // GitHub ignores the default of a required input: the caller must give it.
            (None, _) if decl.required => {
                return Err(format!("input `{name}` is required by the called workflow"));
            }
            (None, Some((d, _))) => default(d)?,
            (None, None) => empty(kind),
        };
        let value = coerce(kind, value).map_err(|e| format!("input `{name}`: {e}"))?;
        out.insert(name.to_string(), value);
    }
    Ok(out)
}

fn empty(kind: &str) -> Json {
    match kind {
        "boolean" => Json::Bool(false),
        "number" => Json::from(0),
        _ => Json::String(String::new()),
    }
}

fn number(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

fn describe(v: &Json) -> String {
    match v {
        Json::String(s) => format!("`{s}` (a string)"),
        Json::Bool(b) => format!("`{b}` (a boolean)"),
        Json::Number(n) => format!("`{n}` (a number)"),
        Json::Null => "null".into(),
        Json::Array(_) => "a list".into(),
        Json::Object(_) => "a mapping".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One row per case: input type, value → converted value, or the error.
    macro_rules! coerce_cases {
        ($($name:ident: $kind:expr, $v:expr => $want:expr;)+) => {
            $( #[test] fn $name() { assert_eq!(coerce($kind, $v), $want); } )+
        };
    }

    coerce_cases! {
        bool_stays: "boolean", json!(true) => Ok(json!(true));
        bool_from_text: "boolean", json!("false") => Ok(json!(false));
        bool_refuses_word: "boolean", json!("yes") => Err("`yes` (a string) is not a boolean".into());
        number_stays: "number", json!(2.5) => Ok(json!(2.5));
        number_from_text: "number", json!("42") => Ok(json!(42));
        number_refuses: "number", json!("many") => Err("`many` (a string) is not a number".into());
        string_from_number: "string", json!(3) => Ok(json!("3"));
        string_from_bool: "string", json!(true) => Ok(json!("true"));
        string_refuses_map: "string", json!({"a": 1}) => Err("a mapping is not a string".into());
    }

    fn text(v: &str, style: crate::yaml::Style) -> Text {
        Text { value: v.into(), style, ..Text::default() }
    }

    #[test]
    fn literals() {
        use crate::yaml::Style::*;
        assert_eq!(literal(&text("3", Plain)), Some(json!(3)));
        assert_eq!(literal(&text("3", SingleQuoted)), Some(json!("3")));
        assert_eq!(literal(&text("true", Plain)), Some(json!(true)));
        assert_eq!(literal(&text("${{ inputs.x }}", Plain)), None);
        assert_eq!(literal_mismatch("number", &json!("x")), Some("`x` (a string) is not a number".into()));
        assert_eq!(literal_mismatch("string", &json!(3)), None);
    }

    fn interface() -> Interface {
        let yaml = "on:\n  workflow_call:\n    inputs:\n      n: {type: number, default: 3}\n      who: {type: string, required: true}\n      dry: {type: boolean}\njobs: {}\n";
        let (root, _) = crate::yaml::parse(yaml);
        super::super::interface::parse(&root.unwrap()).unwrap()
    }

    #[test]
    fn resolve_fills_defaults_and_types() {
        let got = resolve(&interface(), &[("who".into(), json!("me"))], |d| Ok(d.clone())).unwrap();
        assert_eq!(Json::Object(got), json!({"n": 3, "who": "me", "dry": false}));
    }

    #[test]
    fn resolve_refuses() {
        let i = interface();
        assert_eq!(
            resolve(&i, &[], |d| Ok(d.clone())),
            Err("input `who` is required by the called workflow".into())
        );
        let unknown =
            resolve(&i, &[("who".into(), json!("a")), ("nope".into(), json!(1))], |d| Ok(d.clone()));
        assert!(unknown.unwrap_err().contains("`nope` is not declared"));
        let typed = resolve(&i, &[("who".into(), json!("a")), ("n".into(), json!("x"))], |d| Ok(d.clone()));
        assert_eq!(typed, Err("input `n`: `x` (a string) is not a number".into()));
    }
}
