//! The suspects of a series of dumps (or of one), ranked.

use heapsift_graph::{RetainedRow, Totals};
use serde::Serialize;

use crate::analysis::{Accumulated, Analysis, Excluded, Measure, Measures, Tracing, share};
use crate::summary::summary;

/// A suspect grows when its retained bytes rise by more than this between
/// every two dumps (or its object count rises at all).
const GROWTH: f64 = 0.10;

/// One dump of the series: its name and, when known, when it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpTime {
    /// The dump as given (path or URL).
    pub name: String,
    /// When it was taken, `YYYY-MM-DDTHH:MM:SS.sssZ` (the agent's keys,
    /// or the file's modification time).
    pub time: Option<String>,
}

/// The suspects report (`heapsift suspects`, `/api/suspects`).
#[derive(Debug, Clone, Serialize)]
pub struct SuspectsReport {
    /// The dumps, in series order; the suspects' addresses are the last's.
    pub dumps: Vec<String>,
    /// The last dump's reachable heap.
    pub reachable: Totals,
    /// The allocation tracer's table in the last dump, when tracing was on.
    pub tracing: Option<Tracing>,
    /// Growing suspects first, by growth; then the others, by size.
    pub suspects: Vec<Suspect>,
    /// What is not the app's data, set apart.
    pub excluded: Vec<Excluded>,
}

/// One suspect: an accumulation point and its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Suspect {
    /// 1 for the first.
    pub rank: usize,
    /// The collection's address in the last dump.
    pub address: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// What it is.
    pub description: String,
    /// Bytes it retains in the last dump.
    pub retained_bytes: u64,
    /// Objects it retains in the last dump.
    pub retained_count: u64,
    /// Its share of the last dump's reachable heap, 0 to 1.
    pub share: f64,
    /// With several dumps: whether it grew in every one.
    pub growing: Option<bool>,
    /// With several dumps: its retained bytes in each (null where it was
    /// not found).
    pub retained_bytes_per_dump: Option<Vec<Option<u64>>>,
    /// With several dumps: its retained objects in each.
    pub retained_count_per_dump: Option<Vec<Option<u64>>>,
    /// Bytes gained per hour from the first dump to the last, when their
    /// times are known and differ.
    pub growth_bytes_per_hour: Option<f64>,
    /// The nearest named holder on its path from the roots.
    pub owner: Option<RetainedRow>,
    /// The collection itself, as `retained` shows it.
    pub accumulation_point: RetainedRow,
    /// What accumulates under it.
    pub accumulated: Vec<Accumulated>,
    /// Why it is alive: the shortest path from the roots, the point last.
    pub path: Vec<RetainedRow>,
    /// The root category holding the path's first object.
    pub root: String,
    /// All of the above in a few sentences.
    pub summary: String,
}

impl SuspectsReport {
    /// The report of a series: `last` is the last dump's analysis,
    /// `earlier` its candidates measured in each earlier dump, in order
    /// (empty for one dump). Keeps the first `top` suspects.
    pub fn new(dumps: &[DumpTime], last: Analysis, earlier: &[Measures], top: usize) -> Self {
        let hours = hours_between(dumps);
        let mut suspects: Vec<Suspect> = last
            .candidates
            .into_iter()
            .enumerate()
            .map(|(i, candidate)| {
                let measures: Vec<Option<Measure>> = earlier
                    .iter()
                    .map(|dump| dump.0.get(i).copied().flatten())
                    .chain(std::iter::once(Some(Measure {
                        bytes: candidate.point.retained_bytes,
                        count: candidate.point.retained_count,
                    })))
                    .collect();
                let series = (!earlier.is_empty()).then_some(measures.as_slice());
                Suspect::new(candidate, series, hours, last.reachable.bytes)
            })
            .collect();
        suspects.sort_by(|a, b| {
            let growing = |s: &Suspect| s.growing == Some(true);
            growing(b)
                .cmp(&growing(a))
                .then_with(|| match growing(a) {
                    true => gain(b).cmp(&gain(a)),
                    false => b.retained_bytes.cmp(&a.retained_bytes),
                })
                .then_with(|| a.address.cmp(&b.address))
        });
        suspects.truncate(top);
        for (i, suspect) in suspects.iter_mut().enumerate() {
            suspect.rank = i + 1;
            suspect.summary = summary(suspect, dumps.len());
        }
        SuspectsReport {
            dumps: dumps.iter().map(|d| d.name.clone()).collect(),
            reachable: last.reachable,
            tracing: last.tracing,
            suspects,
            excluded: last.excluded,
        }
    }
}

impl SuspectsReport {
    /// The dumps, other than the last, in which none of the suspects was
    /// found: likely not dumps of the same process.
    pub fn dumps_without_suspects(&self) -> Vec<&str> {
        let found_in = |i: usize| {
            self.suspects.iter().any(|suspect| {
                let bytes = suspect.retained_bytes_per_dump.as_deref();
                bytes.is_some_and(|bytes| bytes.get(i).is_some_and(Option::is_some))
            })
        };
        let earlier = self.dumps.len().saturating_sub(1);
        (0..earlier)
            .filter(|&i| !self.suspects.is_empty() && !found_in(i))
            .map(|i| self.dumps[i].as_str())
            .collect()
    }
}

