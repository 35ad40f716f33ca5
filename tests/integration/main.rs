//! End-to-end tests of the `pipe` binary.

mod test;

mod actions;
mod concurrency;
mod gates_config;
mod gates_run;
mod git_host;
mod plan;
mod remote_actions;
mod run_docker;
mod run_host;
mod schema;
mod validate;
