//! `trend DUMP...`: how many objects each allocation site (or class) has in
//! every dump of a series, and which ones grow steadily.

use hashbrown::HashMap;
use heapsift_parse::Record;
use indexmap::IndexSet;
use serde::Serialize;

use crate::classes::ClassNames;
use heapsift_scan::Locations;
use heapsift_scan::RecordSink;

type FastHash = foldhash::fast::RandomState;

/// What a trend row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrendGrouping {
    /// One row per type and allocation site (`file:line`).
    Location,
    /// One row per type and class name.
    Class,
}

/// Objects of one type in one group of one dump.
#[derive(Debug, Clone)]
struct KindTally {
    kind: Box<[u8]>,
    count: u64,
    bytes: u64,
}

/// The tallies of a group, one per type; groups hold one to a few types,
/// so a vector searched front to back beats a map.
type Tallies = Vec<KindTally>;

fn add_to(tallies: &mut Tallies, kind: &[u8], count: u64, bytes: u64) {
    match tallies.iter_mut().find(|t| *t.kind == *kind) {
        Some(tally) => {
            tally.count += count;
            tally.bytes += bytes;
        }
        None => tallies.push(KindTally {
            kind: kind.into(),
            count,
            bytes,
        }),
    }
}

fn absorb_tallies(into: &mut Tallies, from: Tallies) {
    for tally in from {
        add_to(into, &tally.kind, tally.count, tally.bytes);
    }
}

/// One thread's share of one dump's counts.
#[derive(Debug)]
pub struct TrendSink {
    grouping: TrendGrouping,
    /// Traced objects by allocation site (for [`TrendGrouping::Location`]).
    sites: Locations<Tallies>,
    /// Objects without an allocation site.
    untraced: Tallies,
    /// Objects by the text of their `class` field, empty for none (for
    /// [`TrendGrouping::Class`]); names are looked up once per class at the
    /// end.
    classes: HashMap<Vec<u8>, Tallies, FastHash>,
    class_names: ClassNames,
}

impl TrendSink {
    /// A sink counting by `grouping`.
    pub fn new(grouping: TrendGrouping) -> Self {
        TrendSink {
            grouping,
            sites: Locations::default(),
            untraced: Tallies::new(),
            classes: HashMap::default(),
            class_names: ClassNames::default(),
        }
    }
}

impl RecordSink for TrendSink {
    fn record(&mut self, record: &Record<'_>) {
        // ROOT records are not objects.
        if record.address.is_none() {
            return;
        }
        let bytes = record.memsize_or_zero();
        let tallies = match self.grouping {
            TrendGrouping::Location => match record.file {
                Some(file) => {
                    let index = self.sites.index_of(file, record.line);
                    &mut self.sites[index]
                }
                None => &mut self.untraced,
            },
            TrendGrouping::Class => {
                self.class_names.note(record);
                self.classes
                    .entry_ref(record.class.unwrap_or_default())
                    .or_default()
            }
        };
        add_to(tallies, record.kind, 1, bytes);
    }
}

/// A row's identity: the type and the site or class name (`None`:
/// untraced, or no named class).
type GroupKey = (String, Option<String>);

/// One dump's objects and bytes per group, merged from the sinks that
/// read it; several dumps can be read and merged at once.
#[derive(Debug, Default, Clone)]
pub struct DumpCounts(HashMap<GroupKey, (u64, u64), FastHash>);

