//! `heapsift trend DUMP...`.

use std::io::{self, BufWriter, Write};

use heapsift_render::{json, text};
use heapsift_reports::{Trend, TrendGrouping, TrendSink};

use crate::cli::{Format, SeriesSort, TrendArgs, TrendBy};
use crate::failure::Failure;
use crate::scan::scan_dump;
use crate::series::{SeriesOrder, resolve};

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
    for dump in series {
        let sinks = scan_dump(&dump.input, args.common.threads, || {
            TrendSink::new(grouping)
        })?;
        trend.add_dump(dump.name(), sinks);
    }
    let report = trend.report(args.top);
    let mut out = BufWriter::new(io::stdout().lock());
    match args.common.format {
        Format::Text => text::trend_report(&report, &mut out)?,
        Format::Json => json::write(&report, &mut out)?,
    }
    out.flush()?;
    Ok(())
}
