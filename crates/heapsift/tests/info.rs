//! `heapsift info`, and the dumps' context records in the commands that
//! take a folder store: `list` (dumps only, with RSS), `fetch` (the record
//! along), `trend` (`rss_bytes`). The same over S3 is in tests/store.rs.

mod common;

use std::path::Path;

use common::{
    agent_dump, context_record, fixture, gunzip, heapsift, rails, record_path, scratch,
    write_record,
};
use serde_json::Value;

fn info_json(dump: impl AsRef<std::ffi::OsStr>) -> Value {
    heapsift(&["info"])
        .arg(dump)
        .args(["--format", "json"])
        .json()
}

#[test]
fn each_rubys_dump_is_placed_in_its_version_by_its_format() {
    let expected = [
        ("3.1", Value::Null, "3.1"),
        ("3.2", "3.2".into(), "3.2"),
        ("3.3", "3.3".into(), "3.3"),
        ("3.4", "3.4".into(), "3.4"),
        ("4.0", "4.0".into(), ""),
    ];
    for (version, min, max) in expected {
        let dump = fixture(&format!("versions/{version}.dump.gz"));
        let ruby = &info_json(&dump)["ruby"];
        let max = if max.is_empty() {
            Value::Null
        } else {
            max.into()
        };
        assert_eq!(
            (&ruby["min"], &ruby["max"]),
            (&min, &max),
            "{version}: {ruby}"
        );
        assert_eq!(ruby["contradictory"], false, "{version}");
        assert!(
            !ruby["decisive"].as_array().unwrap().is_empty(),
            "{version}"
        );
    }
    // A dump written by hand with fields of several versions is not placed.
    let edge = info_json(fixture("edge/1.dump.gz"));
    assert!(
        edge["ruby"]["min"].is_null() && edge["ruby"]["max"].is_null(),
        "{}",
        edge["ruby"]
    );
}

