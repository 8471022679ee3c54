//! The heap as a graph, and what keeps its objects alive.
//!
//! Built from a dump's records by per-thread [`GraphSink`]s: nodes are the
//! objects (SHAPE records are not heap slots and are left out), edges their
//! `references` (edges to addresses absent from the dump are dropped), and
//! the GC roots the references of the ROOT records, under one virtual
//! super-root. On top of it, the [dominator tree](dominators) gives every
//! object's retained size ([`Retention`]): what would be freed with it.

mod addresses;
mod build;
pub mod dominators;
mod graph;
mod narrow;
mod paths;
mod retention;

pub use build::{GraphDetail, GraphSink};
pub use graph::{HeapGraph, Successors};
pub use paths::{ObjectDetails, PathGroup, PathHop, PathShape, PathTree, RootPath, SharedPaths};
pub use retention::{
    DominatorLevel, Grouping, RetainedReport, RetainedRow, Retention, Totals, top_objects,
};
