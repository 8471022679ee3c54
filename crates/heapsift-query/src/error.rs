//! Why a query has no answer.

use std::fmt;

/// A query that can't be answered, with a one-line message for people:
/// the CLI prints `heapsift: <message>`, the web API sends
/// `{"error": "<message>"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// The request is malformed, or its input can't be used (CLI exit 2,
    /// HTTP 400).
    Invalid(String),
    /// The dump has nothing for the request: no such generation, object or
    /// site (CLI exit 1, HTTP 404).
    NotFound(String),
}

impl QueryError {
    /// The message, without the kind.
    pub fn message(&self) -> &str {
        match self {
            QueryError::Invalid(message) | QueryError::NotFound(message) => message,
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for QueryError {}
