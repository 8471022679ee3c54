//! A dump's *context record*: what the heap dump cannot say about the
//! process that wrote it.
//!
//! The agent stores, beside every dump and under the same name with
//! `.json` instead of `.dump.gz`, one JSON object (format version 1):
//! when and where the dump was taken (`time`, `dyno`, `pid`,
//! `ruby_description`), why (`trigger`), the process's memory at that
//! moment (`rss_bytes`, `rss_peak_bytes`, `memory_limit_bytes`,
//! `heap_pages_bytes`), the GC's statistics (`gc`, `gc_heap`), and the
//! dump's own cost (`tracing_since`, `dump_seconds`, `compressed_bytes`).
//! Any field may be null, and fields heapsift does not know are kept:
//! [`Context::record`] is the record as stored, for JSON output, and the
//! other fields of [`Context`] are the typed view of what heapsift uses.
//!
//! A dump without a record is not an error (older agents, copies made by
//! hand): [`read_context`] gives `None`. A record that can't be used (not
//! JSON, not an object, unreadable) is a [`ContextError`], which callers
//! print as a warning and then go on without the record.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};

use serde_json::Value;

use crate::{Location, StoreError, s3};

/// The endings of dump names, longest first: what `list` lists, and what a
/// context record's name replaces with `.json`.
pub const DUMP_SUFFIXES: [&str; 3] = [".dump.gz", ".dump.zst", ".dump"];

/// A context record is a few kilobytes; anything this big is something
/// else under a context record's name.
const MOST_BYTES: u64 = 4 << 20;

/// Whether a file or object name is a dump's: it ends `.dump`, `.dump.gz`
/// or `.dump.zst`.
pub fn is_dump_name(name: &str) -> bool {
    DUMP_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

/// The name of the context record beside a dump named `name` (a key or a
/// path): `X.dump.gz`, `X.dump.zst` and `X.dump` have `X.json`; any other
/// name has its last extension replaced by `.json` (`X.gz` has `X.json`),
/// or `.json` added. `None` for a name that is a record's own (`.json`)
/// or that ends in `/`.
pub fn context_name(name: &str) -> Option<String> {
    let (folder, file) = name.rsplit_once('/').map_or(("", name), |(f, n)| (f, n));
    if file.is_empty() || file.ends_with(".json") {
        return None;
    }
    let stem = DUMP_SUFFIXES
        .iter()
        .find_map(|suffix| file.strip_suffix(suffix))
        .or_else(|| file.rsplit_once('.').map(|(stem, _)| stem))
        .filter(|stem| !stem.is_empty())
        .unwrap_or(file);
    Some(match name.contains('/') {
        true => format!("{folder}/{stem}.json"),
        false => format!("{stem}.json"),
    })
}

impl Location {
    /// Where the context record of the dump at this location is (see
    /// [`context_name`]).
    pub fn context(&self) -> Option<Location> {
        match self {
            Location::S3 { bucket, key } => Some(Location::S3 {
                bucket: bucket.clone(),
                key: context_name(key)?,
            }),
            Location::Local(path) => {
                let text = path.to_str()?;
                Some(Location::Local(context_name(text)?.into()))
            }
        }
    }
}

/// A dump's context record: the record as stored, and the fields heapsift
/// uses, read from it (`None` where the record has null, nothing, or a
/// value of another kind).
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// The record exactly as stored, unknown fields included.
    pub record: Value,
    /// The record's format version (1).
    pub version: Option<u64>,
    /// When the dump was taken, as the agent wrote it
    /// (`2026-11-27T14:03:09.512Z`).
    pub time: Option<String>,
    /// The dyno, e.g. `web.1`.
    pub dyno: Option<String>,
    /// The process id.
    pub pid: Option<u64>,
    /// Ruby's `RUBY_DESCRIPTION`.
    pub ruby_description: Option<String>,
    /// What made the agent dump.
    pub trigger: Option<Trigger>,
    /// The process's resident memory when it dumped, in bytes.
    pub rss_bytes: Option<u64>,
    /// The most resident memory the process ever had, in bytes.
    pub rss_peak_bytes: Option<u64>,
    /// The container's memory limit, in bytes.
    pub memory_limit_bytes: Option<u64>,
    /// The GC's heap pages (allocated pages times the page size), in bytes.
    pub heap_pages_bytes: Option<u64>,
}

