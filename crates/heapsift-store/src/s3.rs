//! S3 and S3-compatible servers, through object_store.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread;
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, RetryConfig};
use tokio::runtime::Runtime;

use crate::{StoreError, StoredDump};

/// Chunks read ahead of the consumer: network and decompression overlap,
/// memory stays bounded.
const READ_AHEAD_CHUNKS: usize = 16;

/// A client for one bucket, with the runtime its requests run on.
struct Bucket {
    runtime: Runtime,
    store: AmazonS3,
    name: String,
}

impl Bucket {
    /// Configured from the `AWS_*` variables. An endpoint given there (an
    /// S3-compatible server) is addressed path-style, which is
    /// object_store's default, and may be plain HTTP.
    fn open(name: &str) -> Result<Self, StoreError> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(name)
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..RetryConfig::default()
            });
        let endpoint = [AmazonS3ConfigKey::S3Endpoint, AmazonS3ConfigKey::Endpoint]
            .iter()
            .find_map(|key| builder.get_config_value(key));
        if endpoint.is_some_and(|url| url.starts_with("http://")) {
            builder = builder.with_allow_http(true);
        }
        let store = builder.build().map_err(s3_error)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Bucket {
            runtime,
            store,
            name: name.to_owned(),
        })
    }
}

/// Every object under the prefix.
pub(crate) fn list(bucket: &str, prefix: &str) -> Result<Vec<StoredDump>, StoreError> {
    let bucket = Bucket::open(bucket)?;
    let prefix = (!prefix.is_empty()).then(|| Path::from(prefix.trim_end_matches('/')));
    let objects = bucket.runtime.block_on(async {
        let mut listing = bucket.store.list(prefix.as_ref());
        let mut objects = Vec::new();
        while let Some(meta) = listing.next().await {
            objects.push(meta?);
        }
        Ok(objects)
    });
    Ok(objects
        .map_err(s3_error)?
        .into_iter()
        .map(|meta| {
            let key = meta.location.to_string();
            let url = format!("s3://{}/{key}", bucket.name);
            StoredDump::new(url, key, meta.size, meta.last_modified)
        })
        .collect())
}

/// The object's size and time, as [`list`](crate::list) gives them.
pub(crate) fn stat(bucket: &str, key: &str) -> Result<StoredDump, StoreError> {
    let bucket = Bucket::open(bucket)?;
    match bucket.runtime.block_on(bucket.store.head(&Path::from(key))) {
        Ok(meta) => Ok(StoredDump::new(
            format!("s3://{}/{key}", bucket.name),
            key.to_owned(),
            meta.size,
            meta.last_modified,
        )),
        Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound),
        Err(err) => Err(s3_error(err)),
    }
}

/// An S3 object read front to back as it arrives: a thread of its own
/// receives the body while the reader consumes what came before. A body
/// shorter than the object's size ends in an error.
pub struct ObjectReader {
    chunks: Receiver<io::Result<Bytes>>,
    current: Bytes,
    size: u64,
    received: u64,
}

impl ObjectReader {
    pub(crate) fn open(bucket: &str, key: &str) -> Result<Self, StoreError> {
        let Bucket { runtime, store, .. } = Bucket::open(bucket)?;
        let response = runtime
            .block_on(store.get(&Path::from(key)))
            .map_err(s3_error)?;
        let size = response.meta.size;
        let mut body = response.into_stream();
        let (sender, chunks) = sync_channel(READ_AHEAD_CHUNKS);
        thread::Builder::new()
            .name("heapsift-s3".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(chunk) = body.next().await {
                        let failed = chunk.is_err();
                        // The reader went away (the command ended early) or
                        // the body broke: either way, stop.
                        if sender.send(chunk.map_err(io::Error::other)).is_err() || failed {
                            break;
                        }
                    }
                })
            })?;
        Ok(ObjectReader {
            chunks,
            current: Bytes::new(),
            size,
            received: 0,
        })
    }

    /// The object's size in bytes, as stored.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.recv() {
                Ok(chunk) => {
                    self.current = chunk?;
                    self.received += self.current.len() as u64;
                }
                // A body that ends short of the object's size is an error,
                // not the end of the object.
                Err(_) if self.received < self.size => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the download ended after {} of {} bytes",
                            self.received, self.size
                        ),
                    ));
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// One line for the user: missing objects are [`StoreError::NotFound`].
fn s3_error(err: object_store::Error) -> StoreError {
    match err {
        object_store::Error::NotFound { .. } => StoreError::NotFound,
        other => StoreError::S3(other.to_string().replace('\n', " ")),
    }
}
