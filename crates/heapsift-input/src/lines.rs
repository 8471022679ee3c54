//! Splitting an input into lines, in parallel.
//!
//! The input is cut into blocks of whole lines. A line belongs to the block
//! its first byte falls in, so every line is seen exactly once, by one sink,
//! however long it is. Lines are numbered per block while reading (blocks
//! finish out of order) and turned into file line numbers at the end by
//! [`ReadSummary::line_number`].

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use crate::digest::{BlockDigest, BlockHashing};
use crate::gzip::GzipIndex;
use crate::source::{Body, InputError, Opened};

/// Where a line sits: its block and its index within that block. Turn it
/// into a 1-based line number with [`ReadSummary::line_number`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineId {
    /// The block's index, in input order.
    pub block: u32,
    /// The line's index within its block.
    pub line: u32,
}

/// Receives lines, a block of whole lines at a time. Each thread gets its
/// own sink (see [`read_lines`]); a sink sees its blocks in increasing order.
pub trait LineSink: Send {
    /// Called once per block of whole lines, in input order (the input's
    /// last line may lack its `\n`); returns how many lines the block holds,
    /// which numbers the lines of later blocks. A sink that parses the lines
    /// finds their ends as it goes, with no separate search for newlines.
    fn block(&mut self, data: &[u8], block: u32) -> u32;
}

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    /// Target size of a block in bytes.
    pub block_size: usize,
    /// Whether to hash the (decompressed) bytes with BLAKE3 into
    /// [`ReadSummary::digest`]; off unless asked for, so other readers
    /// don't pay for it.
    pub digest: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            threads: 0,
            block_size: 4 << 20,
            digest: false,
        }
    }
}

impl ReadOptions {
    /// The default options with `threads` reading threads (`--threads N`;
    /// 0: one per core).
    pub fn with_threads(threads: usize) -> Self {
        ReadOptions {
            threads,
            ..ReadOptions::default()
        }
    }

    /// These options, also hashing the input (see [`ReadOptions::digest`]).
    pub fn with_digest(self) -> Self {
        ReadOptions {
            digest: true,
            ..self
        }
    }

