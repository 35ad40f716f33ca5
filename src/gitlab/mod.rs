//! GitLab CI as a second front end onto the same model. A `.gitlab-ci.yml` is read with merge
//! keys and tags kept (`yaml::Dialect::Gitlab`), its `include: local` files merged in, its
//! `!reference` tags and `extends` resolved, checked against the GitLab syntax table, and built
//! into the `model::Pipeline` the GitHub loader produces — for one pipeline context, since
//! `rules` and `workflow: rules` decide at plan time which jobs exist. Validation, planning,
//! running, gates, the store and the events are then shared.

mod build;
mod detect;
mod duration;
mod expand;
mod expr;
mod extends;
mod format;
mod include;
mod merge;
mod parallel;
mod predefined;
mod reference;
mod rules;
mod script;
mod values;

pub use detect::{FILE_NAME, Syntax, by_name, is_gitlab};
pub use predefined::{Context, pipeline_source};

use crate::diagnostic::Diagnostic;
use crate::load::Loaded;
use crate::source::{Source, Span};
use crate::yaml::{self, Dialect, Node, Value};

/// Load a GitLab CI file for the pipeline described by `ctx`.
pub fn load(source: &Source, ctx: &Context) -> Loaded {
    let (root, mut diagnostics) = yaml::parse_with(&source.text, Dialect::Gitlab);
    let Some(mut root) = root else {
        if diagnostics.is_empty() {
            diagnostics.push(Diagnostic::error(
                "missing-key",
                Span::default_at_start(),
                "the file is empty: a GitLab CI file needs at least one job with a `script`",
            ));
        }
        return Loaded { pipeline: None, root: None, diagnostics };
    };
    if root.as_map().is_none() {
        diagnostics.push(Diagnostic::error(
            "wrong-type",
            root.span,
            format!("a GitLab CI file is a mapping of jobs and settings, found {}", root.kind_name()),
        ));
        return Loaded { pipeline: None, root: Some(root), diagnostics };
    }
    merge::apply_merge_keys(&mut root);
    check_top(&root, &mut diagnostics);
    let check_included = |tree: &Node, _: &Source| {
        let mut out = Vec::new();
        let mut tree = tree.clone();
        merge::apply_merge_keys(&mut tree);
        check_top(&tree, &mut out);
        out
    };
    let included = include::resolve(&mut root, &ctx.project_dir, &check_included, &mut diagnostics);
    merge::apply_merge_keys(&mut root);
    reference::resolve(&mut root, &mut diagnostics);
    extends::resolve(&mut root, format::RESERVED, &mut diagnostics);
    let mut pipeline = build::pipeline(&root, source, ctx, &mut diagnostics);
    pipeline.included = included;
    if pipeline.jobs.is_empty() && pipeline.excluded.is_empty() {
        diagnostics.push(Diagnostic::error(
            "missing-key",
            root.span,
            "the file has no visible job (jobs are top-level keys with a `script`; `.hidden` ones are templates)",
        ));
    }
    Loaded { pipeline: Some(pipeline), root: Some(root), diagnostics }
}

/// Shape checks of the top-level settings (jobs are checked after `extends`).
fn check_top(root: &Node, out: &mut Vec<Diagnostic>) {
    for (k, v) in root.as_map().unwrap_or(&[]) {
        let Some(name) = k.as_str() else { continue };
        if let Some(key) = format::TOP.iter().find(|key| key.name == name) {
            let v = without_references(v);
            crate::format::check(&v, &key.shape, k.span, out);
        }
    }
}

/// The tree with `!reference` values left out: they are checked once resolved.
fn without_references(node: &Node) -> Node {
    let mut n = node.clone();
    fn strip(n: &mut Node) {
        match &mut n.value {
            Value::Scalar(_) => {}
            Value::Seq(items) => {
                items.retain(|i| i.tag.as_deref() != Some("!reference"));
                items.iter_mut().for_each(strip);
            }
            Value::Map(entries) => {
                entries.retain(|(_, v)| v.tag.as_deref() != Some("!reference"));
                entries.iter_mut().for_each(|(_, v)| strip(v));
            }
        }
    }
    strip(&mut n);
    n
}
