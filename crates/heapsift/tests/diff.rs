//! `heapsift diff`: byte-identical to heapy's report on the fixtures (with
//! the slot-reuse cases heapy got wrong), and the --output-diff file.

mod common;

use common::{Heapsift, fixture, gunzip, scratch};

fn dumps(set: &str) -> [String; 3] {
    ["1", "2", "3"].map(|n| {
        fixture(&format!("{set}/{n}.dump.gz"))
            .to_str()
            .unwrap()
            .to_owned()
    })
}

/// `heapsift diff ARGS...`.
fn diff(args: &[&str]) -> Heapsift {
    Heapsift::new().arg("diff").args(args)
}

#[test]
fn diff_matches_every_fixture_byte_for_byte() {
    for set in ["edge", "rails-small"] {
        let [one, two, three] = dumps(set);
        for (args, expected) in [
            (vec![&one, &two], "diff-1-2.txt"),
            (vec![&one, &two, &three], "diff-1-2-3.txt"),
        ] {
            let output = Heapsift::new().arg("diff").args(args).succeeds_quietly();
            let wanted = std::fs::read(fixture(&format!("{set}/{expected}"))).unwrap();
            assert!(
                output.stdout == wanted,
                "{set}/{expected}:\n{}",
                output.stdout_text()
            );
        }
    }
}

#[test]
fn json_carries_the_same_numbers() {
    let [one, two, three] = dumps("rails-small");
    let report = diff(&[&one, &two, &three, "--format", "json"]).json();
    assert_eq!(report["retained"], true);
    let text = diff(&[&one, &two, &three]).stdout();
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), text.lines().count());
    for (group, line) in groups.iter().zip(text.lines()) {
        let at = format!(
            "at: {}:{}",
            group["file"].as_str().unwrap_or(""),
            group["line"]
                .as_u64()
                .map(|l| l.to_string())
                .unwrap_or_default()
        );
        let size = format!(
            "{} objects of size {}/{}",
            group["count"], group["bytes"], report["total_bytes"]
        );
        assert!(
            line.contains(&size) && line.ends_with(&at),
            "{line} vs {group}"
        );
    }
}

#[test]
fn output_diff_writes_the_kept_lines_and_never_overwrites() {
    let [one, two, three] = dumps("edge");
    let dir = scratch("output-diff");
    let file = dir.join("leaked.dump");
    let file_arg = file.to_str().unwrap();
    let text = diff(&[&one, &two, &three, "--output-diff", file_arg]).stdout();
    assert!(text.ends_with(&format!("\nWriting heap dump diff to {file_arg}\n")));

    // The file holds AFTER's kept lines, verbatim and in order: the lines of
    // 2.dump whose diff against itself as BEFORE and 3 as RETAINED is empty.
    let written = std::fs::read(&file).unwrap();
    let after = gunzip(&fixture("edge/2.dump.gz"));
    let after_lines: Vec<&[u8]> = after.split(|&b| b == b'\n').collect();
    let kept: Vec<&[u8]> = written
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(kept.len(), 7, "5 HASH + 1 ARRAY + 1 SHAPE");
    let mut position = 0;
    for line in &kept {
        let found = after_lines[position..]
            .iter()
            .position(|l| l == line)
            .expect("a line of AFTER");
        position += found + 1;
    }
    // Diffing the kept lines against AFTER finds nothing new.
    assert_eq!(diff(&[&two, file_arg]).stdout(), "");

    // AFTER from stdin gives the same lines.
    let piped = dir.join("piped.dump");
    diff(&[&one, "-", &three, "--output-diff", piped.to_str().unwrap()])
        .stdin(gunzip(&fixture("edge/2.dump.gz")))
        .succeeds();
    assert_eq!(std::fs::read(&piped).unwrap(), written);
    // Named .gz, the same lines gzipped.
    let gzipped = dir.join("leaked.dump.gz");
    diff(&[
        &one,
        &two,
        &three,
        "--output-diff",
        gzipped.to_str().unwrap(),
    ])
    .succeeds();
    assert_eq!(gunzip(&gzipped), written);

    std::fs::write(&file, "mine").unwrap();
    diff(&[&one, &two, "--output_diff", file_arg])
        .fails(2)
        .assert_contains("--force");
    assert_eq!(std::fs::read(&file).unwrap(), b"mine");
    diff(&[&one, &two, "--output_diff", file_arg, "--force"]).succeeds();
    assert_ne!(std::fs::read(&file).unwrap(), b"mine");
}

