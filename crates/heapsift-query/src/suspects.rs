//! `suspects` and `/api/suspects`: the leak, named, with its evidence.

use std::borrow::Borrow;

use heapsift_suspects::{Analysis, DumpTime, Measures, SuspectsReport};

use crate::Heap;

/// The leak suspects of one dump, or of several dumps of one process.
///
/// A series is read as its last dump first (whose collections are the
/// suspects), then each earlier one to measure them there: one heap graph
/// in memory at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspectsQuery {
    /// How many suspects.
    pub top: usize,
}

impl SuspectsQuery {
    /// Suspects unless asked otherwise.
    pub const DEFAULT_TOP: usize = 10;

    /// The newest dumps of one process a store stands for unless asked
    /// otherwise: the three-dump technique.
    pub const DEFAULT_LAST: usize = 3;

    /// The report of a series of `dumps` (one or more), whose heaps
    /// `heap(i)` gives: asked for the last first, then each earlier one in
    /// order, so that a caller reading them from disk holds one at a time.
    pub fn run<H: Borrow<Heap>, E>(
        &self,
        dumps: &[DumpTime],
        mut heap: impl FnMut(usize) -> Result<H, E>,
    ) -> Result<SuspectsReport, E> {
        let last = dumps.len().saturating_sub(1);
        let analysis = {
            // Dropped before the earlier dumps are asked for.
            let last = heap(last)?;
            let last = last.borrow();
            Analysis::of(&last.graph, &last.retention, last.paths())
        };
        let mut earlier: Vec<Measures> = Vec::with_capacity(last);
        for i in 0..last {
            let heap = heap(i)?;
            let heap = heap.borrow();
            earlier.push(analysis.measure(&heap.graph, &heap.retention));
        }
        Ok(SuspectsReport::new(dumps, analysis, &earlier, self.top))
    }
}
