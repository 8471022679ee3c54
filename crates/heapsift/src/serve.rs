//! `heapsift serve DUMP...`: reads the dumps, then serves the web UI.

use std::net::TcpListener;
use std::process::{Command, Stdio};

use heapsift_scan::counted;
use heapsift_serve::{DumpSource, LoadedDump, PageSinks, Served, check_address, new_token, serve};
use heapsift_store::Context;

use crate::cli::ServeArgs;
use crate::context::read_contexts;
use crate::failure::Failure;
use crate::heap::read_graph_with;
use crate::series::{SeriesDump, resolve_newest};

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
    let series = resolve_newest(&args.dumps, &args.filter.filter(), args.last, "serving")?;
    let locations: Vec<_> = series.iter().map(SeriesDump::context_to_read).collect();
    let mut dumps = Vec::with_capacity(series.len());
    for (dump, context) in series.iter().zip(read_contexts(&locations)) {
        dumps.push(load(dump, context, threads)?);
    }
    let token = args.allow_remote.then(new_token);
    let address = listener
        .local_addr()
        .map_err(|e| Failure::BadInput(format!("cannot listen on {}: {e}", args.addr)))?;
    let url = match &token {
        Some(token) => format!("http://{address}/?token={token}"),
        None => format!("http://{address}/"),
    };
    let count = counted(dumps.len() as u64, "dump");
    // Ready only once every report made before serving is.
    let served = Served::new(dumps, threads, token);
    println!("Serving {count} at {url} (Ctrl-C stops)");
    if args.open {
        open_browser(&url);
    }
    serve(listener, served)
        .map_err(|e| Failure::BadInput(format!("cannot serve on {address}: {e}")))
}

/// Reads one dump with everything the pages need, in one pass.
fn load(
    dump: &SeriesDump,
    context: Option<Context>,
    threads: usize,
) -> Result<LoadedDump, Failure> {
    let loaded = read_graph_with(&dump.input, threads, PageSinks::default)?;
    let source = DumpSource {
        input: dump.input.clone(),
        blocks: loaded.blocks,
        time: dump.known_time(),
        context_url: dump.context.as_ref().map(ToString::to_string),
        context,
    };
    Ok(LoadedDump::new(source, loaded.heap, loaded.extras))
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
