//! `path` and `show`: why one object (or one site's objects) is alive.

use heapsift_graph::{HeapGraph, ObjectDetails, RootPath, SharedPaths};

use crate::{Heap, QueryError};

/// What a path query asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathTarget {
    /// One object, by address.
    Object(u64),
    /// Every object allocated at a site (`file:line`, or the end of one),
    /// with the most shared path shapes to show.
    Site {
        /// The site as typed.
        location: String,
        /// How many path shapes.
        top: usize,
    },
}

/// The shortest path from the GC roots to an object, or the paths a site's
/// objects share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathQuery {
    /// What to explain.
    pub target: PathTarget,
}

/// A path query's answer.
#[derive(Debug)]
pub enum PathAnswer {
    /// The path to one object.
    Object(RootPath),
    /// The paths to a site's objects, grouped by shape.
    Site(SharedPaths),
}

impl PathQuery {
    /// Path shapes shown for a site unless asked otherwise.
    pub const DEFAULT_TOP: usize = 5;

    /// The shortest path from the GC roots to the object at `address`
    /// (the web UI's object pages ask for no other).
    pub fn root_path(heap: &Heap, address: u64) -> Result<RootPath, QueryError> {
        let node = heap.object_at(address)?;
        heap.root_path(node).ok_or_else(|| {
            QueryError::NotFound(format!(
                "{address:#x} is not reachable from the GC roots (garbage not yet collected)"
            ))
        })
    }

    /// The path or paths.
    pub fn run(&self, heap: &Heap) -> Result<PathAnswer, QueryError> {
        match &self.target {
            PathTarget::Object(address) => Self::root_path(heap, *address).map(PathAnswer::Object),
            PathTarget::Site { location, top } => {
                let site = site_ending(&heap.graph, location)?;
                Ok(PathAnswer::Site(SharedPaths::find(&heap.graph, site, *top)))
            }
        }
    }
}

/// Most candidates named when a site's end is ambiguous.
const CANDIDATES_SHOWN: usize = 5;

/// The site written `location`, or else the one site whose path ends in it
/// (after a `/`): `statement.rb:108` finds
/// `/usr/lib/ruby/vendor_ruby/sqlite3/statement.rb:108`.
fn site_ending(graph: &HeapGraph, location: &str) -> Result<u32, QueryError> {
    if let Some(site) = graph.site_named(location) {
        return Ok(site);
    }
    let ends_in = |name: &str| {
        name.strip_suffix(location)
            .is_some_and(|before| before.is_empty() || before.ends_with('/'))
    };
    let matches: Vec<u32> = (0..graph.site_count() as u32)
        .filter(|&site| ends_in(graph.site_name(site)))
        .collect();
    match matches.as_slice() {
        [site] => Ok(*site),
        [] => Err(QueryError::NotFound(format!(
            "no object in the dump was allocated at {location} (give a site as `read DUMP all` prints it, or the end of one)"
        ))),
        several => {
            let mut names: Vec<&str> = several.iter().map(|&s| graph.site_name(s)).collect();
            names.sort_unstable();
            let more = names.len().saturating_sub(CANDIDATES_SHOWN);
            names.truncate(CANDIDATES_SHOWN);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            Err(QueryError::Invalid(format!(
                "{location} is the end of {} sites: {}{tail}; give more of the path",
                several.len(),
                names.join(", ")
            )))
        }
    }
}

/// Everything about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowQuery {
    /// The object's address.
    pub address: u64,
}

impl ShowQuery {
    /// References and referrers listed at most.
    pub const NEIGHBOURS: usize = 50;

    /// The object's details; `record` is its line in the dump, when found.
    pub fn run(&self, heap: &Heap, record: Option<String>) -> Result<ObjectDetails, QueryError> {
        let node = heap.object_at(self.address)?;
        let mut details = ObjectDetails::new(&heap.graph, &heap.retention, node, Self::NEIGHBOURS);
        details.record = record;
        Ok(details)
    }
}
