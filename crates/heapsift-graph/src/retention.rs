//! Retained sizes, and the `retained` report: what keeps memory alive.

use std::cmp::Reverse;

use serde::Serialize;

use crate::dominators::{Dominators, NONE, dominators};
use crate::graph::HeapGraph;
use crate::narrow::NarrowColumn;

/// The dominator tree of a heap graph from its super-root, with every
/// object's retained size: its own bytes plus those of everything it
/// dominates (what would be freed if it were).
///
/// 20 bytes a node: the dominator, the retained bytes (4 bytes but for
/// the few that retain 4 GiB or more, see [`NarrowColumn`]) and count,
/// and the tree's children as compressed rows (a start and a child a
/// node).
#[derive(Debug)]
pub struct Retention {
    /// Per node (the super-root last), its immediate dominator.
    idom: Vec<u32>,
    /// Per node, the bytes it retains (its own included).
    retained_bytes: NarrowColumn,
    /// Per node, the objects it retains (itself included).
    retained_count: Vec<u32>,
    /// Children in the dominator tree, as compressed rows.
    child_starts: Vec<u32>,
    children: Vec<u32>,
}

impl Retention {
    /// Computes the dominator tree and retained sizes.
    pub fn compute(graph: &HeapGraph) -> Self {
        let root = graph.super_root();
        let Dominators { idom, preorder } =
            dominators(graph.object_count() + 1, root, |node, i| {
                graph.successors(node).get(i)
            });
        let nodes = idom.len();
        let mut retained_bytes = NarrowColumn::with_capacity(nodes);
        let mut retained_count = vec![0u32; nodes];
        for node in 0..nodes as u32 {
            let reached = idom[node as usize] != NONE;
            retained_bytes.push(Some(if reached { graph.own_bytes(node) } else { 0 }));
            retained_count[node as usize] = u32::from(reached);
        }
        // Children are counted at their parent's end, then placed by
        // counting down, so that no second copy of the starts is needed.
        let mut child_starts = vec![0u32; nodes + 1];
        for &node in preorder.iter().rev() {
            let parent = idom[node as usize];
            if parent != NONE {
                let sum =
                    retained_bytes.get(parent).unwrap_or(0) + retained_bytes.get(node).unwrap_or(0);
                retained_bytes.set(parent, Some(sum));
                retained_count[parent as usize] += retained_count[node as usize];
                child_starts[parent as usize + 1] += 1;
            }
        }
        for i in 0..nodes {
            child_starts[i + 1] += child_starts[i];
        }
        let mut children = vec![0u32; child_starts[nodes] as usize];
        for &node in preorder[1..].iter().rev() {
            let parent = idom[node as usize] as usize;
            child_starts[parent + 1] -= 1;
            children[child_starts[parent + 1] as usize] = node;
        }
        // Counting down moved each start to the one before it.
        child_starts.copy_within(1.., 0);
        child_starts[nodes] = children.len() as u32;
        Retention {
            idom,
            retained_bytes,
            retained_count,
            child_starts,
            children,
        }
    }

    /// The bytes `node` retains, its own included (0 when unreachable).
    pub fn retained_bytes(&self, node: u32) -> u64 {
        self.retained_bytes.get(node).unwrap_or(0)
    }

    /// The objects `node` retains, itself included (0 when unreachable).
    pub fn retained_count(&self, node: u32) -> u64 {
        u64::from(self.retained_count[node as usize])
    }

    /// The immediate dominator of `node`: `None` for the super-root and
    /// for what it does not reach.
    pub fn dominator(&self, node: u32) -> Option<u32> {
        let idom = *self.idom.get(node as usize)?;
        (idom != NONE).then_some(idom)
    }

    /// Whether the roots reach `node`.
    pub fn is_reachable(&self, node: u32) -> bool {
        self.idom[node as usize] != NONE || node as usize == self.idom.len() - 1
    }

    /// The nodes `node` immediately dominates.
    pub fn children(&self, node: u32) -> &[u32] {
        let i = node as usize;
        &self.children[self.child_starts[i] as usize..self.child_starts[i + 1] as usize]
    }

