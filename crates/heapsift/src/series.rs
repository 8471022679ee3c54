//! The dumps of a series (`trend`, `diff`, `suspects`, `serve`): files and
//! objects as given, and stores (`s3://bucket/prefix/` or a folder)
//! replaced by their dumps, oldest first, optionally only one dyno's or one
//! process's, each with where its context record would be.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread;

use heapsift_input::ReadOptions;

use heapsift_scan::counted;
use heapsift_store::{
    DumpKey, Location, OpenedDump, StoreError, StoredDump, list, open_dump, stat,
};

use crate::failure::Failure;

/// Which of a store's dumps to take.
#[derive(Debug, Default)]
pub struct DumpFilter {
    /// Only the dumps of this dyno (`web.1`).
    pub dyno: Option<String>,
    /// Only the dumps of this process.
    pub pid: Option<u32>,
}

impl DumpFilter {
    fn is_empty(&self) -> bool {
        self.dyno.is_none() && self.pid.is_none()
    }

    fn keeps(&self, dump: &StoredDump) -> bool {
        self.dyno
            .as_ref()
            .is_none_or(|dyno| dump.dyno.as_ref() == Some(dyno))
            && self.pid.is_none_or(|pid| dump.pid == Some(pid))
    }

    /// How the filter reads in a message: ` for dyno web.1 and pid 42`.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(dyno) = &self.dyno {
            parts.push(format!("dyno {dyno}"));
        }
        if let Some(pid) = self.pid {
            parts.push(format!("pid {pid}"));
        }
        match parts.is_empty() {
            true => String::new(),
            false => format!(" for {}", parts.join(" and ")),
        }
    }
}

/// The order of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesOrder {
    /// As given; each store's dumps oldest first where the store was named.
    Given,
    /// By capture time: from the agent's keys, else the file's or object's
    /// modification time.
    Time,
}

/// One dump of a series.
#[derive(Debug, Clone)]
pub struct SeriesDump {
    /// What to read: a path, `-` or an `s3://` URL.
    pub input: OsString,
    /// When it was taken, if known (`YYYY-MM-DDTHH:MM:SS.sssZ`).
    time: Option<String>,
    /// Whether it came from listing a store rather than being named.
    pub listed: bool,
    /// Where its context record would be (`None` for stdin).
    pub context: Option<Location>,
    /// Whether its store's listing showed no record there: then it is not
    /// asked for.
    context_unlisted: bool,
}

impl SeriesDump {
    /// The name to show for it.
    pub fn name(&self) -> String {
        self.input.to_string_lossy().into_owned()
    }

    /// When it was taken, where that is known: the agent's key, else the
    /// file's or object's modification time (`None` for stdin, or when
    /// that can't be read).
    pub fn known_time(&self) -> Option<String> {
        self.time.clone().or_else(|| known_time(&self.input))
    }

    /// Where to read its context record from, if it may have one.
    pub fn context_to_read(&self) -> Option<Location> {
        self.context.clone().filter(|_| !self.context_unlisted)
    }
}

/// Resolves the command line's dumps into the series to read: a store's
/// dumps must be one process's.
pub fn resolve(
    args: &[OsString],
    filter: &DumpFilter,
    order: SeriesOrder,
) -> Result<Vec<SeriesDump>, Failure> {
    resolve_stores(args, filter, order, true)
}

/// Resolves the command line's dumps as [`resolve`] does, but takes every
/// process's dumps from a store: for `export`, where each dump stands
/// alone.
pub fn resolve_every(args: &[OsString], filter: &DumpFilter) -> Result<Vec<SeriesDump>, Failure> {
    resolve_stores(args, filter, SeriesOrder::Given, false)
}

