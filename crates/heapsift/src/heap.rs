//! Reading a dump into its heap graph, for the retention commands.

use std::ffi::OsStr;

use heapsift_graph::{GraphDetail, GraphSink, HeapGraph};
use heapsift_input::{BlockSpans, ReadOptions};
use heapsift_query::Heap;
use heapsift_scan::{RecordSink, ScanStats};
use heapsift_store::{OpenedDump, open_dump};

use crate::failure::Failure;
use crate::scan::scan_opened;

/// Reads the dump into a graph and computes its dominator tree.
pub fn load(dump: &OsStr, threads: usize) -> Result<Heap, Failure> {
    Ok(load_with(dump, threads, || ())?.heap)
}

/// [`load`], feeding the records to sinks made by `extra` in the same
/// pass; returns those sinks too.
pub fn load_with<E: RecordSink>(
    dump: &OsStr,
    threads: usize,
    extra: impl Fn() -> E + Sync,
) -> Result<Loaded<E>, Failure> {
    Ok(read_graph_with(dump, threads, extra)?.with_dominators())
}

/// A dump read into its heap, with what else was gathered in the pass.
pub struct Loaded<E, H = Heap> {
    /// The graph and its dominator tree (from [`read_graph_with`], the
    /// graph only).
    pub heap: H,
    /// The extra sinks, one per reading thread.
    pub extras: Vec<E>,
    /// What reading found besides the records (the digest, if asked).
    pub stats: ScanStats,
    /// Where each block of lines lies in the dump, to read one again.
    pub blocks: BlockSpans,
}

/// [`load_with`] without the dominator tree: for a caller that has other
/// work to do beside computing it.
pub fn read_graph_with<E: RecordSink>(
    dump: &OsStr,
    threads: usize,
    extra: impl Fn() -> E + Sync,
) -> Result<Loaded<E, HeapGraph>, Failure> {
    let opened = open_dump(dump)?;
    let options = ReadOptions::with_threads(threads);
    read_graph(opened, &options, true, GraphDetail::Reports, extra)
}

/// [`load_with`] over an opened dump, read with `options`, with a progress
/// bar if `bar`, the graph keeping `detail`.
pub fn load_opened<E: RecordSink>(
    dump: OpenedDump,
    options: &ReadOptions,
    bar: bool,
    detail: GraphDetail,
    extra: impl Fn() -> E + Sync,
) -> Result<Loaded<E>, Failure> {
    Ok(read_graph(dump, options, bar, detail, extra)?.with_dominators())
}

impl<E> Loaded<E, HeapGraph> {
    /// The same, with the graph's dominator tree computed.
    pub fn with_dominators(self) -> Loaded<E> {
        Loaded {
            heap: Heap::new(self.heap),
            extras: self.extras,
            stats: self.stats,
            blocks: self.blocks,
        }
    }
}

/// [`load_opened`] without the dominator tree.
fn read_graph<E: RecordSink>(
    dump: OpenedDump,
    options: &ReadOptions,
    bar: bool,
    detail: GraphDetail,
    extra: impl Fn() -> E + Sync,
) -> Result<Loaded<E, HeapGraph>, Failure> {
    let sinks_made = options.worker_count();
    // Dumps average about 400 bytes a line: room for the objects of a
    // plain file up front spares the columns their step-by-step growth.
    let expected = std::fs::metadata(&dump.name).map_or(0, |meta| meta.len()) / 400;
    let per_sink = (expected as usize / sinks_made) * 11 / 10;
    let scanned = scan_opened(dump, options, bar, || {
        (GraphSink::with_capacity(per_sink, detail), extra())
    })?;
    let (graph_sinks, extras): (Vec<GraphSink>, Vec<E>) = scanned.sinks.into_iter().unzip();
    Ok(Loaded {
        heap: HeapGraph::from_sinks(graph_sinks),
        extras,
        stats: scanned.stats,
        blocks: scanned.blocks,
    })
}
