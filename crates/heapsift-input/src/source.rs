//! Opening an input and detecting its compression.

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::gzip::{GzipDecoder, Recording, SharedIndex};
use crate::lines::BlockSpans;

/// Where a dump comes from, as the user named it on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file on the local disk.
    Path(PathBuf),
    /// Standard input, named `-` on the command line.
    Stdin,
}

impl Input {
    /// Interprets a command-line argument: `-` is stdin, anything else a path.
    pub fn from_arg(arg: &OsStr) -> Self {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Path(path) => write!(f, "{}", path.display()),
            Input::Stdin => f.write_str("<stdin>"),
        }
    }
}

/// How the bytes of an input are compressed, judged from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (`1f 8b`), possibly several concatenated members.
    Gzip,
    /// Zstandard (`28 b5 2f fd`).
    Zstd,
}

impl Compression {
    /// Detects the compression from the first bytes of an input.
    pub fn detect(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Why an input could not be opened or read. Each message is written to be
/// shown after `heapsift: <input>: `.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The path does not exist.
    #[error("no such file")]
    NotFound,
    /// The path is a directory.
    #[error("is a directory, not a heap dump file")]
    IsDirectory,
    /// The input holds no bytes (after decompression).
    #[error("the file is empty")]
    Empty,
    /// The input exists but reading it failed.
    #[error("cannot read: {0}")]
    Unreadable(#[source] io::Error),
}

impl InputError {
    fn from_open(err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::NotFound => InputError::NotFound,
            io::ErrorKind::IsADirectory => InputError::IsDirectory,
            _ => InputError::Unreadable(err),
        }
    }
}

/// An input ready to be read by [`crate::read_lines`].
pub struct Opened {
    pub(crate) body: Body,
    compression: Compression,
    total: Option<u64>,
    consumed: Arc<AtomicU64>,
    /// A gzip file's own handle and the seek index its reading makes.
    pub(crate) gzip: Option<GzipFile>,
}

/// A gzip file opened by path: what it takes to read spans of it again.
pub(crate) struct GzipFile {
    file: File,
    /// Filled in while the body is read from the start.
    pub(crate) index: SharedIndex,
}

pub(crate) enum Body {
    /// An uncompressed regular file: read in parallel with positional reads.
    File { file: File, len: u64 },
    /// Anything read front to back: compressed files and stdin.
    Stream(Box<dyn Read + Send>),
}

impl Opened {
    /// The compression detected from the input's first bytes.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Whether reading uses every thread by itself (an uncompressed regular
    /// file, read with positional reads) rather than one stream front to
    /// back, which keeps a single thread busy decompressing or receiving.
    pub fn reads_in_parallel(&self) -> bool {
        matches!(self.body, Body::File { .. })
    }

    /// The size of the input as stored (compressed size for compressed
    /// files), when known; stdin has none.
    pub fn total_bytes(&self) -> Option<u64> {
        self.total
    }

    /// Reads the lines of block `block` of an earlier reading of this
    /// input again, from where that reading found them (`blocks`). A plain
    /// file takes one positional read; a gzip file is decompressed from the
    /// last checkpoint of the reading's seek index before the block (at
    /// most 4 MB before it); other streams (zstd, S3 objects) have no
    /// index, so they are decompressed from their start up to the block.
    pub fn read_block(self, blocks: &BlockSpans, block: u32) -> io::Result<Vec<u8>> {
        let span = blocks
            .get(block)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such block"))?;
        let len = usize::try_from(span.end - span.start)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "block too long"))?;
        if let (Some(gzip), Some(index)) = (&self.gzip, blocks.gzip_index()) {
            let mut decoder = index.decoder_before(&gzip.file, span.start)?;
            let skip = span.start - decoder.produced();
            return read_after(&mut decoder, skip, len);
        }
        match self.body {
            Body::File { file, .. } => {
                let mut bytes = vec![0u8; len];
                file.read_exact_at(&mut bytes, span.start)?;
                Ok(bytes)
            }
            Body::Stream(mut reader) => read_after(&mut reader, span.start, len),
        }
    }

    /// A counter of stored bytes consumed so far, for progress bars. It
    /// advances while [`crate::read_lines`] runs, and reaches
    /// [`Opened::total_bytes`] at the end.
    pub fn consumed(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.consumed)
    }
}

