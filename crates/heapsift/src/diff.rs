//! `heapsift diff BEFORE AFTER [RETAINED]`.

use std::ffi::OsString;
use std::fs;
use std::io::{self, BufWriter, Write};

use heapsift_render::{json, text};
use heapsift_reports::{DiffReport, DiffSink, Identities, IdentitySink};
use heapsift_store::write_file;

use crate::cli::{DiffArgs, Format};
use crate::failure::Failure;
use crate::scan::scan_dump;
use crate::series::{SeriesOrder, resolve};

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
    let (before, after, retained) = chosen_dumps(args)?;
    let threads = args.common.threads;
    let before = Identities::from_sinks(scan_dump(&before, threads, IdentitySink::default)?);
    let retained = match &retained {
        Some(dump) => Some(Identities::from_sinks(scan_dump(
            dump,
            threads,
            IdentitySink::default,
        )?)),
        None => None,
    };
    let keep_lines = args.output_diff.is_some();
    let sinks = scan_dump(&after, threads, || {
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

/// BEFORE, AFTER and RETAINED from the arguments; a store stands for its
/// newest three dumps (or two), which are named on stderr since the user
/// did not name them.
fn chosen_dumps(args: &DiffArgs) -> Result<(OsString, OsString, Option<OsString>), Failure> {
    let mut series = resolve(&args.dumps, &args.filter.filter(), SeriesOrder::Given)?;
    let listed = series.iter().any(|dump| dump.listed);
    if listed {
        let found = series.len();
        series.drain(..found.saturating_sub(3));
        if series.len() < 2 {
            return Err(Failure::NothingFound(format!(
                "a diff needs 2 dumps or 3; the store has {found}"
            )));
        }
        let names: Vec<String> = series.iter().map(|dump| dump.name()).collect();
        eprintln!("heapsift: diff of {}", names.join(" "));
    }
    let mut inputs = series.into_iter().map(|dump| dump.input);
    match (inputs.next(), inputs.next(), inputs.next(), inputs.next()) {
        (Some(before), Some(after), retained, None) => Ok((before, after, retained)),
        _ => Err(Failure::BadInput(
            "diff takes BEFORE AFTER [RETAINED], or one store".into(),
        )),
    }
}
