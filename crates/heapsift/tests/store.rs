//! Dump stores: `s3://` inputs for the analysis commands, `list` and
//! `fetch`, against a real S3-compatible server (s3s-fs) and local folders.
//! Run through scripts/with-s3, which starts the server and sets the AWS_*
//! variables and HEAPSIFT_TEST_S3_BUCKET.

mod common;

use std::path::Path;

use common::s3::{put, url};
use common::{context_record, expected, fixture, gunzip, heapsift, rails, read, scratch};

#[test]
fn s3_dumps_read_exactly_like_local_files() {
    let gzip = std::fs::read(fixture("rails-small/1.dump.gz")).expect("fixture");
    let plain = gunzip(&fixture("rails-small/1.dump.gz"));
    let zstd = zstd::encode_all(&plain[..], 3).expect("zstd");
    put("read/1.dump.gz", gzip);
    put("read/1.dump", plain);
    put("read/1.dump.zst", zstd);
    for key in ["read/1.dump.gz", "read/1.dump", "read/1.dump.zst"] {
        let output = read(url(key), &[]).succeeds_quietly();
        assert_eq!(
            output.stdout_text(),
            expected("rails-small/1.read.txt"),
            "{key}"
        );
    }
    assert_eq!(
        read(url("read/1.dump.gz"), &["33", "--lines", "20"]).stdout(),
        expected("rails-small/1.gen33.txt")
    );
}

#[test]
fn broken_s3_inputs_get_one_line_and_exit_2() {
    let missing = url("broken/nope.dump.gz");
    assert_eq!(
        read(&missing, &[]).fails(2).message(),
        format!("heapsift: {missing}: not found")
    );

    put(
        "broken/picture.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
    );
    read(url("broken/picture.png"), &[])
        .fails(2)
        .assert_starts_with(&format!("heapsift: {}: ", url("broken/picture.png")))
        .assert_contains("not a heap dump");

    // Cut mid-line: the complete lines are counted, with one warning.
    let plain = gunzip(&fixture("rails-small/1.dump.gz"));
    put("broken/cut.dump", plain[..plain.len() - 40].to_vec());
    read(url("broken/cut.dump"), &[]).succeeds().warning();

    read("s3:///no-bucket", &[])
        .fails(2)
        .assert_contains("not a valid S3 URL");
}

#[test]
fn an_unreachable_s3_server_is_one_line_not_a_hang() {
    read(url("anything.dump.gz"), &[])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .fails(2)
        .assert_contains("127.0.0.1:9");
}

/// The keys of a store with two dynos and a dump outside the agent's
/// layout, oldest first.
const KEYS: [&str; 4] = [
    "web.1/2026-11-27T09:00:00.000Z-process:101-heap.dump.gz",
    "web.2/2026-11-27T09:00:00.500Z-process:201-heap.dump.zst",
    "old/prod.dump",
    "web.1/2026-11-27T10:30:00.250Z-process:102-heap.dump.gz",
];

/// What is in the store beside the dumps, none of it a dump: a context
/// record (of KEYS[3]), a record without a dump, notes, a partial upload.
const NOT_DUMPS: [&str; 4] = [
    "web.1/2026-11-27T10:30:00.250Z-process:102-heap.json",
    "web.2/2026-11-27T08:00:00.000Z-process:200-heap.json",
    "notes.txt",
    "web.1/2026-11-27T11:00:00.000Z-process:103-heap.dump.gz.partial-4242",
];