/// What triggered a dump: `trigger` in the record.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// `signal`, `schedule` or `memory` (other words are kept as written).
    pub kind: Option<String>,
    /// The signal's message, or the agent's words for the others.
    pub message: Option<String>,
    /// The signal's request id.
    pub request: Option<String>,
    /// A schedule's period, in seconds.
    pub every_seconds: Option<f64>,
    /// A memory trigger's RSS reading, in bytes.
    pub rss_bytes: Option<u64>,
    /// A memory trigger's threshold, in bytes.
    pub threshold_bytes: Option<u64>,
}

impl Context {
    /// Reads a record from its bytes; `Err` says why they are not one.
    pub fn from_json(bytes: &[u8]) -> Result<Context, String> {
        let record: Value = serde_json::from_slice(bytes)
            .map_err(|e| format!("not a context record (not JSON: {e})"))?;
        if !record.is_object() {
            return Err("not a context record (a JSON object)".to_owned());
        }
        Ok(Context {
            version: record.get("version").and_then(Value::as_u64),
            time: text(&record, "time"),
            dyno: text(&record, "dyno"),
            pid: record.get("pid").and_then(Value::as_u64),
            ruby_description: text(&record, "ruby_description"),
            trigger: record.get("trigger").and_then(Trigger::from_value),
            rss_bytes: bytes_field(&record, "rss_bytes"),
            rss_peak_bytes: bytes_field(&record, "rss_peak_bytes"),
            memory_limit_bytes: bytes_field(&record, "memory_limit_bytes"),
            heap_pages_bytes: bytes_field(&record, "heap_pages_bytes"),
            record,
        })
    }
}

impl Trigger {
    fn from_value(value: &Value) -> Option<Trigger> {
        value.is_object().then(|| Trigger {
            kind: text(value, "kind"),
            message: text(value, "message"),
            request: text(value, "request"),
            every_seconds: value.get("every").and_then(Value::as_f64),
            rss_bytes: bytes_field(value, "rss_bytes"),
            threshold_bytes: bytes_field(value, "threshold_bytes"),
        })
    }
}

/// A string field.
fn text(object: &Value, name: &str) -> Option<String> {
    object.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// A size in bytes: a whole number, or a non-negative one with a fraction
/// (rounded), as some JSON writers give large numbers.
fn bytes_field(object: &Value, name: &str) -> Option<u64> {
    let value = object.get(name)?;
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f.round() as u64)
    })
}

/// A context record that is there but can't be used, and what is done
/// instead; printed as a warning (`heapsift: <this>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextError {
    /// The record's path or URL.
    pub location: String,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.problem)
    }
}

impl std::error::Error for ContextError {}

/// What reading one context record gave: the record, `None` when the
/// dump has none, or why it can't be used.
pub type ContextResult = Result<Option<Context>, ContextError>;

/// The context record of the dump at `dump`: `None` when there is none.
pub fn read_context(dump: &Location) -> ContextResult {
    match dump.context() {
        None => Ok(None),
        Some(record) => read_records(std::slice::from_ref(&record)).remove(0),
    }
}

/// The context records at `records` (their own locations, not their
/// dumps'), in order. Those in S3 are fetched concurrently, many at once
/// per bucket: a store of hundreds of dumps lists in a few round trips.
pub fn read_records(records: &[Location]) -> Vec<ContextResult> {
    let mut results: Vec<Option<ContextResult>> = vec![None; records.len()];
    let mut by_bucket: HashMap<&str, Vec<(usize, &str)>> = HashMap::new();
    for (i, record) in records.iter().enumerate() {
        match record {
            Location::S3 { bucket, key } => by_bucket.entry(bucket).or_default().push((i, key)),
            Location::Local(path) => results[i] = Some(parse(record, read_local(path))),
        }
    }
    for (bucket, wanted) in by_bucket {
        let keys: Vec<&str> = wanted.iter().map(|(_, key)| *key).collect();
        for ((i, _), fetched) in wanted.iter().zip(s3::get_small(bucket, &keys, MOST_BYTES)) {
            results[*i] = Some(parse(&records[*i], fetched));
        }
    }
    results
        .into_iter()
        .map(|result| result.unwrap_or(Ok(None)))
        .collect()
}

