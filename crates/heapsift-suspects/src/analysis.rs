//! One dump: where retained memory accumulates, and what is not the app's.

use heapsift_graph::{HeapGraph, PathTree, RetainedRow, Retention, Totals};
use serde::Serialize;

type FastHash = foldhash::fast::RandomState;

/// The share of the reachable heap a collection's similar members must
/// retain together to make it a suspect: 0.5 %, so that a leak is caught
/// while still small next to a framework's tables.
const MIN_SHARE: f64 = 0.005;

/// ...and at least this many bytes, so that a tiny heap does not make
/// every small Hash a suspect.
const MIN_BYTES: u64 = 32 << 10;

/// The fewest similar members that make an accumulation point.
const MIN_MEMBERS: u64 = 8;

/// Candidates kept from one dump: more than a report shows, so that a
/// growing one still ranks first where bigger stable ones are.
const CANDIDATES: usize = 30;

/// Groups of accumulated objects kept per candidate.
const ACCUMULATED_KEPT: usize = 5;

/// A Thread's own memory (its machine stack) is set apart from this size.
const THREAD_STACK_SHOWN: u64 = 64 << 10;

/// Types whose objects are the app's data; the others are code and the
/// VM's own (classes, method entries, instruction sequences, symbols).
const DATA_TYPES: [&str; 13] = [
    "OBJECT", "STRING", "ARRAY", "HASH", "STRUCT", "DATA", "FLOAT", "BIGNUM", "REGEXP", "MATCH",
    "RATIONAL", "COMPLEX", "FILE",
];

/// What one dump says about its leak suspects.
#[derive(Debug)]
pub struct Analysis {
    /// The reachable heap.
    pub reachable: Totals,
    /// The allocation tracer's own table, when tracing was on.
    pub tracing: Option<Tracing>,
    /// The accumulation points, biggest first.
    pub candidates: Vec<Candidate>,
    /// Big objects that are not the app's data, biggest first.
    pub excluded: Vec<Excluded>,
}

/// What tracing allocations costs: the tracer's table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tracing {
    /// Bytes the table retains.
    pub bytes: u64,
    /// Its share of the reachable heap, 0 to 1.
    pub share: f64,
}

/// An object set apart from the suspects, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Excluded {
    /// Why it is not the app's data.
    pub reason: String,
    /// Its address; `None` for a row that adds up many objects.
    pub address: Option<String>,
    /// What it is.
    pub description: String,
    /// The bytes counted against it.
    pub retained_bytes: u64,
}

/// Objects of one type, class and site that accumulate under a suspect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accumulated {
    /// Their type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Their class, when named.
    pub class_name: Option<String>,
    /// Where they were allocated, when traced: usually the line to fix.
    pub location: Option<String>,
    /// How many.
    pub count: u64,
    /// What they retain together.
    pub bytes: u64,
}

/// One accumulation point of a dump, with its evidence.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The collection itself.
    pub point: RetainedRow,
    /// The nearest named holder on its path from the roots.
    pub owner: Option<RetainedRow>,
    /// The root category that holds the path's first object.
    pub root: String,
    /// The path from the roots, the point last.
    pub path: Vec<RetainedRow>,
    /// What accumulates under it, most bytes first.
    pub accumulated: Vec<Accumulated>,
    address: u64,
}

/// An analysis's candidates measured in another dump, made by
/// [`Analysis::measure`]: `None` where a candidate is not found there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Measures(pub(crate) Vec<Option<Measure>>);

/// A candidate's size in another dump.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    /// Bytes it retains there.
    pub bytes: u64,
    /// Objects it retains there.
    pub count: u64,
}

impl Analysis {
    /// Looks for the accumulation points of one heap, whose shortest
    /// paths from the roots are `paths`.
    pub fn of(graph: &HeapGraph, retention: &Retention, paths: &PathTree) -> Self {
        let super_root = graph.super_root();
        let reachable = Totals {
            objects: retention.retained_count(super_root),
            bytes: retention.retained_bytes(super_root),
        };
        let threshold = MIN_BYTES.max((reachable.bytes as f64 * MIN_SHARE) as u64);
        let census = NotAppData::of(graph, retention);
        let tracers = &census.tracers;
        let walk = accumulation_points(graph, retention, threshold, tracers);
        let candidates = walk
            .points
            .into_iter()
            .filter_map(|node| Candidate::new(graph, retention, paths, node))
            .collect();
        let tracing = (!tracers.is_empty()).then(|| {
            let bytes = tracers.iter().map(|&t| retention.retained_bytes(t)).sum();
            Tracing {
                bytes,
                share: share(bytes, reachable.bytes),
            }
        });
        Analysis {
            reachable,
            tracing,
            candidates,
            excluded: excluded(graph, retention, &census, &walk.hidden),
        }
    }

