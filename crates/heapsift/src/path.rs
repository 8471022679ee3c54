//! `heapsift path DUMP ADDR` and `heapsift show DUMP ADDR`.

use std::io::{self, BufWriter, Write};

use heapsift_graph::{ObjectDetails, RootPath, SharedPaths};
use heapsift_render::{json, retention};
use heapsift_reports::LineFinder;

use crate::cli::{Format, ObjectArgs, PathArgs};
use crate::failure::Failure;
use crate::heap::{load, load_with, object_at};

/// References and referrers `show` lists at most.
const SHOWN: usize = 50;

pub fn run_path(args: &PathArgs) -> Result<(), Failure> {
    let (graph, retention) = load(&args.dump, args.common.threads)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let Some(address) = args.address else {
        let location = args
            .location
            .as_deref()
            .expect("clap requires ADDR or --location");
        let site = graph.site_named(location).ok_or_else(|| {
            Failure::NothingFound(format!(
                "no object in the dump was allocated at {location} (sites are written as `read DUMP all` prints them)"
            ))
        })?;
        let paths = SharedPaths::find(&graph, site, args.top);
        match args.common.format {
            Format::Text => retention::shared_paths(&paths, &mut out)?,
            Format::Json => json::write(&paths, &mut out)?,
        }
        out.flush()?;
        return Ok(());
    };
    let node = object_at(&graph, address)?;
    let path = RootPath::find(&graph, &retention, node).ok_or_else(|| {
        Failure::NothingFound(format!(
            "{address:#x} is not reachable from the GC roots (garbage not yet collected)"
        ))
    })?;
    match args.common.format {
        Format::Text => retention::root_path(&path, &mut out)?,
        Format::Json => json::write(&path, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

pub fn run_show(args: &ObjectArgs) -> Result<(), Failure> {
    let (graph, retention, finders) = load_with(&args.dump, args.common.threads, || {
        LineFinder::new(args.address)
    })?;
    let node = object_at(&graph, args.address)?;
    let mut details = ObjectDetails::new(&graph, &retention, node, SHOWN);
    details.record = finders
        .into_iter()
        .find_map(|finder| finder.line)
        .map(|line| String::from_utf8_lossy(&line).into_owned());
    let mut out = BufWriter::new(io::stdout().lock());
    match args.common.format {
        Format::Text => retention::object_details(&details, &mut out)?,
        Format::Json => json::write(&details, &mut out)?,
    }
    out.flush()?;
    Ok(())
}
