//! What pipe itself could not do (as opposed to a wrong pipeline, which is a `Diagnostic`, or a
//! failed job, which is an outcome). Every variant maps to one exit code in one place.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong command-line usage that clap could not catch.
    #[error("{message}")]
    Usage { message: String, hint: Option<String> },

    /// The pipeline has errors; diagnostics were already printed.
    #[error("{path}: the pipeline has {count} error(s); nothing was run")]
    InvalidPipeline { path: String, count: usize },

    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The Docker daemon is unreachable or answered with an error.
    #[error("docker: {message}")]
    Docker { message: String, hint: Option<String> },

    /// An image is not present locally and could not be pulled.
    #[error("image `{image}` is not available: {message}")]
    ImageUnavailable { image: String, message: String, hint: String },

    /// Anything else pipe needs from its environment (git, a state dir, a process spawn).
    #[error("{message}")]
    Environment { message: String, hint: Option<String> },

    /// Stopped by a cancellation (Ctrl-C) before it could finish.
    #[error("cancelled")]
    Cancelled,

    /// The named run does not exist or is ambiguous.
    #[error("{message}")]
    RunNotFound { message: String },
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage { message: message.into(), hint: None }
    }

    pub fn env(message: impl Into<String>) -> Self {
        Error::Environment { message: message.into(), hint: None }
    }

    pub fn docker(message: impl Into<String>) -> Self {
        Error::Docker { message: message.into(), hint: None }
    }

    /// A one-line suggestion printed under the error.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Usage { hint, .. } | Error::Docker { hint, .. } | Error::Environment { hint, .. } => {
                hint.as_deref()
            }
            Error::ImageUnavailable { hint, .. } => Some(hint),
            Error::RunNotFound { .. } => Some("`pipe runs` lists the runs in this state directory"),
            _ => None,
        }
    }

    /// Exit code per SPEC: every error of pipe itself is 2; a cancellation is an interruption.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Cancelled => crate::exit_code::INTERRUPTED,
            _ => crate::exit_code::ERROR,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
