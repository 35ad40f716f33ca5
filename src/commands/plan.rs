//! `pipe plan FILE`: validate, resolve the context (git, flags, payload), build the plan, print it.
//! Exit 0 whenever a plan could be made, also for a workflow that `on:` does not trigger.

use std::path::Path;

use crate::Error;
use crate::cli::{ExecutorChoice, PlanFormat, Selection};
use crate::output::Ui;
use crate::plan;

pub fn run(ui: &Ui, file: &Path, select: &Selection, format: PlanFormat) -> Result<i32, Error> {
    // `pipe plan` has no --executor flag: plan like `auto` (Docker), as `pipe run` would by default.
    let mut input = plan::context::plan_input(file, select, ExecutorChoice::Auto)?;
    let vars = super::pairs(&select.vars, "--var")?;
    let context = super::Context { input: &input, vars: &vars, secret_names: Vec::new() };
    let (pipeline, config) = super::load_valid(ui, file, select.syntax, &context)?;
    if let Some(c) = &config {
        input.platforms.extend(c.platforms.iter().cloned());
    }
    let mut plan = plan::build(&pipeline, &input)?;
    plan::describe_gates(&mut plan, config.as_ref(), &select.approve);
    ui.stdout(&plan::render::render(&plan, format));
    Ok(0)
}
