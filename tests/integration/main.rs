//! End-to-end tests of the `pipe` binary.

mod test;

mod run_host;
mod schema;
mod validate;
