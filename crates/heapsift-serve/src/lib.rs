//! `heapsift serve`: a local web UI over dumps already read into memory.
//!
//! The binary reads each dump once into a [`LoadedDump`] (its graph and
//! dominator tree, every generation report, its trend counts and its
//! objects' identities); this crate answers the page's requests from them
//! with the queries of `heapsift-query`, as the CLI does. Reports that are
//! the same for every request (retained sizes over the whole heap, the
//! top of the dominator tree, the suspects) are made by [`Served::new`],
//! before the server says it is ready, and each request gets their first
//! rows. Lines are not kept: an object's line is read again from the one
//! block of the dump that holds it, and a diff's AFTER from the whole
//! dump. The page
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

use std::collections::HashMap;
use std::convert::Infallible;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use heapsift_graph::{DominatorLevel, Grouping, HeapGraph, PathTree, RetainedReport, Retention};
use heapsift_input::BlockSpans;
use heapsift_parse::Record;
use heapsift_query::{
    DominatorQuery, DumpTime, Heap, InfoQuery, RetainedBy, RetainedQuery, SuspectsQuery,
};
use heapsift_reports::{
    DiffReport, DumpCounts, EveryGenerationSink, GenerationReports, GenerationSummary, Identities,
    IdentitySink, InfoReport, InfoSink, SummarySink, TrendGrouping, TrendSink,
};
use heapsift_scan::RecordSink;
use heapsift_store::Context;
use heapsift_suspects::SuspectsReport;

pub use guard::{check_address, new_token};

/// Rows kept per table of each generation report: the pages ask for 200
/// at most, and the API cuts any `lines` to this.
pub const KEPT_LINES: usize = 1000;

/// The most rows a count parameter asks for: more than a page shows, and
/// a bound on what one request costs (`retained?top=1000000000` once took
/// 46 s and 10 GB to answer); the reports made before serving keep this
/// many.
pub(crate) const MOST_ROWS: usize = 10_000;

/// One dump, read once, with everything the pages ask of it.
#[derive(Debug)]
pub struct LoadedDump {
    /// The name to show: the path or URL it was read from.
    pub name: String,
    /// What to read it again from (a path or an `s3://` URL).
    pub input: OsString,
    /// When it was taken, if known (`YYYY-MM-DDTHH:MM:SS.sssZ`).
    pub time: Option<String>,
    /// Objects and memory per generation (`read DUMP`).
    pub summary: GenerationSummary,
    /// What it holds, with its context record's side (`info DUMP`).
    pub info: InfoReport,
    /// The report of every generation and of `all` (`read DUMP GEN`).
    pub generations: GenerationReports,
    /// The heap graph and its dominator tree, for retention, paths and
    /// objects.
    pub heap: Heap,
    /// Where each block of its lines lies, to read an object's line again.
    pub blocks: BlockSpans,
    /// Objects per type and site, for the trend across dumps.
    pub trend_by_location: DumpCounts,
    /// Objects per type and class, for the trend across dumps.
    pub trend_by_class: DumpCounts,
    /// Its objects' identities, for diffs with the other dumps.
    pub identities: Identities,
}

/// The reports on a whole heap that are the same for every request, with
/// [`MOST_ROWS`] rows each: a request takes its first rows.
#[derive(Debug)]
pub(crate) struct WholeHeap {
    /// `retained --by object`.
    by_object: RetainedReport,
    /// `retained --by class`.
    by_class: RetainedReport,
    /// `retained --by location`.
    by_location: RetainedReport,
    /// The top of the dominator tree: what the GC roots hold.
    pub(crate) dominators: DominatorLevel,
}

