//! The test bucket of scripts/with-s3 (a real s3s-fs server), through the
//! S3 API: what the tests put there and read back.

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{ObjectStore, ObjectStoreExt};

/// The bucket scripts/with-s3 made.
pub fn bucket() -> String {
    std::env::var("HEAPSIFT_TEST_S3_BUCKET")
        .expect("run the tests through scripts/with-s3 (HEAPSIFT_TEST_S3_BUCKET is not set)")
}

/// `s3://<bucket>/<key>`.
pub fn url(key: &str) -> String {
    format!("s3://{}/{key}", bucket())
}

fn client() -> AmazonS3 {
    AmazonS3Builder::from_env()
        .with_bucket_name(bucket())
        .with_allow_http(true)
        .build()
        .expect("S3 client")
}

fn block_on<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(work)
}

/// Stores `bytes` under `key`.
pub fn put(key: &str, bytes: Vec<u8>) {
    let path = object_store::path::Path::from(key);
    block_on(client().put(&path, bytes.into())).expect("object stored");
}

/// The object at `key`.
pub fn get(key: &str) -> Vec<u8> {
    let path = object_store::path::Path::from(key);
    block_on(async { client().get(&path).await?.bytes().await })
        .unwrap_or_else(|e| panic!("{key}: {e}"))
        .to_vec()
}

/// Every key under `prefix`, relative to it, sorted.
pub fn keys_under(prefix: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let path = object_store::path::Path::from(prefix);
    let objects: Vec<_> = block_on(client().list(Some(&path)).try_collect())
        .unwrap_or_else(|e| panic!("{prefix}: {e}"));
    let mut keys: Vec<String> = objects
        .into_iter()
        .map(|meta| {
            let key = meta.location.to_string();
            key.strip_prefix(&format!("{prefix}/"))
                .unwrap_or(&key)
                .to_owned()
        })
        .collect();
    keys.sort();
    keys
}
