//! gzip input, with a seek index made while it is read.
//!
//! A gzip stream can only be decompressed from its start: each deflate
//! block may copy from the 32 KB of output before it. zlib's `zran.c`
//! shows the way round that, and this module follows it: while the file is
//! read front to back, every [`CHECKPOINT_SPACING`] bytes of output, where
//! a deflate block ends, a checkpoint keeps where the next block starts
//! (to the bit) and the 32 KB window before it. Reading a span again then
//! starts at the last checkpoint before it: for heapsift serve's object
//! pages, at most 4 MB of decompression instead of the whole dump before the
//! object (measured on the 960 MB benchmark dump, gzip -1: an object's page
//! took 0.39–0.84 s decompressing from the start, 0.011–0.021 s from a
//! checkpoint). The index costs 32 KB per 4 MB of dump (0.8 %). Reading
//! the whole file is faster than through flate2's `MultiGzDecoder` (0.34 s
//! against 0.53 s for that dump): zlib-rs checks the CRC-32 itself.
//!
//! zlib's API (`inflatePrime`, `Z_BLOCK`, `data_type`) is reached through
//! `libz-rs-sys`, over the same zlib-rs that flate2 uses elsewhere; the
//! `unsafe` calls are fenced in [`Inflater`], whose stream lives in a `Box`
//! so that it never moves after `inflateInit2` (zlib's state points back
//! at it).
#![allow(unsafe_code)]

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex, PoisonError};

use libz_rs_sys as zlib;

/// Decompressed bytes between checkpoints: what a reading of one span
/// decompresses, at most, before the span.
pub(crate) const CHECKPOINT_SPACING: u64 = 4 << 20;

/// The most output a deflate block may copy from: what a checkpoint keeps.
const WINDOW: usize = 32 << 10;

/// `windowBits` for a gzip member with its header and trailer.
const GZIP_BITS: i32 = 15 + 16;

/// `windowBits` for raw deflate data, as a checkpoint resumes.
const RAW_BITS: i32 = -15;

/// Where decompression can start again in the middle of a gzip file.
#[derive(Debug)]
struct Checkpoint {
    /// Its offset in the decompressed bytes.
    output: u64,
    /// The offset of the first compressed byte not yet read there.
    input: u64,
    /// How many high bits of the byte before `input` begin the next block.
    bits: u8,
    /// The output before it (up to 32 KB) that later blocks may copy from.
    window: Box<[u8]>,
}

/// A gzip file's checkpoints, in order, from one reading of it.
#[derive(Debug, Default)]
pub(crate) struct GzipIndex {
    checkpoints: Vec<Checkpoint>,
}

/// The index a reading fills in, shared with whoever reads the spans later.
pub(crate) type SharedIndex = Arc<Mutex<GzipIndex>>;

impl GzipIndex {
    /// A decoder of the gzip `file` this index was made from, resuming at
    /// the last checkpoint at or before the decompressed `offset` (its
    /// [`GzipDecoder::produced`] says where).
    pub(crate) fn decoder_before<'f>(
        &self,
        file: &'f File,
        offset: u64,
    ) -> io::Result<GzipDecoder<BufReader<ReadAt<'f>>>> {
        let after = self.checkpoints.partition_point(|c| c.output <= offset);
        match after.checked_sub(1) {
            Some(i) => GzipDecoder::at(file, &self.checkpoints[i]),
            None => GzipDecoder::new(BufReader::new(ReadAt { file, offset: 0 }), None),
        }
    }
}

/// Reads a file from an offset with positional reads: spans are read by
/// many requests at once from one file.
pub(crate) struct ReadAt<'f> {
    file: &'f File,
    offset: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

/// Decompresses a gzip stream of one or more members; when it reads from
/// the start, it records checkpoints into an index.
pub(crate) struct GzipDecoder<R> {
    input: R,
    inflater: Inflater,
    /// Whether the deflate data being read is raw (resumed at a checkpoint),
    /// so that its member's trailer is skipped by hand.
    raw: bool,
    /// Whether the last member ended and no other has begun.
    between_members: bool,
    /// Decompressed bytes before the next one to come out.
    produced: u64,
    /// Compressed bytes read so far (from the file's start).
    consumed: u64,
    /// The index being made, when reading from the start.
    recording: Option<Recording>,
}

/// An index being made.
pub(crate) struct Recording {
    index: SharedIndex,
    /// Decompressed bytes between checkpoints.
    spacing: u64,
    /// The output offset from which the next checkpoint may be made.
    next: u64,
}

