//! Building the graph from a dump's records, read in parallel.

use heapsift_parse::{Record, parse_address};
use heapsift_scan::{Locations, RecordSink, intern};

use crate::addresses::Addresses;
use crate::graph::{BlockNodes, HeapGraph, NONE, SingletonOf};
use crate::narrow::NarrowColumn;

type FastHash = foldhash::fast::RandomState;

/// How much of a string's value is kept to describe it.
const STRING_HEAD: usize = 40;

/// What a graph keeps besides what every report needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GraphDetail {
    /// What the reports need.
    #[default]
    Reports,
    /// Also each object's GC generation and its references exactly as the
    /// dump lists them (the graph's own edges add each object's class and
    /// drop references to objects the dump has no record of): for
    /// `export --objects`, about 12 bytes more per object and reference.
    AsListed,
}

/// One reading thread's share of the graph, in the order it read it.
#[derive(Debug, Default)]
pub struct GraphSink {
    detail: GraphDetail,
    /// Where each block of lines began: (block number, first object).
    blocks: Vec<(u32, u32)>,
    addresses: Vec<u64>,
    kinds: Vec<u8>,
    kind_names: Vec<Box<[u8]>>,
    own_bytes: Vec<u64>,
    class_addresses: Vec<u64>,
    sites: Vec<u32>,
    locations: Locations<()>,
    lengths: Vec<u64>,
    text_ends: Vec<u32>,
    text_bytes: Vec<u8>,
    /// Per object, where its references end in `references`.
    reference_ends: Vec<u32>,
    references: Vec<u64>,
    /// The objects that are singleton classes, ascending, each with its
    /// superclass's address (0 when the dump gives none).
    singletons: Vec<(u32, u64)>,
    /// Per object, its generation (`u64::MAX` when untraced), with
    /// [`GraphDetail::AsListed`] only.
    generations: Vec<u64>,
    /// GC roots: (block, root category, address), in reading order.
    roots: Vec<(u32, u16, u64)>,
    root_kind_names: Vec<Box<[u8]>>,
    block: u32,
}

/// The addresses in the raw content of a `references` array.
fn each_address(raw: &[u8], mut f: impl FnMut(u64)) {
    let mut rest = raw;
    while let Some(open) = memchr::memchr(b'"', rest) {
        let after = &rest[open + 1..];
        let Some(close) = memchr::memchr(b'"', after) else {
            return;
        };
        if let Some(address) = parse_address(&after[..close]) {
            f(address);
        }
        rest = &after[close + 1..];
    }
}

/// The classes and references of every object, resolved to nodes, in
/// node order.
struct Resolved {
    classes: Vec<u32>,
    edge_starts: Vec<u32>,
    edges: Vec<u32>,
}

/// One thread's share of [`Resolved`]: its runs' objects, written into its
/// slices of the graph's columns.
struct ResolvedPart<'a> {
    classes: &'a mut [u32],
    /// Where each object's references end, counted from the part's first.
    edge_ends: &'a mut [u32],
    edges: &'a mut [u32],
}

impl ResolvedPart<'_> {
    /// Resolves the runs' classes and references; returns how many
    /// references were to objects in the dump (and written).
    fn fill(self, sinks: &[GraphSink], runs: &[Run], addresses: &Addresses) -> usize {
        let mut object = 0;
        let mut written = 0;
        for run in runs {
            let sink = &sinks[run.sink];
            for i in run.objects() {
                self.classes[object] = addresses.node_at(sink.class_addresses[i]).unwrap_or(NONE);
                for &address in sink.references_of(i) {
                    if let Some(node) = addresses.node_at(address) {
                        self.edges[written] = node;
                        written += 1;
                    }
                }
                self.edge_ends[object] = written as u32;
                object += 1;
            }
        }
        written
    }
}

