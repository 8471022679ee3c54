//! Dumps written by a real Ruby during the test (Debian's Ruby 3.1; CI
//! installs it).

mod common;

use common::{dump_with_ruby, run, scratch, stderr};

fn json(args: &[&str]) -> serde_json::Value {
    let output = run(args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

#[test]
fn a_dump_ruby_writes_reads_with_no_skipped_line() {
    let dir = scratch("ruby-dump");
    let dump = dump_with_ruby(
        &dir,
        "escapes",
        r#"KEEP = Array.new(2000) { |i| "value #{i % 100} \"quoted\" \t\\ \u00e9" }
           HASH = KEEP.group_by(&:size)"#,
        &[],
    );

    let lines = std::fs::read(&dump)
        .unwrap()
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64;
    let output = run(&["read", dump.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stderr.is_empty(), "warnings: {}", stderr(&output));
    let report = json(&["read", dump.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        report["total"]["count"].as_u64(),
        Some(lines),
        "every line is a record"
    );
    let all = run(&["read", dump.to_str().unwrap(), "all"]);
    assert!(all.stderr.is_empty(), "warnings: {}", stderr(&all));
}

#[test]
fn objects_allocated_in_a_file_with_quote_and_backslash_keep_their_location() {
    let dir = scratch("weird-path");
    let weird = dir.join("we\"ird\\dir");
    std::fs::create_dir_all(&weird).unwrap();
    let allocator = weird.join("f.rb");
    std::fs::write(
        &allocator,
        "def make_them\n  Array.new(300) { |i| \"kept-#{i}\" }\nend\n",
    )
    .unwrap();
    let dump = dump_with_ruby(
        &dir,
        "weird",
        "load ARGV[1]\nKEPT = make_them",
        &[allocator.to_str().unwrap()],
    );

    let output = run(&["read", dump.to_str().unwrap(), "all", "--format", "json"]);
    let err = stderr(&output);
    assert!(
        err.contains("recovered"),
        "the weird lines are reported: {err}"
    );
    assert!(!err.contains("skipped"), "no line is lost: {err}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let location = format!("{}:2", allocator.display());
    let rows = report["object_count"]["rows"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["location"] == location.as_str())
        .unwrap_or_else(|| panic!("no row for {location} in {rows:?}"));
    assert!(row["value"].as_u64().unwrap() >= 300, "{row}");
}