    /// How many worker threads (and so sinks) reading will use.
    pub fn worker_count(&self) -> usize {
        match self.threads {
            0 => thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

/// What reading found, besides the lines themselves.
#[derive(Debug, Default)]
pub struct ReadSummary {
    /// Bytes of (decompressed) input read.
    pub bytes: u64,
    /// Lines read, including empty ones.
    pub lines: u64,
    /// The last line, when it has no terminating newline.
    pub unterminated_last_line: Option<LineId>,
    /// An error that stopped reading early, after `bytes` bytes: typically a
    /// truncated or corrupt compressed stream. Every line before it was read.
    pub stopped_by: Option<io::Error>,
    /// The BLAKE3 hash of every byte read, when [`ReadOptions::digest`]
    /// asked for it (equal to `b3sum` of the decompressed dump).
    pub digest: Option<[u8; 32]>,
    /// Where each block's lines lie in the (decompressed) input.
    pub blocks: BlockSpans,
    /// Lines per block, indexed by block.
    block_lines: Vec<u32>,
    /// Lines in all blocks before each block; filled by `finish`.
    block_starts: Vec<u64>,
}

impl ReadSummary {
    /// The 1-based line number of a line in the input.
    pub fn line_number(&self, id: LineId) -> u64 {
        self.block_starts
            .get(id.block as usize)
            .copied()
            .unwrap_or(0)
            + u64::from(id.line)
            + 1
    }

    fn record_block(&mut self, read: BlockRead) {
        let index = read.block as usize;
        if self.block_lines.len() <= index {
            self.block_lines.resize(index + 1, 0);
            self.blocks.spans.resize(index + 1, 0..0);
        }
        self.block_lines[index] = read.lines;
        self.blocks.spans[index] = read.span;
    }

    fn finish(&mut self) {
        let mut start = 0u64;
        self.block_starts = self
            .block_lines
            .iter()
            .map(|&n| {
                let here = start;
                start += u64::from(n);
                here
            })
            .collect();
        self.lines = start;
    }
}

/// Reads every line of `input`, giving each worker thread its own sink made
/// by `make_sink`, and returns the sinks for the caller to merge.
///
/// Plain files are read with positional reads by every worker; other inputs
/// are read (and decompressed) by the calling thread while the workers
/// process blocks. Errors opening the input are reported before any line is
/// read; an error part-way through a stream ends reading and is returned in
/// [`ReadSummary::stopped_by`]: the lines before it are still valid.
pub fn read_lines<S, F>(
    input: Opened,
    options: &ReadOptions,
    make_sink: F,
) -> Result<(Vec<S>, ReadSummary), InputError>
where
    S: LineSink,
    F: Fn() -> S + Sync,
{
    let workers = options.worker_count().max(1);
    let block_size = options.block_size.max(1);
    let consumed = input.consumed();
    let gzip_index = input.gzip.as_ref().map(|gzip| Arc::clone(&gzip.index));
    let (sinks, mut summary) = match input.body {
        Body::File { file, len } => {
            let hashing = options
                .digest
                .then(|| BlockHashing::new(len, block_size))
                .flatten();
            let blocks = FileBlocks {
                file: &file,
                len,
                block_size,
                hashing,
            };
            let mut read = read_file(&blocks, workers, &consumed, &make_sink)?;
            if options.digest && hashing.is_none() {
                read.1.digest = Some(hash_file(&file, read.1.bytes)?);
            }
            read
        }
        Body::Stream(reader) => {
            let hasher = options.digest.then(blake3::Hasher::new);
            read_stream(reader, workers, block_size, hasher, &make_sink)
        }
    };
    summary.finish();
    if let Some(index) = gzip_index {
        let mut index = index.lock().unwrap_or_else(PoisonError::into_inner);
        summary.blocks.gzip = Some(Arc::new(std::mem::take(&mut *index)));
    }
    if summary.bytes == 0 {
        return Err(match summary.stopped_by.take() {
            Some(err) => InputError::Unreadable(err),
            None => InputError::Empty,
        });
    }
    Ok((sinks, summary))
}

/// Where each block of a reading lies in the (decompressed) input, by
/// block number (as [`LineSink::block`] and [`LineId`] number them), and
/// for a gzip file the seek index the reading made: what it takes to read
/// one block's lines again, and only those ([`crate::Opened::read_block`]).
#[derive(Debug, Clone, Default)]
pub struct BlockSpans {
    spans: Vec<Range<u64>>,
    gzip: Option<Arc<GzipIndex>>,
}

impl BlockSpans {
    /// The bytes of block `block`'s lines, from the first byte of its first
    /// line to the end of its last (its `\n` included); `None` for a block
    /// the reading did not have.
    pub fn get(&self, block: u32) -> Option<Range<u64>> {
        self.spans.get(block as usize).cloned()
    }

    /// The seek index of a gzip file, made while reading it.
    pub(crate) fn gzip_index(&self) -> Option<&GzipIndex> {
        self.gzip.as_deref()
    }
}

/// One block as a reading thread read it.
struct BlockRead {
    block: u32,
    /// How many lines it holds.
    lines: u32,
    /// Where they lie in the input.
    span: Range<u64>,
}

/// The lines of one block of a plain file, as [`BlockReader`] reads them.
struct FileBlockLines<'b> {
    /// The file offset of their first byte.
    start: u64,
    bytes: &'b [u8],
    /// Whether the last of them runs to the end of the file without a
    /// newline.
    reaches_eof: bool,
}

/// Hashes the first `len` bytes of a plain file in one sequential pass
/// after the parallel read (the file is in the page cache by then): for
/// block sizes whose blocks are not whole BLAKE3 subtrees.
fn hash_file(file: &File, len: u64) -> Result<[u8; 32], InputError> {
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    while offset < len {
        let want = buf.len().min((len - offset) as usize);
        let got = file
            .read_at(&mut buf[..want], offset)
            .map_err(InputError::Unreadable)?;
        if got == 0 {
            break;
        }
        hasher.update(&buf[..got]);
        offset += got as u64;
    }
    Ok(*hasher.finalize().as_bytes())
}

/// A plain file to read in blocks, and how its blocks are hashed (if they
/// are).
struct FileBlocks<'f> {
    file: &'f File,
    len: u64,
    block_size: usize,
    hashing: Option<BlockHashing>,
}

/// What one reading thread of a plain file hands back: its sink, the
/// blocks it read with their line counts, whether its last line runs to
/// the end of the file unterminated, and its blocks' parts of the hash.
struct FileWorker<S> {
    sink: S,
    blocks: Vec<BlockRead>,
    unterminated: bool,
    digests: Vec<(u32, BlockDigest)>,
}

impl<S: LineSink> FileWorker<S> {
    /// Reads blocks, taking the next unread one each time, until none is
    /// left.
    fn run(
        mut self,
        input: &FileBlocks<'_>,
        next_block: &AtomicU64,
        consumed: &AtomicU64,
    ) -> io::Result<Self> {
        let mut reader = BlockReader::new(input.file, input.len);
        loop {
            let index = next_block.fetch_add(1, Ordering::Relaxed);
            let start = index * input.block_size as u64;
            if start >= input.len {
                return Ok(self);
            }
            let end = (start + input.block_size as u64).min(input.len);
            let lines = reader.lines_of_block(start, end)?;
            let block = index as u32;
            let count = self.sink.block(lines.bytes, block);
            self.unterminated |= lines.reaches_eof;
            let first = lines.start;
            self.blocks.push(BlockRead {
                block,
                lines: count,
                span: first..first + lines.bytes.len() as u64,
            });
            if let (Some(hashing), Some(bytes)) = (&input.hashing, reader.bytes(start, end)) {
                self.digests.push((block, hashing.block(start, bytes)));
            }
            consumed.fetch_add(end - start, Ordering::Relaxed);
        }
    }
}

fn read_file<S, F>(
    input: &FileBlocks<'_>,
    workers: usize,
    consumed: &AtomicU64,
    make_sink: &F,
) -> Result<(Vec<S>, ReadSummary), InputError>
where
    S: LineSink,
    F: Fn() -> S + Sync,
{
    let next_block = AtomicU64::new(0);
    let results: Vec<io::Result<FileWorker<S>>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let worker = FileWorker {
                        sink: make_sink(),
                        blocks: Vec::new(),
                        unterminated: false,
                        digests: Vec::new(),
                    };
                    worker.run(input, &next_block, consumed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("reader thread panicked"))
            .collect()
    });
    let mut summary = ReadSummary {
        bytes: input.len,
        ..ReadSummary::default()
    };
    let mut sinks = Vec::with_capacity(results.len());
    let mut unterminated = false;
    let mut digests = Vec::new();
    for result in results {
        let worker = result.map_err(InputError::Unreadable)?;
        for read in worker.blocks {
            summary.record_block(read);
        }
        unterminated |= worker.unterminated;
        digests.extend(worker.digests);
        sinks.push(worker.sink);
    }
    if unterminated {
        summary.unterminated_last_line = last_line_id(&summary);
    }
    if let Some(hashing) = &input.hashing {
        digests.sort_unstable_by_key(|&(block, _)| block);
        let parts: Vec<BlockDigest> = digests.into_iter().map(|(_, part)| part).collect();
        summary.digest = hashing.finish(&parts);
    }
    Ok((sinks, summary))
}

