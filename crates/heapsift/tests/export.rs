//! `heapsift export`: the Parquet layout (Hive partitions, dump ids, no
//! temporary files left), skipping and --force, a store's dynos and
//! context records, and bad or cut-off input. The tables are read back
//! with the parquet crate; `tests/engines/export_engines.py` queries them
//! with DuckDB and Spark.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use common::{agent_dump, context_record, gunzip, heapsift, rails, s3, scratch, write_record};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const UNKNOWN: &str = "dyno=__HIVE_DEFAULT_PARTITION__/date=__HIVE_DEFAULT_PARTITION__";

/// The id the README promises: `zcat 3.dump.gz | b3sum | cut -c1-16`.
const RAILS_3_ID: &str = "adccd4f9ad59ffa1";

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                found.push(relative.to_str().unwrap().to_owned());
            }
        }
    }
    found.sort();
    found
}

fn batches(path: &Path) -> Vec<RecordBatch> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("a Parquet file")
        .build()
        .unwrap();
    reader.map(|batch| batch.unwrap()).collect()
}

fn rows(path: &Path) -> usize {
    batches(path).iter().map(RecordBatch::num_rows).sum()
}

/// The sum of an Int64 column over a file.
fn sum(path: &Path, column: &str) -> i64 {
    batches(path)
        .iter()
        .map(|batch| {
            let values = batch.column_by_name(column).expect(column);
            values
                .as_primitive::<Int64Type>()
                .iter()
                .flatten()
                .sum::<i64>()
        })
        .sum()
}