fn resolve_stores(
    args: &[OsString],
    filter: &DumpFilter,
    order: SeriesOrder,
    one_process_only: bool,
) -> Result<Vec<SeriesDump>, Failure> {
    let mut series = Vec::new();
    let mut stores = 0;
    for arg in args {
        match store_of(arg) {
            Some(store) => {
                stores += 1;
                let listed =
                    list(&store).map_err(|e| Failure::BadInput(format!("{store}: {e}")))?;
                // Newest first from `list`: reversed, oldest first.
                let kept: Vec<StoredDump> = listed
                    .into_iter()
                    .rev()
                    .filter(|d| filter.keeps(d))
                    .collect();
                if kept.is_empty() {
                    return Err(Failure::NothingFound(format!(
                        "{store}: no dumps{}",
                        filter.describe()
                    )));
                }
                if one_process_only {
                    one_process(&store, &kept)?;
                }
                series.extend(kept.into_iter().map(|dump| SeriesDump {
                    context: context_location(OsStr::new(&dump.url)),
                    context_unlisted: dump.context_location.is_none(),
                    input: dump.url.into(),
                    time: Some(dump.time),
                    listed: true,
                }));
            }
            None => series.push(SeriesDump {
                input: arg.clone(),
                time: None,
                listed: false,
                context: context_location(arg),
                context_unlisted: false,
            }),
        }
    }
    if stores == 0 && !filter.is_empty() {
        return Err(Failure::BadInput(
            "--dyno and --pid choose among a store's dumps; name the store \
             (s3://bucket/prefix/ or a folder)"
                .into(),
        ));
    }
    if order == SeriesOrder::Time {
        for dump in series.iter_mut().filter(|d| d.time.is_none()) {
            dump.time = Some(capture_time(&dump.input)?);
        }
        series.sort_by(|a, b| a.time.cmp(&b.time));
    }
    Ok(series)
}

/// Reads the dumps of a series with `read_one`, several at once: a gzip
/// stream or an S3 download keeps only one core busy (and the agent's dumps
/// are gzip), so as many of those are read together as there are cores.
/// An uncompressed file uses every core by itself and is read alone.
/// Yields the results in series order, a group of dumps at a time, so at
/// most that many dumps' results are held. `read` counts the dumps read.
pub fn read_each<'a, T: Send + 'a>(
    series: &'a [SeriesDump],
    threads: usize,
    read: Arc<AtomicU64>,
    read_one: impl Fn(OpenedDump) -> Result<T, Failure> + Sync + 'a,
) -> impl Iterator<Item = (&'a SeriesDump, Result<T, Failure>)> + 'a {
    let at_once = ReadOptions::with_threads(threads).worker_count();
    // Streams share the machine (read lock); a parallel file has it to
    // itself (write lock).
    let machine = RwLock::new(());
    let read_locked = move |dump: &SeriesDump, read: &AtomicU64, machine: &RwLock<()>| {
        let opened = open_dump(&dump.input)?;
        let alone = opened.input.reads_in_parallel();
        let _alone = alone.then(|| machine.write().unwrap_or_else(PoisonError::into_inner));
        let _shared = (!alone).then(|| machine.read().unwrap_or_else(PoisonError::into_inner));
        let result = read_one(opened);
        read.fetch_add(1, Ordering::Relaxed);
        result
    };
    series.chunks(at_once).flat_map(move |group| {
        let results: Vec<Result<T, Failure>> = thread::scope(|scope| {
            let readers: Vec<_> = group
                .iter()
                .map(|dump| scope.spawn(|| read_locked(dump, &read, &machine)))
                .collect();
            readers
                .into_iter()
                .map(|reader| {
                    reader
                        .join()
                        .unwrap_or_else(|_| Err(Failure::BadInput("a dump reader panicked".into())))
                })
                .collect()
        });
        group.iter().zip(results)
    })
}

/// The dumps as given; a store's (one process's), only the newest `last`,
/// named on stderr as `heapsift: <doing> <dumps>` since the user did not
/// name them.
pub fn resolve_newest(
    args: &[OsString],
    filter: &DumpFilter,
    last: usize,
    doing: &str,
) -> Result<Vec<SeriesDump>, Failure> {
    let mut series = resolve(args, filter, SeriesOrder::Given)?;
    if !series.iter().any(|dump| dump.listed) {
        return Ok(series);
    }
    series.drain(..series.len().saturating_sub(last));
    let names: Vec<String> = series.iter().map(SeriesDump::name).collect();
    eprintln!("heapsift: {doing} {}", names.join(" "));
    Ok(series)
}

/// Where the context record of a dump named on the command line would be;
/// `None` for stdin.
pub fn context_location(input: &OsStr) -> Option<Location> {
    if input == "-" {
        return None;
    }
    let location = match input.to_str() {
        Some(text) => Location::parse(text).ok()?,
        None => Location::Local(Path::new(input).to_path_buf()),
    };
    location.context()
}

/// One process's dumps in a store.
struct Process<'a> {
    dyno: Option<&'a str>,
    pid: Option<u32>,
    dumps: u64,
    first: &'a str,
    last: &'a str,
}

