//! Paths from the GC roots, and everything known about one object.

use serde::Serialize;

use crate::dominators::NONE;
use crate::graph::HeapGraph;
use crate::retention::{RetainedRow, Retention};

/// The shortest chain of references from a GC root to one object.
#[derive(Debug, Clone, Serialize)]
pub struct RootPath {
    /// The object asked about.
    pub target: String,
    /// The root category that holds the first hop (`vm`, `global_tbl`, ...).
    pub root: String,
    /// The objects on the way, from the first one a root references
    /// through the target.
    pub hops: Vec<RetainedRow>,
}

impl RootPath {
    /// The shortest path (fewest references) from the roots to `target`,
    /// or `None` when no root reaches it. Breadth-first from the
    /// super-root; ties go to the roots and references listed first.
    pub fn find(graph: &HeapGraph, retention: &Retention, target: u32) -> Option<Self> {
        let super_root = graph.super_root();
        let mut came_from = vec![NONE; graph.object_count() + 1];
        came_from[super_root as usize] = super_root;
        let mut queue = std::collections::VecDeque::from([super_root]);
        'search: while let Some(node) = queue.pop_front() {
            for &next in graph.successors(node) {
                if came_from[next as usize] == NONE {
                    came_from[next as usize] = node;
                    if next == target {
                        break 'search;
                    }
                    queue.push_back(next);
                }
            }
        }
        if came_from[target as usize] == NONE {
            return None;
        }
        let mut nodes = vec![target];
        while let Some(&last) = nodes.last() {
            let previous = came_from[last as usize];
            if previous == super_root {
                break;
            }
            nodes.push(previous);
        }
        nodes.reverse();
        Some(RootPath {
            target: format!("{:#x}", graph.address(target)),
            root: graph.root_kind(nodes[0]).unwrap_or("unknown").to_owned(),
            hops: nodes
                .into_iter()
                .map(|node| RetainedRow::object(graph, retention, node))
                .collect(),
        })
    }
}

/// One object with its neighbours in the graph and the dominator tree.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectDetails {
    /// The object itself, with its retained size.
    pub object: RetainedRow,
    /// Its `bytesize`, `length` or `size`, when the dump gives one.
    pub length: Option<u64>,
    /// The root category when a GC root holds it directly.
    pub root: Option<String>,
    /// Its immediate dominator (`None` for objects held by the roots
    /// directly and for unreachable ones).
    pub dominator: Option<RetainedRow>,
    /// Whether any root reaches it.
    pub reachable: bool,
    /// How many references it has (to objects in the dump).
    pub reference_count: u64,
    /// The first of them, in the dump's order.
    pub references: Vec<RetainedRow>,
    /// How many objects reference it.
    pub referrer_count: u64,
    /// The first of them, in the dump's order.
    pub referrers: Vec<RetainedRow>,
}

impl ObjectDetails {
    /// Everything about `node`; at most `limit` references and referrers.
    pub fn new(graph: &HeapGraph, retention: &Retention, node: u32, limit: usize) -> Self {
        let row = |n: u32| RetainedRow::object(graph, retention, n);
        let dominator = retention.idom[node as usize];
        let referring: Vec<u32> = (0..graph.object_count() as u32)
            .filter(|&other| graph.successors(other).contains(&node))
            .collect();
        ObjectDetails {
            object: row(node),
            length: graph.length(node),
            root: graph.root_kind(node).map(str::to_owned),
            dominator: (dominator != NONE && dominator != graph.super_root())
                .then(|| row(dominator)),
            reachable: retention.is_reachable(node),
            reference_count: graph.successors(node).len() as u64,
            references: graph
                .successors(node)
                .iter()
                .take(limit)
                .map(|&n| row(n))
                .collect(),
            referrer_count: referring.len() as u64,
            referrers: referring.into_iter().take(limit).map(row).collect(),
        }
    }
}
