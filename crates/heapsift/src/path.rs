//! `heapsift path DUMP ADDR` and `heapsift show DUMP ADDR`.

use std::io::{self, BufWriter, Write};

use heapsift_query::PathAnswer;
use heapsift_render::{json, retention};
use heapsift_scan::LineFinder;

use crate::cli::{Format, ObjectArgs, PathArgs};
use crate::failure::Failure;
use crate::heap::{load, load_with};

pub fn run_path(args: &PathArgs) -> Result<(), Failure> {
    let heap = load(&args.dump, args.common.threads)?;
    let answer = args.query().run(&heap)?;
    let mut out = BufWriter::new(io::stdout().lock());
    match (answer, args.common.format) {
        (PathAnswer::Object(path), Format::Text) => retention::root_path(&path, &mut out)?,
        (PathAnswer::Object(path), Format::Json) => json::write(&path, &mut out)?,
        (PathAnswer::Site(paths), Format::Text) => retention::shared_paths(&paths, &mut out)?,
        (PathAnswer::Site(paths), Format::Json) => json::write(&paths, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

pub fn run_show(args: &ObjectArgs) -> Result<(), Failure> {
    let query = args.query();
    let (heap, finders) = load_with(&args.dump, args.common.threads, || {
        LineFinder::new(query.address)
    })?;
    let details = query.run(&heap, LineFinder::found(finders))?;
    let mut out = BufWriter::new(io::stdout().lock());
    match args.common.format {
        Format::Text => retention::object_details(&details, &mut out)?,
        Format::Json => json::write(&details, &mut out)?,
    }
    out.flush()?;
    Ok(())
}
