//! `heapsift trend DUMP...`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread;

use heapsift_input::ReadOptions;
use heapsift_query::TrendQuery;
use heapsift_render::text;
use heapsift_reports::DumpCounts;
use heapsift_store::open_dump;

use crate::cli::{SeriesSort, TrendArgs};
use crate::context::read_contexts;
use crate::failure::Failure;
use crate::print::print;
use crate::progress::Progress;
use crate::scan::scan_opened;
use crate::series::{SeriesDump, SeriesOrder, resolve};

pub fn run(args: &TrendArgs) -> Result<(), Failure> {
    let order = match args.sort {
        SeriesSort::Given => SeriesOrder::Given,
        SeriesSort::Time => SeriesOrder::Time,
    };
    let series = resolve(&args.dumps, &args.filter.filter(), order)?;
    let query = args.query();
    query.check_series(series.len())?;
    let mut trend = query.series();
    let locations: Vec<_> = series.iter().map(SeriesDump::context_to_read).collect();
    let contexts = read_contexts(&locations);
    let read = Arc::new(AtomicU64::new(0));
    let bar = Progress::dumps(series.len() as u64, Arc::clone(&read));
    let counted = read_series(&series, args.common.threads, &query, read);
    for ((dump, counts), context) in counted.zip(contexts) {
        trend.add_dump(dump.name(), counts?, context.and_then(|c| c.rss_bytes));
    }
    drop(bar);
    let report = query.report(trend);
    print(args.common.format, &report, text::trend_report)
}

/// Reads the dumps of a series and counts each, several at once: a gzip
/// stream or an S3 download keeps only one core busy (and the agent's dumps
/// are gzip), so as many of those are read together as there are cores.
/// An uncompressed file uses every core by itself and is read alone.
/// Yields the counts in series order, a group of dumps at a time, so at
/// most that many dumps' counts are held. `read` counts the dumps read.
fn read_series<'a>(
    series: &'a [SeriesDump],
    threads: usize,
    query: &'a TrendQuery,
    read: Arc<AtomicU64>,
) -> impl Iterator<Item = (&'a SeriesDump, Result<DumpCounts, Failure>)> {
    let at_once = ReadOptions::with_threads(threads).worker_count();
    // Streams share the machine (read lock); a parallel file has it to
    // itself (write lock).
    let machine = RwLock::new(());
    let read_one = move |dump: &SeriesDump, read: &AtomicU64, machine: &RwLock<()>| {
        let opened = open_dump(&dump.input)?;
        let alone = opened.input.reads_in_parallel();
        let _alone = alone.then(|| machine.write().unwrap_or_else(PoisonError::into_inner));
        let _shared = (!alone).then(|| machine.read().unwrap_or_else(PoisonError::into_inner));
        let scanned = scan_opened(opened, threads, false, || query.sink());
        read.fetch_add(1, Ordering::Relaxed);
        scanned.map(|scanned| DumpCounts::from_sinks(scanned.sinks))
    };
    series.chunks(at_once).flat_map(move |group| {
        let counts: Vec<Result<DumpCounts, Failure>> = thread::scope(|scope| {
            let readers: Vec<_> = group
                .iter()
                .map(|dump| scope.spawn(|| read_one(dump, &read, &machine)))
                .collect();
            readers
                .into_iter()
                .map(|reader| reader.join().expect("a dump reader panicked"))
                .collect()
        });
        group.iter().zip(counts)
    })
}
