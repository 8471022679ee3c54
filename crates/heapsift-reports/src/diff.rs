//! `diff BEFORE AFTER [RETAINED]`: what was allocated between two dumps,
//! and of that, what is still alive in a third.

use hashbrown::HashMap;
use heapsift_parse::Record;
use serde::Serialize;

use heapsift_scan::{AddressIndex, Addressed, BlockOutput, RecordSink, WritesBlocks};

type FastHash = foldhash::fast::RandomState;

/// Who a record is. heapy matches by address alone, so a slot reused by a
/// new object hid it; the type and the generation tell the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Identity {
    address: u64,
    kind: u64,
    generation: u64,
}

impl Addressed for Identity {
    fn address(&self) -> u64 {
        self.address
    }
}

/// The identity of a record; `None` for records without an address
/// (ROOT), which are never new.
fn identity(record: &Record<'_>) -> Option<Identity> {
    Some(Identity {
        address: record.address_value()?,
        kind: type_code(record.kind),
        generation: record.generation.unwrap_or(u64::MAX),
    })
}

/// A number for a type name: its position among Ruby's types, or a hash of
/// the name (high bit set) for any other.
fn type_code(kind: &[u8]) -> u64 {
    const TYPES: [&[u8]; 23] = [
        b"NONE",
        b"OBJECT",
        b"CLASS",
        b"MODULE",
        b"ICLASS",
        b"FLOAT",
        b"STRING",
        b"REGEXP",
        b"ARRAY",
        b"HASH",
        b"STRUCT",
        b"BIGNUM",
        b"FILE",
        b"DATA",
        b"MATCH",
        b"COMPLEX",
        b"RATIONAL",
        b"SYMBOL",
        b"IMEMO",
        b"NODE",
        b"ZOMBIE",
        b"SHAPE",
        b"ROOT",
    ];
    match TYPES.iter().position(|t| *t == kind) {
        Some(i) => i as u64,
        None => {
            // FNV-1a: stable across runs, unlike the process's hasher.
            let hash = kind.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            hash | 1 << 63
        }
    }
}

/// The identities of one dump's records (one thread's share).
#[derive(Debug, Default)]
pub struct IdentitySink {
    identities: Vec<Identity>,
}

impl RecordSink for IdentitySink {
    fn record(&mut self, record: &Record<'_>) {
        if let Some(identity) = identity(record) {
            self.identities.push(identity);
        }
    }
}

/// Every identity in a dump, to test AFTER's records against: one index
/// per reading thread, so that none is copied into one list and merged.
#[derive(Debug)]
pub struct Identities(Vec<AddressIndex<Identity>>);

impl Identities {
    /// Indexes the sinks of every reading thread, each on a thread of its
    /// own.
    pub fn from_sinks(sinks: Vec<IdentitySink>) -> Self {
        let indexes = std::thread::scope(|scope| {
            let indexing: Vec<_> = sinks
                .into_iter()
                .map(|sink| scope.spawn(|| AddressIndex::new(sink.identities)))
                .collect();
            indexing
                .into_iter()
                .map(|thread| thread.join().expect("indexing thread"))
                .collect()
        });
        Identities(indexes)
    }

    fn contains(&self, identity: &Identity) -> bool {
        self.0.iter().any(|index| index.contains(identity))
    }
}

/// Counts AFTER's new records (kept only if RETAINED has them, when
/// given) by (type, file, line); writes their lines when given an output.
#[derive(Debug)]
pub struct DiffSink<'a> {
    before: &'a Identities,
    retained: Option<&'a Identities>,
    groups: HashMap<GroupKey, (u64, u64), FastHash>,
    kept_lines: Option<BlockOutput>,
}

/// `(type, file, line)`, as written.
type GroupKey = (Box<[u8]>, Box<[u8]>, Option<u64>);

impl<'a> DiffSink<'a> {
    /// A sink comparing with `before` (and `retained`, when given).
    pub fn new(before: &'a Identities, retained: Option<&'a Identities>) -> Self {
        DiffSink {
            before,
            retained,
            groups: HashMap::default(),
            kept_lines: None,
        }
    }

