//! Printing a report on stdout, as text or JSON.

use std::io::{self, BufWriter, StdoutLock, Write};

use heapsift_render::json;
use serde::Serialize;

use crate::cli::Format;
use crate::failure::Failure;

/// Where reports are written: stdout, buffered.
pub type Stdout = BufWriter<StdoutLock<'static>>;

/// Prints `report` in `format`: JSON, or the text `text` writes.
pub fn print<R: Serialize>(
    format: Format,
    report: &R,
    text: impl FnOnce(&R, &mut Stdout) -> io::Result<()>,
) -> Result<(), Failure> {
    let mut out = BufWriter::new(io::stdout().lock());
    match format {
        Format::Text => text(report, &mut out)?,
        Format::Json => json::write(report, &mut out)?,
    }
    out.flush()?;
    Ok(())
}