#[test]
fn a_dump_given_twice_or_out_of_time_order_is_warned_about() {
    let [one, two, ..] = dumps("edge");
    let twice = diff(&[&one, &one]).succeeds();
    assert_eq!(twice.stdout_text(), "");
    assert!(
        twice
            .stderr_text()
            .contains(&format!("heapsift: {one} is both BEFORE and AFTER")),
        "{}",
        twice.stderr_text()
    );
    // Dumps in the agent's layout know when they were taken.
    let dir = scratch("diff-order");
    let named = |time: &str, source: &str| {
        let path = dir.join(format!("web.1/{time}-process:7-heap.dump.gz"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(source, &path).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let early = named("2026-11-27T10:00:00.000Z", &one);
    let late = named("2026-11-27T11:00:00.000Z", &two);
    let reversed = diff(&[&late, &early]).succeeds();
    assert!(
        reversed
            .stderr_text()
            .contains("was taken at 2026-11-27T11:00:00.000Z, after AFTER"),
        "{}",
        reversed.stderr_text()
    );
    diff(&[&early, &late]).succeeds_quietly();
}

/// Who a record is, as diff matches them: (address, type, generation).
fn identities(lines: &[serde_json::Value]) -> std::collections::HashSet<String> {
    lines.iter().filter_map(identity).collect()
}

fn identity(record: &serde_json::Value) -> Option<String> {
    let address = record["address"].as_str()?;
    Some(format!(
        "{address} {} {}",
        record["type"], record["generation"]
    ))
}

fn records(path: &str) -> Vec<(String, serde_json::Value)> {
    String::from_utf8(gunzip(std::path::Path::new(path)))
        .unwrap()
        .lines()
        .map(|line| {
            let record = serde_json::from_str(line).expect("a strict JSON line");
            (line.to_owned(), record)
        })
        .collect()
}

#[test]
fn output_diff_of_many_blocks_read_in_parallel_keeps_the_dump_order() {
    // The rails dumps are tens of MB once decompressed: many 4 MB blocks,
    // parsed by two threads and put back in order by the writer.
    let [one, two, three] = dumps("rails-small");
    let values = |path: &str| -> Vec<serde_json::Value> {
        records(path)
            .into_iter()
            .map(|(_, record)| record)
            .collect()
    };
    let (before, retained) = (identities(&values(&one)), identities(&values(&three)));
    let after = records(&two);
    assert!(after.iter().map(|(line, _)| line.len()).sum::<usize>() > 5 * (4 << 20));
    let mut expected = String::new();
    for (line, record) in &after {
        if let Some(id) = identity(record)
            && !before.contains(&id)
            && retained.contains(&id)
        {
            expected.push_str(line);
            expected.push('\n');
        }
    }
    let dir = scratch("output-diff-order");
    let out = dir.join("leaked.dump");
    diff(&[
        &one,
        &two,
        &three,
        "--threads",
        "2",
        "--output-diff",
        out.to_str().unwrap(),
    ])
    .succeeds();
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.len() > 100_000, "{} bytes", written.len());
    assert!(
        written == expected,
        "the kept lines differ from AFTER's, in order"
    );
}

#[test]
fn a_diff_of_an_after_that_breaks_off_is_not_written() {
    let [one, two, _] = dumps("edge");
    let dir = scratch("broken-after");
    // AFTER's gzip stream ends half way, as a failed download would.
    let gzip = std::fs::read(&two).unwrap();
    let broken = dir.join("broken.dump.gz");
    std::fs::write(&broken, &gzip[..gzip.len() / 2]).unwrap();
    let broken = broken.to_str().unwrap();
    // The report of what could be read, with a warning, as before...
    diff(&[&one, broken])
        .succeeds()
        .assert_stderr_contains("reading stopped early");
    // ...but no file that would miss an unknown part of the diff.
    let out = dir.join("leaked.dump");
    diff(&[&one, broken, "--output-diff", out.to_str().unwrap()])
        .fails_with_warnings(2)
        .assert_contains("could not be read to its end");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn a_missing_dump_is_one_line_and_exit_2() {
    let [one, ..] = dumps("edge");
    assert_eq!(
        diff(&[&one, "/nonexistent/2.dump"]).fails(2).message(),
        "heapsift: /nonexistent/2.dump: no such file"
    );
}
