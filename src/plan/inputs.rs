//! `workflow_dispatch` inputs: the `--input NAME=VALUE` values checked against the declared inputs
//! and completed with defaults, typed as GitHub types them in the `inputs` context.
//!
//! Decisions where the docs are silent: an optional input with no default and no value is `false`
//! (boolean), `0` (number) or `""` (others), as for `workflow_call`; booleans are exactly
//! `true`/`false`.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::Error;
use crate::diagnostic::did_you_mean;
use crate::model::Input;

/// The `inputs` context for `declared` inputs given the `--input` values.
pub fn resolve(declared: &[Input], given: &BTreeMap<String, String>) -> Result<Map<String, Json>, Error> {
    for name in given.keys() {
        if !declared.iter().any(|i| i.name.value == *name) {
            let hint = match did_you_mean(name, declared.iter().map(|i| i.name.as_str())) {
                Some(s) => format!("did you mean `{s}`?"),
                None if declared.is_empty() => "the workflow declares no workflow_dispatch inputs".into(),
                None => format!("declared inputs: {}", names(declared)),
            };
            return Err(Error::Usage { message: format!("unknown input `{name}`"), hint: Some(hint) });
        }
    }
    let mut out = Map::new();
    for input in declared {
        let name = input.name.as_str();
        let value = match (given.get(name), &input.default) {
            (Some(v), _) => typed(input, v)?,
            (None, Some(d)) => typed(input, &default_text(d))?,
            (None, None) if input.required => {
                return Err(Error::Usage {
                    message: format!("input `{name}` is required"),
                    hint: Some(format!("give it with --input {name}=VALUE")),
                });
            }
            (None, None) => empty(input),
        };
        out.insert(name.to_string(), value);
    }
    Ok(out)
}

/// `inputs` for events other than `workflow_dispatch`: giving `--input` there is a mistake.
pub fn refuse(event: &str, given: &BTreeMap<String, String>) -> Result<Map<String, Json>, Error> {
    if given.is_empty() {
        return Ok(Map::new());
    }
    Err(Error::Usage {
        message: format!("--input is only used by workflow_dispatch, not by `{event}`"),
        hint: Some("add --event workflow_dispatch".into()),
    })
}

fn names(declared: &[Input]) -> String {
    declared.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// A YAML default as the text a user would type.
fn default_text(d: &Json) -> String {
    match d {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// The value of an optional input nobody gave.
fn empty(input: &Input) -> Json {
    match input.kind.as_str() {
        "boolean" => Json::Bool(false),
        "number" => Json::from(0),
        _ => Json::String(String::new()),
    }
}

/// `value` checked and converted for the input's type.
fn typed(input: &Input, value: &str) -> Result<Json, Error> {
    let name = input.name.as_str();
    let bad = |what: String, hint: String| Error::Usage {
        message: format!("input `{name}`: {what}"),
        hint: Some(hint),
    };
    match input.kind.as_str() {
        "boolean" => match value {
            "true" => Ok(Json::Bool(true)),
            "false" => Ok(Json::Bool(false)),
            _ => Err(bad(format!("`{value}` is not a boolean"), "use true or false".into())),
        },
        "number" => number(value)
            .ok_or_else(|| bad(format!("`{value}` is not a number"), "give a number, e.g. 3 or 2.5".into())),
        "choice" => {
            if input.options.iter().any(|o| o == value) {
                Ok(Json::String(value.to_string()))
            } else {
                Err(bad(
                    format!("`{value}` is not one of the options"),
                    format!("options: {}", input.options.join(", ")),
                ))
            }
        }
        // string, environment (an environment name), and anything the validator let through.
        _ => Ok(Json::String(value.to_string())),
    }
}

/// A finite number; integers stay integers in JSON.
fn number(value: &str) -> Option<Json> {
    let v = value.trim();
    if let Ok(i) = v.parse::<i64>() {
        return Some(Json::from(i));
    }
    let f = v.parse::<f64>().ok().filter(|f| f.is_finite())?;
    serde_json::Number::from_f64(f).map(Json::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Text;

    fn input(name: &str, kind: &str, required: bool, default: Option<Json>, options: &[&str]) -> Input {
        Input {
            name: Text { value: name.into(), ..Text::default() },
            description: None,
            required,
            default,
            kind: kind.into(),
            options: options.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn declared() -> Vec<Input> {
        vec![
            input("level", "choice", true, Some(Json::from("info")), &["info", "warning", "debug"]),
            input("dry", "boolean", false, None, &[]),
            input("count", "number", false, Some(Json::from(3)), &[]),
            input("who", "string", false, None, &[]),
            input("target", "environment", false, None, &[]),
        ]
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// One row per case: given inputs, expected `inputs` (as JSON) or the error message.
    macro_rules! cases {
        ($($name:ident: [$(($k:expr, $v:expr)),*] => $want:expr;)+) => {
            $(
                #[test]
                fn $name() {
                    let got = resolve(&declared(), &given(&[$(($k, $v)),*]))
                        .map(Json::Object)
                        .map_err(|e| e.to_string());
                    assert_eq!(got, $want);
                }
            )+
        };
    }

    fn ok(v: Json) -> Result<Json, String> {
        Ok(v)
    }

    cases! {
        defaults: [] => ok(serde_json::json!({"level": "info", "dry": false, "count": 3, "who": "", "target": ""}));
        all_given: [("level", "debug"), ("dry", "true"), ("count", "2.5"), ("who", "me"), ("target", "prod")]
            => ok(serde_json::json!({"level": "debug", "dry": true, "count": 2.5, "who": "me", "target": "prod"}));
        bad_choice: [("level", "loud")] => Err("input `level`: `loud` is not one of the options".into());
        bad_bool: [("dry", "yes")] => Err("input `dry`: `yes` is not a boolean".into());
        bad_number: [("count", "many")] => Err("input `count`: `many` is not a number".into());
        unknown: [("levle", "info")] => Err("unknown input `levle`".into());
    }

    #[test]
    fn required_without_default() {
        let d = vec![input("version", "string", true, None, &[])];
        let err = resolve(&d, &BTreeMap::new()).unwrap_err();
        assert_eq!(err.to_string(), "input `version` is required");
        assert_eq!(err.hint(), Some("give it with --input version=VALUE"));
    }

    #[test]
    fn unknown_input_suggests() {
        let err = resolve(&declared(), &given(&[("levle", "x")])).unwrap_err();
        assert_eq!(err.hint(), Some("did you mean `level`?"));
    }

    #[test]
    fn boolean_default_from_yaml() {
        let d = vec![input("dry", "boolean", false, Some(Json::Bool(true)), &[])];
        assert_eq!(resolve(&d, &BTreeMap::new()).unwrap()["dry"], Json::Bool(true));
    }

    #[test]
    fn inputs_refused_for_push() {
        assert!(refuse("push", &given(&[("a", "b")])).is_err());
        assert!(refuse("push", &BTreeMap::new()).unwrap().is_empty());
    }
}
