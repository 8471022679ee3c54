//! The reports across dumps: `trend` and `diff`.

use std::io::{self, Write};

use heapsift_input::{Opened, ReadOptions};
use heapsift_reports::{DiffReport, DiffSink, Identities, Trend, TrendReport, TrendSink};
use heapsift_scan::{HasStats, ScanError, ScanStats, scan_in_order, scan_records};

use crate::{QueryError, TrendBy};

/// Which sites (or classes) grow from dump to dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendQuery {
    /// One row per type and site, or per type and class.
    pub by: TrendBy,
    /// How many rows.
    pub top: usize,
}

impl TrendQuery {
    /// Rows unless asked otherwise.
    pub const DEFAULT_TOP: usize = 20;

    /// Refuses a series too short for a trend, before any is read.
    pub fn check_series(&self, dumps: usize) -> Result<(), QueryError> {
        if dumps < 2 {
            return Err(QueryError::Invalid(format!(
                "a trend needs 2 dumps or more; {dumps} given"
            )));
        }
        Ok(())
    }

    /// What a reading of each dump collects.
    pub fn sink(&self) -> TrendSink {
        TrendSink::new(self.by.into())
    }

    /// An empty series to add each dump's counts to, in order.
    pub fn series(&self) -> Trend {
        Trend::new(self.by.into())
    }

    /// The report of the whole series.
    pub fn report(&self, series: Trend) -> TrendReport {
        series.report(self.top)
    }
}

/// What was allocated between BEFORE and AFTER (and is still in RETAINED),
/// with the dumps named however the caller names them (paths, numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffQuery<D> {
    /// The earlier dump.
    pub before: D,
    /// The dump whose new objects are counted.
    pub after: D,
    /// A later dump: only the new objects it still has are kept.
    pub retained: Option<D>,
}

impl<D> DiffQuery<D> {
    /// BEFORE, AFTER and RETAINED from a list of two or three dumps.
    pub fn from_list(dumps: Vec<D>) -> Result<Self, QueryError> {
        let mut dumps = dumps.into_iter();
        match (dumps.next(), dumps.next(), dumps.next(), dumps.next()) {
            (Some(before), Some(after), retained, None) => Ok(DiffQuery {
                before,
                after,
                retained,
            }),
            _ => Err(QueryError::Invalid(
                "diff takes BEFORE AFTER [RETAINED], or one store".into(),
            )),
        }
    }

    /// The dumps in order, with the role of each.
    fn roles(&self) -> Vec<(&'static str, &D)> {
        let mut roles = vec![("BEFORE", &self.before), ("AFTER", &self.after)];
        roles.extend(self.retained.as_ref().map(|d| ("RETAINED", d)));
        roles
    }

    /// What looks wrong with the dumps chosen, in sentences: one dump
    /// given twice (it has nothing new against itself), or dumps out of
    /// time order where `time` knows when they were taken
    /// (`YYYY-MM-DDTHH:MM:SS.sssZ`). `same` tells whether two are one dump.
    pub fn warnings(
        &self,
        name: impl Fn(&D) -> String,
        same: impl Fn(&D, &D) -> bool,
        time: impl Fn(&D) -> Option<String>,
    ) -> Vec<String> {
        let roles = self.roles();
        let mut warnings = Vec::new();
        for (i, (first_role, first)) in roles.iter().enumerate() {
            for (second_role, second) in &roles[i + 1..] {
                if same(first, second) {
                    warnings.push(format!(
                        "{} is both {first_role} and {second_role}: a dump has nothing new against itself",
                        name(first)
                    ));
                }
            }
        }
        for pair in roles.windows(2) {
            let [(first_role, first), (second_role, second)] = pair else {
                continue;
            };
            if let (Some(earlier), Some(later)) = (time(first), time(second))
                && earlier > later
            {
                warnings.push(format!(
                    "{first_role} {} was taken at {earlier}, after {second_role} {} ({later}): diff takes the dumps oldest first",
                    name(first),
                    name(second)
                ));
            }
        }
        warnings
    }
}

/// A reading of AFTER for a diff.
#[derive(Debug)]
pub struct DiffReading {
    /// The report.
    pub report: DiffReport,
    /// What reading AFTER found.
    pub stats: ScanStats,
    /// How writing the kept lines went (bytes written), when asked to.
    pub kept_lines: Option<io::Result<u64>>,
}

impl HasStats for DiffReading {
    fn stats(&self) -> &ScanStats {
        &self.stats
    }
}

/// The diff: reads AFTER once, counting the records BEFORE lacks (and
/// RETAINED has), and writes their lines to `kept_lines` in AFTER's order
/// as they come, when given. The one implementation behind `heapsift diff`
/// and the web UI's diff.
pub fn diff_after(
    after: Opened,
    options: &ReadOptions,
    before: &Identities,
    retained: Option<&Identities>,
    kept_lines: Option<&mut (dyn Write + Send)>,
) -> Result<DiffReading, ScanError> {
    let sink = || DiffSink::new(before, retained);
    Ok(match kept_lines {
        None => {
            let scanned = scan_records(after, options, sink)?;
            DiffReading {
                report: DiffReport::from_sinks(scanned.sinks),
                stats: scanned.stats,
                kept_lines: None,
            }
        }
        Some(out) => {
            let scanned = scan_in_order(after, options, out, |output| sink().writing(output))?;
            DiffReading {
                report: DiffReport::from_sinks(scanned.sinks),
                stats: scanned.stats,
                kept_lines: Some(scanned.written),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_given_twice_or_out_of_order_is_said() {
        let query = DiffQuery::from_list(vec!["a", "b", "a"]).unwrap();
        let time = |d: &&str| {
            Some(
                if *d == "a" {
                    "2026-01-02"
                } else {
                    "2026-01-01"
                }
                .to_owned(),
            )
        };
        let warnings = query.warnings(|d| d.to_string(), |x, y| x == y, time);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("a is both BEFORE and RETAINED"));
        assert!(warnings[1].starts_with("BEFORE a was taken at 2026-01-02, after AFTER b"));
        let fine = DiffQuery::from_list(vec!["b", "a"]).unwrap();
        assert!(
            fine.warnings(|d| d.to_string(), |x, y| x == y, time)
                .is_empty()
        );
        assert!(DiffQuery::from_list(vec!["a"]).is_err());
    }
}
