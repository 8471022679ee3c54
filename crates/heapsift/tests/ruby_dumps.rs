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

/// The line with its `method` field re-escaped as JSON, when the line is
/// not valid JSON but starts and ends as Ruby lays a record out: the field
/// runs from `"method":"` to the line's last `", "generation":`.
fn repaired(line: &[u8]) -> Option<Vec<u8>> {
    const TAIL: &[u8] = br#"", "generation":"#;
    if serde_json::from_slice::<serde_json::Value>(line).is_ok()
        || !line.starts_with(b"{\"address\":\"0x")
    {
        return None;
    }
    let open = line.windows(10).position(|w| w == br#""method":""#)? + 10;
    let close = line.windows(TAIL.len()).rposition(|w| w == TAIL)?;
    let text = String::from_utf8_lossy(line.get(open..close)?);
    let escaped = serde_json::to_string(&text).unwrap();
    let fixed = [&line[..open - 1], escaped.as_bytes(), &line[close + 1..]].concat();
    serde_json::from_slice::<serde_json::Value>(&fixed).ok()?;
    Some(fixed)
}

#[test]
fn broken_method_names_lose_no_intact_record() {
    // Ruby 3.0 and 3.1 write each byte of a non-ASCII method name as
    // `\u00ff` and bytes of whatever memory follows: quotes, braces and
    // `", "` among them (design/dump-format.md, section 7).
    let dir = scratch("broken-methods");
    let dump = dump_with_ruby(
        &dir,
        "methods",
        r#"class Holder
             NAMES = (1..400).map { |i| "m\u00e9th#{i}_\u2603\u{1F600}" }
             NAMES.each { |n| define_method(n) { "s#{n.bytesize}" } }
           end
           holder = Holder.new
           KEEP = Holder::NAMES.map { |n| holder.send(n) }"#,
        &[],
    );
    let original = std::fs::read(&dump).unwrap();
    let mut repairs = 0;
    let fixed: Vec<u8> = original
        .split_inclusive(|&b| b == b'\n')
        .flat_map(|line| {
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            match repaired(body) {
                Some(mut fixed) => {
                    repairs += 1;
                    fixed.push(b'\n');
                    fixed
                }
                None => line.to_vec(),
            }
        })
        .collect();
    assert!(
        repairs > 50,
        "Ruby wrote broken method names ({repairs} lines)"
    );
    let copy = dir.join("repaired.dump");
    std::fs::write(&copy, fixed).unwrap();
    for args in [&["all", "--format", "json"][..], &["--format", "json"]] {
        assert_eq!(
            read(&dump, args).json(),
            read(&copy, args).json(),
            "read {args:?}"
        );
    }
    let retained = |path: &std::path::Path| {
        common::heapsift(&["retained", path.to_str().unwrap(), "--format", "json"]).json()
    };
    assert_eq!(retained(&dump), retained(&copy));
}
