//! `heapsift read DUMP [GEN|all]`.

use std::io::{self, BufWriter, Write};

use heapsift_query::SummaryQuery;
use heapsift_render::{json, text};

use crate::cli::{Format, ReadArgs};
use crate::failure::Failure;
use crate::scan::scan_dump;

pub fn run(args: &ReadArgs) -> Result<(), Failure> {
    let mut out = BufWriter::new(io::stdout().lock());
    match args.query() {
        None => {
            let query = SummaryQuery;
            let dump = scan_dump(&args.dump, args.common.threads, || query.sink())?;
            let report = query.from_sinks(dump.sinks);
            match args.common.format {
                Format::Text => text::generation_summary(&report, &mut out)?,
                Format::Json => json::write(&report, &mut out)?,
            }
        }
        Some(query) => {
            let dump = scan_dump(&args.dump, args.common.threads, || query.sink())?;
            let report = query.from_sinks(&dump.name, dump.sinks)?;
            match args.common.format {
                Format::Text => text::generation_report(&report, &mut out)?,
                Format::Json => json::write(&report, &mut out)?,
            }
        }
    }
    out.flush()?;
    Ok(())
}
