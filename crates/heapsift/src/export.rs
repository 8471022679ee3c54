//! `heapsift export DUMP... --to DIR`: each dump's tables as Parquet files
//! (see heapsift-export), written whole or not at all.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};
use heapsift_export::{
    DumpRow, Partition, Table, dump_id, encode_dumps, encode_objects, encode_references,
    encode_retainers, encode_sites,
};
use heapsift_graph::GraphDetail;
use heapsift_input::ReadOptions;
use heapsift_reports::{SiteSink, site_rows};
use heapsift_store::{Context, DumpKey, Location, OpenedDump, StoreError, exists, put};

use crate::cli::ExportArgs;
use crate::context::read_contexts;
use crate::failure::Failure;
use crate::heap::load_opened;
use crate::progress::Progress;
use crate::series::{SeriesDump, read_each, resolve_every};

pub fn run(args: &ExportArgs) -> Result<(), Failure> {
    let series = resolve_every(&args.dumps, &args.filter.filter())?;
    let root = destination(&args.to)?;
    let contexts = read_contexts(
        &series
            .iter()
            .map(SeriesDump::context_to_read)
            .collect::<Vec<_>>(),
    );
    let read = Arc::new(AtomicU64::new(0));
    let single = series.len() == 1;
    let bar = (!single).then(|| Progress::dumps(series.len() as u64, Arc::clone(&read)));
    let encoded = read_each(&series, args.threads, read, |opened| {
        encode_dump(opened, args, single)
    });
    for ((dump, tables), context) in encoded.zip(contexts) {
        let origin = Origin {
            key: dump.input.to_str().and_then(DumpKey::parse),
            context: context.as_ref(),
        };
        write_dump(&root, args.force, &origin, tables?)?;
    }
    drop(bar);
    Ok(())
}

/// The folder or S3 prefix `--to` names.
fn destination(to: &std::ffi::OsStr) -> Result<Location, Failure> {
    match to.to_str() {
        Some(text) if Location::is_s3(text) => {
            Location::parse(text).map_err(|e| Failure::BadInput(format!("{text}: {e}")))
        }
        _ => Ok(Location::Local(Path::new(to).to_path_buf())),
    }
}

/// One dump's tables, encoded; the `dumps` row waits for the context.
struct EncodedDump {
    name: String,
    id: String,
    objects: u64,
    bytes: u64,
    traced_objects: u64,
    files: Vec<(Table, Vec<u8>)>,
}

/// Reads a dump (hashing it) into its graph and site counts in one pass,
/// and encodes its tables.
fn encode_dump(opened: OpenedDump, args: &ExportArgs, bar: bool) -> Result<EncodedDump, Failure> {
    let name = opened.name.clone();
    let options = ReadOptions::with_threads(args.threads).with_digest();
    let detail = if args.objects {
        GraphDetail::AsListed
    } else {
        GraphDetail::Reports
    };
    let loaded = load_opened(opened, &options, bar, detail, SiteSink::default)?;
    if let Some(error) = &loaded.stats.stopped_by {
        return Err(Failure::BadInput(format!("{name}: {error}")));
    }
    let digest = loaded
        .stats
        .digest
        .ok_or_else(|| Failure::BadInput(format!("{name}: the dump's bytes were not hashed")))?;
    let id = dump_id(&digest);
    let sites = site_rows(loaded.extras);
    let (graph, retention) = (&loaded.heap.graph, &loaded.heap.retention);
    let threads = options.worker_count();
    let failed = |e: heapsift_export::ExportError| Failure::BadInput(format!("{name}: {e}"));
    let mut files = vec![
        (
            Table::Sites,
            encode_sites(&id, &sites, threads).map_err(failed)?,
        ),
        (
            Table::Retainers,
            encode_retainers(&id, graph, retention, args.top).map_err(failed)?,
        ),
    ];
    if args.objects {
        let encoded = encode_objects(&id, graph, retention, threads);
        files.push((Table::Objects, encoded.map_err(failed)?));
        let encoded = encode_references(&id, graph, threads);
        files.push((Table::References, encoded.map_err(failed)?));
    }
    Ok(EncodedDump {
        name,
        id,
        objects: sites.iter().map(|row| row.objects).sum(),
        bytes: sites.iter().map(|row| row.bytes).sum(),
        traced_objects: sites
            .iter()
            .filter(|row| row.file.is_some())
            .map(|row| row.objects)
            .sum(),
        files,
    })
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// What is known of where a dump came from: the agent's key in its name
/// (a store's dump, or a file in the agent's layout) and its context
/// record, either, both or neither.
struct Origin<'a> {
    key: Option<DumpKey>,
    context: Option<&'a Context>,
}

