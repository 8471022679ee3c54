//! `read DUMP GEN|all`: where the objects of a generation were allocated.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use heapsift_parse::Record;
use serde::{Serialize, Serializer};

use crate::classes::ClassNames;
use heapsift_scan::Locations;
use heapsift_scan::RecordSink;

type FastHash = foldhash::fast::RandomState;

/// Which records a generation report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationSelector {
    /// Every generation (`read DUMP all`).
    All,
    /// Records whose generation is this one (0 selects records without one).
    Only(u64),
}

impl GenerationSelector {
    fn selects(self, record: &Record<'_>) -> bool {
        match self {
            GenerationSelector::All => true,
            GenerationSelector::Only(generation) => record.generation_or_zero() == generation,
        }
    }
}

impl fmt::Display for GenerationSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenerationSelector::All => f.write_str("all"),
            GenerationSelector::Only(generation) => write!(f, "{generation}"),
        }
    }
}

impl Serialize for GenerationSelector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            GenerationSelector::All => serializer.serialize_str("all"),
            GenerationSelector::Only(generation) => serializer.serialize_u64(*generation),
        }
    }
}

/// heapy's per-generation report: memory and objects by allocation site,
/// objects by class, references by site, and duplicate strings.
///
/// Only records that have a `file` (traced allocations) are counted. Every
/// table is sorted by its number, descending, ties by key (byte order), and
/// cut to the requested number of rows; totals cover all rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenerationReport {
    /// The generation(s) covered.
    pub generation: GenerationSelector,
    /// The row limit the tables were cut to.
    pub lines: usize,
    /// Sum of `memsize` per location.
    pub allocated_by_memory: LocationTable,
    /// Number of objects per location.
    pub object_count: LocationTable,
    /// Number of objects per class name.
    pub object_counts_by_class: Vec<ClassRow>,
    /// Outgoing references per location (only locations with `references`).
    pub high_ref_counts: Vec<LocationRow>,
    /// String values held by two or more STRING records.
    pub duplicate_strings: Vec<DuplicateString>,
}

/// A table of numbers per allocation site, with the total over all sites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationTable {
    /// Sum over every location, including rows cut off.
    pub total: u64,
    /// The top rows.
    pub rows: Vec<LocationRow>,
}

/// A number for one allocation site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationRow {
    /// `file:line` (`file:` when the line is unknown).
    pub location: String,
    /// Bytes, objects or references, depending on the table.
    pub value: u64,
}

/// Objects of one class name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassRow {
    /// The class name.
    pub class_name: String,
    /// Number of objects.
    pub count: u64,
}

/// A string value found in several STRING records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateString {
    /// The value's bytes (7-bit in dumps).
    #[serde(serialize_with = "lossy_string")]
    pub value: Vec<u8>,
    /// Number of records holding it.
    pub count: u64,
    /// Where those records were allocated, with a count each.
    pub locations: Vec<LocationRow>,
}

fn lossy_string<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(bytes))
}

/// An allocation site, owned.
#[derive(Debug, Default, Clone, Copy)]
struct LocationStats {
    memsize: u64,
    count: u64,
    references: u64,
    has_references: bool,
}

/// How often a string value was seen, and where (location index, count).
#[derive(Debug, Default)]
struct StringStats {
    count: u64,
    locations: Vec<(u32, u64)>,
}

impl StringStats {
    fn add(&mut self, location: u32, count: u64) {
        self.count += count;
        match self.locations.iter_mut().find(|(l, _)| *l == location) {
            Some((_, n)) => *n += count,
            None => self.locations.push((location, count)),
        }
    }
}

/// Collects one thread's share of a [`GenerationReport`].
#[derive(Debug)]
pub struct GenerationSink {
    selector: GenerationSelector,
    locations: Locations<LocationStats>,
    /// Objects per `class` field, keyed by its text: parsing the address
    /// once per class at the end is cheaper than once per record.
    classes: hashbrown::HashMap<Vec<u8>, u64, FastHash>,
    class_names: ClassNames,
    strings: hashbrown::HashMap<Vec<u8>, StringStats, FastHash>,
    traced: TracedGenerations,
}