impl Recording {
    /// Checkpoints every [`CHECKPOINT_SPACING`] bytes into `index`.
    pub(crate) fn into(index: SharedIndex) -> Self {
        Recording::every(CHECKPOINT_SPACING, index)
    }

    fn every(spacing: u64, index: SharedIndex) -> Self {
        Recording {
            index,
            spacing,
            next: spacing,
        }
    }
}

impl<R: BufRead> GzipDecoder<R> {
    /// A decoder of the gzip stream `input`, from its start, making an
    /// index as `recording` says, if given.
    pub(crate) fn new(input: R, recording: Option<Recording>) -> io::Result<Self> {
        Ok(GzipDecoder {
            input,
            inflater: Inflater::new(GZIP_BITS)?,
            raw: false,
            between_members: false,
            produced: 0,
            consumed: 0,
            recording,
        })
    }

    /// The decompressed offset of the next byte it gives.
    pub(crate) fn produced(&self) -> u64 {
        self.produced
    }

    /// Keeps a checkpoint when decompression stands at the end of a block
    /// (or of a member's header) far enough from the last one.
    fn maybe_checkpoint(&mut self) {
        let Some(recording) = &mut self.recording else {
            return;
        };
        if self.produced < recording.next || !self.inflater.at_block_boundary() {
            return;
        }
        // The next block starts this many bits into the file: zlib-rs
        // may hold several whole bytes read ahead, which stock zlib gives
        // back.
        let start = self.consumed * 8 - u64::from(self.inflater.bits_held());
        let input = start.div_ceil(8);
        let checkpoint = Checkpoint {
            output: self.produced,
            input,
            bits: (input * 8 - start) as u8,
            window: self.inflater.window(),
        };
        recording
            .index
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .checkpoints
            .push(checkpoint);
        recording.next = self.produced + recording.spacing;
    }

    /// Starts on the member after the one that ended, if there is one.
    fn next_member(&mut self) -> io::Result<bool> {
        if self.raw {
            // The trailer (CRC-32 and size) of the member resumed in raw mode.
            let mut trailer = [0u8; 8];
            self.input
                .read_exact(&mut trailer)
                .map_err(|_| incomplete())?;
            self.consumed += 8;
            self.raw = false;
        }
        if self.input.fill_buf()?.is_empty() {
            return Ok(false);
        }
        self.inflater.reset(GZIP_BITS)?;
        self.between_members = false;
        Ok(true)
    }
}

impl<'f> GzipDecoder<BufReader<ReadAt<'f>>> {
    /// A decoder of `file` resuming at `checkpoint`.
    fn at(file: &'f File, checkpoint: &Checkpoint) -> io::Result<Self> {
        let mut inflater = Inflater::new(RAW_BITS)?;
        if checkpoint.bits > 0 {
            // The block begins in the high bits of the byte before.
            let mut byte = [0u8];
            file.read_exact_at(&mut byte, checkpoint.input - 1)?;
            inflater.prime(checkpoint.bits, byte[0] >> (8 - checkpoint.bits))?;
        }
        inflater.set_dictionary(&checkpoint.window)?;
        let offset = checkpoint.input;
        Ok(GzipDecoder {
            input: BufReader::with_capacity(256 << 10, ReadAt { file, offset }),
            inflater,
            raw: true,
            between_members: false,
            produced: checkpoint.output,
            consumed: offset,
            recording: None,
        })
    }
}

impl<R: BufRead> Read for GzipDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Z_BLOCK stops at every block's end, where checkpoints are made.
        let flush = if self.recording.is_some() {
            zlib::Z_BLOCK
        } else {
            zlib::Z_NO_FLUSH
        };
        loop {
            if self.between_members && !self.next_member()? {
                return Ok(0);
            }
            let input = self.input.fill_buf()?;
            if input.is_empty() {
                return Err(incomplete());
            }
            let step = self.inflater.inflate(input, buf, flush)?;
            self.input.consume(step.read);
            self.consumed += step.read as u64;
            self.produced += step.written as u64;
            if step.member_ended {
                self.between_members = true;
            } else {
                self.maybe_checkpoint();
            }
            if step.written > 0 {
                return Ok(step.written);
            }
        }
    }
}

fn incomplete() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "incomplete gzip stream")
}

/// What one call of `inflate` did.
struct Step {
    read: usize,
    written: usize,
    member_ended: bool,
}

