//! Reading a dump for a report: open, scan with progress, print warnings.

use std::ffi::OsStr;

use heapsift_input::{Input, ReadOptions, open};
use heapsift_reports::{RecordSink, ScanError, scan_records};

use crate::failure::Failure;
use crate::progress::Progress;

/// Reads every record of the dump named by `arg` into sinks made by
/// `make_sink`, printing `heapsift: <file>: <warning>` lines for skipped,
/// recovered or truncated lines.
pub fn scan_dump<S, F>(arg: &OsStr, threads: usize, make_sink: F) -> Result<Vec<S>, Failure>
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    let input = Input::from_arg(arg);
    let bad_input = |message: String| Failure::BadInput(format!("{input}: {message}"));
    let opened = open(&input).map_err(|e| bad_input(e.to_string()))?;
    let options = ReadOptions {
        threads,
        ..ReadOptions::default()
    };
    let progress = Progress::start(&input.to_string(), opened.total_bytes(), opened.consumed());
    let result = scan_records(opened, &options, make_sink);
    drop(progress);
    let (sinks, stats) = result.map_err(|e: ScanError| bad_input(e.to_string()))?;
    for warning in stats.warnings() {
        eprintln!("heapsift: {input}: {warning}");
    }
    Ok(sinks)
}