/// The generations that have traced objects (a `file`), to say which
/// exist when the one asked for does not: a bit per generation, which costs
/// a few instructions per record where a set would hash.
#[derive(Debug, Default, Clone)]
struct TracedGenerations {
    bits: Vec<u64>,
    /// Generations too big for `bits` (a process that ran a billion GCs).
    beyond: std::collections::BTreeSet<u64>,
}

impl TracedGenerations {
    /// Bits kept at most: generations up to about a million.
    const MAX_WORDS: usize = 1 << 14;

    fn insert(&mut self, generation: u64) {
        let word = (generation / 64) as usize;
        if word >= Self::MAX_WORDS {
            self.beyond.insert(generation);
            return;
        }
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        self.bits[word] |= 1 << (generation % 64);
    }

    fn absorb(&mut self, other: TracedGenerations) {
        if other.bits.len() > self.bits.len() {
            self.bits.resize(other.bits.len(), 0);
        }
        for (into, from) in self.bits.iter_mut().zip(other.bits) {
            *into |= from;
        }
        self.beyond.extend(other.beyond);
    }

    /// Ascending.
    fn to_vec(&self) -> Vec<u64> {
        let in_bits = self.bits.iter().enumerate().flat_map(|(word, &bits)| {
            (0..64)
                .filter(move |bit| bits & (1 << bit) != 0)
                .map(move |bit| word as u64 * 64 + bit)
        });
        in_bits.chain(self.beyond.iter().copied()).collect()
    }
}

/// The dump has no traced object in the generation asked for (heapy: "not a
/// valid Generation").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoSuchGeneration {
    /// The generations that do have traced objects, ascending (0 stands
    /// for traced objects without a generation).
    pub traced: Vec<u64>,
}

impl GenerationSink {
    /// A sink for the given selection.
    pub fn new(selector: GenerationSelector) -> Self {
        GenerationSink {
            selector,
            locations: Locations::default(),
            classes: hashbrown::HashMap::default(),
            class_names: ClassNames::default(),
            strings: hashbrown::HashMap::default(),
            traced: TracedGenerations::default(),
        }
    }
}

impl RecordSink for GenerationSink {
    fn record(&mut self, record: &Record<'_>) {
        self.class_names.note(record);
        if record.file.is_some() {
            self.traced.insert(record.generation_or_zero());
        }
        if self.selector.selects(record) {
            self.count(record);
        }
    }
}

impl GenerationSink {
    /// Counts a selected record.
    fn count(&mut self, record: &Record<'_>) {
        let Some(file) = record.file else { return };
        let index = self.locations.index_of(file, record.line);
        let stats = &mut self.locations[index];
        stats.memsize += record.memsize_or_zero();
        stats.count += 1;
        if record.references.is_some() {
            stats.references += u64::from(record.reference_count);
            stats.has_references = true;
        }
        if let Some(class) = record.class {
            *self.classes.entry_ref(class).or_default() += 1;
        }
        if record.kind == b"STRING"
            && let Some(value) = record.value_bytes()
        {
            // Copies the value only the first time it is seen.
            let stats = self.strings.entry_ref(value.as_ref()).or_default();
            stats.add(index as u32, 1);
        }
    }
}

impl GenerationReport {
    /// Merges the sinks of every reading thread into the report, cutting
    /// each table to `lines` rows. Fails when no selected record has a
    /// `file` (heapy: "not a valid Generation").
    pub fn from_sinks(sinks: Vec<GenerationSink>, lines: usize) -> Result<Self, NoSuchGeneration> {
        let Some(mut merged) = merge(sinks) else {
            return Err(NoSuchGeneration { traced: Vec::new() });
        };
        let class_names = std::mem::take(&mut merged.class_names);
        let traced = merged.traced.to_vec();
        Self::from_merged(&merged, &class_names, lines).ok_or(NoSuchGeneration { traced })
    }