/// A zlib inflate stream: the one place that calls zlib's C-style API.
struct Inflater {
    /// Boxed so that it never moves once initialised.
    stream: Box<zlib::z_stream>,
}

impl Inflater {
    fn new(window_bits: i32) -> io::Result<Self> {
        let mut stream = Box::new(zlib::z_stream::default());
        // SAFETY: `stream` is a valid, default-initialised z_stream (its
        // allocator set) that stays at one address; the version and size
        // are this library's own.
        let code = unsafe {
            zlib::inflateInit2_(
                &mut *stream,
                window_bits,
                zlib::zlibVersion(),
                size_of::<zlib::z_stream>() as i32,
            )
        };
        check(code, &stream, "cannot start decompressing")?;
        Ok(Inflater { stream })
    }

    fn reset(&mut self, window_bits: i32) -> io::Result<()> {
        // SAFETY: the stream was initialised by `new`.
        let code = unsafe { zlib::inflateReset2(&mut *self.stream, window_bits) };
        check(code, &self.stream, "cannot start the next gzip member")
    }

    fn prime(&mut self, bits: u8, value: u8) -> io::Result<()> {
        // SAFETY: the stream was initialised by `new`.
        let code = unsafe { zlib::inflatePrime(&mut *self.stream, i32::from(bits), value.into()) };
        check(code, &self.stream, "cannot resume at a checkpoint")
    }

    fn set_dictionary(&mut self, window: &[u8]) -> io::Result<()> {
        // SAFETY: the stream was initialised by `new`; `window` is valid
        // for reads of its length.
        let code = unsafe {
            zlib::inflateSetDictionary(&mut *self.stream, window.as_ptr(), window.len() as u32)
        };
        check(code, &self.stream, "cannot resume at a checkpoint")
    }

    /// The output (up to 32 KB) the blocks to come may copy from.
    fn window(&self) -> Box<[u8]> {
        let mut window = vec![0u8; WINDOW];
        let mut len: u32 = 0;
        // SAFETY: the stream was initialised by `new`; `window` has room
        // for the largest dictionary, 32 KB.
        unsafe { zlib::inflateGetDictionary(&*self.stream, window.as_mut_ptr(), &mut len) };
        window.truncate(len as usize);
        window.into_boxed_slice()
    }

    /// Whether the last call stopped at the end of a deflate block (or of
    /// a member's header), with more blocks to come in this member.
    fn at_block_boundary(&self) -> bool {
        self.stream.data_type & 128 != 0 && self.stream.data_type & 64 == 0
    }

    /// How many bits read from the input are not yet used (fewer than 64).
    fn bits_held(&self) -> u8 {
        (self.stream.data_type & 63) as u8
    }

    fn inflate(&mut self, input: &[u8], output: &mut [u8], flush: i32) -> io::Result<Step> {
        let avail_in = input.len().min(u32::MAX as usize) as u32;
        let avail_out = output.len().min(u32::MAX as usize) as u32;
        self.stream.next_in = input.as_ptr();
        self.stream.avail_in = avail_in;
        self.stream.next_out = output.as_mut_ptr();
        self.stream.avail_out = avail_out;
        // SAFETY: the stream was initialised by `new`; `next_in` and
        // `next_out` point into `input` and `output`, valid for the lengths
        // given, and are not kept after this call.
        let code = unsafe { zlib::inflate(&mut *self.stream, flush) };
        let step = Step {
            read: (avail_in - self.stream.avail_in) as usize,
            written: (avail_out - self.stream.avail_out) as usize,
            member_ended: code == zlib::Z_STREAM_END,
        };
        self.stream.next_in = std::ptr::null();
        self.stream.next_out = std::ptr::null_mut();
        match code {
            zlib::Z_OK | zlib::Z_STREAM_END | zlib::Z_BUF_ERROR => Ok(step),
            _ => check(code, &self.stream, "corrupt gzip stream").map(|()| step),
        }
    }
}

// SAFETY: the stream and the state it points to are owned by this value
// alone (allocated by zlib-rs through Rust's allocator), and its input and
// output pointers are null between calls: nothing in it is shared with
// another thread, so it may move to one (flate2's own streams are Send
// for the same reason).
unsafe impl Send for Inflater {}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: the stream was initialised by `new` and is ended once.
        unsafe { zlib::inflateEnd(&mut *self.stream) };
    }
}

