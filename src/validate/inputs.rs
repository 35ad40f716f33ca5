//! Input definitions of `workflow_dispatch` and `workflow_call`: ids, `choice` inputs and their
//! `options`, defaults that do not fit the input's type, defaults of required inputs.

use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, Typed};

use super::structure::is_valid_id;

pub fn check(root: &Node, out: &mut Vec<Diagnostic>) {
    let Some(on) = root.get("on") else { return };
    for event in ["workflow_dispatch", "workflow_call"] {
        let Some(inputs) = on.get(event).and_then(|e| e.get("inputs")).and_then(Node::as_map) else {
            continue;
        };
        for (name, def) in inputs {
            input(event, name, def, out);
        }
        for section in ["outputs", "secrets"] {
            for (name, _) in
                on.get(event).and_then(|e| e.get(section)).and_then(Node::as_map).unwrap_or_default()
            {
                id(section, name, out);
            }
        }
    }
}

fn id(what: &str, name: &Node, out: &mut Vec<Diagnostic>) {
    if let Some(n) = name.as_str()
        && !is_valid_id(n)
    {
        out.push(
            Diagnostic::error("invalid-id", name.span, format!("invalid name `{n}` in `{what}`"))
                .with_help("a name starts with a letter or `_` and holds only letters, digits, `-` and `_`"),
        );
    }
}

fn input(event: &str, name: &Node, def: &Node, out: &mut Vec<Diagnostic>) {
    id("inputs", name, out);
    let n = name.as_str().unwrap_or_default();
    let kind = def.get("type").and_then(Node::as_str).unwrap_or("string");
    let options: Vec<&str> = def
        .get("options")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .collect();
    if kind == "choice" && options.is_empty() {
        out.push(
            Diagnostic::error(
                "input-options",
                name.span,
                format!("input `{n}` is a `choice` with no `options`"),
            )
            .with_help("list the choices: `options: [one, two]`"),
        );
    }
    if kind != "choice" && def.get("options").is_some() {
        out.push(
            Diagnostic::warning(
                "input-options",
                def.key_node("options").map_or(name.span, |k| k.span),
                format!("`options` of input `{n}` are ignored: its type is `{kind}`"),
            )
            .with_help("use `type: choice` for a list of choices"),
        );
    }
    let Some(default) = def.get("default") else { return };
    if default.as_str().is_some_and(|s| s.contains("${{")) {
        return;
    }
    let wrong = match (kind, default.typed()) {
        (_, Some(Typed::Null)) | (_, None) => None,
        ("boolean", Some(Typed::Bool(_))) => None,
        ("boolean", Some(Typed::Str(s))) if event == "workflow_dispatch" && (s == "true" || s == "false") => {
            None
        }
        ("boolean", _) => Some("`true` or `false`".to_string()),
        ("number", Some(Typed::Int(_) | Typed::Float(_))) => None,
        ("number", Some(Typed::Str(s)))
            if event == "workflow_dispatch" && s.trim().parse::<f64>().is_ok() =>
        {
            None
        }
        ("number", _) => Some("a number".to_string()),
        ("choice", _) => {
            let d = default.as_str().unwrap_or_default();
            (!options.is_empty() && !options.contains(&d))
                .then(|| format!("one of its options ({})", options.join(", ")))
        }
        _ => None,
    };
    if let Some(expected) = wrong {
        out.push(
            Diagnostic::error(
                "input-default",
                default.span,
                format!("the default of `{kind}` input `{n}` must be {expected}"),
            )
            .with_help("change the default or the input's `type`"),
        );
    }
    if event == "workflow_call"
        && matches!(def.get("required").and_then(Node::typed), Some(Typed::Bool(true)))
    {
        out.push(
            Diagnostic::warning(
                "input-default",
                default.span,
                format!("input `{n}` is required: its default is never used"),
            )
            .with_help("remove `default`, or make the input optional with `required: false`"),
        );
    }
}
