//! The exit codes of SPEC.md, named, in one place.

use crate::event::RunResult;

/// Success (for `validate`: no errors; warnings allowed).
pub const SUCCESS: i32 = 0;
/// A job failed (for `validate`: errors found).
pub const FAILURE: i32 = 1;
/// Usage error, unreadable or invalid pipeline, environment problem.
pub const ERROR: i32 = 2;
/// The run is paused at an approval gate and nobody could answer.
pub const WAITING: i32 = 3;
/// Interrupted (Ctrl-C): running containers and processes were stopped and removed.
pub const INTERRUPTED: i32 = 130;

/// How a run's result ends the process.
pub fn of_run(result: RunResult) -> i32 {
    match result {
        RunResult::Success => SUCCESS,
        RunResult::Failure => FAILURE,
        RunResult::Waiting => WAITING,
        RunResult::Cancelled => INTERRUPTED,
        // The Docker daemon or a job container was lost: an environment problem.
        RunResult::Interrupted => ERROR,
    }
}
