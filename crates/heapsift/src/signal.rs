//! `heapsift signal`.

use std::io::{self, Write};
use std::time::Duration;

use heapsift_capture::{Reply, SignalOptions, signal};
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
    let store = args
        .store
        .as_deref()
        .map(Location::parse)
        .transpose()
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let mut out = io::stdout().lock();
    let mut problems = Vec::new();
    for reply in &outcome.finished {
        match stored_at(reply, store.as_ref()) {
            Ok(url) => writeln!(out, "{url}")?,
            Err(problem) => problems.push(problem),
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

/// Where a reply says its dump was stored, or what went wrong. Without a
/// store, the agent's own `url` is taken (its `key` from an agent too old
/// to send one); with one, the dump is checked there, by its key (or, from
/// an agent that sent only a url, at that url).
fn stored_at(reply: &Reply, store: Option<&Location>) -> Result<String, String> {
    let who = format!("{} (pid {})", reply.dyno, reply.pid);
    if reply.status != "stored" {
        let why = reply.message.as_deref().unwrap_or("no reason given");
        return Err(format!("{who} failed: {why}"));
    }
    let (key, url) = (reply.key.as_deref(), reply.url.as_deref());
    let object = match (store, key, url) {
        (None, _, Some(url)) | (None, Some(url), None) => return Ok(url.to_owned()),
        (Some(store), Some(key), _) => store.join(key),
        (Some(_), None, Some(url)) => Location::parse(url).map_err(|e| format!("{who}: {e}"))?,
        (_, None, None) => return Err(format!("{who} stored a dump but did not say where")),
    };
    let stored = key.or(url).unwrap_or_default();
    match exists(&object) {
        Ok(true) => Ok(object.to_string()),
        Ok(false) => Err(format!(
            "{who} stored {stored}, but {object} does not exist"
        )),
        Err(e) => Err(format!("{who} stored {stored}; checking {object}: {e}")),
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
