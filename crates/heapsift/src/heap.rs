//! Reading a dump into its heap graph, for the retention commands.

use std::ffi::OsStr;

use heapsift_graph::{GraphSink, HeapGraph};
use heapsift_input::ReadOptions;
use heapsift_query::Heap;
use heapsift_scan::RecordSink;

use crate::failure::Failure;
use crate::scan::scan_dump;

/// Reads the dump into a graph and computes its dominator tree.
pub fn load(dump: &OsStr, threads: usize) -> Result<Heap, Failure> {
    Ok(load_with(dump, threads, || ())?.0)
}

/// [`load`], feeding the records to sinks made by `extra` in the same
/// pass; returns those sinks too.
pub fn load_with<E: RecordSink>(
    dump: &OsStr,
    threads: usize,
    extra: impl Fn() -> E + Sync,
) -> Result<(Heap, Vec<E>), Failure> {
    let sinks_made = ReadOptions::with_threads(threads).worker_count();
    // Dumps average about 400 bytes a line: room for the objects of a
    // plain file up front spares the columns their step-by-step growth.
    let expected = std::fs::metadata(dump).map_or(0, |meta| meta.len()) / 400;
    let per_sink = (expected as usize / sinks_made) * 11 / 10;
    let scanned = scan_dump(dump, threads, || {
        (GraphSink::with_capacity(per_sink), extra())
    })?;
    let (graph_sinks, extras): (Vec<GraphSink>, Vec<E>) = scanned.sinks.into_iter().unzip();
    Ok((Heap::new(HeapGraph::from_sinks(graph_sinks)), extras))
}
