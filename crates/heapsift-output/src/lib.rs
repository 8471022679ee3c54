//! The files heapsift writes (`fetch`'s copy, `diff --output-diff`,
//! `redact`'s output), written one way: whole or not at all, and never
//! over a user's file by accident.
//!
//! The bytes go to `<target>.partial-<pid>` beside the target (so that the
//! rename stays on one file system) and are renamed to the target only when
//! complete: a reader never sees half a file, and a failed run leaves
//! nothing. An existing target is replaced only with `--force`, checked
//! before the work starts ([`OutputFile::check`]) and again just before the
//! rename. A process ended by Ctrl-C calls [`remove_partial_files`] to take
//! its temporary files with it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Why an output file was not written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The target exists and replacing it was not asked for.
    #[error("{}: exists already; pass --force to replace it", .0.display())]
    Exists(PathBuf),
}

/// One file to write.
#[derive(Debug, Clone)]
pub struct OutputFile {
    target: PathBuf,
    replace: bool,
    durable: bool,
    compressed_as_named: bool,
    hidden_partial: bool,
}

impl OutputFile {
    /// A file to write at `target`, replacing an existing one only if
    /// `replace` (`--force`).
    pub fn new(target: &Path, replace: bool) -> Self {
        OutputFile {
            target: target.to_path_buf(),
            replace,
            durable: false,
            compressed_as_named: false,
            hidden_partial: false,
        }
    }

    /// Flushed to disk before the rename, so that even a power loss can't
    /// leave the target short: for copies that can't be made again (a
    /// download). Output that can be made again from its input skips it:
    /// flushing a gigabyte takes seconds.
    pub fn durable(self) -> Self {
        OutputFile {
            durable: true,
            ..self
        }
    }

    /// Compressed as its name says: `.gz` gzip, `.zst` zstd, anything else
    /// plain.
    pub fn compressed_as_named(self) -> Self {
        OutputFile {
            compressed_as_named: true,
            ..self
        }
    }

    /// Its temporary copy hidden, `<dir>/.<name>.partial-<pid>`: for files
    /// in folders that other tools read whole (Spark and Hadoop skip names
    /// starting with `.`, but fail on a visible half-written file).
    pub fn hidden_partial(self) -> Self {
        OutputFile {
            hidden_partial: true,
            ..self
        }
    }

    /// Where it goes.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Refuses an existing target (without `--force`): call it before the
    /// long work that makes the output, not after.
    pub fn check(&self) -> Result<(), OutputError> {
        if !self.replace && fs::symlink_metadata(&self.target).is_ok() {
            return Err(OutputError::Exists(self.target.clone()));
        }
        Ok(())
    }

    /// Writes the file with `write`, which gets the (buffered, compressed
    /// when asked) temporary file; renames it into place if `write`
    /// succeeds, removes it otherwise. A target that appeared meanwhile is
    /// kept (without `--force`): [`OutputError::Exists`].
    pub fn write<T, E>(
        &self,
        write: impl FnOnce(&mut Compressed<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<io::Error> + From<OutputError>,
    {
        let partial = partial_name(&self.target, self.hidden_partial);
        lock_partial_files().push(partial.clone());
        let result = self.write_new(&partial, write).and_then(|written| {
            self.check()?;
            fs::rename(&partial, &self.target)?;
            Ok(written)
        });
        if result.is_err() {
            let _ = fs::remove_file(&partial);
        }
        lock_partial_files().retain(|path| *path != partial);
        result
    }

    /// Writes a file that must not exist yet.
    fn write_new<T, E: From<io::Error>>(
        &self,
        path: &Path,
        write: impl FnOnce(&mut Compressed<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut compressed = match self.compressed_as_named {
            true => Compressed::as_named(&self.target, &mut out)?,
            false => Compressed::plain(&mut out),
        };
        let written = write(&mut compressed)?;
        compressed.finish()?;
        out.flush()?;
        if self.durable {
            out.get_ref().sync_all()?;
        }
        Ok(written)
    }
}

/// An output file's writer: plain, gzip or zstd.
pub struct Compressed<'a>(Encoding<'a>);

/// Level 1 for both compressions: a dump compresses well at any level, and
/// speed matters.
enum Encoding<'a> {
    Plain(&'a mut BufWriter<File>),
    Gzip(flate2::write::GzEncoder<&'a mut BufWriter<File>>),
    Zstd(zstd::Encoder<'static, &'a mut BufWriter<File>>),
}

impl<'a> Compressed<'a> {
    fn plain(file: &'a mut BufWriter<File>) -> Self {
        Compressed(Encoding::Plain(file))
    }

    fn as_named(path: &Path, file: &'a mut BufWriter<File>) -> io::Result<Self> {
        Ok(Compressed(
            match path.extension().and_then(|e| e.to_str()) {
                Some("gz") => Encoding::Gzip(flate2::write::GzEncoder::new(
                    file,
                    flate2::Compression::fast(),
                )),
                Some("zst") => Encoding::Zstd(zstd::Encoder::new(file, 1)?),
                _ => Encoding::Plain(file),
            },
        ))
    }

    fn finish(self) -> io::Result<()> {
        match self.0 {
            Encoding::Plain(_) => Ok(()),
            Encoding::Gzip(gzip) => gzip.finish().map(drop),
            Encoding::Zstd(zstd) => zstd.finish().map(drop),
        }
    }
}

impl Write for Compressed<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Encoding::Plain(out) => out.write(bytes),
            Encoding::Gzip(out) => out.write(bytes),
            Encoding::Zstd(out) => out.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Encoding::Plain(out) => out.flush(),
            Encoding::Gzip(out) => out.flush(),
            Encoding::Zstd(out) => out.flush(),
        }
    }
}