    /// The report of a merged sink, naming classes with `class_names`.
    fn from_merged(
        merged: &GenerationSink,
        class_names: &ClassNames,
        lines: usize,
    ) -> Option<Self> {
        if merged.locations.is_empty() {
            return None;
        }
        let GenerationSink {
            selector,
            locations,
            classes,
            strings,
            ..
        } = merged;

        let names = locations.names();
        let location_table = |value: fn(&LocationStats) -> u64| LocationTable {
            total: locations.values().map(value).sum(),
            rows: top_rows(
                locations
                    .values()
                    .enumerate()
                    .map(|(i, stats)| (names[i].as_str(), value(stats))),
                lines,
            ),
        };
        let allocated_by_memory = location_table(|s| s.memsize);
        let object_count = location_table(|s| s.count);
        let high_ref_counts = top_rows(
            locations
                .values()
                .enumerate()
                .filter(|(_, s)| s.has_references)
                .map(|(i, s)| (names[i].as_str(), s.references)),
            lines,
        );

        let class_index = class_names.index();
        let mut by_name: HashMap<&[u8], u64> = HashMap::new();
        for (class, count) in classes {
            if let Some(name) = class_index.name(class) {
                *by_name.entry(name).or_default() += count;
            }
        }
        let mut class_rows: Vec<(&[u8], u64)> = by_name.into_iter().collect();
        sort_rows(&mut class_rows);
        class_rows.truncate(lines);
        let object_counts_by_class = class_rows
            .into_iter()
            .map(|(name, count)| ClassRow {
                class_name: String::from_utf8_lossy(name).into_owned(),
                count,
            })
            .collect();

        let mut duplicates: Vec<(&Vec<u8>, &StringStats)> = strings
            .iter()
            .filter(|(_, stats)| stats.count >= 2)
            .collect();
        duplicates.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
        duplicates.truncate(lines);
        let duplicate_strings = duplicates
            .into_iter()
            .map(|(value, stats)| DuplicateString {
                value: value.clone(),
                count: stats.count,
                locations: top_rows(
                    stats
                        .locations
                        .iter()
                        .map(|(i, n)| (names[*i as usize].as_str(), *n)),
                    usize::MAX,
                ),
            })
            .collect();

        Some(GenerationReport {
            generation: *selector,
            lines,
            allocated_by_memory,
            object_count,
            object_counts_by_class,
            high_ref_counts,
            duplicate_strings,
        })
    }
}

/// Sorts by number descending, ties by key ascending (byte order).
fn sort_rows<K: Ord>(rows: &mut [(K, u64)]) {
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

fn top_rows<'a>(rows: impl Iterator<Item = (&'a str, u64)>, lines: usize) -> Vec<LocationRow> {
    let mut rows: Vec<(&str, u64)> = rows.collect();
    sort_rows(&mut rows);
    rows.truncate(lines);
    rows.into_iter()
        .map(|(location, value)| LocationRow {
            location: location.to_owned(),
            value,
        })
        .collect()
}

impl GenerationReport {
    /// The report with every table cut to `lines` rows: the same as computing
    /// it with `lines`, since tables are sorted before they are cut.
    pub fn truncated(&self, lines: usize) -> Self {
        let lines = lines.min(self.lines);
        let cut = |table: &LocationTable| LocationTable {
            total: table.total,
            rows: table.rows.iter().take(lines).cloned().collect(),
        };
        GenerationReport {
            generation: self.generation,
            lines,
            allocated_by_memory: cut(&self.allocated_by_memory),
            object_count: cut(&self.object_count),
            object_counts_by_class: self
                .object_counts_by_class
                .iter()
                .take(lines)
                .cloned()
                .collect(),
            high_ref_counts: self.high_ref_counts.iter().take(lines).cloned().collect(),
            duplicate_strings: self.duplicate_strings.iter().take(lines).cloned().collect(),
        }
    }
}

