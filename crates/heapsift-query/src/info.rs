//! `info DUMP` and `/api/dumps/N/info`.

use heapsift_reports::{InfoReport, InfoSink};
use heapsift_store::Context;

/// What a dump holds, and what its context record says of the process
/// around it: `info DUMP`, which takes nothing more and always has an
/// answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InfoQuery;

impl InfoQuery {
    /// What a reading of the dump collects for this query.
    pub fn sink(&self) -> InfoSink {
        InfoSink::default()
    }

    /// The report of the dump named `dump` from its reading's sinks, with
    /// its context record (looked for at `context_url`), if it has one.
    pub fn report(
        &self,
        dump: &str,
        sinks: Vec<InfoSink>,
        context_url: Option<String>,
        context: Option<&Context>,
    ) -> InfoReport {
        InfoReport::new(dump.to_owned(), sinks, context_url, context)
    }
}