    /// Visits the dominator subtree under `top` (itself included) depth
    /// first, calling `visit(node, true)` before a node's subtree and
    /// `visit(node, false)` after.
    fn walk(&self, top: u32, mut visit: impl FnMut(u32, bool)) {
        let mut stack: Vec<(u32, u32)> = vec![(top, 0)];
        visit(top, true);
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            match self.children(node).get(*next as usize) {
                Some(&child) => {
                    *next += 1;
                    visit(child, true);
                    stack.push((child, 0));
                }
                None => {
                    visit(node, false);
                    stack.pop();
                }
            }
        }
    }
}

/// How `retained` groups objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grouping {
    /// One row per object.
    Object,
    /// One row per class.
    Class,
    /// One row per allocation site.
    Location,
}

/// Objects and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// How many objects.
    pub objects: u64,
    /// Their own bytes, summed.
    pub bytes: u64,
}

/// The `retained` report.
#[derive(Debug, Clone, Serialize)]
pub struct RetainedReport {
    /// The rows' grouping.
    pub by: Grouping,
    /// The object whose dominator subtree the report covers (`--root`),
    /// or `None` for the whole heap.
    pub root: Option<String>,
    /// Bytes of every object in the dump.
    pub total_bytes: u64,
    /// Objects the GC roots reach.
    pub reachable: Totals,
    /// Objects no root reaches (garbage not yet collected, or held by
    /// something the dump does not show).
    pub unreachable: Totals,
    /// The rows, by retained bytes descending, ties by address (or name).
    pub rows: Vec<RetainedRow>,
}

/// One row of the `retained` report: an object, or a class or site.
#[derive(Debug, Clone, Serialize)]
pub struct RetainedRow {
    /// The object's address (object rows).
    pub address: Option<String>,
    /// Its type, e.g. `HASH` (object rows).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Its class's name (the group, for class rows).
    pub class_name: Option<String>,
    /// A CLASS or MODULE object's own name.
    pub name: Option<String>,
    /// Where it was allocated, when traced (the group, for location rows).
    pub location: Option<String>,
    /// How many objects the row stands for (1 for an object).
    pub objects: u64,
    /// Its own bytes (summed over the group).
    pub own_bytes: u64,
    /// The bytes it keeps alive, its own included; a group counts an
    /// object once even when group members dominate each other.
    pub retained_bytes: u64,
    /// The objects it keeps alive, counted the same way.
    pub retained_count: u64,
    /// A short description: `Hash (4000 entries)`, `class LeakyCache`.
    pub description: String,
}

impl RetainedReport {
    /// The report over the whole heap, or over the dominator subtree of
    /// `root`, with the `top` biggest rows.
    pub fn new(
        graph: &HeapGraph,
        retention: &Retention,
        by: Grouping,
        top: usize,
        root: Option<u32>,
    ) -> Self {
        let mut reachable = Totals::default();
        let mut unreachable = Totals::default();
        for node in 0..graph.object_count() as u32 {
            let totals = if retention.is_reachable(node) {
                &mut reachable
            } else {
                &mut unreachable
            };
            totals.objects += 1;
            totals.bytes += graph.own_bytes(node);
        }
        let top_node = root.unwrap_or(graph.super_root());
        let rows = match by {
            Grouping::Object => object_rows(graph, retention, top_node, top),
            Grouping::Class => group_rows(graph, retention, top_node, top, by, |n| graph.class(n)),
            Grouping::Location => {
                group_rows(graph, retention, top_node, top, by, |n| graph.site(n))
            }
        };
        RetainedReport {
            by,
            root: root.map(|node| format!("{:#x}", graph.address(node))),
            total_bytes: reachable.bytes + unreachable.bytes,
            reachable,
            unreachable,
            rows,
        }
    }
}

impl RetainedReport {
    /// The report with only its first `top` rows: the report made with
    /// `top`, since the rows are in a fixed order (made once with many
    /// rows, it answers every smaller `top` without walking the heap).
    pub fn first(&self, top: usize) -> Self {
        RetainedReport {
            root: self.root.clone(),
            rows: self.rows[..top.min(self.rows.len())].to_vec(),
            ..*self
        }
    }
}

