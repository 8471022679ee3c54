//! Renderers for heapsift's reports: [`text`] writes heapy's layout byte for
//! byte, [`info`] what a dump holds, [`retention`] the retention reports as tables, [`suspects`] the
//! leak suspects as paragraphs, [`json`] every report's documented JSON
//! shape.

pub mod info;
pub mod json;
pub mod retention;
pub mod suspects;
pub mod text;

/// The width of a table column: its longest cell, or its title if longer.
pub fn column_width<S: AsRef<str>>(column: &[S], title: &str) -> usize {
    column
        .iter()
        .map(|cell| cell.as_ref().len())
        .max()
        .unwrap_or(0)
        .max(title.len())
}
