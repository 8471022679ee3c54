//! `heapsift path DUMP ADDR` and `heapsift show DUMP ADDR`.

use heapsift_query::PathAnswer;
use heapsift_render::retention;
use heapsift_scan::LineFinder;

use crate::cli::{ObjectArgs, PathArgs};
use crate::failure::Failure;
use crate::heap::{load, load_with};
use crate::print::print;

pub fn run_path(args: &PathArgs) -> Result<(), Failure> {
    let heap = load(&args.dump, args.common.threads)?;
    let answer = args.query().run(&heap)?;
    let format = args.common.format;
    match answer {
        PathAnswer::Object(path) => print(format, &path, retention::root_path),
        PathAnswer::Site(paths) => print(format, &paths, retention::shared_paths),
    }
}

pub fn run_show(args: &ObjectArgs) -> Result<(), Failure> {
    let query = args.query();
    let loaded = load_with(&args.dump, args.common.threads, || {
        LineFinder::new(query.address)
    })?;
    let details = query.run(&loaded.heap, LineFinder::found(loaded.extras))?;
    print(args.common.format, &details, retention::object_details)
}
