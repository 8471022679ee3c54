//! Failures and their exit codes.

use std::io;
use std::process::ExitCode;

use heapsift_output::OutputError;
use heapsift_query::QueryError;
use heapsift_store::OpenError;

/// Why a command failed; each becomes one line on stderr and an exit code.
#[derive(Debug)]
pub enum Failure {
    /// Bad input or usage (exit 2): `heapsift: <message>`.
    BadInput(String),
    /// The dump has nothing for the request (exit 1): `heapsift: <message>`.
    NothingFound(String),
    /// Writing the report failed (exit 2), except a closed pipe, which ends
    /// the run quietly as other Unix tools do.
    Output(io::Error),
}

impl Failure {
    /// Prints the failure and returns its exit code.
    pub fn report(self) -> ExitCode {
        match self {
            Failure::BadInput(message) => {
                eprintln!("heapsift: {message}");
                ExitCode::from(2)
            }
            Failure::NothingFound(message) => {
                eprintln!("heapsift: {message}");
                ExitCode::from(1)
            }
            Failure::Output(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Failure::Output(err) => {
                eprintln!("heapsift: cannot write the report: {err}");
                ExitCode::from(2)
            }
        }
    }
}

impl Failure {
    /// What failing to write an output file means to the user: `what`
    /// (`OUT: cannot write`) and why, as bad input (exit 2) rather than a
    /// report that could not be printed.
    pub fn when_writing(self, what: &str) -> Failure {
        match self {
            Failure::Output(e) => Failure::BadInput(format!("{what}: {e}")),
            other => other,
        }
    }
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Self {
        Failure::Output(err)
    }
}

impl From<OpenError> for Failure {
    fn from(err: OpenError) -> Self {
        Failure::BadInput(err.to_string())
    }
}

impl From<OutputError> for Failure {
    fn from(err: OutputError) -> Self {
        Failure::BadInput(err.to_string())
    }
}

impl From<QueryError> for Failure {
    fn from(err: QueryError) -> Self {
        match err {
            QueryError::Invalid(message) => Failure::BadInput(message),
            QueryError::NotFound(message) => Failure::NothingFound(message),
        }
    }
}
