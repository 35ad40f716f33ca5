//! End-to-end tests of the `pipe` binary.

mod test;

mod plan;
mod schema;
mod validate;
