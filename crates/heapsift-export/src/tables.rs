//! The tables' columns, each written once: the list gives the schema and
//! the values (see [`crate::columns`]). Every table starts with `dump_id`.
//!
//! Integers are signed (`Int64` for counts, bytes, generations and
//! addresses; `Int32` for lines, pids and depths): engines read unsigned
//! Parquet types badly or not at all. Times are UTC microseconds. `dyno`
//! and `date` are not in the files: the partition folders give them.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use heapsift_graph::{HeapGraph, PathShape, PathTree, RetainedRow, Retention, top_objects};
use heapsift_reports::SiteRow;

use crate::columns::{Column, TableRows, int32, int64};
use crate::{ExportError, SCHEMA_VERSION};

fn borrowed(text: &str) -> Option<Cow<'_, str>> {
    Some(Cow::Borrowed(text))
}

fn text(text: Option<&str>) -> Option<Cow<'_, str>> {
    text.map(Cow::Borrowed)
}

/// Splits `file:line` (as heapsift names sites) into its file and line.
fn split_site(site: Option<&str>) -> (Option<&str>, Option<i32>) {
    let Some(site) = site else {
        return (None, None);
    };
    match site.rsplit_once(':') {
        Some((file, line)) => (Some(file), line.parse::<u64>().ok().map(int32)),
        None => (Some(site), None),
    }
}

/// The `dumps` table's row of one dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpRow {
    /// The dump's id ([`crate::dump_id`]).
    pub dump_id: String,
    /// The dump as given: a path or URL.
    pub name: String,
    /// When it was taken, when known.
    pub time: Option<DateTime<Utc>>,
    /// The process that wrote it, when known.
    pub pid: Option<u32>,
    /// Its objects (ROOT records are not objects).
    pub objects: u64,
    /// Their `memsize`, summed.
    pub bytes: u64,
    /// The objects with an allocation site.
    pub traced_objects: u64,
    /// The process's resident set size when dumped (context record).
    pub rss: Option<u64>,
    /// The Ruby version (context record), e.g. `3.4.1`.
    pub ruby_version: Option<String>,
}

/// `dumps`: one row per dump.
const DUMPS: &[Column<DumpRow>] = &[
    Column::text("name", |row, _| borrowed(&row.name)),
    Column::optional_time("time", |row, _| row.time.map(|t| t.timestamp_micros())),
    Column::optional_int32("pid", |row, _| row.pid.map(|p| int32(u64::from(p)))),
    Column::int64("objects", |row, _| Some(int64(row.objects))),
    Column::int64("bytes", |row, _| Some(int64(row.bytes))),
    Column::int64("traced_objects", |row, _| Some(int64(row.traced_objects))),
    Column::optional_int64("rss", |row, _| row.rss.map(int64)),
    Column::optional_text("ruby_version", |row, _| text(row.ruby_version.as_deref())),
    Column::int32("schema_version", |_, _| Some(SCHEMA_VERSION)),
];

/// The `dumps` file of one dump.
pub fn encode_dumps(row: &DumpRow) -> Result<Vec<u8>, ExportError> {
    TableRows {
        columns: DUMPS,
        source: row,
        rows: 1,
        dump_id: &row.dump_id,
    }
    .encode(1)
}

/// `sites`: objects and bytes per type, file, line, class and generation.
const SITES: &[Column<[SiteRow]>] = &[
    Column::text("type", |rows, i| borrowed(&rows[i].kind)),
    Column::optional_text("file", |rows, i| text(rows[i].file.as_deref())),
    Column::optional_int32("line", |rows, i| rows[i].line.map(int32)),
    Column::optional_text("class_name", |rows, i| text(rows[i].class_name.as_deref())),
    Column::optional_int64("generation", |rows, i| rows[i].generation.map(int64)),
    Column::int64("objects", |rows, i| Some(int64(rows[i].objects))),
    Column::int64("bytes", |rows, i| Some(int64(rows[i].bytes))),
];

/// The `sites` file of the dump `id`.
pub fn encode_sites(id: &str, rows: &[SiteRow], threads: usize) -> Result<Vec<u8>, ExportError> {
    TableRows {
        columns: SITES,
        source: rows,
        rows: rows.len(),
        dump_id: id,
    }
    .encode(threads)
}

/// One row of `retainers`: an object that retains much, as `retained`
/// shows it, with its address as a number and its path.
struct Retainer {
    address: u64,
    row: RetainedRow,
    path: Option<PathShape>,
}

impl Retainer {
    fn of(graph: &HeapGraph, retention: &Retention, paths: &PathTree, node: u32) -> Self {
        Retainer {
            address: graph.address(node),
            row: RetainedRow::object(graph, retention, node),
            path: paths.shape(graph, node),
        }
    }
}

/// `retainers`: the objects that retain the most, with the shape of their
/// shortest path from the roots (null for those no root reaches).
const RETAINERS: &[Column<[Retainer]>] = &[
    Column::int64("address", |rows, i| Some(int64(rows[i].address))),
    Column::text("type", |rows, i| text(rows[i].row.kind.as_deref())),
    Column::text("description", |rows, i| borrowed(&rows[i].row.description)),
    Column::optional_text("class_name", |rows, i| {
        text(rows[i].row.class_name.as_deref())
    }),
    Column::optional_text("file", |rows, i| {
        text(split_site(rows[i].row.location.as_deref()).0)
    }),
    Column::optional_int32("line", |rows, i| {
        split_site(rows[i].row.location.as_deref()).1
    }),
    Column::int64("retained_bytes", |rows, i| {
        Some(int64(rows[i].row.retained_bytes))
    }),
    Column::int64("retained_count", |rows, i| {
        Some(int64(rows[i].row.retained_count))
    }),
    Column::int64("own_bytes", |rows, i| Some(int64(rows[i].row.own_bytes))),
    Column::optional_text("root", |rows, i| {
        text(rows[i].path.as_ref().map(|p| p.root.as_str()))
    }),
    Column::optional_text("path", |rows, i| {
        text(rows[i].path.as_ref().map(|p| p.path.as_str()))
    }),
    Column::optional_int32("depth", |rows, i| {
        rows[i].path.as_ref().map(|p| int32(p.depth as u64))
    }),
];

