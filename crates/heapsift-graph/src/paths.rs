//! Paths from the GC roots, and everything known about one object.

use std::borrow::Cow;

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

/// Breadth-first search from the super-root: for each node reached, the
/// node it was first reached from. Stops once `target` is reached, if one
/// is given. Ties go to the roots and references listed first.
fn shortest_path_tree(graph: &HeapGraph, target: Option<u32>) -> Vec<u32> {
    let super_root = graph.super_root();
    let mut came_from = vec![NONE; graph.object_count() + 1];
    came_from[super_root as usize] = super_root;
    let mut queue = std::collections::VecDeque::from([super_root]);
    while let Some(node) = queue.pop_front() {
        for next in graph.successors(node) {
            if came_from[next as usize] == NONE {
                came_from[next as usize] = node;
                if Some(next) == target {
                    return came_from;
                }
                queue.push_back(next);
            }
        }
    }
    came_from
}

/// The path from the first object after the super-root down to `target`,
/// read off a shortest-path tree; `None` when the tree does not reach it.
fn path_in(tree: &[u32], super_root: u32, target: u32) -> Option<Vec<u32>> {
    if tree[target as usize] == NONE {
        return None;
    }
    let mut nodes = vec![target];
    while let Some(&last) = nodes.last() {
        let previous = tree[last as usize];
        if previous == super_root {
            break;
        }
        nodes.push(previous);
    }
    nodes.reverse();
    Some(nodes)
}

/// The shortest paths from the GC roots to every object, found by one
/// breadth-first search: for the callers that need many paths.
#[derive(Debug)]
pub struct PathTree {
    came_from: Vec<u32>,
    super_root: u32,
}

impl PathTree {
    /// Searches the whole graph once: O(objects + references).
    pub fn new(graph: &HeapGraph) -> Self {
        PathTree {
            came_from: shortest_path_tree(graph, None),
            super_root: graph.super_root(),
        }
    }

    /// The nodes from the first one a root references down to `target`;
    /// `None` when no root reaches it.
    pub fn nodes_to(&self, target: u32) -> Option<Vec<u32>> {
        path_in(&self.came_from, self.super_root, target)
    }

    /// The shape of the shortest path to `target`, as text without
    /// addresses, so that the paths of many objects, or of one object in
    /// many dumps, compare equal when they look alike; `None` when no root
    /// reaches it.
    pub fn shape(&self, graph: &HeapGraph, target: u32) -> Option<PathShape> {
        let nodes = self.nodes_to(target)?;
        let hops: Vec<String> = nodes.iter().map(|&hop| hop_shape(graph, hop)).collect();
        Some(PathShape {
            root: graph.root_kind(nodes[0]).unwrap_or("unknown").to_owned(),
            depth: nodes.len(),
            path: hops.join(" -> "),
        })
    }
}

/// A shortest path from the roots, as its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathShape {
    /// The root category that holds the first hop (`vm`, `global_tbl`).
    pub root: String,
    /// The hops, from the first object a root references to the target:
    /// `class Object -> module LeakyCache -> Hash (app/cache.rb:3)`.
    pub path: String,
    /// How many hops.
    pub depth: usize,
}

/// How one hop looks in a [`PathShape`]: a class or module by its name
/// (`class Leaky`), any other object by its class (or its type, when it
/// has no class), then where it was allocated, when traced.
fn hop_shape(graph: &HeapGraph, node: u32) -> String {
    let what = match graph.kind(node) {
        "CLASS" | "MODULE" => graph.describe(node),
        kind => graph
            .class_name(node)
            .map_or_else(|| kind.to_owned(), Cow::into_owned),
    };
    match graph.location(node) {
        Some(site) => format!("{what} ({site})"),
        None => what,
    }
}

impl RootPath {
    /// The shortest path (fewest references) from the roots to `target`,
    /// or `None` when no root reaches it: a search that stops at
    /// `target`.
    pub fn find(graph: &HeapGraph, retention: &Retention, target: u32) -> Option<Self> {
        let tree = shortest_path_tree(graph, Some(target));
        let nodes = path_in(&tree, graph.super_root(), target)?;
        Self::along(graph, retention, target, nodes)
    }

    /// The same path, read off the shortest paths to every object.
    pub fn in_tree(
        graph: &HeapGraph,
        retention: &Retention,
        paths: &PathTree,
        target: u32,
    ) -> Option<Self> {
        Self::along(graph, retention, target, paths.nodes_to(target)?)
    }

