//! Text output of the retention reports.

use std::io::{self, Write};

use heapsift_graph::{Grouping, ObjectDetails, RetainedReport, RetainedRow, RootPath, SharedPaths};
use heapsift_scan::{counted, human_bytes};

use crate::column_width;

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
        "Heap: {} in {}; reachable from the GC roots: {} ({}); unreachable: {} ({})\n",
        human_bytes(report.total_bytes),
        counted(
            report.reachable.objects + report.unreachable.objects,
            "object"
        ),
        counted(report.reachable.objects, "object"),
        human_bytes(report.reachable.bytes),
        counted(report.unreachable.objects, "object"),
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
    let (rw, cw, ow) = (
        column_width(&retained, "RETAINED"),
        column_width(&counts, "OBJECTS"),
        column_width(&own, "OWN"),
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
            let mw = column_width(&members, "MEMBERS");
            let (title, members_are) = if report.by == Grouping::Class {
                ("CLASS", "the objects of the class")
            } else {
                ("ALLOCATED AT", "the objects allocated there")
            };
            writeln!(
                out,
                "MEMBERS: {members_are}; RETAINED, OBJECTS: what they keep alive, themselves included; OWN: their own size\n"
            )?;
            writeln!(
                out,
                "{:>rw$}  {:>cw$}  {:>mw$}  {:>ow$}  {title}",
                "RETAINED", "OBJECTS", "MEMBERS", "OWN"
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

/// One object on a line: address, description, retained size, site.
fn object_line(row: &RetainedRow) -> String {
    let location = row
        .location
        .as_deref()
        .map(|l| format!("  ({l})"))
        .unwrap_or_default();
    format!(
        "{}  {}  [retains {} in {}]{location}",
        row.address.as_deref().unwrap_or("?"),
        row.description,
        human_bytes(row.retained_bytes),
        counted(row.retained_count, "object"),
    )
}

/// Writes `path`: the root category, then one hop per line, indented as
/// the chain goes down.
pub fn root_path(path: &RootPath, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "Shortest path from the GC roots to {} ({} hops)",
        path.target,
        path.hops.len()
    )?;
    hops(&path.root, &path.hops, 0, out)
}

/// The root category, then one hop per line, indented by `indent` and
/// further as the chain goes down.
pub(crate) fn hops(
    root: &str,
    hops: &[RetainedRow],
    indent: usize,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out, "{:indent$}root: {root}", "")?;
    for (depth, hop) in hops.iter().enumerate() {
        writeln!(
            out,
            "{:indent$}-> {}",
            "",
            object_line(hop),
            indent = indent + 2 * depth
        )?;
    }
    Ok(())
}

/// Writes `show`: the object, its dominator, and its neighbours.
pub fn object_details(details: &ObjectDetails, out: &mut impl Write) -> io::Result<()> {
    let object = &details.object;
    writeln!(out, "{}", object_line(object))?;
    writeln!(out, "  type: {}", object.kind.as_deref().unwrap_or("?"))?;
    if let Some(class_name) = &object.class_name {
        writeln!(out, "  class: {class_name}")?;
    }
    if let Some(length) = details.length {
        writeln!(out, "  length: {length}")?;
    }
    writeln!(
        out,
        "  own size: {} ({} bytes)",
        human_bytes(object.own_bytes),
        object.own_bytes
    )?;
    writeln!(
        out,
        "  retained: {} ({} bytes) in {}",
        human_bytes(object.retained_bytes),
        object.retained_bytes,
        counted(object.retained_count, "object")
    )?;
    writeln!(
        out,
        "  allocated at: {}",
        object.location.as_deref().unwrap_or("(not traced)")
    )?;
    if let Some(record) = &details.record {
        writeln!(out, "  record: {record}")?;
    }
    match (&details.root, &details.dominator, details.reachable) {
        (_, _, false) => writeln!(out, "  unreachable from the GC roots")?,
        (Some(root), _, true) => writeln!(out, "  held by a GC root: {root}")?,
        (None, Some(dominator), true) => {
            writeln!(out, "  immediate dominator: {}", object_line(dominator))?
        }
        (None, None, true) => writeln!(out, "  immediate dominator: the GC roots together")?,
    }
    for (title, count, rows) in [
        ("references", details.reference_count, &details.references),
        ("referenced by", details.referrer_count, &details.referrers),
    ] {
        let shown = if count > rows.len() as u64 {
            format!(", the first {}", rows.len())
        } else {
            String::new()
        };
        writeln!(out, "\n{title} ({count}{shown})")?;
        for row in rows {
            writeln!(out, "  {}", object_line(row))?;
        }
    }
    Ok(())
}

/// Writes `path --location`: each group's count and share, root, and
/// shape, one hop per line.
pub fn shared_paths(paths: &SharedPaths, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "Paths from the GC roots to the {} allocated at {} ({} reachable)",
        counted(paths.objects, "object"),
        paths.location,
        paths.reachable
    )?;
    for group in &paths.groups {
        let share = 100.0 * group.count as f64 / paths.reachable.max(1) as f64;
        writeln!(
            out,
            "\n{} ({share:.0}%), for example {}",
            counted(group.count, "object"),
            group.example
        )?;
        writeln!(out, "root: {}", group.root)?;
        for (depth, hop) in group.hops.iter().enumerate() {
            let location = hop
                .location
                .as_deref()
                .map(|l| format!("  ({l})"))
                .unwrap_or_default();
            writeln!(
                out,
                "{:indent$}-> {}{location}",
                "",
                hop.description,
                indent = 2 * depth
            )?;
        }
    }
    Ok(())
}
