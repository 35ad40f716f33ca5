//! `pipe plan FILE`: validate, resolve the context (git, flags, payload), build the plan, print it.
//! Exit 0 whenever a plan could be made, also for a workflow that `on:` does not trigger.

use std::path::Path;

use crate::Error;
use crate::cli::{ExecutorChoice, PlanFormat, Selection};
use crate::diagnostic::Severity;
use crate::output::Ui;
use crate::plan;

pub fn run(ui: &Ui, file: &Path, select: &Selection, format: PlanFormat) -> Result<i32, Error> {
    let pipeline = checked_pipeline(ui, file)?;
    // `pipe plan` has no --executor flag: plan like `auto` (Docker), as `pipe run` would by default.
    let input = plan::context::plan_input(file, select, ExecutorChoice::Auto)?;
    let plan = plan::build(&pipeline, &input)?;
    ui.stdout(&plan::render::render(&plan, format));
    Ok(0)
}

/// The validated pipeline; errors are printed and refuse the plan, warnings are printed.
pub fn checked_pipeline(ui: &Ui, file: &Path) -> Result<crate::model::Pipeline, Error> {
    let checked = super::validate::check_file(file)?;
    let errors = checked.errors();
    if errors > 0 || checked.pipeline.is_none() {
        eprint!("{}", crate::render::text(std::slice::from_ref(&checked), ui.color_stderr()));
        return Err(Error::InvalidPipeline { path: checked.source.path.clone(), count: errors.max(1) });
    }
    for d in checked.diagnostics.iter().filter(|d| d.severity != Severity::Error) {
        if !ui.quiet {
            eprintln!("{}", crate::render::text_one(&checked.source, d, ui.color_stderr()));
        }
    }
    checked.pipeline.ok_or_else(|| Error::InvalidPipeline { path: checked.source.path.clone(), count: 1 })
}
