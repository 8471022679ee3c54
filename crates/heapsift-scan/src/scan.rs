//! Reading every record of a dump, in parallel, with the bookkeeping every
//! report needs: which lines were skipped or recovered, and whether the input
//! is a heap dump at all.

use heapsift_input::{
    BlockSpans, InputError, LineId, LineSink, Opened, ReadOptions, ReadSummary, read_lines,
};
use heapsift_parse::{LineKind, LineParser, Record};

use crate::units::counted;

/// How many line numbers of skipped or recovered lines are kept for messages.
const FIRST_LINES_KEPT: usize = 5;

/// A file is not a heap dump when none of this many first non-empty lines
/// is a record (architecture.md).
const HEAD_LINES_CHECKED: u64 = 1000;

/// Receives the records of a dump. Each reading thread has its own sink;
/// the caller merges them.
pub trait RecordSink: Send {
    /// Called once per record.
    fn record(&mut self, record: &Record<'_>);

    /// Called before the records of each block of lines. Blocks are
    /// numbered in input order, so a sink that notes where each block began
    /// can put its records back in the dump's order after the parallel read.
    fn block_started(&mut self, _block: u32) {}
}

/// No report: for callers that take an extra sink and need none.
impl RecordSink for () {
    fn record(&mut self, _record: &Record<'_>) {}
}

/// Two sinks fed from one reading: two reports for the price of one pass
/// (and stdin can only be read once).
impl<A: RecordSink, B: RecordSink> RecordSink for (A, B) {
    fn record(&mut self, record: &Record<'_>) {
        self.0.record(record);
        self.1.record(record);
    }

    fn block_started(&mut self, block: u32) {
        self.0.block_started(block);
        self.1.block_started(block);
    }
}

/// Keeps the line of the object at one address, as the dump wrote it.
#[derive(Debug, Clone)]
pub struct LineFinder {
    address: u64,
    /// The line, once found.
    pub line: Option<Vec<u8>>,
}

impl LineFinder {
    /// A finder for the object at `address`.
    pub fn new(address: u64) -> Self {
        LineFinder {
            address,
            line: None,
        }
    }

    /// The line the finders of a reading found, as text.
    pub fn found(finders: Vec<LineFinder>) -> Option<String> {
        finders
            .into_iter()
            .find_map(|finder| finder.line)
            .map(|line| String::from_utf8_lossy(&line).into_owned())
    }

    /// The line of the object at `address` among `lines` (one block of a
    /// dump, read again from its [`Scanned::blocks`] span), as text.
    pub fn find_in(lines: &[u8], address: u64) -> Option<String> {
        let mut finder = LineFinder::new(address);
        let mut parser = LineParser::default();
        each_line(&mut parser, lines, |kind, record, _| {
            if matches!(kind, LineKind::Record { .. }) {
                finder.record(record);
            }
        });
        LineFinder::found(vec![finder])
    }
}

impl RecordSink for LineFinder {
    fn record(&mut self, record: &Record<'_>) {
        if self.line.is_none()
            && record.kind != b"SHAPE"
            && record.address_value() == Some(self.address)
        {
            self.line = Some(record.text.to_vec());
        }
    }
}

/// Why a dump could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Opening or reading the input failed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// None of the first 1,000 non-empty lines is a heap dump record.
    #[error("not a heap dump (no ObjectSpace.dump_all record in its first 1000 non-empty lines)")]
    NotAHeapDump,
}

/// What reading a dump found besides its records, for warnings on stderr.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanStats {
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines read, empty ones included.
    pub lines: u64,
    /// Records read (recovered ones included).
    pub records: u64,
    /// Lines that are not records and were skipped (not counting a cut-off
    /// last line, see `truncated_at`).
    pub skipped: u64,
    /// The first few of those, as 1-based line numbers.
    pub first_skipped: Vec<u64>,
    /// Lines that strict JSON rejects but that were read following Ruby's
    /// known output bugs (unescaped paths, broken method names).
    pub recovered: u64,
    /// The first few of those, as 1-based line numbers.
    pub first_recovered: Vec<u64>,
    /// The line number of a last line that has no newline and is not a
    /// record: the dump was cut off while it was written or copied.
    pub truncated_at: Option<u64>,
    /// An error that ended reading early (e.g. a truncated gzip stream).
    pub stopped_by: Option<String>,
    /// The BLAKE3 hash of the bytes read, when the read options asked for
    /// it.
    pub digest: Option<[u8; 32]>,
}