/// The id of the last line read, found from the per-block counts.
fn last_line_id(summary: &ReadSummary) -> Option<LineId> {
    summary
        .block_lines
        .iter()
        .enumerate()
        .rev()
        .find(|(_, n)| **n > 0)
        .map(|(block, n)| LineId {
            block: block as u32,
            line: n - 1,
        })
}

/// Block reads start this many bytes before the block, at a page boundary.
const ALIGNMENT: u64 = 4096;

/// Reads the lines that start within a byte range of a file, extending past
/// the range's end to finish the last line. Its buffer is reused from block
/// to block and only grows for lines longer than a block.
struct BlockReader<'f> {
    file: &'f File,
    len: u64,
    buf: AlignedBuf,
}

impl<'f> BlockReader<'f> {
    fn new(file: &'f File, len: u64) -> Self {
        BlockReader {
            file,
            len,
            buf: AlignedBuf::default(),
        }
    }

    /// Returns the lines whose first byte lies in `start..end`.
    fn lines_of_block(&mut self, start: u64, end: u64) -> io::Result<FileBlockLines<'_>> {
        // Read from a little early, to see whether `start` begins a line.
        // Keeping file offsets and buffer positions equally aligned makes
        // the kernel's copy several times faster than an odd offset would.
        let base = start.saturating_sub(ALIGNMENT);
        let before_start = (start - base).saturating_sub(1) as usize;
        let mut filled = self.fill(base, 0, (end - base) as usize + ALIGNMENT as usize)?;
        let first = if start == 0 {
            0
        } else {
            loop {
                if let Some(nl) = memchr::memchr(b'\n', &self.buf.bytes()[before_start..filled]) {
                    break before_start + nl + 1;
                }
                // The line starting before this block runs past its end.
                if base + filled as u64 >= end {
                    return Ok(FileBlockLines::none(start));
                }
                filled = self.fill(base, filled, filled)?;
            }
        };
        if base + first as u64 >= end {
            return Ok(FileBlockLines::none(start));
        }
        let lines = |bytes, reaches_eof| FileBlockLines {
            start: base + first as u64,
            bytes,
            reaches_eof,
        };
        // Extend until the line containing byte `end - 1` is complete.
        let last_needed = (end - 1 - base) as usize;
        loop {
            let search_from = last_needed.min(filled);
            if let Some(nl) = memchr::memchr(b'\n', &self.buf.bytes()[search_from..filled]) {
                return Ok(lines(&self.buf.bytes()[first..search_from + nl + 1], false));
            }
            if base + filled as u64 >= self.len {
                return Ok(lines(&self.buf.bytes()[first..filled], filled > first));
            }
            let more = filled.max(64 << 10);
            filled = self.fill(base, filled, more)?;
        }
    }

    /// The file's bytes `start..end` of the block just read by
    /// [`BlockReader::lines_of_block`]; `None` if the file ended before
    /// `end` (it shrank while being read).
    fn bytes(&self, start: u64, end: u64) -> Option<&[u8]> {
        let base = start.saturating_sub(ALIGNMENT);
        let from = (start - base) as usize;
        self.buf.bytes().get(from..(end - base) as usize)
    }

    /// Reads up to `more` bytes at file offset `base + filled` into the
    /// buffer after the `filled` bytes already there; returns the new fill.
    fn fill(&mut self, base: u64, filled: usize, more: usize) -> io::Result<usize> {
        let offset = base + filled as u64;
        let want = more.min((self.len - offset.min(self.len)) as usize);
        let buf = self.buf.with_len(filled + want, filled);
        let mut got = 0;
        while got < want {
            match self
                .file
                .read_at(&mut buf[filled + got..filled + want], offset + got as u64)
            {
                Ok(0) => break, // the file shrank while we read it
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.buf.len = filled + got;
        Ok(filled + got)
    }
}

impl FileBlockLines<'_> {
    /// A block no line starts in.
    fn none(start: u64) -> Self {
        FileBlockLines {
            start,
            bytes: &[],
            reaches_eof: false,
        }
    }
}