impl WholeHeap {
    /// The reports on `heap`, made with the queries of the CLI: by
    /// location on a thread of its own, which with the suspects made
    /// beside them (see [`Served::new`]) keeps two cores busy.
    fn new(heap: &Heap) -> Self {
        let retained = |by| {
            let query = RetainedQuery {
                by,
                top: MOST_ROWS,
                root: None,
            };
            query.run(heap).expect("the whole heap has no root to miss")
        };
        let dominators = DominatorQuery {
            of: None,
            top: MOST_ROWS,
        };
        std::thread::scope(|scope| {
            let by_location = scope.spawn(|| retained(RetainedBy::Location));
            WholeHeap {
                by_object: retained(RetainedBy::Object),
                by_class: retained(RetainedBy::Class),
                dominators: dominators.run(heap).expect("the roots are always there"),
                by_location: by_location.join().expect("retained by location thread"),
            }
        })
    }

    /// The retained report grouped `by`.
    pub(crate) fn retained(&self, by: Grouping) -> &RetainedReport {
        match by {
            Grouping::Object => &self.by_object,
            Grouping::Class => &self.by_class,
            Grouping::Location => &self.by_location,
        }
    }
}

/// What one reading thread collects for the pages, beside the heap graph.
#[derive(Debug)]
pub struct PageSinks {
    summary: SummarySink,
    info: InfoSink,
    generations: EveryGenerationSink,
    by_location: TrendSink,
    by_class: TrendSink,
    identities: IdentitySink,
}

impl Default for PageSinks {
    fn default() -> Self {
        PageSinks {
            summary: SummarySink::default(),
            info: InfoQuery.sink(),
            generations: EveryGenerationSink::default(),
            by_location: TrendSink::new(TrendGrouping::Location),
            by_class: TrendSink::new(TrendGrouping::Class),
            identities: IdentitySink::default(),
        }
    }
}

impl RecordSink for PageSinks {
    fn block_started(&mut self, block: u32) {
        self.summary.block_started(block);
        self.info.block_started(block);
        self.generations.block_started(block);
        self.by_location.block_started(block);
        self.by_class.block_started(block);
        self.identities.block_started(block);
    }

    fn record(&mut self, record: &Record<'_>) {
        self.summary.record(record);
        self.info.record(record);
        self.generations.record(record);
        self.by_location.record(record);
        self.by_class.record(record);
        self.identities.record(record);
    }
}

/// Where a dump came from and what is known of it besides its records.
#[derive(Debug)]
pub struct DumpSource {
    /// What to read it again from (a path or an `s3://` URL).
    pub input: OsString,
    /// Where each block of its lines lies (what its reading found).
    pub blocks: BlockSpans,
    /// When it was taken, if known (`YYYY-MM-DDTHH:MM:SS.sssZ`).
    pub time: Option<String>,
    /// Where its context record was looked for (`None`: nowhere).
    pub context_url: Option<String>,
    /// Its context record, if it has one.
    pub context: Option<Context>,
}

impl LoadedDump {
    /// The dump read from `source`, from its graph and the sinks of its
    /// reading. The dominator tree takes one core; the reports from the
    /// sinks and then the shortest paths from the roots (for the suspects
    /// and the path pages) the other: on the 9.4 GB benchmark dump about
    /// 6 s against 4 s and 1.2 s.
    pub fn new(source: DumpSource, graph: HeapGraph, sinks: Vec<PageSinks>) -> Self {
        let DumpSource {
            input,
            blocks,
            time,
            context_url,
            context,
        } = source;
        let name = input.to_string_lossy().into_owned();
        let (retention, (reports, paths)) = std::thread::scope(|scope| {
            let beside = scope.spawn(|| {
                let reports = SinkReports::new(&name, sinks, context_url, context.as_ref());
                (reports, PathTree::new(&graph))
            });
            let retention = Retention::compute(&graph);
            (retention, beside.join().expect("report thread"))
        });
        let heap = Heap::from_parts(graph, retention, Some(paths));
        LoadedDump {
            info: reports.info,
            name,
            input,
            time,
            summary: reports.summary,
            generations: reports.generations,
            heap,
            blocks,
            trend_by_location: reports.trend_by_location,
            trend_by_class: reports.trend_by_class,
            identities: reports.identities,
        }
    }
}

/// What [`LoadedDump`] makes from its [`PageSinks`].
struct SinkReports {
    info: InfoReport,
    summary: GenerationSummary,
    generations: GenerationReports,
    trend_by_location: DumpCounts,
    trend_by_class: DumpCounts,
    identities: Identities,
}