fn object_rows(
    graph: &HeapGraph,
    retention: &Retention,
    top_node: u32,
    top: usize,
) -> Vec<RetainedRow> {
    top_objects(graph, retention, top_node, top)
        .into_iter()
        .map(|node| RetainedRow::object(graph, retention, node))
        .collect()
}

/// The `top` objects that retain the most in the dominator subtree of
/// `top_node` (the super-root for the whole heap), biggest first, ties by
/// address.
pub fn top_objects(
    graph: &HeapGraph,
    retention: &Retention,
    top_node: u32,
    top: usize,
) -> Vec<u32> {
    if top == 0 {
        return Vec::new();
    }
    // The top rows, kept in a heap as the nodes go by: cheaper than
    // ordering millions of nodes to keep twenty. The address, which only
    // breaks ties, is looked up for the nodes that could get in.
    let mut best = std::collections::BinaryHeap::with_capacity(top.min(1 << 16) + 1);
    let mut offer = |node: u32| {
        let bytes = retention.retained_bytes(node);
        let full = best.len() == top;
        if full
            && best
                .peek()
                .is_some_and(|&((Reverse(worst), _), _)| bytes < worst)
        {
            return;
        }
        let candidate = ((Reverse(bytes), graph.address(node)), node);
        if !full {
            best.push(candidate);
        } else if best.peek().is_some_and(|worst| candidate < *worst) {
            best.pop();
            best.push(candidate);
        }
    };
    if top_node == graph.super_root() {
        (0..graph.object_count() as u32)
            .filter(|&node| retention.is_reachable(node))
            .for_each(&mut offer);
    } else {
        retention.walk(top_node, |node, entering| {
            if entering {
                offer(node);
            }
        });
    }
    best.into_sorted_vec()
        .into_iter()
        .map(|(_, node)| node)
        .collect()
}

impl RetainedRow {
    /// The row of one object.
    pub fn object(graph: &HeapGraph, retention: &Retention, node: u32) -> Self {
        RetainedRow {
            address: Some(format!("{:#x}", graph.address(node))),
            kind: Some(graph.kind(node).to_owned()),
            class_name: graph.class_name(node).map(|name| name.into_owned()),
            name: graph.name(node).map(|name| name.into_owned()),
            location: graph.location(node).map(str::to_owned),
            objects: 1,
            own_bytes: graph.own_bytes(node),
            retained_bytes: retention.retained_bytes(node),
            retained_count: retention.retained_count(node),
            description: graph.describe(node),
        }
    }
}

/// One level of the dominator tree: an object (or the GC roots, at the
/// top) and the objects it immediately dominates, biggest first. The web
/// UI's drill-down walks the tree a level at a time.
#[derive(Debug, Clone, Serialize)]
pub struct DominatorLevel {
    /// The object, or `None` for the GC roots.
    pub parent: Option<RetainedRow>,
    /// Bytes the GC roots reach: the whole tree.
    pub total_bytes: u64,
    /// How many objects the parent immediately dominates.
    pub child_count: usize,
    /// The `top` biggest of them, by retained bytes, ties by address.
    pub children: Vec<RetainedRow>,
}

impl DominatorLevel {
    /// The level under `parent` (`None`: under the GC roots), with at most
    /// `top` children.
    pub fn new(graph: &HeapGraph, retention: &Retention, parent: Option<u32>, top: usize) -> Self {
        let node = parent.unwrap_or(graph.super_root());
        let mut children = retention.children(node).to_vec();
        children.sort_unstable_by_key(|&child| {
            (
                Reverse(retention.retained_bytes(child)),
                graph.address(child),
            )
        });
        let child_count = children.len();
        DominatorLevel {
            parent: parent.map(|node| RetainedRow::object(graph, retention, node)),
            total_bytes: retention.retained_bytes(graph.super_root()),
            child_count,
            children: children
                .into_iter()
                .take(top)
                .map(|child| RetainedRow::object(graph, retention, child))
                .collect(),
        }
    }
}

impl DominatorLevel {
    /// The level with only its first `top` children: the level made with
    /// `top`, as [`RetainedReport::first`] is.
    pub fn first(&self, top: usize) -> Self {
        DominatorLevel {
            parent: self.parent.clone(),
            children: self.children[..top.min(self.children.len())].to_vec(),
            ..*self
        }
    }
}