impl DumpCounts {
    /// Merges the sinks of every reading thread.
    pub fn from_sinks(sinks: Vec<TrendSink>) -> Self {
        let mut merged = HashMap::<GroupKey, (u64, u64), FastHash>::default();
        let mut add = |kind: &[u8], group: Option<String>, count: u64, bytes: u64| {
            let key = (String::from_utf8_lossy(kind).into_owned(), group);
            let entry = merged.entry(key).or_default();
            entry.0 += count;
            entry.1 += bytes;
        };
        let mut sites = Locations::<Tallies>::default();
        let mut untraced = Tallies::new();
        let mut classes = HashMap::<Vec<u8>, Tallies, FastHash>::default();
        let mut class_names = ClassNames::default();
        for sink in sinks {
            sites.absorb(sink.sites, absorb_tallies);
            absorb_tallies(&mut untraced, sink.untraced);
            for (class, tallies) in sink.classes {
                absorb_tallies(classes.entry(class).or_default(), tallies);
            }
            class_names.absorb(sink.class_names);
        }
        for (name, tallies) in sites.names().into_iter().zip(sites.values()) {
            for tally in tallies {
                add(&tally.kind, Some(name.clone()), tally.count, tally.bytes);
            }
        }
        for tally in &untraced {
            add(&tally.kind, None, tally.count, tally.bytes);
        }
        let class_index = class_names.index();
        for (class, tallies) in &classes {
            let name = class_index
                .name(class)
                .map(|name| String::from_utf8_lossy(name).into_owned());
            for tally in tallies {
                add(&tally.kind, name.clone(), tally.count, tally.bytes);
            }
        }
        DumpCounts(merged)
    }
}

/// Counts of a series of dumps, added one dump at a time; [`Trend::report`]
/// ranks them.
#[derive(Debug)]
pub struct Trend {
    grouping: TrendGrouping,
    dumps: Vec<String>,
    rss_bytes: Vec<Option<u64>>,
    groups: IndexSet<GroupKey, FastHash>,
    /// Per dump: (group, count, bytes) for every group it has.
    counts: Vec<Vec<(u32, u64, u64)>>,
}

impl Trend {
    /// An empty series counting by `grouping`.
    pub fn new(grouping: TrendGrouping) -> Self {
        Trend {
            grouping,
            dumps: Vec::new(),
            rss_bytes: Vec::new(),
            groups: IndexSet::default(),
            counts: Vec::new(),
        }
    }

    /// Adds the next dump of the series, with the process's RSS when it
    /// dumped if its context record says.
    pub fn add_dump(&mut self, name: String, counts: DumpCounts, rss_bytes: Option<u64>) {
        let mut counts: Vec<(u32, u64, u64)> = counts
            .0
            .into_iter()
            .map(|(key, (count, bytes))| (self.groups.insert_full(key).0 as u32, count, bytes))
            .collect();
        counts.sort_unstable_by_key(|&(group, ..)| group);
        self.dumps.push(name);
        self.rss_bytes.push(rss_bytes);
        self.counts.push(counts);
    }

