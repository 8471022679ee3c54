//! `heapsift export`: a dump's tables as Parquet files, laid out in Hive
//! partitions (`<table>/dyno=<dyno>/date=<YYYY-MM-DD>/<dump_id>.parquet`)
//! so that DuckDB, Spark, Trino or Athena query a fleet's dumps with SQL.
//!
//! This crate turns what the other crates computed (a dump's
//! [`SiteRow`](heapsift_reports::SiteRow)s, its
//! [`RetainedRow`](heapsift_graph::RetainedRow)s, its graph) into
//! encoded files in memory; where they go (a folder, S3) is the caller's
//! business. The columns are in [`tables`]; they are never taken away or
//! changed, and an addition bumps [`SCHEMA_VERSION`].

mod columns;
pub mod tables;

use chrono::{DateTime, Utc};

pub use tables::{
    DumpRow, encode_dumps, encode_objects, encode_references, encode_retainers, encode_sites,
};

/// The version of the tables' schemas, written in `dumps.schema_version`.
pub const SCHEMA_VERSION: i32 = 2;

/// Why a table could not be encoded (a bug rather than bad input: the
/// schemas and the rows are both ours).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Arrow refused a batch.
    #[error("building a table: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// Parquet refused to write it.
    #[error("writing Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
}

/// A dump's id: the first 16 hex digits of the BLAKE3 hash of its
/// decompressed bytes (`zcat dump.gz | b3sum | cut -c1-16`), so a dump has
/// one id however often, and from whichever copy, it is exported.
pub fn dump_id(digest: &[u8; 32]) -> String {
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The tables of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per dump.
    Dumps,
    /// Objects and bytes per type, site, class and generation.
    Sites,
    /// The objects that retain the most.
    Retainers,
    /// One row per object (`--objects`).
    Objects,
    /// One row per reference between objects (`--objects`).
    References,
}

impl Table {
    /// The table's folder name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Dumps => "dumps",
            Table::Sites => "sites",
            Table::Retainers => "retainers",
            Table::Objects => "objects",
            Table::References => "references",
        }
    }
}

/// Hive's name for a partition whose value is unknown; engines read it as
/// NULL.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Where a dump's files go: its dyno and the UTC day it was taken, when
/// known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The dyno, e.g. `web.1`.
    pub dyno: Option<String>,
    /// When the dump was taken.
    pub time: Option<DateTime<Utc>>,
}

impl Partition {
    /// `dyno=<dyno>/date=<YYYY-MM-DD>`, with [`DEFAULT_PARTITION`] for what
    /// is unknown and a dyno's unusual characters percent-encoded as Hive
    /// does.
    pub fn folder(&self) -> String {
        let dyno = self
            .dyno
            .as_deref()
            .map_or(DEFAULT_PARTITION.into(), escape);
        let date = self.time.map_or(DEFAULT_PARTITION.into(), |time| {
            time.format("%Y-%m-%d").to_string()
        });
        format!("dyno={dyno}/date={date}")
    }

    /// The path of a dump's file of `table`, relative to the export's root.
    pub fn path(&self, table: Table, dump_id: &str) -> String {
        format!("{}/{}/{dump_id}.parquet", table.name(), self.folder())
    }
}

/// Percent-encodes what Hive escapes in partition values: anything but
/// letters, digits, `.`, `_` and `-`.
fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => {
                escaped.push(byte as char)
            }
            _ => escaped.push_str(&format!("%{byte:02X}")),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_first_sixteen_hex_digits() {
        let digest = *blake3_like();
        assert_eq!(dump_id(&digest), "000102030405060f");
    }

    fn blake3_like() -> Box<[u8; 32]> {
        let mut digest = [0u8; 32];
        for (i, byte) in digest.iter_mut().enumerate() {
            *byte = i as u8;
        }
        digest[7] = 0x0f;
        Box::new(digest)
    }

    #[test]
    fn unknown_partitions_are_hives_default() {
        let unknown = Partition {
            dyno: None,
            time: None,
        };
        assert_eq!(
            unknown.path(Table::Sites, "ab"),
            "sites/dyno=__HIVE_DEFAULT_PARTITION__/date=__HIVE_DEFAULT_PARTITION__/ab.parquet"
        );
        let known = Partition {
            dyno: Some("web:1/x".into()),
            time: DateTime::parse_from_rfc3339("2026-01-02T23:59:59.999Z")
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        };
        assert_eq!(known.folder(), "dyno=web%3A1%2Fx/date=2026-01-02");
    }
}
