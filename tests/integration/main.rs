//! End-to-end tests of the `pipe` binary.

mod test;

mod schema;
mod validate;
