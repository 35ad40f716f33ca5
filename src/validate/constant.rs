//! `if:` conditions whose value is fixed before the run: no context, no status function, no
//! `hashFiles()`, only literals and operators (`if: 1 == 2`, `if: ${{ 'a' != 'b' }}`). A lone
//! `true` or `false` is left alone: that is how a job or step is switched on or off on purpose.

use crate::diagnostic::Diagnostic;
use crate::expr::{self, Expr, ExprKind};
use crate::source::Span;

pub fn check_if(e: &Expr, at: Span, out: &mut Vec<Diagnostic>) {
    if is_literal(e) || !is_constant(e) {
        return;
    }
    let Ok(value) = expr::evaluate(e, &expr::MapContext::new()) else { return };
    let (always, effect) = if value.is_truthy() {
        ("true", "the condition can be left out")
    } else {
        ("false", "this never runs")
    };
    out.push(
        Diagnostic::warning("if-constant", at, format!("this `if:` is always {always}: it reads no context"))
            .with_help(format!("{effect}; compare a context value, e.g. `github.ref == 'refs/heads/main'`")),
    );
}

fn is_literal(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Literal(_) => true,
        ExprKind::Group(inner) => is_literal(inner),
        _ => false,
    }
}

fn is_constant(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Context(_) => false,
        // Status functions read the run; hashFiles reads the workspace; the others are pure.
        ExprKind::Call { name, .. }
            if expr::functions::lookup(name).is_none_or(|f| f.is_status || f.name == "hashFiles") =>
        {
            false
        }
        _ => e.children().into_iter().all(is_constant),
    }
}
