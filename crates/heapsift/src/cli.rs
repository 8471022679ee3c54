//! Command-line arguments.

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand, ValueEnum};
use heapsift_query::{
    ChoiceParser, CountParser, GenerationArg, GenerationQuery, PathQuery, PathTarget, RetainedBy,
    RetainedQuery, ShowQuery, SuspectsQuery, TrendBy, TrendQuery, parse_address_arg,
};

use crate::series::DumpFilter;

/// Find out why a Ruby app's memory grows.
///
/// heapsift reads heap dumps written by Ruby's `ObjectSpace.dump_all`
/// (Ruby 2.1 to 4.0; plain, gzip or zstd; a path, `-` for stdin, or
/// s3://bucket/key), says what a dump holds and what the process around it
/// had (info), names the leak with its evidence (suspects), prints
/// heapy-compatible reports fast (read, diff), explains what keeps memory
/// alive (retained, path, show) and what grows
/// across many dumps (trend), in the terminal or a local web UI (serve),
/// and makes dumps safe to share (redact). With its Ruby agent it also
/// captures dumps from production processes (signal, list, fetch).
#[derive(Debug, Parser)]
#[command(
    name = "heapsift",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Objects and memory per GC generation, or where a generation's objects came from.
    ///
    /// Without GEN: one line per generation (objects allocated while
    /// `GC.count` had that value) with its object count and memory; the
    /// `nil` bucket holds objects allocated before tracing started. Spikes in
    /// old generations that keep growing between dumps point at a leak.
    ///
    /// With GEN (a generation number, `nil`, or `all`): memory and object counts by
    /// allocation site (file:line), object counts by class, reference counts
    /// and duplicate strings, for the traced objects of that generation.
    ///
    /// Examples:
    ///   heapsift read prod.dump.gz
    ///   heapsift read prod.dump.gz 36
    ///   heapsift read prod.dump.gz all --lines 20 --format json
    #[command(verbatim_doc_comment)]
    Read(ReadArgs),

    /// What a dump holds, and what the process around it had: RSS against the objects.
    ///
    /// The dump's objects and their bytes, by type; the share allocated
    /// while tracing was on, and its generations; the Ruby versions whose
    /// format the dump has. Then, from the dump's context record (what the
    /// heapsift agent stores beside each dump: `X.json` beside `X.dump.gz`,
    /// also in S3), the process's side: its RSS when it dumped against the
    /// bytes of the dump's objects (the gap is memory a heap dump cannot
    /// show: native memory, fragmentation), its peak RSS, the memory limit,
    /// the GC's heap pages, and what triggered the dump. All sizes in the
    /// JSON are bytes.
    ///
    /// Examples:
    ///   heapsift info prod.dump.gz
    ///   heapsift info s3://acme-heaps/prod/web.1/2026-11-27T14:03:09.512Z-process:4242-heap.dump.gz
    ///   heapsift info prod.dump.gz --format json
    #[command(verbatim_doc_comment)]
    Info(InfoArgs),

    /// Name the leak: the collections where memory accumulates, with their evidence.
    ///
    /// Finds the objects under which many similar objects pile up (the Hash
    /// of a cache, the Array of a callback list) and holding a noticeable
    /// share of the heap, and says of each who holds it (a class, a module,
    /// a Thread), why it is alive (its shortest path from the GC roots) and
    /// what accumulates under it (classes and allocation sites: usually the
    /// line to fix). With several dumps of one process, oldest first, each
    /// suspect is measured in every dump: what grows each time comes first,
    /// big but bounded caches after, marked stable. The allocation tracer's
    /// table and the threads' stacks are set apart. A store
    /// (`s3://bucket/prefix/` or a folder) stands for the newest three dumps
    /// of one process (--last for more; --pid and --dyno name the process
    /// when the store holds several).
    ///
    /// Examples:
    ///   heapsift suspects 1.dump.gz 2.dump.gz 3.dump.gz
    ///   heapsift suspects prod.dump.gz --top 3
    ///   heapsift suspects s3://acme-heaps/prod/ --dyno web.1 --format json
    #[command(verbatim_doc_comment)]
    Suspects(SuspectsArgs),

    /// Ask the heapsift agents in a running app to dump their heaps.
    ///
    /// Sends a NOTIFY to `heapsift_<process-type>_<n>` for each dyno n; every
    /// agent process listening there dumps its heap and stores it. With
    /// --wait, waits for their answers and prints where each dump was
    /// stored, one per line, as the agents say; with --store too, checks
    /// that each dump is there first.
    ///
    /// Examples:
    ///   heapsift signal "memory at 2 GB after deploy"
    ///   heapsift signal --wait "after deploy"
    ///   heapsift signal --wait --store s3://acme-heaps/prod/ --dynos 2
    #[command(verbatim_doc_comment)]
    Signal(SignalArgs),

    /// List the dumps in a store, newest first.
    ///
    /// STORE is where the agent writes: `s3://bucket/prefix/` or a folder.
    /// The dumps are the objects whose names end `.dump`, `.dump.gz` or
    /// `.dump.zst`; their context records and other files are not listed.
    /// Each row gives the dump's URL (to pass to `read` or `fetch`), its
    /// size, when it was taken, the dyno and process that took it, and the
    /// process's RSS then (RSS, from its context record; `-` without one).
    /// S3 settings come from the AWS_* variables; AWS_ENDPOINT_URL names an
    /// S3-compatible server.
    ///
    /// Examples:
    ///   heapsift list s3://acme-heaps/prod/
    ///   heapsift list s3://acme-heaps/prod/web.1/ --format json
    #[command(verbatim_doc_comment)]
    List(ListArgs),

    /// Download a dump from a store to a local file, with its context record.
    ///
    /// DEST is a file name or a folder (default: the current folder, under
    /// the dump's own name). The dump's context record, when it has one,
    /// comes along beside the copy (`before.json` for `before.dump.gz`).
    /// Each file is written under a temporary name and renamed when
    /// complete; an existing file is never replaced without --force (and
    /// then nothing is fetched). The analysis commands read s3:// URLs
    /// directly; fetch is for keeping a copy.
    ///
    /// Examples:
    ///   heapsift fetch s3://acme-heaps/prod/web.1/2026-11-27T14:03:09.512Z-process:4242-heap.dump.gz
    ///   heapsift fetch s3://acme-heaps/prod/web.1/...-heap.dump.gz before.dump.gz
    #[command(verbatim_doc_comment)]
    Fetch(FetchArgs),

    /// What keeps memory alive: objects by the memory they retain.
    ///
    /// An object retains what would be freed if it were: itself and every
    /// object that the GC roots reach only through it (its subtree in the
    /// dominator tree). The biggest rows are what to look at first: a Hash
    /// held by a constant that keeps a whole cache alive shows at the top,
    /// with the site that allocated it. --by class or --by location adds
    /// up retained size per class or allocation site, counting an object
    /// once even when members of the group hold each other.
    ///
    /// Examples:
    ///   heapsift retained prod.dump.gz
    ///   heapsift retained prod.dump.gz --by location --top 10
    ///   heapsift retained prod.dump.gz --root 0x7f30cc77e440 --format json
    #[command(verbatim_doc_comment)]
    Retained(RetainedArgs),

    /// What was allocated between two dumps, and (with a third) is still alive.
    ///
    /// An AFTER object is new when BEFORE has no object with the same
    /// address, type and generation (heapy matched the address alone, so a
    /// reused slot hid a new object). With RETAINED, only the new objects
    /// that RETAINED still has are kept: the three-dump technique, taking
    /// the dumps a while apart, shows what leaks. One line per type and
    /// allocation site, most objects first, as heapy prints it.
    ///
    /// A store (`s3://bucket/prefix/` or a folder) instead of the dumps
    /// stands for its newest three (or two), with --dyno and --pid to follow
    /// one process.
    ///
    /// Examples:
    ///   heapsift diff 1.dump.gz 2.dump.gz
    ///   heapsift diff 1.dump.gz 2.dump.gz 3.dump.gz --output-diff leaked.dump
    ///   heapsift diff s3://acme-heaps/prod/ --dyno web.1 --pid 4242
    #[command(verbatim_doc_comment)]
    Diff(DiffArgs),

    /// Which allocation sites grow from dump to dump, across 2 to hundreds of dumps.
    ///
    /// Counts the objects and bytes of every type and allocation site (or
    /// class, with --by class) in each dump. A row is steady when its count
    /// rose between every two consecutive dumps: what leaks keeps rising,
    /// while caches and request garbage go up and down. Steady rows come
    /// first, then the rest, each by bytes gained from the first dump to the
    /// last. A store (`s3://bucket/prefix/` or a folder) stands for all its
    /// dumps, oldest first; --dyno and --pid follow one process through the
    /// agent's scheduled dumps.
    ///
    /// Examples:
    ///   heapsift trend 1.dump.gz 2.dump.gz 3.dump.gz
    ///   heapsift trend s3://acme-heaps/prod/ --dyno web.1 --pid 4242
    ///   heapsift trend dumps/*.gz --sort time --by class --format json
    #[command(verbatim_doc_comment)]
    Trend(TrendArgs),

    /// Explore dumps in the browser: a local web UI over every report.
    ///
    /// Reads the dumps (a progress bar on the terminal), then serves a page
    /// at the address printed: the overview of each dump (generations,
    /// top allocation sites, top retainers), generation reports, the
    /// dominator tree, objects with their paths from the GC roots, and,
    /// with two or more dumps, diff and trend. Everything is embedded in
    /// heapsift: the page works offline and sends nothing anywhere. It
    /// listens on loopback only; --allow-remote lets other machines in,
    /// with a token printed at start. A store (`s3://bucket/prefix/` or a
    /// folder) stands for the newest three dumps of one process (--last
    /// for more; --pid and --dyno name the process when the store holds
    /// several). Each dump's overview shows the process's side from its
    /// context record, as `info` does.
    ///
    /// Examples:
    ///   heapsift serve prod.dump.gz --open
    ///   heapsift serve 1.dump.gz 2.dump.gz 3.dump.gz --addr 127.0.0.1:8080
    ///   heapsift serve s3://acme-heaps/prod/ --dyno web.1 --pid 4242
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),

    /// A copy of a dump that is safe to share: string values replaced.
    ///
    /// Writes OUT with the same records as IN, except that the value of
    /// every String and Symbol becomes `redacted:` and 16 hex digits of a
    /// keyed hash: equal values get equal placeholders (duplicate strings
    /// still show), and nobody without the key can check a guess against
    /// one. Sizes, sites, classes and references are kept, so every other
    /// report is unchanged. The key is random unless --salt is given (the
    /// same salt gives the same placeholders, to compare dumps). OUT is
    /// compressed as its name says (.gz, .zst, else plain), written under a
    /// temporary name and renamed when complete; IN is never touched.
    ///
    /// Examples:
    ///   heapsift redact prod.dump.gz shareable.dump.gz
    ///   heapsift redact s3://acme-heaps/prod/web.1/...-heap.dump.gz shareable.dump.zst
    #[command(verbatim_doc_comment)]
    Redact(RedactArgs),

    /// Why is this object alive? The shortest chain of references from a GC root.
    ///
    /// One line per hop, from the object a root holds (the root category,
    /// such as `vm` or `global_tbl`, is named) down to ADDR, each with its
    /// retained size and where it was allocated. With --location FILE:LINE
    /// instead of ADDR: the paths to every object allocated there, grouped
    /// by shape (hop by hop the same type, class and site), most shared
    /// first.
    ///
    /// Examples:
    ///   heapsift path prod.dump.gz 0x7f30cc77e440
    ///   heapsift path prod.dump.gz --location app/models/cache.rb:12
    ///   heapsift path prod.dump.gz 0x7f30cc77e440 --format json
    #[command(verbatim_doc_comment)]
    Path(PathArgs),

    /// Everything about one object: its line, references, referrers and dominator.
    ///
    /// Prints the object's line from the dump, its own and retained size,
    /// where it was allocated, its immediate dominator (or the GC root that
    /// holds it), what it references and what references it.
    ///
    /// Examples:
    ///   heapsift show prod.dump.gz 0x7f30cc77e440
    #[command(verbatim_doc_comment)]
    Show(ObjectArgs),

    /// Write dumps as Parquet tables, for DuckDB, Spark, Trino or Athena.
    ///
    /// Each dump becomes one file per table: dumps (one row per dump), sites
    /// (objects and bytes per type, site, class and generation) and
    /// retainers (the top objects by retained size), and with --objects
    /// every object and reference. Files go under
    /// <table>/dyno=<dyno>/date=<YYYY-MM-DD>/<dump_id>.parquet, with
    /// __HIVE_DEFAULT_PARTITION__ where the dyno or day is unknown; the id
    /// is 16 hex digits of the BLAKE3 hash of the decompressed dump. A
    /// store (`s3://bucket/prefix/` or a folder) stands for every dump in
    /// it. A dump exported already is skipped unless --force. Each file is
    /// written under a hidden temporary name and renamed when complete.
    ///
    /// Examples:
    ///   heapsift export 1.dump.gz 2.dump.gz --to tables/
    ///   heapsift export s3://acme-heaps/prod/ --dyno web.1 --to tables/
    ///   heapsift export prod.dump.gz --objects --to s3://acme-tables/heaps/
    #[command(verbatim_doc_comment)]
    Export(ExportArgs),
}

