//! Folder stores: what the agent writes when trying it out locally.

use std::fs;
use std::io;
use std::path::Path;

use crate::{Listed, Location, StoreError};

/// Every file under the folder, at any depth; keys use `/`.
pub(crate) fn list(folder: &Path) -> Result<Vec<Listed>, StoreError> {
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
    let mut files = Vec::new();
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
            } else if meta.is_file() {
                files.push(Listed {
                    url: entry.path().display().to_string(),
                    location: Location::Local(entry.path()),
                    key,
                    size: meta.len(),
                    modified: meta.modified().map(Into::into).unwrap_or_default(),
                });
            }
        }
    }
    Ok(files)
}

/// One file, as [`list`] would report it; its key is its path.
pub(crate) fn stat(path: &Path) -> Result<Listed, StoreError> {
    let meta = match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NotFound),
        Err(e) => return Err(e.into()),
        Ok(meta) if meta.is_dir() => return Err(io::Error::other("is a folder, not a dump").into()),
        Ok(meta) => meta,
    };
    let name = path.display().to_string();
    Ok(Listed {
        url: name.clone(),
        location: Location::Local(path.to_path_buf()),
        key: name,
        size: meta.len(),
        modified: meta.modified().map(Into::into).unwrap_or_default(),
    })
}
