//! Naming a store or an object: `s3://bucket/key` or a local path.

use std::fmt;
use std::path::PathBuf;

use crate::StoreError;

/// A store, a prefix in it, or one object, as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `s3://bucket/key`; the key may be a prefix (`prod/`) or empty.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key or prefix, without a leading `/`.
        key: String,
    },
    /// A local file or folder.
    Local(PathBuf),
}

impl Location {
    /// Reads `s3://bucket/key` as an S3 location and anything else as a
    /// local path.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let Some(rest) = text.strip_prefix("s3://") else {
            return Ok(Location::Local(PathBuf::from(text)));
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || key.starts_with('/') || key.contains("//") {
            return Err(StoreError::InvalidUrl(text.to_owned()));
        }
        Ok(Location::S3 {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// Whether a command-line argument names an S3 object rather than a
    /// local path.
    pub fn is_s3(text: &str) -> bool {
        text.starts_with("s3://")
    }

    /// The location of `key` inside this store or prefix.
    pub fn join(&self, key: &str) -> Location {
        match self {
            Location::S3 {
                bucket,
                key: prefix,
            } => Location::S3 {
                bucket: bucket.clone(),
                key: match prefix.as_str() {
                    "" => key.to_owned(),
                    p if p.ends_with('/') => format!("{p}{key}"),
                    p => format!("{p}/{key}"),
                },
            },
            Location::Local(folder) => Location::Local(folder.join(key)),
        }
    }

    /// The last part of the key or path: the name a fetched copy gets.
    pub fn file_name(&self) -> Option<String> {
        match self {
            Location::S3 { key, .. } => key
                .rsplit('/')
                .next()
                .filter(|name| !name.is_empty())
                .map(str::to_owned),
            Location::Local(path) => path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned()),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Location::Local(path) => write!(f, "{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, key: &str) -> Location {
        Location::S3 {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    #[test]
    fn parses_s3_urls_and_paths() {
        assert_eq!(
            Location::parse("s3://heaps/prod/web.1/a.gz").unwrap(),
            s3("heaps", "prod/web.1/a.gz")
        );
        assert_eq!(Location::parse("s3://heaps").unwrap(), s3("heaps", ""));
        assert_eq!(Location::parse("s3://heaps/").unwrap(), s3("heaps", ""));
        assert_eq!(
            Location::parse("./dumps").unwrap(),
            Location::Local("./dumps".into())
        );
        for bad in ["s3://", "s3:///key", "s3://b//k", "s3://b/x//k"] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn joins_keys_to_prefixes() {
        assert_eq!(s3("b", "").join("web.1/x"), s3("b", "web.1/x"));
        assert_eq!(s3("b", "prod/").join("web.1/x"), s3("b", "prod/web.1/x"));
        assert_eq!(s3("b", "prod").join("web.1/x"), s3("b", "prod/web.1/x"));
        assert_eq!(s3("b", "prod/").join("x").to_string(), "s3://b/prod/x");
    }

    #[test]
    fn file_names() {
        assert_eq!(s3("b", "p/x.gz").file_name().as_deref(), Some("x.gz"));
        assert_eq!(s3("b", "p/").file_name(), None);
    }
}
