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

#[test]
fn a_missing_dump_is_one_line_and_exit_2() {
    let [one, ..] = dumps("edge");
    assert_eq!(
        diff(&[&one, "/nonexistent/2.dump"]).fails(2).message(),
        "heapsift: /nonexistent/2.dump: no such file"
    );
}
