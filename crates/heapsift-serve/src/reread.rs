//! What the pages need from a dump that is not kept after loading it: an
//! object's line, and a diff's AFTER records. Both read the dump again,
//! as the CLI reads it.

use heapsift_input::ReadOptions;
use heapsift_query::{DiffQuery, diff_after, open_dump};
use heapsift_reports::DiffReport;
use heapsift_scan::{LineFinder, scan_records};

use crate::LoadedDump;

/// The dump's line for the object at `address`, if it can be read again.
pub(crate) fn record_line(dump: &LoadedDump, address: u64, threads: usize) -> Option<String> {
    let (_, opened) = open_dump(&dump.input).ok()?;
    let (finders, _) = scan_records(opened, &ReadOptions::with_threads(threads), || {
        LineFinder::new(address)
    })
    .ok()?;
    finders
        .into_iter()
        .find_map(|finder| finder.line)
        .map(|line| String::from_utf8_lossy(&line).into_owned())
}

/// The diff of loaded dumps: AFTER is read again against the identities
/// kept of BEFORE and RETAINED, by the code behind `heapsift diff`.
pub(crate) fn diff_against(
    query: &DiffQuery<&LoadedDump>,
    threads: usize,
) -> Result<DiffReport, String> {
    let (_, opened) = open_dump(&query.after.input).map_err(|e| e.to_string())?;
    let retained = query.retained.map(|dump| &dump.identities);
    let (reading, _) = diff_after(
        opened,
        &ReadOptions::with_threads(threads),
        &query.before.identities,
        retained,
        None,
    )
    .map_err(|e| format!("{}: {e}", query.after.name))?;
    Ok(reading.report)
}
