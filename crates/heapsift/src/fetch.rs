//! `heapsift fetch URL [DEST]`.

use heapsift_store::{Location, StoreError, fetch};

use crate::cli::FetchArgs;
use crate::failure::Failure;

pub fn run(args: &FetchArgs) -> Result<(), Failure> {
    let object = Location::parse(&args.url).map_err(|e| Failure::BadInput(e.to_string()))?;
    match fetch(&object, args.destination.as_deref(), args.force) {
        Ok((path, bytes)) => {
            eprintln!(
                "heapsift: fetched {object} to {} ({bytes} bytes)",
                path.display()
            );
            Ok(())
        }
        Err(e @ StoreError::DestinationExists(_)) => Err(Failure::BadInput(e.to_string())),
        Err(e) => Err(Failure::BadInput(format!("{object}: {e}"))),
    }
}
