//! Matrices known only at run time (`matrix: ${{ fromJSON(needs.setup.outputs.matrix) }}`):
//! the evaluated value is split into axes, `include` and `exclude`, then expanded like a static one.

use serde_json::{Map, Value as Json};

pub fn expand_value(value: &Json) -> Result<Vec<Map<String, Json>>, String> {
    let Json::Object(m) = value else {
        return Err(format!("a matrix must evaluate to a mapping, got {value}"));
    };
    let rows = |key: &str| -> Result<Vec<Map<String, Json>>, String> {
        match m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v) {
            None | Some(Json::Null) => Ok(Vec::new()),
            Some(Json::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_object().cloned().ok_or_else(|| format!("matrix `{key}` entries must be mappings"))
                })
                .collect(),
            Some(other) => Err(format!("matrix `{key}` must be a list, got {other}")),
        }
    };
    let mut axes = Vec::new();
    for (k, v) in m {
        if k.eq_ignore_ascii_case("include") || k.eq_ignore_ascii_case("exclude") {
            continue;
        }
        match v {
            Json::Array(values) => axes.push((k.clone(), values.clone())),
            other => return Err(format!("matrix axis `{k}` must be a list, got {other}")),
        }
    }
    crate::plan::matrix::expand(&axes, &rows("include")?, &rows("exclude")?)
}