/// The `retainers` file of the dump `id`: its `top` biggest retainers.
pub fn encode_retainers(
    id: &str,
    graph: &HeapGraph,
    retention: &Retention,
    top: usize,
) -> Result<Vec<u8>, ExportError> {
    let nodes = top_objects(graph, retention, graph.super_root(), top);
    let paths = PathTree::new(graph);
    let rows: Vec<Retainer> = nodes
        .into_iter()
        .map(|node| Retainer::of(graph, retention, &paths, node))
        .collect();
    TableRows {
        columns: RETAINERS,
        source: rows.as_slice(),
        rows: rows.len(),
        dump_id: id,
    }
    .encode(1)
}

/// What the `objects` table is read from: the graph, its retention, and
/// each site split into file and line once.
struct Objects<'a> {
    graph: &'a HeapGraph,
    retention: &'a Retention,
    sites: Vec<(Option<&'a str>, Option<i32>)>,
}

impl Objects<'_> {
    fn site(&self, node: usize) -> (Option<&str>, Option<i32>) {
        self.graph
            .site(node as u32)
            .map_or((None, None), |site| self.sites[site as usize])
    }

    /// The address of the object's immediate dominator; `None` when that
    /// is the roots themselves, or nothing reaches the object.
    fn dominator(&self, node: usize) -> Option<i64> {
        let parent = self.retention.dominator(node as u32)?;
        ((parent as usize) < self.graph.object_count()).then(|| int64(self.graph.address(parent)))
    }
}

/// `objects`: one row per object (a function, not a constant, for the
/// source's lifetime).
fn object_columns<'a>() -> [Column<Objects<'a>>; 11] {
    [
        Column::int64("address", |o, i| Some(int64(o.graph.address(i as u32)))),
        Column::text("type", |o, i| borrowed(o.graph.kind(i as u32))),
        Column::optional_text("class_name", |o, i| o.graph.class_name(i as u32)),
        Column::optional_text("file", |o, i| text(o.site(i).0)),
        Column::optional_int32("line", |o, i| o.site(i).1),
        Column::optional_int64("generation", |o, i| o.graph.generation(i as u32).map(int64)),
        Column::int64("memsize", |o, i| Some(int64(o.graph.own_bytes(i as u32)))),
        Column::optional_int64("length", |o, i| o.graph.length(i as u32).map(int64)),
        Column::int64("retained_bytes", |o, i| {
            Some(int64(o.retention.retained_bytes(i as u32)))
        }),
        Column::int64("retained_count", |o, i| {
            Some(int64(o.retention.retained_count(i as u32)))
        }),
        Column::optional_int64("dominator", |o, i| o.dominator(i)),
    ]
}

/// The `objects` file of the dump `id`: one row per node of its graph
/// (built with [`heapsift_graph::GraphDetail::AsListed`], for the
/// generations). `dominator` is null for objects the roots dominate
/// directly and for unreachable ones.
pub fn encode_objects(
    id: &str,
    graph: &HeapGraph,
    retention: &Retention,
    threads: usize,
) -> Result<Vec<u8>, ExportError> {
    let sites = (0..graph.site_count() as u32)
        .map(|site| split_site(Some(graph.site_name(site))))
        .collect();
    let source = Objects {
        graph,
        retention,
        sites,
    };
    TableRows {
        columns: &object_columns(),
        source: &source,
        rows: graph.object_count(),
        dump_id: id,
    }
    .encode(threads)
}

/// `references`: one row per reference the dump lists.
const REFERENCES: &[Column<HeapGraph>] = &[
    Column::int64("from_address", |graph, i| {
        Some(int64(graph.address(graph.listed_reference(i).0)))
    }),
    Column::int64("to_address", |graph, i| {
        Some(int64(graph.listed_reference(i).1))
    }),
];

/// The `references` file of the dump `id`, from a graph built with
/// [`heapsift_graph::GraphDetail::AsListed`].
pub fn encode_references(
    id: &str,
    graph: &HeapGraph,
    threads: usize,
) -> Result<Vec<u8>, ExportError> {
    TableRows {
        columns: REFERENCES,
        source: graph,
        rows: graph.listed_reference_count(),
        dump_id: id,
    }
    .encode(threads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_split_at_the_last_colon() {
        assert_eq!(split_site(Some("C:/a.rb:12")), (Some("C:/a.rb"), Some(12)));
        assert_eq!(split_site(Some("a.rb:")), (Some("a.rb"), None));
        assert_eq!(split_site(None), (None, None));
    }

    #[test]
    fn a_dumps_file_is_parquet() {
        let row = DumpRow {
            dump_id: "00112233aabbccdd".into(),
            name: "1.dump".into(),
            time: None,
            pid: Some(42),
            objects: 3,
            bytes: 120,
            traced_objects: 1,
            rss: None,
            ruby_version: None,
        };
        let bytes = encode_dumps(&row).expect("encodes");
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    }
}
