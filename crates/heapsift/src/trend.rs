//! `heapsift trend DUMP...`.

use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread;

use heapsift_render::{json, text};
use heapsift_reports::{DumpCounts, Trend, TrendGrouping, TrendSink};

use crate::cli::{Format, SeriesSort, TrendArgs, TrendBy};
use crate::failure::Failure;
use crate::progress::Progress;
use crate::scan::{open_dump, read_options, scan_opened};
use crate::series::{SeriesDump, SeriesOrder, resolve};

pub fn run(args: &TrendArgs) -> Result<(), Failure> {
    let order = match args.sort {
        SeriesSort::Given => SeriesOrder::Given,
        SeriesSort::Time => SeriesOrder::Time,
    };
    let series = resolve(&args.dumps, &args.filter.filter(), order)?;
    if series.len() < 2 {
        return Err(Failure::BadInput(format!(
            "a trend needs 2 dumps or more; {} given",
            series.len()
        )));
    }
    let grouping = match args.by {
        TrendBy::Location => TrendGrouping::Location,
        TrendBy::Class => TrendGrouping::Class,
    };
    let mut trend = Trend::new(grouping);
    let read = Arc::new(AtomicU64::new(0));
    let bar = Progress::dumps(series.len() as u64, Arc::clone(&read));
    for (dump, counts) in read_series(&series, args.common.threads, grouping, read) {
        trend.add_dump(dump.name(), counts?);
    }
    drop(bar);
    let report = trend.report(args.top);
    let mut out = BufWriter::new(io::stdout().lock());
    match args.common.format {
        Format::Text => text::trend_report(&report, &mut out)?,
        Format::Json => json::write(&report, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// Reads the dumps of a series and counts each, several at once: a gzip
/// stream or an S3 download keeps only one core busy (and the agent's dumps
/// are gzip), so as many of those are read together as there are cores.
/// An uncompressed file uses every core by itself and is read alone.
/// Yields the counts in series order, a group of dumps at a time, so at
/// most that many dumps' counts are held. `read` counts the dumps read.
fn read_series(
    series: &[SeriesDump],
    threads: usize,
    grouping: TrendGrouping,
    read: Arc<AtomicU64>,
) -> impl Iterator<Item = (&SeriesDump, Result<DumpCounts, Failure>)> {
    let at_once = read_options(threads).worker_count();
    // Streams share the machine (read lock); a parallel file has it to
    // itself (write lock).
    let machine = RwLock::new(());
    let read_one = move |dump: &SeriesDump, read: &AtomicU64, machine: &RwLock<()>| {
        let (name, opened) = open_dump(&dump.input)?;
        let alone = opened.reads_in_parallel();
        let _alone = alone.then(|| machine.write().unwrap_or_else(PoisonError::into_inner));
        let _shared = (!alone).then(|| machine.read().unwrap_or_else(PoisonError::into_inner));
        let sinks = scan_opened(&name, opened, threads, false, || TrendSink::new(grouping));
        read.fetch_add(1, Ordering::Relaxed);
        sinks.map(|(sinks, _)| DumpCounts::from_sinks(sinks))
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
