//! `${{ }}` in keys: GitHub evaluates expressions in values only (and in `env:` names), so an
//! expression in an output, input, service or matrix key is kept as its literal text, which is
//! never what was meant.

use crate::diagnostic::Diagnostic;
use crate::model::{CallSecrets, Matrix, Pipeline, Text};

pub fn check(p: &Pipeline, out: &mut Vec<Diagnostic>) {
    for job in &p.jobs {
        let keys = job
            .outputs
            .iter()
            .map(|(k, _)| (k, "an output name"))
            .chain(job.with.iter().map(|(k, _)| (k, "an input name")));
        let secrets = match &job.secrets {
            CallSecrets::Pairs(pairs) => pairs.iter().map(|(k, _)| (k, "a secret name")).collect(),
            _ => Vec::new(),
        };
        let services = job.services.iter().map(|(k, _)| (k, "a service id"));
        let axes = match job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) {
            Some(Matrix::Axes(m)) => m.axes.iter().map(|(k, _)| (k, "a matrix key")).collect(),
            _ => Vec::new(),
        };
        let steps = job.steps.iter().flat_map(|s| s.with.iter().map(|(k, _)| (k, "an input name")));
        for (key, what) in keys.chain(secrets).chain(services).chain(axes).chain(steps) {
            report(key, what, out);
        }
    }
}

fn report(key: &Text, what: &str, out: &mut Vec<Diagnostic>) {
    if key.value.contains("${{") {
        out.push(
            Diagnostic::warning(
                "expression-in-key",
                key.span,
                format!("`${{{{ }}}}` is not evaluated in {what}: the key is the text `{}`", key.value),
            )
            .with_help("write the key literally; expressions belong in values"),
        );
    }
}
