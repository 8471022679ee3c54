//! heapsift's reports, as plain data.
//!
//! Each report is computed from the records of a dump by per-thread sinks
//! ([`RecordSink`]) fed by [`scan_records`], then merged into a
//! serializable struct. Rendering (text in heapy's layout, JSON) lives in
//! `heapsift-render`; the CLI and the web UI call the same functions.

mod classes;
mod diff;
mod generation;
mod location;
mod scan;
mod summary;
mod trend;

pub use diff::{
    DiffGroup, DiffIndex, DiffIndexSink, DiffReport, DiffSink, Identities, IdentitySink,
};
pub use generation::{
    ClassRow, DuplicateString, EveryGenerationSink, GenerationReport, GenerationReports,
    GenerationSelector, GenerationSink, LocationRow, LocationTable,
};
pub use location::Locations;
pub use scan::{LineFinder, RecordSink, ScanError, ScanStats, scan_records};
pub use summary::{
    GenerationBucket, GenerationSummary, HeapTotal, SummarySink, human_bytes, kilobytes,
};
pub use trend::{DumpCounts, Trend, TrendGrouping, TrendReport, TrendRow, TrendSink};
