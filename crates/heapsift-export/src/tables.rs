//! The tables' schemas and their encoding as Parquet (zstd level 3).
//!
//! Integers are signed (`Int64` for counts, bytes, generations and
//! addresses; `Int32` for lines and pids): engines read unsigned Parquet
//! types badly or not at all. Times are UTC microseconds. `dyno` and
//! `date` are not in the files: the partition folders give them.

use std::sync::Arc;

use arrow_array::builder::{
    Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use heapsift_graph::{HeapGraph, RetainedRow, Retention};
use heapsift_reports::SiteRow;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::{ExportError, SCHEMA_VERSION};

/// Rows per Arrow batch handed to the writer: the arrays stay small, the
/// writer gathers them into row groups.
const BATCH_ROWS: usize = 64 << 10;

/// Columns holding addresses: delta-encoded, with no dictionary (every
/// value is distinct), which halves the `objects` file.
const ADDRESS_COLUMNS: [&str; 4] = ["address", "dominator", "from_address", "to_address"];

fn int64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn int32(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn field(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn properties() -> Result<WriterProperties, ExportError> {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "heapsift.schema_version".into(),
            SCHEMA_VERSION.to_string(),
        )]));
    for column in ADDRESS_COLUMNS {
        builder = builder
            .set_column_dictionary_enabled(ColumnPath::from(column), false)
            .set_column_encoding(ColumnPath::from(column), Encoding::DELTA_BINARY_PACKED);
    }
    Ok(builder.build())
}

/// Encodes batches of `schema` into one Parquet file in memory.
fn encode(
    schema: SchemaRef,
    batches: impl IntoIterator<Item = Result<RecordBatch, ExportError>>,
) -> Result<Vec<u8>, ExportError> {
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(properties()?))?;
    for batch in batches {
        writer.write(&batch?)?;
    }
    Ok(writer.into_inner()?)
}

/// A `dump_id` column of `rows` copies of `id`.
fn id_column(id: &str, rows: usize) -> ArrayRef {
    let mut column = StringBuilder::with_capacity(rows, rows * id.len());
    for _ in 0..rows {
        column.append_value(id);
    }
    Arc::new(column.finish())
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

/// `dumps`: dump_id, name, time, pid, objects, bytes, traced_objects, rss,
/// ruby_version, schema_version.
pub fn dumps_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("dump_id", DataType::Utf8, false),
        field("name", DataType::Utf8, false),
        field("time", utc_micros(), true),
        field("pid", DataType::Int32, true),
        field("objects", DataType::Int64, false),
        field("bytes", DataType::Int64, false),
        field("traced_objects", DataType::Int64, false),
        field("rss", DataType::Int64, true),
        field("ruby_version", DataType::Utf8, true),
        field("schema_version", DataType::Int32, false),
    ]))
}

/// The `dumps` file of one dump.
pub fn encode_dumps(row: &DumpRow) -> Result<Vec<u8>, ExportError> {
    let mut time = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    time.append_option(row.time.map(|t| t.timestamp_micros()));
    let mut pid = Int32Builder::new();
    pid.append_option(row.pid.map(|p| int32(u64::from(p))));
    let mut ruby = StringBuilder::new();
    ruby.append_option(row.ruby_version.as_deref());
    let columns: Vec<ArrayRef> = vec![
        id_column(&row.dump_id, 1),
        id_column(&row.name, 1),
        Arc::new(time.finish()),
        Arc::new(pid.finish()),
        one_int64(row.objects),
        one_int64(row.bytes),
        one_int64(row.traced_objects),
        Arc::new(arrow_array::Int64Array::from(vec![row.rss.map(int64)])),
        Arc::new(ruby.finish()),
        Arc::new(arrow_array::Int32Array::from(vec![SCHEMA_VERSION])),
    ];
    let schema = dumps_schema();
    let batch = RecordBatch::try_new(schema.clone(), columns);
    encode(schema, [batch.map_err(ExportError::from)])
}

fn one_int64(value: u64) -> ArrayRef {
    Arc::new(arrow_array::Int64Array::from(vec![int64(value)]))
}

