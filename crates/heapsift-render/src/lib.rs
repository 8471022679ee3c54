//! Renderers for heapsift's reports: [`text`] writes heapy's layout byte for
//! byte, [`retention`] the retention reports as tables, [`json`] every
//! report's documented JSON shape.

pub mod json;
pub mod retention;
pub mod text;
