//! A table as a list of columns, each a name and a function giving row
//! `i`'s value: one list gives both the table's schema and its values, and
//! the file is encoded a row group per thread.
//!
//! Row groups hold [`ROW_GROUP_ROWS`] rows. Each is built and encoded
//! (Arrow arrays, then Parquet pages, zstd) by whichever thread takes it
//! next; the encoded column chunks are then appended in order. On the
//! benchmark dump's 4 M objects and 9 M references this is the bulk of an
//! `--objects` export, and two threads halve it.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use arrow_array::builder::{
    Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::{ExportError, SCHEMA_VERSION};

/// Rows per row group: large enough for engines to read efficiently,
/// small enough that the two or so groups being built at once stay within
/// tens of megabytes.
const ROW_GROUP_ROWS: usize = 512 << 10;

/// One column of a table whose rows are read from a `T`: its name, and
/// how row `i` gives its value.
pub(crate) struct Column<T: ?Sized> {
    name: &'static str,
    nullable: bool,
    values: Values<T>,
}

/// A column's type, with the function giving each row's value (`None`
/// for null).
enum Values<T: ?Sized> {
    Text(fn(&T, usize) -> Option<Cow<'_, str>>),
    Int64(fn(&T, usize) -> Option<i64>),
    Int32(fn(&T, usize) -> Option<i32>),
    /// A UTC time in microseconds since the epoch.
    Time(fn(&T, usize) -> Option<i64>),
}

impl<T: ?Sized> Column<T> {
    /// A text column that is never null.
    pub(crate) const fn text(
        name: &'static str,
        of: fn(&T, usize) -> Option<Cow<'_, str>>,
    ) -> Self {
        Column::new(name, false, Values::Text(of))
    }

    /// A text column that may be null.
    pub(crate) const fn optional_text(
        name: &'static str,
        of: fn(&T, usize) -> Option<Cow<'_, str>>,
    ) -> Self {
        Column::new(name, true, Values::Text(of))
    }

    /// A 64-bit integer column that is never null.
    pub(crate) const fn int64(name: &'static str, of: fn(&T, usize) -> Option<i64>) -> Self {
        Column::new(name, false, Values::Int64(of))
    }

    /// A 64-bit integer column that may be null.
    pub(crate) const fn optional_int64(
        name: &'static str,
        of: fn(&T, usize) -> Option<i64>,
    ) -> Self {
        Column::new(name, true, Values::Int64(of))
    }

    /// A 32-bit integer column that is never null.
    pub(crate) const fn int32(name: &'static str, of: fn(&T, usize) -> Option<i32>) -> Self {
        Column::new(name, false, Values::Int32(of))
    }

    /// A 32-bit integer column that may be null.
    pub(crate) const fn optional_int32(
        name: &'static str,
        of: fn(&T, usize) -> Option<i32>,
    ) -> Self {
        Column::new(name, true, Values::Int32(of))
    }

    /// A UTC timestamp column (microseconds) that may be null.
    pub(crate) const fn optional_time(
        name: &'static str,
        of: fn(&T, usize) -> Option<i64>,
    ) -> Self {
        Column::new(name, true, Values::Time(of))
    }

    const fn new(name: &'static str, nullable: bool, values: Values<T>) -> Self {
        Column {
            name,
            nullable,
            values,
        }
    }

    fn field(&self) -> Field {
        let data_type = match self.values {
            Values::Text(_) => DataType::Utf8,
            Values::Int64(_) => DataType::Int64,
            Values::Int32(_) => DataType::Int32,
            Values::Time(_) => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        };
        Field::new(self.name, data_type, self.nullable)
    }

