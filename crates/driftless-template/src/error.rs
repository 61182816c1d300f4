//! The crate's error: Go's message, and what kind of failure it was.

/// What failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The template text does not parse.
    Parse,
    /// Execution failed (a function's error, a wrong type, a missing template...).
    Exec,
    /// Execution was stopped by the budget ([`crate::Limits`]).
    Budget,
}

/// An error in Go's words: `template: NAME:LINE: ...` for parse errors,
/// `template: NAME:LINE:COL: executing "NAME" at <NODE>: ...` for execution errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn parse(message: String) -> Self {
        Error {
            kind: ErrorKind::Parse,
            message,
        }
    }

    pub(crate) fn exec(message: String) -> Self {
        Error {
            kind: ErrorKind::Exec,
            message,
        }
    }

    pub(crate) fn into_budget(self) -> Self {
        Error {
            kind: ErrorKind::Budget,
            ..self
        }
    }

    /// What failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Go's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}