impl ScanStats {
    /// One sentence per problem found, for `heapsift: <file>: <warning>`.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.skipped > 0 {
            warnings.push(format!(
                "skipped {} that {} not a heap dump record ({})",
                counted(self.skipped, "line"),
                if self.skipped == 1 { "is" } else { "are" },
                line_list(&self.first_skipped, self.skipped)
            ));
        }
        if self.recovered > 0 {
            warnings.push(format!(
                "recovered {} that strict JSON rejects (Ruby writes file paths and some names unescaped) ({})",
                counted(self.recovered, "line"),
                line_list(&self.first_recovered, self.recovered)
            ));
        }
        if let Some(line) = self.truncated_at {
            warnings.push(format!(
                "the dump is cut off in the middle of line {line} (truncated?); reported the complete lines before it"
            ));
        }
        if let Some(error) = &self.stopped_by {
            warnings.push(format!(
                "reading stopped early after {} bytes: {error}; reported the lines read before it",
                self.bytes
            ));
        }
        warnings
    }
}

fn line_list(first: &[u64], total: u64) -> String {
    let numbers: Vec<String> = first.iter().map(u64::to_string).collect();
    let word = if total == 1 { "line" } else { "lines" };
    let more = if total > first.len() as u64 {
        ", ..."
    } else {
        ""
    };
    format!("{word} {}{more}", numbers.join(", "))
}

/// A reading of a dump: each thread's sink, and what reading found.
#[derive(Debug)]
pub struct Scanned<S> {
    /// One sink per reading thread, to merge.
    pub sinks: Vec<S>,
    /// Lines skipped, recovered or cut off, for warnings.
    pub stats: ScanStats,
    /// Where each block of lines lies in the input, to read one again.
    pub blocks: BlockSpans,
}

/// What a finished reading tells of itself, whatever else it made: for
/// the callers that print its warnings.
pub trait HasStats {
    /// What reading found besides the records.
    fn stats(&self) -> &ScanStats;
}

impl<S> HasStats for Scanned<S> {
    fn stats(&self) -> &ScanStats {
        &self.stats
    }
}

/// Reads every record of `input`, feeding them to sinks made by `make_sink`
/// (one per thread).
pub fn scan_records<S, F>(
    input: Opened,
    options: &ReadOptions,
    make_sink: F,
) -> Result<Scanned<S>, ScanError>
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    let (scanners, summary) = read_lines(input, options, || Scanner::new(make_sink()))?;
    let stats = merge_diagnostics(&scanners, &summary)?;
    Ok(Scanned {
        sinks: scanners.into_iter().map(|s| s.sink).collect(),
        stats,
        blocks: summary.blocks,
    })
}

/// Parses lines for one thread and keeps its share of the diagnostics.
struct Scanner<S> {
    sink: S,
    parser: LineParser,
    records: u64,
    skipped: u64,
    first_skipped: Vec<LineId>,
    last_skipped: Option<LineId>,
    recovered: u64,
    first_recovered: Vec<LineId>,
    /// Per block seen, in order: non-empty lines, and how many non-empty
    /// lines came before its first record.
    heads: Vec<BlockHead>,
}

#[derive(Debug, Clone, Copy)]
struct BlockHead {
    block: u32,
    non_empty: u32,
    first_record_after: Option<u32>,
}

impl<S> Scanner<S> {
    fn new(sink: S) -> Self {
        Scanner {
            sink,
            parser: LineParser::default(),
            records: 0,
            skipped: 0,
            first_skipped: Vec::new(),
            last_skipped: None,
            recovered: 0,
            first_recovered: Vec::new(),
            heads: Vec::new(),
        }
    }

    fn head(&mut self, block: u32) -> &mut BlockHead {
        if self.heads.last().is_none_or(|h| h.block != block) {
            self.heads.push(BlockHead {
                block,
                non_empty: 0,
                first_record_after: None,
            });
        }
        self.heads.last_mut().expect("pushed above")
    }
}

