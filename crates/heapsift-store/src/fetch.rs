//! Copying a stored dump to a local file, without ever leaving half a file
//! or replacing one by accident.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use heapsift_output::OutputFile;

use crate::{Location, ObjectReader, StoreError};

/// Copies the object to `destination` (a file, or a folder to put it in;
/// the current folder when `None`) and returns the file written and its
/// size, flushed to disk before it is renamed into place (see
/// [`OutputFile`]).
pub fn fetch(
    object: &Location,
    destination: Option<&Path>,
    replace: bool,
) -> Result<(PathBuf, u64), StoreError> {
    let name = object.file_name().ok_or(StoreError::NotFound)?;
    let target = match destination {
        None => PathBuf::from(&name),
        Some(dir) if dir.is_dir() => dir.join(&name),
        Some(file) => file.to_path_buf(),
    };
    let output = OutputFile::new(&target, replace).durable();
    output.check()?;
    let mut source: Box<dyn Read> = match object {
        Location::S3 { bucket, key } => Box::new(ObjectReader::open(bucket, key)?),
        Location::Local(path) => Box::new(open_local(path)?),
    };
    let written = output.write(|out| Ok::<_, StoreError>(io::copy(&mut source, out)?))?;
    Ok((target, written))
}

fn open_local(path: &Path) -> Result<File, StoreError> {
    match File::open(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NotFound),
        other => Ok(other?),
    }
}
