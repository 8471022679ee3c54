//! `heapsift serve DUMP...`: reads the dumps, then serves the web UI.

use std::ffi::OsString;
use std::net::TcpListener;
use std::process::{Command, Stdio};

use heapsift_reports::{
    DiffIndex, DiffIndexSink, DumpCounts, EveryGenerationSink, GenerationReports,
    GenerationSummary, LineFinder, SummarySink, TrendGrouping, TrendSink,
};
use heapsift_serve::{LoadedDump, Served, check_address, new_token, serve};

use crate::cli::ServeArgs;
use crate::failure::Failure;
use crate::heap::load_with;
use crate::scan::{open_dump, scan_opened};

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
    let inputs: Vec<OsString> = args.dumps.clone();
    let records =
        Box::new(move |dump: usize, address: u64| record_line(&inputs[dump], address, threads));
    serve(
        listener,
        Served {
            dumps,
            records,
            token,
        },
    )
    .map_err(|e| Failure::BadInput(format!("cannot serve on {address}: {e}")))
}

/// Reads one dump with everything the pages need, in one pass.
fn load(dump: &OsString, threads: usize) -> Result<LoadedDump, Failure> {
    let (graph, retention, extras) = load_with(dump, threads, || {
        (
            SummarySink::default(),
            (
                EveryGenerationSink::default(),
                (
                    TrendSink::new(TrendGrouping::Location),
                    (
                        TrendSink::new(TrendGrouping::Class),
                        DiffIndexSink::default(),
                    ),
                ),
            ),
        )
    })?;
    let mut summaries = Vec::new();
    let mut generations = Vec::new();
    let mut by_location = Vec::new();
    let mut by_class = Vec::new();
    let mut diffs = Vec::new();
    for (summary, (generation, (location, (class, diff)))) in extras {
        summaries.push(summary);
        generations.push(generation);
        by_location.push(location);
        by_class.push(class);
        diffs.push(diff);
    }
    Ok(LoadedDump {
        name: dump.to_string_lossy().into_owned(),
        summary: GenerationSummary::from_sinks(summaries),
        generations: GenerationReports::from_sinks(generations, KEPT_LINES),
        graph,
        retention,
        trend_by_location: DumpCounts::from_sinks(by_location),
        trend_by_class: DumpCounts::from_sinks(by_class),
        diff: DiffIndex::from_sinks(diffs),
    })
}

/// The dump's line for the object at `address`, read again from the dump.
fn record_line(dump: &OsString, address: u64, threads: usize) -> Option<String> {
    let (name, opened) = open_dump(dump).ok()?;
    let (finders, _) =
        scan_opened(&name, opened, threads, false, || LineFinder::new(address)).ok()?;
    finders
        .into_iter()
        .find_map(|finder| finder.line)
        .map(|line| String::from_utf8_lossy(&line).into_owned())
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
