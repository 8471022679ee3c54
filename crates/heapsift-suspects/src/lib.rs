//! Leak suspects: the answer to "why is my memory growing?" in one report.
//!
//! In one dump ([`Analysis`]), a suspect is an *accumulation point*: an
//! object in the dominator tree under which many similar objects (at least
//! a few, of one type and class) together retain a noticeable share of the
//! reachable heap: the Hash of a cache, the Array of a callback list. Each
//! is given its *owner* (the nearest named holder on the shortest path from
//! the GC roots: a class or module, a Thread), that path, and what
//! accumulates under it (by class and allocation site: the line to fix).
//! What is not the app's data is set apart: the allocation tracer's own
//! table, a Thread's machine stack.
//!
//! With several dumps of one process ([`SuspectsReport::new`]), the last
//! dump's suspects are found again in the earlier ones (by address and
//! type, or by the shape of their path from the roots) and measured there:
//! what grows in every dump ranks first, big but stable collections (a
//! bounded cache) after it, marked stable. Only one dump's graph is needed
//! at a time.

mod analysis;
mod report;
mod summary;

pub use analysis::{Accumulated, Analysis, Candidate, Excluded, Measure, Measures, Tracing};
pub use report::{DumpTime, Suspect, SuspectsReport};
