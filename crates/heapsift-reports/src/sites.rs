//! Objects and bytes per type, allocation site, class and generation: the
//! `sites` table of `export`, from which SQL rebuilds `read`'s tables and
//! `trend`'s groups.

use std::collections::BTreeMap;

use hashbrown::HashMap;
use heapsift_parse::{Record, parse_address};
use heapsift_scan::{Locations, RecordSink, intern};

use crate::classes::ClassNames;

type FastHash = foldhash::fast::RandomState;

/// The site number of untraced objects.
const UNTRACED: u32 = u32::MAX;

/// A group while counting: every part is a number, so the key is cheap to
/// hash and copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    /// The site's number in the sink's [`Locations`], or [`UNTRACED`].
    site: u32,
    /// The type's number in the sink's `kinds`.
    kind: u32,
    /// The class's address (0: none).
    class: u64,
    generation: Option<u64>,
}

/// One reading thread's counts.
#[derive(Debug, Default)]
pub struct SiteSink {
    sites: Locations<()>,
    kinds: Vec<Box<[u8]>>,
    counts: HashMap<Key, (u64, u64), FastHash>,
    class_names: ClassNames,
}

impl RecordSink for SiteSink {
    fn record(&mut self, record: &Record<'_>) {
        self.class_names.note(record);
        // ROOT records are not objects.
        if record.address.is_none() {
            return;
        }
        let site = match record.file {
            Some(file) => self.sites.index_of(file, record.line) as u32,
            None => UNTRACED,
        };
        let key = Key {
            site,
            kind: intern(&mut self.kinds, record.kind) as u32,
            class: record.class.and_then(parse_address).unwrap_or(0),
            generation: record.generation,
        };
        let entry = self.counts.entry(key).or_default();
        entry.0 += 1;
        entry.1 += record.memsize_or_zero();
    }
}

/// One row of the `sites` table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SiteRow {
    /// The objects' type, e.g. `STRING`.
    pub kind: String,
    /// Where they were allocated (`None`: untraced).
    pub file: Option<String>,
    /// The line there, when the dump gives one.
    pub line: Option<u64>,
    /// Their class's name (`None`: no class, or an unnamed one).
    pub class_name: Option<String>,
    /// The GC generation they were allocated in, when traced.
    pub generation: Option<u64>,
    /// How many objects.
    pub objects: u64,
    /// Their `memsize`, summed.
    pub bytes: u64,
}

/// The ordered identity of a row: everything but its counts.
type RowKey = (
    String,
    Option<String>,
    Option<u64>,
    Option<String>,
    Option<u64>,
);

/// Merges the sinks of every reading thread into rows, ordered by type,
/// file, line, class and generation; groups whose classes are both unnamed
/// are one row.
pub fn site_rows(sinks: Vec<SiteSink>) -> Vec<SiteRow> {
    let mut class_names = ClassNames::default();
    let mut merged = BTreeMap::<RowKey, (u64, u64)>::new();
    let mut resolved = Vec::new();
    for sink in sinks {
        class_names.absorb(sink.class_names);
        resolved.push((sink.sites, sink.kinds, sink.counts));
    }
    let index = class_names.index();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    for (sites, kinds, counts) in resolved {
        let files: Vec<(String, Option<u64>)> = sites.keys().map(|(f, l)| (text(f), l)).collect();
        for (key, (objects, bytes)) in counts {
            let (file, line) = match key.site {
                UNTRACED => (None, None),
                site => {
                    let (file, line) = &files[site as usize];
                    (Some(file.clone()), *line)
                }
            };
            let class_name = index.name_at(key.class).map(text);
            let row = (
                text(&kinds[key.kind as usize]),
                file,
                line,
                class_name,
                key.generation,
            );
            let entry = merged.entry(row).or_default();
            entry.0 += objects;
            entry.1 += bytes;
        }
    }
    merged
        .into_iter()
        .map(
            |((kind, file, line, class_name, generation), (objects, bytes))| SiteRow {
                kind,
                file,
                line,
                class_name,
                generation,
                objects,
                bytes,
            },
        )
        .collect()
}
