//! Reading a dump into its heap graph, for the retention commands.

use std::ffi::OsStr;

use heapsift_graph::{GraphSink, HeapGraph, Retention};
use heapsift_reports::RecordSink;

use crate::failure::Failure;
use crate::scan::{read_options, scan_dump};

/// Reads the dump into a graph and computes its dominator tree.
pub fn load(dump: &OsStr, threads: usize) -> Result<(HeapGraph, Retention), Failure> {
    let (graph, retention, _) = load_with(dump, threads, || ())?;
    Ok((graph, retention))
}

/// [`load`], feeding the records to sinks made by `extra` in the same pass.
pub fn load_with<E: RecordSink>(
    dump: &OsStr,
    threads: usize,
    extra: impl Fn() -> E + Sync,
) -> Result<(HeapGraph, Retention, Vec<E>), Failure> {
    let sinks_made = read_options(threads).worker_count();
    // Dumps average about 400 bytes a line: room for the objects of a
    // plain file up front spares the columns their step-by-step growth.
    let expected = std::fs::metadata(dump).map_or(0, |meta| meta.len()) / 400;
    let per_sink = (expected as usize / sinks_made) * 11 / 10;
    let sinks = scan_dump(dump, threads, || {
        (GraphSink::with_capacity(per_sink), extra())
    })?;
    let (graph_sinks, extras): (Vec<GraphSink>, Vec<E>) = sinks.into_iter().unzip();
    let graph = HeapGraph::from_sinks(graph_sinks);
    let retention = Retention::compute(&graph);
    Ok((graph, retention, extras))
}

/// The node of the object at `address`; exit 1 when the dump has none.
pub fn object_at(graph: &HeapGraph, address: u64) -> Result<u32, Failure> {
    graph
        .node_at(address)
        .ok_or_else(|| Failure::NothingFound(format!("no object at {address:#x} in the dump")))
}