#[test]
fn list_shows_the_newest_dumps_first_from_s3_and_folders() {
    let folder = scratch("list");
    let record = context_record("web.1", "2026-11-27T10:30:00.250Z", 102, 734_003_200, "x");
    let files = KEYS
        .iter()
        .enumerate()
        .map(|(size, key)| (*key, vec![b'x'; size + 1]))
        .chain(
            NOT_DUMPS
                .iter()
                .map(|key| (*key, record.clone().into_bytes())),
        );
    for (key, bytes) in files {
        put(&format!("list/{key}"), bytes.clone());
        let file = folder.join(key);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, bytes).unwrap();
    }
    // `old/prod.dump` has no capture time in its name: it sorts by its
    // write time, which is now, so first.
    let newest_first = [2, 3, 1, 0];

    let listed = heapsift(&["list", &url("list/"), "--format", "json"]).json();
    let rows = listed.as_array().expect("an array");
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    let wanted: Vec<String> = newest_first
        .iter()
        .map(|&i| format!("list/{}", KEYS[i]))
        .collect();
    assert_eq!(keys, wanted);
    assert_eq!(rows[1]["url"], url(&format!("list/{}", KEYS[3])));
    assert_eq!(rows[1]["size"], 4);
    assert_eq!(rows[1]["time"], "2026-11-27T10:30:00.250Z");
    assert_eq!(rows[1]["dyno"], "web.1");
    assert_eq!(rows[1]["pid"], 102);
    assert_eq!(rows[1]["context"]["rss_bytes"], 734_003_200);
    assert_eq!(rows[0]["dyno"], serde_json::Value::Null);
    assert_eq!(rows[0]["context"], serde_json::Value::Null);

    let text = heapsift(&["list", &url("list/web.1/")]).stdout();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("TIME") && lines[0].ends_with("  RSS  URL"));
    assert!(lines[1].starts_with("2026-11-27T10:30:00.250Z  web.1  102"));
    assert!(lines[1].contains("  700.0 MB  "), "{text}");
    assert!(lines[1].ends_with(&url(&format!("list/{}", KEYS[3]))));
    assert!(lines[2].contains("  -  "), "{text}");

    let listed = heapsift(&["list", folder.to_str().unwrap(), "--format", "json"]).json();
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    let wanted: Vec<&str> = newest_first.iter().map(|&i| KEYS[i]).collect();
    assert_eq!(keys, wanted);
    assert_eq!(
        listed[1]["url"].as_str().unwrap(),
        folder.join(KEYS[3]).to_str().unwrap()
    );
    assert_eq!(listed[1]["context"]["pid"], 102);

    heapsift(&["list", folder.join("absent").to_str().unwrap()]).fails(2);
}

#[test]
fn hundreds_of_records_in_s3_each_go_with_their_dump() {
    // Fetched many at once, each record must still land on its own dump.
    let count = 300u32;
    for pid in 1..=count {
        let key = format!("many/web.1/2026-11-27T09:00:00.000Z-process:{pid}-heap");
        put(&format!("{key}.dump.gz"), b"not read".to_vec());
        if pid % 3 != 0 {
            let record = context_record(
                "web.1",
                "2026-11-27T09:00:00.000Z",
                pid,
                u64::from(pid) * 1000,
                "m",
            );
            put(&format!("{key}.json"), record.into_bytes());
        }
    }
    put(
        "many/web.1/2026-11-27T09:00:00.000Z-process:3-heap.json",
        b"{oops".to_vec(),
    );
    let output = heapsift(&["list", &url("many/"), "--format", "json"]).succeeds();
    let warning = output.warning();
    assert!(
        warning.contains("process:3-heap.json: not a context record"),
        "{warning}"
    );
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), count as usize);
    for row in rows {
        let pid = row["pid"].as_u64().unwrap();
        match pid % 3 {
            0 => assert!(row["context"].is_null(), "{row}"),
            _ => assert_eq!(
                row["context"]["rss_bytes"].as_u64(),
                Some(pid * 1000),
                "{row}"
            ),
        }
    }
}