/// The `len` bytes of `reader` after its first `skip`.
pub(crate) fn read_after(reader: &mut impl Read, skip: u64, len: usize) -> io::Result<Vec<u8>> {
    let skipped = io::copy(&mut reader.take(skip), &mut io::sink())?;
    if skipped < skip {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let mut bytes = vec![0u8; len];
    reader.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// Opens an input for reading, detecting gzip and zstd from its content.
///
/// Missing files, directories and empty files are reported here, before any
/// work starts.
pub fn open(input: &Input) -> Result<Opened, InputError> {
    let consumed = Arc::new(AtomicU64::new(0));
    let counted = |inner| CountingReader {
        inner,
        consumed: Arc::clone(&consumed),
    };
    let mut gzip = None;
    let (body, compression, total) = match input {
        Input::Path(path) => {
            let file = File::open(path).map_err(InputError::from_open)?;
            let meta = file.metadata().map_err(InputError::Unreadable)?;
            if meta.is_dir() {
                return Err(InputError::IsDirectory);
            }
            if !meta.is_file() {
                // A FIFO or device: it can only be read front to back.
                let (body, compression) = open_stream(counted(Box::new(file)))?;
                (body, compression, None)
            } else if meta.len() == 0 {
                return Err(InputError::Empty);
            } else {
                let len = meta.len();
                let mut head = [0u8; 4];
                let head_len = read_head(&file, &mut head).map_err(InputError::Unreadable)?;
                let compression = Compression::detect(&head[..head_len]);
                let body = match compression {
                    Compression::None => Body::File { file, len },
                    Compression::Gzip => {
                        // Spans are read again through a handle of its own
                        // (positional reads: the reader's offset stays).
                        let own = file.try_clone().map_err(InputError::Unreadable)?;
                        let index = SharedIndex::default();
                        let reader = BufReader::with_capacity(1 << 20, counted(Box::new(file)));
                        gzip = Some(GzipFile {
                            file: own,
                            index: index.clone(),
                        });
                        gzip_body(reader, Some(Recording::into(index)))
                    }
                    Compression::Zstd => stream_body(
                        BufReader::with_capacity(1 << 20, counted(Box::new(file))),
                        compression,
                    ),
                };
                (body, compression, Some(len))
            }
        }
        Input::Stdin => {
            let (body, compression) = open_stream(counted(Box::new(io::stdin())))?;
            (body, compression, None)
        }
    };
    Ok(Opened {
        body,
        compression,
        total,
        consumed,
        gzip,
    })
}

/// Opens a stream from elsewhere (an S3 object, say) for reading, detecting
/// gzip and zstd from its content. `total` is its size as stored, for
/// progress bars, when known.
pub fn open_reader(reader: Box<dyn Read + Send>, total: Option<u64>) -> Result<Opened, InputError> {
    let consumed = Arc::new(AtomicU64::new(0));
    let (body, compression) = open_stream(CountingReader {
        inner: reader,
        consumed: Arc::clone(&consumed),
    })?;
    Ok(Opened {
        body,
        compression,
        total,
        consumed,
        gzip: None,
    })
}

/// Peeks at the first bytes of a stream to detect its compression.
fn open_stream(reader: CountingReader) -> Result<(Body, Compression), InputError> {
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let head = reader.fill_buf().map_err(InputError::Unreadable)?;
    if head.is_empty() {
        return Err(InputError::Empty);
    }
    let compression = Compression::detect(head);
    Ok((stream_body(reader, compression), compression))
}

/// Reads up to `head.len()` bytes from the start of a file without moving
/// its cursor.
fn read_head(file: &File, head: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < head.len() {
        match file.read_at(&mut head[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn stream_body(reader: BufReader<CountingReader>, compression: Compression) -> Body {
    match compression {
        Compression::None => Body::Stream(Box::new(reader)),
        Compression::Gzip => gzip_body(reader, None),
        Compression::Zstd => match zstd::stream::read::Decoder::with_buffer(reader) {
            Ok(decoder) => Body::Stream(Box::new(decoder)),
            Err(err) => Body::Stream(Box::new(FailingReader(Some(err)))),
        },
    }
}

/// A gzip stream's body, making a seek index if `recording`.
fn gzip_body(reader: BufReader<CountingReader>, recording: Option<Recording>) -> Body {
    match GzipDecoder::new(reader, recording) {
        Ok(decoder) => Body::Stream(Box::new(decoder)),
        Err(err) => Body::Stream(Box::new(FailingReader(Some(err)))),
    }
}

/// A reader that fails once with the error that prevented building the real
/// one, so that the failure surfaces where reading errors are handled.
struct FailingReader(Option<io::Error>);

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(err) => Err(err),
            None => Ok(0),
        }
    }
}

/// Counts the stored bytes read through it, for progress reporting.
struct CountingReader {
    inner: Box<dyn Read + Send>,
    consumed: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_compression_from_magic_bytes() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::detect(b"{\"type\""), Compression::None);
        assert_eq!(Compression::detect(b""), Compression::None);
    }

    #[test]
    fn dash_means_stdin() {
        assert_eq!(Input::from_arg(OsStr::new("-")), Input::Stdin);
        assert_eq!(
            Input::from_arg(OsStr::new("a.dump")),
            Input::Path(PathBuf::from("a.dump"))
        );
    }
}
