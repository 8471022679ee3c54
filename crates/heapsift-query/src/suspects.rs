//! `suspects` and `/api/suspects`: the leak, named, with its evidence.

use heapsift_suspects::{Analysis, DumpTime, Measure, SuspectsReport};

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

    /// The suspects of the series' last dump.
    pub fn analyse(&self, last: &Heap) -> Analysis {
        Analysis::of(&last.graph, &last.retention)
    }

    /// The suspects' sizes in an earlier dump.
    pub fn measure(&self, analysis: &Analysis, earlier: &Heap) -> Vec<Option<Measure>> {
        analysis.measure(&earlier.graph, &earlier.retention)
    }

    /// The report: `earlier` holds the measures of each dump before the
    /// last, in order.
    pub fn report(
        &self,
        dumps: &[DumpTime],
        last: Analysis,
        earlier: &[Vec<Option<Measure>>],
    ) -> SuspectsReport {
        SuspectsReport::new(dumps, last, earlier, self.top)
    }
}
