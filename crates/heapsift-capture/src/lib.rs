//! Asking the heapsift agents in running Ruby apps for heap dumps.
//!
//! The agent (`agent/ruby`) LISTENs on `heapsift_<process_type>_<n>` in
//! each chosen dyno and answers on `heapsift_replies`. [`signal`] sends a
//! request to every dyno's channel and, when asked to, waits for the
//! answers of every process that took it up.

mod signal;
mod tls;

pub use signal::{Reply, SignalError, SignalOptions, Signalled, signal};
