//! A job's `strategy:` turned into its legs: one leg, the expanded matrix, or "known at run time"
//! when any part of the matrix is an expression (the expression engine runs later, in the runner).

use serde_json::{Map, Value as Json};

use super::matrix;
use super::{Leg, Legs};
use crate::expr::Location;
use crate::model::{AxisValues, Flag, Job, Matrix, MatrixRow, Number};
use crate::scope::{EvalFailure, Scope};

/// The legs of a job. A matrix with expressions is evaluated in `scope` when it can be (plan time
/// knows `inputs`, `vars` and `github`, not `needs`); otherwise it is expanded at run time.
pub fn legs(job: &Job, scope: Option<&Scope>) -> Result<Legs, String> {
    let Some(strategy) = &job.strategy else { return Ok(Legs::Single) };
    let Some(m) = &strategy.matrix else { return Ok(Legs::Single) };
    let combos = match first_expression(m) {
        None => static_combos(m)?,
        Some(expression) => match scope.map(|s| evaluate(job, s)) {
            Some(Ok(combos)) => combos,
            _ => return Ok(Legs::Dynamic { expression }),
        },
    };
    let name = job.display_name();
    let legs = combos
        .into_iter()
        .map(|c| Leg { name: matrix::leg_name(name, &c), matrix: c, ..Leg::default() })
        .collect();
    Ok(Legs::Matrix {
        legs,
        fail_fast: fail_fast(&strategy.fail_fast),
        max_parallel: max_parallel(&strategy.max_parallel),
    })
}

/// The combinations of a job's matrix with every expression in it evaluated in `scope` (at
/// `jobs.<job_id>.strategy`): a whole-matrix expression, an axis, a value inside a list, an
/// `include`/`exclude` list or a value in one of their rows.
pub fn evaluate(job: &Job, scope: &Scope) -> Result<Vec<Map<String, Json>>, String> {
    let Some(m) = job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) else { return Ok(Vec::new()) };
    let at = Location::JobStrategy;
    let value = |v: &Json| deep(scope, v);
    let axes = match m {
        Matrix::Expr(t) => {
            let v = scope.value(at, t).map_err(|e| e.describe("the matrix cannot be evaluated"))?;
            return crate::plan::matrix::expand_value(&v);
        }
        Matrix::Axes(a) => a,
    };
    let mut lists = Vec::with_capacity(axes.axes.len());
    for (name, values) in &axes.axes {
        let items = match values {
            AxisValues::Expr(t) => match scope.value(at, t).map_err(|e| e.describe("a matrix axis"))? {
                Json::Array(items) => items,
                other => return Err(format!("matrix axis `{}` must be a list, got {other}", name.value)),
            },
            AxisValues::List(items) => items
                .iter()
                .map(value)
                .collect::<Result<_, _>>()
                .map_err(|e| e.describe(&format!("matrix axis `{}`", name.value)))?,
        };
        lists.push((name.value.clone(), items));
    }
    let rows_of = |rows: &[MatrixRow], expr: &Option<crate::model::Text>, key: &str| {
        if let Some(t) = expr {
            let v = scope.value(at, t).map_err(|e| e.describe(&format!("matrix `{key}`")))?;
            return crate::plan::matrix::rows_of(&v, key);
        }
        rows.iter()
            .map(|r| {
                r.entries
                    .iter()
                    .map(|(k, v)| Ok((k.value.clone(), value(v)?)))
                    .collect::<Result<Map<_, _>, EvalFailure>>()
                    .map_err(|e| e.describe(&format!("matrix `{key}`")))
            })
            .collect()
    };
    let include = rows_of(&axes.include, &axes.include_expr, "include")?;
    let exclude = rows_of(&axes.exclude, &axes.exclude_expr, "exclude")?;
    matrix::expand(&lists, &include, &exclude)
}

/// The `strategy` context of leg `index` of `total`.
pub fn strategy_context(legs: &Legs, index: usize, total: usize) -> Json {
    let (fail_fast, max_parallel) = match legs {
        Legs::Matrix { fail_fast, max_parallel, .. } => (*fail_fast, max_parallel.unwrap_or(total)),
        _ => (true, total),
    };
    serde_json::json!({
        "fail-fast": fail_fast,
        "job-index": index,
        "job-total": total,
        "max-parallel": max_parallel.min(total),
    })
}

/// A value with every string inside evaluated as a template.
fn deep(scope: &Scope, v: &Json) -> Result<Json, EvalFailure> {
    Ok(match v {
        Json::String(s) if s.contains("${{") => scope.value_str(Location::JobStrategy, s)?,
        Json::Array(items) => Json::Array(items.iter().map(|i| deep(scope, i)).collect::<Result<_, _>>()?),
        Json::Object(m) => Json::Object(
            m.iter().map(|(k, v)| Ok((k.clone(), deep(scope, v)?))).collect::<Result<_, EvalFailure>>()?,
        ),
        other => other.clone(),
    })
}

fn static_combos(m: &Matrix) -> Result<Vec<Map<String, Json>>, String> {
    let Matrix::Axes(axes) = m else { return Ok(Vec::new()) };
    let lists: Vec<(String, Vec<Json>)> = axes
        .axes
        .iter()
        .filter_map(|(n, v)| match v {
            AxisValues::List(items) => Some((n.value.clone(), items.clone())),
            AxisValues::Expr(_) => None,
        })
        .collect();
    matrix::expand(&lists, &rows(&axes.include), &rows(&axes.exclude))
}

/// Whether a job's matrix has expressions (the runner evaluates it again with everything the
/// run knows; plan time lacks e.g. `github.repository`).
pub fn is_evaluated(job: &Job) -> bool {
    job.strategy.as_ref().and_then(|s| s.matrix.as_ref()).is_some_and(|m| first_expression(m).is_some())
}

/// The first `${{ }}` of a matrix (shown by `pipe plan` when it is expanded at run time).
fn first_expression(m: &Matrix) -> Option<String> {
    let axes = match m {
        Matrix::Expr(t) => return Some(t.value.clone()),
        Matrix::Axes(a) => a,
    };
    if let Some(t) = axes.include_expr.as_ref().or(axes.exclude_expr.as_ref()) {
        return Some(t.value.clone());
    }
    for (_, values) in &axes.axes {
        match values {
            AxisValues::Expr(t) => return Some(t.value.clone()),
            AxisValues::List(items) => {
                if let Some(e) = items.iter().find_map(expression_in) {
                    return Some(e);
                }
            }
        }
    }
    axes.include
        .iter()
        .chain(&axes.exclude)
        .flat_map(|r| r.entries.iter().map(|(_, v)| v))
        .find_map(expression_in)
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
        legs(&p.jobs[0], None).expect("legs")
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
