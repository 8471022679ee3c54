//! `heapsift retained DUMP`.

use std::io::{self, BufWriter, Write};

use heapsift_graph::{GraphSink, Grouping, HeapGraph, RetainedReport, Retention};
use heapsift_render::{json, retention};

use crate::cli::{Format, GroupBy, RetainedArgs};
use crate::failure::Failure;
use crate::scan::scan_dump;

pub fn run(args: &RetainedArgs) -> Result<(), Failure> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = if args.common.threads == 0 {
        threads
    } else {
        args.common.threads
    };
    // Dumps average about 400 bytes a line: room for the objects of a
    // plain file up front spares the columns their step-by-step growth.
    let expected = std::fs::metadata(&args.dump).map_or(0, |meta| meta.len()) / 400;
    let per_thread = (expected as usize / threads) * 11 / 10;
    let sinks = scan_dump(&args.dump, args.common.threads, || {
        GraphSink::with_capacity(per_thread)
    })?;
    let graph = HeapGraph::from_sinks(sinks);
    let retention = Retention::compute(&graph);
    let root = match args.root {
        None => None,
        Some(address) => {
            let node = graph.node_at(address).ok_or_else(|| {
                Failure::NothingFound(format!("no object at {address:#x} in the dump"))
            })?;
            if !retention.is_reachable(node) {
                return Err(Failure::NothingFound(format!(
                    "{address:#x} is not reachable from the GC roots: it retains nothing"
                )));
            }
            Some(node)
        }
    };
    let by = match args.by {
        GroupBy::Object => Grouping::Object,
        GroupBy::Class => Grouping::Class,
        GroupBy::Location => Grouping::Location,
    };
    let report = RetainedReport::new(&graph, &retention, by, args.top, root);
    let mut out = BufWriter::new(io::stdout().lock());
    match args.common.format {
        Format::Text => retention::retained_report(&report, &mut out)?,
        Format::Json => json::write(&report, &mut out)?,
    }
    out.flush()?;
    Ok(())
}
