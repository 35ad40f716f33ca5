//! `pipe plan FILE`: validate, resolve the context (git, flags, payload), build the plan, print it.
//! Exit 0 whenever a plan could be made, also for a workflow that `on:` does not trigger.

use std::path::Path;

use crate::Error;
use crate::cli::{ActionArgs, ExecutorChoice, PlanFormat, Selection};
use crate::output::Ui;
use crate::plan;
use crate::runner::inventory::Inventory;

pub fn run(
    ui: &Ui,
    file: &Path,
    select: &Selection,
    format: PlanFormat,
    actions: &ActionArgs,
) -> Result<i32, Error> {
    // `pipe plan` has no --executor flag: plan like `auto` (Docker), as `pipe run` would by default.
    let mut input = plan::context::plan_input(file, select, ExecutorChoice::Auto)?;
    let vars = super::pairs(&select.vars, "--var")?;
    let context = super::Context { input: &input, vars: &vars, secret_names: Vec::new() };
    let (pipeline, config) = super::load_valid(ui, file, select.syntax, &context)?;
    if let Some(c) = &config {
        input.platforms.extend(c.platforms.iter().cloned());
    }
    // Remote called workflows are read from the action cache only: planning never fetches.
    input.actions = super::action_sources(actions, config.as_ref())?;
    let mut plan = plan::build(&pipeline, &input)?;
    plan::describe_gates(&mut plan, config.as_ref(), &select.approve);
    let fetcher = crate::fetch::Fetcher::new(input.actions.clone());
    let inventory = super::action_inventory(&pipeline, &plan, &fetcher, config.as_ref(), false);
    let rendered = plan::render::render(&plan, format);
    ui.stdout(&match format {
        PlanFormat::Text => format!("{rendered}{}", actions_text(&plan, &inventory)),
        PlanFormat::Json => with_actions_json(&rendered, &plan, &inventory),
        PlanFormat::Mermaid | PlanFormat::Dot => rendered,
    });
    Ok(crate::exit_code::SUCCESS)
}

/// The remote reusable workflows and actions of the plan and whether each is in the cache
/// (empty when there are none).
pub fn actions_text(plan: &plan::Plan, inventory: &Inventory) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let calls = plan::call::remote_calls(plan);
    if !calls.is_empty() {
        let _ = write!(out, "\n{} remote workflow(s):\n", calls.len());
        for call in calls {
            let state = call.remote.as_ref().map(plan::call::remote_state).unwrap_or_default();
            let _ = writeln!(out, "  {}: {state}", call.uses);
        }
    }
    if inventory.actions.is_empty() {
        return out;
    }
    let _ = write!(out, "\n{} remote action(s):\n", inventory.actions.len());
    for (uses, needed) in &inventory.actions {
        let state = match &needed.found {
            Ok(c) if c.origin == crate::fetch::Origin::Local => format!("local folder {}", c.root.display()),
            Ok(c) => format!("cached at {}", crate::fetch::cache::short(&c.sha)),
            Err(_) => "not cached (pipe run fetches it; --offline would stop)".to_string(),
        };
        let using = needed.using.as_deref().map(|u| format!(", {u}")).unwrap_or_default();
        let jobs: Vec<&str> = needed.jobs.iter().map(String::as_str).collect();
        let _ = writeln!(out, "  {uses}: {state}{using} (jobs: {})", jobs.join(", "));
    }
    out
}

/// The JSON plan with an `actions` list (`uses`, `cached`, `sha`, `using`, `jobs`) and a
/// `workflows` list of remote reusable workflows (`uses`, `cached`, `sha`).
fn with_actions_json(rendered: &str, plan: &plan::Plan, inventory: &Inventory) -> String {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(rendered) else {
        return rendered.to_string();
    };
    let actions: Vec<serde_json::Value> = inventory
        .actions
        .iter()
        .map(|(uses, n)| {
            let found = n.found.as_ref().ok();
            serde_json::json!({
                "uses": uses,
                "cached": found.is_some(),
                "sha": found.map(|c| c.sha.clone()),
                "using": n.using,
                "jobs": n.jobs,
            })
        })
        .collect();
    value["actions"] = serde_json::Value::Array(actions);
    let workflows = plan::call::remote_calls(plan)
        .into_iter()
        .map(|c| {
            let r = c.remote.as_ref();
            serde_json::json!({
                "uses": c.uses,
                "cached": r.is_some_and(|r| r.cached),
                "sha": r.and_then(|r| r.sha.clone()),
            })
        })
        .collect();
    value["workflows"] = serde_json::Value::Array(workflows);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| rendered.to_string());
    if rendered.ends_with('\n') {
        text.push('\n');
    }
    text
}
