//! `heapsift redact IN OUT`: a copy of a dump with its strings' values
//! replaced, to share.

use std::path::Path;

use heapsift_input::ReadOptions;
use heapsift_output::OutputFile;
use heapsift_redact::{RedactSink, Redactor};
use heapsift_scan::scan_in_order;
use heapsift_store::open_dump;

use crate::cli::RedactArgs;
use crate::failure::Failure;
use crate::scan::reading;

pub fn run(args: &RedactArgs) -> Result<(), Failure> {
    let out_name = args.output.display().to_string();
    let same = |existing| {
        Path::new(&args.input)
            .canonicalize()
            .is_ok_and(|input| input == existing)
    };
    if args.output.canonicalize().is_ok_and(same) {
        return Err(Failure::BadInput(format!(
            "{out_name}: is the input; redact writes a new file and never touches its input"
        )));
    }
    // Not flushed to disk before the rename: OUT can be made again from IN,
    // and waiting for the disk would more than double the run.
    let output = OutputFile::new(&args.output, args.force).compressed_as_named();
    output.check()?;
    let redactor = match &args.salt {
        Some(salt) => Redactor::with_salt(salt),
        None => Redactor::random()
            .map_err(|e| Failure::BadInput(format!("no random key for the placeholders: {e}")))?,
    };
    let input = open_dump(&args.input)?;
    let name = input.name.clone();
    let options = ReadOptions::with_threads(args.threads);
    output
        .write(|out| {
            let scanned = reading(&name, input.input, true, |input| {
                scan_in_order(input, &options, out, |output| {
                    RedactSink::new(&redactor, output)
                })
            })?;
            // A dump that ends mid-line is a dump: its complete records are
            // kept. One that could not be read to its end (a broken
            // download or compressed stream) would give a copy missing an
            // unknown part: no OUT then.
            if let Some(error) = scanned.stats.stopped_by {
                return Err(Failure::BadInput(format!(
                    "{name}: could not be read to its end ({error}); {out_name} not written"
                )));
            }
            Ok(scanned.written?)
        })
        .map_err(|failure| failure.when_writing(&format!("{out_name}: cannot write")))?;
    Ok(())
}
