//! Every way of giving `read` a dump yields the same report: plain, gzip and
//! zstd files, and stdin; and `--format json` carries the text's numbers.

mod common;

use std::path::Path;

use common::{fixture, gunzip, read, scratch};

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
        let with = |dump: &Path| read(dump, &args).succeeds().stdout;
        let from_stdin = |bytes: &[u8]| read("-", &args).stdin(bytes).succeeds().stdout;
        let expected = with(&plain);
        assert!(!expected.is_empty());
        assert_eq!(with(&gz), expected, "gzip {args:?}");
        assert_eq!(with(&zst), expected, "zstd {args:?}");
        assert_eq!(from_stdin(&plain_bytes), expected, "plain stdin {args:?}");
        assert_eq!(from_stdin(&gz_bytes), expected, "gzip stdin {args:?}");
    }
}

#[test]
fn json_has_the_numbers_of_the_text() {
    let dump = fixture("rails-small/3.dump.gz");
    let text = read(&dump, &[]).stdout();
    let json = read(&dump, &["--format", "json"]).json();
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

    let text = read(&dump, &["36", "--lines", "5"]).stdout();
    let json = read(&dump, &["36", "--lines", "5", "--format", "json"]).json();
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
    let json = read(&dump, &["all", "--lines", "3", "--format", "json"]).json();
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
    for command in [read(&path, &[]), read("-", &[]).stdin(dump)] {
        let text = command.succeeds_quietly().stdout_text();
        assert!(text.contains(expected), "{text}");
    }
}
