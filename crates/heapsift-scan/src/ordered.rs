//! Output made per block by parallel sinks, written in the dump's order
//! while reading goes on (redact's copy, diff's `--output-diff`).
//!
//! Each reading thread fills a buffer per block of lines and hands it to
//! one writer thread when it starts its next block; the writer puts the
//! blocks back in order. A bounded channel holds the readers back when the
//! disk is slower than they are, so memory stays at a few blocks per
//! thread whatever the dump's size.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use heapsift_input::{Opened, ReadOptions};

use crate::scan::{RecordSink, ScanError, ScanStats, scan_records};

/// One block's output: its number in the dump, and its bytes.
type Block = (u32, Vec<u8>);

/// One reading thread's output, a block at a time.
#[derive(Debug)]
pub struct BlockOutput {
    writer: Option<SyncSender<Block>>,
    current: Option<Block>,
}

impl BlockOutput {
    /// Starts block number `block`, handing the previous one to the writer.
    /// Call it from [`RecordSink::block_started`].
    pub fn start(&mut self, block: u32) {
        self.hand_over();
        self.current = Some((block, Vec::new()));
    }

    /// The current block's bytes, to append to.
    pub fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.current.get_or_insert_default().1
    }

    fn hand_over(&mut self) {
        if let (Some(block), Some(writer)) = (self.current.take(), &self.writer) {
            // The writer only hangs up after failing; it reports why.
            let _ = writer.send(block);
        }
    }

    /// Hands over the last block and lets the writer finish.
    fn finish(&mut self) {
        self.hand_over();
        self.writer = None;
    }
}

/// A sink that writes per-block output.
pub trait WritesBlocks: RecordSink {
    /// Its output, if it was made with one.
    fn output(&mut self) -> Option<&mut BlockOutput>;
}

/// Reads every record of `input` as [`scan_records`] does, into sinks made
/// by `make_sink` from their [`BlockOutput`], and writes their output to
/// `out` in the dump's order. Returns the sinks, what reading found, and
/// how writing went (bytes written).
pub fn scan_in_order<S, F>(
    input: Opened,
    options: &ReadOptions,
    out: &mut (dyn Write + Send),
    make_sink: F,
) -> Result<(Vec<S>, ScanStats, io::Result<u64>), ScanError>
where
    S: WritesBlocks,
    F: Fn(BlockOutput) -> S + Sync,
{
    // Two blocks in flight per thread keep every reader busy.
    let (writer, blocks) = sync_channel(options.worker_count() * 2);
    thread::scope(|scope| {
        let written = scope.spawn(|| write_in_order(blocks, out));
        let scanned = scan_records(input, options, || {
            make_sink(BlockOutput {
                writer: Some(writer.clone()),
                current: None,
            })
        });
        drop(writer);
        let scanned = scanned.map(|(mut sinks, stats)| {
            for output in sinks.iter_mut().filter_map(WritesBlocks::output) {
                output.finish();
            }
            (sinks, stats)
        });
        let written = written.join().expect("the writer does not panic");
        scanned.map(|(sinks, stats)| (sinks, stats, written))
    })
}

/// Writes the blocks to `out` in their order as they arrive (blocks are
/// numbered from 0 without gaps; any left waiting at the end are written in
/// order too). Returns the bytes written.
fn write_in_order(blocks: Receiver<Block>, out: &mut (dyn Write + Send)) -> io::Result<u64> {
    let mut waiting = BTreeMap::new();
    let mut next = 0u32;
    let mut written = 0u64;
    for (number, bytes) in blocks {
        waiting.insert(number, bytes);
        while let Some(bytes) = waiting.remove(&next) {
            out.write_all(&bytes)?;
            written += bytes.len() as u64;
            next += 1;
        }
    }
    for bytes in waiting.into_values() {
        out.write_all(&bytes)?;
        written += bytes.len() as u64;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_written_in_order_whatever_order_they_come_in() {
        let (sender, receiver) = sync_channel(8);
        for (number, text) in [(2, "c"), (0, "a"), (3, "d"), (1, "b")] {
            sender.send((number, text.as_bytes().to_vec())).unwrap();
        }
        drop(sender);
        let mut out = Vec::new();
        assert_eq!(write_in_order(receiver, &mut out).unwrap(), 4);
        assert_eq!(out, b"abcd");
    }
}
