//! `heapsift diff BEFORE AFTER [RETAINED]`.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::Path;

use heapsift_input::ReadOptions;
use heapsift_output::OutputFile;
use heapsift_query::{DiffQuery, diff_after};
use heapsift_render::text;
use heapsift_reports::{DiffReport, Identities, IdentitySink};
use heapsift_store::{DumpKey, open_dump};

use crate::cli::DiffArgs;
use crate::failure::Failure;
use crate::print::print;
use crate::scan::{reading, scan_dump};
use crate::series::{SeriesOrder, resolve};

pub fn run(args: &DiffArgs) -> Result<(), Failure> {
    let output = args
        .output_diff
        .as_deref()
        .map(|path| OutputFile::new(path, args.force).compressed_as_named());
    if let Some(output) = &output {
        // Refuse before the long reading, not after it.
        output.check()?;
    }
    let query = chosen_dumps(args)?;
    let name = |dump: &OsString| dump.to_string_lossy().into_owned();
    for warning in query.warnings(name, |a, b| same_dump(a, b), |d| key_time(d)) {
        eprintln!("heapsift: {warning}");
    }
    let threads = args.common.threads;
    let identities = |dump: &OsString| {
        scan_dump(dump, threads, IdentitySink::default)
            .map(|scanned| Identities::from_sinks(scanned.sinks))
    };
    let before = identities(&query.before)?;
    let retained = query.retained.as_ref().map(identities).transpose()?;
    let report = match &output {
        None => diff(&query.after, threads, &before, retained.as_ref(), None)?,
        Some(output) => write_kept_lines(output, |out| {
            diff(&query.after, threads, &before, retained.as_ref(), Some(out))
        })?,
    };
    print(args.common.format, &report, |report, out| {
        text::diff_report(report, out)?;
        match &output {
            // heapy's last line.
            Some(output) if !report.groups.is_empty() => {
                let path = output.target().display();
                writeln!(out, "\nWriting heap dump diff to {path}")
            }
            _ => Ok(()),
        }
    })
}

/// Reads AFTER once for the report, writing the kept lines to `kept_lines`
/// when given. A dump that can't be read to its end (a broken download or
/// compressed stream) would give a diff missing an unknown part: it fails
/// then rather than write one.
fn diff(
    after: &OsStr,
    threads: usize,
    before: &Identities,
    retained: Option<&Identities>,
    kept_lines: Option<&mut (dyn Write + Send)>,
) -> Result<DiffReport, Failure> {
    let writing = kept_lines.is_some();
    let after = open_dump(after)?;
    let options = ReadOptions::with_threads(threads);
    let reading = reading(&after.name, after.input, true, |input| {
        diff_after(input, &options, before, retained, kept_lines)
    })?;
    if let Some(error) = reading.stats.stopped_by.filter(|_| writing) {
        return Err(Failure::BadInput(format!(
            "{}: could not be read to its end ({error}); the diff was not written",
            after.name
        )));
    }
    if let Some(written) = reading.kept_lines {
        written?;
    }
    Ok(reading.report)
}

/// Runs `diff` writing into the output file, which appears only if it
/// succeeds.
fn write_kept_lines(
    output: &OutputFile,
    diff: impl FnOnce(&mut (dyn Write + Send)) -> Result<DiffReport, Failure>,
) -> Result<DiffReport, Failure> {
    let path = output.target().display();
    output
        .write(|out| diff(out))
        .map_err(|failure| failure.when_writing(&format!("{path}: cannot write the diff")))
}

/// Whether two arguments name one dump: the same file, or the same URL.
fn same_dump(a: &OsStr, b: &OsStr) -> bool {
    match (Path::new(a).canonicalize(), Path::new(b).canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// When a dump was taken, where its name says (the agent's key layout).
fn key_time(dump: &OsStr) -> Option<String> {
    DumpKey::parse(dump.to_str()?).map(|key| key.time)
}

/// BEFORE, AFTER and RETAINED from the arguments; a store stands for its
/// newest three dumps (or two), which are named on stderr since the user
/// did not name them.
fn chosen_dumps(args: &DiffArgs) -> Result<DiffQuery<OsString>, Failure> {
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
    let dumps = series.into_iter().map(|dump| dump.input).collect();
    Ok(DiffQuery::from_list(dumps)?)
}
