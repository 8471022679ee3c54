//! `heapsift suspects DUMP...`.

use heapsift_query::DumpTime;
use heapsift_render::suspects::suspects_report;

use crate::cli::SuspectsArgs;
use crate::failure::Failure;
use crate::heap::load;
use crate::print::print;
use crate::series::{SeriesDump, SeriesOrder, resolve};

pub fn run(args: &SuspectsArgs) -> Result<(), Failure> {
    let series = chosen_dumps(args)?;
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

/// The dumps as given; a store's (one process's), only the newest
/// `--last`, named on stderr since the user did not name them.
fn chosen_dumps(args: &SuspectsArgs) -> Result<Vec<SeriesDump>, Failure> {
    let mut series = resolve(&args.dumps, &args.filter.filter(), SeriesOrder::Given)?;
    if !series.iter().any(|dump| dump.listed) {
        return Ok(series);
    }
    series.drain(..series.len().saturating_sub(args.last));
    let names: Vec<String> = series.iter().map(SeriesDump::name).collect();
    eprintln!("heapsift: suspects in {}", names.join(" "));
    Ok(series)
}
