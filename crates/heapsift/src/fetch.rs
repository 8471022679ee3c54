//! `heapsift fetch URL [DEST]`.

use heapsift_store::{Location, StoreError, fetch};

use crate::cli::FetchArgs;
use crate::failure::Failure;

pub fn run(args: &FetchArgs) -> Result<(), Failure> {
    let object = Location::parse(&args.url).map_err(|e| Failure::BadInput(e.to_string()))?;
    match fetch(&object, args.destination.as_deref(), args.force) {
        Ok(fetched) => {
            eprintln!(
                "heapsift: fetched {object} to {} ({} bytes)",
                fetched.path.display(),
                fetched.bytes
            );
            if let Some(record) = fetched.context {
                eprintln!(
                    "heapsift: fetched its context record {} to {} ({} bytes)",
                    record.from,
                    record.path.display(),
                    record.bytes
                );
            }
            if let Some(problem) = fetched.context_problem {
                eprintln!("heapsift: {problem}");
            }
            Ok(())
        }
        Err(e @ StoreError::DestinationExists(_)) => Err(Failure::BadInput(e.to_string())),
        Err(e) => Err(Failure::BadInput(format!("{object}: {e}"))),
    }
}
