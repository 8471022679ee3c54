//! heapsift's requests, between the command line (or the web API) and the
//! reports.
//!
//! Each report has one query type here, with its defaults, how its values
//! are read from text, its checks and its error messages. The CLI fills a
//! query from clap's arguments and the web API from a request's path and
//! parameters; both then run the same query and render the same report,
//! so the two can't drift apart.

mod error;
mod generation;
mod info;
mod objects;
mod retained;
mod series;
mod suspects;
mod values;

/// The trait behind every choice a query takes (`--by`), for parsing one
/// from text with [`parse_choice`].
pub use clap::ValueEnum;
pub use error::QueryError;
pub use generation::{GenerationQuery, SummaryQuery};
pub use heapsift_suspects::DumpTime;
pub use info::InfoQuery;
pub use objects::{PathAnswer, PathQuery, PathTarget, ShowQuery};
pub use retained::{DominatorQuery, Heap, RetainedQuery};
pub use series::{DiffQuery, DiffReading, TrendQuery, diff_after};
pub use suspects::SuspectsQuery;
pub use values::{
    ChoiceParser, CountParser, GenerationArg, RetainedBy, TrendBy, parse_address_arg, parse_choice,
    parse_count, parse_positive_count,
};
