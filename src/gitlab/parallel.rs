//! `parallel: N` (N copies with `CI_NODE_INDEX`/`CI_NODE_TOTAL`) and `parallel: matrix:` (one
//! job per combination of each row's values) as the shared model's matrix: each row becomes
//! include entries, so the planner and runner expand them like any matrix. Copies are
//! independent (no fail-fast), as in GitLab.

use serde_json::Value as Json;

use super::build::{lines, t};
use crate::model::{Flag, Matrix, MatrixAxes, MatrixRow, Strategy, Text};
use crate::source::Span;
use crate::yaml::{Node, Typed};

pub fn strategy(node: Option<&Node>, span: Span) -> Option<Strategy> {
    let rows = rows(node?, span)?;
    Some(Strategy {
        matrix: Some(Matrix::Axes(MatrixAxes { include: rows, ..MatrixAxes::default() })),
        fail_fast: Some(Flag::Value(false, span)),
        max_parallel: None,
    })
}

/// The variables each copy sees, from its matrix values.
pub fn env(node: Option<&Node>, span: Span) -> Vec<(Text, Text)> {
    let Some(rows) = node.and_then(|n| rows(n, span)) else { return Vec::new() };
    let mut names: Vec<String> = Vec::new();
    for r in &rows {
        for (k, _) in &r.entries {
            if !names.contains(&k.value) {
                names.push(k.value.clone());
            }
        }
    }
    names.into_iter().map(|n| (t(n.clone(), span), t(format!("${{{{ matrix.{n} }}}}"), span))).collect()
}

fn rows(node: &Node, span: Span) -> Option<Vec<MatrixRow>> {
    if let Some(Typed::Int(n)) = node.typed() {
        let n = n.clamp(1, 200);
        return Some(
            (1..=n)
                .map(|i| MatrixRow {
                    entries: vec![
                        (t("CI_NODE_INDEX", span), Json::String(i.to_string())),
                        (t("CI_NODE_TOTAL", span), Json::String(n.to_string())),
                    ],
                    span,
                })
                .collect(),
        );
    }
    let matrix = node.get("matrix")?.as_seq()?;
    let mut out = Vec::new();
    for row in matrix {
        let mut combos: Vec<Vec<(Text, Json)>> = vec![Vec::new()];
        for (k, v) in row.as_map().unwrap_or(&[]) {
            let Some(name) = k.as_str() else { continue };
            let values = lines(Some(v));
            let mut next = Vec::new();
            for c in &combos {
                for value in &values {
                    let mut c = c.clone();
                    c.push((t(name, k.span), Json::String(value.clone())));
                    next.push(c);
                }
            }
            combos = next;
        }
        out.extend(
            combos.into_iter().filter(|c| !c.is_empty()).map(|entries| MatrixRow { entries, span: row.span }),
        );
    }
    Some(out)
}