impl SinkReports {
    fn new(
        name: &str,
        sinks: Vec<PageSinks>,
        context_url: Option<String>,
        context: Option<&Context>,
    ) -> Self {
        let mut infos = Vec::with_capacity(sinks.len());
        let mut summaries = Vec::with_capacity(sinks.len());
        let mut generations = Vec::with_capacity(sinks.len());
        let mut by_location = Vec::with_capacity(sinks.len());
        let mut by_class = Vec::with_capacity(sinks.len());
        let mut identities = Vec::with_capacity(sinks.len());
        for sink in sinks {
            summaries.push(sink.summary);
            infos.push(sink.info);
            generations.push(sink.generations);
            by_location.push(sink.by_location);
            by_class.push(sink.by_class);
            identities.push(sink.identities);
        }
        SinkReports {
            info: InfoQuery.report(name, infos, context_url, context),
            summary: GenerationSummary::from_sinks(summaries),
            generations: GenerationReports::from_sinks(generations, KEPT_LINES),
            trend_by_location: DumpCounts::from_sinks(by_location),
            trend_by_class: DumpCounts::from_sinks(by_class),
            identities: Identities::from_sinks(identities),
        }
    }
}

/// What the server answers from.
pub struct Served {
    /// The dumps, numbered from 0 in the order given.
    dumps: Vec<LoadedDump>,
    /// The reports on each dump's whole heap, in the same order.
    whole_heaps: Vec<WholeHeap>,
    /// Threads for reading a dump again (0: one per core).
    threads: usize,
    /// The token every API request must carry (`--allow-remote`), if any.
    token: Option<String>,
    /// Diffs made so far: each reads a dump again, so it is made once.
    diffs: Mutex<HashMap<DiffKey, DiffReport>>,
    /// The suspects report with every suspect.
    suspects: SuspectsReport,
}

/// The dumps of a diff, by number: before, after, retained.
type DiffKey = (usize, usize, Option<usize>);

impl Served {
    /// What to serve: `dumps`, read again with `threads` threads when a
    /// page needs what was not kept, behind `token` if given. Makes the
    /// reports that are the same for every request: the suspects (their
    /// paths from the roots found while loading) beside the whole heaps'
    /// tables (on the 9.4 GB benchmark dump, about 2.4 s of one core's
    /// time).
    pub fn new(dumps: Vec<LoadedDump>, threads: usize, token: Option<String>) -> Self {
        let (suspects, whole_heaps) = std::thread::scope(|scope| {
            let suspects = scope.spawn(|| all_suspects(&dumps));
            let whole_heaps = dumps.iter().map(|dump| WholeHeap::new(&dump.heap));
            let whole_heaps = whole_heaps.collect();
            (suspects.join().expect("suspects thread"), whole_heaps)
        });
        Served {
            suspects,
            whole_heaps,
            dumps,
            threads,
            token,
            diffs: Mutex::new(HashMap::new()),
        }
    }
}

/// The suspects of the loaded dumps as a series, in the order given, all
/// of them: made once, cut per request (cutting keeps the ranks).
fn all_suspects(loaded: &[LoadedDump]) -> SuspectsReport {
    let dumps: Vec<DumpTime> = loaded
        .iter()
        .map(|dump| DumpTime {
            name: dump.name.clone(),
            time: dump.time.clone(),
        })
        .collect();
    let query = SuspectsQuery { top: usize::MAX };
    query
        .run(&dumps, |i| Ok::<_, Infallible>(&loaded[i].heap))
        .unwrap_or_else(|never| match never {})
}

/// Serves the UI on `listener` until the process ends.
pub fn serve(listener: std::net::TcpListener, served: Served) -> std::io::Result<()> {
    let address: SocketAddr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    // Reports run on blocking threads, one per core: more would not answer
    // sooner (they are CPU-bound), but each would hold its own scratch
    // memory and allocator arena (with 512, the default, 32 clients left
    // the server 30 % bigger after a 30 s load test; with one per core, 4 %).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(cores)
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
