//! A suspect in a few sentences, for people.

use heapsift_scan::{counted, human_bytes};

use crate::report::Suspect;

/// What the suspect is, who holds it, how big it is and grows, what
/// accumulates under it, and the path that keeps it alive.
pub(crate) fn summary(suspect: &Suspect, dumps: usize) -> String {
    let mut text = format!("{} ({})", suspect.description, suspect.address);
    match (&suspect.owner, suspect.root.as_str()) {
        (Some(owner), _) => text.push_str(&format!(", held by {}", owner.description)),
        // The dump does not name globals; their table holds the path.
        (None, "global_tbl") => text.push_str(", held by a global variable"),
        (None, _) => {}
    }
    text.push_str(&format!(
        ", retains {} in {}: {:.0} % of the reachable heap.",
        human_bytes(suspect.retained_bytes),
        counted(suspect.retained_count, "object"),
        suspect.share * 100.0
    ));
    if let Some(bytes) = &suspect.retained_bytes_per_dump {
        let sizes: Vec<String> = bytes
            .iter()
            .map(|b| b.map_or_else(|| "not found".to_owned(), human_bytes))
            .collect();
        let verdict = match suspect.growing {
            Some(true) => "It grew in every one of the",
            _ => "It is stable (not growing in every dump) across the",
        };
        text.push_str(&format!(" {verdict} {dumps} dumps: {}", sizes.join(", ")));
        if let Some(per_hour) = suspect.growth_bytes_per_hour {
            let sign = if per_hour < 0.0 { "-" } else { "+" };
            text.push_str(&format!(
                " ({sign}{} an hour)",
                human_bytes(per_hour.abs() as u64)
            ));
        }
        text.push('.');
    }
    let groups: Vec<String> = suspect
        .accumulated
        .iter()
        .take(3)
        .map(|group| {
            let name = group.class_name.as_deref().unwrap_or(&group.kind);
            let site = group.location.as_deref().map_or_else(
                || " (not traced)".to_owned(),
                |l| format!(" allocated at {l}"),
            );
            format!(
                "{} {name}{site}, ~{} each",
                group.count,
                human_bytes(group.bytes / group.count.max(1))
            )
        })
        .collect();
    if !groups.is_empty() {
        text.push_str(&format!(" What accumulates: {}.", groups.join("; ")));
    }
    let hops: Vec<&str> = suspect
        .path
        .iter()
        .map(|hop| hop.description.as_str())
        .collect();
    text.push_str(&format!(
        " Alive through: {} -> {}.",
        suspect.root,
        hops.join(" -> ")
    ));
    text
}
