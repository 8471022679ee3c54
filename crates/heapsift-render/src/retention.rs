//! Text output of the retention reports.

use std::io::{self, Write};

use heapsift_graph::{Grouping, RetainedReport};
use heapsift_reports::human_bytes;

/// Writes `retained`: a headline with the heap's totals, then one row per
/// object (or class, or site), biggest retained size first.
pub fn retained_report(report: &RetainedReport, out: &mut impl Write) -> io::Result<()> {
    let what = match report.by {
        Grouping::Object => "object",
        Grouping::Class => "class",
        Grouping::Location => "allocation site",
    };
    writeln!(
        out,
        "Retained size by {what}{}",
        report
            .root
            .as_ref()
            .map(|root| format!(", under {root}"))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "Heap: {} in {} objects; reachable from the GC roots: {} objects ({}); unreachable: {} objects ({})\n",
        human_bytes(report.total_bytes),
        report.reachable.objects + report.unreachable.objects,
        report.reachable.objects,
        human_bytes(report.reachable.bytes),
        report.unreachable.objects,
        human_bytes(report.unreachable.bytes),
    )?;
    let retained: Vec<String> = report
        .rows
        .iter()
        .map(|r| human_bytes(r.retained_bytes))
        .collect();
    let counts: Vec<String> = report
        .rows
        .iter()
        .map(|r| r.retained_count.to_string())
        .collect();
    let own: Vec<String> = report
        .rows
        .iter()
        .map(|r| human_bytes(r.own_bytes))
        .collect();
    let width = |column: &[String], title: &str| {
        column
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let (rw, cw, ow) = (
        width(&retained, "RETAINED"),
        width(&counts, "OBJECTS"),
        width(&own, "OWN"),
    );
    match report.by {
        Grouping::Object => {
            let addresses: Vec<&str> = report
                .rows
                .iter()
                .map(|r| r.address.as_deref().unwrap_or(""))
                .collect();
            let aw = addresses.iter().map(|a| a.len()).max().unwrap_or(0).max(7);
            writeln!(
                out,
                "{:>rw$}  {:>cw$}  {:>ow$}  {:<aw$}  OBJECT",
                "RETAINED", "OBJECTS", "OWN", "ADDRESS"
            )?;
            for (i, row) in report.rows.iter().enumerate() {
                let location = row
                    .location
                    .as_deref()
                    .map(|l| format!("  ({l})"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{:>rw$}  {:>cw$}  {:>ow$}  {:<aw$}  {}{location}",
                    retained[i], counts[i], own[i], addresses[i], row.description
                )?;
            }
        }
        Grouping::Class | Grouping::Location => {
            let members: Vec<String> = report.rows.iter().map(|r| r.objects.to_string()).collect();
            let mw = width(&members, "OF THEM");
            let title = if report.by == Grouping::Class {
                "CLASS"
            } else {
                "ALLOCATED AT"
            };
            writeln!(
                out,
                "{:>rw$}  {:>cw$}  {:>mw$}  {:>ow$}  {title}",
                "RETAINED", "OBJECTS", "OF THEM", "OWN"
            )?;
            for (i, row) in report.rows.iter().enumerate() {
                let name = row
                    .class_name
                    .as_deref()
                    .or(row.location.as_deref())
                    .unwrap_or("");
                writeln!(
                    out,
                    "{:>rw$}  {:>cw$}  {:>mw$}  {:>ow$}  {name}",
                    retained[i], counts[i], members[i], own[i]
                )?;
            }
        }
    }
    Ok(())
}