    fn along(
        graph: &HeapGraph,
        retention: &Retention,
        target: u32,
        nodes: Vec<u32>,
    ) -> Option<Self> {
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
    /// Its line in the dump, as Ruby wrote it, when the caller kept it.
    pub record: Option<String>,
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
        let dominator = retention.dominator(node);
        let referring: Vec<u32> = (0..graph.object_count() as u32)
            .filter(|&other| graph.successors(other).contains(node))
            .collect();
        ObjectDetails {
            object: row(node),
            record: None,
            length: graph.length(node),
            root: graph.root_kind(node).map(str::to_owned),
            dominator: dominator
                .filter(|&dominator| dominator != graph.super_root())
                .map(row),
            reachable: retention.is_reachable(node),
            reference_count: graph.successors(node).len() as u64,
            references: graph.successors(node).iter().take(limit).map(row).collect(),
            referrer_count: referring.len() as u64,
            referrers: referring.into_iter().take(limit).map(row).collect(),
        }
    }
}

/// The paths from the roots to the objects allocated at one site, grouped
/// by their shape.
#[derive(Debug, Clone, Serialize)]
pub struct SharedPaths {
    /// The allocation site, `file:line`.
    pub location: String,
    /// How many objects were allocated there.
    pub objects: u64,
    /// How many of them a root reaches.
    pub reachable: u64,
    /// Groups of objects whose shortest paths have the same shape, most
    /// objects first.
    pub groups: Vec<PathGroup>,
}

/// Objects whose shortest paths from the roots look alike: the same root
/// category, and hop by hop the same type, class and allocation site (the
/// same object, for classes and modules).
#[derive(Debug, Clone, Serialize)]
pub struct PathGroup {
    /// How many objects take a path of this shape.
    pub count: u64,
    /// The root category.
    pub root: String,
    /// One of the objects, to look at with `path` or `show`.
    pub example: String,
    /// The shape, from the first object after the root to the objects
    /// themselves; described as the example's path is.
    pub hops: Vec<PathHop>,
}

/// One hop of a path shape.
#[derive(Debug, Clone, Serialize)]
pub struct PathHop {
    /// The type, e.g. `HASH`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The class's name.
    pub class_name: Option<String>,
    /// A class's or module's own name.
    pub name: Option<String>,
    /// Where the hop's objects were allocated.
    pub location: Option<String>,
    /// The example path's object here, described.
    pub description: String,
}

/// What makes two hops alike: type, class (or the class or module itself)
/// and site; the first hop of a shape is the root category.
type HopKey = (u32, u32, u32);

/// A group being counted: objects, the first one seen, its path.
type Group = (u64, u32, Vec<u32>);

impl SharedPaths {
    /// Groups the shortest paths to the objects allocated at `site` by
    /// shape, keeping the `top` biggest groups.
    pub fn find(graph: &HeapGraph, site: u32, top: usize) -> Self {
        let tree = shortest_path_tree(graph, None);
        let super_root = graph.super_root();
        let mut groups: hashbrown::HashMap<Vec<HopKey>, Group> = hashbrown::HashMap::new();
        let mut root_kind_of = hashbrown::HashMap::with_capacity(graph.roots.len());
        for (&root, &kind) in graph.roots.iter().zip(&graph.root_kinds) {
            root_kind_of.entry(root).or_insert(kind);
        }
        let (mut objects, mut reachable) = (0, 0);
        for node in (0..graph.object_count() as u32).filter(|&n| graph.site(n) == Some(site)) {
            objects += 1;
            let Some(path) = path_in(&tree, super_root, node) else {
                continue;
            };
            reachable += 1;
            let shape: Vec<HopKey> =
                std::iter::once((u32::from(root_kind_of[&path[0]]), NONE, NONE))
                    .chain(path.iter().map(|&hop| {
                        let identity = if matches!(graph.kind(hop), "CLASS" | "MODULE") {
                            hop
                        } else {
                            graph.class(hop).unwrap_or(NONE)
                        };
                        (
                            u32::from(graph.kind_index(hop)),
                            identity,
                            graph.site(hop).unwrap_or(NONE),
                        )
                    }))
                    .collect();
            let group = groups.entry(shape).or_insert((0, node, path));
            group.0 += 1;
        }
        let mut groups: Vec<Group> = groups.into_values().collect();
        groups.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| graph.address(a.1).cmp(&graph.address(b.1)))
        });
        groups.truncate(top);
        SharedPaths {
            location: graph.site_name(site).to_owned(),
            objects,
            reachable,
            groups: groups
                .into_iter()
                .map(|(count, example, path)| PathGroup {
                    count,
                    root: graph.root_kind(path[0]).unwrap_or("unknown").to_owned(),
                    example: format!("{:#x}", graph.address(example)),
                    hops: path
                        .into_iter()
                        .map(|hop| PathHop {
                            kind: graph.kind(hop).to_owned(),
                            class_name: graph.class_name(hop).map(|name| name.into_owned()),
                            name: graph.name(hop).map(|name| name.into_owned()),
                            location: graph.location(hop).map(str::to_owned),
                            description: graph.describe(hop),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
