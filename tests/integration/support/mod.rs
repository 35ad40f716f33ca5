//! Helpers shared by the end-to-end tests and the benchmarks that run `pipe` (they include this
//! folder with `#[path]`): starting `pipe` and reading its events ([`spawn`]), a step that
//! prints a lot, run with pipe's memory sampled ([`printing`]), and a run's Docker containers
//! ([`containers`]).

pub mod containers;
pub mod printing;
pub mod spawn;
