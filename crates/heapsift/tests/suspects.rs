//! `heapsift suspects`: the leak named, on the rails example and on four
//! kinds of leak that Ruby writes during the test, each beside a bounded
//! cache bigger than the leak at first.

mod common;

use std::path::Path;

use common::{heapsift, rails, ruby, scratch};
use serde_json::Value;

/// The suspect whose collection is at `address`, if any.
fn suspect<'a>(report: &'a Value, address: &str) -> Option<&'a Value> {
    report["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["address"] == address || s["accumulation_point"]["address"] == address)
}

fn rank(suspect: &Value) -> u64 {
    suspect["rank"].as_u64().unwrap()
}

#[test]
fn the_rails_leak_is_suspect_one_and_the_tracer_is_set_apart() {
    let dumps = [rails(1), rails(2), rails(3)];
    let report = heapsift(&[
        "suspects", &dumps[0], &dumps[1], &dumps[2], "--format", "json",
    ])
    .json();
    let first = &report["suspects"][0];
    assert_eq!(first["rank"], 1);
    assert_eq!(first["growing"], true, "{first}");
    assert_eq!(first["accumulation_point"]["address"], "0x7fd331d6e5f0");
    assert_eq!(first["owner"]["description"], "module LeakyCache");
    let accumulated = first["accumulated"].to_string();
    assert!(
        accumulated.contains("\"Repo\"") && accumulated.contains("persistence.rb:403"),
        "{accumulated}"
    );
    // Measured in each dump, and growing in each.
    let bytes: Vec<u64> = first["retained_bytes_per_dump"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .collect();
    assert_eq!(bytes.len(), 3);
    assert!(bytes.windows(2).all(|w| w[1] > w[0]), "{bytes:?}");
    assert_eq!(
        *bytes.last().unwrap(),
        first["retained_bytes"].as_u64().unwrap()
    );
    // The path ends at the collection, through its owner.
    let path: Vec<&str> = first["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hop| hop["address"].as_str().unwrap())
        .collect();
    assert_eq!(path.last(), Some(&"0x7fd331d6e5f0"));
    assert!(path.contains(&"0x7fd331d6e870"), "{path:?}");
    // The tracer's table: its cost said, not a suspect.
    let tracer = "0x7fd331d6e0f0";
    assert!(suspect(&report, tracer).is_none());
    let excluded = report["excluded"].as_array().unwrap();
    assert!(
        excluded.iter().any(|e| e["address"] == tracer),
        "{excluded:?}"
    );
    let share = report["tracing"]["share"].as_f64().unwrap();
    assert!(share > 0.2 && share < 0.3, "{share}");

    // The text says it in words.
    let text = heapsift(&["suspects", &dumps[0], &dumps[1], &dumps[2]]).stdout();
    assert!(text.contains("#1  growing  Hash (100 entries)"), "{text}");
    assert!(text.contains("held by module LeakyCache"), "{text}");
    assert!(text.contains("Tracing allocations: 8.0 MB"), "{text}");
    // One dump alone: no growth to tell, the leak still first.
    let alone = heapsift(&["suspects", &dumps[2], "--format", "json"]).json();
    assert_eq!(alone["suspects"][0]["address"], "0x7fd331d6e5f0");
    assert_eq!(alone["suspects"][0]["growing"], Value::Null);
}

/// Runs `tests/workloads/leaks.rb KIND` and returns its three dumps and
/// the addresses of its leak and its cache.
fn leaking_app(kind: &str) -> ([String; 3], String, String) {
    let dir = scratch(&format!("leak-{kind}"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/workloads/leaks.rb");
    ruby(&script, &[kind.as_ref(), dir.as_os_str()]);
    let addresses: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("addresses.json")).unwrap())
            .unwrap();
    let dump = |n: u32| dir.join(format!("{n}.dump")).to_str().unwrap().to_owned();
    (
        [dump(1), dump(2), dump(3)],
        addresses["leak"].as_str().unwrap().to_owned(),
        addresses["cache"].as_str().unwrap().to_owned(),
    )
}

/// The leak grows and ranks first or second over three dumps, the cache
/// below it and stable; the last dump alone has the leak in its top 3.
/// Returns the leak's suspect over the three dumps.
fn leak_is_found(kind: &str) -> Value {
    let (dumps, leak, cache) = leaking_app(kind);
    let report = heapsift(&[
        "suspects", &dumps[0], &dumps[1], &dumps[2], "--format", "json",
    ])
    .json();
    let found =
        suspect(&report, &leak).unwrap_or_else(|| panic!("{kind}: no suspect {leak}: {report}"));
    assert!(rank(found) <= 2, "{kind}: {found}");
    assert_eq!(found["growing"], true, "{kind}: {found}");
    let noise = suspect(&report, &cache).unwrap_or_else(|| panic!("{kind}: no cache {cache}"));
    assert!(rank(noise) > rank(found), "{kind}: cache {noise}");
    assert_eq!(noise["growing"], false, "{kind}: cache {noise}");
    // The cache was the bigger at first: the order is growth's, not size's.
    let first = |s: &Value| s["retained_bytes_per_dump"][0].as_u64().unwrap();
    assert!(first(noise) > first(found), "{kind}: {noise} {found}");

    let alone = heapsift(&["suspects", &dumps[2], "--format", "json"]).json();
    let found_alone = suspect(&alone, &leak).unwrap_or_else(|| panic!("{kind}: alone {alone}"));
    assert!(rank(found_alone) <= 3, "{kind}: {found_alone}");
    found.clone()
}

#[test]
fn callbacks_kept_in_a_global_list() {
    let leak = leak_is_found("callbacks");
    assert!(
        leak["summary"]
            .as_str()
            .unwrap()
            .contains("held by a global variable"),
        "{leak}"
    );
    let accumulated = leak["accumulated"].to_string();
    assert!(accumulated.contains("\"Proc\""), "{accumulated}");
    assert!(accumulated.contains("leaks.rb:"), "{accumulated}");
}

#[test]
fn memoization_without_a_bound() {
    let leak = leak_is_found("memoize");
    assert_eq!(leak["owner"]["description"], "class PriceCalculator");
}

#[test]
fn thread_locals_that_pile_up() {
    let leak = leak_is_found("thread_locals");
    // The Thread, by the name the app gave it.
    assert_eq!(leak["owner"]["description"], "Thread \"request-loop\"");
}

#[test]
fn a_constant_of_a_singleton_class() {
    // `class << self; HANDLERS = {}`: named by that class, not as an IMEMO.
    let leak = leak_is_found("singleton_constant");
    assert_eq!(leak["owner"]["description"], "#<Class:Registry>");
}

#[test]
fn a_store_stands_for_the_newest_dumps_of_one_process() {
    // Process 7 took the three rails dumps an hour apart, after an older
    // one; process 8, another worker, took one in between.
    let dir = scratch("suspects-store");
    let put = |time: &str, pid: u32, n: u32| {
        let path = dir.join(format!(
            "web.1/2026-11-27T{time}:00:00.000Z-process:{pid}-heap.dump.gz"
        ));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(rails(n), &path).unwrap();
    };
    put("09", 7, 3);
    put("10", 7, 1);
    put("11", 7, 2);
    put("11", 8, 3);
    put("12", 7, 3);
    let store = dir.to_str().unwrap();
    // Two processes: which one is the user's to say, told what is there.
    let refused = heapsift(&["suspects", store]).fails(2);
    refused
        .assert_contains("holds the dumps of 2 processes")
        .assert_contains(
            "web.1 pid 7 (4 dumps, 2026-11-27T09:00:00.000Z to 2026-11-27T12:00:00.000Z)",
        )
        .assert_contains("web.1 pid 8 (1 dump, 2026-11-27T11:00:00.000Z)")
        .assert_contains("--pid");
    // The same rule for every command that takes a store.
    for command in ["trend", "diff"] {
        heapsift(&[command, store])
            .fails(2)
            .assert_contains("holds the dumps of 2 processes");
    }
    let run = heapsift(&["suspects", store, "--pid", "7", "--format", "json"]);
    let output = run.succeeds();
    let stderr = output.stderr_text();
    assert!(
        stderr.contains("suspects in") && stderr.contains("-process:7-"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let hours: Vec<&str> = report["dumps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let name = d.as_str().unwrap();
            assert!(name.contains("-process:7-"), "{name}");
            &name[name.len() - 36..name.len() - 34]
        })
        .collect();
    assert_eq!(hours, ["10", "11", "12"]);
    let first = &report["suspects"][0];
    assert_eq!(first["growing"], true);
    // Taken an hour apart: the growth has a rate.
    let bytes = first["retained_bytes_per_dump"].as_array().unwrap();
    let gained = bytes[2].as_f64().unwrap() - bytes[0].as_f64().unwrap();
    let per_hour = first["growth_bytes_per_hour"].as_f64().unwrap();
    assert!((per_hour - gained / 2.0).abs() < 1.0, "{per_hour} {gained}");
    // --last takes more; --pid the other process.
    let four = heapsift(&[
        "suspects", store, "--pid", "7", "--last", "4", "--format", "json",
    ])
    .json();
    assert_eq!(four["dumps"].as_array().unwrap().len(), 4);
    let other = heapsift(&["suspects", store, "--pid", "8", "--format", "json"]).json();
    assert_eq!(other["dumps"].as_array().unwrap().len(), 1);
}

/// A hand-written dump of a Holder (class at 0xc1) under a root, holding
/// `members` Strings in a Hash at `hash`, beside a second Holder whose
/// Hash is small: the shape of the path is the same for both.
fn holder_dump(dir: &Path, name: &str, hash: &str, members: usize) -> String {
    let mut lines = vec![
        r#"{"type":"ROOT", "root":"vm", "references":["0xa1", "0xa2"]}"#.to_owned(),
        r#"{"address":"0xc1", "type":"CLASS", "name":"Holder", "memsize":400}"#.to_owned(),
        r#"{"address":"0xc2", "type":"CLASS", "name":"Hash", "memsize":400}"#.to_owned(),
        r#"{"address":"0xc3", "type":"CLASS", "name":"String", "memsize":400}"#.to_owned(),
        format!(r#"{{"address":"0xa1", "type":"OBJECT", "class":"0xc1", "references":["{hash}"], "memsize":40}}"#),
        r#"{"address":"0xa2", "type":"OBJECT", "class":"0xc1", "references":["0xb2"], "memsize":40}"#.to_owned(),
        r#"{"address":"0xb2", "type":"HASH", "class":"0xc2", "size":0, "memsize":160}"#.to_owned(),
    ];
    let strings: Vec<String> = (0..members)
        .map(|i| format!("\"0x{:x}\"", 0x10000 + i * 0x28))
        .collect();
    lines.push(format!(
        r#"{{"address":"{hash}", "type":"HASH", "class":"0xc2", "size":{members}, "references":[{}], "memsize":160}}"#,
        strings.join(", ")
    ));
    for i in 0..members {
        lines.push(format!(
            r#"{{"address":"0x{:x}", "type":"STRING", "class":"0xc3", "bytesize":1000, "memsize":1040}}"#,
            0x10000 + i * 0x28
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_collection_that_moved_is_found_by_its_path() {
    // Compaction moved the leaking Hash from 0xb1 to 0xd1 between dumps,
    // and put another Hash at 0xb1... in neither dump is the other
    // Holder's Hash taken for it.
    let dir = scratch("suspects-moved");
    let first = holder_dump(&dir, "1.dump", "0xb1", 40);
    let second = holder_dump(&dir, "2.dump", "0xd1", 80);
    let report = heapsift(&["suspects", &first, &second, "--format", "json"]).json();
    let leak = &report["suspects"][0];
    assert_eq!(leak["address"], "0xd1");
    // The Hash, its Strings, and the String class only they use.
    let counts = leak["retained_count_per_dump"].as_array().unwrap();
    assert_eq!(counts[0], 40 + 2, "{leak}");
    assert_eq!(counts[1], 80 + 2, "{leak}");
    assert_eq!(leak["growing"], true);
}

#[test]
fn dumps_of_another_process_are_not_taken_for_growth() {
    let dir = scratch("suspects-other-process");
    let other = holder_dump(&dir, "other.dump", "0xb1", 40);
    let run = heapsift(&["suspects", &other, &rails(3), "--format", "json"]);
    let warning = run.succeeds().warning();
    assert!(
        warning.contains("other.dump: has none of the suspects"),
        "{warning}"
    );
    let report = run.json();
    let first = &report["suspects"][0];
    assert_eq!(first["retained_bytes_per_dump"][0], Value::Null, "{first}");
    assert_eq!(first["growing"], false, "{first}");
}

#[test]
fn bad_input_is_one_line() {
    let dir = scratch("suspects-bad");
    let missing = dir.join("missing.dump");
    heapsift(&["suspects", missing.to_str().unwrap()])
        .fails(2)
        .assert_contains("missing.dump");
    heapsift(&["suspects", &rails(3), "--top", "many"]).usage_error();
    let zero = heapsift(&["suspects", &rails(3), "--top", "0"]).usage_error();
    assert!(
        zero.stderr_text().contains("top must be 1 or more"),
        "{}",
        zero.stderr_text()
    );
    // No ROOT records: nothing reachable, and said so.
    let rootless = dir.join("rootless.dump");
    std::fs::write(
        &rootless,
        r#"{"address":"0x1", "type":"STRING", "memsize":40}"#,
    )
    .unwrap();
    let text = heapsift(&["suspects", rootless.to_str().unwrap()]).stdout();
    assert!(text.contains("no GC roots"), "{text}");
}
