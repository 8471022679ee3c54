//! `heapsift redact IN OUT`: a copy of a dump with its strings' values
//! replaced, to share.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::thread;

use heapsift_redact::{RedactSink, Redactor, write_in_order};
use heapsift_store::write_file_with;

use crate::cli::RedactArgs;
use crate::failure::Failure;
use crate::scan::{open_dump, read_options, scan_opened};

pub fn run(args: &RedactArgs) -> Result<(), Failure> {
    let out = &args.output;
    let out_name = out.display().to_string();
    if let Ok(existing) = out.canonicalize() {
        let same = Path::new(&args.input)
            .canonicalize()
            .is_ok_and(|input| input == existing);
        if same {
            return Err(Failure::BadInput(format!(
                "{out_name}: is the input; redact writes a new file and never touches its input"
            )));
        }
        if !args.force {
            return Err(Failure::BadInput(format!(
                "{out_name}: exists already; pass --force to replace it"
            )));
        }
    }
    let redactor = match &args.salt {
        Some(salt) => Redactor::with_salt(salt),
        None => Redactor::random()
            .map_err(|e| Failure::BadInput(format!("no random key for the placeholders: {e}")))?,
    };
    let (name, opened) = open_dump(&args.input)?;
    let threads = args.threads;
    let in_flight = read_options(threads).worker_count() * 2;
    let cannot_write = |e: io::Error| Failure::BadInput(format!("{out_name}: cannot write: {e}"));
    // Not flushed to disk before the rename: OUT can be made again from IN,
    // and waiting for the disk would more than double the run.
    write_file_with(out, args.force, false, |file| {
        let mut output = Output::for_path(out, file).map_err(cannot_write)?;
        let (blocks, received) = sync_channel(in_flight);
        thread::scope(|scope| {
            let writer = scope.spawn(|| write_in_order(received, &mut output));
            let sinks = scan_opened(&name, opened, threads, true, || {
                RedactSink::new(&redactor, blocks.clone())
            });
            drop(blocks);
            let stats = sinks.map(|(sinks, stats)| {
                sinks.into_iter().for_each(RedactSink::finish);
                stats
            });
            let result = writer.join().expect("the writer does not panic");
            // A dump that ends mid-line is a dump: its complete records are
            // kept. One that could not be read to its end (a broken
            // download or compressed stream) would give a copy missing an
            // unknown part: no OUT then.
            if let Some(error) = stats?.stopped_by {
                return Err(Failure::BadInput(format!(
                    "{name}: could not be read to its end ({error}); {out_name} not written"
                )));
            }
            result.map_err(cannot_write)
        })?;
        output.finish().map_err(cannot_write)
    })
    .map_err(|failure| match failure {
        Failure::Output(e) => cannot_write(e),
        other => other,
    })
}

/// The output file, compressed as its name says: `.gz` gzip, `.zst` zstd,
/// anything else plain.
enum Output<'a> {
    Plain(&'a mut BufWriter<File>),
    Gzip(flate2::write::GzEncoder<&'a mut BufWriter<File>>),
    Zstd(zstd::Encoder<'static, &'a mut BufWriter<File>>),
}

impl<'a> Output<'a> {
    fn for_path(path: &Path, file: &'a mut BufWriter<File>) -> io::Result<Self> {
        Ok(match path.extension().and_then(|e| e.to_str()) {
            // Level 1: a dump compresses well at any level; speed matters.
            Some("gz") => Output::Gzip(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::fast(),
            )),
            Some("zst") => Output::Zstd(zstd::Encoder::new(file, 1)?),
            _ => Output::Plain(file),
        })
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Output::Plain(_) => Ok(()),
            Output::Gzip(gzip) => gzip.finish().map(drop),
            Output::Zstd(zstd) => zstd.finish().map(drop),
        }
    }
}

impl Write for Output<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Output::Plain(out) => out.write(bytes),
            Output::Gzip(out) => out.write(bytes),
            Output::Zstd(out) => out.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Plain(out) => out.flush(),
            Output::Gzip(out) => out.flush(),
            Output::Zstd(out) => out.flush(),
        }
    }
}
