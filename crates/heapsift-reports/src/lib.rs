//! heapsift's reports, as plain data.
//!
//! Each report is computed from the records of a dump by per-thread sinks
//! (`heapsift_scan::RecordSink`) fed by `heapsift_scan::scan_records`, then
//! merged into a serializable struct. Rendering (text in heapy's layout, JSON) lives in
//! `heapsift-render`; the CLI and the web UI call the same functions.

mod classes;
mod diff;
mod format;
mod generation;
mod info;
mod sites;
mod summary;
mod trend;

pub use diff::{DiffGroup, DiffReport, DiffSink, Identities, IdentitySink};
pub use format::{FormatSink, RubyRange, RubyVersion};
pub use generation::{
    ClassRow, DuplicateString, EveryGenerationSink, GenerationReport, GenerationReports,
    GenerationSelector, GenerationSink, LocationRow, LocationTable, NoSuchGeneration,
};
pub use info::{GenerationSpan, InfoReport, InfoSink, ProcessSide, Tally, Traced, TypeRow};
pub use sites::{SiteRow, SiteSink, site_rows};
pub use summary::{GenerationBucket, GenerationSummary, HeapTotal, SummarySink, kilobytes};
pub use trend::{DumpCounts, Trend, TrendGrouping, TrendReport, TrendRow, TrendSink};