/// Arguments of `heapsift export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The dumps: files, `-`, `s3://` URLs, or stores (`s3://bucket/prefix/`
    /// or a folder), which stand for all their dumps.
    #[arg(value_name = "DUMP", required = true)]
    pub dumps: Vec<OsString>,

    /// Where the tables go: a folder (made if missing) or an S3 prefix
    /// (`s3://bucket/prefix/`).
    #[arg(long, value_name = "DIR|s3://bucket/prefix/", required = true)]
    pub to: OsString,

    /// Replace the files of dumps exported already.
    #[arg(long)]
    pub force: bool,

    /// Also write the objects and references tables (one row per object,
    /// one per reference).
    #[arg(long)]
    pub objects: bool,

    /// How many objects the retainers table keeps, biggest retained size
    /// first.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = CountParser::new("top"))]
    pub top: usize,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// Reading threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
}

/// Arguments of `heapsift path`.
#[derive(Debug, Args)]
pub struct PathArgs {
    /// The heap dump: a file, `-` for stdin, or `s3://bucket/key`.
    #[arg(value_name = "DUMP")]
    pub dump: OsString,

    /// The object's address, as the dump writes it (`0x7f30cc77e440`).
    #[arg(value_name = "ADDR", value_parser = parse_address_arg, required_unless_present = "location", conflicts_with = "location")]
    pub address: Option<u64>,

