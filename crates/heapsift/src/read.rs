//! `heapsift read DUMP [GEN|all]`.

use std::io::{self, BufWriter, Write};

use heapsift_render::{json, text};
use heapsift_reports::{GenerationReport, GenerationSink, GenerationSummary, SummarySink};

use crate::cli::{Format, ReadArgs};
use crate::failure::Failure;
use crate::scan::scan_dump;

pub fn run(args: &ReadArgs) -> Result<(), Failure> {
    let mut out = BufWriter::new(io::stdout().lock());
    match &args.generation {
        None => {
            let sinks = scan_dump(&args.dump, args.common.threads, SummarySink::default)?;
            let report = GenerationSummary::from_sinks(sinks);
            match args.common.format {
                Format::Text => text::generation_summary(&report, &mut out)?,
                Format::Json => json::write(&report, &mut out)?,
            }
        }
        Some(generation) => {
            let sinks = scan_dump(&args.dump, args.common.threads, || {
                GenerationSink::new(generation.selector)
            })?;
            let report = GenerationReport::from_sinks(sinks, args.lines).ok_or_else(|| {
                Failure::NothingFound(format!("not a valid Generation: {}", generation.text))
            })?;
            match args.common.format {
                Format::Text => text::generation_report(&report, &mut out)?,
                Format::Json => json::write(&report, &mut out)?,
            }
        }
    }
    out.flush()?;
    Ok(())
}
