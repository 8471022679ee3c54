//! `heapsift retained DUMP`.

use heapsift_render::retention;

use crate::cli::RetainedArgs;
use crate::failure::Failure;
use crate::heap::load;
use crate::print::print;

pub fn run(args: &RetainedArgs) -> Result<(), Failure> {
    let heap = load(&args.dump, args.common.threads)?;
    let report = args.query().run(&heap)?;
    print(args.common.format, &report, retention::retained_report)
}