    /// The column's values for rows `start..end`.
    fn array(&self, source: &T, start: usize, end: usize) -> ArrayRef {
        let rows = end - start;
        match self.values {
            Values::Text(of) => {
                let mut builder = StringBuilder::with_capacity(rows, rows * 16);
                for i in start..end {
                    builder.append_option(of(source, i));
                }
                Arc::new(builder.finish())
            }
            Values::Int64(of) => {
                let mut builder = Int64Builder::with_capacity(rows);
                builder.extend((start..end).map(|i| of(source, i)));
                Arc::new(builder.finish())
            }
            Values::Int32(of) => {
                let mut builder = Int32Builder::with_capacity(rows);
                builder.extend((start..end).map(|i| of(source, i)));
                Arc::new(builder.finish())
            }
            Values::Time(of) => {
                let mut builder = TimestampMicrosecondBuilder::with_capacity(rows);
                builder.extend((start..end).map(|i| of(source, i)));
                Arc::new(builder.finish().with_timezone("UTC"))
            }
        }
    }
}

/// Columns holding addresses: delta-encoded, with no dictionary (every
/// value is distinct), which halves the `objects` file.
const ADDRESS_COLUMNS: [&str; 4] = ["address", "dominator", "from_address", "to_address"];

/// Every table's first column: the dump's id, the same in every row.
const DUMP_ID: &str = "dump_id";

/// The schema of a table of `columns`, after its `dump_id`.
pub(crate) fn schema<T: ?Sized>(columns: &[Column<T>]) -> SchemaRef {
    let id = Field::new(DUMP_ID, DataType::Utf8, false);
    let fields: Vec<Field> = std::iter::once(id)
        .chain(columns.iter().map(Column::field))
        .collect();
    Arc::new(Schema::new(fields))
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

/// A table to encode: its columns, where their values come from, how many
/// rows it has, and the dump it belongs to.
pub(crate) struct TableRows<'a, T: ?Sized> {
    pub columns: &'a [Column<T>],
    pub source: &'a T,
    pub rows: usize,
    pub dump_id: &'a str,
}

impl<T: ?Sized + Sync> TableRows<'_, T> {
    /// The table as one Parquet file in memory, its row groups encoded by
    /// `threads` threads.
    pub(crate) fn encode(&self, threads: usize) -> Result<Vec<u8>, ExportError> {
        let schema = schema(self.columns);
        let writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(properties()?))?;
        let (mut file, factory) = writer.into_serialized_writer()?;
        let groups = self.rows.div_ceil(ROW_GROUP_ROWS);
        let next = AtomicUsize::new(0);
        let encoded: Vec<Vec<(usize, Vec<ArrowColumnChunk>)>> = thread::scope(|scope| {
            let workers: Vec<_> = (0..threads.clamp(1, groups.max(1)))
                .map(|_| scope.spawn(|| self.encode_groups(&schema, &factory, &next, groups)))
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().expect("an encoding thread panicked"))
                .collect::<Result<_, ExportError>>()
        })?;
        let mut encoded: Vec<(usize, Vec<ArrowColumnChunk>)> =
            encoded.into_iter().flatten().collect();
        encoded.sort_unstable_by_key(|(group, _)| *group);
        for (_, chunks) in encoded {
            let mut row_group = file.next_row_group()?;
            for chunk in chunks {
                chunk.append_to_row_group(&mut row_group)?;
            }
            row_group.close()?;
        }
        Ok(file.into_inner()?)
    }

    /// Takes row groups until none is left, encoding each.
    fn encode_groups(
        &self,
        schema: &SchemaRef,
        factory: &ArrowRowGroupWriterFactory,
        next: &AtomicUsize,
        groups: usize,
    ) -> Result<Vec<(usize, Vec<ArrowColumnChunk>)>, ExportError> {
        let mut done = Vec::new();
        loop {
            let group = next.fetch_add(1, Ordering::Relaxed);
            if group >= groups {
                return Ok(done);
            }
            let start = group * ROW_GROUP_ROWS;
            let batch = self.batch(schema, start, self.rows.min(start + ROW_GROUP_ROWS))?;
            let mut writers = factory.create_column_writers(group)?;
            let mut writer_of_leaf = writers.iter_mut();
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                for leaf in compute_leaves(field, column)? {
                    if let Some(writer) = writer_of_leaf.next() {
                        writer.write(&leaf)?;
                    }
                }
            }
            let chunks = writers
                .into_iter()
                .map(|writer| writer.close())
                .collect::<Result<_, _>>()?;
            done.push((group, chunks));
        }
    }

    /// Rows `start..end` as an Arrow batch.
    fn batch(
        &self,
        schema: &SchemaRef,
        start: usize,
        end: usize,
    ) -> Result<RecordBatch, ExportError> {
        let rows = end - start;
        let mut id = StringBuilder::with_capacity(rows, rows * self.dump_id.len());
        for _ in 0..rows {
            id.append_value(self.dump_id);
        }
        let id: ArrayRef = Arc::new(id.finish());
        let arrays = std::iter::once(id)
            .chain(
                self.columns
                    .iter()
                    .map(|column| column.array(self.source, start, end)),
            )
            .collect();
        Ok(RecordBatch::try_new(schema.clone(), arrays)?)
    }
}

/// `value` as a Parquet integer: engines read unsigned types badly or not
/// at all, and no count or address of a dump comes near 2^63.
pub(crate) fn int64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `value` as a 32-bit Parquet integer (lines, pids), saturating.
pub(crate) fn int32(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    const SQUARES: &[Column<[u64]>] = &[
        Column::int64("n", |rows, i| Some(int64(rows[i]))),
        Column::optional_text("odd", |rows, i| {
            (rows[i] % 2 == 1).then(|| Cow::Owned(rows[i].to_string()))
        }),
    ];

    #[test]
    fn row_groups_encoded_apart_come_back_in_order() {
        let rows: Vec<u64> = (0..(ROW_GROUP_ROWS as u64 * 5 / 2)).collect();
        let table = TableRows {
            columns: SQUARES,
            source: rows.as_slice(),
            rows: rows.len(),
            dump_id: "0011223344556677",
        };
        let one = table.encode(1).expect("encodes");
        let three = table.encode(3).expect("encodes");
        assert_eq!(one, three, "the same file whatever the threads");
        let reader = SerializedFileReader::new(bytes::Bytes::from(three)).expect("reads");
        let metadata = reader.metadata();
        assert_eq!(metadata.num_row_groups(), 3);
        assert_eq!(metadata.file_metadata().num_rows(), rows.len() as i64);
        let mut first = Vec::new();
        for group in 0..3 {
            let statistics = metadata.row_group(group).column(1).statistics();
            let min = statistics
                .and_then(|s| s.min_bytes_opt())
                .map(|b| b.to_vec());
            first.push(min);
        }
        let expected: Vec<_> = (0..3u64)
            .map(|g| Some((g * ROW_GROUP_ROWS as u64).to_le_bytes().to_vec()))
            .collect();
        assert_eq!(first, expected, "each group's smallest n is its first row");
    }

    #[test]
    fn an_empty_table_is_a_valid_file() {
        let table = TableRows {
            columns: SQUARES,
            source: &[][..],
            rows: 0,
            dump_id: "0011223344556677",
        };
        let bytes = table.encode(2).expect("encodes");
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).expect("reads");
        assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
        assert_eq!(
            reader
                .metadata()
                .file_metadata()
                .schema_descr()
                .num_columns(),
            3
        );
    }
}
