//! `heapsift signal`.

use std::io::{self, Write};
use std::time::Duration;

use heapsift_capture::{SignalOptions, signal};
use heapsift_store::{Location, exists};

use crate::cli::SignalArgs;
use crate::failure::Failure;

pub fn run(args: &SignalArgs) -> Result<(), Failure> {
    let options = SignalOptions {
        database_url: args.database_url.clone(),
        dynos: args.dynos,
        process_type: args.process_type.clone(),
        message: args.message.clone(),
        wait: args
            .wait
            .then(|| Duration::from_secs_f64(args.timeout.max(0.0))),
        settle: Duration::from_secs(1),
    };
    let outcome = signal(&options)
        .map_err(|e| Failure::BadInput(format!("{}: {e}", masked(&args.database_url))))?;
    let channels = format!("heapsift_{}_1..{}", args.process_type, args.dynos);
    if !args.wait {
        eprintln!(
            "heapsift: signalled {channels} (request {})",
            outcome.request
        );
        return Ok(());
    }
    let store_arg = args
        .store
        .as_deref()
        .expect("clap requires --store with --wait");
    let store = Location::parse(store_arg).map_err(|e| Failure::BadInput(e.to_string()))?;
    let mut out = io::stdout().lock();
    let mut problems = Vec::new();
    for reply in &outcome.finished {
        let who = format!("{} (pid {})", reply.dyno, reply.pid);
        match (reply.status.as_str(), &reply.key) {
            ("stored", Some(key)) => {
                let object = store.join(key);
                match exists(&object) {
                    Ok(true) => writeln!(out, "{object}")?,
                    Ok(false) => {
                        problems.push(format!("{who} stored {key}, but {object} does not exist"))
                    }
                    Err(e) => problems.push(format!("{who} stored {key}; checking {object}: {e}")),
                }
            }
            _ => problems.push(format!(
                "{who} failed: {}",
                reply.message.as_deref().unwrap_or("no reason given")
            )),
        }
    }
    for (dyno, pid) in &outcome.unfinished {
        problems.push(format!(
            "{dyno} (pid {pid}) started a dump but did not finish in time"
        ));
    }
    if outcome.finished.is_empty() && outcome.unfinished.is_empty() {
        problems.push(format!(
            "no agent answered on {channels} within {} s (is the agent running with database_url?)",
            args.timeout
        ));
    }
    out.flush()?;
    match problems.is_empty() {
        true => Ok(()),
        false => Err(Failure::NothingFound(problems.join("; "))),
    }
}

/// A database URL with its password hidden, for messages.
fn masked(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            masked("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(masked("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(masked("host=db user=app"), "host=db user=app");
    }
}
