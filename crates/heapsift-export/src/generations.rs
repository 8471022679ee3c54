//! What the `objects` and `references` tables need besides the graph,
//! gathered in the same pass: each object's GC generation (the graph keeps
//! none) and the references exactly as the dump lists them (the graph
//! adds each object's class as an edge and drops references to addresses
//! the dump has no record of).

use hashbrown::HashMap;
use heapsift_graph::each_address;
use heapsift_parse::Record;
use heapsift_scan::RecordSink;

type FastHash = foldhash::fast::RandomState;

/// One reading thread's generations and references; collects nothing
/// unless made [`ObjectsSink::collecting`].
#[derive(Debug, Default)]
pub struct ObjectsSink {
    collecting: bool,
    generations: Vec<(u64, u64)>,
    references: Vec<(u64, u64)>,
}

impl ObjectsSink {
    /// A sink that collects (`--objects`), or one that doesn't.
    pub fn collecting(collecting: bool) -> Self {
        ObjectsSink {
            collecting,
            ..ObjectsSink::default()
        }
    }
}

impl RecordSink for ObjectsSink {
    fn record(&mut self, record: &Record<'_>) {
        if !self.collecting {
            return;
        }
        let Some(address) = record.address_value() else {
            return;
        };
        if let Some(generation) = record.generation {
            self.generations.push((address, generation));
        }
        if let Some(raw) = record.references {
            each_address(raw, |to| self.references.push((address, to)));
        }
    }
}

/// Generations by address and every reference, merged from every reading
/// thread.
#[derive(Debug, Default)]
pub struct ObjectExtras {
    generations: HashMap<u64, u64, FastHash>,
    /// (from, to) addresses, as the dump lists them.
    pub references: Vec<(u64, u64)>,
}

impl ObjectExtras {
    /// Merges the sinks.
    pub fn from_sinks(sinks: Vec<ObjectsSink>) -> Self {
        let mut merged = ObjectExtras::default();
        for sink in sinks {
            merged.generations.extend(sink.generations);
            merged.references.extend(sink.references);
        }
        merged
    }

    /// The generation of the object at `address`, when traced.
    pub fn generation(&self, address: u64) -> Option<u64> {
        self.generations.get(&address).copied()
    }
}