/// Records of a dump that are objects (not ROOT): what `objects` counts.
fn object_records(dump: &Path) -> i64 {
    let text = gunzip(dump);
    text.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty() && !line.starts_with(br#"{"type":"ROOT""#))
        .count() as i64
}

fn table(out: &Path, table: &str, partition: &str, id: &str) -> PathBuf {
    out.join(table)
        .join(partition)
        .join(format!("{id}.parquet"))
}

#[test]
fn a_dump_becomes_one_file_per_table_named_by_its_content() {
    let out = scratch("export-layout").join("tables");
    heapsift(&["export", &rails(3), "--to", out.to_str().unwrap()]).succeeds_quietly();
    let expected: Vec<String> = ["dumps", "retainers", "sites"]
        .iter()
        .map(|t| format!("{t}/{UNKNOWN}/{RAILS_3_ID}.parquet"))
        .collect();
    assert_eq!(files_under(&out), expected, "and no temporary files");

    let dumps = table(&out, "dumps", UNKNOWN, RAILS_3_ID);
    assert_eq!(rows(&dumps), 1);
    let objects = object_records(Path::new(&rails(3)));
    assert_eq!(sum(&dumps, "objects"), objects);
    let sites = table(&out, "sites", UNKNOWN, RAILS_3_ID);
    assert_eq!(sum(&sites, "objects"), objects);
    assert_eq!(sum(&sites, "bytes"), sum(&dumps, "bytes"));
    assert_eq!(rows(&table(&out, "retainers", UNKNOWN, RAILS_3_ID)), 1000);
}

/// A text column's values over a file.
fn strings(path: &Path, column: &str) -> Vec<Option<String>> {
    batches(path)
        .iter()
        .flat_map(|batch| {
            let values = batch
                .column_by_name(column)
                .expect(column)
                .as_string::<i32>();
            values
                .iter()
                .map(|value| value.map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// An INT32 or INT64 column's values over a file, as i64.
fn integers(path: &Path, column: &str) -> Vec<Option<i64>> {
    batches(path)
        .iter()
        .flat_map(|batch| {
            let values = batch.column_by_name(column).expect(column);
            match values.as_primitive_opt::<Int32Type>() {
                Some(narrow) => narrow.iter().map(|v| v.map(i64::from)).collect(),
                None => values
                    .as_primitive::<Int64Type>()
                    .iter()
                    .collect::<Vec<_>>(),
            }
        })
        .collect()
}

#[test]
fn retainers_carry_the_shape_of_their_path_from_the_roots() {
    let out = scratch("export-paths").join("tables");
    heapsift(&[
        "export",
        &rails(3),
        "--to",
        out.to_str().unwrap(),
        "--top",
        "40",
    ])
    .succeeds_quietly();
    let retainers = table(&out, "retainers", UNKNOWN, RAILS_3_ID);
    let (addresses, roots) = (integers(&retainers, "address"), strings(&retainers, "root"));
    let (paths, depths) = (strings(&retainers, "path"), integers(&retainers, "depth"));
    let (kinds, classes) = (
        strings(&retainers, "type"),
        strings(&retainers, "class_name"),
    );
    assert_eq!(addresses.len(), 40);
    let mut deep = 0;
    for i in 0..addresses.len() {
        let address = format!("{:#x}", addresses[i].unwrap());
        let path = heapsift(&["path", &rails(3), &address, "--format", "json"]).json();
        let hops = path["hops"].as_array().unwrap();
        assert_eq!(roots[i].as_deref(), path["root"].as_str(), "{address}");
        assert_eq!(depths[i], Some(hops.len() as i64), "{address}");
        let shape = paths[i].as_deref().unwrap();
        assert_eq!(shape.split(" -> ").count(), hops.len(), "{shape}");
        // No addresses: the same shape in another dump compares equal.
        assert!(!shape.contains("0x7f"), "{shape}");
        // The last hop is the retainer itself: a class or module by its
        // own name, anything else by its class.
        let last = shape.rsplit(" -> ").next().unwrap();
        match (kinds[i].as_deref(), &classes[i]) {
            (Some("CLASS" | "MODULE"), _) => assert!(
                ["class ", "module ", "#<Class:"]
                    .iter()
                    .any(|word| last.starts_with(word)),
                "{last}"
            ),
            (_, Some(class)) => assert!(last.starts_with(class.as_str()), "{last} for {class}"),
            (kind, None) => assert!(last.starts_with(kind.unwrap()), "{last}"),
        }
        deep += usize::from(hops.len() > 1);
    }
    assert!(deep > 0, "some retainer is held through other objects");
}

#[test]
fn a_plain_copy_has_the_same_id() {
    let dir = scratch("export-plain");
    let plain = dir.join("3.dump");
    std::fs::write(&plain, gunzip(Path::new(&rails(3)))).unwrap();
    let out = dir.join("tables");
    heapsift(&[
        "export",
        plain.to_str().unwrap(),
        "--to",
        out.to_str().unwrap(),
    ])
    .arg("--top")
    .arg("5")
    .succeeds_quietly();
    let retainers = table(&out, "retainers", UNKNOWN, RAILS_3_ID);
    assert_eq!(rows(&retainers), 5);
}

#[test]
fn an_exported_dump_is_skipped_unless_forced() {
    let out = scratch("export-again").join("tables");
    let to = out.to_str().unwrap();
    heapsift(&["export", &rails(1), "--to", to]).succeeds_quietly();
    let before = files_under(&out);
    let again = heapsift(&["export", &rails(1), "--to", to]).succeeds();
    let notice = again.stderr_text();
    assert!(
        notice.starts_with(&format!("heapsift: {}: exported already as ", rails(1)))
            && notice.trim_end().ends_with("(pass --force to replace it)")
            && notice.lines().count() == 1,
        "{notice}"
    );
    heapsift(&["export", &rails(1), "--to", to, "--force"]).succeeds_quietly();
    assert_eq!(files_under(&out), before, "replaced, not duplicated");
    // Asked for more tables: the missing ones are added, without --force.
    heapsift(&["export", &rails(1), "--to", to, "--objects"]).succeeds_quietly();
    assert_eq!(files_under(&out).len(), before.len() + 2);
}

#[test]
fn objects_and_references_have_a_row_each() {
    let out = scratch("export-objects").join("tables");
    heapsift(&[
        "export",
        &rails(3),
        "--objects",
        "--to",
        out.to_str().unwrap(),
    ])
    .succeeds_quietly();
    let objects = table(&out, "objects", UNKNOWN, RAILS_3_ID);
    assert_eq!(rows(&objects) as i64, object_records(Path::new(&rails(3))));
    let dumps = table(&out, "dumps", UNKNOWN, RAILS_3_ID);
    assert_eq!(sum(&objects, "memsize"), sum(&dumps, "bytes"));
    let references = table(&out, "references", UNKNOWN, RAILS_3_ID);
    // Objects' references as the dump lists them (ROOT records are not
    // objects).
    let listed: usize = gunzip(Path::new(&rails(3)))
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice::<serde_json::Value>(line).unwrap())
        .filter(|record| record.get("address").is_some())
        .map(|record| record["references"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(rows(&references), listed);

    // Generations as the records give them, row by row.
    let dumped: std::collections::HashMap<i64, Option<i64>> = gunzip(Path::new(&rails(3)))
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice::<serde_json::Value>(line).unwrap())
        .filter_map(|record| {
            let address = record.get("address")?.as_str()?;
            let address = i64::from_str_radix(address.trim_start_matches("0x"), 16).ok()?;
            Some((address, record.get("generation").and_then(|g| g.as_i64())))
        })
        .collect();
    let exported: Vec<(Option<i64>, Option<i64>)> = integers(&objects, "address")
        .into_iter()
        .zip(integers(&objects, "generation"))
        .collect();
    assert!(exported.iter().any(|(_, generation)| generation.is_some()));
    for (address, generation) in exported {
        assert_eq!(dumped[&address.unwrap()], generation);
    }
}

#[test]
fn a_store_is_exported_by_dyno_and_day_with_its_context() {
    let dir = scratch("export-store");
    let store = dir.join("store");
    let one = agent_dump(
        &store,
        "web.1",
        "2026-11-27T14:00:00.000Z",
        21,
        Path::new(&rails(1)),
    );
    write_record(
        &one,
        &context_record("web.1", "2026-11-27T14:00:00.000Z", 21, 300 << 20, "hourly"),
    );
    agent_dump(
        &store,
        "web.2",
        "2026-11-28T09:00:00.000Z",
        7,
        Path::new(&rails(2)),
    );
    let out = dir.join("tables");
    let to = out.to_str().unwrap();
    heapsift(&[
        "export",
        store.to_str().unwrap(),
        "--to",
        to,
        "--dyno",
        "web.1",
    ])
    .succeeds_quietly();
    let files = files_under(&out);
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.contains("/dyno=web.1/date=2026-11-27/")),
        "{files:?}"
    );
    let dumps = out.join(files.iter().find(|f| f.starts_with("dumps/")).unwrap());
    assert_eq!(sum(&dumps, "rss"), 300 << 20);

    // Without --dyno: every process's dumps, each in its own partition.
    heapsift(&["export", store.to_str().unwrap(), "--to", to]).succeeds();
    assert!(
        files_under(&out)
            .iter()
            .any(|f| f.contains("/dyno=web.2/date=2026-11-28/")),
    );
}

#[test]
fn a_file_that_is_not_a_dump_writes_nothing() {
    let dir = scratch("export-bad");
    let bad = dir.join("notes.txt");
    std::fs::write(&bad, "hello\nworld\n").unwrap();
    let out = dir.join("tables");
    let failure = heapsift(&[
        "export",
        bad.to_str().unwrap(),
        "--to",
        out.to_str().unwrap(),
    ])
    .fails(2);
    failure.assert_starts_with(&format!("heapsift: {}: not a heap dump", bad.display()));
    assert!(files_under(&out).is_empty());
}

#[test]
fn a_broken_gzip_stream_writes_nothing() {
    let dir = scratch("export-broken");
    let raw = std::fs::read(rails(2)).unwrap();
    let cut = dir.join("cut.dump.gz");
    std::fs::write(&cut, &raw[..raw.len() / 2]).unwrap();
    let out = dir.join("tables");
    heapsift(&[
        "export",
        cut.to_str().unwrap(),
        "--to",
        out.to_str().unwrap(),
    ])
    .fails_with_warnings(2)
    .assert_contains("cut.dump.gz");
    assert!(files_under(&out).is_empty());
}

#[test]
fn a_cut_off_dump_is_exported_from_its_complete_records() {
    let dir = scratch("export-truncated");
    let mut text = gunzip(Path::new(&rails(1)));
    text.truncate(text.len() - 10);
    let cut = dir.join("cut.dump");
    std::fs::write(&cut, &text).unwrap();
    let out = dir.join("tables");
    let output = heapsift(&[
        "export",
        cut.to_str().unwrap(),
        "--to",
        out.to_str().unwrap(),
    ])
    .succeeds();
    assert!(
        output.warning().contains("the dump is cut off"),
        "{}",
        output.stderr_text()
    );
    let id = blake3_hex(&text);
    let dumps = table(&out, "dumps", UNKNOWN, &id);
    let complete = text.split(|&b| b == b'\n').count() as i64 - 1;
    let roots = text
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(br#"{"type":"ROOT""#))
        .count() as i64;
    assert_eq!(sum(&dumps, "objects"), complete - roots);
}

fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..16].to_owned()
}

#[test]
fn dump_ids_are_the_content_hash() {
    assert_eq!(blake3_hex(&gunzip(Path::new(&rails(3)))), RAILS_3_ID);
    // The nullable columns stay typed when empty.
    let out = scratch("export-types").join("tables");
    heapsift(&["export", &rails(3), "--to", out.to_str().unwrap()]).succeeds_quietly();
    let batch = &batches(&table(&out, "dumps", UNKNOWN, RAILS_3_ID))[0];
    assert!(batch.column_by_name("rss").unwrap().is_null(0));
    assert!(batch.column_by_name("time").unwrap().is_null(0));
}

#[test]
fn an_s3_prefix_gets_the_same_layout() {
    let prefix = format!("export-{}", std::process::id());
    let to = format!("s3://{}/{prefix}/", s3::bucket());
    heapsift(&["export", &rails(3), "--objects", "--to", &to]).succeeds_quietly();
    let folder = scratch("export-s3-twin").join("tables");
    let args = ["export", &rails(3), "--objects", "--to"];
    heapsift(&[&args[..], &[folder.to_str().unwrap()]].concat()).succeeds_quietly();
    assert_eq!(s3::keys_under(&prefix), files_under(&folder));
    for file in files_under(&folder) {
        let object = s3::get(&format!("{prefix}/{file}"));
        assert_eq!(rows_of(object), rows(&folder.join(&file)), "{file}");
    }
    let again = heapsift(&["export", &rails(3), "--to", &to]).succeeds();
    assert!(
        again.stderr_text().contains("exported already"),
        "{}",
        again.stderr_text()
    );
}

/// The rows of a Parquet file held in memory.
fn rows_of(file: Vec<u8>) -> usize {
    ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(file))
        .expect("a Parquet file")
        .build()
        .unwrap()
        .map(|batch| batch.unwrap().num_rows())
        .sum()
}

#[test]
fn an_s3_store_is_exported_by_dyno_to_s3() {
    let store = format!("export-store-{}", std::process::id());
    let one = "web.1/2026-11-27T14:00:00.000Z-process:21-heap.dump.gz";
    let two = "web.2/2026-11-28T09:00:00.000Z-process:7-heap.dump.gz";
    s3::put(&format!("{store}/{one}"), std::fs::read(rails(1)).unwrap());
    s3::put(&format!("{store}/{two}"), std::fs::read(rails(2)).unwrap());
    let record = context_record("web.1", "2026-11-27T14:00:00.000Z", 21, 300 << 20, "hourly");
    let record_key = one.replace(".dump.gz", ".json");
    s3::put(&format!("{store}/{record_key}"), record.into_bytes());
    let out = format!("{store}-tables");
    heapsift(&[
        "export",
        &s3::url(&format!("{store}/")),
        "--dyno",
        "web.1",
        "--to",
        &s3::url(&format!("{out}/")),
    ])
    .succeeds_quietly();
    let keys = s3::keys_under(&out);
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| k.contains("/dyno=web.1/date=2026-11-27/")),
        "{keys:?}"
    );
    let dumps = keys.iter().find(|k| k.starts_with("dumps/")).unwrap();
    let dumps = s3::get(&format!("{out}/{dumps}"));
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(dumps))
        .unwrap()
        .build()
        .unwrap();
    let batch = reader.into_iter().next().unwrap().unwrap();
    let rss = batch
        .column_by_name("rss")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!(rss.value(0), 300 << 20, "the context record, read from S3");
    let name = batch.column_by_name("name").unwrap().as_string::<i32>();
    assert_eq!(name.value(0), s3::url(&format!("{store}/{one}")));
}