/// The bytes of the record at `record`; `None` when there is none.
pub(crate) fn record_bytes(record: &Location) -> Result<Option<Vec<u8>>, StoreError> {
    match record {
        Location::S3 { bucket, key } => s3::get_small(bucket, &[key], MOST_BYTES).remove(0),
        Location::Local(path) => read_local(path),
    }
}

/// A record's bytes read into a [`ContextResult`].
fn parse(record: &Location, bytes: Result<Option<Vec<u8>>, StoreError>) -> ContextResult {
    let problem = |problem: String| ContextError {
        location: record.to_string(),
        problem: format!("{problem}; going on without it"),
    };
    match bytes {
        Ok(None) => Ok(None),
        Ok(Some(bytes)) => Context::from_json(&bytes).map(Some).map_err(problem),
        Err(e) => Err(problem(format!("cannot read the context record: {e}"))),
    }
}

/// A local record's bytes; `None` when there is no such file.
fn read_local(path: &std::path::Path) -> Result<Option<Vec<u8>>, StoreError> {
    let file = match File::open(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        other => other?,
    };
    if file.metadata()?.is_dir() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    file.take(MOST_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MOST_BYTES {
        return Err(too_big());
    }
    Ok(Some(bytes))
}

/// Why a record that big is refused.
pub(crate) fn too_big() -> StoreError {
    StoreError::Io(io::Error::other(format!(
        "over {} MB, too big for a context record",
        MOST_BYTES >> 20
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dumps_record_is_named_after_it() {
        for (dump, record) in [
            (
                "prod/web.1/2026-11-27T14:03:09.512Z-process:4242-heap.dump.gz",
                "prod/web.1/2026-11-27T14:03:09.512Z-process:4242-heap.json",
            ),
            ("x.dump.zst", "x.json"),
            ("dir/x.dump", "dir/x.json"),
            ("./before.gz", "./before.json"),
            ("copy", "copy.json"),
            ("a.b/copy", "a.b/copy.json"),
            (".dump.gz", ".dump.gz.json"),
        ] {
            assert_eq!(context_name(dump).as_deref(), Some(record), "{dump}");
        }
        assert_eq!(context_name("x.json"), None);
        assert_eq!(context_name("prod/"), None);
    }

    #[test]
    fn dump_names_end_in_dump_gz_zst_or_nothing() {
        for name in ["a.dump", "web.1/a-heap.dump.gz", "a.dump.zst"] {
            assert!(is_dump_name(name), "{name}");
        }
        for name in [
            "a.json",
            "notes.txt",
            "a.dump.gz.partial-12",
            "a.dumps",
            "a.gz",
        ] {
            assert!(!is_dump_name(name), "{name}");
        }
    }

    #[test]
    fn the_typed_view_reads_what_it_can_and_keeps_the_rest() {
        let context = Context::from_json(
            br#"{"version": 1, "pid": 4242, "rss_bytes": 1395864371, "rss_peak_bytes": 1.4e9,
                 "memory_limit_bytes": null, "heap_pages_bytes": "big", "future": [1],
                 "trigger": {"kind": "memory", "rss_bytes": 9, "threshold_bytes": 8, "message": "high"}}"#,
        )
        .unwrap();
        assert_eq!(context.pid, Some(4242));
        assert_eq!(context.rss_bytes, Some(1_395_864_371));
        assert_eq!(context.rss_peak_bytes, Some(1_400_000_000));
        assert_eq!(
            (context.memory_limit_bytes, context.heap_pages_bytes),
            (None, None)
        );
        let trigger = context.trigger.unwrap();
        assert_eq!(trigger.kind.as_deref(), Some("memory"));
        assert_eq!(
            (trigger.rss_bytes, trigger.threshold_bytes),
            (Some(9), Some(8))
        );
        assert_eq!(context.record["future"][0], 1);
    }

    #[test]
    fn what_is_not_a_json_object_is_refused() {
        assert!(
            Context::from_json(b"{\"rss_bytes\": ")
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(
            Context::from_json(b"[1, 2]")
                .unwrap_err()
                .contains("a JSON object")
        );
    }
}
