//! A job's `strategy:` turned into its legs: one leg, the expanded matrix, or "known at run time"
//! when any part of the matrix is an expression (the expression engine runs later, in the runner).

use serde_json::{Map, Value as Json};

use super::matrix;
use super::{Leg, Legs};
use crate::model::{AxisValues, Flag, Job, Matrix, MatrixRow, Number};

pub fn legs(job: &Job) -> Result<Legs, String> {
    let Some(strategy) = &job.strategy else { return Ok(Legs::Single) };
    let Some(m) = &strategy.matrix else { return Ok(Legs::Single) };
    let axes = match m {
        Matrix::Expr(t) => return Ok(Legs::Dynamic { expression: t.value.clone() }),
        Matrix::Axes(a) => a,
    };
    if let Some(t) = axes.include_expr.as_ref().or(axes.exclude_expr.as_ref()) {
        return Ok(Legs::Dynamic { expression: t.value.clone() });
    }
    let mut lists = Vec::with_capacity(axes.axes.len());
    for (name, values) in &axes.axes {
        match values {
            AxisValues::Expr(t) => return Ok(Legs::Dynamic { expression: t.value.clone() }),
            AxisValues::List(items) => {
                if let Some(e) = items.iter().find_map(expression_in) {
                    return Ok(Legs::Dynamic { expression: e });
                }
                lists.push((name.value.clone(), items.clone()));
            }
        }
    }
    let mut row_values =
        axes.include.iter().chain(&axes.exclude).flat_map(|r| r.entries.iter().map(|(_, v)| v));
    if let Some(e) = row_values.find_map(expression_in) {
        return Ok(Legs::Dynamic { expression: e });
    }
    let include = rows(&axes.include);
    let exclude = rows(&axes.exclude);
    let combos = matrix::expand(&lists, &include, &exclude)?;
    let name = job.display_name();
    let legs = combos.into_iter().map(|c| Leg { name: matrix::leg_name(name, &c), matrix: c }).collect();
    Ok(Legs::Matrix {
        legs,
        fail_fast: fail_fast(&strategy.fail_fast),
        max_parallel: max_parallel(&strategy.max_parallel),
    })
}

fn rows(rows: &[MatrixRow]) -> Vec<Map<String, Json>> {
    rows.iter().map(|r| r.entries.iter().map(|(k, v)| (k.value.clone(), v.clone())).collect()).collect()
}

/// The first `${{ }}` expression inside a value, if any.
fn expression_in(v: &Json) -> Option<String> {
    match v {
        Json::String(s) if s.contains("${{") => Some(s.clone()),
        Json::Array(items) => items.iter().find_map(expression_in),
        Json::Object(m) => m.values().find_map(expression_in),
        _ => None,
    }
}

/// `fail-fast` defaults to true; an expression is taken as the default until run time.
fn fail_fast(f: &Option<Flag>) -> bool {
    match f {
        Some(Flag::Value(b, _)) => *b,
        _ => true,
    }
}

fn max_parallel(n: &Option<Number>) -> Option<usize> {
    match n {
        Some(Number::Value(v, _)) if *v >= 1.0 && v.is_finite() => Some(*v as usize),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    fn job_legs(strategy: &str) -> Legs {
        let yaml = format!(
            "on: push\njobs:\n  test:\n    runs-on: x\n    strategy:\n{strategy}\n    steps: [{{run: x}}]\n"
        );
        let p = crate::load::load(&Source::new("t.yml", yaml)).pipeline.expect("pipeline");
        legs(&p.jobs[0]).expect("legs")
    }

    fn names(l: &Legs) -> Vec<String> {
        match l {
            Legs::Matrix { legs, .. } => legs.iter().map(|l| l.name.clone()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn static_matrix() {
        let l = job_legs(
            "      fail-fast: false\n      max-parallel: 2\n      matrix:\n        os: [linux, mac]\n        py: ['3.11', '3.12']\n        exclude:\n          - {os: mac, py: '3.11'}",
        );
        assert_eq!(names(&l), ["test (linux, 3.11)", "test (linux, 3.12)", "test (mac, 3.12)"]);
        assert!(matches!(l, Legs::Matrix { fail_fast: false, max_parallel: Some(2), .. }));
    }

    #[test]
    fn dynamic_forms() {
        for s in [
            "      matrix: ${{ fromJSON(needs.a.outputs.m) }}",
            "      matrix:\n        os: ${{ fromJSON(needs.a.outputs.os) }}",
            "      matrix:\n        os: [a, '${{ inputs.os }}']",
            "      matrix:\n        os: [a]\n        include: ${{ fromJSON(needs.a.outputs.i) }}",
        ] {
            assert!(matches!(job_legs(s), Legs::Dynamic { .. }), "{s}");
        }
    }

    #[test]
    fn no_matrix() {
        assert!(matches!(job_legs("      fail-fast: false"), Legs::Single));
    }
}
