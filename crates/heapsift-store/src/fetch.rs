//! Copying a stored dump (and its context record) to local files, without
//! ever leaving half a file or replacing one by accident.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use heapsift_output::OutputFile;

use crate::context::{self, Context, ContextError};
use crate::{Location, ObjectReader, StoreError};

/// What a [`fetch`] wrote.
#[derive(Debug)]
pub struct Fetched {
    /// The dump's copy.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The context record's copy, when the dump has one.
    pub context: Option<FetchedContext>,
    /// The dump's context record, when it is there but was not copied
    /// (not a record, unreadable, or no name to give the copy).
    pub context_problem: Option<ContextError>,
}

/// A context record copied beside a fetched dump.
#[derive(Debug)]
pub struct FetchedContext {
    /// Where it was copied from.
    pub from: Location,
    /// The copy: the dump's copy's name, ending `.json`.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Copies the object to `destination` (a file, or a folder to put it in;
/// the current folder when `None`), and its context record, if it has
/// one, beside it as [`context::context_name`] names it. Each copy is
/// flushed to disk before it is renamed into place (see [`OutputFile`]);
/// an existing file is refused before anything is downloaded unless
/// `replace`.
pub fn fetch(
    object: &Location,
    destination: Option<&Path>,
    replace: bool,
) -> Result<Fetched, StoreError> {
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
    let (record, context_problem) = record_to_copy(object, &target, replace)?;
    let bytes = output.write(|out| Ok::<_, StoreError>(io::copy(&mut source, out)?))?;
    let context = record
        .map(|(from, path, text)| {
            let written = OutputFile::new(&path, replace)
                .durable()
                .write(|out| out.write_all(&text).map_err(StoreError::from));
            written.map(|()| FetchedContext {
                from,
                bytes: text.len() as u64,
                path,
            })
        })
        .transpose()?;
    Ok(Fetched {
        path: target,
        bytes,
        context,
        context_problem,
    })
}

/// A context record to copy: where it is, where its copy goes and its
/// bytes; or why the record that is there is not copied. A copy that
/// would replace a file without `replace` fails the whole fetch.
type RecordToCopy = (Option<(Location, PathBuf, Vec<u8>)>, Option<ContextError>);

fn record_to_copy(
    object: &Location,
    target: &Path,
    replace: bool,
) -> Result<RecordToCopy, StoreError> {
    let Some(from) = object.context() else {
        return Ok((None, None));
    };
    let problem = |problem: String| ContextError {
        location: from.to_string(),
        problem,
    };
    let text = match context::record_bytes(&from) {
        Ok(None) => return Ok((None, None)),
        Ok(Some(text)) => text,
        Err(e) => {
            let why = format!("cannot read the context record: {e}; not copied");
            return Ok((None, Some(problem(why))));
        }
    };
    if let Err(why) = Context::from_json(&text) {
        return Ok((None, Some(problem(format!("{why}; not copied")))));
    }
    let Some(path) = target.to_str().and_then(context::context_name) else {
        let why = format!(
            "not copied: {} has no name for a record beside it",
            target.display()
        );
        return Ok((None, Some(problem(why))));
    };
    let path = PathBuf::from(path);
    OutputFile::new(&path, replace).check()?;
    Ok((Some((from, path, text)), None))
}

fn open_local(path: &Path) -> Result<File, StoreError> {
    match File::open(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NotFound),
        other => Ok(other?),
    }
}
