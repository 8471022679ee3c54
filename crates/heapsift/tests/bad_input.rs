//! Bad input gets one clear line on stderr and the exit code of
//! architecture.md; damaged dumps still report every good record.

mod common;

use common::{fixture, gunzip, run, scratch, stderr, stdout};

/// Asserts a one-line `heapsift: ...` error containing `needle`, exit `code`,
/// and nothing on stdout.
fn assert_fails(args: &[&str], code: i32, needle: &str) {
    let output = run(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
    assert!(output.stdout.is_empty(), "{args:?} printed a report");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.starts_with("heapsift: ") && err.contains(needle),
        "{args:?}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unusable_inputs_exit_2_with_one_line() {
    let dir = scratch("bad-inputs");
    let missing = dir.join("missing.dump");
    assert_fails(
        &["read", missing.to_str().unwrap()],
        2,
        "missing.dump: no such file",
    );
    assert_fails(&["read", dir.to_str().unwrap()], 2, "is a directory");

    let empty = dir.join("empty.dump");
    std::fs::write(&empty, b"").unwrap();
    assert_fails(
        &["read", empty.to_str().unwrap()],
        2,
        "empty.dump: the file is empty",
    );
    assert_fails(
        &["read", empty.to_str().unwrap(), "all"],
        2,
        "the file is empty",
    );

    let png = dir.join("picture.png");
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend((0..5000u32).map(|i| (i * 7919 % 251) as u8));
    std::fs::write(&png, &bytes).unwrap();
    assert_fails(
        &["read", png.to_str().unwrap()],
        2,
        "picture.png: not a heap dump",
    );

    let text = dir.join("notes.txt");
    std::fs::write(&text, "shopping list\n- milk\n- {eggs}\n").unwrap();
    assert_fails(
        &["read", text.to_str().unwrap(), "all"],
        2,
        "notes.txt: not a heap dump",
    );

    let json_lines = dir.join("other.jsonl");
    std::fs::write(&json_lines, "{\"name\":\"not a record\"}\n[1,2]\n").unwrap();
    assert_fails(
        &["read", json_lines.to_str().unwrap()],
        2,
        "not a heap dump",
    );

    let broken_gz = dir.join("broken.dump.gz");
    std::fs::write(&broken_gz, b"\x1f\x8b\x08\x00garbage that is not deflate").unwrap();
    assert_fails(&["read", broken_gz.to_str().unwrap()], 2, "broken.dump.gz");
}

#[test]
fn unknown_generation_exits_1_and_bad_arguments_exit_2() {
    let path = fixture("edge/1.dump.gz");
    let dump = path.to_str().unwrap();
    // The generations that have traced records (a `file`), read here
    // independently of heapsift.
    let mut traced: Vec<u64> = String::from_utf8(gunzip(&path))
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
    assert_fails(
        &["read", dump, "8"],
        1,
        &format!(
            "heapsift: {dump}: not a valid Generation: 8; its generations are {}",
            listed.join(", ")
        ),
    );
    // Generation 0 holds only untraced records, none with a file; `nil`
    // (as the summary prints it) is the same bucket.
    assert_fails(&["read", dump, "0"], 1, "not a valid Generation: 0");
    assert_fails(&["read", dump, "nil"], 1, "not a valid Generation: nil");
    let output = run(&["read", dump, "eight"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("eight"));
    assert_eq!(run(&["read"]).status.code(), Some(2));
    assert_eq!(
        run(&["read", dump, "--lines", "many"]).status.code(),
        Some(2)
    );
}

/// The edge fixture as lines, for making damaged copies.
fn edge_lines() -> Vec<Vec<u8>> {
    gunzip(&fixture("edge/1.dump.gz"))
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn write_lines(path: &std::path::Path, lines: &[Vec<u8>], final_newline: bool) {
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
        let run_on = |path: &std::path::Path| {
            let mut argv = vec!["read", path.to_str().unwrap()];
            argv.extend(&args);
            run(&argv)
        };
        let expected = run_on(&complete);
        let output = run_on(&truncated);
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(stdout(&output), stdout(&expected));
        let err = stderr(&output);
        assert!(
            err.contains(&format!(
                "truncated.dump: the dump is cut off in the middle of line {}",
                lines.len()
            )),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    // A gzip stream cut short: the lines before the cut are reported.
    let gz = std::fs::read(fixture("rails-small/1.dump.gz")).unwrap();
    let cut_gz = dir.join("cut.dump.gz");
    std::fs::write(&cut_gz, &gz[..gz.len() / 2]).unwrap();
    let output = run(&["read", cut_gz.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("Heap total"));
    assert!(
        stderr(&output).contains("cut.dump.gz: reading stopped early"),
        "{}",
        stderr(&output)
    );
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
    let dirty = dir.join("dirty.dump");
    write_lines(&dirty, &damaged, true);

    for args in [vec![], vec!["all"], vec!["9"]] {
        let mut clean_args = vec!["read", clean.to_str().unwrap()];
        clean_args.extend(&args);
        let mut dirty_args = vec!["read", dirty.to_str().unwrap()];
        dirty_args.extend(&args);
        let output = run(&dirty_args);
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(stdout(&output), stdout(&run(&clean_args)), "{args:?}");
        let err = stderr(&output);
        assert!(
            err.contains(
                "dirty.dump: skipped 2 lines that are not a heap dump record (lines 10, 21)"
            ),
            "{err}"
        );
    }
}
