//! `heapsift suspects` as text: each suspect as a paragraph, with the path
//! that keeps it alive and what accumulates under it.

use std::io::{self, Write};

use heapsift_scan::{counted, human_bytes};
use heapsift_suspects::{Suspect, SuspectsReport};

use crate::retention::hops;

/// Writes the report: the heap, what tracing costs, each suspect, and
/// what was set apart.
pub fn suspects_report(report: &SuspectsReport, out: &mut impl Write) -> io::Result<()> {
    let last = report.dumps.last().map(String::as_str).unwrap_or_default();
    match report.dumps.len() {
        1 => writeln!(out, "Leak suspects in {last}")?,
        n => writeln!(out, "Leak suspects in {n} dumps, the last {last}")?,
    }
    writeln!(
        out,
        "Reachable heap: {} in {}",
        human_bytes(report.reachable.bytes),
        counted(report.reachable.objects, "object")
    )?;
    if let Some(tracing) = &report.tracing {
        writeln!(
            out,
            "Tracing allocations: {}, {:.0} % of the reachable heap (the tracer's own table, not the app's)",
            human_bytes(tracing.bytes),
            tracing.share * 100.0
        )?;
    }
    if report.reachable.objects == 0 {
        writeln!(
            out,
            "\nThe dump has no GC roots (ROOT records): nothing is reachable, so nothing can be a suspect."
        )?;
    } else if report.suspects.is_empty() {
        writeln!(out, "\nNo collection holds a noticeable share of the heap.")?;
    }
    for suspect in &report.suspects {
        writeln!(out)?;
        suspect_paragraph(suspect, out)?;
    }
    if !report.excluded.is_empty() {
        writeln!(out, "\nSet apart (not the app's data):")?;
        for excluded in &report.excluded {
            writeln!(
                out,
                "  {:>9}  {}  {}: {}",
                human_bytes(excluded.retained_bytes),
                excluded.address.as_deref().unwrap_or("(many)"),
                excluded.description,
                excluded.reason
            )?;
        }
    }
    Ok(())
}

fn suspect_paragraph(suspect: &Suspect, out: &mut impl Write) -> io::Result<()> {
    let verdict = match suspect.growing {
        Some(true) => "  growing",
        Some(false) => "  stable",
        None => "",
    };
    writeln!(
        out,
        "#{}{verdict}  {}  {} ({:.0} %)",
        suspect.rank,
        suspect.description,
        human_bytes(suspect.retained_bytes),
        suspect.share * 100.0
    )?;
    writeln!(out, "{}", wrap(&suspect.summary, 4, 96))?;
    writeln!(out, "    The path, with each hop's size:")?;
    hops(&suspect.root, &suspect.path, 6, out)
}

/// `text` in lines of at most `width` characters, each indented by
/// `indent`; words longer than a line stay whole.
pub(crate) fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    let pad = " ".repeat(indent);
    lines
        .iter()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn paragraphs_wrap_at_words() {
        assert_eq!(wrap("a bb ccc dddd", 2, 9), "  a bb\n  ccc\n  dddd");
        assert_eq!(
            wrap("averyveryverylongword x", 2, 8),
            "  averyveryverylongword\n  x"
        );
    }
}
