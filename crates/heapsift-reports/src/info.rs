//! `info DUMP`: what a dump holds, and, from its context record, what the
//! process around it had.

use std::borrow::Borrow;

use hashbrown::HashMap;
use heapsift_parse::Record;
use heapsift_scan::{RecordSink, human_bytes};
use heapsift_store::Context;
use serde::Serialize;
use serde_json::Value;

use crate::format::{FormatSink, RubyRange};

type FastHash = foldhash::fast::RandomState;

/// Objects and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// How many.
    pub objects: u64,
    /// Their `memsize`, in bytes.
    pub bytes: u64,
}

impl Tally {
    fn add(&mut self, bytes: u64) {
        self.objects += 1;
        self.bytes += bytes;
    }

    fn absorb(&mut self, other: Tally) {
        self.objects += other.objects;
        self.bytes += other.bytes;
    }
}

/// What `info` collects from one reading thread's records.
#[derive(Debug, Default)]
pub struct InfoSink {
    all: Tally,
    traced: Tally,
    by_type: HashMap<Box<[u8]>, Tally, FastHash>,
    generations: Option<(u64, u64)>,
    format: FormatSink,
}

impl RecordSink for InfoSink {
    fn record(&mut self, record: &Record<'_>) {
        self.format.record(record);
        // The heap's objects, as `retained` counts them: every record with
        // an address but SHAPE records, which are not heap slots.
        if record.address.is_none() || record.kind == b"SHAPE" {
            return;
        }
        let bytes = record.memsize_or_zero();
        self.all.add(bytes);
        match self.by_type.get_mut(record.kind) {
            Some(tally) => tally.add(bytes),
            None => {
                let mut tally = Tally::default();
                tally.add(bytes);
                self.by_type.insert(record.kind.into(), tally);
            }
        }
        if record.file.is_some() {
            self.traced.add(bytes);
        }
        if let Some(generation) = record.generation {
            let (low, high) = self.generations.get_or_insert((generation, generation));
            *low = (*low).min(generation);
            *high = (*high).max(generation);
        }
    }
}

impl InfoSink {
    fn absorb(&mut self, other: InfoSink) {
        self.all.absorb(other.all);
        self.traced.absorb(other.traced);
        for (kind, tally) in other.by_type {
            self.by_type.entry(kind).or_default().absorb(tally);
        }
        self.generations = match (self.generations, other.generations) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (mine, theirs) => mine.or(theirs),
        };
        self.format.absorb(&other.format);
    }
}

/// The objects of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeRow {
    /// The type, e.g. `STRING`.
    #[serde(rename = "type")]
    pub kind: String,
    /// How many objects.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// The objects allocated while tracing was on (those with a `file`, as
/// `read`'s tables count them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Traced {
    /// How many.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Their share of the objects, 0 to 1.
    pub objects_share: f64,
    /// Their share of the bytes, 0 to 1.
    pub bytes_share: f64,
}

/// The generations (`GC.count` at allocation) of the traced objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GenerationSpan {
    /// The oldest.
    pub min: u64,
    /// The newest.
    pub max: u64,
}

/// `info DUMP`: what the dump holds and what its context record adds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InfoReport {
    /// The dump, as named.
    pub dump: String,
    /// The heap's objects: records with an address, SHAPE records left out.
    pub objects: u64,
    /// Their `memsize` added up, in bytes (each object's slot included).
    pub objects_bytes: u64,
    /// Objects and bytes by type, most bytes first.
    pub types: Vec<TypeRow>,
    /// What was allocated while tracing was on.
    pub traced: Traced,
    /// The traced objects' generations, `None` when none was traced.
    pub generations: Option<GenerationSpan>,
    /// The Rubies whose format the dump has.
    pub ruby: RubyRange,
    /// Where the context record was looked for (`None` for stdin).
    pub context_url: Option<String>,
    /// The context record as stored, when there is one.
    pub context: Option<Value>,
    /// The process's side, from the context record.
    pub process: Option<ProcessSide>,
    /// RSS minus the objects' bytes (negative when the objects add up to
    /// more), when the record gives RSS.
    pub gap_bytes: Option<i64>,
}

