//! Renderers for heapsift's reports: [`text`] writes heapy's layout byte for
//! byte, [`json`] writes the reports' documented JSON shape.

pub mod json;
pub mod text;
