//! What a reusable workflow declares under `on.workflow_call`: its inputs (typed, with defaults),
//! the secrets it expects, and its outputs (each with the expression that gives its value).
//! Read from the node tree, keeping the spans `pipe validate` points at.

use serde_json::Value as Json;

use crate::model::Text;
use crate::source::Span;
use crate::yaml::{Node, Typed, Value};

#[derive(Debug, Clone, Default)]
pub struct Interface {
    /// The `workflow_call` key.
    pub span: Span,
    pub inputs: Vec<InputDecl>,
    pub secrets: Vec<SecretDecl>,
    pub outputs: Vec<OutputDecl>,
}

#[derive(Debug, Clone)]
pub struct InputDecl {
    pub name: Text,
    /// `type:` as written (GitHub requires it: `boolean`, `number` or `string`).
    pub kind: Option<Text>,
    pub required: bool,
    /// `default:` as a value, with its span.
    pub default: Option<(Json, Span)>,
    /// The span of the input's whole entry.
    pub span: Span,
}

impl InputDecl {
    /// The declared type; `string` when none is given (the validator reports the omission).
    pub fn kind(&self) -> &str {
        self.kind.as_ref().map_or("string", |k| k.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct SecretDecl {
    pub name: Text,
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct OutputDecl {
    pub name: Text,
    /// `value:`, an expression over `jobs.<id>.outputs`; `None` when missing (an error).
    pub value: Option<Text>,
}

impl Interface {
    pub fn input(&self, name: &str) -> Option<&InputDecl> {
        self.inputs.iter().find(|i| i.name.value.eq_ignore_ascii_case(name))
    }

    pub fn secret(&self, name: &str) -> Option<&SecretDecl> {
        self.secrets.iter().find(|s| s.name.value.eq_ignore_ascii_case(name))
    }

    pub fn output(&self, name: &str) -> Option<&OutputDecl> {
        self.outputs.iter().find(|o| o.name.value.eq_ignore_ascii_case(name))
    }
}

/// The interface of a workflow file, or `None` when `on:` has no `workflow_call`.
pub fn parse(root: &Node) -> Option<Interface> {
    let on = root.get("on")?;
    match &on.value {
        Value::Scalar(_) => (on.as_str() == Some("workflow_call"))
            .then(|| Interface { span: on.span, ..Interface::default() }),
        Value::Seq(items) => items
            .iter()
            .find(|i| i.as_str() == Some("workflow_call"))
            .map(|i| Interface { span: i.span, ..Interface::default() }),
        Value::Map(_) => {
            let key = on.key_node("workflow_call")?;
            let body = on.get("workflow_call")?;
            Some(Interface {
                span: key.span,
                inputs: entries(body.get("inputs")).filter_map(|(k, v)| input(k, v)).collect(),
                secrets: entries(body.get("secrets"))
                    .filter_map(|(k, v)| {
                        Some(SecretDecl { name: text(k)?, required: flag(v.get("required")) })
                    })
                    .collect(),
                outputs: entries(body.get("outputs"))
                    .filter_map(|(k, v)| {
                        Some(OutputDecl { name: text(k)?, value: v.get("value").and_then(text) })
                    })
                    .collect(),
            })
        }
    }
}

fn entries(node: Option<&Node>) -> impl Iterator<Item = (&Node, &Node)> {
    node.and_then(Node::as_map).unwrap_or_default().iter().map(|(k, v)| (k, v))
}

fn text(node: &Node) -> Option<Text> {
    let s = node.as_scalar()?;
    (!node.is_null()).then(|| Text { value: s.text.clone(), span: node.span, style: s.style })
}

fn flag(node: Option<&Node>) -> bool {
    matches!(node.and_then(Node::typed), Some(Typed::Bool(true)))
}

fn input(key: &Node, node: &Node) -> Option<InputDecl> {
    Some(InputDecl {
        name: text(key)?,
        kind: node.get("type").and_then(text),
        required: flag(node.get("required")),
        default: node.get("default").map(|d| (crate::load::to_json(d), d.span)),
        span: Span::new(key.span.start, node.span.end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interface(on: &str) -> Option<Interface> {
        let yaml = format!("on:{on}\njobs: {{}}\n");
        let (root, _) = crate::yaml::parse(&yaml);
        parse(&root.expect("root"))
    }

    #[test]
    fn declarations_with_spans() {
        let i = interface(
            "\n  workflow_call:\n    inputs:\n      n: {type: number, default: 3}\n      who: {type: string, required: true}\n    secrets:\n      token: {required: true}\n      extra:\n    outputs:\n      image: {value: '${{ jobs.b.outputs.i }}'}\n      broken: {description: x}\n",
        )
        .expect("interface");
        assert_eq!(i.span.start.line, 2);
        assert_eq!(i.inputs.len(), 2);
        assert_eq!(i.input("N").map(InputDecl::kind), Some("number"));
        assert_eq!(i.inputs[0].default.as_ref().map(|d| d.0.clone()), Some(Json::from(3)));
        assert!(i.input("who").is_some_and(|w| w.required));
        assert!(i.secret("token").is_some_and(|s| s.required));
        assert!(i.secret("extra").is_some_and(|s| !s.required));
        assert_eq!(
            i.output("image").and_then(|o| o.value.clone()).map(|v| v.value),
            Some("${{ jobs.b.outputs.i }}".into())
        );
        assert!(i.output("broken").is_some_and(|o| o.value.is_none()));
    }

    #[test]
    fn forms_of_on() {
        assert!(interface(" workflow_call").is_some());
        assert!(interface(" [push, workflow_call]").is_some());
        assert!(interface("\n  workflow_call:").is_some());
        assert!(interface(" push").is_none());
        assert!(interface("\n  push:\n  workflow_dispatch:").is_none());
    }
}
