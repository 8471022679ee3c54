//! JSON output: every report serializes to the shape documented in the
//! README, one document per run.

use std::io::{self, Write};

use serde::Serialize;

/// Writes `report` as pretty-printed JSON followed by a newline.
pub fn write<T: Serialize>(report: &T, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
