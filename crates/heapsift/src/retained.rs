//! `heapsift retained DUMP`.

use std::io::{self, BufWriter, Write};

use heapsift_graph::{Grouping, RetainedReport};
use heapsift_render::{json, retention};

use crate::cli::{Format, GroupBy, RetainedArgs};
use crate::failure::Failure;
use crate::heap::{load, object_at};

pub fn run(args: &RetainedArgs) -> Result<(), Failure> {
    let (graph, retention) = load(&args.dump, args.common.threads)?;
    let root = match args.root {
        None => None,
        Some(address) => {
            let node = object_at(&graph, address)?;
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
