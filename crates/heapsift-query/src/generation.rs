//! `read DUMP [GEN]`, `/api/dumps/N/summary` and
//! `/api/dumps/N/generations/GEN`.

use heapsift_reports::{
    GenerationReport, GenerationReports, GenerationSelector, GenerationSink, GenerationSummary,
    NoSuchGeneration, SummarySink,
};

use crate::{GenerationArg, QueryError};

/// Objects and memory per generation: `read DUMP`, which takes nothing
/// more and always has an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SummaryQuery;

impl SummaryQuery {
    /// What a reading of the dump collects for this query.
    pub fn sink(&self) -> SummarySink {
        SummarySink::default()
    }

    /// The report from a reading's sinks.
    pub fn from_sinks(&self, sinks: Vec<SummarySink>) -> GenerationSummary {
        GenerationSummary::from_sinks(sinks)
    }
}

/// Where one generation's (or every generation's) objects were allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationQuery {
    /// The generation, or `all`.
    pub generation: GenerationArg,
    /// Rows per table.
    pub lines: usize,
}

impl GenerationQuery {
    /// Rows per table unless asked otherwise, as heapy prints.
    pub const DEFAULT_LINES: usize = 50;

    /// What a reading of the dump collects for this query.
    pub fn sink(&self) -> GenerationSink {
        GenerationSink::new(self.generation.selector)
    }

    /// The report from a reading's sinks; `dump` names the dump in
    /// messages.
    pub fn from_sinks(
        &self,
        dump: &str,
        sinks: Vec<GenerationSink>,
    ) -> Result<GenerationReport, QueryError> {
        GenerationReport::from_sinks(sinks, self.lines).map_err(|none| self.unknown(dump, &none))
    }

    /// The report from every generation's, kept by the web UI.
    pub fn from_reports(
        &self,
        dump: &str,
        reports: &GenerationReports,
    ) -> Result<GenerationReport, QueryError> {
        reports
            .get(self.generation.selector, self.lines)
            .map_err(|none| self.unknown(dump, &none))
    }

    /// heapy's message, with the file and the generations it does have.
    fn unknown(&self, dump: &str, none: &NoSuchGeneration) -> QueryError {
        let has = match none.traced.as_slice() {
            [] => "it has no traced objects (was allocation tracing on?)".to_owned(),
            traced => format!("its generations are {}", ranges(traced)),
        };
        let asked = match self.generation.selector {
            GenerationSelector::All => "all".to_owned(),
            GenerationSelector::Only(_) => self.generation.text.clone(),
        };
        QueryError::NotFound(format!("{dump}: not a valid Generation: {asked}; {has}"))
    }
}

/// Most ranges listed; a longer list ends in `...`.
const RANGES_SHOWN: usize = 12;

/// `nil, 30-47, 49`: ascending generations as ranges (0 is `nil`).
fn ranges(generations: &[u64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = generations;
    if let Some((0, numbered)) = rest.split_first() {
        parts.push("nil".to_owned());
        rest = numbered;
    }
    while let Some(&first) = rest.first() {
        let run = rest
            .iter()
            .zip(first..)
            .take_while(|(generation, expected)| **generation == *expected)
            .count();
        parts.push(match rest[run - 1] {
            last if last == first => first.to_string(),
            last => format!("{first}-{last}"),
        });
        rest = &rest[run..];
    }
    if parts.len() > RANGES_SHOWN {
        parts.truncate(RANGES_SHOWN);
        parts.push("...".to_owned());
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_are_listed_as_ranges() {
        assert_eq!(
            ranges(&[0, 30, 31, 32, 47, 49, 50]),
            "nil, 30-32, 47, 49-50"
        );
        assert_eq!(ranges(&[0, 1, 2]), "nil, 1-2");
        assert_eq!(ranges(&[0, 1]), "nil, 1");
        assert_eq!(ranges(&[5]), "5");
        let scattered: Vec<u64> = (0..40).map(|g| g * 3 + 1).collect();
        assert!(ranges(&scattered).ends_with(", ..."));
    }
}
