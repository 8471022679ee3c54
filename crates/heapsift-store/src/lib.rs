//! Where heap dumps are kept, and how heapsift finds and reads them.
//!
//! The heapsift agent stores each dump under
//! `<prefix><dyno>/<YYYY-MM-DDTHH:MM:SS.sssZ>-process:<pid>-heap.dump.gz`,
//! in S3 (or an S3-compatible server) or in a local folder, with its
//! [`context`] record beside it (`...-heap.json`). A [`Location`] names a
//! store or one object in it, as the user typed it; [`list`] shows a
//! store's dumps newest first (the files whose names end `.dump`,
//! `.dump.gz` or `.dump.zst`; records and other files are not dumps) and
//! [`read_listed_contexts`] their records, [`exists`] checks one object,
//! [`open_object`] streams an S3 object (for the analysis commands, which
//! never download a dump to disk first), [`open_dump`] opens a dump by any
//! name a user gives (a file, `-`, an `s3://` URL) and [`fetch`] copies one
//! to a local file.
//!
//! S3 settings come from the usual `AWS_*` variables; `AWS_ENDPOINT_URL`
//! (or object_store's `AWS_ENDPOINT`) names an S3-compatible server, which
//! is then addressed path-style, over plain HTTP when its URL says so.

pub mod context;
mod fetch;
mod folder;
mod key;
mod location;
mod open;
mod s3;

pub use context::{
    Context, ContextError, ContextResult, Trigger, context_name, is_dump_name, read_context,
    read_records,
};
pub use fetch::{Fetched, FetchedContext, fetch};
pub use key::DumpKey;
pub use location::Location;
pub use open::{OpenError, OpenedDump, open_dump};
pub use s3::ObjectReader;

use std::collections::HashMap;
use std::io;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// Why a store operation failed. Messages are written to follow
/// `heapsift: <location>: `.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The text is not a usable `s3://` URL.
    #[error("not a valid S3 URL: {0} (expected s3://bucket/key)")]
    InvalidUrl(String),
    /// The object or folder does not exist.
    #[error("not found")]
    NotFound,
    /// The destination of a fetch exists already.
    #[error(transparent)]
    DestinationExists(#[from] heapsift_output::OutputError),
    /// S3 refused or could not be reached.
    #[error("{0}")]
    S3(String),
    /// No AWS credentials anywhere: no variable gives them and no instance
    /// metadata service answers.
    #[error(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
         (with AWS_SESSION_TOKEN for temporary ones), or AWS_WEB_IDENTITY_TOKEN_FILE \
         and AWS_ROLE_ARN; none is set, and no instance metadata service gives any"
    )]
    NoCredentials,
    /// A local file or folder could not be read or written.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// One dump in a store, as [`list`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredDump {
    /// The full name to give heapsift's other commands: `s3://bucket/key`
    /// or a local path.
    pub url: String,
    /// The object's key (its path inside the folder, for a folder store).
    pub key: String,
    /// Size as stored, in bytes.
    pub size: u64,
    /// When the dump was taken (from its key), or else when the object was
    /// last written: UTC, `YYYY-MM-DDTHH:MM:SS.sssZ`.
    pub time: String,
    /// The dyno that wrote it (from its key), if the key is in the
    /// agent's layout.
    pub dyno: Option<String>,
    /// The process that wrote it (from its key), if the key is in the
    /// agent's layout.
    pub pid: Option<u32>,
    /// Its context record as stored, once read ([`read_listed_contexts`]);
    /// `None` when it has none (or it was not read).
    pub context: Option<Value>,
    /// Where its context record is, when the store holds one beside it.
    #[serde(skip)]
    pub context_location: Option<Location>,
}

/// An object or file as a store lists it, dump or not.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    url: String,
    key: String,
    size: u64,
    modified: DateTime<Utc>,
    location: Location,
}

