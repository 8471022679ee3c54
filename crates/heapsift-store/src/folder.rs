//! Folder stores: what the agent writes when trying it out locally.

use std::fs;
use std::io;
use std::path::Path;

use crate::{StoreError, StoredDump};

/// Every file under the folder, at any depth; keys use `/`.
pub(crate) fn list(folder: &Path) -> Result<Vec<StoredDump>, StoreError> {
    match fs::metadata(folder) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NotFound),
        Err(e) => return Err(e.into()),
        Ok(meta) if !meta.is_dir() => {
            return Err(
                io::Error::other("is a file; a store is a folder or s3://bucket/prefix/").into(),
            );
        }
        Ok(_) => {}
    }
    let mut dumps = Vec::new();
    // Depth-first without recursion; the agent's layout is two levels deep,
    // but a folder of folders of stores lists just as well.
    let mut pending = vec![(folder.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let key = format!("{prefix}{name}");
            let meta = entry.metadata()?;
            if meta.is_dir() {
                pending.push((entry.path(), format!("{key}/")));
            } else if meta.is_file() && !is_partial(&name) {
                let modified = meta.modified().map(Into::into).unwrap_or_default();
                dumps.push(StoredDump::new(
                    entry.path().display().to_string(),
                    key,
                    meta.len(),
                    modified,
                ));
            }
        }
    }
    Ok(dumps)
}

/// One file, as [`list`] would report it; its key is its path.
pub(crate) fn stat(path: &Path) -> Result<StoredDump, StoreError> {
    let meta = match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NotFound),
        Err(e) => return Err(e.into()),
        Ok(meta) if meta.is_dir() => return Err(io::Error::other("is a folder, not a dump").into()),
        Ok(meta) => meta,
    };
    let name = path.display().to_string();
    let modified = meta.modified().map(Into::into).unwrap_or_default();
    Ok(StoredDump::new(name.clone(), name, meta.len(), modified))
}

/// The agent writes `<name>.partial-<pid>` and renames it when complete.
fn is_partial(name: &str) -> bool {
    name.rsplit_once(".partial-")
        .is_some_and(|(_, pid)| pid.bytes().all(|b| b.is_ascii_digit()))
}