/// References and classes in all runs, resolved in parallel: the runs split
/// in two halves of about as many objects each, one per core, each written
/// in place into one set of columns (no half copied after the other).
fn resolve(sinks: &[GraphSink], runs: &[Run], addresses: &Addresses) -> Resolved {
    let total = object_count(runs);
    let mut objects_before = 0usize;
    let split = runs
        .iter()
        .position(|run| {
            objects_before += run.objects().len();
            objects_before >= total / 2
        })
        .map_or(runs.len(), |i| i + 1);
    let (front, back) = runs.split_at(split);
    let references = |runs: &[Run]| -> usize {
        runs.iter()
            .map(|run| {
                let sink = &sinks[run.sink];
                run.objects()
                    .map(|i| sink.references_of(i).len())
                    .sum::<usize>()
            })
            .sum()
    };
    let front_references = references(front);
    let mut classes = vec![0u32; total];
    let mut edge_starts = vec![0u32; total + 1];
    // Zeroed, so the pages a reference to a missing object leaves unused
    // are never touched.
    let mut edges = vec![0u32; front_references + references(back)];
    let front_objects = object_count(front);
    let (front_classes, back_classes) = classes.split_at_mut(front_objects);
    let (front_ends, back_ends) = edge_starts[1..].split_at_mut(front_objects);
    let (front_edges, back_edges) = edges.split_at_mut(front_references);
    let (front_written, back_written) = std::thread::scope(|scope| {
        let back = scope.spawn(move || {
            let part = ResolvedPart {
                classes: back_classes,
                edge_ends: back_ends,
                edges: back_edges,
            };
            part.fill(sinks, back, addresses)
        });
        let part = ResolvedPart {
            classes: front_classes,
            edge_ends: front_ends,
            edges: front_edges,
        };
        let front = part.fill(sinks, front, addresses);
        (front, back.join().expect("resolving thread"))
    });
    for end in &mut edge_starts[front_objects + 1..] {
        *end += front_written as u32;
    }
    edges.copy_within(
        front_references..front_references + back_written,
        front_written,
    );
    edges.truncate(front_written + back_written);
    edges.shrink_to_fit();
    Resolved {
        classes,
        edge_starts,
        edges,
    }
}

impl GraphSink {
    /// The addresses the sink's object `i` references, as its record lists
    /// them.
    fn references_of(&self, i: usize) -> &[u64] {
        let start = if i == 0 {
            0
        } else {
            self.reference_ends[i - 1]
        } as usize;
        &self.references[start..self.reference_ends[i] as usize]
    }

    /// A sink with room for about `objects` objects, so that its columns
    /// need not grow (and be copied) step by step while reading, keeping
    /// `detail`.
    pub fn with_capacity(objects: usize, detail: GraphDetail) -> Self {
        let listed = detail == GraphDetail::AsListed;
        GraphSink {
            detail,
            generations: Vec::with_capacity(if listed { objects } else { 0 }),
            addresses: Vec::with_capacity(objects),
            kinds: Vec::with_capacity(objects),
            own_bytes: Vec::with_capacity(objects),
            class_addresses: Vec::with_capacity(objects),
            sites: Vec::with_capacity(objects),
            lengths: Vec::with_capacity(objects),
            text_ends: Vec::with_capacity(objects),
            reference_ends: Vec::with_capacity(objects),
            references: Vec::with_capacity(objects * 4),
            ..GraphSink::default()
        }
    }
}

impl RecordSink for GraphSink {
    fn block_started(&mut self, block: u32) {
        self.block = block;
        self.blocks.push((block, self.addresses.len() as u32));
    }

    fn record(&mut self, record: &Record<'_>) {
        match record.kind {
            b"ROOT" => {
                let kind =
                    intern(&mut self.root_kind_names, record.root.unwrap_or(b"unknown")) as u16;
                if let Some(raw) = record.references {
                    let block = self.block;
                    each_address(raw, |address| self.roots.push((block, kind, address)));
                }
                return;
            }
            // Shapes live outside the GC heap; their addresses are not slots.
            b"SHAPE" => return,
            _ => {}
        }
        let Some(address) = record.address_value() else {
            return;
        };
        self.addresses.push(address);
        // Neighbouring slots mostly hold objects of the same type.
        let kind = match self.kinds.last() {
            Some(&last) if *self.kind_names[last as usize] == *record.kind => last,
            _ => intern(&mut self.kind_names, record.kind) as u8,
        };
        self.kinds.push(kind);
        self.own_bytes.push(record.memsize_or_zero());
        // The `class` of IMEMO records (3.1 and earlier; `imemo_fields` in
        // 4.0) and NONE records is not a class.
        let class_is_a_class = !matches!(record.kind, b"IMEMO" | b"NONE");
        self.class_addresses.push(
            record
                .class
                .filter(|_| class_is_a_class)
                .and_then(parse_address)
                .unwrap_or(0),
        );
        self.sites.push(match record.file {
            Some(file) => self.locations.index_of(file, record.line) as u32,
            None => NONE,
        });
        self.lengths.push(record.length.unwrap_or(u64::MAX));
        if self.detail == GraphDetail::AsListed {
            self.generations.push(record.generation.unwrap_or(u64::MAX));
        }
        if record.singleton {
            let superclass = record.superclass.and_then(parse_address).unwrap_or(0);
            self.singletons
                .push((self.addresses.len() as u32 - 1, superclass));
        }
        match record.kind {
            b"CLASS" | b"MODULE" => {
                if let Some(name) = record.name_bytes() {
                    self.text_bytes.extend_from_slice(&name);
                }
            }
            b"IMEMO" => {
                if let Some(imemo_type) = record.imemo_type {
                    self.text_bytes.extend_from_slice(imemo_type);
                }
            }
            b"STRING" => {
                if let Some(value) = record.value_bytes() {
                    let mut head = &value[..value.len().min(STRING_HEAD)];
                    // Cut at a character boundary.
                    while !head.is_empty() && std::str::from_utf8(head).is_err() {
                        head = &head[..head.len() - 1];
                    }
                    self.text_bytes.extend_from_slice(head);
                }
            }
            b"DATA" => {
                if let Some(c_type) = record.struct_name {
                    self.text_bytes.extend_from_slice(c_type);
                }
            }
            _ => {}
        }
        self.text_ends.push(self.text_bytes.len() as u32);
        if let Some(raw) = record.references {
            each_address(raw, |address| self.references.push(address));
        }
        self.reference_ends.push(self.references.len() as u32);
    }
}

