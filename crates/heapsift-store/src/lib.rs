//! Where heap dumps are kept, and how heapsift finds and reads them.
//!
//! The heapsift agent stores each dump under
//! `<prefix><dyno>/<YYYY-MM-DDTHH:MM:SS.sssZ>-process:<pid>-heap.dump.gz`,
//! in S3 (or an S3-compatible server) or in a local folder. A [`Location`]
//! names a store or one object in it, as the user typed it; [`list`] shows
//! a store's dumps newest first, [`exists`] checks one, [`open_object`]
//! streams an S3 object (for the analysis commands, which never download a
//! dump to disk first), [`open_dump`] opens a dump by any name a user gives
//! (a file, `-`, an `s3://` URL) and [`fetch`] copies one to a local file.
//!
//! S3 settings come from the usual `AWS_*` variables; `AWS_ENDPOINT_URL`
//! (or object_store's `AWS_ENDPOINT`) names an S3-compatible server, which
//! is then addressed path-style, over plain HTTP when its URL says so.

mod fetch;
mod folder;
mod key;
mod location;
mod open;
mod s3;

pub use fetch::fetch;
pub use key::DumpKey;
pub use location::Location;
pub use open::{OpenError, OpenedDump, open_dump};
pub use s3::ObjectReader;

use std::io;

use serde::Serialize;

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
}

impl StoredDump {
    fn new(url: String, key: String, size: u64, modified: chrono::DateTime<chrono::Utc>) -> Self {
        let parsed = DumpKey::parse(&key);
        StoredDump {
            time: parsed
                .as_ref()
                .map(|k| k.time.clone())
                .unwrap_or_else(|| key::format_time(modified)),
            dyno: parsed.as_ref().map(|k| k.dyno.clone()),
            pid: parsed.map(|k| k.pid),
            url,
            key,
            size,
        }
    }
}

/// Every object under a store's prefix (or file under its folder), newest
/// first; ties in time by key.
pub fn list(store: &Location) -> Result<Vec<StoredDump>, StoreError> {
    let mut dumps = match store {
        Location::S3 { bucket, key } => s3::list(bucket, key)?,
        Location::Local(folder) => folder::list(folder)?,
    };
    dumps.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.key.cmp(&b.key)));
    Ok(dumps)
}

/// One object (or file), as [`list`] would report it.
pub fn stat(object: &Location) -> Result<StoredDump, StoreError> {
    match object {
        Location::S3 { bucket, key } => s3::stat(bucket, key),
        Location::Local(path) => folder::stat(path),
    }
}

/// Whether the object (or file) exists.
pub fn exists(object: &Location) -> Result<bool, StoreError> {
    match stat(object) {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(err) => Err(err),
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
