//! `strategy.matrix`: repeated values of an axis, `include`/`exclude` entries that are not
//! mappings, `exclude` values no combination has, and a matrix with no combination at all.

use crate::diagnostic::Diagnostic;
use crate::load::to_json;
use crate::yaml::Node;

pub fn check(root: &Node, out: &mut Vec<Diagnostic>) {
    for (_, job) in root.get("jobs").and_then(Node::as_map).unwrap_or_default() {
        if let Some(m) = job.get("strategy").and_then(|s| s.get("matrix")) {
            matrix(m, out);
        }
    }
}

fn is_expression(n: &Node) -> bool {
    n.as_str().is_some_and(|s| s.contains("${{"))
}

fn matrix(m: &Node, out: &mut Vec<Diagnostic>) {
    let Some(entries) = m.as_map() else { return };
    let mut axes: Vec<(&str, Option<&[Node]>)> = Vec::new();
    for (k, v) in entries {
        let Some(name) = k.as_str() else { continue };
        if name == "include" || name == "exclude" {
            for row in v.as_seq().unwrap_or_default() {
                if row.as_map().is_none() && !is_expression(row) {
                    out.push(
                        Diagnostic::error(
                            "matrix-shape",
                            row.span,
                            format!(
                                "each `{name}` entry is a mapping of matrix keys to values, found {}",
                                row.kind_name()
                            ),
                        )
                        .with_help(format!("write `{name}: [{{os: ubuntu-latest, node: 20}}]`")),
                    );
                }
            }
            continue;
        }
        axes.push((name, v.as_seq()));
        if let Some(values) = v.as_seq() {
            duplicates(name, values, out);
            if values.is_empty() {
                out.push(
                    Diagnostic::error("matrix-shape", v.span, format!("matrix axis `{name}` has no values"))
                        .with_help("give the axis at least one value, or remove it"),
                );
            }
        }
    }
    let include = m.get("include");
    if axes.is_empty() && include.is_none_or(|i| i.as_seq().is_some_and(<[Node]>::is_empty)) {
        out.push(
            Diagnostic::error("matrix-shape", m.span, "the matrix defines no combination")
                .with_help("add an axis (`os: [ubuntu-latest]`) or an `include` entry"),
        );
    }
    excludes(m, &axes, include, out);
}

fn duplicates(axis: &str, values: &[Node], out: &mut Vec<Diagnostic>) {
    let json: Vec<_> = values.iter().map(to_json).collect();
    for (i, v) in values.iter().enumerate() {
        if let Some(first) = json[..i].iter().position(|j| *j == json[i]) {
            out.push(
                Diagnostic::warning(
                    "matrix-duplicate",
                    v.span,
                    format!("`{axis}` lists this value twice: the combination runs twice"),
                )
                .with_help(format!("first listed at line {}", values[first].span.start.line)),
            );
        }
    }
}

/// An `exclude` value that no axis value (nor any `include` value) has removes nothing.
fn excludes(m: &Node, axes: &[(&str, Option<&[Node]>)], include: Option<&Node>, out: &mut Vec<Diagnostic>) {
    let rows = m.get("exclude").and_then(Node::as_seq).unwrap_or_default();
    for row in rows {
        for (k, v) in row.as_map().unwrap_or_default() {
            let Some(key) = k.as_str() else { continue };
            // Unknown keys are `matrix-unknown-axis`; axes given as expressions are unknown here.
            let Some(Some(values)) = axes.iter().find(|(n, _)| *n == key).map(|(_, vals)| *vals) else {
                continue;
            };
            let wanted = to_json(v);
            let in_axis = values.iter().any(|x| to_json(x) == wanted || is_expression(x));
            let in_include = include
                .and_then(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .any(|r| r.get(key).is_some_and(|x| to_json(x) == wanted) || is_expression(r));
            if !in_axis && !in_include && !is_expression(v) {
                out.push(
                    Diagnostic::warning(
                        "matrix-exclude",
                        v.span,
                        format!("no combination has `{key}` = {wanted}: this exclude removes nothing"),
                    )
                    .with_help(format!(
                        "the values of `{key}`: {}",
                        values.iter().map(|x| to_json(x).to_string()).collect::<Vec<_>>().join(", ")
                    )),
                );
            }
        }
    }
}