/// A byte buffer whose first byte sits on a page boundary. The kernel copies
/// file pages into it about four times faster than into a buffer at an odd
/// address (measured: 0.12 s against 0.55 s for 960 MB), and the buffer is
/// reused from block to block.
#[derive(Default)]
struct AlignedBuf {
    storage: Vec<u8>,
    pad: usize,
    len: usize,
}

impl AlignedBuf {
    fn bytes(&self) -> &[u8] {
        &self.storage[self.pad..self.pad + self.len]
    }

    /// Makes the buffer `len` bytes long, keeping its first `keep` bytes.
    fn with_len(&mut self, len: usize, keep: usize) -> &mut [u8] {
        if self.storage.len() < self.pad + len {
            let mut storage = vec![0u8; len + ALIGNMENT as usize];
            let pad = storage.as_ptr().align_offset(ALIGNMENT as usize);
            storage[pad..pad + keep].copy_from_slice(&self.storage[self.pad..self.pad + keep]);
            self.storage = storage;
            self.pad = pad;
        }
        self.len = len;
        &mut self.storage[self.pad..self.pad + len]
    }
}

/// A block read from a stream, handed from the reading thread to a worker.
struct StreamBlock {
    index: u32,
    /// Where it starts in the (decompressed) stream.
    start: u64,
    data: Vec<u8>,
}

