//! `heapsift retained DUMP`.

use std::io::{self, BufWriter, Write};

use heapsift_render::{json, retention};

use crate::cli::{Format, RetainedArgs};
use crate::failure::Failure;
use crate::heap::load;

pub fn run(args: &RetainedArgs) -> Result<(), Failure> {
    let heap = load(&args.dump, args.common.threads)?;
    let report = args.query().run(&heap)?;
    let mut out = BufWriter::new(io::stdout().lock());
    match args.common.format {
        Format::Text => retention::retained_report(&report, &mut out)?,
        Format::Json => json::write(&report, &mut out)?,
    }
    out.flush()?;
    Ok(())
}