/// Collects the reports of every generation in one reading, for a reader
/// (the web UI) that answers for any generation without reading the dump
/// again. Each record is counted once, in its generation's sink; the
/// report of `all` is those sinks merged once read. Counting each record
/// twice (for `all` and for its generation) took a quarter of the reading
/// threads' time in `serve` on the 9.4 GB benchmark dump (perf).
#[derive(Debug, Default)]
pub struct EveryGenerationSink {
    /// The class names of every generation's records.
    class_names: ClassNames,
    each: hashbrown::HashMap<u64, GenerationSink, FastHash>,
}

impl RecordSink for EveryGenerationSink {
    fn record(&mut self, record: &Record<'_>) {
        self.class_names.note(record);
        if record.file.is_some() {
            let generation = record.generation_or_zero();
            self.each
                .entry(generation)
                .or_insert_with(|| GenerationSink::new(GenerationSelector::Only(generation)))
                .count(record);
        }
    }
}

/// The generation report of `all` and of every generation of a dump, with
/// tables of up to a fixed number of rows; [`GenerationReports::get`] cuts
/// them shorter.
#[derive(Debug, Clone)]
pub struct GenerationReports {
    all: Option<GenerationReport>,
    each: BTreeMap<u64, GenerationReport>,
}

impl GenerationReports {
    /// Merges the sinks of every reading thread; tables keep `lines` rows.
    pub fn from_sinks(sinks: Vec<EveryGenerationSink>, lines: usize) -> Self {
        let mut class_names = ClassNames::default();
        let mut each: HashMap<u64, Vec<GenerationSink>> = HashMap::new();
        for sink in sinks {
            class_names.absorb(sink.class_names);
            for (generation, sink) in sink.each {
                each.entry(generation).or_default().push(sink);
            }
        }
        let mut merged: Vec<(u64, GenerationSink)> = each
            .into_iter()
            .filter_map(|(generation, sinks)| Some((generation, merge(sinks)?)))
            .collect();
        let each = merged
            .iter()
            .filter_map(|(generation, sink)| {
                let report = GenerationReport::from_merged(sink, &class_names, lines)?;
                Some((*generation, report))
            })
            .collect();
        // `merge` merges into the last: the biggest, which then need not
        // be copied.
        merged.sort_by_key(|(_, sink)| sink.strings.len() + sink.locations.len());
        let all =
            merge(merged.into_iter().map(|(_, sink)| sink).collect()).map(|all| GenerationSink {
                selector: GenerationSelector::All,
                ..all
            });
        GenerationReports {
            all: all.and_then(|all| GenerationReport::from_merged(&all, &class_names, lines)),
            each,
        }
    }

    /// The report for `selector` with tables of at most `lines` rows (and
    /// at most as many as were kept); fails as
    /// [`GenerationReport::from_sinks`] does.
    pub fn get(
        &self,
        selector: GenerationSelector,
        lines: usize,
    ) -> Result<GenerationReport, NoSuchGeneration> {
        let report = match selector {
            GenerationSelector::All => self.all.as_ref(),
            GenerationSelector::Only(generation) => self.each.get(&generation),
        };
        report
            .map(|report| report.truncated(lines))
            .ok_or_else(|| NoSuchGeneration {
                traced: self.each.keys().copied().collect(),
            })
    }
}

fn merge(mut sinks: Vec<GenerationSink>) -> Option<GenerationSink> {
    let mut merged = sinks.pop()?;
    for sink in sinks {
        merge_into(&mut merged, sink);
    }
    Some(merged)
}

fn merge_into(into: &mut GenerationSink, from: GenerationSink) {
    let remap = into.locations.absorb(from.locations, |target, stats| {
        target.memsize += stats.memsize;
        target.count += stats.count;
        target.references += stats.references;
        target.has_references |= stats.has_references;
    });
    for (class, count) in from.classes {
        *into.classes.entry(class).or_default() += count;
    }
    into.class_names.absorb(from.class_names);
    into.traced.absorb(from.traced);
    for (value, stats) in from.strings {
        let target = into.strings.entry(value).or_default();
        for (location, count) in stats.locations {
            target.add(remap[location as usize], count);
        }
    }
}
