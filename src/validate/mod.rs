//! `pipe validate`: every check over a loaded pipeline, one file per family of checks.

pub mod actions;
pub mod batch;
mod constant;
mod containers;
mod cron;
mod events;
mod expressions;
mod gates;
pub use gates::referenced_secrets;
mod inputs;
mod keys;
mod known_actions;
mod matrix;
mod payloads;
mod references;
pub mod reusable;
mod runners;
pub mod shellcheck;
mod structure;
mod types;

use crate::diagnostic::Diagnostic;
use crate::load::{Loaded, load};
use crate::model::Pipeline;
use crate::source::Source;

/// A file and everything found wrong with it.
pub struct Checked {
    pub source: Source,
    pub pipeline: Option<Pipeline>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// The file a diagnostic's span is in (this file, or one it includes).
    pub fn source_of(&self, span: crate::source::Span) -> &Source {
        match &self.pipeline {
            Some(p) => p.source_of(&self.source, span),
            None => &self.source,
        }
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == crate::diagnostic::Severity::Warning).count()
    }
}

/// Load and check one file. Never stops at the first problem.
pub fn check_source(source: Source) -> Checked {
    check_source_with_config(source, None)
}

/// Load and check one file, and its gates against pipe.toml when there is one.
pub fn check_source_with_config(source: Source, config: Option<&crate::gate::Config>) -> Checked {
    check_source_for(source, config, crate::gitlab::Syntax::Auto, None)
}

/// Load and check one file in the syntax given (or detected), for a pipeline context when one
/// is known (GitLab's rules depend on it; `None`: a push to the default branch).
pub fn check_source_for(
    source: Source,
    config: Option<&crate::gate::Config>,
    syntax: crate::gitlab::Syntax,
    context: Option<&crate::gitlab::Context>,
) -> Checked {
    check_source_calling(source, config, syntax, context, crate::reusable::Lookup::here())
}

/// [`check_source_for`], reading the workflows the file calls through `calls` (their folder, and
/// the action cache for remote ones).
pub fn check_source_calling(
    source: Source,
    config: Option<&crate::gate::Config>,
    syntax: crate::gitlab::Syntax,
    context: Option<&crate::gitlab::Context>,
    calls: crate::reusable::Lookup<'_>,
) -> Checked {
    if crate::gitlab::is_gitlab(&source.path, &source.text, syntax) {
        let default = crate::gitlab::Context::default();
        let ctx = context.unwrap_or(&default);
        let Loaded { pipeline, diagnostics: mut diags, .. } = crate::gitlab::load(&source, ctx);
        // The format-neutral checks: needs references and cycles, gates against pipe.toml.
        if let Some(p) = &pipeline {
            references::check(p, &mut diags);
            gates::check(p, &source, config, &mut diags);
        }
        return finish(source, pipeline, diags);
    }
    let Loaded { pipeline, root, diagnostics: mut diags } = load(&source);
    if let (Some(p), Some(root)) = (&pipeline, &root) {
        let declared: Vec<String> =
            config.map(|c| c.platforms.iter().map(|(label, _)| label.clone()).collect()).unwrap_or_default();
        structure::check(p, root, &mut diags);
        events::check(root, &source, &mut diags);
        inputs::check(root, &mut diags);
        runners::check(p, &declared, &mut diags);
        containers::check(p, &mut diags);
        matrix::check(root, &mut diags);
        references::check(p, &mut diags);
        let call_outputs = reusable::check(p, Some(root), calls, &mut diags);
        expressions::check(p, &source, &call_outputs, &mut diags);
        keys::check(p, &mut diags);
        gates::check(p, &source, config, &mut diags);
        actions::check(p, &source, &mut diags);
    }
    finish(source, pipeline, diags)
}

fn finish(source: Source, pipeline: Option<Pipeline>, mut diags: Vec<Diagnostic>) -> Checked {
    diags.sort_by(|a, b| {
        (a.span.file, a.span.start).cmp(&(b.span.file, b.span.start)).then(a.rule.cmp(b.rule))
    });
    diags.dedup();
    Checked { source, pipeline, diagnostics: diags }
}
