//! `read DUMP`: objects and memory per GC generation.

use std::collections::HashMap;

use heapsift_parse::Record;
use serde::Serialize;

use heapsift_scan::RecordSink;

/// Objects and memory of a dump, grouped by the generation they were
/// allocated in (heapy's "Analyzing Heap" report).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenerationSummary {
    /// One bucket per generation, ascending; records without a generation
    /// (untraced objects, ROOT and SHAPE records) are in the first bucket,
    /// whose `generation` is `null`.
    pub generations: Vec<GenerationBucket>,
    /// Totals over all buckets.
    pub total: HeapTotal,
}

/// The records allocated in one generation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenerationBucket {
    /// The generation (`GC.count` at allocation), or `None` for records
    /// without one.
    pub generation: Option<u64>,
    /// Number of records.
    pub count: u64,
    /// Sum of their `memsize`, in bytes.
    pub memsize: u64,
    /// `memsize` in kB rounded to one decimal, half away from zero, as the
    /// text report prints it.
    pub kb: f64,
}

/// Totals of a [`GenerationSummary`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeapTotal {
    /// Number of generation buckets, the `null` one included.
    pub generations: usize,
    /// Number of records.
    pub count: u64,
    /// Sum of all `memsize`, in bytes.
    pub memsize: u64,
    /// `memsize` in kB, rounded as in [`GenerationBucket::kb`].
    pub kb: f64,
}

/// Bytes in kB rounded to one decimal, half away from zero, as Ruby's
/// `(bytes / 1024.0).round(1)`; exact for any realistic heap size.
pub fn kilobytes(bytes: u64) -> f64 {
    let tenths = (u128::from(bytes) * 10 * 2 + 1024) / 2048;
    tenths as f64 / 10.0
}

/// Generations below this are counted in a vector indexed by generation
/// (`GC.count` stays far below it in practice); larger ones in a map.
const DENSE_GENERATIONS: u64 = 1 << 20;

/// Counts records per generation; one per reading thread.
#[derive(Debug, Default)]
pub struct SummarySink {
    /// (count, memsize) per generation, indexed by generation.
    dense: Vec<(u64, u64)>,
    sparse: HashMap<u64, (u64, u64)>,
}

impl RecordSink for SummarySink {
    fn record(&mut self, record: &Record<'_>) {
        let generation = record.generation_or_zero();
        let bucket = if generation < DENSE_GENERATIONS {
            let index = generation as usize;
            if index >= self.dense.len() {
                self.dense.resize(index + 1, (0, 0));
            }
            &mut self.dense[index]
        } else {
            self.sparse.entry(generation).or_default()
        };
        bucket.0 += 1;
        bucket.1 += record.memsize_or_zero();
    }
}

impl SummarySink {
    /// Every non-empty bucket as (generation, (count, memsize)).
    fn into_buckets(self) -> impl Iterator<Item = (u64, (u64, u64))> {
        let dense = self
            .dense
            .into_iter()
            .enumerate()
            .map(|(g, bucket)| (g as u64, bucket));
        dense
            .filter(|(_, (count, _))| *count > 0)
            .chain(self.sparse)
    }
}

impl GenerationSummary {
    /// Merges the sinks of every reading thread into the report.
    pub fn from_sinks(sinks: Vec<SummarySink>) -> Self {
        let mut merged: HashMap<u64, (u64, u64)> = HashMap::new();
        for sink in sinks {
            for (generation, (count, memsize)) in sink.into_buckets() {
                let bucket = merged.entry(generation).or_default();
                bucket.0 += count;
                bucket.1 += memsize;
            }
        }
        let mut generations: Vec<GenerationBucket> = merged
            .into_iter()
            .map(|(generation, (count, memsize))| GenerationBucket {
                generation: (generation != 0).then_some(generation),
                count,
                memsize,
                kb: kilobytes(memsize),
            })
            .collect();
        generations.sort_by_key(|b| b.generation.unwrap_or(0));
        let count = generations.iter().map(|b| b.count).sum();
        let memsize = generations.iter().map(|b| b.memsize).sum();
        GenerationSummary {
            total: HeapTotal {
                generations: generations.len(),
                count,
                memsize,
                kb: kilobytes(memsize),
            },
            generations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kilobytes_round_half_away_from_zero() {
        assert_eq!(kilobytes(0), 0.0);
        assert_eq!(kilobytes(256), 0.3); // 0.25 kB
        assert_eq!(kilobytes(1280), 1.3); // 1.25 kB
        assert_eq!(kilobytes(1279), 1.2);
        assert_eq!(kilobytes(28_583_321), 27913.4);
    }
}