    /// Each candidate's size in another dump of the same process.
    pub fn measure(&self, graph: &HeapGraph, retention: &Retention) -> Measures {
        Measures(
            self.candidates
                .iter()
                .map(|candidate| {
                    let node = candidate.find_in(graph)?;
                    Some(Measure {
                        bytes: retention.retained_bytes(node),
                        count: retention.retained_count(node),
                    })
                })
                .collect(),
        )
    }
}

/// `part` of `whole`, 0 to 1.
pub(crate) fn share(part: u64, whole: u64) -> f64 {
    part as f64 / whole.max(1) as f64
}

/// Whether the node is the allocation tracer's table
/// (`ObjectSpace.trace_object_allocations`), not the app's data.
fn is_tracer(graph: &HeapGraph, node: u32) -> bool {
    graph
        .data_type(node)
        .is_some_and(|c_type| c_type.contains("allocation_info_tracer"))
}

/// Whether the node is a Thread.
fn is_thread(graph: &HeapGraph, node: u32) -> bool {
    graph
        .data_type(node)
        .is_some_and(|c_type| c_type == "VM/thread")
}

/// What the walk of the dominator tree found.
struct Walk {
    /// The topmost accumulation points, biggest first.
    points: Vec<u32>,
    /// Big class-less (hidden) data objects: the VM's own tables (of
    /// literals, the load path), not looked into.
    hidden: Vec<u32>,
}

/// Walks the dominator tree for accumulation points: only subtrees
/// retaining `threshold` bytes or more can hold one, so the walk visits
/// few nodes. The tracers' subtrees are left out.
fn accumulation_points(
    graph: &HeapGraph,
    retention: &Retention,
    threshold: u64,
    tracers: &[u32],
) -> Walk {
    let mut walk = Walk {
        points: Vec::new(),
        hidden: Vec::new(),
    };
    let super_root = graph.super_root();
    let mut stack = vec![super_root];
    while let Some(node) = stack.pop() {
        if node != super_root {
            if is_hidden(graph, node) {
                walk.hidden.push(node);
                continue;
            }
            if accumulates(graph, retention, node, threshold) {
                walk.points.push(node);
                continue;
            }
        }
        stack.extend(retention.children(node).iter().filter(|&&child| {
            retention.retained_bytes(child) >= threshold && !tracers.contains(&child)
        }));
    }
    let biggest_first = |node: &u32| {
        (
            std::cmp::Reverse(retention.retained_bytes(*node)),
            graph.address(*node),
        )
    };
    walk.points.sort_by_key(biggest_first);
    walk.points.truncate(CANDIDATES);
    walk.hidden.sort_by_key(biggest_first);
    walk
}

/// A data object without a class: one the VM hides from Ruby code.
fn is_hidden(graph: &HeapGraph, node: u32) -> bool {
    DATA_TYPES.contains(&graph.kind(node)) && graph.class(node).is_none()
}

/// Whether `node` immediately dominates at least [`MIN_MEMBERS`] objects
/// of one data type and class that retain `threshold` bytes together,
/// spread over them: when one member holds most of the group's bytes, the
/// memory accumulates below that member instead (Eclipse MAT's rule), and
/// the walk goes on down to it.
fn accumulates(graph: &HeapGraph, retention: &Retention, node: u32, threshold: u64) -> bool {
    #[derive(Default)]
    struct Group {
        count: u64,
        bytes: u64,
        biggest: u64,
    }
    let mut groups: hashbrown::HashMap<(&str, Option<u32>), Group, FastHash> =
        hashbrown::HashMap::default();
    for &child in retention.children(node) {
        let kind = graph.kind(child);
        if !DATA_TYPES.contains(&kind) || is_thread(graph, child) {
            continue;
        }
        let bytes = retention.retained_bytes(child);
        let group = groups.entry((kind, graph.class(child))).or_default();
        group.count += 1;
        group.bytes += bytes;
        group.biggest = group.biggest.max(bytes);
    }
    groups.values().any(|group| {
        group.count >= MIN_MEMBERS && group.bytes >= threshold && group.biggest * 2 < group.bytes
    })
}