fn read_stream<S, F>(
    mut reader: Box<dyn Read + Send>,
    workers: usize,
    block_size: usize,
    mut hasher: Option<blake3::Hasher>,
    make_sink: &F,
) -> (Vec<S>, ReadSummary)
where
    S: LineSink,
    F: Fn() -> S + Sync,
{
    // Blocks travel to the workers through `to_workers` and come back empty
    // through `recycle`, so no more than `workers + 2` buffers ever exist.
    let (to_workers, from_reader) = mpsc::sync_channel::<StreamBlock>(workers);
    let from_reader = Mutex::new(from_reader);
    let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
    let mut summary = ReadSummary::default();

    let results: Vec<(S, Vec<BlockRead>)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let from_reader = &from_reader;
                let recycle = recycle.clone();
                scope.spawn(move || {
                    let mut sink = make_sink();
                    let mut blocks = Vec::new();
                    loop {
                        let next = from_reader.lock().expect("block queue poisoned").recv();
                        let Ok(block) = next else { break };
                        let lines = sink.block(&block.data, block.index);
                        blocks.push(BlockRead {
                            block: block.index,
                            lines,
                            span: block.start..block.start + block.data.len() as u64,
                        });
                        let _ = recycle.send(block.data);
                    }
                    (sink, blocks)
                })
            })
            .collect();
        drop(recycle);

        let mut carry: Vec<u8> = Vec::new();
        let mut index = 0u32;
        let mut buffers_made = 0;
        loop {
            let mut data = match recycled.try_recv() {
                Ok(buf) => buf,
                Err(_) if buffers_made < workers + 2 => {
                    buffers_made += 1;
                    Vec::with_capacity(block_size + (64 << 10))
                }
                Err(_) => recycled.recv().unwrap_or_default(),
            };
            data.clear();
            data.append(&mut carry);
            // Read at least a block, and on until a line ends in it.
            let at_end = loop {
                let searched = data.len();
                let (at_end, error) = fill_block(&mut *reader, &mut data, block_size);
                if error.is_some() {
                    summary.stopped_by = error;
                }
                if at_end || memchr::memchr(b'\n', &data[searched..]).is_some() {
                    break at_end;
                }
            };
            if !at_end {
                // The partial last line goes to the next block.
                let nl = memchr::memrchr(b'\n', &data).expect("the loop above found a newline");
                carry.extend_from_slice(&data[nl + 1..]);
                data.truncate(nl + 1);
            }
            if !data.is_empty() {
                let start = summary.bytes;
                summary.bytes += data.len() as u64;
                if let Some(hasher) = hasher.as_mut() {
                    hasher.update(&data);
                }
                if at_end && !data.ends_with(b"\n") {
                    summary.unterminated_last_line = Some(LineId {
                        block: index,
                        line: memchr::memchr_iter(b'\n', &data).count() as u32,
                    });
                }
                if to_workers.send(StreamBlock { index, start, data }).is_err() {
                    break;
                }
                index += 1;
            }
            if at_end {
                break;
            }
        }
        drop(to_workers);
        handles
            .into_iter()
            .map(|h| h.join().expect("reader thread panicked"))
            .collect()
    });

    let mut sinks = Vec::with_capacity(results.len());
    for (sink, blocks) in results {
        for read in blocks {
            summary.record_block(read);
        }
        sinks.push(sink);
    }
    summary.digest = hasher.map(|hasher| *hasher.finalize().as_bytes());
    (sinks, summary)
}

