//! End-to-end tests of the `pipe` binary.

mod support;
mod test;

mod actions;
mod concurrency;
mod crash;
mod docker_ahead;
mod fidelity;
mod full_disk;
mod gates_config;
mod gates_run;
mod git_host;
mod gitlab;
mod known_actions;
mod lab;
mod lab_fixture;
mod large_graph;
mod masking;
mod output_volume;
mod plan;
mod prune;
mod reusable;
#[macro_use]
mod run_host;
mod remote_actions;
mod remote_engine;
mod remote_workflows;
mod run_docker;
mod run_gitlab;
mod run_legacy;
mod run_loop;
mod run_scope;
mod schema;
mod shellcheck;
mod terminal;
mod validate;