impl Candidate {
    fn new(graph: &HeapGraph, retention: &Retention, paths: &PathTree, node: u32) -> Option<Self> {
        let row = |n: u32| RetainedRow::object(graph, retention, n);
        let nodes = paths.nodes_to(node)?;
        let owner = nodes
            .iter()
            .rev()
            .skip(1)
            .find(|&&hop| is_owner(graph, hop))
            .map(|&hop| row(hop));
        Some(Candidate {
            point: row(node),
            owner,
            root: graph.root_kind(nodes[0]).unwrap_or("unknown").to_owned(),
            path: nodes.iter().map(|&hop| row(hop)).collect(),
            accumulated: accumulated(graph, retention, node),
            address: graph.address(node),
        })
    }

    /// The same collection in another dump: at the same address with the
    /// same type, class and site, or else at the end of the one path of
    /// the same shape from the roots (objects move when compacted). `None`
    /// rather than a guess when several paths fit.
    fn find_in(&self, graph: &HeapGraph) -> Option<u32> {
        let kind = self.point.kind.as_deref().unwrap_or_default();
        if let Some(node) = graph.node_of(self.address, kind)
            && same_object(graph, node, &self.point)
        {
            return Some(node);
        }
        // The GC roots are the super-root's successors.
        let mut ends = Vec::new();
        let mut budget = PATH_SEARCH_BUDGET;
        follow(
            graph,
            graph.super_root(),
            &self.path,
            &mut ends,
            &mut budget,
        );
        ends.sort_unstable();
        ends.dedup();
        match ends.as_slice() {
            [only] if budget > 0 => Some(*only),
            _ => None,
        }
    }
}

/// Nodes a search for a path of the same shape may visit: the shape is
/// a handful of hops, but a hop can fit many references (the Repos of a
/// Hash).
const PATH_SEARCH_BUDGET: usize = 100_000;

/// Every end of the paths from `at` whose hops look like `rest`, into
/// `ends`; stops when `budget` runs out. Where a hop's object is still at
/// its address, only it is followed: of two Holders side by side, the one
/// that did not move is the one the path went through.
fn follow(
    graph: &HeapGraph,
    at: u32,
    rest: &[RetainedRow],
    ends: &mut Vec<u32>,
    budget: &mut usize,
) {
    let Some((hop, further)) = rest.split_first() else {
        ends.push(at);
        return;
    };
    let successors = graph.successors(at);
    *budget = budget.saturating_sub(successors.len());
    let fitting: Vec<u32> = successors
        .iter()
        .filter(|&next| same_object(graph, next, hop))
        .collect();
    let unmoved = fitting.iter().copied().find(|&next| {
        hop.address.as_deref() == Some(format!("{:#x}", graph.address(next)).as_str())
    });
    for next in unmoved.map_or(fitting, |next| vec![next]) {
        if *budget == 0 || ends.len() > 1 {
            return;
        }
        follow(graph, next, further, ends, budget);
    }
}

/// Whether `node` looks like the object of `row`: type, class, name and
/// site.
fn same_object(graph: &HeapGraph, node: u32, row: &RetainedRow) -> bool {
    Some(graph.kind(node)) == row.kind.as_deref()
        && graph.class_name(node).as_deref() == row.class_name.as_deref()
        && graph.name(node).as_deref() == row.name.as_deref()
        && graph.location(node) == row.location.as_deref()
}

/// A holder worth naming: a named class or module (a constant's owner),
/// or a Thread (its locals).
fn is_owner(graph: &HeapGraph, node: u32) -> bool {
    match graph.kind(node) {
        "CLASS" | "MODULE" => graph.name(node).is_some(),
        _ => is_thread(graph, node),
    }
}