impl InfoReport {
    /// The report of the dump named `dump` from its reading's sinks, with
    /// its context record if it has one (looked for at `context_url`).
    pub fn new(
        dump: String,
        sinks: Vec<InfoSink>,
        context_url: Option<String>,
        context: Option<&Context>,
    ) -> Self {
        let mut merged = InfoSink::default();
        for sink in sinks {
            merged.absorb(sink);
        }
        let all = merged.all;
        let process = context.map(|context| ProcessSide::new(context, all.bytes));
        InfoReport {
            dump,
            objects: all.objects,
            objects_bytes: all.bytes,
            types: type_rows(merged.by_type),
            traced: Traced {
                objects: merged.traced.objects,
                bytes: merged.traced.bytes,
                objects_share: share(merged.traced.objects, all.objects),
                bytes_share: share(merged.traced.bytes, all.bytes),
            },
            generations: merged
                .generations
                .map(|(min, max)| GenerationSpan { min, max }),
            ruby: merged.format.range(),
            context_url,
            context: context.map(|c| c.record.clone()),
            gap_bytes: process.as_ref().and_then(|p| p.gap_bytes),
            process,
        }
    }
}

fn type_rows(by_type: HashMap<Box<[u8]>, Tally, FastHash>) -> Vec<TypeRow> {
    let mut rows: Vec<TypeRow> = by_type
        .into_iter()
        .map(|(kind, tally)| TypeRow {
            kind: String::from_utf8_lossy(kind.borrow()).into_owned(),
            objects: tally.objects,
            bytes: tally.bytes,
        })
        .collect();
    rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.kind.cmp(&b.kind)));
    rows
}

/// `part / whole`, 0 when there is no whole.
fn share(part: u64, whole: u64) -> f64 {
    match whole {
        0 => 0.0,
        _ => part as f64 / whole as f64,
    }
}

/// The process around the dump, from its context record: its memory
/// against the dump's objects, and why it dumped, in figures and words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessSide {
    /// The dyno, e.g. `web.1`.
    pub dyno: Option<String>,
    /// The process id.
    pub pid: Option<u64>,
    /// When it dumped, as the record says.
    pub time: Option<String>,
    /// `RUBY_DESCRIPTION`.
    pub ruby_description: Option<String>,
    /// Resident memory when it dumped, in bytes.
    pub rss_bytes: Option<u64>,
    /// The most resident memory it ever had, in bytes.
    pub rss_peak_bytes: Option<u64>,
    /// The container's memory limit, in bytes.
    pub memory_limit_bytes: Option<u64>,
    /// The GC's heap pages, in bytes.
    pub heap_pages_bytes: Option<u64>,
    /// The dump's objects' bytes.
    pub objects_bytes: u64,
    /// RSS minus the objects' bytes.
    pub gap_bytes: Option<i64>,
    /// What triggered the dump: `signal`, `schedule`, `memory` or what the
    /// record says.
    pub trigger: Option<String>,
    /// What triggered the dump, in words.
    pub triggered_by: Option<String>,
    /// RSS against the objects, in words.
    pub gap: Option<String>,
}

impl ProcessSide {
    /// The process's side of a dump whose objects take `objects_bytes`.
    pub fn new(context: &Context, objects_bytes: u64) -> Self {
        let gap_bytes = context
            .rss_bytes
            .map(|rss| i64::try_from(i128::from(rss) - i128::from(objects_bytes)).unwrap_or(0));
        ProcessSide {
            dyno: context.dyno.clone(),
            pid: context.pid,
            time: context.time.clone(),
            ruby_description: context.ruby_description.clone(),
            rss_bytes: context.rss_bytes,
            rss_peak_bytes: context.rss_peak_bytes,
            memory_limit_bytes: context.memory_limit_bytes,
            heap_pages_bytes: context.heap_pages_bytes,
            objects_bytes,
            gap_bytes,
            trigger: context.trigger.as_ref().and_then(|t| t.kind.clone()),
            triggered_by: context.trigger.as_ref().map(triggered_by),
            gap: context
                .rss_bytes
                .map(|rss| gap_in_words(rss, objects_bytes)),
        }
    }
}

/// "the Ruby heap's objects account for 420.0 MB of 1.3 GB RSS; 880.0 MB
/// are outside Ruby objects: ...".
fn gap_in_words(rss: u64, objects: u64) -> String {
    let (objects_text, rss_text) = (human_bytes(objects), human_bytes(rss));
    if objects >= rss {
        return format!(
            "the Ruby heap's objects account for {objects_text}, as much as the {rss_text} RSS \
             or more: the memory is in Ruby objects, which the dump shows"
        );
    }
    format!(
        "the Ruby heap's objects account for {objects_text} of {rss_text} RSS; {} {} outside \
         Ruby objects: native memory or fragmentation, which a heap dump cannot show",
        human_bytes(rss - objects),
        if rss - objects == 1 { "is" } else { "are" },
    )
}

