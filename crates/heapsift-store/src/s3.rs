//! S3 and S3-compatible servers, through object_store.

use std::io::{self, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread;
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart};
use tokio::runtime::Runtime;

use crate::{Listed, Location, StoreError};

/// Chunks read ahead of the consumer: network and decompression overlap,
/// memory stays bounded.
const READ_AHEAD_CHUNKS: usize = 16;

/// A client for one bucket, with the runtime its requests run on.
struct Bucket {
    runtime: Runtime,
    store: AmazonS3,
    name: String,
    /// The instance metadata service credentials come from, when no
    /// variable gives them.
    metadata: Option<String>,
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
        let metadata = metadata_endpoint(&builder);
        if metadata
            .as_deref()
            .is_some_and(|endpoint| !answers(endpoint))
        {
            return Err(StoreError::NoCredentials);
        }
        let store = builder.build().map_err(s3_error)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Bucket {
            runtime,
            store,
            name: name.to_owned(),
            metadata,
        })
    }

    /// One line for the user, as [`s3_error`] says it; when credentials
    /// were to come from the instance metadata service and it failed, that
    /// they are missing.
    fn error(&self, err: object_store::Error) -> StoreError {
        match s3_error(err) {
            StoreError::S3(message)
                if self
                    .metadata
                    .as_deref()
                    .is_some_and(|endpoint| message.contains(endpoint)) =>
            {
                StoreError::NoCredentials
            }
            other => other,
        }
    }
}

/// Where credentials come from when no variable gives them.
const DEFAULT_METADATA_ENDPOINT: &str = "http://169.254.169.254";

/// The instance metadata service, when no variable gives credentials
/// (keys, a web identity, a container's endpoint, or unsigned requests
/// asked for): object_store turns to it last, and its error would say
/// nothing about credentials.
fn metadata_endpoint(builder: &AmazonS3Builder) -> Option<String> {
    use AmazonS3ConfigKey::*;
    let given = [
        AccessKeyId,
        SecretAccessKey,
        WebIdentityTokenFile,
        ContainerCredentialsRelativeUri,
        ContainerCredentialsFullUri,
    ]
    .iter()
    .any(|key| builder.get_config_value(key).is_some());
    let unsigned = builder
        .get_config_value(&SkipSignature)
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    if given || unsigned {
        return None;
    }
    let endpoint = builder.get_config_value(&MetadataEndpoint);
    Some(endpoint.unwrap_or_else(|| DEFAULT_METADATA_ENDPOINT.to_owned()))
}

/// Whether something listens at an `http://host[:port]` endpoint: a TCP
/// connection within a second.
fn answers(endpoint: &str) -> bool {
    let authority = endpoint
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    let with_port = match authority.contains(':') {
        true => authority.to_owned(),
        false => format!("{authority}:80"),
    };
    let Ok(mut addresses) = with_port.to_socket_addrs() else {
        return false;
    };
    addresses.any(|address| TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok())
}

/// Every object under the prefix.
pub(crate) fn list(bucket: &str, prefix: &str) -> Result<Vec<Listed>, StoreError> {
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
        .map_err(|e| bucket.error(e))?
        .into_iter()
        .map(|meta| {
            let key = meta.location.to_string();
            Listed {
                url: format!("s3://{}/{key}", bucket.name),
                location: Location::S3 {
                    bucket: bucket.name.clone(),
                    key: key.clone(),
                },
                key,
                size: meta.size,
                modified: meta.last_modified,
            }
        })
        .collect())
}

/// Requests in flight at once when fetching many small objects.
const CONCURRENT_GETS: usize = 32;

/// The objects at `keys`, each `None` when it does not exist, fetched
/// concurrently; one bigger than `most` bytes is an error.
pub(crate) fn get_small(
    bucket: &str,
    keys: &[&str],
    most: u64,
) -> Vec<Result<Option<Vec<u8>>, StoreError>> {
    let bucket = match Bucket::open(bucket) {
        Ok(bucket) => bucket,
        Err(e) => {
            let message = e.to_string();
            return keys
                .iter()
                .map(|_| Err(StoreError::S3(message.clone())))
                .collect();
        }
    };
    let (store, bucket) = (&bucket.store, &bucket);
    let fetch = |key: &str| {
        let path = Path::from(key);
        async move {
            let response = match store.get(&path).await {
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                other => other.map_err(|e| bucket.error(e))?,
            };
            if response.meta.size > most {
                return Err(crate::context::too_big());
            }
            let bytes = response.bytes().await.map_err(|e| bucket.error(e))?;
            Ok(Some(bytes.to_vec()))
        }
    };
    bucket.runtime.block_on(
        futures::stream::iter(keys.iter().map(|key| fetch(key)))
            .buffered(CONCURRENT_GETS)
            .collect(),
    )
}

/// The object's size and time, as [`list`](crate::list) gives them.
pub(crate) fn stat(bucket: &str, key: &str) -> Result<Listed, StoreError> {
    let bucket = Bucket::open(bucket)?;
    match bucket.runtime.block_on(bucket.store.head(&Path::from(key))) {
        Ok(meta) => Ok(Listed {
            url: format!("s3://{}/{key}", bucket.name),
            location: Location::S3 {
                bucket: bucket.name.clone(),
                key: key.to_owned(),
            },
            key: key.to_owned(),
            size: meta.size,
            modified: meta.last_modified,
        }),
        Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound),
        Err(err) => Err(bucket.error(err)),
    }
}

/// Objects up to this size are written with one PUT; bigger ones in
/// parts of [`PART_BYTES`].
const SINGLE_PUT_BYTES: usize = 64 << 20;
const PART_BYTES: usize = 16 << 20;

/// Writes the object whole: nothing shows at `key` until the PUT (or the
/// multipart upload's completion) succeeds, and a failed multipart
/// upload is aborted.
pub(crate) fn put(bucket: &str, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
    let bucket = Bucket::open(bucket)?;
    let (store, path, bytes) = (&bucket.store, Path::from(key), Bytes::from(bytes));
    let result = bucket.runtime.block_on(async {
        if bytes.len() <= SINGLE_PUT_BYTES {
            return store.put(&path, PutPayload::from(bytes)).await.map(drop);
        }
        let upload = store.put_multipart(&path).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        writer.put(bytes);
        writer.finish().await.map(drop)
    });
    result.map_err(|e| bucket.error(e))
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
        let opened = Bucket::open(bucket)?;
        let response = opened.runtime.block_on(opened.store.get(&Path::from(key)));
        let response = response.map_err(|e| opened.error(e))?;
        let Bucket { runtime, .. } = opened;
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
