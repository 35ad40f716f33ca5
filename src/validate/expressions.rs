//! Checks of `${{ }}` expressions. The expression engine (`crate::expr`) does the parsing; this
//! file walks every place of the pipeline where GitHub evaluates an expression.

use crate::diagnostic::Diagnostic;
use crate::model::{Env, Pipeline, Text};
use crate::source::Source;

pub fn check(p: &Pipeline, source: &Source, out: &mut Vec<Diagnostic>) {
    for text in texts(p) {
        unterminated(text, source, out);
    }
}

/// Every string of the pipeline that may hold an expression.
fn texts(p: &Pipeline) -> Vec<&Text> {
    let mut v: Vec<&Text> = Vec::new();
    v.extend(p.run_name.iter());
    v.extend(env(&p.env));
    for job in &p.jobs {
        v.extend(job.name.iter().chain(job.condition.iter()).chain(job.runs_on.iter()));
        v.extend(job.outputs.iter().map(|(_, t)| t));
        v.extend(env(&job.env));
        if let Some(e) = &job.environment {
            v.push(&e.name);
            v.extend(e.url.iter());
        }
        for step in &job.steps {
            v.extend(step.name.iter().chain(step.condition.iter()).chain(step.run.iter()));
            v.extend(step.with.iter().map(|(_, t)| t));
            v.extend(env(&step.env));
            v.extend(step.working_directory.iter());
        }
    }
    v
}

fn env(e: &Env) -> impl Iterator<Item = &Text> {
    e.pairs().iter().map(|(_, v)| v)
}

fn unterminated(text: &Text, source: &Source, out: &mut Vec<Diagnostic>) {
    let value = &text.value;
    let mut from = 0;
    while let Some(i) = value[from..].find("${{") {
        let start = from + i;
        match value[start + 3..].find("}}") {
            Some(j) => from = start + 3 + j + 2,
            None => {
                let at = value[..start].chars().count();
                out.push(
                    Diagnostic::error(
                        "expression-unterminated",
                        text.span_of(source, at, at + 3),
                        "`${{` is never closed",
                    )
                    .with_help("close the expression with `}}`"),
                );
                return;
            }
        }
    }
}