/// The objects one sink read from one block: `first..end` of its columns.
#[derive(Debug, Clone, Copy)]
struct Run {
    block: u32,
    sink: usize,
    first: u32,
    end: u32,
}

impl Run {
    fn objects(&self) -> std::ops::Range<usize> {
        self.first as usize..self.end as usize
    }
}

/// Every block's objects, in block order (the dump's).
fn runs_of(sinks: &[GraphSink]) -> Vec<Run> {
    let mut runs = Vec::new();
    for (s, sink) in sinks.iter().enumerate() {
        for (i, &(block, first)) in sink.blocks.iter().enumerate() {
            let end = sink
                .blocks
                .get(i + 1)
                .map_or(sink.addresses.len() as u32, |&(_, next)| next);
            if end > first {
                runs.push(Run {
                    block,
                    sink: s,
                    first,
                    end,
                });
            }
        }
    }
    runs.sort_unstable_by_key(|run| run.block);
    runs
}

/// Hands `take(sink, value)` one column of every sink, in the dump's
/// order; each sink's copy is freed once handed over, so that the graph
/// grows as the sinks shrink and the two never both hold every column.
fn drain_column<T: Copy>(
    sinks: &mut [GraphSink],
    runs: &[Run],
    column: impl Fn(&mut GraphSink) -> &mut Vec<T>,
    mut take: impl FnMut(usize, T),
) {
    for run in runs {
        for &value in &column(&mut sinks[run.sink])[run.objects()] {
            take(run.sink, value);
        }
    }
    for sink in sinks {
        *column(sink) = Vec::new();
    }
}

/// Objects in all runs.
fn object_count(runs: &[Run]) -> usize {
    runs.iter().map(|run| run.objects().len()).sum()
}

/// One column of every sink as a graph column, each value passed through
/// `map(sink, value)` (see [`drain_column`]).
fn gather<T: Copy, U>(
    sinks: &mut [GraphSink],
    runs: &[Run],
    column: impl Fn(&mut GraphSink) -> &mut Vec<T>,
    map: impl Fn(usize, T) -> U,
) -> Vec<U> {
    let mut gathered = Vec::with_capacity(object_count(runs));
    drain_column(sinks, runs, column, |s, value| gathered.push(map(s, value)));
    gathered
}

/// [`gather`] into a [`NarrowColumn`], each value read by `value`.
fn gather_narrow(
    sinks: &mut [GraphSink],
    runs: &[Run],
    column: impl Fn(&mut GraphSink) -> &mut Vec<u64>,
    value: impl Fn(u64) -> Option<u64>,
) -> NarrowColumn {
    let mut gathered = NarrowColumn::with_capacity(object_count(runs));
    drain_column(sinks, runs, column, |_, raw| gathered.push(value(raw)));
    gathered
}

