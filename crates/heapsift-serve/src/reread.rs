//! What the pages need from a dump that is not kept after loading it: an
//! object's line, and a diff's AFTER records. Both read the dump again,
//! as the CLI reads it, one reading at a time (each uses every core).

use std::sync::{Mutex, PoisonError};

use heapsift_input::ReadOptions;
use heapsift_query::{DiffQuery, QueryError, diff_after};
use heapsift_reports::DiffReport;
use heapsift_scan::{LineFinder, scan_records};
use heapsift_store::open_dump;

use crate::{DiffKey, LoadedDump, Served};

/// Held while a dump is read again.
static REREADS: Mutex<()> = Mutex::new(());

/// The dump's line for the object at `address`, if it can be read again.
pub(crate) fn record_line(dump: &LoadedDump, address: u64, threads: usize) -> Option<String> {
    let _one_at_a_time = REREADS.lock().unwrap_or_else(PoisonError::into_inner);
    let opened = open_dump(&dump.input).ok()?;
    let options = ReadOptions::with_threads(threads);
    let scanned = scan_records(opened.input, &options, || LineFinder::new(address)).ok()?;
    LineFinder::found(scanned.sinks)
}

/// The diff of loaded dumps, numbered as in `key`: AFTER is read again
/// against the identities kept of BEFORE and RETAINED, by the code behind
/// `heapsift diff`, once for each choice of dumps.
pub(crate) fn diff(served: &Served, key: DiffKey) -> Result<DiffReport, QueryError> {
    let made = served
        .diffs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    if let Some(report) = made {
        return Ok(report);
    }
    let (before, after, retained) = key;
    let query = DiffQuery {
        before: &served.dumps[before],
        after: &served.dumps[after],
        retained: retained.map(|r| &served.dumps[r]),
    };
    let report = {
        let _one_at_a_time = REREADS.lock().unwrap_or_else(PoisonError::into_inner);
        diff_against(&query, served.threads)?
    };
    served
        .diffs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, report.clone());
    Ok(report)
}

fn diff_against(query: &DiffQuery<&LoadedDump>, threads: usize) -> Result<DiffReport, QueryError> {
    let cannot_read = |e: &dyn std::fmt::Display| QueryError::Invalid(e.to_string());
    let after = open_dump(&query.after.input).map_err(|e| cannot_read(&e))?;
    let reading = diff_after(
        after.input,
        &ReadOptions::with_threads(threads),
        &query.before.identities,
        query.retained.map(|dump| &dump.identities),
        None,
    )
    .map_err(|e| cannot_read(&format!("{}: {e}", after.name)))?;
    Ok(reading.report)
}
