//! `heapsift info` as text: what the dump holds, then the process's side
//! from its context record.

use std::io::{self, Write};

use heapsift_reports::{InfoReport, ProcessSide, RubyRange};
use heapsift_scan::{counted, human_bytes};

use crate::column_width;
use crate::suspects::wrap;

/// Lines are wrapped to this many characters.
const WIDTH: usize = 96;

/// Writes the report: totals, tracing, the format's Ruby, the types, and
/// the process's side (or why it is missing).
pub fn info_report(report: &InfoReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{}", report.dump)?;
    writeln!(
        out,
        "Objects: {}, {} (their memsize, each object's slot included)",
        counted(report.objects, "object"),
        human_bytes(report.objects_bytes)
    )?;
    writeln!(out, "{}", traced(report))?;
    writeln!(out, "{}", wrap(&ruby(&report.ruby), 0, WIDTH))?;
    writeln!(out)?;
    types(report, out)?;
    writeln!(out)?;
    match &report.process {
        Some(process) => process_side(report, process, out),
        None => no_context(report, out),
    }
}

/// `Traced: 92104 objects (54 %), 9.1 MB (20 %) ...; generations 30 to 49`.
fn traced(report: &InfoReport) -> String {
    let traced = &report.traced;
    if traced.objects == 0 {
        return "Traced: none (allocation tracing was off: no object has a file and line)"
            .to_owned();
    }
    let span = match report.generations {
        Some(span) if span.min == span.max => format!("; generation {}", span.min),
        Some(span) => format!("; generations {} to {}", span.min, span.max),
        None => String::new(),
    };
    format!(
        "Traced: {} ({}), {} ({}) allocated while tracing was on{span}",
        counted(traced.objects, "object"),
        percent(traced.objects_share),
        human_bytes(traced.bytes),
        percent(traced.bytes_share)
    )
}

/// `Ruby: 3.3, by its format: ...`.
fn ruby(range: &RubyRange) -> String {
    let versions = match (range.min, range.max) {
        _ if range.contradictory => {
            return format!(
                "Ruby: unknown, its fields disagree: {}; a format heapsift does not know, or a \
                 dump put together by hand",
                range.clues.join("; ")
            );
        }
        (None, None) => {
            return "Ruby: unknown (the dump shows none of the fields that tell versions apart)"
                .to_owned();
        }
        (Some(min), Some(max)) if min == max => min.to_string(),
        (Some(min), Some(max)) => format!("{min} to {max}"),
        (Some(min), None) => format!("{min} or newer"),
        (None, Some(max)) => format!("{max} or older"),
    };
    format!(
        "Ruby: {versions}, by its format: {}",
        range.decisive.join("; ")
    )
}

/// The table of types, most bytes first.
fn types(report: &InfoReport, out: &mut impl Write) -> io::Result<()> {
    let bytes: Vec<String> = report.types.iter().map(|t| human_bytes(t.bytes)).collect();
    let objects: Vec<String> = report.types.iter().map(|t| t.objects.to_string()).collect();
    let (bytes_width, objects_width) = (
        column_width(&bytes, "BYTES"),
        column_width(&objects, "OBJECTS"),
    );
    writeln!(
        out,
        "{:>bytes_width$}  {:>objects_width$}  SHARE  TYPE",
        "BYTES", "OBJECTS"
    )?;
    for (i, row) in report.types.iter().enumerate() {
        let share = row.bytes as f64 / report.objects_bytes.max(1) as f64;
        writeln!(
            out,
            "{:>bytes_width$}  {:>objects_width$}  {:>5}  {}",
            bytes[i],
            objects[i],
            percent(share),
            row.kind
        )?;
    }
    Ok(())
}

/// What the context record says of the process.
fn process_side(
    report: &InfoReport,
    process: &ProcessSide,
    out: &mut impl Write,
) -> io::Result<()> {
    let from = report
        .context_url
        .as_deref()
        .unwrap_or("its context record");
    writeln!(out, "The process (from {from}):")?;
    if let Some(who) = who(process) {
        writeln!(out, "{}", wrap(&who, 2, WIDTH))?;
    }
    if let Some(triggered_by) = &process.triggered_by {
        writeln!(
            out,
            "{}",
            wrap(&format!("Dumped on {triggered_by}"), 2, WIDTH)
        )?;
    }
    if let Some(memory) = memory(process) {
        writeln!(out, "  {memory}")?;
    }
    if let Some(pages) = process.heap_pages_bytes {
        let of_rss = process
            .rss_bytes
            .filter(|&rss| rss > 0)
            .map(|rss| format!(", {} of RSS", percent(pages as f64 / rss as f64)))
            .unwrap_or_default();
        writeln!(
            out,
            "  The GC's heap pages: {}{of_rss} (the slots objects live in, used or free)",
            human_bytes(pages)
        )?;
    }
    match &process.gap {
        Some(gap) => writeln!(out, "{}", wrap(&format!("{}.", capitalized(gap)), 2, WIDTH)),
        None => writeln!(
            out,
            "  The record gives no RSS: the dump's objects can't be set against it."
        ),
    }
}

/// `web.1 pid 4242 at 2026-11-27T14:03:09.512Z: ruby 3.1.2p20 (...)`.
fn who(process: &ProcessSide) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(dyno) = &process.dyno {
        parts.push(dyno.clone());
    }
    if let Some(pid) = process.pid {
        parts.push(format!("pid {pid}"));
    }
    if let Some(time) = &process.time {
        parts.push(format!("at {time}"));
    }
    let mut who = parts.join(" ");
    if let Some(ruby) = &process.ruby_description {
        who = match who.is_empty() {
            true => ruby.clone(),
            false => format!("{who}: {ruby}"),
        };
    }
    (!who.is_empty()).then_some(who)
}

/// `RSS 1.3 GB, peak 1.3 GB, memory limit 512.0 MB (RSS at 260 % of it)`.
fn memory(process: &ProcessSide) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(rss) = process.rss_bytes {
        parts.push(format!("RSS {}", human_bytes(rss)));
    }
    if let Some(peak) = process.rss_peak_bytes {
        parts.push(format!("peak RSS {}", human_bytes(peak)));
    }
    if let Some(limit) = process.memory_limit_bytes {
        let mut text = format!("memory limit {}", human_bytes(limit));
        if let Some(rss) = process.rss_bytes.filter(|_| limit > 0) {
            text.push_str(&format!(
                " (RSS at {} of it)",
                percent(rss as f64 / limit as f64)
            ));
        }
        parts.push(text);
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn no_context(report: &InfoReport, out: &mut impl Write) -> io::Result<()> {
    let text = match &report.context_url {
        Some(url) => format!(
            "No context record ({url}): the process's RSS, and what triggered the dump, are not \
             known. The heapsift agent stores one beside each dump."
        ),
        None => "No context record: a dump read from stdin has none.".to_owned(),
    };
    writeln!(out, "{}", wrap(&text, 0, WIDTH))
}

/// `54 %`; `<1 %` for a share that would round to 0 but is not.
fn percent(share: f64) -> String {
    match share * 100.0 {
        p if p > 0.0 && p < 0.5 => "<1 %".to_owned(),
        p => format!("{p:.0} %"),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_never_round_to_a_misleading_zero() {
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.001), "<1 %");
        assert_eq!(percent(0.536), "54 %");
        assert_eq!(percent(2.6), "260 %");
    }
}