impl Origin<'_> {
    /// The dump's dyno and time: from the key, else the context record;
    /// unknown for a plain file with neither.
    fn partition(&self) -> Partition {
        let time = self
            .key
            .as_ref()
            .map(|key| key.time.as_str())
            .or_else(|| self.context.and_then(|c| c.time.as_deref()))
            .and_then(parse_time);
        let dyno = self
            .key
            .as_ref()
            .map(|key| key.dyno.clone())
            .or_else(|| self.context.and_then(|c| c.dyno.clone()));
        Partition { dyno, time }
    }

    /// The process that wrote the dump, likewise.
    fn pid(&self) -> Option<u32> {
        self.key
            .as_ref()
            .map(|key| key.pid)
            .or_else(|| self.context.and_then(|c| c.pid).map(|p| p as u32))
    }
}

/// `ruby 3.4.1 (2024-12-25 revision 48d4efcb85) +PRISM [x86_64-linux]`:
/// `3.4.1`.
fn ruby_version(description: &str) -> Option<String> {
    let mut words = description.split_whitespace();
    (words.next() == Some("ruby"))
        .then(|| words.next().map(str::to_owned))
        .flatten()
}

/// Writes one dump's files, its `dumps` row last (so that a row there
/// means the dump's other tables are complete). Without `force`, files
/// that exist are kept (a dump exported before without --objects gets
/// only its objects and references), and a dump whose files all exist is
/// skipped with a notice.
fn write_dump(
    root: &Location,
    force: bool,
    origin: &Origin<'_>,
    mut dump: EncodedDump,
) -> Result<(), Failure> {
    let partition = &origin.partition();
    let row = dump_row(&dump, partition, origin);
    let encoded =
        encode_dumps(&row).map_err(|e| Failure::BadInput(format!("{}: {e}", dump.name)))?;
    dump.files.push((Table::Dumps, encoded));
    let mut to_write = Vec::new();
    for (table, bytes) in dump.files {
        let file = root.join(&partition.path(table, &dump.id));
        let there = !force && exists(&file).map_err(|e| failed_at(&file, e))?;
        if !there {
            to_write.push((file, bytes));
        }
    }
    if to_write.is_empty() {
        let dumps_file = root.join(&partition.path(Table::Dumps, &dump.id));
        eprintln!(
            "heapsift: {}: exported already as {dumps_file} (pass --force to replace it)",
            dump.name,
        );
    }
    for (file, bytes) in to_write {
        put(&file, bytes).map_err(|e| failed_at(&file, e))?;
    }
    Ok(())
}

fn failed_at(file: &Location, error: StoreError) -> Failure {
    Failure::BadInput(format!("{file}: {error}"))
}

/// The dump's row of the `dumps` table.
fn dump_row(dump: &EncodedDump, partition: &Partition, origin: &Origin<'_>) -> DumpRow {
    let context = origin.context;
    DumpRow {
        dump_id: dump.id.clone(),
        name: dump.name.clone(),
        time: partition.time,
        pid: origin.pid(),
        objects: dump.objects,
        bytes: dump.bytes,
        traced_objects: dump.traced_objects,
        rss: context.and_then(|c| c.rss_bytes),
        ruby_version: context
            .and_then(|c| c.ruby_description.as_deref())
            .and_then(ruby_version),
    }
}
