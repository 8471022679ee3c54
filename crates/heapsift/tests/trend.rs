//! `heapsift trend`: counts per site and class checked against the dumps
//! read independently, the leaking sites of the rails fixtures ranked
//! first, series from folder stores with --dyno/--pid, --sort time, and
//! diff of a store's newest dumps.

mod common;

use std::collections::HashMap;
use std::fs::{File, FileTimes};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::{expected, gunzip, heapsift, rails, scratch};
use serde_json::Value;

/// (type, group) -> (count, bytes) of a dump, read with serde_json:
/// `group` is `file:line` or the class name.
fn independent_counts(
    dump: &Path,
    by_class: bool,
) -> HashMap<(String, Option<String>), (u64, u64)> {
    let text = gunzip(dump);
    let records: Vec<Value> = text
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).expect("fixture lines are JSON"))
        .filter(|record: &Value| record.get("address").is_some())
        .collect();
    let class_names: HashMap<&str, &str> = records
        .iter()
        .filter(|r| r["type"] == "CLASS")
        .filter_map(|r| Some((r["address"].as_str()?, r["name"].as_str()?)))
        .collect();
    let mut counts = HashMap::new();
    for record in &records {
        let group = if by_class {
            record["class"]
                .as_str()
                .and_then(|class| class_names.get(class))
                .map(|name| name.to_string())
        } else {
            record["file"]
                .as_str()
                .map(|file| format!("{file}:{}", record["line"].as_u64().unwrap()))
        };
        let key = (record["type"].as_str().unwrap().to_owned(), group);
        let entry: &mut (u64, u64) = counts.entry(key).or_default();
        entry.0 += 1;
        entry.1 += record["memsize"].as_u64().unwrap_or(0);
    }
    counts
}

#[test]
fn counts_and_bytes_match_the_dumps_for_every_group() {
    let dumps = [rails(1), rails(2), rails(3)];
    for by in ["location", "class"] {
        let mut args = vec!["trend", "--by", by, "--top", "100000", "--format", "json"];
        args.extend(dumps.iter().map(String::as_str));
        let report = heapsift(&args).json();
        let expected: Vec<_> = dumps
            .iter()
            .map(|d| independent_counts(Path::new(d), by == "class"))
            .collect();
        let rows = report["rows"].as_array().unwrap();
        let groups: std::collections::HashSet<_> = expected.iter().flat_map(|e| e.keys()).collect();
        assert_eq!(rows.len(), groups.len(), "--by {by}: every group has a row");
        assert_eq!(report["groups"], groups.len());
        for row in rows {
            let name = match by {
                "location" => &row["location"],
                _ => &row["class_name"],
            };
            let key = (
                row["type"].as_str().unwrap().to_owned(),
                name.as_str().map(str::to_owned),
            );
            for (dump, counts) in expected.iter().enumerate() {
                let (count, bytes) = counts.get(&key).copied().unwrap_or_default();
                assert_eq!(
                    row["counts"][dump], count,
                    "--by {by} {key:?} in dump {dump}"
                );
                assert_eq!(
                    row["bytes"][dump], bytes,
                    "--by {by} {key:?} in dump {dump}"
                );
            }
            let counts: Vec<u64> = (0..3).map(|d| row["counts"][d].as_u64().unwrap()).collect();
            assert_eq!(
                row["steady"],
                counts[0] < counts[1] && counts[1] < counts[2]
            );
            let bytes = |d: usize| row["bytes"][d].as_i64().unwrap();
            assert_eq!(row["growth_bytes"], bytes(2) - bytes(0));
        }
    }
}

/// (type, location) of every line of the fixture's three-dump diff: the
/// objects allocated between dumps 1 and 2 and still alive in 3.
fn leaked_sites() -> Vec<(String, String)> {
    let diff = expected("rails-small/diff-1-2-3.txt");
    diff.lines()
        .map(|line| {
            let kind = line.split(' ').nth(1).unwrap().to_owned();
            let (_, location) = line.split_once(" at: ").unwrap();
            (kind, location.to_owned())
        })
        .collect()
}

