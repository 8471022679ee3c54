//! Bytes in, lines out: the first stage of every heapsift command.
//!
//! [`open`] turns a command-line argument (a path or `-` for stdin) into an
//! [`Opened`] input, detecting gzip and zstd from the content's magic bytes
//! rather than the file name; [`open_reader`] does the same for any other
//! stream (heapsift-store's S3 objects). [`read_lines`] then hands the lines of the
//! (decompressed) input, in blocks of whole lines, to per-thread
//! [`LineSink`]s: plain files are read with positional reads by all threads
//! at once, compressed input and stdin are decompressed by one thread and
//! parsed by the others. Memory stays
//! bounded by a few blocks per thread, whatever the input's size; a single
//! line may be of any length.

mod digest;
mod gzip;
mod lines;
mod source;

pub use lines::{BlockSpans, LineId, LineSink, ReadOptions, ReadSummary, read_lines};
pub use source::{Compression, Input, InputError, Opened, open, open_reader};