impl HeapGraph {
    /// Puts the sinks' objects back in the dump's order, numbers them, and
    /// resolves classes and references to node ids.
    pub fn from_sinks(mut sinks: Vec<GraphSink>) -> HeapGraph {
        let runs = runs_of(&sinks);
        let mut graph = HeapGraph::default();
        let mut locations = Locations::<()>::default();
        let mut kind_names: Vec<Box<[u8]>> = Vec::new();
        let mut site_maps = Vec::new();
        let mut kind_maps = Vec::new();
        for sink in &mut sinks {
            site_maps.push(locations.absorb(std::mem::take(&mut sink.locations), |_, _| {}));
            kind_maps.push(
                sink.kind_names
                    .iter()
                    .map(|name| intern(&mut kind_names, name) as u8)
                    .collect::<Vec<u8>>(),
            );
        }
        graph.site_names = locations.names();
        graph.kind_names = kind_names
            .iter()
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect();

        let mut base = 0u32;
        let mut singletons = Vec::new();
        for run in &runs {
            let sink = &sinks[run.sink];
            graph.blocks.push(BlockNodes {
                block: run.block,
                first: base,
            });
            let lo = sink.singletons.partition_point(|&(i, _)| i < run.first);
            let hi = sink.singletons.partition_point(|&(i, _)| i < run.end);
            singletons.extend(
                sink.singletons[lo..hi]
                    .iter()
                    .map(|&(i, superclass)| (base + (i - run.first), superclass)),
            );
            base += run.end - run.first;
        }
        let listed = !sinks.is_empty() && sinks.iter().all(|s| s.detail == GraphDetail::AsListed);
        if listed {
            graph.keep_listed(&sinks, &runs);
        }
        graph.text_bytes_and_ends(&mut sinks, &runs);
        graph.addresses = Addresses::collect(
            runs.iter()
                .flat_map(|run| sinks[run.sink].addresses[run.objects()].iter().copied()),
        );
        for sink in &mut sinks {
            sink.addresses = Vec::new();
        }
        graph.kinds = gather(
            &mut sinks,
            &runs,
            |s| &mut s.kinds,
            |s, kind| kind_maps[s][kind as usize],
        );
        graph.own_bytes = gather_narrow(&mut sinks, &runs, |s| &mut s.own_bytes, Some);
        graph.sites = gather(
            &mut sinks,
            &runs,
            |s| &mut s.sites,
            |s, site| {
                if site == NONE {
                    NONE
                } else {
                    site_maps[s][site as usize]
                }
            },
        );
        graph.lengths = gather_narrow(
            &mut sinks,
            &runs,
            |s| &mut s.lengths,
            |length| (length != u64::MAX).then_some(length),
        );
        let resolved = resolve(&sinks, &runs, &graph.addresses);
        for sink in &mut sinks {
            sink.class_addresses = Vec::new();
            sink.references = Vec::new();
            sink.reference_ends = Vec::new();
        }
        graph.classes = resolved.classes;
        graph.edge_starts = resolved.edge_starts;
        graph.edges = resolved.edges;
        for (singleton, superclass) in singletons {
            let singleton_of = SingletonOf {
                object: attached_object(&graph, singleton),
                real_class: graph.addresses.node_at(superclass).unwrap_or(NONE),
            };
            graph.singletons.insert(singleton, singleton_of);
        }

        let mut roots: Vec<(u32, usize, u16, u64)> = Vec::new();
        let mut root_kind_names: Vec<Box<[u8]>> = Vec::new();
        for (s, sink) in sinks.iter().enumerate() {
            let kinds: Vec<u16> = sink
                .root_kind_names
                .iter()
                .map(|name| intern(&mut root_kind_names, name) as u16)
                .collect();
            roots.extend(
                sink.roots
                    .iter()
                    .map(|&(block, kind, address)| (block, s, kinds[kind as usize], address)),
            );
        }
        // Stable: within a block, in reading order.
        roots.sort_by_key(|&(block, ..)| block);
        let mut seen = hashbrown::HashSet::<u32, FastHash>::default();
        for (_, _, kind, address) in roots {
            if let Some(node) = graph.addresses.node_at(address)
                && seen.insert(node)
            {
                graph.roots.push(node);
                graph.root_kinds.push(kind);
            }
        }
        graph.root_kind_names = root_kind_names
            .iter()
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect();
        graph
    }
}

impl HeapGraph {
    /// Keeps the generations and listed references of the sinks' objects,
    /// in the dump's order.
    fn keep_listed(&mut self, sinks: &[GraphSink], runs: &[Run]) {
        let mut node = 0u32;
        for run in runs {
            let sink = &sinks[run.sink];
            self.generations
                .extend_from_slice(&sink.generations[run.objects()]);
            for i in run.objects() {
                let references = sink.references_of(i);
                self.listed_to.extend_from_slice(references);
                self.listed_from
                    .extend(std::iter::repeat_n(node, references.len()));
                node += 1;
            }
        }
    }

    /// The sinks' texts (class names, string heads) in the dump's order;
    /// each sink's are freed once gathered.
    fn text_bytes_and_ends(&mut self, sinks: &mut [GraphSink], runs: &[Run]) {
        self.text_ends.reserve_exact(object_count(runs));
        for run in runs {
            let sink = &sinks[run.sink];
            for i in run.objects() {
                let start = if i == 0 { 0 } else { sink.text_ends[i - 1] } as usize;
                self.text_bytes
                    .extend_from_slice(&sink.text_bytes[start..sink.text_ends[i] as usize]);
                self.text_ends.push(self.text_bytes.len() as u32);
            }
        }
        for sink in sinks {
            sink.text_ends = Vec::new();
            sink.text_bytes = Vec::new();
        }
    }
}

/// The object a singleton class belongs to: the one it references (as
/// `__attached__`) whose class it is. Not merely any object whose class it
/// is: `#<Class:X>` is also the class of the singleton classes of X's
/// instances.
fn attached_object(graph: &HeapGraph, singleton: u32) -> u32 {
    graph
        .successors(singleton)
        .iter()
        .find(|&object| object != singleton && graph.classes[object as usize] == singleton)
        .unwrap_or(NONE)
}
