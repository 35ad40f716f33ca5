//! Helpers shared by the end-to-end tests and the benchmarks that run `pipe` (they include this
//! folder with `#[path]`): starting `pipe` and reading its events ([`spawn`]), and a step that
//! prints a lot, run with pipe's memory sampled ([`printing`]).

pub mod printing;
pub mod spawn;
