//! `heapsift serve`: a local web UI over dumps already read into memory.
//!
//! The binary reads each dump once into a [`LoadedDump`] (its graph and
//! dominator tree, every generation report, its trend counts and its
//! objects' identities); this crate answers the page's requests from them
//! with the queries of `heapsift-query`, as the CLI does. An object's line
//! and a diff's AFTER are read from the dump again: lines are not kept. The page
//! (`assets/`) is embedded in the binary: nothing is fetched from anywhere,
//! and nothing is sent anywhere. The JSON under `/api/` has the shapes of
//! the CLI's `--format json`, built by the same report code.
//!
//! Safe by default: loopback addresses only unless remote access is
//! allowed, and then every API request needs the token printed at start;
//! requests whose `Host` is not the server's own are refused (a web page
//! elsewhere can't reach the API through DNS rebinding); GET only; requests
//! name dumps by number, never by file.

mod api;
mod assets;
mod guard;
mod reread;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::sync::Arc;

use heapsift_graph::{HeapGraph, Retention};
use heapsift_query::Heap;
use heapsift_reports::{DumpCounts, GenerationReports, GenerationSummary, Identities};

pub use guard::{check_address, new_token};

/// One dump, read once, with everything the pages ask of it.
#[derive(Debug)]
pub struct LoadedDump {
    /// The name to show: the path or URL it was read from.
    pub name: String,
    /// What to read it again from (a path or an `s3://` URL).
    pub input: OsString,
    /// Objects and memory per generation (`read DUMP`).
    pub summary: GenerationSummary,
    /// The report of every generation and of `all` (`read DUMP GEN`).
    pub generations: GenerationReports,
    /// The heap graph, for retention, paths and objects.
    pub graph: HeapGraph,
    /// Its dominator tree and retained sizes.
    pub retention: Retention,
    /// Objects per type and site, for the trend across dumps.
    pub trend_by_location: DumpCounts,
    /// Objects per type and class, for the trend across dumps.
    pub trend_by_class: DumpCounts,
    /// Its objects' identities, for diffs with the other dumps.
    pub identities: Identities,
}

impl LoadedDump {
    /// The heap, for queries.
    pub fn heap(&self) -> Heap<'_> {
        Heap {
            graph: &self.graph,
            retention: &self.retention,
        }
    }
}

/// What the server answers from.
#[derive(Debug)]
pub struct Served {
    /// The dumps, numbered from 0 in the order given.
    pub dumps: Vec<LoadedDump>,
    /// Threads for reading a dump again (0: one per core).
    pub threads: usize,
    /// The token every API request must carry (`--allow-remote`), if any.
    pub token: Option<String>,
}

/// Serves the UI on `listener` until the process ends.
pub fn serve(listener: std::net::TcpListener, served: Served) -> std::io::Result<()> {
    let address: SocketAddr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let served = Arc::new(served);
        let app = api::routes(Arc::clone(&served))
            .merge(assets::routes())
            .layer(axum::middleware::from_fn_with_state(
                guard::Guard::new(address, served.token.clone()),
                guard::check,
            ));
        axum::serve(listener, app).await
    })
}
