//! Opening a dump by the name a user gives it, wherever it is kept.

use std::ffi::OsStr;
use std::fmt::Display;

use heapsift_input::{Input, Opened, open, open_reader};

use crate::{Location, open_object};

/// A dump opened for reading, with the name it goes by in messages.
pub struct OpenedDump {
    /// The path or URL, as given.
    pub name: String,
    /// The bytes to read.
    pub input: Opened,
}

/// Why a dump could not be opened: one line, naming the dump.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OpenError(String);

/// Opens a dump named as on the command line: a path, `-` for stdin, or an
/// `s3://bucket/key` URL (streamed as it downloads; files go to
/// heapsift-input, which reads them on every core).
pub fn open_dump(arg: &OsStr) -> Result<OpenedDump, OpenError> {
    match arg.to_str().filter(|text| Location::is_s3(text)) {
        Some(url) => {
            let object = Location::parse(url).map_err(|e| OpenError(e.to_string()))?;
            let reader = open_object(&object).map_err(|e| named(&url, &e))?;
            let size = reader.size();
            let input = open_reader(Box::new(reader), Some(size)).map_err(|e| named(&url, &e))?;
            Ok(OpenedDump {
                name: url.to_owned(),
                input,
            })
        }
        None => {
            let path = Input::from_arg(arg);
            let input = open(&path).map_err(|e| named(&path, &e))?;
            Ok(OpenedDump {
                name: path.to_string(),
                input,
            })
        }
    }
}

/// `<name>: <message>`, the form of every error about one input.
fn named(name: &dyn Display, message: &dyn Display) -> OpenError {
    OpenError(format!("{name}: {message}"))
}