impl<S: RecordSink> Scanner<S> {
    /// Counts a parsed line and hands its record, if any, to the sink.
    fn counted(&mut self, kind: LineKind, record: &Record<'_>, id: LineId) {
        if kind == LineKind::Blank {
            return;
        }
        let head = self.head(id.block);
        if head.first_record_after.is_none() && matches!(kind, LineKind::Record { .. }) {
            head.first_record_after = Some(head.non_empty);
        }
        head.non_empty += 1;
        match kind {
            LineKind::Record { recovered } => {
                self.records += 1;
                if recovered {
                    self.recovered += 1;
                    keep_first(&mut self.first_recovered, id);
                }
                self.sink.record(record);
            }
            LineKind::Rejected(_) => {
                self.skipped += 1;
                keep_first(&mut self.first_skipped, id);
                self.last_skipped = Some(id);
            }
            LineKind::Blank => unreachable!("handled above"),
        }
    }
}

impl<S: RecordSink> LineSink for Scanner<S> {
    /// Parses the block line by line, letting the parser find each line's
    /// end rather than searching for newlines first.
    fn block(&mut self, data: &[u8], block: u32) -> u32 {
        self.sink.block_started(block);
        let mut parser = std::mem::take(&mut self.parser);
        let lines = each_line(&mut parser, data, |kind, record, line| {
            self.counted(kind, record, LineId { block, line });
        });
        self.parser = parser;
        lines
    }
}

/// Parses `data` line by line, letting the parser find each line's end
/// rather than searching for newlines first; calls `line(kind, record,
/// index)` for each and returns how many lines there were.
fn each_line(
    parser: &mut LineParser,
    data: &[u8],
    mut line: impl FnMut(LineKind, &Record<'_>, u32),
) -> u32 {
    let mut index = 0u32;
    let mut rest = data;
    let mut record = Record::default();
    while !rest.is_empty() {
        let (kind, len) = parser.parse_first_line(rest, &mut record);
        line(kind, &record, index);
        index += 1;
        rest = rest.get(len + 1..).unwrap_or_default();
    }
    index
}

/// Each scanner sees its lines in input order, so its first few are the
/// smallest it has.
fn keep_first(list: &mut Vec<LineId>, id: LineId) {
    if list.len() < FIRST_LINES_KEPT {
        list.push(id);
    }
}

fn merge_diagnostics<S>(
    scanners: &[Scanner<S>],
    summary: &ReadSummary,
) -> Result<ScanStats, ScanError> {
    let mut heads: Vec<BlockHead> = scanners
        .iter()
        .flat_map(|s| s.heads.iter().copied())
        .collect();
    heads.sort_by_key(|h| h.block);
    let mut before = 0u64;
    let mut is_dump = false;
    for head in &heads {
        if let Some(after) = head.first_record_after {
            is_dump = before + u64::from(after) < HEAD_LINES_CHECKED;
            break;
        }
        before += u64::from(head.non_empty);
        if before >= HEAD_LINES_CHECKED {
            break;
        }
    }
    if !is_dump {
        return Err(ScanError::NotAHeapDump);
    }

    let first_lines = |pick: fn(&Scanner<S>) -> &Vec<LineId>| {
        let mut ids: Vec<LineId> = scanners
            .iter()
            .flat_map(|s| pick(s).iter().copied())
            .collect();
        ids.sort();
        ids
    };
    let mut skipped = scanners.iter().map(|s| s.skipped).sum::<u64>();
    let mut skipped_ids = first_lines(|s| &s.first_skipped);
    let mut truncated_at = None;
    let last_skipped = scanners.iter().filter_map(|s| s.last_skipped).max();
    if let Some(last) = summary.unterminated_last_line
        && last_skipped == Some(last)
    {
        skipped_ids.retain(|id| *id != last);
        skipped -= 1;
        truncated_at = Some(summary.line_number(last));
    }
    skipped_ids.truncate(FIRST_LINES_KEPT);
    let mut recovered_ids = first_lines(|s| &s.first_recovered);
    recovered_ids.truncate(FIRST_LINES_KEPT);

    Ok(ScanStats {
        bytes: summary.bytes,
        lines: summary.lines,
        records: scanners.iter().map(|s| s.records).sum(),
        skipped,
        first_skipped: skipped_ids
            .iter()
            .map(|id| summary.line_number(*id))
            .collect(),
        recovered: scanners.iter().map(|s| s.recovered).sum(),
        first_recovered: recovered_ids
            .iter()
            .map(|id| summary.line_number(*id))
            .collect(),
        truncated_at,
        stopped_by: summary.stopped_by.as_ref().map(|e| e.to_string()),
        digest: summary.digest,
    })
}