/// What `node` immediately dominates, by type, class and site, most bytes
/// first (ties by count, then names).
fn accumulated(graph: &HeapGraph, retention: &Retention, node: u32) -> Vec<Accumulated> {
    let mut groups: hashbrown::HashMap<(&str, Option<u32>, Option<u32>), Measure, FastHash> =
        hashbrown::HashMap::default();
    for &child in retention.children(node) {
        let group = groups
            .entry((graph.kind(child), graph.class(child), graph.site(child)))
            .or_default();
        group.count += 1;
        group.bytes += retention.retained_bytes(child);
    }
    let mut rows: Vec<Accumulated> = groups
        .into_iter()
        .map(|((kind, class, site), measure)| Accumulated {
            kind: kind.to_owned(),
            class_name: class.and_then(|c| graph.name(c)).map(|n| n.into_owned()),
            location: site.map(|s| graph.site_name(s).to_owned()),
            count: measure.count,
            bytes: measure.bytes,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.count.cmp(&a.count))
            .then_with(|| {
                (&a.kind, &a.class_name, &a.location).cmp(&(&b.kind, &b.class_name, &b.location))
            })
    });
    rows.truncate(ACCUMULATED_KEPT);
    rows
}

/// What is not the app's data, found in one pass over the heap.
struct NotAppData {
    /// The allocation tracers' tables (reachable ones).
    tracers: Vec<u32>,
    /// The threads whose own memory (their stack) is worth saying.
    threads: Vec<u32>,
    /// Own bytes of classes, modules, method entries, iseqs...
    code_bytes: u64,
    /// Own bytes of dynamic symbols.
    symbol_bytes: u64,
}

impl NotAppData {
    fn of(graph: &HeapGraph, retention: &Retention) -> Self {
        let mut found = NotAppData {
            tracers: Vec::new(),
            threads: Vec::new(),
            code_bytes: 0,
            symbol_bytes: 0,
        };
        for node in 0..graph.object_count() as u32 {
            match graph.kind(node) {
                "CLASS" | "MODULE" | "ICLASS" | "IMEMO" => {
                    found.code_bytes += graph.own_bytes(node)
                }
                "SYMBOL" => found.symbol_bytes += graph.own_bytes(node),
                "DATA" if is_tracer(graph, node) && retention.is_reachable(node) => {
                    found.tracers.push(node)
                }
                "DATA" if is_thread(graph, node) && graph.own_bytes(node) >= THREAD_STACK_SHOWN => {
                    found.threads.push(node)
                }
                _ => {}
            }
        }
        found
    }
}

/// The tracers' tables, the threads' stacks, the VM's hidden tables, code
/// and symbols, biggest first.
fn excluded(
    graph: &HeapGraph,
    retention: &Retention,
    census: &NotAppData,
    hidden: &[u32],
) -> Vec<Excluded> {
    let entry = |node: u32, reason: &str, bytes: u64| Excluded {
        reason: reason.to_owned(),
        address: Some(format!("{:#x}", graph.address(node))),
        description: graph.describe(node),
        retained_bytes: bytes,
    };
    let mut excluded: Vec<Excluded> = census
        .tracers
        .iter()
        .map(|&node| {
            let bytes = retention.retained_bytes(node);
            entry(
                node,
                "tracing allocations (the allocation tracer's table)",
                bytes,
            )
        })
        .collect();
    excluded.extend(census.threads.iter().map(|&node| {
        entry(
            node,
            "a thread's own memory (its machine stack)",
            graph.own_bytes(node),
        )
    }));
    excluded.extend(hidden.iter().map(|&node| {
        let bytes = retention.retained_bytes(node);
        entry(
            node,
            "the VM's own (a hidden object, without a class)",
            bytes,
        )
    }));
    excluded.extend(aggregates(census));
    excluded.sort_by(|a, b| {
        b.retained_bytes
            .cmp(&a.retained_bytes)
            .then_with(|| a.address.cmp(&b.address))
    });
    excluded
}

/// What code and the symbol table take, each as one row without an
/// address: they are many small objects, not one.
fn aggregates(census: &NotAppData) -> Vec<Excluded> {
    [
        (
            census.code_bytes,
            "code",
            "classes, modules, method entries and instruction sequences (their own size)",
        ),
        (
            census.symbol_bytes,
            "the symbol table",
            "dynamic symbols (their own size)",
        ),
    ]
    .into_iter()
    .filter(|&(bytes, ..)| bytes > 0)
    .map(|(bytes, reason, description)| Excluded {
        reason: reason.to_owned(),
        address: None,
        description: description.to_owned(),
        retained_bytes: bytes,
    })
    .collect()
}
