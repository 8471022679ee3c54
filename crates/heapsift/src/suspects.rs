//! `heapsift suspects DUMP...`.

use heapsift_query::DumpTime;
use heapsift_render::suspects::suspects_report;

use crate::cli::SuspectsArgs;
use crate::failure::Failure;
use crate::heap::load;
use crate::print::print;
use crate::series::resolve_newest;

pub fn run(args: &SuspectsArgs) -> Result<(), Failure> {
    let series = resolve_newest(&args.dumps, &args.filter.filter(), args.last, "suspects in")?;
    let dumps: Vec<DumpTime> = series
        .iter()
        .map(|dump| DumpTime {
            name: dump.name(),
            time: dump.known_time(),
        })
        .collect();
    let threads = args.common.threads;
    let report = args
        .query()
        .run(&dumps, |i| load(&series[i].input, threads))?;
    for dump in report.dumps_without_suspects() {
        eprintln!("heapsift: {dump}: has none of the suspects: is it a dump of the same process?");
    }
    print(args.common.format, &report, suspects_report)
}
