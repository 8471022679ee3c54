//! Copying a stored dump to a local file, without ever leaving half a file
//! or replacing one by accident.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::{Location, ObjectReader, StoreError};

/// Copies the object to `destination` (a file, or a folder to put it in;
/// the current folder when `None`) and returns the file written and its
/// size, written as [`write_file`] does.
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
    if !replace && fs::symlink_metadata(&target).is_ok() {
        return Err(StoreError::DestinationExists(target));
    }
    let mut source: Box<dyn Read> = match object {
        Location::S3 { bucket, key } => Box::new(ObjectReader::open(bucket, key)?),
        Location::Local(path) => Box::new(open_local(path)?),
    };
    let written = write_file(&target, &mut source, replace)?;
    Ok((target, written))
}

/// Writes everything `source` yields to `target` and returns the bytes
/// written. The bytes go to `<target>.partial-<pid>` beside it, flushed to
/// disk, and are renamed to `target` only when complete, so a reader never
/// sees half a file; an existing `target` is replaced only when `replace`
/// is set (checked again just before the rename). On failure nothing is
/// left behind.
pub fn write_file(target: &Path, source: &mut dyn Read, replace: bool) -> io::Result<u64> {
    write_file_with(target, replace, true, |out| io::copy(source, out))
}

/// [`write_file`] for output made as it is written: `write` writes into
/// the (buffered) temporary file, which is renamed to `target` only if
/// `write` succeeds. With `durable`, the file is flushed to disk before the
/// rename, so that even a power loss can't leave `target` empty; without
/// it, the disk catches up after the command ends (for output that can be
/// made again from its input: flushing ~1 GB takes seconds).
pub fn write_file_with<T, E: From<io::Error>>(
    target: &Path,
    replace: bool,
    durable: bool,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, E>,
) -> Result<T, E> {
    let partial = partial_name(target);
    lock_partial_files().push(partial.clone());
    let result = write_new(&partial, durable, write).and_then(|written| {
        if !replace && fs::symlink_metadata(target).is_ok() {
            // Appeared while writing: keep it.
            return Err(E::from(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists already; pass --force to replace it",
                    target.display()
                ),
            )));
        }
        fs::rename(&partial, target).map_err(E::from)?;
        Ok(written)
    });
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    lock_partial_files().retain(|path| *path != partial);
    result
}

/// The temporary files being written right now.
static PARTIAL_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn lock_partial_files() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PARTIAL_FILES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes the temporary files being written: for a process about to end
/// on Ctrl-C, so that an interrupted `fetch` or `redact` leaves nothing.
pub fn remove_partial_files() {
    for path in lock_partial_files().drain(..) {
        let _ = fs::remove_file(path);
    }
}

fn open_local(path: &Path) -> Result<File, StoreError> {
    match File::open(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NotFound),
        other => Ok(other?),
    }
}

/// `<target>.partial-<pid>`, beside the target so the rename stays on one
/// file system.
fn partial_name(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(format!(".partial-{}", std::process::id()));
    PathBuf::from(name)
}

/// Writes a file that must not exist yet, flushed to disk if `durable`.
fn write_new<T, E: From<io::Error>>(
    path: &Path,
    durable: bool,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, E>,
) -> Result<T, E> {
    let file = OpenOptions::new().write(true).create_new(true).open(path)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let written = write(&mut out)?;
    out.flush()?;
    if durable {
        out.get_ref().sync_all()?;
    }
    Ok(written)
}
