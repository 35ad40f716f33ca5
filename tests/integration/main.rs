//! End-to-end tests of the `pipe` binary.

mod test;

mod actions;
mod concurrency;
mod gates_config;
mod gates_run;
mod gitlab;
mod plan;
mod run_docker;
#[macro_use]
mod run_host;
mod run_gitlab;
mod schema;
mod validate;