/// The temporary files being written right now.
static PARTIAL_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn lock_partial_files() -> MutexGuard<'static, Vec<PathBuf>> {
    PARTIAL_FILES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes the temporary files being written: for a process about to end
/// on Ctrl-C, so that an interrupted command leaves nothing behind.
pub fn remove_partial_files() {
    for path in lock_partial_files().drain(..) {
        let _ = fs::remove_file(path);
    }
}

/// `<target>.partial-<pid>`, or `<dir>/.<name>.partial-<pid>` when
/// `hidden`.
fn partial_name(target: &Path, hidden: bool) -> PathBuf {
    let suffix = format!(".partial-{}", std::process::id());
    match (hidden, target.file_name()) {
        (true, Some(name)) => {
            let mut hidden_name = std::ffi::OsString::from(".");
            hidden_name.push(name);
            hidden_name.push(suffix);
            target.with_file_name(hidden_name)
        }
        _ => {
            let mut name = target.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Either failure, as a caller keeps them.
    #[derive(Debug)]
    enum Failed {
        Io(io::Error),
        Output(OutputError),
    }

    impl From<io::Error> for Failed {
        fn from(e: io::Error) -> Self {
            Failed::Io(e)
        }
    }

    impl From<OutputError> for Failed {
        fn from(e: OutputError) -> Self {
            Failed::Output(e)
        }
    }

    fn write_all(out: &mut Compressed<'_>, bytes: &[u8]) -> Result<(), Failed> {
        Ok(out.write_all(bytes)?)
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("heapsift-output-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_existing_file_is_kept_without_force_and_replaced_with_it() {
        let dir = scratch("force");
        let target = dir.join("out.txt");
        fs::write(&target, "mine").unwrap();
        let kept = OutputFile::new(&target, false);
        assert!(matches!(kept.check(), Err(OutputError::Exists(_))));
        // Found again at the rename: the message names the file once.
        let Err(Failed::Output(error)) = kept.write(|out| write_all(out, b"new")) else {
            panic!("the existing file was not refused");
        };
        assert_eq!(
            error.to_string(),
            format!(
                "{}: exists already; pass --force to replace it",
                target.display()
            )
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "mine");
        OutputFile::new(&target, true)
            .write(|out| write_all(out, b"new"))
            .unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn a_hidden_partial_starts_with_a_dot() {
        let target = Path::new("/x/dyno=a/id.parquet");
        let partial = partial_name(target, true);
        assert_eq!(
            partial,
            PathBuf::from(format!(
                "/x/dyno=a/.id.parquet.partial-{}",
                std::process::id()
            ))
        );
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = scratch("fail");
        let target = dir.join("out.txt");
        let result: Result<(), Failed> = OutputFile::new(&target, false).write(|out| {
            write_all(out, b"half")?;
            Err(Failed::Io(io::Error::other("the input broke")))
        });
        let Err(Failed::Io(error)) = result else {
            panic!("the write's own error was lost: {result:?}");
        };
        assert_eq!(error.to_string(), "the input broke");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[test]
    fn output_is_compressed_as_named() {
        let dir = scratch("compressed");
        for name in ["out.gz", "out.zst", "out.dump"] {
            let target = dir.join(name);
            let file = OutputFile::new(&target, false).compressed_as_named();
            file.write(|out| write_all(out, b"{\"type\":\"ROOT\"}\n"))
                .unwrap();
            let raw = fs::read(&target).unwrap();
            let mut text = String::new();
            match name {
                "out.gz" => flate2::read::GzDecoder::new(&raw[..]).read_to_string(&mut text),
                "out.zst" => zstd::Decoder::new(&raw[..])
                    .unwrap()
                    .read_to_string(&mut text),
                _ => (&raw[..]).read_to_string(&mut text),
            }
            .unwrap();
            assert_eq!(text, "{\"type\":\"ROOT\"}\n", "{name}");
            assert_ne!(raw.starts_with(b"{"), name != "out.dump", "{name}");
        }
    }
}