/// Adds up retained sizes per group (class or site), counting an object
/// only under its topmost group member in the dominator tree.
fn group_rows(
    graph: &HeapGraph,
    retention: &Retention,
    top_node: u32,
    top: usize,
    by: Grouping,
    group_of: impl Fn(u32) -> Option<u32>,
) -> Vec<RetainedRow> {
    let numbering = GroupNumbers::new(graph, by, &group_of);
    #[derive(Default, Clone, Copy)]
    struct Sums {
        objects: u64,
        own: u64,
        retained: u64,
        count: u64,
        open: u32,
    }
    let mut sums = vec![Sums::default(); numbering.len()];
    let super_root = graph.super_root();
    let group = |node: u32| (node != super_root).then(|| group_of(node)).flatten();
    retention.walk(top_node, |node, entering| {
        let Some(g) = group(node) else { return };
        let sum = &mut sums[numbering.number(g) as usize];
        if !entering {
            sum.open -= 1;
            return;
        }
        sum.objects += 1;
        sum.own += graph.own_bytes(node);
        if sum.open == 0 {
            sum.retained += retention.retained_bytes(node);
            sum.count += retention.retained_count(node);
        }
        sum.open += 1;
    });
    let name_of = |g: u32| -> String {
        match by {
            Grouping::Location => graph.site_name(g).to_owned(),
            _ => graph
                .name(g)
                .map(|name| name.into_owned())
                .unwrap_or_else(|| format!("{} {:#x}", graph.describe(g), graph.address(g))),
        }
    };
    let mut rows: Vec<(u32, Sums, String)> = sums
        .iter()
        .enumerate()
        .filter(|(_, sum)| sum.objects > 0)
        .map(|(number, sum)| {
            let g = numbering.group(number as u32);
            (g, *sum, name_of(g))
        })
        .collect();
    rows.sort_by(|a, b| b.1.retained.cmp(&a.1.retained).then_with(|| a.2.cmp(&b.2)));
    rows.truncate(top);
    rows.into_iter()
        .map(|(_, sum, name)| RetainedRow {
            address: None,
            kind: None,
            class_name: (by == Grouping::Class).then(|| name.clone()),
            name: None,
            location: (by == Grouping::Location).then(|| name.clone()),
            objects: sum.objects,
            own_bytes: sum.own,
            retained_bytes: sum.retained,
            retained_count: sum.count,
            description: format!("{} objects", sum.objects),
        })
        .collect()
}

/// Groups numbered from 0, for a table of sums: a site is its own number;
/// classes are numbered here, in node order (a table as long as the
/// object count, 4 bytes a node, where one of sums would take 40: 930 MB
/// for the 23 M objects of a 9.4 GB dump).
enum GroupNumbers {
    /// Sites, `0..count`.
    Own(usize),
    /// Per node, its number if it is a group; and the group of each
    /// number.
    Given { number: Vec<u32>, groups: Vec<u32> },
}

impl GroupNumbers {
    fn new(graph: &HeapGraph, by: Grouping, group_of: impl Fn(u32) -> Option<u32>) -> Self {
        if by == Grouping::Location {
            return GroupNumbers::Own(graph.site_count());
        }
        let mut number = vec![NONE; graph.object_count()];
        let mut groups = Vec::new();
        for node in 0..graph.object_count() as u32 {
            if let Some(g) = group_of(node)
                && number[g as usize] == NONE
            {
                number[g as usize] = groups.len() as u32;
                groups.push(g);
            }
        }
        GroupNumbers::Given { number, groups }
    }

    fn len(&self) -> usize {
        match self {
            GroupNumbers::Own(count) => *count,
            GroupNumbers::Given { groups, .. } => groups.len(),
        }
    }

    fn number(&self, group: u32) -> u32 {
        match self {
            GroupNumbers::Own(_) => group,
            GroupNumbers::Given { number, .. } => number[group as usize],
        }
    }

    fn group(&self, number: u32) -> u32 {
        match self {
            GroupNumbers::Own(_) => number,
            GroupNumbers::Given { groups, .. } => groups[number as usize],
        }
    }
}
