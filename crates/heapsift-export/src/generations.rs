//! Each object's GC generation, gathered while the graph is built (the
//! graph keeps no generations), for the `objects` table.

use hashbrown::HashMap;
use heapsift_parse::Record;
use heapsift_scan::RecordSink;

type FastHash = foldhash::fast::RandomState;

/// One reading thread's (address, generation) pairs; collects nothing
/// unless made [`GenerationSink::collecting`].
#[derive(Debug, Default)]
pub struct GenerationSink {
    collecting: bool,
    pairs: Vec<(u64, u64)>,
}

impl GenerationSink {
    /// A sink that collects (`--objects`), or one that doesn't.
    pub fn collecting(collecting: bool) -> Self {
        GenerationSink {
            collecting,
            pairs: Vec::new(),
        }
    }
}

impl RecordSink for GenerationSink {
    fn record(&mut self, record: &Record<'_>) {
        if self.collecting
            && let (Some(address), Some(generation)) = (record.address_value(), record.generation)
        {
            self.pairs.push((address, generation));
        }
    }
}

/// Generations by address, merged from every reading thread.
#[derive(Debug, Default)]
pub struct Generations(HashMap<u64, u64, FastHash>);

impl Generations {
    /// Merges the sinks.
    pub fn from_sinks(sinks: Vec<GenerationSink>) -> Self {
        let mut map = HashMap::default();
        for sink in sinks {
            map.extend(sink.pairs);
        }
        Generations(map)
    }

    /// The generation of the object at `address`, when traced.
    pub fn get(&self, address: u64) -> Option<u64> {
        self.0.get(&address).copied()
    }
}
