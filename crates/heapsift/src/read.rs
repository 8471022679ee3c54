//! `heapsift read DUMP [GEN|all]`.

use heapsift_query::SummaryQuery;
use heapsift_render::text;

use crate::cli::ReadArgs;
use crate::failure::Failure;
use crate::print::print;
use crate::scan::scan_dump;

pub fn run(args: &ReadArgs) -> Result<(), Failure> {
    let (dump, threads, format) = (&args.dump, args.common.threads, args.common.format);
    match args.query() {
        None => {
            let query = SummaryQuery;
            let scanned = scan_dump(dump, threads, || query.sink())?;
            let report = query.from_sinks(scanned.sinks);
            print(format, &report, text::generation_summary)
        }
        Some(query) => {
            let scanned = scan_dump(dump, threads, || query.sink())?;
            let report = query.from_sinks(&scanned.name, scanned.sinks)?;
            print(format, &report, text::generation_report)
        }
    }
}
