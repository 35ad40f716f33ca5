//! The JSON Schema of the pipeline format, generated from the same description the checks use.
//! `schemas/pipeline.schema.json` is this output, committed; a test fails when they differ.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Object, Shape, WORKFLOW};

pub fn json_schema() -> Value {
    let mut defs = BTreeMap::new();
    let root = shape_schema(&WORKFLOW, &mut defs);
    let mut schema = Map::new();
    schema.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    schema.insert("$id".into(), json!("https://pipe.dev/schemas/pipeline.schema.json"));
    schema.insert("title".into(), json!("pipe pipeline (GitHub Actions workflow syntax)"));
    if let Value::Object(r) = root {
        schema.extend(r);
    }
    schema.insert("$defs".into(), Value::Object(defs.into_iter().collect()));
    Value::Object(schema)
}

/// Expressions are accepted wherever GitHub evaluates one in place of a boolean or a number.
fn expression() -> Value {
    json!({"type": "string", "pattern": "\\$\\{\\{"})
}

fn shape_schema(shape: &Shape, defs: &mut BTreeMap<String, Value>) -> Value {
    match shape {
        Shape::String => json!({"type": ["string", "number", "boolean"]}),
        Shape::Text => json!({"type": "string"}),
        Shape::Bool => json!({"oneOf": [{"type": "boolean"}, expression()]}),
        Shape::Number => json!({"oneOf": [{"type": "number"}, expression()]}),
        Shape::Enum(values) => json!({"enum": values}),
        Shape::Seq(item) => json!({"type": "array", "items": shape_schema(item, defs)}),
        Shape::Object(object) => object_ref(object, defs),
        Shape::OneOf(alternatives) => {
            let alts: Vec<Value> = alternatives.iter().map(|a| shape_schema(a, defs)).collect();
            json!({"anyOf": alts})
        }
        Shape::Any => json!({}),
        Shape::Null => json!({"type": "null"}),
        Shape::Expr => expression(),
    }
}

fn object_ref(object: &Object, defs: &mut BTreeMap<String, Value>) -> Value {
    if !defs.contains_key(object.name) {
        // Reserve the name first so recursive shapes terminate.
        defs.insert(object.name.to_string(), Value::Null);
        let mut properties = Map::new();
        for key in object.keys {
            let mut s = shape_schema(&key.shape, defs);
            if !key.description.is_empty()
                && let Value::Object(m) = &mut s
            {
                m.insert("description".into(), json!(key.description));
            }
            properties.insert(key.name.into(), s);
        }
        let required: Vec<&str> = object.keys.iter().filter(|k| k.required).map(|k| k.name).collect();
        let mut def = Map::new();
        def.insert("type".into(), json!("object"));
        def.insert("description".into(), json!(object.description));
        def.insert("properties".into(), Value::Object(properties));
        def.insert(
            "additionalProperties".into(),
            object.other_keys.map_or(json!(false), |s| shape_schema(s, defs)),
        );
        if !required.is_empty() {
            match object.required_unless {
                Some(unless) => {
                    def.insert("anyOf".into(), json!([{"required": required}, {"required": [unless]}]));
                }
                None => {
                    def.insert("required".into(), json!(required));
                }
            }
        }
        defs.insert(object.name.to_string(), Value::Object(def));
    }
    json!({"$ref": format!("#/$defs/{}", object.name)})
}