    /// Every object allocated at FILE:LINE, as `read` prints sites, or the
    /// end of one (`statement.rb:108`).
    #[arg(long, value_name = "FILE:LINE")]
    pub location: Option<String>,

    /// How many path shapes to show with --location.
    #[arg(long, value_name = "N", default_value_t = PathQuery::DEFAULT_TOP, value_parser = CountParser::new("top"))]
    pub top: usize,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl PathArgs {
    /// The query the arguments ask.
    pub fn query(&self) -> PathQuery {
        let target = match (self.address, &self.location) {
            (Some(address), _) => PathTarget::Object(address),
            (None, location) => PathTarget::Site {
                location: location.clone().expect("clap requires ADDR or --location"),
                top: self.top,
            },
        };
        PathQuery { target }
    }
}

/// Arguments of `heapsift show`.
#[derive(Debug, Args)]
pub struct ObjectArgs {
    /// The heap dump: a file, `-` for stdin, or `s3://bucket/key`.
    #[arg(value_name = "DUMP")]
    pub dump: OsString,

    /// The object's address, as the dump writes it (`0x7f30cc77e440`).
    #[arg(value_name = "ADDR", value_parser = parse_address_arg)]
    pub address: u64,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl ObjectArgs {
    /// The query the arguments ask.
    pub fn query(&self) -> ShowQuery {
        ShowQuery {
            address: self.address,
        }
    }
}

/// Arguments of `heapsift diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// BEFORE, AFTER and (optionally) RETAINED: files, `-`, `s3://` URLs;
    /// or one store (`s3://bucket/prefix/` or a folder), whose newest two
    /// or three dumps are taken.
    #[arg(value_name = "DUMP", required = true, num_args = 1..=3)]
    pub dumps: Vec<OsString>,