#[test]
fn the_leaking_sites_of_the_rails_fixtures_rank_first_and_steady() {
    let report = heapsift(&[
        "trend",
        &rails(1),
        &rails(2),
        &rails(3),
        "--top",
        "10",
        "--format",
        "json",
    ])
    .json();
    let leaked = leaked_sites();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 10);
    for row in rows {
        let site = (
            row["type"].as_str().unwrap().to_owned(),
            row["location"].as_str().unwrap().to_owned(),
        );
        assert_eq!(row["steady"], true, "{site:?}");
        assert!(leaked.contains(&site), "{site:?} is not a leaking site");
    }
    // The biggest leak first: the SQL result strings the cached repos keep.
    assert!(
        rows[0]["location"]
            .as_str()
            .unwrap()
            .ends_with("sqlite3/statement.rb:108")
    );
    let growth: Vec<i64> = rows
        .iter()
        .map(|r| r["growth_bytes"].as_i64().unwrap())
        .collect();
    assert!(growth.windows(2).all(|w| w[0] >= w[1]), "{growth:?}");
}

#[test]
fn text_lists_the_dumps_and_two_lines_per_group() {
    let text = heapsift(&["trend", &rails(1), &rails(2), &rails(3), "--top", "3"]).stdout();
    let lines: Vec<&str> = text.lines().collect();
    let json = heapsift(&["trend", &rails(1), &rails(2), &rails(3), "--format", "json"]).json();
    assert_eq!(
        lines[0],
        format!(
            "Trend of 3 dumps by allocation site: {} of {} groups rose in every dump (steady)",
            json["steady_groups"], json["groups"]
        )
    );
    assert_eq!(lines[1], format!("  1  {}", rails(1)));
    assert_eq!(lines[3], format!("  3  {}", rails(3)));
    assert!(lines[5].ends_with("STEADY  TYPE    LOCATION"), "{text}");
    assert_eq!(lines.len(), 6 + 2 * 3, "{text}");
    let first = &json["rows"][0];
    assert!(lines[6].contains("  steady  STRING  "), "{}", lines[6]);
    assert!(lines[6].ends_with(first["location"].as_str().unwrap()));
    let counts = &first["counts"];
    let objects = format!(
        "objects: {} {} {} (+{})",
        counts[0],
        counts[1],
        counts[2],
        counts[2].as_u64().unwrap() - counts[0].as_u64().unwrap()
    );
    assert_eq!(lines[7].trim_start(), objects);
}

#[test]
fn a_series_is_the_order_given_or_the_capture_time() {
    let dir = scratch("trend-sort");
    let copies: Vec<PathBuf> = (1..=3)
        .map(|n| {
            let copy = dir.join(format!("copy-{n}.dump.gz"));
            std::fs::copy(rails(n), &copy).unwrap();
            copy
        })
        .collect();
    // Written in the order 2, 3, 1.
    let base = SystemTime::now() - Duration::from_secs(3600);
    for (copy, minutes) in copies.iter().zip([30, 10, 20]) {
        let time = base + Duration::from_secs(60 * minutes);
        let file = File::options().write(true).open(copy).unwrap();
        file.set_times(FileTimes::new().set_modified(time)).unwrap();
    }
    let names: Vec<&str> = copies.iter().map(|c| c.to_str().unwrap()).collect();
    let given = heapsift(&["trend", names[0], names[1], names[2], "--format", "json"]).json();
    assert_eq!(given["dumps"], serde_json::json!(names));
    let by_time = heapsift(&[
        "trend", names[0], names[1], names[2], "--sort", "time", "--format", "json",
    ])
    .json();
    assert_eq!(
        by_time["dumps"],
        serde_json::json!([names[1], names[2], names[0]])
    );
    // 2, 3, 1: what rose from 1 to 3 falls back at the end.
    assert_eq!(by_time["rows"][0]["steady"], false);

    assert_eq!(
        heapsift(&["trend", "-", names[0], "--sort", "time"])
            .fails(2)
            .message(),
        "heapsift: -: stdin has no capture time to sort by"
    );
}