    /// A sink that also writes the kept lines to `kept_lines`, with
    /// [`heapsift_scan::scan_in_order`].
    pub fn writing(self, kept_lines: BlockOutput) -> Self {
        DiffSink {
            kept_lines: Some(kept_lines),
            ..self
        }
    }
}

impl RecordSink for DiffSink<'_> {
    fn block_started(&mut self, block: u32) {
        if let Some(output) = &mut self.kept_lines {
            output.start(block);
        }
    }

    fn record(&mut self, record: &Record<'_>) {
        let Some(identity) = identity(record) else {
            return;
        };
        if self.before.contains(&identity) || self.retained.is_some_and(|r| !r.contains(&identity))
        {
            return;
        }
        let key = (
            Box::from(record.kind),
            Box::from(record.file.unwrap_or_default()),
            record.line,
        );
        let group = self.groups.entry(key).or_default();
        group.0 += 1;
        group.1 += record.memsize_or_zero();
        if let Some(lines) = self.kept_lines.as_mut().and_then(BlockOutput::bytes) {
            lines.extend_from_slice(record.text);
            lines.push(b'\n');
        }
    }
}

impl WritesBlocks for DiffSink<'_> {
    fn output(&mut self) -> Option<&mut BlockOutput> {
        self.kept_lines.as_mut()
    }
}

/// The `diff` report.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// Whether a RETAINED dump filtered the new records (`Retained`) or
    /// not (`Allocated`).
    pub retained: bool,
    /// Bytes of all the kept records.
    pub total_bytes: u64,
    /// One row per (type, file, line), most objects first, ties by the
    /// key `type,file,line`.
    pub groups: Vec<DiffGroup>,
}

/// Kept records of one type allocated at one place.
#[derive(Debug, Clone, Serialize)]
pub struct DiffGroup {
    /// The records' type, e.g. `STRING`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where they were allocated, when traced.
    pub file: Option<String>,
    /// The line, when traced.
    pub line: Option<u64>,
    /// How many.
    pub count: u64,
    /// Their memsize, summed.
    pub bytes: u64,
}

impl DiffReport {
    /// Merges the sinks of every reading thread.
    pub fn from_sinks(sinks: Vec<DiffSink<'_>>) -> Self {
        let retained = sinks.first().is_some_and(|s| s.retained.is_some());
        let mut groups: HashMap<GroupKey, (u64, u64), FastHash> = HashMap::default();
        for sink in sinks {
            for (key, (count, bytes)) in sink.groups {
                let group = groups.entry(key).or_default();
                group.0 += count;
                group.1 += bytes;
            }
        }
        DiffReport::from_groups(retained, groups)
    }

    /// Rows sorted as heapy sorts them: most objects first, ties by the key
    /// `type,file,line`.
    fn from_groups(
        retained: bool,
        groups: impl IntoIterator<Item = (GroupKey, (u64, u64))>,
    ) -> Self {
        let mut rows: Vec<(Vec<u8>, GroupKey, (u64, u64))> = groups
            .into_iter()
            .map(|(key, value)| {
                let mut sort_key = key.0.to_vec();
                sort_key.push(b',');
                sort_key.extend_from_slice(&key.1);
                sort_key.push(b',');
                if let Some(line) = key.2 {
                    sort_key.extend_from_slice(line.to_string().as_bytes());
                }
                (sort_key, key, value)
            })
            .collect();
        rows.sort_by(|a, b| b.2.0.cmp(&a.2.0).then_with(|| a.0.cmp(&b.0)));
        let total_bytes = rows.iter().map(|(_, _, (_, bytes))| bytes).sum();
        let groups = rows
            .into_iter()
            .map(|(_, (kind, file, line), (count, bytes))| DiffGroup {
                kind: String::from_utf8_lossy(&kind).into_owned(),
                file: (!file.is_empty()).then(|| String::from_utf8_lossy(&file).into_owned()),
                line,
                count,
                bytes,
            })
            .collect();
        DiffReport {
            retained,
            total_bytes,
            groups,
        }
    }
}
