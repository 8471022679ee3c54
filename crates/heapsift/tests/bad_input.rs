//! Bad input gets one clear line on stderr and the exit code of
//! architecture.md; damaged dumps still report every good record.

mod common;

use std::path::Path;

use common::{Heapsift, fixture, gunzip, read, scratch};

#[test]
fn unusable_inputs_exit_2_with_one_line() {
    let dir = scratch("bad-inputs");
    read(dir.join("missing.dump"), &[])
        .fails(2)
        .assert_contains("missing.dump: no such file");
    read(&dir, &[]).fails(2).assert_contains("is a directory");

    let empty = dir.join("empty.dump");
    std::fs::write(&empty, b"").unwrap();
    read(&empty, &[])
        .fails(2)
        .assert_contains("empty.dump: the file is empty");
    read(&empty, &["all"])
        .fails(2)
        .assert_contains("the file is empty");

    let png = dir.join("picture.png");
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend((0..5000u32).map(|i| (i * 7919 % 251) as u8));
    std::fs::write(&png, &bytes).unwrap();
    read(&png, &[])
        .fails(2)
        .assert_contains("picture.png: not a heap dump");

    let text = dir.join("notes.txt");
    std::fs::write(&text, "shopping list\n- milk\n- {eggs}\n").unwrap();
    read(&text, &["all"])
        .fails(2)
        .assert_contains("notes.txt: not a heap dump");

    let json_lines = dir.join("other.jsonl");
    std::fs::write(&json_lines, "{\"name\":\"not a record\"}\n[1,2]\n").unwrap();
    read(&json_lines, &[])
        .fails(2)
        .assert_contains("not a heap dump");

    let broken_gz = dir.join("broken.dump.gz");
    std::fs::write(&broken_gz, b"\x1f\x8b\x08\x00garbage that is not deflate").unwrap();
    read(&broken_gz, &[])
        .fails(2)
        .assert_contains("broken.dump.gz");
}

#[test]
fn unknown_generation_exits_1_and_bad_arguments_exit_2() {
    let dump = fixture("edge/1.dump.gz");
    let name = dump.to_str().unwrap();
    // The generations that have traced records (a `file`), read here
    // independently of heapsift.
    let mut traced: Vec<u64> = String::from_utf8(gunzip(&dump))
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|record| record.get("file").is_some())
        .filter_map(|record| record["generation"].as_u64())
        .collect();
    traced.sort_unstable();
    traced.dedup();
    assert!(!traced.contains(&8) && traced.len() > 1, "{traced:?}");
    // None follow each other, so heapsift lists them one by one.
    assert!(traced.windows(2).all(|w| w[1] > w[0] + 1), "{traced:?}");
    let listed: Vec<String> = traced.iter().map(u64::to_string).collect();
    assert_eq!(
        read(&dump, &["8"]).fails(1).message(),
        format!(
            "heapsift: {name}: not a valid Generation: 8; its generations are {}",
            listed.join(", ")
        )
    );
    // Generation 0 holds only untraced records, none with a file; `nil`
    // (as the summary prints it) is the same bucket.
    read(&dump, &["0"])
        .fails(1)
        .assert_contains("not a valid Generation: 0;");
    read(&dump, &["nil"])
        .fails(1)
        .assert_contains("not a valid Generation: nil;");
    let refused = read(&dump, &["eight"]).usage_error();
    assert!(
        refused.stderr_text().contains("eight"),
        "{}",
        refused.stderr_text()
    );
    Heapsift::new().arg("read").usage_error();
    read(&dump, &["--lines", "many"]).usage_error();
}

/// The edge fixture as lines, for making damaged copies.
fn edge_lines() -> Vec<Vec<u8>> {
    gunzip(&fixture("edge/1.dump.gz"))
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn write_lines(path: &Path, lines: &[Vec<u8>], final_newline: bool) {
    let mut bytes = lines.join(&b'\n');
    if final_newline {
        bytes.push(b'\n');
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_dump_cut_off_mid_line_reports_its_complete_lines() {
    let dir = scratch("truncated");
    let lines = edge_lines();
    let complete = dir.join("complete.dump");
    write_lines(&complete, &lines[..lines.len() - 1], true);
    let mut cut = lines.clone();
    let last = cut.last_mut().unwrap();
    last.truncate(last.len() / 2);
    let truncated = dir.join("truncated.dump");
    write_lines(&truncated, &cut, false);

    for args in [vec![], vec!["all"]] {
        let output = read(&truncated, &args).succeeds();
        assert_eq!(output.stdout_text(), read(&complete, &args).stdout());
        let warning = output.warning();
        assert!(
            warning.contains(&format!(
                "truncated.dump: the dump is cut off in the middle of line {}",
                lines.len()
            )),
            "{warning}"
        );
    }

    // A gzip stream cut short: the lines before the cut are reported.
    let gz = std::fs::read(fixture("rails-small/1.dump.gz")).unwrap();
    let cut_gz = dir.join("cut.dump.gz");
    std::fs::write(&cut_gz, &gz[..gz.len() / 2]).unwrap();
    let output = read(&cut_gz, &[]).succeeds();
    assert!(output.stdout_text().contains("Heap total"));
    output.assert_stderr_contains("cut.dump.gz: reading stopped early");
}

#[test]
fn a_garbage_line_is_skipped_with_its_line_number() {
    let dir = scratch("garbage");
    let lines = edge_lines();
    let clean = dir.join("clean.dump");
    write_lines(&clean, &lines, true);
    let mut damaged = lines.clone();
    damaged.insert(9, b"this line is garbage".to_vec());
    damaged.insert(
        20,
        b"{\"address\":\"0x1\", \"type\":\"STRING\", ### \"memsize\":40}".to_vec(),
    );
    // Ruby always quotes an address.
    damaged.insert(
        25,
        b"{\"address\":123abc, \"type\":\"STRING\", \"memsize\":40}".to_vec(),
    );
    let dirty = dir.join("dirty.dump");
    write_lines(&dirty, &damaged, true);

    for args in [vec![], vec!["all"], vec!["9"]] {
        let output = read(&dirty, &args).succeeds();
        assert_eq!(
            output.stdout_text(),
            read(&clean, &args).stdout(),
            "{args:?}"
        );
        output.assert_stderr_contains(
            "dirty.dump: skipped 3 lines that are not a heap dump record (lines 10, 21, 26)",
        );
    }
}
