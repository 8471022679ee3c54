//! The layer under heapsift's reports and its heap graph: a dump's records
//! fed to per-thread sinks, and what both sides share about them.
//!
//! [`scan_records`] reads every line of an opened dump on every core,
//! parses it tolerantly and hands each record to the thread's
//! [`RecordSink`], counting the lines it skipped or recovered
//! ([`ScanStats`]) and refusing input that is not a heap dump at all.
//! [`scan_in_order`] does the same for sinks that write output per block
//! and writes it in the dump's order. [`Locations`] interns allocation
//! sites and [`intern`] the few names of types, [`AddressIndex`] finds
//! objects by address, and [`human_bytes`] is how sizes are written for
//! people everywhere.

mod address_index;
mod locations;
mod ordered;
mod scan;
mod units;

pub use address_index::{AddressIndex, Addressed, PAGE_BITS};
pub use locations::{Locations, intern};
pub use ordered::{BlockOutput, OrderedScan, WritesBlocks, scan_in_order};
pub use scan::{HasStats, LineFinder, RecordSink, ScanError, ScanStats, Scanned, scan_records};
pub use units::{counted, human_bytes};