    /// Every group ranked: steady ones first, each part by bytes gained
    /// from the first dump to the last (then objects gained, then type and
    /// name); the first `top` rows in full.
    pub fn report(self, top: usize) -> TrendReport {
        let groups = self.groups.len();
        let dumps = self.dumps.len();
        // One pass over the dumps keeps a few numbers per group; the full
        // series is gathered only for the rows shown.
        let mut previous = vec![0u64; groups];
        let mut steady = vec![true; groups];
        let mut first_count = vec![0u64; groups];
        let mut first_bytes = vec![0u64; groups];
        let mut last_count = vec![0u64; groups];
        let mut last_bytes = vec![0u64; groups];
        for (dump, counts) in self.counts.iter().enumerate() {
            let mut present = counts.iter().peekable();
            for group in 0..groups {
                let (count, bytes) = match present.next_if(|(g, ..)| *g as usize == group) {
                    Some(&(_, count, bytes)) => (count, bytes),
                    None => (0, 0),
                };
                if dump == 0 {
                    first_count[group] = count;
                    first_bytes[group] = bytes;
                } else if count <= previous[group] {
                    steady[group] = false;
                }
                previous[group] = count;
                if dump + 1 == dumps {
                    last_count[group] = count;
                    last_bytes[group] = bytes;
                }
            }
        }
        let steady_groups = steady.iter().filter(|&&s| s).count();
        let growth = |group: usize| {
            (
                last_bytes[group] as i64 - first_bytes[group] as i64,
                last_count[group] as i64 - first_count[group] as i64,
            )
        };
        let mut order: Vec<usize> = (0..groups).collect();
        order.sort_by(|&a, &b| {
            steady[b]
                .cmp(&steady[a])
                .then_with(|| growth(b).cmp(&growth(a)))
                .then_with(|| self.groups[a].cmp(&self.groups[b]))
        });
        order.truncate(top);

        let mut rows: Vec<TrendRow> = order
            .iter()
            .map(|&group| {
                let (kind, name) = self.groups[group].clone();
                let (location, class_name) = match self.grouping {
                    TrendGrouping::Location => (name, None),
                    TrendGrouping::Class => (None, name),
                };
                TrendRow {
                    kind,
                    location,
                    class_name,
                    counts: vec![0; dumps],
                    bytes: vec![0; dumps],
                    steady: steady[group],
                    growth_bytes: growth(group).0,
                }
            })
            .collect();
        let row_of: HashMap<u32, usize> = order
            .iter()
            .enumerate()
            .map(|(row, &group)| (group as u32, row))
            .collect();
        for (dump, counts) in self.counts.iter().enumerate() {
            for (group, count, bytes) in counts {
                if let Some(&row) = row_of.get(group) {
                    rows[row].counts[dump] = *count;
                    rows[row].bytes[dump] = *bytes;
                }
            }
        }
        TrendReport {
            by: self.grouping,
            dumps: self.dumps,
            rss_bytes: self.rss_bytes,
            groups,
            steady_groups,
            rows,
        }
    }
}

/// The `trend` report.
#[derive(Debug, Clone, Serialize)]
pub struct TrendReport {
    /// What the rows stand for.
    pub by: TrendGrouping,
    /// The dumps, in the order of the series.
    pub dumps: Vec<String>,
    /// The process's RSS when it took each dump, in bytes, from the dumps'
    /// context records (`None` for a dump without one).
    pub rss_bytes: Vec<Option<u64>>,
    /// How many groups the dumps have in all.
    pub groups: usize,
    /// How many of them grew steadily.
    pub steady_groups: usize,
    /// The top groups, steady ones first.
    pub rows: Vec<TrendRow>,
}

