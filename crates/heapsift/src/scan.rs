//! Reading a dump for a report: open, scan with progress, print warnings.

use std::ffi::OsStr;

use heapsift_input::{Opened, ReadOptions};
use heapsift_query::open_dump;
use heapsift_scan::{RecordSink, ScanError, ScanStats, scan_records};

use crate::failure::Failure;
use crate::progress::Progress;

/// Reads every record of the dump named by `arg` (a path, `-` or an
/// `s3://` URL) into sinks made by `make_sink`, printing
/// `heapsift: <file>: <warning>` lines for skipped, recovered or truncated
/// lines. Returns the sinks and the name the dump goes by in messages.
pub fn scan_dump<S, F>(
    arg: &OsStr,
    threads: usize,
    make_sink: F,
) -> Result<(String, Vec<S>), Failure>
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    let (name, opened) = open_dump(arg)?;
    let (sinks, _) = scan_opened(&name, opened, threads, true, make_sink)?;
    Ok((name, sinks))
}

/// Reads an opened dump named `name` as [`scan_dump`] does, with a
/// progress bar if `bar` (and stderr is a terminal); returns the
/// statistics too.
pub fn scan_opened<S, F>(
    name: &str,
    opened: Opened,
    threads: usize,
    bar: bool,
    make_sink: F,
) -> Result<(Vec<S>, ScanStats), Failure>
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    let options = ReadOptions::with_threads(threads);
    reading(name, opened, bar, |opened| {
        scan_records(opened, &options, make_sink)
    })
}

/// Runs `read` over an opened dump named `name`, with a progress bar if
/// `bar` (and stderr is a terminal), then prints the warnings of what it
/// found.
pub fn reading<T>(
    name: &str,
    opened: Opened,
    bar: bool,
    read: impl FnOnce(Opened) -> Result<(T, ScanStats), ScanError>,
) -> Result<(T, ScanStats), Failure> {
    let progress = bar.then(|| Progress::bytes(name, opened.total_bytes(), opened.consumed()));
    let result = read(opened);
    drop(progress);
    let (read, stats) = result.map_err(|e| Failure::BadInput(format!("{name}: {e}")))?;
    for warning in stats.warnings() {
        eprintln!("heapsift: {name}: {warning}");
    }
    Ok((read, stats))
}
