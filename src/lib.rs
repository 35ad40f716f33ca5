//! pipe: run GitHub-Actions-style pipelines on your own machine.
//!
//! The flow of data: `yaml` (text → spanned nodes) → `load` (nodes → `model`, with the `format`
//! shape checks) → `validate` (semantic checks) → `plan` → `runner` → `backend`, with `render`
//! and `report` turning diagnostics and events into text.

pub mod backend;
pub mod cli;
mod commands;
pub mod cores;
pub mod diagnostic;
pub mod error;
pub mod event;
pub mod exit_code;
pub mod expr;
pub mod fetch;
pub mod format;
pub mod gate;
pub mod gitlab;
pub mod graph;
pub mod load;
pub mod mask;
pub mod model;
pub mod output;
pub mod plan;
pub mod render;
pub mod report;
pub mod reusable;
pub mod runner;
pub mod scope;
pub mod source;
pub mod store;
pub mod validate;
pub mod yaml;

pub use error::Error;

use clap::Parser;

/// Entry point of the binary: parse arguments, run the command, map errors to exit codes.
pub fn main() -> i32 {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit_code::ERROR } else { exit_code::SUCCESS };
        }
    };
    // The commands that reach an engine choose it before any thread starts: the choice is
    // written to the environment.
    let needs_engine = matches!(
        cli.command,
        cli::Command::Run(_) | cli::Command::Resume { .. } | cli::Command::Rollback(_) | cli::Command::Prune
    );
    let chosen = if needs_engine { backend::engine::select(cli.global.engine) } else { Ok(()) };
    if let Err(err) = chosen {
        output::stderr(&format!("error: {err}\n"));
        if let Some(hint) = err.hint() {
            output::stderr(&format!("hint: {hint}\n"));
        }
        return err.exit_code();
    }
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            output::stderr(&format!("error: {err}\n"));
            if let Some(hint) = err.hint() {
                output::stderr(&format!("hint: {hint}\n"));
            }
            err.exit_code()
        }
    }
}
