//! Dumps' context records for the commands: read where they would be, a
//! record that can't be used said in a warning and left out.

use heapsift_store::{Context, Location, read_records};

/// The context records at `locations`, in order (`None` where a dump has
/// no place for one, or none is there); those in S3 are fetched
/// concurrently. A record that can't be used is a warning on stderr and
/// counts as absent.
pub fn read_contexts(locations: &[Option<Location>]) -> Vec<Option<Context>> {
    let wanted: Vec<Location> = locations.iter().flatten().cloned().collect();
    let mut read = read_records(&wanted).into_iter();
    locations
        .iter()
        .map(|location| {
            location.as_ref()?;
            match read.next()? {
                Ok(context) => context,
                Err(problem) => {
                    eprintln!("heapsift: {problem}");
                    None
                }
            }
        })
        .collect()
}

/// The context record at `location`, as [`read_contexts`] reads it.
pub fn read_context(location: Option<&Location>) -> Option<Context> {
    read_contexts(&[location.cloned()]).pop().flatten()
}
