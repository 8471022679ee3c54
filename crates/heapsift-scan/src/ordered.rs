//! Output made per block by parallel sinks, written in the dump's order
//! while reading goes on (redact's copy, diff's `--output-diff`).
//!
//! Each reading thread fills a buffer per block of lines and hands it to
//! one writer thread when it starts its next block; the writer puts the
//! blocks back in order. Memory stays at a few blocks per thread whatever
//! the dump's size: a thread may start a block only when it is less than a
//! window of blocks ahead of the next one to write, so neither a slow disk
//! nor a slow thread (a block of huge lines) lets finished blocks pile up.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;

use heapsift_input::{Opened, ReadOptions};

use crate::scan::{HasStats, RecordSink, ScanError, ScanStats, scan_records};

/// One block's output: its number in the dump, and its bytes.
type Block = (u32, Vec<u8>);

/// The number of the next block the writer needs, shared with the readers
/// so that they wait rather than run ahead of it.
#[derive(Debug)]
struct Progress {
    /// Blocks 0..next are written; `u32::MAX` once the writer has stopped.
    next: Mutex<u32>,
    moved: Condvar,
    /// How far ahead of `next` a block may start.
    window: u32,
}

impl Progress {
    fn wait_for_room(&self, block: u32) {
        let next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        // The block numbered `next` never waits, so the writer always gets
        // the block it needs: no deadlock.
        let _room = self
            .moved
            .wait_while(next, |next| block >= next.saturating_add(self.window))
            .unwrap_or_else(PoisonError::into_inner);
    }

    fn set(&self, next: u32) {
        *self.next.lock().unwrap_or_else(PoisonError::into_inner) = next;
        self.moved.notify_all();
    }
}

/// One reading thread's output, a block at a time.
#[derive(Debug)]
pub struct BlockOutput {
    writer: Option<Sender<Block>>,
    progress: Arc<Progress>,
    current: Option<Block>,
}

impl BlockOutput {
    /// Starts block number `block`, handing the previous one to the writer
    /// (and waiting while `block` is too far ahead of what is written).
    /// Call it from [`RecordSink::block_started`].
    pub fn start(&mut self, block: u32) {
        self.hand_over();
        self.progress.wait_for_room(block);
        self.current = Some((block, Vec::new()));
    }

    /// The current block's bytes, to append to; `None` before the first
    /// [`start`](Self::start).
    pub fn bytes(&mut self) -> Option<&mut Vec<u8>> {
        self.current.as_mut().map(|(_, bytes)| bytes)
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

/// A reading whose output was written in order.
#[derive(Debug)]
pub struct OrderedScan<S> {
    /// One sink per reading thread, to merge.
    pub sinks: Vec<S>,
    /// Lines skipped, recovered or cut off, for warnings.
    pub stats: ScanStats,
    /// How writing went: the bytes written.
    pub written: io::Result<u64>,
}

impl<S> HasStats for OrderedScan<S> {
    fn stats(&self) -> &ScanStats {
        &self.stats
    }
}

/// Reads every record of `input` as [`scan_records`] does, into sinks made
/// by `make_sink` from their [`BlockOutput`], and writes their output to
/// `out` in the dump's order.
pub fn scan_in_order<S, F>(
    input: Opened,
    options: &ReadOptions,
    out: &mut (dyn Write + Send),
    make_sink: F,
) -> Result<OrderedScan<S>, ScanError>
where
    S: WritesBlocks,
    F: Fn(BlockOutput) -> S + Sync,
{
    let (writer, blocks) = channel();
    let progress = Arc::new(Progress {
        next: Mutex::new(0),
        moved: Condvar::new(),
        // Two blocks per thread keep every reader busy.
        window: (options.worker_count() * 2 + 1) as u32,
    });
    thread::scope(|scope| {
        let written = scope.spawn(|| {
            let written = write_in_order(blocks, out, &progress);
            // Stopped (done or failed): nobody waits for room any more.
            progress.set(u32::MAX);
            written
        });
        let scanned = scan_records(input, options, || {
            make_sink(BlockOutput {
                writer: Some(writer.clone()),
                progress: Arc::clone(&progress),
                current: None,
            })
        });
        drop(writer);
        let scanned = scanned.map(|mut scanned| {
            for output in scanned.sinks.iter_mut().filter_map(WritesBlocks::output) {
                output.finish();
            }
            scanned
        });
        let written = written.join().expect("the writer does not panic");
        scanned.map(|scanned| OrderedScan {
            sinks: scanned.sinks,
            stats: scanned.stats,
            written,
        })
    })
}

/// Writes the blocks to `out` in their order as they arrive (blocks are
/// numbered from 0 without gaps; any left waiting at the end are written in
/// order too), telling `progress` which block it needs next. Returns the
/// bytes written.
fn write_in_order(
    blocks: Receiver<Block>,
    out: &mut (dyn Write + Send),
    progress: &Progress,
) -> io::Result<u64> {
    let mut waiting = BTreeMap::new();
    let mut next = 0u32;
    let mut written = 0u64;
    for (number, bytes) in blocks {
        waiting.insert(number, bytes);
        let before = next;
        while let Some(bytes) = waiting.remove(&next) {
            out.write_all(&bytes)?;
            written += bytes.len() as u64;
            next += 1;
        }
        if next != before {
            progress.set(next);
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

    fn progress(window: u32) -> Progress {
        Progress {
            next: Mutex::new(0),
            moved: Condvar::new(),
            window,
        }
    }

    #[test]
    fn blocks_are_written_in_order_whatever_order_they_come_in() {
        let (sender, receiver) = channel();
        for (number, text) in [(2, "c"), (0, "a"), (3, "d"), (1, "b")] {
            sender.send((number, text.as_bytes().to_vec())).unwrap();
        }
        drop(sender);
        let mut out = Vec::new();
        let progress = progress(8);
        assert_eq!(write_in_order(receiver, &mut out, &progress).unwrap(), 4);
        assert_eq!(out, b"abcd");
        assert_eq!(*progress.next.lock().unwrap(), 4);
    }

    #[test]
    fn a_block_too_far_ahead_waits_until_the_writer_catches_up() {
        let progress = Arc::new(progress(2));
        // Blocks 0 and 1 may start at once; 3 waits for 2 to be written.
        progress.wait_for_room(0);
        progress.wait_for_room(1);
        let waiting = {
            let progress = Arc::clone(&progress);
            thread::spawn(move || progress.wait_for_room(3))
        };
        thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiting.is_finished());
        progress.set(2);
        waiting.join().unwrap();
    }
}
