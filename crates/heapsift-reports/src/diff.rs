//! `diff BEFORE AFTER [RETAINED]`: what was allocated between two dumps,
//! and of that, what is still alive in a third.

use hashbrown::HashMap;
use heapsift_parse::Record;
use serde::Serialize;

use crate::scan::RecordSink;

type FastHash = foldhash::fast::RandomState;

/// Who a record is: (address, type, generation). heapy matches by address
/// alone, so a slot reused by a new object hid it; the type and the
/// generation tell the two apart.
type Identity = (u64, u64, u64);

/// The identity of a record; `None` for records without an address
/// (ROOT), which are never new.
fn identity(record: &Record<'_>) -> Option<Identity> {
    let address = record.address_value()?;
    Some((
        address,
        type_code(record.kind),
        record.generation.unwrap_or(u64::MAX),
    ))
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

/// Addresses are grouped by their bits above these: Ruby's heap pages are
/// 64 KiB, so a group is one page's slots.
const PAGE_BITS: u32 = 16;

/// Every identity in a dump, to test AFTER's records against.
///
/// A sorted array with a directory of pages rather than a hash set: a dump
/// lists a page's slots in ascending order, so consecutive lookups land in
/// the same few cache lines, where a hash set sent every lookup to a random
/// place in 100 MB (a third of a three-dump diff was spent waiting there).
#[derive(Debug)]
pub struct Identities {
    /// Every identity, ascending.
    sorted: Vec<Identity>,
    /// Each page present, ascending, with the index of its first identity
    /// in `sorted`.
    pages: Vec<(u64, usize)>,
}

impl Identities {
    /// Merges the sinks of every reading thread, sorting each on a thread
    /// of its own first.
    pub fn from_sinks(mut sinks: Vec<IdentitySink>) -> Self {
        std::thread::scope(|scope| {
            for sink in &mut sinks {
                // Runs of ascending slots make this close to linear.
                scope.spawn(|| sink.identities.sort_unstable());
            }
        });
        let mut sorted: Vec<Identity> =
            Vec::with_capacity(sinks.iter().map(|s| s.identities.len()).sum());
        for sink in sinks {
            sorted.extend(sink.identities);
        }
        // One sorted run per sink: the stable sort merges them.
        sorted.sort();
        let mut pages: Vec<(u64, usize)> = Vec::new();
        for (index, identity) in sorted.iter().enumerate() {
            let page = identity.0 >> PAGE_BITS;
            if pages.last().is_none_or(|&(last, _)| last != page) {
                pages.push((page, index));
            }
        }
        Identities { sorted, pages }
    }

    fn contains(&self, identity: &Identity) -> bool {
        let page = identity.0 >> PAGE_BITS;
        let i = self.pages.partition_point(|&(p, _)| p < page);
        match self.pages.get(i) {
            Some(&(p, start)) if p == page => {
                let end = self.pages.get(i + 1).map_or(self.sorted.len(), |&(_, e)| e);
                self.sorted[start..end].binary_search(identity).is_ok()
            }
            _ => false,
        }
    }
}

/// Counts AFTER's new records (kept only if RETAINED has them, when
/// given) by (type, file, line); keeps their lines when asked to.
#[derive(Debug)]
pub struct DiffSink<'a> {
    before: &'a Identities,
    retained: Option<&'a Identities>,
    groups: HashMap<GroupKey, (u64, u64), FastHash>,
    keep_lines: bool,
    /// Kept lines per block: (block, the lines, each ending in `\n`).
    lines: Vec<(u32, Vec<u8>)>,
}

/// `(type, file, line)`, as written.
type GroupKey = (Box<[u8]>, Box<[u8]>, Option<u64>);

impl<'a> DiffSink<'a> {
    /// A sink comparing with `before` (and `retained`, when given).
    pub fn new(before: &'a Identities, retained: Option<&'a Identities>, keep_lines: bool) -> Self {
        DiffSink {
            before,
            retained,
            groups: HashMap::default(),
            keep_lines,
            lines: Vec::new(),
        }
    }
}

