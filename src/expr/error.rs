//! Error types: syntax errors from the lexer/parser/template scanner and
//! evaluation errors from the evaluator. Both carry a [`Span`] so callers can
//! underline the offending text.

use std::fmt;

use super::span::Span;

/// A syntax error: the text is not a valid expression or template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub message: String,
    pub span: Span,
}

/// A failure while evaluating a well-formed expression (bad JSON given to
/// `fromJSON`, an invalid `format` string, an unavailable context…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub message: String,
    pub span: Span,
}

impl ExprError {
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        ExprError { message: message.into(), span }
    }
}

impl EvalError {
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        EvalError { message: message.into(), span }
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at {}..{})", self.message, self.span.start, self.span.end)
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at {}..{})", self.message, self.span.start, self.span.end)
    }
}

impl std::error::Error for ExprError {}
impl std::error::Error for EvalError {}