/// A folder laid out as the agent writes it: web.1's process 11 took the
/// three rails dumps, process 12 the first one, and web.2 one more.
fn agent_folder(name: &str) -> PathBuf {
    let dir = scratch(name);
    let put = |key: &str, n: u32| {
        let file = dir.join(key);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::copy(rails(n), file).unwrap();
    };
    put("web.1/2026-11-27T10:00:00.000Z-process:11-heap.dump.gz", 1);
    put("web.1/2026-11-27T11:00:00.000Z-process:11-heap.dump.gz", 2);
    put("web.1/2026-11-27T12:00:00.000Z-process:11-heap.dump.gz", 3);
    put("web.1/2026-11-27T11:30:00.000Z-process:12-heap.dump.gz", 1);
    put("web.2/2026-11-27T13:00:00.000Z-process:11-heap.dump.gz", 1);
    dir
}

#[test]
fn a_store_stands_for_its_dumps_oldest_first_filtered_by_dyno_and_pid() {
    let dir = agent_folder("trend-store");
    let store = dir.to_str().unwrap();
    let report = heapsift(&[
        "trend", store, "--dyno", "web.1", "--pid", "11", "--format", "json",
    ])
    .json();
    let dumps: Vec<&str> = report["dumps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let expected: Vec<String> = ["10", "11", "12"]
        .iter()
        .map(|hour| {
            dir.join(format!(
                "web.1/2026-11-27T{hour}:00:00.000Z-process:11-heap.dump.gz"
            ))
            .display()
            .to_string()
        })
        .collect();
    assert_eq!(dumps, expected);
    let direct = heapsift(&["trend", &rails(1), &rails(2), &rails(3), "--format", "json"]).json();
    assert_eq!(report["rows"], direct["rows"]);

    // Only --dyno: web.1's dumps are of two processes (pids 11 and 12),
    // which would not make a series: refused, naming both.
    heapsift(&["trend", store, "--dyno", "web.1"])
        .fails(2)
        .assert_contains("holds the dumps of 2 processes: web.1 pid 11 (3 dumps,")
        .assert_contains("web.1 pid 12 (1 dump,");

    assert_eq!(
        heapsift(&["trend", store, "--pid", "99"])
            .fails(1)
            .message(),
        format!("heapsift: {store}: no dumps for pid 99")
    );
    heapsift(&["trend", &rails(1), &rails(2), "--dyno", "web.1"])
        .fails(2)
        .assert_contains("--dyno and --pid choose among a store's dumps");
}

#[test]
fn diff_of_a_store_takes_its_newest_three_dumps() {
    let dir = agent_folder("diff-store");
    let store = dir.to_str().unwrap();
    let output = heapsift(&["diff", store, "--pid", "11", "--dyno", "web.1"]).succeeds();
    assert_eq!(output.stdout_text(), expected("rails-small/diff-1-2-3.txt"));
    let named = output.stderr_text();
    assert!(named.starts_with("heapsift: diff of "), "{named}");
    assert!(named.contains("T10:00:00.000Z-process:11"), "{named}");

    // web.1's dumps are of two processes: one worker's heap is not diffed
    // against another's.
    heapsift(&["diff", store, "--dyno", "web.1"])
        .fails(2)
        .assert_contains("holds the dumps of 2 processes");

    assert_eq!(
        heapsift(&["diff", store, "--dyno", "web.2"])
            .fails(1)
            .message(),
        "heapsift: a diff needs 2 dumps or 3; the store has 1"
    );
    heapsift(&["diff", &rails(1)]).fails(2);
}

#[test]
fn bad_series_get_one_line() {
    assert_eq!(
        heapsift(&["trend", &rails(1)]).fails(2).message(),
        "heapsift: a trend needs 2 dumps or more; 1 given"
    );
    let missing = scratch("trend-missing").join("absent.dump");
    let missing = missing.to_str().unwrap();
    heapsift(&["trend", &rails(1), missing])
        .fails(2)
        .assert_starts_with(&format!("heapsift: {missing}: "));
}