    /// Also write the kept AFTER records, line for line, to FILE
    /// (compressed as its name says: .gz, .zst, else plain).
    #[arg(long = "output-diff", alias = "output_diff", value_name = "FILE")]
    pub output_diff: Option<std::path::PathBuf>,

    /// Replace the --output-diff FILE if it exists.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// Arguments of `heapsift trend`.
#[derive(Debug, Args)]
pub struct TrendArgs {
    /// The dumps, oldest first: files, `-`, `s3://` URLs, or stores
    /// (`s3://bucket/prefix/` or a folder), which stand for all their dumps
    /// in the order they were taken.
    #[arg(value_name = "DUMP", required = true)]
    pub dumps: Vec<OsString>,

    /// One row per type and allocation site, or per type and class.
    #[arg(long, default_value_t = TrendBy::default(), value_parser = ChoiceParser::<TrendBy>::new("by"))]
    pub by: TrendBy,

    /// How many rows.
    #[arg(long, value_name = "N", default_value_t = TrendQuery::DEFAULT_TOP, value_parser = CountParser::new("top"))]
    pub top: usize,

    /// The order of the dumps: as given, or by when they were taken (from
    /// the agent's keys, else the files' modification times).
    #[arg(long, value_enum, default_value_t = SeriesSort::Given)]
    pub sort: SeriesSort,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl TrendArgs {
    /// The query the arguments ask.
    pub fn query(&self) -> TrendQuery {
        TrendQuery {
            by: self.by,
            top: self.top,
        }
    }
}

/// Arguments of `heapsift suspects`.
#[derive(Debug, Args)]
pub struct SuspectsArgs {
    /// The dumps of one process, oldest first: files, `-`, `s3://` URLs,
    /// or a store (`s3://bucket/prefix/` or a folder), which stands for
    /// the newest dumps of one process.
    #[arg(value_name = "DUMP", required = true)]
    pub dumps: Vec<OsString>,

