//! `heapsift info DUMP`.

use heapsift_query::InfoQuery;
use heapsift_render::info::info_report;

use crate::cli::InfoArgs;
use crate::context::read_context;
use crate::failure::Failure;
use crate::print::print;
use crate::scan::scan_dump;
use crate::series::context_location;

pub fn run(args: &InfoArgs) -> Result<(), Failure> {
    let query = InfoQuery;
    let scanned = scan_dump(&args.dump, args.common.threads, || query.sink())?;
    let location = context_location(&args.dump);
    let context = read_context(location.as_ref());
    let url = location.map(|location| location.to_string());
    let report = query.report(&scanned.name, scanned.sinks, url, context.as_ref());
    print(args.common.format, &report, info_report)
}
