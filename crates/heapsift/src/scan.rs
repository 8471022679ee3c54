//! Reading a dump for a report: open, scan with progress, print warnings.

use std::ffi::OsStr;

use heapsift_input::{Input, Opened, ReadOptions, open, open_reader};
use heapsift_reports::{RecordSink, ScanError, ScanStats, scan_records};
use heapsift_store::{Location, open_object};

use crate::failure::Failure;
use crate::progress::Progress;

/// Reads every record of the dump named by `arg` (a path, `-` or an
/// `s3://` URL) into sinks made by `make_sink`, printing
/// `heapsift: <file>: <warning>` lines for skipped, recovered or truncated
/// lines.
pub fn scan_dump<S, F>(arg: &OsStr, threads: usize, make_sink: F) -> Result<Vec<S>, Failure>
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    let (input, opened) = open_dump(arg)?;
    Ok(scan_opened(&input, opened, threads, true, make_sink)?.0)
}

/// Reads an opened dump named `input` as [`scan_dump`] does, with a
/// progress bar if `bar` (and stderr is a terminal); returns the
/// statistics too.
pub fn scan_opened<S, F>(
    input: &str,
    opened: Opened,
    threads: usize,
    bar: bool,
    make_sink: F,
) -> Result<(Vec<S>, ScanStats), Failure>
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    let bad_input = |message: String| Failure::BadInput(format!("{input}: {message}"));
    let options = read_options(threads);
    let progress = bar.then(|| Progress::bytes(input, opened.total_bytes(), opened.consumed()));
    let result = scan_records(opened, &options, make_sink);
    drop(progress);
    let (sinks, stats) = result.map_err(|e: ScanError| bad_input(e.to_string()))?;
    for warning in stats.warnings() {
        eprintln!("heapsift: {input}: {warning}");
    }
    Ok((sinks, stats))
}

/// How a dump is read with `--threads N` (0: one thread per core); its
/// `worker_count()` is how many sinks a reading makes.
pub fn read_options(threads: usize) -> ReadOptions {
    ReadOptions {
        threads,
        ..ReadOptions::default()
    }
}

/// Opens a dump: S3 objects are streamed as they download, everything else
/// goes to heapsift-input. Returns the name to show with the input.
pub fn open_dump(arg: &OsStr) -> Result<(String, Opened), Failure> {
    let bad_input = |name: &dyn std::fmt::Display, message: String| {
        Failure::BadInput(format!("{name}: {message}"))
    };
    match arg.to_str().filter(|text| Location::is_s3(text)) {
        Some(url) => {
            let object = Location::parse(url).map_err(|e| Failure::BadInput(e.to_string()))?;
            let reader = open_object(&object).map_err(|e| bad_input(&url, e.to_string()))?;
            let size = reader.size();
            let opened = open_reader(Box::new(reader), Some(size))
                .map_err(|e| bad_input(&url, e.to_string()))?;
            Ok((url.to_owned(), opened))
        }
        None => {
            let input = Input::from_arg(arg);
            let opened = open(&input).map_err(|e| bad_input(&input, e.to_string()))?;
            Ok((input.to_string(), opened))
        }
    }
}