    /// How many suspects.
    #[arg(long, value_name = "N", default_value_t = SuspectsQuery::DEFAULT_TOP, value_parser = CountParser::positive("top"))]
    pub top: usize,

    /// With a store: how many of its newest dumps.
    #[arg(long, value_name = "N", default_value_t = SuspectsQuery::DEFAULT_LAST, value_parser = CountParser::positive("last"))]
    pub last: usize,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl SuspectsArgs {
    /// The query the arguments ask.
    pub fn query(&self) -> SuspectsQuery {
        SuspectsQuery { top: self.top }
    }
}

/// `--sort` of `trend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeriesSort {
    /// In the order given.
    Given,
    /// By capture time.
    Time,
}

/// Choosing among a store's dumps.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only a store's dumps from this dyno (e.g. web.1).
    #[arg(long, value_name = "DYNO")]
    pub dyno: Option<String>,

    /// Only a store's dumps from this process id.
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
}

impl FilterArgs {
    /// The filter the options describe.
    pub fn filter(&self) -> DumpFilter {
        DumpFilter {
            dyno: self.dyno.clone(),
            pid: self.pid,
        }
    }
}

/// Arguments of `heapsift serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The dumps: files, `s3://` URLs, or a store (`s3://bucket/prefix/`
    /// or a folder), which stands for the newest dumps of one process.
    #[arg(value_name = "DUMP", required = true)]
    pub dumps: Vec<OsString>,

    /// With a store: how many of its newest dumps.
    #[arg(long, value_name = "N", default_value_t = SuspectsQuery::DEFAULT_LAST, value_parser = CountParser::positive("last"))]
    pub last: usize,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// Where to listen (port 0: any free port).
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:7070")]
    pub addr: std::net::SocketAddr,

    /// Open the page in the desktop's browser.
    #[arg(long)]
    pub open: bool,

    /// Allow an address other machines can reach; API requests then need
    /// the token printed at start.
    #[arg(long)]
    pub allow_remote: bool,