impl StoredDump {
    fn new(listed: Listed, context_location: Option<Location>) -> Self {
        let parsed = DumpKey::parse(&listed.key);
        StoredDump {
            time: parsed
                .as_ref()
                .map(|k| k.time.clone())
                .unwrap_or_else(|| key::format_time(listed.modified)),
            dyno: parsed.as_ref().map(|k| k.dyno.clone()),
            pid: parsed.map(|k| k.pid),
            url: listed.url,
            key: listed.key,
            size: listed.size,
            context: None,
            context_location,
        }
    }
}

/// The dumps under a store's prefix (or folder): the objects whose names
/// end `.dump`, `.dump.gz` or `.dump.zst`, newest first, ties in time by
/// key; each knows where its context record is if the store holds one.
/// Context records, the agent's partial uploads (`.partial-<pid>`) and
/// other files are not listed.
pub fn list(store: &Location) -> Result<Vec<StoredDump>, StoreError> {
    let listed = match store {
        Location::S3 { bucket, key } => s3::list(bucket, key)?,
        Location::Local(folder) => folder::list(folder)?,
    };
    let mut records: HashMap<&str, &Location> = HashMap::new();
    for object in listed.iter().filter(|o| o.key.ends_with(".json")) {
        records.insert(&object.key, &object.location);
    }
    let mut dumps: Vec<StoredDump> = listed
        .iter()
        .filter(|object| is_dump_name(&object.key))
        .map(|object| {
            let record = context_name(&object.key).and_then(|name| records.get(name.as_str()));
            StoredDump::new(object.clone(), record.map(|&location| location.clone()))
        })
        .collect();
    dumps.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.key.cmp(&b.key)));
    Ok(dumps)
}

/// Reads the context records of listed dumps into their `context`, those
/// in S3 concurrently; returns the records that could not be used, for
/// warnings (their dumps keep `context` `None`).
pub fn read_listed_contexts(dumps: &mut [StoredDump]) -> Vec<ContextError> {
    let with_record: Vec<usize> = (0..dumps.len())
        .filter(|&i| dumps[i].context_location.is_some())
        .collect();
    let locations: Vec<Location> = with_record
        .iter()
        .filter_map(|&i| dumps[i].context_location.clone())
        .collect();
    let mut problems = Vec::new();
    for (i, read) in with_record.into_iter().zip(read_records(&locations)) {
        match read {
            Ok(context) => dumps[i].context = context.map(|c| c.record),
            Err(problem) => problems.push(problem),
        }
    }
    problems
}

/// One object (or file), as [`list`] would report it (its context
/// record not looked for).
pub fn stat(object: &Location) -> Result<StoredDump, StoreError> {
    let listed = match object {
        Location::S3 { bucket, key } => s3::stat(bucket, key)?,
        Location::Local(path) => folder::stat(path)?,
    };
    Ok(StoredDump::new(listed, None))
}

/// Whether the object (or file) exists.
pub fn exists(object: &Location) -> Result<bool, StoreError> {
    match stat(object) {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(err) => Err(err),
    }
}

/// Writes `bytes` as the object (or file) at `object`, replacing one
/// there, whole or not at all: in S3 one PUT (a multipart upload for big
/// ones, aborted on failure), so nothing shows until it is complete; in a
/// folder a hidden temporary file (`.<name>.partial-<pid>`, which Spark
/// and Hadoop skip) renamed into place, its folders made as needed.
pub fn put(object: &Location, bytes: Vec<u8>) -> Result<(), StoreError> {
    match object {
        Location::S3 { bucket, key } => s3::put(bucket, key, bytes),
        Location::Local(path) => {
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            heapsift_output::OutputFile::new(path, true)
                .hidden_partial()
                .write(|out| io::Write::write_all(out, &bytes).map_err(StoreError::Io))
        }
    }
}

/// Opens an S3 object for reading front to back, streamed as it arrives.
/// Local paths are not opened here: heapsift-input reads files itself,
/// faster, in parallel.
pub fn open_object(object: &Location) -> Result<ObjectReader, StoreError> {
    match object {
        Location::S3 { bucket, key } => ObjectReader::open(bucket, key),
        Location::Local(path) => Err(StoreError::Io(io::Error::other(format!(
            "{} is a local path; read it as a file",
            path.display()
        )))),
    }
}