#[test]
fn info_counts_what_the_other_reports_count() {
    for dump in [
        rails(3),
        fixture("versions/3.4.dump.gz").display().to_string(),
    ] {
        let info = info_json(&dump);
        let retained = heapsift(&["retained", &dump, "--format", "json"]).json();
        let objects = retained["reachable"]["objects"].as_u64().unwrap()
            + retained["unreachable"]["objects"].as_u64().unwrap();
        assert_eq!(info["objects"].as_u64(), Some(objects), "{dump}");
        assert_eq!(info["objects_bytes"], retained["total_bytes"], "{dump}");
        let types = info["types"].as_array().unwrap();
        let by_type: u64 = types.iter().map(|t| t["objects"].as_u64().unwrap()).sum();
        assert_eq!(Some(by_type), info["objects"].as_u64());
        let bytes: Vec<u64> = types.iter().map(|t| t["bytes"].as_u64().unwrap()).collect();
        assert!(bytes.windows(2).all(|w| w[0] >= w[1]), "most bytes first");

        // Traced objects are those `read DUMP all` counts.
        let all = heapsift(&["read", &dump, "all", "--format", "json"]).json();
        assert_eq!(info["traced"]["objects"], all["object_count"]["total"]);
        assert_eq!(info["traced"]["bytes"], all["allocated_by_memory"]["total"]);
        let share = info["traced"]["objects_share"].as_f64().unwrap();
        let expected =
            info["traced"]["objects"].as_f64().unwrap() / info["objects"].as_f64().unwrap();
        assert!((share - expected).abs() < 1e-9);

        // The span of generations is that of `read DUMP`.
        let summary = heapsift(&["read", &dump, "--format", "json"]).json();
        let generations: Vec<u64> = summary["generations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["generation"].as_u64())
            .collect();
        assert_eq!(
            info["generations"]["min"].as_u64(),
            generations.first().copied()
        );
        assert_eq!(
            info["generations"]["max"].as_u64(),
            generations.last().copied()
        );
    }
}

#[test]
fn without_a_context_record_info_says_where_it_looked() {
    let dir = scratch("info-no-record");
    let dump = dir.join("prod.dump.gz");
    std::fs::copy(rails(1), &dump).unwrap();
    let json = info_json(&dump);
    let record = dir.join("prod.json");
    assert_eq!(json["context_url"], record.to_str().unwrap());
    for absent in ["context", "process", "gap_bytes"] {
        assert!(json[absent].is_null(), "{absent}: {}", json[absent]);
    }
    let text = heapsift(&["info", dump.to_str().unwrap()]).stdout();
    assert!(
        text.contains(&format!("No context record ({})", record.display())),
        "{text}"
    );

    // stdin has no place for one.
    let from_stdin = heapsift(&["info", "-", "--format", "json"])
        .stdin(gunzip(Path::new(&rails(1))))
        .json();
    assert!(from_stdin["context_url"].is_null() && from_stdin["context"].is_null());
    assert_eq!(from_stdin["objects"], json["objects"]);
}

#[test]
fn info_sets_rss_against_the_objects_from_the_record_beside_the_dump() {
    let store = scratch("info-record");
    let time = "2026-11-27T14:03:09.512Z";
    let dump = agent_dump(&store, "web.1", time, 4242, Path::new(&rails(3)));
    let rss: u64 = 1_395_864_371;
    let record = context_record("web.1", time, 4242, rss, "after deploy");
    write_record(&dump, &record);

    let json = info_json(&dump);
    let stored: Value = serde_json::from_str(&record).unwrap();
    assert_eq!(json["context"], stored, "the record as stored");
    assert_eq!(json["context"]["a_field_of_a_later_version"]["kept"], true);
    // In the order stored, too.
    let fields: Vec<&String> = json["context"].as_object().unwrap().keys().collect();
    assert_eq!(fields.first().map(|f| f.as_str()), Some("version"));
    assert_eq!(
        fields.last().map(|f| f.as_str()),
        Some("a_field_of_a_later_version")
    );
    let objects = json["objects_bytes"].as_i64().unwrap();
    assert!(objects > 1_000_000, "{objects}");
    assert_eq!(json["gap_bytes"].as_i64(), Some(rss as i64 - objects));
    let process = &json["process"];
    assert_eq!(process["rss_bytes"].as_u64(), Some(rss));
    assert_eq!(process["rss_peak_bytes"].as_u64(), Some(rss + 4096));
    assert_eq!(process["trigger"], "signal");
    assert_eq!(
        process["triggered_by"],
        "a signal: \"after deploy\" (request 9f0c1d2e3f405162)"
    );

    let text = heapsift(&["info", dump.to_str().unwrap()]).stdout();
    let gap = format!(
        "The Ruby heap's objects account for {} of 1.3 GB RSS; {} are outside Ruby objects",
        human(objects as u64),
        human(rss - objects as u64)
    );
    // Sentences wrap; compare them with the lines joined.
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for said in [
        gap.as_str(),
        "native memory or fragmentation, which a heap dump cannot show.",
        "Dumped on a signal: \"after deploy\" (request 9f0c1d2e3f405162)",
        "RSS 1.3 GB, peak RSS 1.3 GB, memory limit 512.0 MB (RSS at 260 % of it)",
        "The GC's heap pages: 30.0 MB, 2 % of RSS",
        "web.1 pid 4242 at 2026-11-27T14:03:09.512Z: ruby 3.1.2p20",
    ] {
        assert!(joined.contains(said), "{said:?} not in:\n{text}");
    }
}

/// `human_bytes` as heapsift writes it, for expectations.
fn human(bytes: u64) -> String {
    let units = ["KB", "MB", "GB"];
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

#[test]
fn plain_and_zstd_dumps_have_their_record_beside_them_too() {
    let dir = scratch("info-record-kinds");
    let plain = gunzip(Path::new(&rails(1)));
    let zstd = zstd::encode_all(&plain[..], 1).unwrap();
    for (name, bytes) in [("a.dump", plain), ("b.dump.zst", zstd)] {
        let dump = dir.join(name);
        std::fs::write(&dump, bytes).unwrap();
        write_record(&dump, &context_record("web.1", "t", 1, 123_456_789, name));
        let json = info_json(&dump);
        assert_eq!(json["context"]["trigger"]["message"], name);
        assert_eq!(json["process"]["rss_bytes"], 123_456_789);
    }
}

#[test]
fn a_record_that_is_not_json_is_a_warning_and_left_out() {
    let dir = scratch("info-bad-record");
    let dump = dir.join("x.dump.gz");
    std::fs::copy(rails(1), &dump).unwrap();
    let record = write_record(&dump, "{\"rss_bytes\": 12,");
    let output = heapsift(&["info", dump.to_str().unwrap(), "--format", "json"]).succeeds();
    let warning = output.warning();
    assert!(
        warning.starts_with(&format!(
            "heapsift: {}: not a context record",
            record.display()
        )),
        "{warning}"
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["context"].is_null() && json["gap_bytes"].is_null());
}

/// A folder store: two processes' dumps, a record beside all but one, and
/// files that are not dumps. Returns (the store, the dumps oldest first).
fn store_with_records(name: &str) -> (std::path::PathBuf, Vec<std::path::PathBuf>) {
    let store = scratch(name);
    let dumps: Vec<_> = [
        ("2026-11-27T10:00:00.000Z", 21, 1, Some(500_000_000)),
        ("2026-11-27T11:00:00.000Z", 21, 2, None),
        ("2026-11-27T12:00:00.000Z", 21, 3, Some(700_000_000)),
        ("2026-11-27T11:30:00.000Z", 22, 1, Some(650_000_000)),
    ]
    .into_iter()
    .map(|(time, pid, n, rss)| {
        let dump = agent_dump(&store, "web.1", time, pid, Path::new(&rails(n)));
        if let Some(rss) = rss {
            write_record(&dump, &context_record("web.1", time, pid, rss, "hourly"));
        }
        dump
    })
    .collect();
    std::fs::write(store.join("web.1/notes.txt"), "not a dump").unwrap();
    std::fs::write(store.join("web.1/orphan.json"), "{}").unwrap();
    std::fs::write(store.join("web.1/x.dump.gz.partial-77"), "half").unwrap();
    (store, dumps)
}

#[test]
fn list_shows_dumps_only_each_with_its_rss() {
    let (store, dumps) = store_with_records("list-records");
    let listed = heapsift(&["list", store.to_str().unwrap(), "--format", "json"]).json();
    let rows = listed.as_array().unwrap();
    let urls: Vec<&str> = rows.iter().map(|r| r["url"].as_str().unwrap()).collect();
    // Newest first: 12:00, 11:30 (pid 22), 11:00, 10:00.
    let wanted: Vec<&str> = [2, 3, 1, 0]
        .iter()
        .map(|&i| dumps[i].to_str().unwrap())
        .collect();
    assert_eq!(urls, wanted);
    assert_eq!(rows[0]["context"]["rss_bytes"], 700_000_000);
    assert_eq!(
        rows[0]["context"]["a_field_of_a_later_version"]["kept"],
        true
    );
    assert!(rows[2]["context"].is_null(), "11:00 has no record");

    let text = heapsift(&["list", store.to_str().unwrap()]).stdout();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["TIME", "DYNO", "PID", "SIZE", "RSS", "URL"]);
    let rss: Vec<&str> = lines[1..]
        .iter()
        .map(|line| line.split_whitespace().nth(5).unwrap())
        .collect();
    // `human_bytes`: 700,000,000 bytes are 667.6 MB.
    assert_eq!(rss, ["667.6", "619.9", "-", "476.8"], "{text}");
}

#[test]
fn commands_over_a_store_skip_its_records_and_trend_gives_their_rss() {
    let (store, dumps) = store_with_records("trend-records");
    let store = store.to_str().unwrap();
    let trend = heapsift(&["trend", store, "--pid", "21", "--format", "json"]).json();
    let names: Vec<&str> = trend["dumps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let wanted: Vec<&str> = dumps[..3].iter().map(|d| d.to_str().unwrap()).collect();
    assert_eq!(names, wanted);
    assert_eq!(
        trend["rss_bytes"],
        serde_json::json!([500_000_000, null, 700_000_000])
    );
    // Named dumps bring their records along too.
    let named = heapsift(&["trend", &rails(1), wanted[0], "--format", "json"]).json();
    assert_eq!(named["rss_bytes"], serde_json::json!([null, 500_000_000]));

    // The one-process rule counts dumps, not records.
    heapsift(&["diff", store])
        .fails(2)
        .assert_contains("web.1 pid 21 (3 dumps,")
        .assert_contains("web.1 pid 22 (1 dump,");
    heapsift(&["suspects", store, "--pid", "21", "--top", "1"]).succeeds();
}

#[test]
fn fetch_brings_the_record_along_under_the_same_rules() {
    let (_store, dumps) = store_with_records("fetch-records");
    let dump = &dumps[0];
    let dest = scratch("fetch-records-dest");

    let output = heapsift(&["fetch", dump.to_str().unwrap(), dest.to_str().unwrap()]).succeeds();
    let copy = dest.join(dump.file_name().unwrap());
    let record_copy = record_path(&copy);
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(dump).unwrap());
    assert_eq!(
        std::fs::read(&record_copy).unwrap(),
        std::fs::read(record_path(dump)).unwrap()
    );
    output.assert_stderr_contains(&format!(
        "fetched its context record {} to {}",
        record_path(dump).display(),
        record_copy.display()
    ));

    // Under another name: the record takes its stem.
    let renamed = dest.join("before.dump.gz");
    heapsift(&["fetch", dump.to_str().unwrap(), renamed.to_str().unwrap()]).succeeds();
    assert!(dest.join("before.json").is_file());

    // An existing record is not replaced without --force, and then the
    // dump is not fetched either.
    let other = dest.join("other.dump.gz");
    std::fs::write(dest.join("other.json"), "mine").unwrap();
    heapsift(&["fetch", dump.to_str().unwrap(), other.to_str().unwrap()])
        .fails(2)
        .assert_contains("other.json: exists already; pass --force");
    assert!(!other.exists());
    assert_eq!(std::fs::read(dest.join("other.json")).unwrap(), b"mine");
    heapsift(&[
        "fetch",
        dump.to_str().unwrap(),
        other.to_str().unwrap(),
        "--force",
    ])
    .succeeds();
    assert_ne!(std::fs::read(dest.join("other.json")).unwrap(), b"mine");

    // A dump without a record is fetched alone, saying nothing of one.
    let lone = heapsift(&["fetch", dumps[1].to_str().unwrap(), dest.to_str().unwrap()])
        .succeeds()
        .warning();
    assert!(lone.starts_with("heapsift: fetched "), "{lone}");
    assert!(!record_path(&dest.join(dumps[1].file_name().unwrap())).exists());

    // A record that is not one is not copied, with a warning.
    std::fs::write(record_path(&dumps[3]), "<html>").unwrap();
    let broken = heapsift(&["fetch", dumps[3].to_str().unwrap(), dest.to_str().unwrap()])
        .succeeds()
        .stderr_text();
    assert!(broken.contains("not a context record"), "{broken}");
    assert!(!record_path(&dest.join(dumps[3].file_name().unwrap())).exists());
}
