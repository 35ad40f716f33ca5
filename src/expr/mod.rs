//! The GitHub Actions expression language (`${{ … }}`).
//!
//! - [`parse`] turns expression text into an [`Expr`]; [`parse_template`]
//!   splits a string with embedded `${{ }}` into a [`Template`];
//!   [`parse_condition`] applies the special rules of `if:` values.
//! - [`evaluate`], [`interpolate`], [`evaluate_template`] and
//!   [`evaluate_condition`] run them against an [`EvalContext`] (for
//!   example a [`MapContext`]).
//! - [`analysis`] and [`availability`] support static validation: which
//!   contexts and functions an expression uses, and where GitHub allows them.
//!
//! Semantics follow GitHub's "Evaluate expressions in workflows and
//! actions" reference: loose typing, case-insensitive string comparison and
//! property names, object filters (`a.*.b`), short-circuiting `&&`/`||`
//! that return operands. Spans are character offsets.

pub mod analysis;
mod ast;
pub mod availability;
mod builtins;
mod compare;
mod context;
mod error;
mod eval;
pub mod functions;
mod hashfiles;
mod iff;
mod json;
mod lexer;
mod parser;
mod span;
mod template;
mod text;
mod value;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_table;

pub use analysis::{Reference, Segment, calls, references, uses_status_function, value_references};
pub use ast::{CompareOp, Expr, ExprKind};
pub use availability::{Availability, Location, allowed};
pub use builtins::MAX_STRING_BYTES;
pub use compare::{loose_cmp, loose_eq};
pub use context::{EvalContext, MapContext, Status};
pub use error::{EvalError, ExprError};
pub use eval::{evaluate, evaluate_template, interpolate};
pub use functions::{FUNCTIONS, FunctionSpec};
pub use hashfiles::hash_files;
pub use iff::{Condition, evaluate_condition, parse_condition};
pub use parser::{MAX_DEPTH, parse, parse_at};
pub use span::Span;
pub use template::{Part, Template, parse_template};
pub use value::{Value, format_number, parse_number};
