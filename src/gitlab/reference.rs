//! `!reference [job, key, ...]` tags: replaced by the value found at that path of the
//! configuration (after includes, before `extends`, as GitLab resolves them). A reference may
//! point at a value that holds references itself, up to a depth bound; a loop is reported.

use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, Value};

const TAG: &str = "!reference";
const MAX_DEPTH: usize = 10;

/// Resolve every `!reference` of `root` in place.
pub fn resolve(root: &mut Node, out: &mut Vec<Diagnostic>) {
    let original = root.clone();
    resolve_in(root, &original, 0, out);
}

fn resolve_in(node: &mut Node, root: &Node, depth: usize, out: &mut Vec<Diagnostic>) {
    if node.tag.as_deref() == Some(TAG) {
        match lookup(node, root, depth, out) {
            Some(found) => *node = found,
            None => node.tag = None,
        }
        return;
    }
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(|n| resolve_in(n, root, depth, out)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, v)| resolve_in(v, root, depth, out)),
    }
}

fn lookup(tagged: &Node, root: &Node, depth: usize, out: &mut Vec<Diagnostic>) -> Option<Node> {
    let path: Option<Vec<&str>> =
        tagged.as_seq().map(|items| items.iter().filter_map(Node::as_str).collect());
    let Some(path) = path.filter(|p| !p.is_empty() && p.len() == tagged.as_seq().map_or(0, <[Node]>::len))
    else {
        out.push(Diagnostic::error(
            "reference-invalid",
            tagged.span,
            "`!reference` takes a list of names: [job, key, ...]",
        ));
        return None;
    };
    let shown = format!("!reference [{}]", path.join(", "));
    if depth >= MAX_DEPTH {
        out.push(Diagnostic::error(
            "reference-invalid",
            tagged.span,
            format!("`{shown}` is nested more than {MAX_DEPTH} levels deep (a reference loop?)"),
        ));
        return None;
    }
    let mut at = root;
    for (i, name) in path.iter().enumerate() {
        match at.get(name) {
            Some(next) => at = next,
            None => {
                let what = if i == 0 {
                    "no job or key".to_string()
                } else {
                    format!("`{}` has no key", path[..i].join("."))
                };
                out.push(Diagnostic::error(
                    "reference-unknown",
                    tagged.span,
                    format!("`{shown}`: {what} `{name}`"),
                ));
                return None;
            }
        }
    }
    let mut found = at.clone();
    resolve_in(&mut found, root, depth + 1, out);
    found.span = tagged.span;
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Node, Vec<String>) {
        let (root, diags) = crate::yaml::parse_with(text, crate::yaml::Dialect::Gitlab);
        assert!(diags.is_empty(), "{diags:?}");
        let mut root = root.unwrap();
        let mut out = Vec::new();
        resolve(&mut root, &mut out);
        (root, out.iter().map(|d| format!("{}:{} {}", d.span.start.line, d.span.start.col, d.rule)).collect())
    }

    #[test]
    fn replaces_with_the_referenced_value() {
        let (root, diags) =
            run(".setup:\n  script: [a, b]\njob:\n  script:\n    - !reference [.setup, script]\n    - c\n");
        assert!(diags.is_empty());
        let script = root.get("job").unwrap().get("script").unwrap().as_seq().unwrap();
        assert_eq!(script[0].as_seq().unwrap().len(), 2);
        assert_eq!(script[1].as_str(), Some("c"));
    }

    #[test]
    fn nested_references_and_errors() {
        let (root, diags) = run(
            ".a: {x: [1]}\n.b: {y: !reference [.a, x]}\njob:\n  z: !reference [.b, y]\n  w: !reference [.b, nope]\n",
        );
        assert_eq!(root.get("job").unwrap().get("z").unwrap().as_seq().unwrap()[0].as_str(), Some("1"));
        assert_eq!(diags, vec!["5:6 reference-unknown"]);
    }

    #[test]
    fn a_loop_is_reported_not_followed_forever() {
        let (_, diags) = run(".a: {x: !reference [.a, x]}\n");
        assert_eq!(diags, vec!["1:9 reference-invalid"]);
    }
}