/// Bytes gained from the first dump it was found in to the last.
fn gain(suspect: &Suspect) -> i128 {
    let bytes = suspect
        .retained_bytes_per_dump
        .as_deref()
        .unwrap_or_default();
    let found: Vec<u64> = bytes.iter().flatten().copied().collect();
    match (found.first(), found.last()) {
        (Some(&first), Some(&last)) => i128::from(last) - i128::from(first),
        _ => 0,
    }
}

impl Suspect {
    fn new(
        candidate: crate::analysis::Candidate,
        series: Option<&[Option<Measure>]>,
        hours: Option<f64>,
        reachable_bytes: u64,
    ) -> Self {
        let point = candidate.point;
        let growth_bytes_per_hour = series.zip(hours).and_then(|(series, hours)| {
            // Over the whole series only: the hours are first to last.
            let (first, last) = (series.first()?.as_ref()?, series.last()?.as_ref()?);
            Some((last.bytes as f64 - first.bytes as f64) / hours)
        });
        Suspect {
            rank: 0,
            address: point.address.clone().unwrap_or_default(),
            kind: point.kind.clone().unwrap_or_default(),
            description: point.description.clone(),
            retained_bytes: point.retained_bytes,
            retained_count: point.retained_count,
            share: share(point.retained_bytes, reachable_bytes),
            growing: series.map(grows),
            retained_bytes_per_dump: series.map(|s| s.iter().map(|m| m.map(|m| m.bytes)).collect()),
            retained_count_per_dump: series.map(|s| s.iter().map(|m| m.map(|m| m.count)).collect()),
            growth_bytes_per_hour,
            owner: candidate.owner,
            accumulation_point: point,
            accumulated: candidate.accumulated,
            path: candidate.path,
            root: candidate.root,
            summary: String::new(),
        }
    }
}

/// Whether a suspect grew between every two consecutive dumps: more
/// objects each time, or more than [`GROWTH`] more bytes each time. A
/// bounded cache (as many objects, bytes up or down a little) does not.
/// A collection made after the first dumps (not found in them, then in
/// every later one) grows if it did from its first two dumps on; one
/// found in the last dump only, or with gaps, is not known to.
fn grows(series: &[Option<Measure>]) -> bool {
    let first_found = series
        .iter()
        .position(Option::is_some)
        .unwrap_or(series.len());
    let Some(found) = series[first_found..]
        .iter()
        .copied()
        .collect::<Option<Vec<Measure>>>()
    else {
        return false;
    };
    found.len() >= 2
        && (found.windows(2).all(|pair| pair[1].count > pair[0].count)
            || found
                .windows(2)
                .all(|pair| pair[1].bytes as f64 > pair[0].bytes as f64 * (1.0 + GROWTH)))
}

/// Dumps taken less than this apart (in hours) give no rate: their times
/// are more likely those of copies (a minute).
const MIN_HOURS: f64 = 1.0 / 60.0;

/// Hours from the first dump to the last, when both times are known and
/// at least a minute apart.
fn hours_between(dumps: &[DumpTime]) -> Option<f64> {
    let time = |dump: &DumpTime| chrono::DateTime::parse_from_rfc3339(dump.time.as_deref()?).ok();
    let (first, last) = (time(dumps.first()?)?, time(dumps.last()?)?);
    let hours = (last - first).num_milliseconds() as f64 / 3_600_000.0;
    (dumps.len() > 1 && hours >= MIN_HOURS).then_some(hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measures(points: &[(u64, u64)]) -> Vec<Option<Measure>> {
        points
            .iter()
            .map(|&(bytes, count)| (count > 0).then_some(Measure { bytes, count }))
            .collect()
    }

    #[test]
    fn growth_is_every_dump_more_objects_or_a_tenth_more_bytes() {
        assert!(grows(&measures(&[(100, 10), (100, 11), (100, 12)])));
        assert!(grows(&measures(&[(100, 10), (111, 10), (123, 10)])));
        // A bounded cache: as many objects, its bytes a little up.
        assert!(!grows(&measures(&[(100, 10), (102, 10), (105, 10)])));
        // Up, then down.
        assert!(!grows(&measures(&[(100, 10), (200, 20), (150, 15)])));
        // Made after the first dump, then growing (0: not found there).
        assert!(grows(&measures(&[(0, 0), (100, 10), (200, 20)])));
        // Found in the last dump only, or with a gap: not known to grow.
        assert!(!grows(&measures(&[(0, 0), (0, 0), (200, 20)])));
        assert!(!grows(&measures(&[(100, 10), (0, 0), (200, 20)])));
    }

    #[test]
    fn hours_come_from_known_times_only() {
        let dump = |time: Option<&str>| DumpTime {
            name: "d".into(),
            time: time.map(str::to_owned),
        };
        let two = [
            dump(Some("2026-11-27T10:00:00.000Z")),
            dump(Some("2026-11-27T12:30:00.000Z")),
        ];
        assert_eq!(hours_between(&two), Some(2.5));
        assert_eq!(
            hours_between(&[dump(Some("2026-11-27T10:00:00.000Z")), dump(None)]),
            None
        );
        let same = [
            dump(Some("2026-11-27T10:00:00.000Z")),
            dump(Some("2026-11-27T10:00:30.000Z")),
        ];
        assert_eq!(hours_between(&same), None);
    }
}
