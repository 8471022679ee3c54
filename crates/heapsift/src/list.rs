//! `heapsift list STORE`.

use std::io::{self, Write};

use heapsift_render::column_width;
use heapsift_scan::human_bytes;
use heapsift_store::{Location, StoredDump, list, read_listed_contexts};

use crate::cli::ListArgs;
use crate::failure::Failure;
use crate::print::print;

pub fn run(args: &ListArgs) -> Result<(), Failure> {
    let store = Location::parse(&args.store).map_err(|e| Failure::BadInput(e.to_string()))?;
    let mut dumps = list(&store).map_err(|e| Failure::BadInput(format!("{store}: {e}")))?;
    for problem in read_listed_contexts(&mut dumps) {
        eprintln!("heapsift: {problem}");
    }
    print(args.format, &dumps, |dumps, out| write_table(dumps, out))
}

/// One row per dump: time, dyno, pid, size, the process's RSS when it
/// dumped (from the context record), URL; the URL last, as it is the long
/// one and the one to copy.
fn write_table(dumps: &[StoredDump], out: &mut impl Write) -> io::Result<()> {
    let sizes: Vec<String> = dumps.iter().map(|d| human_bytes(d.size)).collect();
    let rss: Vec<String> = dumps.iter().map(rss_text).collect();
    let dynos: Vec<&str> = dumps
        .iter()
        .map(|d| d.dyno.as_deref().unwrap_or("-"))
        .collect();
    let pids: Vec<String> = dumps
        .iter()
        .map(|d| d.pid.map_or_else(|| "-".to_owned(), |pid| pid.to_string()))
        .collect();
    let dyno_width = column_width(&dynos, "DYNO");
    let pid_width = column_width(&pids, "PID");
    let size_width = column_width(&sizes, "SIZE");
    let rss_width = column_width(&rss, "RSS");
    writeln!(
        out,
        "{:<24}  {:<dyno_width$}  {:>pid_width$}  {:>size_width$}  {:>rss_width$}  URL",
        "TIME", "DYNO", "PID", "SIZE", "RSS"
    )?;
    for (i, dump) in dumps.iter().enumerate() {
        writeln!(
            out,
            "{:<24}  {:<dyno_width$}  {:>pid_width$}  {:>size_width$}  {:>rss_width$}  {}",
            dump.time, dynos[i], pids[i], sizes[i], rss[i], dump.url
        )?;
    }
    Ok(())
}

/// The RSS its context record gives, for people; `-` without one.
fn rss_text(dump: &StoredDump) -> String {
    dump.context
        .as_ref()
        .and_then(|record| record.get("rss_bytes"))
        .and_then(|rss| rss.as_u64())
        .map_or_else(|| "-".to_owned(), human_bytes)
}