/// `Ok` for `Z_OK`, else an error with zlib's message after `what`.
fn check(code: i32, stream: &zlib::z_stream, what: &str) -> io::Result<()> {
    if code == zlib::Z_OK {
        return Ok(());
    }
    let detail = if stream.msg.is_null() {
        format!("zlib error {code}")
    } else {
        // SAFETY: zlib sets `msg` to a static, NUL-terminated message.
        unsafe { std::ffi::CStr::from_ptr(stream.msg) }
            .to_string_lossy()
            .into_owned()
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{what}: {detail}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::read_after;
    use std::io::Write;
    use std::ops::Range;

    /// Text like a dump's: lines of varied, partly repeating content, so
    /// that blocks end at odd bit positions and copy from far back.
    fn text(lines: usize, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut x = seed;
        for i in 0..lines {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let value = x >> 40;
            writeln!(
                out,
                "{{\"address\":\"0x{:x}\", \"type\":\"STRING\", \"memsize\":{}, \"value\":\"{:x}{}\"}}",
                0x7f00_0000_0000u64 + i as u64 * 40,
                value % 1000,
                x,
                "ab".repeat((value % 50) as usize)
            )
            .unwrap();
        }
        out
    }

    fn gzip(parts: &[&[u8]]) -> Vec<u8> {
        let mut file = Vec::new();
        for part in parts {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            gz.write_all(part).unwrap();
            file.extend(gz.finish().unwrap());
        }
        file
    }

    fn temp_file(name: &str, bytes: &[u8]) -> (std::path::PathBuf, File) {
        let path =
            std::env::temp_dir().join(format!("heapsift-gzip-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let file = File::open(&path).unwrap();
        (path, file)
    }

    #[test]
    fn every_span_read_from_its_checkpoint_equals_the_text() {
        // Three members, 1 MB of text: checkpoints every 64 KB in the
        // first and the last member, spans that cross members.
        let (a, b, c) = (text(4_000, 1), text(3, 2), text(3_000, 3));
        let whole = [&a[..], &b[..], &c[..]].concat();
        let (path, file) = temp_file("spans", &gzip(&[&a, &b, &c]));
        let index: SharedIndex = Arc::default();
        let recording = Recording::every(64 << 10, index.clone());
        let mut decoder =
            GzipDecoder::new(BufReader::new(File::open(&path).unwrap()), Some(recording)).unwrap();
        let mut read = Vec::new();
        decoder.read_to_end(&mut read).unwrap();
        drop(decoder);
        assert_eq!(read, whole);
        let index = index.lock().unwrap();
        assert!(
            index.checkpoints.len() >= 5,
            "{} checkpoints",
            index.checkpoints.len()
        );
        assert!(index.checkpoints.iter().any(|c| c.bits != 0));
        let len = whole.len() as u64;
        let mut spans = vec![0..10, 0..len, len - 5..len, len..len];
        for checkpoint in &index.checkpoints {
            let at = checkpoint.output;
            spans.extend([
                at - 1..at + 1,
                at..at + 100,
                at + 7..(at + 200_000).min(len),
            ]);
        }
        spans.push(a.len() as u64 - 3..(a.len() + b.len()) as u64 + 3);
        let read_span = |span: Range<u64>| {
            let mut decoder = index.decoder_before(&file, span.start)?;
            let skip = span.start - decoder.produced();
            read_after(&mut decoder, skip, (span.end - span.start) as usize)
        };
        for span in spans {
            let got = read_span(span.clone()).unwrap();
            assert!(
                got == whole[span.start as usize..span.end as usize],
                "span {span:?}"
            );
        }
        assert!(read_span(len - 1..len + 1).is_err());
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_cut_or_corrupt_stream_is_an_error_after_its_good_bytes() {
        let whole = text(2000, 4);
        let file = gzip(&[&whole]);
        let mut read = Vec::new();
        let cut = GzipDecoder::new(&file[..file.len() / 2], None)
            .unwrap()
            .read_to_end(&mut read)
            .unwrap_err();
        assert_eq!(cut.to_string(), "incomplete gzip stream");
        assert!(!read.is_empty() && whole.starts_with(&read));

        let mut corrupt = file.clone();
        corrupt[20..40].fill(0xff);
        let error = GzipDecoder::new(&corrupt[..], None)
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(
            error.to_string().starts_with("corrupt gzip stream: "),
            "{error}"
        );

        let garbage = GzipDecoder::new(&b"\x1f\x8b\x08\x00garbage that is not deflate"[..], None)
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(
            garbage.to_string().starts_with("corrupt gzip stream: "),
            "{garbage}"
        );
    }
}
