//! Dumps written by a real Ruby during the test (Debian's Ruby 3.1; CI
//! installs it).

mod common;

use common::{dump_with_ruby, read, scratch};

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
    read(&dump, &[]).succeeds_quietly();
    let report = read(&dump, &["--format", "json"]).json();
    assert_eq!(
        report["total"]["count"].as_u64(),
        Some(lines),
        "every line is a record"
    );
    read(&dump, &["all"]).succeeds_quietly();
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

    let output = read(&dump, &["all", "--format", "json"]).succeeds();
    let err = output.stderr_text();
    assert!(
        err.contains("recovered"),
        "the weird lines are reported: {err}"
    );
    assert!(!err.contains("skipped"), "no line is lost: {err}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let location = format!("{}:2", allocator.display());
    let rows = report["object_count"]["rows"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["location"] == location.as_str())
        .unwrap_or_else(|| panic!("no row for {location} in {rows:?}"));
    assert!(row["value"].as_u64().unwrap() >= 300, "{row}");
}