#[test]
fn info_and_trend_read_the_records_beside_s3_dumps() {
    let gzip = std::fs::read(fixture("rails-small/3.dump.gz")).expect("fixture");
    let key = "info/web.1/2026-11-27T14:03:09.512Z-process:4242-heap";
    put(&format!("{key}.dump.gz"), gzip.clone());
    let record = context_record(
        "web.1",
        "2026-11-27T14:03:09.512Z",
        4242,
        1_395_864_371,
        "after deploy",
    );
    put(&format!("{key}.json"), record.clone().into_bytes());

    let dump = url(&format!("{key}.dump.gz"));
    let json = heapsift(&["info", &dump, "--format", "json"]).json();
    assert_eq!(json["context_url"], url(&format!("{key}.json")));
    let stored: serde_json::Value = serde_json::from_str(&record).unwrap();
    assert_eq!(json["context"], stored);
    let objects = json["objects_bytes"].as_i64().unwrap();
    assert_eq!(json["gap_bytes"].as_i64(), Some(1_395_864_371 - objects));
    let local = heapsift(&["info", &rails(3), "--format", "json"]).json();
    assert_eq!(json["objects_bytes"], local["objects_bytes"]);

    let text = heapsift(&["info", &dump]).stdout();
    assert!(text.contains("RSS 1.3 GB, peak RSS 1.3 GB"), "{text}");
    assert!(text.contains("are outside Ruby objects"), "{text}");

    // A dump without a record beside it: null, not an error.
    put(
        "info/web.1/2026-11-27T15:00:00.000Z-process:4242-heap.dump.gz",
        gzip,
    );
    let trend = heapsift(&["trend", &url("info/"), "--format", "json"]).json();
    assert_eq!(
        trend["rss_bytes"],
        serde_json::json!([1_395_864_371u64, null])
    );
}

#[test]
fn fetch_from_s3_brings_the_context_record() {
    let dump = std::fs::read(fixture("rails-small/1.dump.gz")).expect("fixture");
    let key = "fetch-record/web.1/2026-11-27T09:00:00.000Z-process:7-heap";
    let record = context_record("web.1", "2026-11-27T09:00:00.000Z", 7, 99, "m");
    put(&format!("{key}.dump.gz"), dump.clone());
    put(&format!("{key}.json"), record.clone().into_bytes());
    let dir = scratch("fetch-record");
    let output = heapsift(&[
        "fetch",
        &url(&format!("{key}.dump.gz")),
        dir.to_str().unwrap(),
    ])
    .succeeds();
    output.assert_stderr_contains(&format!(
        "fetched its context record {}",
        url(&format!("{key}.json"))
    ));
    let name = "2026-11-27T09:00:00.000Z-process:7-heap";
    assert_eq!(
        std::fs::read(dir.join(format!("{name}.dump.gz"))).unwrap(),
        dump
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap(),
        record
    );
    // And info on the copy finds the copied record.
    let copy = dir.join(format!("{name}.dump.gz"));
    let json = heapsift(&["info", copy.to_str().unwrap(), "--format", "json"]).json();
    assert_eq!(json["process"]["rss_bytes"], 99);
}

#[test]
fn no_credentials_at_all_is_one_line_naming_the_variables() {
    // Nothing answers at the metadata endpoint (port 9), or it refuses
    // (a server that answers every request 403, as some sandboxes do).
    let refusing = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refusing_url = format!("http://{}", refusing.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in refusing.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buffer);
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    for metadata in ["http://127.0.0.1:9".to_owned(), refusing_url] {
        for command in [
            heapsift(&["read", &url("anything.dump.gz")]),
            heapsift(&["list", &url("")]),
            heapsift(&["fetch", &url("anything.dump.gz"), "/nonexistent/x"]),
        ] {
            let failure = command
                .env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY")
                .env("AWS_METADATA_ENDPOINT", &metadata)
                .fails(2);
            failure
                .assert_contains(
                    "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                )
                .assert_starts_with(&format!("heapsift: {}", url("")));
            assert!(
                !failure.message().contains("metadata/"),
                "{}",
                failure.message()
            );
        }
    }
}

#[test]
fn fetch_writes_a_complete_copy_and_never_replaces_one() {
    let dump = std::fs::read(fixture("rails-small/2.dump.gz")).expect("fixture");
    let key = "fetch/web.1/2026-11-27T09:00:00.000Z-process:7-heap.dump.gz";
    put(key, dump.clone());
    let dir = scratch("fetch");

    // Into a folder, under the dump's own name.
    heapsift(&["fetch", &url(key), dir.to_str().unwrap()]).succeeds();
    let copy = dir.join("2026-11-27T09:00:00.000Z-process:7-heap.dump.gz");
    assert_eq!(std::fs::read(&copy).unwrap(), dump);
    assert_eq!(only_file_in(&dir), copy);

    std::fs::write(&copy, "mine").unwrap();
    heapsift(&["fetch", &url(key), copy.to_str().unwrap()])
        .fails(2)
        .assert_contains("--force");
    assert_eq!(std::fs::read(&copy).unwrap(), b"mine");

    heapsift(&["fetch", &url(key), copy.to_str().unwrap(), "--force"]).succeeds();
    assert_eq!(std::fs::read(&copy).unwrap(), dump);

    assert_eq!(
        heapsift(&["fetch", &url("fetch/absent.gz"), dir.to_str().unwrap()])
            .fails(2)
            .message(),
        format!("heapsift: {}: not found", url("fetch/absent.gz"))
    );
    assert_eq!(only_file_in(&dir), copy, "nothing left behind");
}

fn only_file_in(dir: &Path) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.into_iter().next().unwrap()
}