/// Appends to `data` from `reader` until it holds a block's worth of bytes
/// (or one more block, when it already held a block) or the stream ends.
/// Returns whether the stream ended, and the error that ended it early.
fn fill_block(
    reader: &mut dyn Read,
    data: &mut Vec<u8>,
    block_size: usize,
) -> (bool, Option<io::Error>) {
    let want = if data.len() < block_size {
        block_size - data.len()
    } else {
        block_size
    };
    let before = data.len();
    match reader.take(want as u64).read_to_end(data) {
        Ok(_) => (data.len() - before < want, None),
        Err(err) => (true, Some(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Collects every line with its id.
    #[derive(Default)]
    struct Collect(Vec<(LineId, Vec<u8>)>);

    impl LineSink for Collect {
        fn block(&mut self, data: &[u8], block: u32) -> u32 {
            let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
            // The text after the last newline is a line only if not empty.
            if lines.last().is_some_and(|last| last.is_empty()) {
                lines.pop();
            }
            for (line, text) in lines.iter().enumerate() {
                let id = LineId {
                    block,
                    line: line as u32,
                };
                self.0.push((id, text.to_vec()));
            }
            lines.len() as u32
        }
    }

    fn numbered_lines(
        content: &[u8],
        options: &ReadOptions,
        stream: bool,
    ) -> (Vec<(u64, Vec<u8>)>, ReadSummary) {
        let dir = std::env::temp_dir().join(format!(
            "heapsift-lines-{}-{}-{stream}-{}",
            std::process::id(),
            content.len(),
            options.block_size
        ));
        std::fs::write(&dir, content).unwrap();
        if stream {
            let mut gz = flate2::write::GzEncoder::new(
                File::create(&dir).unwrap(),
                flate2::Compression::fast(),
            );
            gz.write_all(content).unwrap();
            gz.finish().unwrap();
        }
        let opened = crate::open(&crate::Input::Path(dir.clone())).unwrap();
        let (sinks, summary) = read_lines(opened, options, Collect::default).unwrap();
        std::fs::remove_file(&dir).unwrap();
        let mut lines: Vec<_> = sinks
            .into_iter()
            .flat_map(|s| s.0)
            .map(|(id, l)| (summary.line_number(id), l))
            .collect();
        lines.sort();
        (lines, summary)
    }

    fn expected(content: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut parts: Vec<&[u8]> = content.split(|&b| b == b'\n').collect();
        if content.ends_with(b"\n") {
            parts.pop();
        }
        parts
            .into_iter()
            .enumerate()
            .map(|(i, l)| (i as u64 + 1, l.to_vec()))
            .collect()
    }

    #[test]
    fn every_line_once_whatever_the_block_size() {
        let mut content = Vec::new();
        for i in 0..500 {
            let len = (i * 37) % 300;
            content.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, len));
            content.push(b'\n');
        }
        content.extend(std::iter::repeat_n(b'z', 5000)); // a long unterminated last line
        for stream in [false, true] {
            for block_size in [1, 7, 64, 299, 300, 301, 1024, 4096, 1 << 20] {
                let options = ReadOptions {
                    threads: 3,
                    block_size,
                    digest: true,
                };
                let (lines, summary) = numbered_lines(&content, &options, stream);
                assert_eq!(
                    lines,
                    expected(&content),
                    "block size {block_size}, stream {stream}"
                );
                assert_eq!(summary.lines, 501);
                assert_eq!(summary.bytes, content.len() as u64);
                assert_eq!(
                    summary.digest,
                    Some(*blake3::hash(&content).as_bytes()),
                    "block size {block_size}, stream {stream}"
                );
                let last = summary
                    .unterminated_last_line
                    .expect("last line has no newline");
                assert_eq!(summary.line_number(last), 501);
            }
        }
    }

    /// Keeps every block as the sink saw it.
    #[derive(Default)]
    struct KeepBlocks(Vec<(u32, Vec<u8>)>);

    impl LineSink for KeepBlocks {
        fn block(&mut self, data: &[u8], block: u32) -> u32 {
            self.0.push((block, data.to_vec()));
            memchr::memchr_iter(b'\n', data).count() as u32
        }
    }

    #[test]
    fn a_block_read_again_is_the_block_that_was_read() {
        let mut content = Vec::new();
        for i in 0..300 {
            content.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, (i * 53) % 700));
            content.push(b'\n');
        }
        content.extend_from_slice(b"unterminated");
        let path = std::env::temp_dir().join(format!("heapsift-spans-{}", std::process::id()));
        for stream in [false, true] {
            if stream {
                let mut gz = flate2::write::GzEncoder::new(
                    File::create(&path).unwrap(),
                    flate2::Compression::fast(),
                );
                gz.write_all(&content).unwrap();
                gz.finish().unwrap();
            } else {
                std::fs::write(&path, &content).unwrap();
            }
            let input = crate::Input::Path(path.clone());
            for block_size in [1, 100, 699, 4096] {
                let options = ReadOptions {
                    threads: 3,
                    block_size,
                    digest: false,
                };
                let (sinks, summary) =
                    read_lines(crate::open(&input).unwrap(), &options, KeepBlocks::default)
                        .unwrap();
                for (block, data) in sinks.into_iter().flat_map(|sink| sink.0) {
                    let again = crate::open(&input)
                        .unwrap()
                        .read_block(&summary.blocks, block)
                        .unwrap();
                    assert_eq!(
                        again, data,
                        "block {block} of {block_size}, stream {stream}"
                    );
                }
            }
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn terminated_input_has_no_open_last_line() {
        let content = b"one\ntwo\n\nfour\n";
        for stream in [false, true] {
            let (lines, summary) = numbered_lines(
                content,
                &ReadOptions {
                    threads: 2,
                    block_size: 3,
                    digest: false,
                },
                stream,
            );
            assert_eq!(lines, expected(content));
            assert!(summary.unterminated_last_line.is_none());
        }
    }
}
