//! Every way of giving `read` a dump yields the same report: plain, gzip and
//! zstd files, and stdin; and `--format json` carries the text's numbers.

mod common;

use std::ffi::OsStr;

use common::{fixture, gunzip, heapsift, run, scratch, stderr, stdout};

#[test]
fn plain_gzip_zstd_and_stdin_give_the_same_output() {
    let gz = fixture("rails-small/2.dump.gz");
    let plain_bytes = gunzip(&gz);
    let dir = scratch("formats");
    let plain = dir.join("2.dump");
    std::fs::write(&plain, &plain_bytes).unwrap();
    // A misleading name: the content, not the extension, decides.
    let zst = dir.join("2.dump.gz.txt");
    std::fs::write(&zst, zstd::encode_all(&plain_bytes[..], 3).unwrap()).unwrap();
    let gz_bytes = std::fs::read(&gz).unwrap();

    for args in [vec![], vec!["all", "--lines", "30"], vec!["34"]] {
        let with = |dump: &OsStr, stdin: Option<&[u8]>| {
            let mut argv: Vec<&OsStr> = vec![OsStr::new("read"), dump];
            argv.extend(args.iter().map(OsStr::new));
            let output = heapsift(&argv, stdin);
            assert!(output.status.success(), "{args:?}: {}", stderr(&output));
            output.stdout
        };
        let expected = with(plain.as_os_str(), None);
        assert!(!expected.is_empty());
        assert_eq!(with(gz.as_os_str(), None), expected, "gzip {args:?}");
        assert_eq!(with(zst.as_os_str(), None), expected, "zstd {args:?}");
        assert_eq!(
            with(OsStr::new("-"), Some(&plain_bytes)),
            expected,
            "plain stdin {args:?}"
        );
        assert_eq!(
            with(OsStr::new("-"), Some(&gz_bytes)),
            expected,
            "gzip stdin {args:?}"
        );
    }
}

#[test]
fn json_has_the_numbers_of_the_text() {
    let dump = fixture("rails-small/3.dump.gz");
    let dump = dump.to_str().unwrap();
    let text = stdout(&run(&["read", dump]));
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["read", dump, "--format", "json"]).stdout).unwrap();
    let total = &json["total"];
    assert!(text.contains(&format!("Count: {}\n", total["count"])));
    assert!(text.contains(&format!(
        "Memory: {:.1} kb\n",
        total["kb"].as_f64().unwrap()
    )));
    assert!(text.contains(&format!("Generations (active): {}\n", total["generations"])));
    let buckets = json["generations"].as_array().unwrap();
    assert_eq!(buckets[0]["generation"], serde_json::Value::Null);
    for bucket in buckets.iter().skip(1) {
        let line = format!(
            "Generation: {:>3} object count: {}, mem: {:.1} kb\n",
            bucket["generation"].as_u64().unwrap(),
            bucket["count"],
            bucket["kb"].as_f64().unwrap()
        );
        assert!(text.contains(&line), "missing {line:?}");
    }

    let text = stdout(&run(&["read", dump, "36", "--lines", "5"]));
    let json: serde_json::Value = serde_json::from_slice(
        &run(&["read", dump, "36", "--lines", "5", "--format", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(json["generation"], 36);
    let memory = &json["allocated_by_memory"];
    assert!(text.contains(&format!(
        "allocated by memory ({}) (in bytes)",
        memory["total"]
    )));
    let rows = memory["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let first = format!(
        "  {}  {}\n",
        rows[0]["value"],
        rows[0]["location"].as_str().unwrap()
    );
    assert!(text.contains(&first), "missing {first:?}");
    let duplicate = &json["duplicate_strings"][0];
    assert!(text.contains(&format!(
        " {}  \"{}\"\n",
        duplicate["count"],
        duplicate["value"].as_str().unwrap()
    )));
}

#[test]
fn lines_limits_every_table() {
    let dump = fixture("rails-small/1.dump.gz");
    let json: serde_json::Value = serde_json::from_slice(
        &run(&[
            "read",
            dump.to_str().unwrap(),
            "all",
            "--lines",
            "3",
            "--format",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    for table in [
        "object_counts_by_class",
        "high_ref_counts",
        "duplicate_strings",
    ] {
        assert_eq!(json[table].as_array().unwrap().len(), 3, "{table}");
    }
    assert_eq!(json["object_count"]["rows"].as_array().unwrap().len(), 3);
}

#[test]
fn a_line_of_50_mb_just_works() {
    // A `vm` ROOT record listing every object is the longest line a dump has.
    let mut dump = b"{\"type\":\"ROOT\", \"root\":\"vm\", \"references\":[".to_vec();
    for i in 0..3_200_000u64 {
        if i > 0 {
            dump.extend_from_slice(b", ");
        }
        dump.extend_from_slice(format!("\"0x7f{i:010x}\"").as_bytes());
    }
    dump.extend_from_slice(b"]}\n");
    assert!(dump.len() > 50_000_000);
    for i in 0..3u64 {
        dump.extend_from_slice(
            format!("{{\"address\":\"0x7f{i:010x}\", \"type\":\"STRING\", \"value\":\"v\", \"file\":\"a.rb\", \"line\":1, \"generation\":5, \"memsize\":40}}\n")
                .as_bytes(),
        );
    }
    let dir = scratch("long-line");
    let path = dir.join("long.dump");
    std::fs::write(&path, &dump).unwrap();
    let expected = "Generation: nil object count: 1, mem: 0.0 kb\nGeneration:   5 object count: 3, mem: 0.1 kb\n";
    for (arg, stdin) in [(path.as_os_str(), None), (OsStr::new("-"), Some(&dump[..]))] {
        let output = heapsift(&[OsStr::new("read"), arg], stdin);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(output.stderr.is_empty(), "{}", stderr(&output));
        assert!(stdout(&output).contains(expected), "{}", stdout(&output));
    }
}
