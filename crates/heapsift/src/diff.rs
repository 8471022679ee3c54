//! `heapsift diff BEFORE AFTER [RETAINED]`.

use std::fs;
use std::io::{self, BufWriter, Write};

use heapsift_render::{json, text};
use heapsift_reports::{DiffReport, DiffSink, Identities, IdentitySink};
use heapsift_store::write_file;

use crate::cli::{DiffArgs, Format};
use crate::failure::Failure;
use crate::scan::scan_dump;

pub fn run(args: &DiffArgs) -> Result<(), Failure> {
    // Refuse before the long reading, not after it.
    if let Some(path) = &args.output_diff
        && !args.force
        && fs::symlink_metadata(path).is_ok()
    {
        return Err(Failure::BadInput(format!(
            "{}: exists already; pass --force to replace it",
            path.display()
        )));
    }
    let threads = args.common.threads;
    let before = Identities::from_sinks(scan_dump(&args.before, threads, IdentitySink::default)?);
    let retained = match &args.retained {
        Some(dump) => Some(Identities::from_sinks(scan_dump(
            dump,
            threads,
            IdentitySink::default,
        )?)),
        None => None,
    };
    let keep_lines = args.output_diff.is_some();
    let sinks = scan_dump(&args.after, threads, || {
        DiffSink::new(&before, retained.as_ref(), keep_lines)
    })?;
    let (report, lines) = DiffReport::from_sinks(sinks);
    if let Some(path) = &args.output_diff {
        write_file(path, &mut &lines[..], args.force).map_err(|e| {
            Failure::BadInput(format!("{}: cannot write the diff: {e}", path.display()))
        })?;
    }
    let mut out = BufWriter::new(io::stdout().lock());
    match args.common.format {
        Format::Text => {
            text::diff_report(&report, &mut out)?;
            if let Some(path) = &args.output_diff
                && !report.groups.is_empty()
            {
                writeln!(out, "\nWriting heap dump diff to {}", path.display())?;
            }
        }
        Format::Json => json::write(&report, &mut out)?,
    }
    out.flush()?;
    Ok(())
}
