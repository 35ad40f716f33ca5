//! An expression that could not be parsed or evaluated, with where it is in the pipeline file
//! (`p.yml:7:13`) when the text came from one.

use std::fmt;

use crate::source::Pos;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalFailure {
    pub message: String,
    /// File and position of the failing expression, when known.
    pub at: Option<(String, Pos)>,
}

impl EvalFailure {
    pub fn new(message: impl Into<String>) -> Self {
        EvalFailure { message: message.into(), at: None }
    }

    /// `file:line:col: what: message`: the failure explained as part of a bigger thing.
    pub fn describe(&self, what: &str) -> String {
        match &self.at {
            Some((path, pos)) => format!("{path}:{pos}: {what}: {}", self.message),
            None => format!("{what}: {}", self.message),
        }
    }
}

impl fmt::Display for EvalFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some((path, pos)) => write!(f, "{path}:{pos}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for EvalFailure {}

impl From<EvalFailure> for String {
    fn from(f: EvalFailure) -> String {
        f.to_string()
    }
}