#[test]
fn trend_and_diff_follow_one_process_through_an_s3_prefix() {
    let gzip = |n: u32| std::fs::read(fixture(&format!("rails-small/{n}.dump.gz"))).unwrap();
    // Process 21 on web.1 took the three rails dumps an hour apart; another
    // process and another dyno took others in between.
    put(
        "series/web.1/2026-11-27T10:00:00.000Z-process:21-heap.dump.gz",
        gzip(1),
    );
    put(
        "series/web.1/2026-11-27T11:00:00.000Z-process:21-heap.dump.gz",
        gzip(2),
    );
    put(
        "series/web.1/2026-11-27T12:00:00.000Z-process:21-heap.dump.gz",
        gzip(3),
    );
    put(
        "series/web.1/2026-11-27T11:30:00.000Z-process:22-heap.dump.gz",
        gzip(3),
    );
    put(
        "series/web.2/2026-11-27T11:45:00.000Z-process:21-heap.dump.gz",
        gzip(1),
    );
    let store = url("series/");

    assert_eq!(
        heapsift(&["diff", &store, "--dyno", "web.1", "--pid", "21"]).stdout(),
        expected("rails-small/diff-1-2-3.txt")
    );
    // --output-diff streams AFTER's kept lines from S3 as from a file.
    let dir = scratch("s3-output-diff");
    let (from_s3, from_files) = (dir.join("s3.dump"), dir.join("files.dump"));
    heapsift(&[
        "diff",
        &store,
        "--dyno",
        "web.1",
        "--pid",
        "21",
        "--output-diff",
        from_s3.to_str().unwrap(),
    ])
    .succeeds();
    heapsift(&["diff", &rails(1), &rails(2), &rails(3), "--output-diff"])
        .arg(&from_files)
        .succeeds();
    let kept = std::fs::read(&from_s3).unwrap();
    assert!(kept.len() > 100_000, "{} bytes kept", kept.len());
    assert_eq!(kept, std::fs::read(&from_files).unwrap());

    let report = heapsift(&[
        "trend", &store, "--dyno", "web.1", "--pid", "21", "--format", "json",
    ])
    .json();
    let hours: Vec<&str> = report["dumps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d.as_str().unwrap()[url("series/web.1/").len()..][11..13])
        .collect();
    assert_eq!(hours, ["10", "11", "12"]);
    assert_eq!(report["rows"][0]["steady"], true);
    assert!(
        report["rows"][0]["location"]
            .as_str()
            .unwrap()
            .ends_with("statement.rb:108")
    );

    // Named objects, sorted by the time in their keys.
    let named = |key: &str| url(&format!("series/{key}"));
    let report = heapsift(&[
        "trend",
        &named("web.1/2026-11-27T12:00:00.000Z-process:21-heap.dump.gz"),
        &named("web.2/2026-11-27T11:45:00.000Z-process:21-heap.dump.gz"),
        &named("web.1/2026-11-27T10:00:00.000Z-process:21-heap.dump.gz"),
        "--sort",
        "time",
        "--format",
        "json",
    ])
    .json();
    assert!(report["dumps"][0].as_str().unwrap().contains("T10:00"));
    assert!(report["dumps"][2].as_str().unwrap().contains("T12:00"));

    assert_eq!(
        heapsift(&["trend", &store, "--dyno", "web.9"])
            .fails(1)
            .message(),
        format!("heapsift: {store}: no dumps for dyno web.9")
    );
}