/// "a signal: "after deploy" (request 9f0c)", "the schedule (every 3600
/// s)", "high memory: RSS 1.3 GB above 1.0 GB".
fn triggered_by(trigger: &heapsift_store::Trigger) -> String {
    let mut words = match trigger.kind.as_deref() {
        Some("signal") => "a signal".to_owned(),
        Some("schedule") => match trigger.every_seconds {
            Some(every) => format!("the schedule (every {every} s)"),
            None => "the schedule".to_owned(),
        },
        Some("memory") => match (trigger.rss_bytes, trigger.threshold_bytes) {
            (Some(rss), Some(threshold)) => format!(
                "high memory: RSS {} above the threshold of {}",
                human_bytes(rss),
                human_bytes(threshold)
            ),
            (_, Some(threshold)) => {
                format!(
                    "high memory: RSS above the threshold of {}",
                    human_bytes(threshold)
                )
            }
            _ => "high memory".to_owned(),
        },
        Some(other) => format!("\"{other}\""),
        None => "an unnamed trigger".to_owned(),
    };
    if let Some(message) = trigger.message.as_deref().filter(|m| !m.is_empty()) {
        words.push_str(&format!(": \"{message}\""));
    }
    if let Some(request) = &trigger.request {
        words.push_str(&format!(" (request {request})"));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapsift_parse::{Parsed, parse_line};

    fn sink(lines: &[&str]) -> InfoSink {
        let mut sink = InfoSink::default();
        for line in lines {
            if let Parsed::Record { record, .. } = parse_line(line.as_bytes()) {
                sink.record(&record);
            }
        }
        sink
    }

    #[test]
    fn objects_types_tracing_and_generations() {
        let one = sink(&[
            r#"{"type":"ROOT", "root":"vm", "references":["0x1"]}"#,
            r#"{"address":"0x1", "type":"STRING", "value":"a", "file":"a.rb", "line":1, "generation":7, "memsize":40}"#,
            r#"{"address":"0x2", "type":"SHAPE", "id":0, "memsize":500}"#,
        ]);
        let two = sink(&[
            r#"{"address":"0x3", "type":"HASH", "size":0, "memsize":160}"#,
            r#"{"address":"0x4", "type":"STRING", "value":"b", "file":"b.rb", "line":2, "generation":3, "memsize":40}"#,
        ]);
        let report = InfoReport::new("x".into(), vec![one, two], None, None);
        assert_eq!((report.objects, report.objects_bytes), (3, 240));
        assert_eq!(report.types[0].kind, "HASH");
        assert_eq!((report.types[1].objects, report.types[1].bytes), (2, 80));
        assert_eq!((report.traced.objects, report.traced.bytes), (2, 80));
        assert_eq!(report.traced.bytes_share, 80.0 / 240.0);
        assert_eq!(report.generations, Some(GenerationSpan { min: 3, max: 7 }));
        assert_eq!((report.process, report.gap_bytes), (None, None));
    }

    #[test]
    fn the_gap_between_rss_and_the_objects_is_said_in_words() {
        let context = Context::from_json(
            br#"{"rss_bytes": 1395864371, "trigger": {"kind": "signal", "message": "after deploy", "request": "9f0c"}}"#,
        )
        .unwrap();
        let side = ProcessSide::new(&context, 440_401_920);
        assert_eq!(side.gap_bytes, Some(1_395_864_371 - 440_401_920));
        assert_eq!(
            side.gap.as_deref(),
            Some(
                "the Ruby heap's objects account for 420.0 MB of 1.3 GB RSS; 911.2 MB are \
                 outside Ruby objects: native memory or fragmentation, which a heap dump cannot show"
            )
        );
        assert_eq!(
            side.triggered_by.as_deref(),
            Some("a signal: \"after deploy\" (request 9f0c)")
        );
        let over = ProcessSide::new(&context, 2_000_000_000);
        assert_eq!(over.gap_bytes, Some(1_395_864_371 - 2_000_000_000));
        assert!(over.gap.unwrap().contains("as much as the 1.3 GB RSS"));
    }

    #[test]
    fn memory_and_schedule_triggers() {
        let memory = Context::from_json(
            br#"{"trigger": {"kind": "memory", "rss_bytes": 2147483648, "threshold_bytes": 1073741824}}"#,
        )
        .unwrap();
        assert_eq!(
            ProcessSide::new(&memory, 0).triggered_by.as_deref(),
            Some("high memory: RSS 2.0 GB above the threshold of 1.0 GB")
        );
        let schedule =
            Context::from_json(br#"{"trigger": {"kind": "schedule", "every": 3600}}"#).unwrap();
        let side = ProcessSide::new(&schedule, 0);
        assert_eq!(
            side.triggered_by.as_deref(),
            Some("the schedule (every 3600 s)")
        );
        assert_eq!((side.gap, side.gap_bytes), (None, None));
    }
}