    /// Reading threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
}

/// Arguments of `heapsift redact`.
#[derive(Debug, Args)]
pub struct RedactArgs {
    /// The dump: a file, `-` for stdin, or `s3://bucket/key`.
    #[arg(value_name = "IN")]
    pub input: OsString,

    /// The redacted copy (compressed as its name says: .gz, .zst, else plain).
    #[arg(value_name = "OUT")]
    pub output: std::path::PathBuf,

    /// Derive the placeholders' key from S instead of a random one.
    #[arg(long, value_name = "S")]
    pub salt: Option<String>,

    /// Replace OUT if it exists.
    #[arg(long)]
    pub force: bool,

    /// Reading threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
}

/// Arguments of `heapsift retained`.
#[derive(Debug, Args)]
pub struct RetainedArgs {
    /// The heap dump: a file, `-` for stdin, or `s3://bucket/key`.
    #[arg(value_name = "DUMP")]
    pub dump: OsString,

    /// One row per object, per class, or per allocation site.
    #[arg(long, default_value_t = RetainedBy::default(), value_parser = ChoiceParser::<RetainedBy>::new("by"))]
    pub by: RetainedBy,

    /// How many rows.
    #[arg(long, value_name = "N", default_value_t = RetainedQuery::DEFAULT_TOP, value_parser = CountParser::new("top"))]
    pub top: usize,

    /// Only the objects that this one retains (its dominator subtree).
    #[arg(long, value_name = "ADDR", value_parser = parse_address_arg)]
    pub root: Option<u64>,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl RetainedArgs {
    /// The query the arguments ask.
    pub fn query(&self) -> RetainedQuery {
        RetainedQuery {
            by: self.by,
            top: self.top,
            root: self.root,
        }
    }
}

/// Arguments of `heapsift list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The store: `s3://bucket/prefix/` or a folder.
    #[arg(value_name = "STORE")]
    pub store: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `heapsift fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The dump: `s3://bucket/key` (or a path in a folder store).
    #[arg(value_name = "URL")]
    pub url: String,

    /// Where to write it: a file, or a folder to put it in.
    #[arg(value_name = "DEST")]
    pub destination: Option<std::path::PathBuf>,

    /// Replace DEST if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `heapsift signal`.
#[derive(Debug, Args)]
pub struct SignalArgs {
    /// A message the agents log and echo in their replies.
    #[arg(value_name = "MESSAGE", default_value = "heapsift signal")]
    pub message: String,

    /// The app's database (the agents listen there).
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: String,

    /// How many dynos run the agent (web.1 .. web.N).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub dynos: u32,

    /// The dynos' process type.
    #[arg(long, value_name = "TYPE", default_value = "web")]
    pub process_type: String,

    /// Wait for every agent's answer and print where each stored its dump.
    #[arg(long)]
    pub wait: bool,

    /// With --wait: the store the agents write to (`s3://bucket/prefix/`
    /// or a folder), to check that each dump is there.
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,

    /// Seconds to wait for the answers.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub timeout: f64,
}

/// Arguments of `heapsift info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The heap dump: a file, `-` for stdin (which has no context record),
    /// or `s3://bucket/key`.
    #[arg(value_name = "DUMP")]
    pub dump: OsString,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// Arguments of `heapsift read`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The heap dump: a file (plain, .gz or .zst, detected from its
    /// content), `-` for stdin, or `s3://bucket/key`.
    #[arg(value_name = "DUMP")]
    pub dump: OsString,

    /// A generation number, `nil` for objects allocated before tracing
    /// started, or `all` for every generation.
    #[arg(value_name = "GEN")]
    pub generation: Option<GenerationArg>,

    /// Rows per table in the generation report.
    #[arg(long, value_name = "N", default_value_t = GenerationQuery::DEFAULT_LINES, value_parser = CountParser::new("lines"))]
    pub lines: usize,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl ReadArgs {
    /// The generation query the arguments ask, if they name a generation
    /// (else the summary of every generation).
    pub fn query(&self) -> Option<GenerationQuery> {
        self.generation.clone().map(|generation| GenerationQuery {
            generation,
            lines: self.lines,
        })
    }
}

/// Options shared by the analysis commands.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Reading threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people to read.
    Text,
    /// JSON, in the shape the README documents.
    Json,
}
