//! Reading a dump for a report: open, scan with progress, print warnings.

use std::ffi::OsStr;

use heapsift_input::{Opened, ReadOptions};
use heapsift_scan::{HasStats, RecordSink, ScanError, Scanned, scan_records};
use heapsift_store::{OpenedDump, open_dump};

use crate::failure::Failure;
use crate::progress::Progress;

/// A dump read into per-thread sinks.
pub struct ScannedDump<S> {
    /// The name it goes by in messages.
    pub name: String,
    /// One sink per reading thread.
    pub sinks: Vec<S>,
}

/// Reads every record of the dump named by `arg` (a path, `-` or an
/// `s3://` URL) into sinks made by `make_sink`, printing
/// `heapsift: <file>: <warning>` lines for skipped, recovered or truncated
/// lines.
pub fn scan_dump<S, F>(arg: &OsStr, threads: usize, make_sink: F) -> Result<ScannedDump<S>, Failure>
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    let dump = open_dump(arg)?;
    let name = dump.name.clone();
    let scanned = scan_opened(dump, &ReadOptions::with_threads(threads), true, make_sink)?;
    Ok(ScannedDump {
        name,
        sinks: scanned.sinks,
    })
}

/// Reads an opened dump as [`scan_dump`] does, with `options` (threads,
/// hashing the bytes) and a progress bar if `bar` (and stderr is a
/// terminal).
pub fn scan_opened<S, F>(
    dump: OpenedDump,
    options: &ReadOptions,
    bar: bool,
    make_sink: F,
) -> Result<Scanned<S>, Failure>
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    reading(&dump.name, dump.input, bar, |input| {
        scan_records(input, options, make_sink)
    })
}

/// Runs `read` over an opened dump named `name`, with a progress bar if
/// `bar` (and stderr is a terminal), then prints the warnings of what it
/// found.
pub fn reading<T: HasStats>(
    name: &str,
    input: Opened,
    bar: bool,
    read: impl FnOnce(Opened) -> Result<T, ScanError>,
) -> Result<T, Failure> {
    let progress = bar.then(|| Progress::bytes(name, input.total_bytes(), input.consumed()));
    let result = read(input);
    drop(progress);
    let read = result.map_err(|e| Failure::BadInput(format!("{name}: {e}")))?;
    for warning in read.stats().warnings() {
        eprintln!("heapsift: {name}: {warning}");
    }
    Ok(read)
}
