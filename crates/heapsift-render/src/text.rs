//! Text output in heapy's layout (see `design/heapy-compat.md`).

use std::io::{self, Write};

use heapsift_parse::inspect_ruby_string;
use heapsift_reports::{
    DiffReport, GenerationReport, GenerationSummary, LocationRow, TrendGrouping, TrendReport,
};
use heapsift_scan::human_bytes;

const RULE: &str = "==============================";

/// Writes `read DUMP`: objects and memory per generation, then totals.
pub fn generation_summary(report: &GenerationSummary, out: &mut impl Write) -> io::Result<()> {
    let largest = report
        .generations
        .iter()
        .filter_map(|b| b.generation)
        .max()
        .unwrap_or(0);
    let width = largest.to_string().len().max(3);
    writeln!(out, "\nAnalyzing Heap\n==============")?;
    for bucket in &report.generations {
        let label = bucket
            .generation
            .map_or_else(|| "nil".to_owned(), |g| g.to_string());
        writeln!(
            out,
            "Generation: {label:>width$} object count: {}, mem: {:.1} kb",
            bucket.count, bucket.kb
        )?;
    }
    let total = &report.total;
    writeln!(out, "\nHeap total\n==============")?;
    writeln!(out, "Generations (active): {}", total.generations)?;
    writeln!(out, "Count: {}", total.count)?;
    writeln!(out, "Memory: {:.1} kb", total.kb)
}

/// Writes `read DUMP GEN|all`: the per-generation tables.
pub fn generation_report(report: &GenerationReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "\nAnalyzing Heap (Generation: {})", report.generation)?;
    writeln!(out, "-------------------------------")?;

    let memory = &report.allocated_by_memory;
    writeln!(
        out,
        "\nallocated by memory ({}) (in bytes)\n{RULE}",
        memory.total
    )?;
    location_rows(&memory.rows, out)?;

    let objects = &report.object_count;
    writeln!(out, "\nobject count ({})\n{RULE}", objects.total)?;
    location_rows(&objects.rows, out)?;

    writeln!(out, "\nobject counts by class\n{RULE}")?;
    let classes: Vec<(u64, &str)> = report
        .object_counts_by_class
        .iter()
        .map(|row| (row.count, row.class_name.as_str()))
        .collect();
    rows(&classes, out)?;

    writeln!(out, "\nHigh Ref Counts\n{RULE}\n")?;
    location_rows(&report.high_ref_counts, out)?;

    if report.duplicate_strings.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nDuplicate strings\n{RULE}\n")?;
    let width = number_width(report.duplicate_strings.iter().map(|d| d.count));
    let mut inspected = Vec::new();
    for duplicate in &report.duplicate_strings {
        inspected.clear();
        inspect_ruby_string(&duplicate.value, &mut inspected);
        write!(out, " {:>width$}  ", duplicate.count)?;
        out.write_all(&inspected)?;
        out.write_all(b"\n")?;
        for row in &duplicate.locations {
            writeln!(out, " {:>width$}  {}", row.value, row.location)?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn location_rows(table: &[LocationRow], out: &mut impl Write) -> io::Result<()> {
    let pairs: Vec<(u64, &str)> = table
        .iter()
        .map(|row| (row.value, row.location.as_str()))
        .collect();
    rows(&pairs, out)
}

/// Rows of `  <number right-justified>  <key>`, the width set by the
/// largest number.
fn rows(pairs: &[(u64, &str)], out: &mut impl Write) -> io::Result<()> {
    let width = number_width(pairs.iter().map(|(n, _)| *n));
    for (number, key) in pairs {
        writeln!(out, "  {number:>width$}  {key}")?;
    }
    Ok(())
}

fn number_width(numbers: impl Iterator<Item = u64>) -> usize {
    numbers.max().map_or(1, |n| n.to_string().len())
}

/// Writes `diff`: one line per (type, file, line) group, as heapy does.
pub fn diff_report(report: &DiffReport, out: &mut impl Write) -> io::Result<()> {
    let word = if report.retained {
        "Retained"
    } else {
        "Allocated"
    };
    for group in &report.groups {
        writeln!(
            out,
            "{word} {} {} objects of size {}/{} (in bytes) at: {}:{}",
            group.kind,
            group.count,
            group.bytes,
            report.total_bytes,
            group.file.as_deref().unwrap_or(""),
            group.line.map(|l| l.to_string()).unwrap_or_default()
        )?;
    }
    Ok(())
}

/// Writes `trend`: the dumps, numbered, then two lines per group: growth,
/// steadiness, type and site (or class); then the count in every dump.
pub fn trend_report(report: &TrendReport, out: &mut impl Write) -> io::Result<()> {
    let what = match report.by {
        TrendGrouping::Location => "allocation site",
        TrendGrouping::Class => "class",
    };
    writeln!(
        out,
        "Trend of {} dumps by {what}: {} of {} groups rose in every dump (steady)",
        report.dumps.len(),
        report.steady_groups,
        report.groups
    )?;
    let number_width = report.dumps.len().to_string().len();
    for (i, dump) in report.dumps.iter().enumerate() {
        writeln!(out, "  {:>number_width$}  {dump}", i + 1)?;
    }
    if report.rows.is_empty() {
        return Ok(());
    }
    let growths: Vec<String> = report
        .rows
        .iter()
        .map(|row| signed_bytes(row.growth_bytes))
        .collect();
    let growth_width = growths.iter().map(String::len).max().unwrap_or(0).max(6);
    let type_width = report
        .rows
        .iter()
        .map(|r| r.kind.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let what_heading = match report.by {
        TrendGrouping::Location => "LOCATION",
        TrendGrouping::Class => "CLASS",
    };
    writeln!(
        out,
        "\n{:>growth_width$}  STEADY  {:<type_width$}  {what_heading}",
        "GROWTH", "TYPE"
    )?;
    for (row, growth) in report.rows.iter().zip(&growths) {
        let name = match report.by {
            TrendGrouping::Location => row.location.as_deref().unwrap_or("(not traced)"),
            TrendGrouping::Class => row.class_name.as_deref().unwrap_or("(no class name)"),
        };
        let steady = if row.steady { "steady" } else { "" };
        writeln!(
            out,
            "{growth:>growth_width$}  {steady:<6}  {:<type_width$}  {name}",
            row.kind
        )?;
        let counts: Vec<String> = row.counts.iter().map(u64::to_string).collect();
        let first = row.counts.first().copied().unwrap_or(0);
        let last = row.counts.last().copied().unwrap_or(0);
        writeln!(
            out,
            "{:growth_width$}  objects: {} ({:+})",
            "",
            counts.join(" "),
            last as i64 - first as i64
        )?;
    }
    Ok(())
}

/// Bytes gained (`+1.5 MB`) or lost (`-120 B`).
fn signed_bytes(bytes: i64) -> String {
    let size = human_bytes(bytes.unsigned_abs());
    match bytes {
        0 => size,
        b if b > 0 => format!("+{size}"),
        _ => format!("-{size}"),
    }
}