impl RecordSink for DiffSink<'_> {
    fn block_started(&mut self, block: u32) {
        if self.keep_lines {
            self.lines.push((block, Vec::new()));
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
        if let Some((_, lines)) = self.lines.last_mut() {
            lines.extend_from_slice(record.text);
            lines.push(b'\n');
        }
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
    /// Merges the sinks; returns the report and the kept lines in AFTER's
    /// order (empty unless the sinks kept them).
    pub fn from_sinks(sinks: Vec<DiffSink<'_>>) -> (Self, Vec<u8>) {
        let retained = sinks.first().is_some_and(|s| s.retained.is_some());
        let mut groups: HashMap<GroupKey, (u64, u64), FastHash> = HashMap::default();
        let mut blocks = Vec::new();
        for sink in sinks {
            for (key, (count, bytes)) in sink.groups {
                let group = groups.entry(key).or_default();
                group.0 += count;
                group.1 += bytes;
            }
            blocks.extend(sink.lines);
        }
        blocks.sort_by_key(|&(block, _)| block);
        let lines = blocks.into_iter().flat_map(|(_, lines)| lines).collect();
        (DiffReport::from_groups(retained, groups), lines)
    }

    /// The diff of dumps read before: what `after` has that `before` has
    /// not (and `retained` still has, when given). The same report as
    /// reading AFTER through a [`DiffSink`].
    pub fn between(before: &DiffIndex, after: &DiffIndex, retained: Option<&DiffIndex>) -> Self {
        let mut sums = vec![(0u64, 0u64); after.groups.len()];
        for (identity, group, bytes) in &after.records {
            if before.identities.contains(identity)
                || retained.is_some_and(|r| !r.identities.contains(identity))
            {
                continue;
            }
            let sum = &mut sums[*group as usize];
            sum.0 += 1;
            sum.1 += bytes;
        }
        let groups = after
            .groups
            .iter()
            .zip(sums)
            .filter(|(_, (count, _))| *count > 0)
            .map(|(key, sum)| (key.clone(), sum));
        DiffReport::from_groups(retained.is_some(), groups)
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

/// One dump kept for diffs in any direction (the web UI): its identities,
/// and every record's identity, group and size.
#[derive(Debug)]
pub struct DiffIndex {
    identities: Identities,
    records: Vec<(Identity, u32, u64)>,
    groups: Vec<GroupKey>,
}

/// One thread's share of a [`DiffIndex`].
#[derive(Debug, Default)]
pub struct DiffIndexSink {
    identities: IdentitySink,
    records: Vec<(Identity, u32, u64)>,
    groups: HashMap<GroupKey, u32, FastHash>,
}

impl RecordSink for DiffIndexSink {
    fn record(&mut self, record: &Record<'_>) {
        let Some(identity) = identity(record) else {
            return;
        };
        self.identities.identities.push(identity);
        let file = record.file.unwrap_or_default();
        let next = self.groups.len() as u32;
        let group = match self.groups.get(&GroupRef(record.kind, file, record.line)) {
            Some(&group) => group,
            None => {
                let key = (Box::from(record.kind), Box::from(file), record.line);
                *self.groups.entry(key).or_insert(next)
            }
        };
        self.records
            .push((identity, group, record.memsize_or_zero()));
    }
}

impl DiffIndex {
    /// Merges the sinks of every reading thread.
    pub fn from_sinks(sinks: Vec<DiffIndexSink>) -> Self {
        let mut identities = Vec::with_capacity(sinks.len());
        let mut records = Vec::with_capacity(sinks.iter().map(|s| s.records.len()).sum());
        let mut groups: HashMap<GroupKey, u32, FastHash> = HashMap::default();
        for sink in sinks {
            let mut renumbered = vec![0u32; sink.groups.len()];
            for (key, local) in sink.groups {
                let next = groups.len() as u32;
                renumbered[local as usize] = *groups.entry(key).or_insert(next);
            }
            records.extend(
                sink.records
                    .into_iter()
                    .map(|(identity, group, bytes)| (identity, renumbered[group as usize], bytes)),
            );
            identities.push(sink.identities);
        }
        let mut keys: Vec<(u32, GroupKey)> = groups.into_iter().map(|(k, g)| (g, k)).collect();
        keys.sort_unstable_by_key(|(group, _)| *group);
        DiffIndex {
            identities: Identities::from_sinks(identities),
            records,
            groups: keys.into_iter().map(|(_, key)| key).collect(),
        }
    }
}

/// A [`GroupKey`] borrowed from a record, to look one up without copying:
/// hashes as the tuple does.
#[derive(Hash)]
struct GroupRef<'a>(&'a [u8], &'a [u8], Option<u64>);

impl hashbrown::Equivalent<GroupKey> for GroupRef<'_> {
    fn equivalent(&self, key: &GroupKey) -> bool {
        *self.0 == *key.0 && *self.1 == *key.1 && self.2 == key.2
    }
}