impl Process<'_> {
    /// `web.1 pid 21 (3 dumps, 2026-11-27T10:00:00.000Z to ...)`.
    fn describe(&self) -> String {
        let who = match (self.dyno, self.pid) {
            (Some(dyno), Some(pid)) => format!("{dyno} pid {pid}"),
            _ => "dumps outside the agent's layout".to_owned(),
        };
        let span = match self.first == self.last {
            true => self.first.to_owned(),
            false => format!("{} to {}", self.first, self.last),
        };
        format!("{who} ({}, {span})", counted(self.dumps, "dump"))
    }
}

/// Refuses a store's dumps that come from several processes: a series is
/// one process's (the workers of one dyno grow apart), so the user names
/// it, told in one line what the store holds.
fn one_process(store: &Location, dumps: &[StoredDump]) -> Result<(), Failure> {
    let mut processes: Vec<Process<'_>> = Vec::new();
    // Oldest first already.
    for dump in dumps {
        let (dyno, pid) = (dump.dyno.as_deref(), dump.pid);
        match processes
            .iter_mut()
            .find(|p| p.dyno == dyno && p.pid == pid)
        {
            Some(process) => {
                process.dumps += 1;
                process.last = &dump.time;
            }
            None => processes.push(Process {
                dyno,
                pid,
                dumps: 1,
                first: &dump.time,
                last: &dump.time,
            }),
        }
    }
    if processes.len() < 2 {
        return Ok(());
    }
    let described: Vec<String> = processes.iter().map(Process::describe).collect();
    Err(Failure::BadInput(format!(
        "{store}: holds the dumps of {} processes: {}; choose one with --pid (and --dyno)",
        processes.len(),
        described.join("; ")
    )))
}

/// When the dump named `input` was taken, where that is known: the agent's
/// key, else the file's or object's modification time.
pub fn known_time(input: &OsStr) -> Option<String> {
    let key = input.to_str().and_then(DumpKey::parse);
    key.map(|key| key.time).or_else(|| capture_time(input).ok())
}

/// The store an argument names, if it names one: an `s3://` URL ending in
/// `/` (or naming a whole bucket), or a local folder.
fn store_of(arg: &OsStr) -> Option<Location> {
    match arg.to_str() {
        Some(text) if Location::is_s3(text) => {
            let location = Location::parse(text).ok()?;
            matches!(&location, Location::S3 { key, .. } if key.is_empty() || key.ends_with('/'))
                .then_some(location)
        }
        _ => Path::new(arg)
            .is_dir()
            .then(|| Location::Local(Path::new(arg).to_path_buf())),
    }
}

/// When a named dump was taken, for `--sort time`.
fn capture_time(input: &OsStr) -> Result<String, Failure> {
    if input == "-" {
        return Err(Failure::BadInput(
            "-: stdin has no capture time to sort by".into(),
        ));
    }
    let location = match input.to_str() {
        Some(text) => Location::parse(text).map_err(|e| Failure::BadInput(e.to_string()))?,
        None => Location::Local(Path::new(input).to_path_buf()),
    };
    match stat(&location) {
        Ok(dump) => Ok(dump.time),
        Err(StoreError::NotFound) => Err(Failure::BadInput(format!(
            "{location}: No such file or directory"
        ))),
        Err(e) => Err(Failure::BadInput(format!("{location}: {e}"))),
    }
}