/// `sites`: dump_id, type, file, line, class_name, generation, objects,
/// bytes.
pub fn sites_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("dump_id", DataType::Utf8, false),
        field("type", DataType::Utf8, false),
        field("file", DataType::Utf8, true),
        field("line", DataType::Int32, true),
        field("class_name", DataType::Utf8, true),
        field("generation", DataType::Int64, true),
        field("objects", DataType::Int64, false),
        field("bytes", DataType::Int64, false),
    ]))
}

/// The `sites` file of the dump `id`.
pub fn encode_sites(id: &str, rows: &[SiteRow]) -> Result<Vec<u8>, ExportError> {
    let schema = sites_schema();
    let batches = rows
        .chunks(BATCH_ROWS)
        .map(|chunk| -> Result<_, ExportError> {
            let (mut kind, mut file, mut class) = (
                StringBuilder::new(),
                StringBuilder::new(),
                StringBuilder::new(),
            );
            let (mut line, mut generation) = (Int32Builder::new(), Int64Builder::new());
            let (mut objects, mut bytes) = (Int64Builder::new(), Int64Builder::new());
            for row in chunk {
                kind.append_value(&row.kind);
                file.append_option(row.file.as_deref());
                line.append_option(row.line.map(int32));
                class.append_option(row.class_name.as_deref());
                generation.append_option(row.generation.map(int64));
                objects.append_value(int64(row.objects));
                bytes.append_value(int64(row.bytes));
            }
            let columns: Vec<ArrayRef> = vec![
                id_column(id, chunk.len()),
                Arc::new(kind.finish()),
                Arc::new(file.finish()),
                Arc::new(line.finish()),
                Arc::new(class.finish()),
                Arc::new(generation.finish()),
                Arc::new(objects.finish()),
                Arc::new(bytes.finish()),
            ];
            Ok(RecordBatch::try_new(schema.clone(), columns)?)
        });
    encode(schema.clone(), batches)
}

/// `retainers`: dump_id, address, type, description, class_name, file,
/// line, retained_bytes, retained_count, own_bytes.
pub fn retainers_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("dump_id", DataType::Utf8, false),
        field("address", DataType::Int64, false),
        field("type", DataType::Utf8, false),
        field("description", DataType::Utf8, false),
        field("class_name", DataType::Utf8, true),
        field("file", DataType::Utf8, true),
        field("line", DataType::Int32, true),
        field("retained_bytes", DataType::Int64, false),
        field("retained_count", DataType::Int64, false),
        field("own_bytes", DataType::Int64, false),
    ]))
}

/// Reads the address `retained` writes (`0x7f...`).
fn parse_hex(address: Option<&str>) -> i64 {
    address
        .and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
        .map_or(0, int64)
}

/// The `retainers` file of the dump `id`, from `retained`'s object rows.
pub fn encode_retainers(id: &str, rows: &[RetainedRow]) -> Result<Vec<u8>, ExportError> {
    let schema = retainers_schema();
    let mut strings: [StringBuilder; 4] = Default::default();
    let mut line = Int32Builder::new();
    let mut numbers: [Int64Builder; 4] = Default::default();
    for row in rows {
        let (file, site_line) = split_site(row.location.as_deref());
        numbers[0].append_value(parse_hex(row.address.as_deref()));
        strings[0].append_value(row.kind.as_deref().unwrap_or_default());
        strings[1].append_value(&row.description);
        strings[2].append_option(row.class_name.as_deref());
        strings[3].append_option(file);
        line.append_option(site_line);
        numbers[1].append_value(int64(row.retained_bytes));
        numbers[2].append_value(int64(row.retained_count));
        numbers[3].append_value(int64(row.own_bytes));
    }
    let [kind, description, class, file] = strings.map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let [address, retained, count, own] = numbers.map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let columns = vec![
        id_column(id, rows.len()),
        address,
        kind,
        description,
        class,
        file,
        Arc::new(line.finish()),
        retained,
        count,
        own,
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(ExportError::from);
    encode(schema, [batch])
}

/// `objects`: dump_id, address, type, class_name, file, line, generation,
/// memsize, length, retained_bytes, retained_count, dominator.
pub fn objects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("dump_id", DataType::Utf8, false),
        field("address", DataType::Int64, false),
        field("type", DataType::Utf8, false),
        field("class_name", DataType::Utf8, true),
        field("file", DataType::Utf8, true),
        field("line", DataType::Int32, true),
        field("generation", DataType::Int64, true),
        field("memsize", DataType::Int64, false),
        field("length", DataType::Int64, true),
        field("retained_bytes", DataType::Int64, false),
        field("retained_count", DataType::Int64, false),
        field("dominator", DataType::Int64, true),
    ]))
}

