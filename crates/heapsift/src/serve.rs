//! `heapsift serve DUMP...`: reads the dumps, then serves the web UI.

use std::ffi::OsString;
use std::net::TcpListener;
use std::process::{Command, Stdio};

use heapsift_reports::{
    DumpCounts, EveryGenerationSink, GenerationReports, GenerationSummary, Identities,
    IdentitySink, SummarySink, TrendGrouping, TrendSink,
};
use heapsift_serve::{LoadedDump, Served, check_address, new_token, serve};

use crate::cli::ServeArgs;
use crate::failure::Failure;
use crate::heap::LoadedHeap;

/// Rows kept per table of each generation report; the page asks for fewer.
const KEPT_LINES: usize = 1000;

pub fn run(args: &ServeArgs) -> Result<(), Failure> {
    check_address(args.addr, args.allow_remote).map_err(Failure::BadInput)?;
    if let Some(stdin) = args.dumps.iter().find(|dump| *dump == "-") {
        return Err(Failure::BadInput(format!(
            "{}: serve reads a dump again to show an object's line; give a file or an s3:// URL",
            stdin.to_string_lossy()
        )));
    }
    // Listen first: a port in use is known before minutes of reading.
    let listener = TcpListener::bind(args.addr)
        .map_err(|e| Failure::BadInput(format!("cannot listen on {}: {e}", args.addr)))?;
    let threads = args.threads;
    let mut dumps = Vec::with_capacity(args.dumps.len());
    for dump in &args.dumps {
        dumps.push(load(dump, threads)?);
    }
    let token = args.allow_remote.then(new_token);
    let address = listener
        .local_addr()
        .map_err(|e| Failure::BadInput(format!("cannot listen on {}: {e}", args.addr)))?;
    let url = match &token {
        Some(token) => format!("http://{address}/?token={token}"),
        None => format!("http://{address}/"),
    };
    let count = dumps.len();
    println!(
        "Serving {count} dump{} at {url} (Ctrl-C stops)",
        if count == 1 { "" } else { "s" }
    );
    if args.open {
        open_browser(&url);
    }
    serve(
        listener,
        Served {
            dumps,
            threads,
            token,
        },
    )
    .map_err(|e| Failure::BadInput(format!("cannot serve on {address}: {e}")))
}

/// Reads one dump with everything the pages need, in one pass.
fn load(dump: &OsString, threads: usize) -> Result<LoadedDump, Failure> {
    let (heap, extras) = LoadedHeap::load_with(dump, threads, || {
        (
            SummarySink::default(),
            (
                EveryGenerationSink::default(),
                (
                    TrendSink::new(TrendGrouping::Location),
                    (
                        TrendSink::new(TrendGrouping::Class),
                        IdentitySink::default(),
                    ),
                ),
            ),
        )
    })?;
    let mut summaries = Vec::new();
    let mut generations = Vec::new();
    let mut by_location = Vec::new();
    let mut by_class = Vec::new();
    let mut identities = Vec::new();
    for (summary, (generation, (location, (class, identity)))) in extras {
        summaries.push(summary);
        generations.push(generation);
        by_location.push(location);
        by_class.push(class);
        identities.push(identity);
    }
    Ok(LoadedDump {
        name: dump.to_string_lossy().into_owned(),
        input: dump.clone(),
        summary: GenerationSummary::from_sinks(summaries),
        generations: GenerationReports::from_sinks(generations, KEPT_LINES),
        graph: heap.graph,
        retention: heap.retention,
        trend_by_location: DumpCounts::from_sinks(by_location),
        trend_by_class: DumpCounts::from_sinks(by_class),
        identities: Identities::from_sinks(identities),
    })
}

/// Opens `url` in the desktop's browser; says so when it can't.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let started = Command::new(opener)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = started {
        eprintln!("heapsift: cannot open a browser ({opener}: {e}); open {url} yourself");
    }
}
