//! The heap as a graph, and what keeps its objects alive.
//!
//! Built from a dump's records: nodes are the objects (SHAPE records are
//! not heap slots and are left out), edges their `references` (edges to
//! addresses absent from the dump are dropped), and the GC roots the
//! references of the ROOT records, under one virtual super-root. On top of
//! it, the [dominator tree](dominators) gives every object's retained size:
//! what would be freed with it.

pub mod dominators;
