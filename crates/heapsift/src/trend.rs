//! `heapsift trend DUMP...`.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use heapsift_input::ReadOptions;
use heapsift_render::text;
use heapsift_reports::DumpCounts;

use crate::cli::{SeriesSort, TrendArgs};
use crate::context::read_contexts;
use crate::failure::Failure;
use crate::print::print;
use crate::progress::Progress;
use crate::scan::scan_opened;
use crate::series::{SeriesDump, SeriesOrder, read_each, resolve};

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
    let threads = args.common.threads;
    let options = ReadOptions::with_threads(threads);
    let counted = read_each(&series, threads, read, |opened| {
        let scanned = scan_opened(opened, &options, false, || query.sink())?;
        Ok(DumpCounts::from_sinks(scanned.sinks))
    });
    for ((dump, counts), context) in counted.zip(contexts) {
        trend.add_dump(dump.name(), counts?, context.and_then(|c| c.rss_bytes));
    }
    drop(bar);
    let report = query.report(trend);
    print(args.common.format, &report, text::trend_report)
}