/// The `objects` file of the dump `id`: one row per node of its graph;
/// `generation(node)` gives each object's GC generation. `dominator` is
/// null for objects the roots dominate directly and for unreachable ones.
pub fn encode_objects(
    id: &str,
    graph: &HeapGraph,
    retention: &Retention,
    generation: impl Fn(u32) -> Option<u64>,
) -> Result<Vec<u8>, ExportError> {
    let schema = objects_schema();
    let nodes: Vec<u32> = (0..graph.object_count() as u32).collect();
    let batches = nodes
        .chunks(BATCH_ROWS)
        .map(|chunk| -> Result<_, ExportError> {
            let mut strings: [StringBuilder; 3] = Default::default();
            let mut line = Int32Builder::with_capacity(chunk.len());
            let mut numbers: [Int64Builder; 7] = Default::default();
            for &node in chunk {
                let (file, site_line) = split_site(graph.location(node));
                numbers[0].append_value(int64(graph.address(node)));
                strings[0].append_value(graph.kind(node));
                strings[1].append_option(graph.class_name(node));
                strings[2].append_option(file);
                line.append_option(site_line);
                numbers[1].append_option(generation(node).map(int64));
                numbers[2].append_value(int64(graph.own_bytes(node)));
                numbers[3].append_option(graph.length(node).map(int64));
                numbers[4].append_value(int64(retention.retained_bytes[node as usize]));
                numbers[5].append_value(int64(u64::from(retention.retained_count[node as usize])));
                numbers[6].append_option(dominator(graph, retention, node));
            }
            let [kind, class, file] = strings.map(|mut b| Arc::new(b.finish()) as ArrayRef);
            let [
                address,
                generation,
                memsize,
                length,
                retained,
                count,
                dominator,
            ] = numbers.map(|mut b| Arc::new(b.finish()) as ArrayRef);
            let columns = vec![
                id_column(id, chunk.len()),
                address,
                kind,
                class,
                file,
                Arc::new(line.finish()),
                generation,
                memsize,
                length,
                retained,
                count,
                dominator,
            ];
            Ok(RecordBatch::try_new(schema.clone(), columns)?)
        });
    encode(schema.clone(), batches)
}

/// The address of the object's immediate dominator; `None` when that is
/// the roots themselves, or nothing reaches the object.
fn dominator(graph: &HeapGraph, retention: &Retention, node: u32) -> Option<i64> {
    let parent = *retention.idom.get(node as usize)?;
    ((parent as usize) < graph.object_count()).then(|| int64(graph.address(parent)))
}

/// `references`: dump_id, from_address, to_address.
pub fn references_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("dump_id", DataType::Utf8, false),
        field("from_address", DataType::Int64, false),
        field("to_address", DataType::Int64, false),
    ]))
}

/// The `references` file of the dump `id`: one row per reference the
/// dump lists, `(from, to)` addresses.
pub fn encode_references(id: &str, references: &[(u64, u64)]) -> Result<Vec<u8>, ExportError> {
    let schema = references_schema();
    let batches = references
        .chunks(BATCH_ROWS)
        .map(|chunk| -> Result<_, ExportError> {
            let (mut from, mut to) = (Int64Builder::new(), Int64Builder::new());
            for &(source, target) in chunk {
                from.append_value(int64(source));
                to.append_value(int64(target));
            }
            let columns: Vec<ArrayRef> = vec![
                id_column(id, chunk.len()),
                Arc::new(from.finish()),
                Arc::new(to.finish()),
            ];
            Ok(RecordBatch::try_new(schema.clone(), columns)?)
        });
    encode(schema.clone(), batches)
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
