//! Opening a dump by the name a user gives it.

use std::ffi::OsStr;

use heapsift_input::{Input, Opened, open, open_reader};
use heapsift_store::{Location, open_object};

use crate::QueryError;

/// Opens a dump named as on the command line: a path, `-` for stdin, or an
/// `s3://bucket/key` URL (streamed as it downloads; files go to
/// heapsift-input, which reads them on every core). Returns the name to
/// show with the input, and the input.
pub fn open_dump(arg: &OsStr) -> Result<(String, Opened), QueryError> {
    let invalid = |name: &dyn std::fmt::Display, message: String| {
        QueryError::Invalid(format!("{name}: {message}"))
    };
    match arg.to_str().filter(|text| Location::is_s3(text)) {
        Some(url) => {
            let object = Location::parse(url).map_err(|e| QueryError::Invalid(e.to_string()))?;
            let reader = open_object(&object).map_err(|e| invalid(&url, e.to_string()))?;
            let size = reader.size();
            let opened = open_reader(Box::new(reader), Some(size))
                .map_err(|e| invalid(&url, e.to_string()))?;
            Ok((url.to_owned(), opened))
        }
        None => {
            let input = Input::from_arg(arg);
            let opened = open(&input).map_err(|e| invalid(&input, e.to_string()))?;
            Ok((input.to_string(), opened))
        }
    }
}
