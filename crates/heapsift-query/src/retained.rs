//! `retained` and the web UI's dominator tree, a level at a time.

use std::sync::OnceLock;

use heapsift_graph::{DominatorLevel, HeapGraph, PathTree, RetainedReport, Retention, RootPath};

use crate::{QueryError, RetainedBy};

/// A dump read into its heap graph, with its dominator tree: what the
/// retention queries run on.
#[derive(Debug)]
pub struct Heap {
    /// The objects and their references.
    pub graph: HeapGraph,
    /// Its dominator tree and retained sizes.
    pub retention: Retention,
    /// The shortest paths from the roots to every object, made when first
    /// asked for (or beside the dominator tree, by a caller with a core to
    /// spare): 4 bytes an object.
    paths: OnceLock<PathTree>,
}

impl Heap {
    /// The heap of a graph: computes its dominator tree.
    pub fn new(graph: HeapGraph) -> Self {
        let retention = Retention::compute(&graph);
        Heap::from_parts(graph, retention, None)
    }

    /// The heap of a graph whose dominator tree, and perhaps shortest
    /// paths, the caller computed.
    pub fn from_parts(graph: HeapGraph, retention: Retention, paths: Option<PathTree>) -> Self {
        Heap {
            graph,
            retention,
            paths: paths.map(OnceLock::from).unwrap_or_default(),
        }
    }

    /// The shortest paths from the roots to every object (one search of
    /// the whole graph, the first time).
    pub fn paths(&self) -> &PathTree {
        self.paths.get_or_init(|| PathTree::new(&self.graph))
    }

    /// The shortest path from the roots to `node`: from the paths to
    /// every object when they were made, else by a search that stops
    /// there.
    pub fn root_path(&self, node: u32) -> Option<RootPath> {
        match self.paths.get() {
            Some(paths) => RootPath::in_tree(&self.graph, &self.retention, paths, node),
            None => RootPath::find(&self.graph, &self.retention, node),
        }
    }

    /// The node of the object at `address`.
    pub fn object_at(&self, address: u64) -> Result<u32, QueryError> {
        self.graph
            .node_at(address)
            .ok_or_else(|| QueryError::NotFound(format!("no object at {address:#x} in the dump")))
    }
}

/// Objects, classes or sites by the memory they retain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetainedQuery {
    /// One row per object, class or site.
    pub by: RetainedBy,
    /// How many rows.
    pub top: usize,
    /// Only what this object retains.
    pub root: Option<u64>,
}

impl RetainedQuery {
    /// Rows unless asked otherwise.
    pub const DEFAULT_TOP: usize = 20;

    /// The report.
    pub fn run(&self, heap: &Heap) -> Result<RetainedReport, QueryError> {
        let root = match self.root {
            None => None,
            Some(address) => {
                let node = heap.object_at(address)?;
                if !heap.retention.is_reachable(node) {
                    return Err(QueryError::NotFound(format!(
                        "{address:#x} is not reachable from the GC roots: it retains nothing"
                    )));
                }
                Some(node)
            }
        };
        Ok(RetainedReport::new(
            &heap.graph,
            &heap.retention,
            self.by.into(),
            self.top,
            root,
        ))
    }
}

/// The children of one object in the dominator tree (of the GC roots when
/// none is given), biggest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DominatorQuery {
    /// The parent.
    pub of: Option<u64>,
    /// How many children.
    pub top: usize,
}

impl DominatorQuery {
    /// Children unless asked otherwise: as many bars as a page shows.
    pub const DEFAULT_TOP: usize = 40;

    /// The level.
    pub fn run(&self, heap: &Heap) -> Result<DominatorLevel, QueryError> {
        let parent = self.of.map(|address| heap.object_at(address)).transpose()?;
        Ok(DominatorLevel::new(
            &heap.graph,
            &heap.retention,
            parent,
            self.top,
        ))
    }
}
