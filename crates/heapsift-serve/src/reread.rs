//! What the pages need from a dump that is not kept after loading it: an
//! object's line, and a diff's AFTER records. An object's line is read
//! again from the one block of lines that holds it (4 MB: 12–50 ms a page
//! from a plain file, 11–21 ms from a gzip file's checkpoint; see
//! `heapsift_input::Opened::read_block`). A diff reads AFTER whole, as the
//! CLI does, one diff at a time (each keeps every core busy).

use std::sync::{Mutex, PoisonError};

use heapsift_input::ReadOptions;
use heapsift_query::{DiffQuery, QueryError, diff_after};
use heapsift_reports::DiffReport;
use heapsift_scan::LineFinder;
use heapsift_store::open_dump;

use crate::{DiffKey, LoadedDump, Served};

/// Held while a diff reads a dump again.
static REREADS: Mutex<()> = Mutex::new(());

/// The dump's line for the object `node` (at `address`), if it can be
/// read again.
pub(crate) fn record_line(dump: &LoadedDump, node: u32, address: u64) -> Option<String> {
    let block = dump.heap.graph.block_of(node)?;
    let opened = open_dump(&dump.input).ok()?;
    let lines = opened.input.read_block(&dump.blocks, block).ok()?;
    LineFinder::find_in(&lines, address)
}

/// The diff of loaded dumps, numbered as in `key`: AFTER is read again
/// against the identities kept of BEFORE and RETAINED, by the code behind
/// `heapsift diff`, once for each choice of dumps.
pub(crate) fn diff(served: &Served, key: DiffKey) -> Result<DiffReport, QueryError> {
    let made = || {
        served
            .diffs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned()
    };
    if let Some(report) = made() {
        return Ok(report);
    }
    let _one_at_a_time = REREADS.lock().unwrap_or_else(PoisonError::into_inner);
    // Requests for the same diff wait here while the first one makes it.
    if let Some(report) = made() {
        return Ok(report);
    }
    let (before, after, retained) = key;
    let query = DiffQuery {
        before: &served.dumps[before],
        after: &served.dumps[after],
        retained: retained.map(|r| &served.dumps[r]),
    };
    let report = diff_against(&query, served.threads)?;
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