/// One group through the series.
#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    /// The objects' type, e.g. `STRING`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The allocation site `file:line` (by location; `None` for objects
    /// allocated while tracing was off).
    pub location: Option<String>,
    /// The class name (by class; `None` for objects without a named class).
    pub class_name: Option<String>,
    /// Objects in each dump.
    pub counts: Vec<u64>,
    /// Their memsize in each dump, in bytes.
    pub bytes: Vec<u64>,
    /// Whether the count rose between every two consecutive dumps.
    pub steady: bool,
    /// Bytes in the last dump minus bytes in the first.
    pub growth_bytes: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapsift_parse::{Parsed, parse_line};

    fn sink_of(grouping: TrendGrouping, lines: &[&str]) -> TrendSink {
        let mut sink = TrendSink::new(grouping);
        for line in lines {
            match parse_line(line.as_bytes()) {
                Parsed::Record { record, .. } => sink.record(&record),
                other => panic!("not a record: {line} ({other:?})"),
            }
        }
        sink
    }

    fn string_at(address: u32, file: &str, line: u32, bytes: u32) -> String {
        format!(
            r#"{{"address":"0x{address:x}", "type":"STRING", "file":"{file}", "line":{line}, "memsize":{bytes}}}"#
        )
    }

    /// Dumps with `counts[i]` strings of 40 bytes at a.rb:1 and
    /// `others[i]` of 100 bytes at b.rb:2.
    fn series(counts: &[u32], others: &[u32]) -> TrendReport {
        let mut trend = Trend::new(TrendGrouping::Location);
        for (dump, (&a, &b)) in counts.iter().zip(others).enumerate() {
            let lines: Vec<String> = (0..a)
                .map(|i| string_at(i, "a.rb", 1, 40))
                .chain((0..b).map(|i| string_at(1000 + i, "b.rb", 2, 100)))
                .collect();
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            // Two sinks, as two reading threads would fill them.
            let (front, back) = lines.split_at(lines.len() / 2);
            let sinks = vec![
                sink_of(TrendGrouping::Location, front),
                sink_of(TrendGrouping::Location, back),
            ];
            trend.add_dump(format!("{dump}.dump"), DumpCounts::from_sinks(sinks), None);
        }
        trend.report(10)
    }

    #[test]
    fn steady_rows_come_first_even_when_others_gained_more() {
        let report = series(&[1, 2, 3], &[1, 5, 4]);
        let rows: Vec<(&str, bool, i64, &[u64])> = report
            .rows
            .iter()
            .map(|r| {
                let location = r.location.as_deref().unwrap();
                (location, r.steady, r.growth_bytes, &r.counts[..])
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("a.rb:1", true, 80, &[1, 2, 3][..]),
                ("b.rb:2", false, 300, &[1, 5, 4][..])
            ]
        );
        assert_eq!(report.steady_groups, 1);
        assert_eq!(report.rows[1].bytes, [100, 500, 400]);
    }

    #[test]
    fn a_flat_step_or_an_absence_is_not_steady() {
        assert!(!series(&[1, 1, 2], &[0, 0, 0]).rows[0].steady);
        // Absent from the middle dump: counted as 0 there.
        let report = series(&[2, 0, 3], &[1, 2, 3]);
        let a = report
            .rows
            .iter()
            .find(|r| r.location.as_deref() == Some("a.rb:1"));
        assert_eq!(a.unwrap().counts, [2, 0, 3]);
        assert!(!a.unwrap().steady);
        // Absent from the first dump only: rising from nothing.
        let report = series(&[0, 1, 2], &[3, 3, 3]);
        assert_eq!(report.rows[0].location.as_deref(), Some("a.rb:1"));
        assert!(report.rows[0].steady);
    }

    #[test]
    fn shrinking_groups_rank_last_and_top_cuts() {
        let report = series(&[5, 4, 3], &[1, 1, 2]);
        assert_eq!(report.rows[1].growth_bytes, -80);
        let mut trend = Trend::new(TrendGrouping::Location);
        let sinks = vec![sink_of(TrendGrouping::Location, &[])];
        trend.add_dump("only".into(), DumpCounts::from_sinks(sinks), None);
        assert!(trend.report(5).rows.is_empty());
    }

    #[test]
    fn by_class_names_objects_by_their_class_record() {
        let class = r#"{"address":"0x10", "type":"CLASS", "name":"Issue", "memsize":200}"#;
        let object = |address: u32| {
            format!(
                r#"{{"address":"0x{address:x}", "type":"OBJECT", "class":"0x10", "memsize":40}}"#
            )
        };
        let anonymous = r#"{"address":"0x90", "type":"OBJECT", "class":"0x20", "memsize":40}"#;
        let mut trend = Trend::new(TrendGrouping::Class);
        for objects in [1u32, 3] {
            let mut lines: Vec<String> = (0..objects).map(|i| object(0x100 + i)).collect();
            lines.push(class.to_owned());
            lines.push(anonymous.to_owned());
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            let sinks = vec![sink_of(TrendGrouping::Class, &lines)];
            trend.add_dump("d".into(), DumpCounts::from_sinks(sinks), None);
        }
        let report = trend.report(10);
        let issue = &report.rows[0];
        assert_eq!(
            (
                issue.kind.as_str(),
                issue.class_name.as_deref(),
                issue.location.as_deref()
            ),
            ("OBJECT", Some("Issue"), None)
        );
        assert_eq!((issue.counts.as_slice(), issue.steady), (&[1, 3][..], true));
        let unnamed: Vec<_> = report
            .rows
            .iter()
            .filter(|r| r.class_name.is_none())
            .collect();
        assert_eq!(
            unnamed.len(),
            2,
            "the CLASS record itself and the anonymous object"
        );
    }
}
