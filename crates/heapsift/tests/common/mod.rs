//! The test harness of the `heapsift` binary: [`Heapsift`] runs it and
//! checks how it ended (see `run.rs`); the functions here find fixtures
//! and make scratch files and dumps.

#![allow(dead_code)] // each test file uses a different subset

mod run;
pub mod s3;

#[allow(unused_imports)] // likewise
pub use run::{Failure, Heapsift, Output, heapsift, read};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root folder (where the README is).
pub fn repo_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().unwrap().parent().unwrap().to_owned()
}

/// `../shared` beside the repository: fixture dumps and expected outputs.
pub fn shared() -> PathBuf {
    let path = repo_root().join("../shared");
    assert!(
        path.join("fixtures").is_dir(),
        "the fixtures are missing: expected ../shared/fixtures beside the repository ({})",
        path.display()
    );
    path
}

/// The path of `relative` under `../shared/fixtures`.
pub fn fixture(relative: &str) -> PathBuf {
    shared().join("fixtures").join(relative)
}

/// The path of `rails-small/<n>.dump.gz`, as an argument.
pub fn rails(n: u32) -> String {
    fixture(&format!("rails-small/{n}.dump.gz"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Copies `source` into the agent's layout under `store`:
/// `<dyno>/<time>-process:<pid>-heap.dump.gz` (or the ending `source`
/// has: `.dump`, `.dump.zst`); returns the copy's path.
pub fn agent_dump(store: &Path, dyno: &str, time: &str, pid: u32, source: &Path) -> PathBuf {
    let name = source.file_name().unwrap().to_str().unwrap();
    let ending = [".dump.gz", ".dump.zst", ".dump"]
        .into_iter()
        .find(|ending| name.ends_with(ending))
        .unwrap_or(".dump.gz");
    let copy = store
        .join(dyno)
        .join(format!("{time}-process:{pid}-heap{ending}"));
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(source, &copy).expect("fixture copied");
    copy
}

/// Where the agent puts the context record of `dump`: `X.json` beside
/// `X.dump.gz`, `X.dump.zst` or `X.dump`.
pub fn record_path(dump: &Path) -> PathBuf {
    let name = dump.to_str().unwrap();
    let stem = [".dump.gz", ".dump.zst", ".dump"]
        .into_iter()
        .find_map(|ending| name.strip_suffix(ending))
        .expect("a dump's name");
    PathBuf::from(format!("{stem}.json"))
}

/// A context record as the agent writes it (version 1), for a signal with
/// `message`, with the process's RSS `rss` and a field no version has yet
/// (which heapsift must keep).
pub fn context_record(dyno: &str, time: &str, pid: u32, rss: u64, message: &str) -> String {
    format!(
        r#"{{
  "version": 1,
  "time": "{time}",
  "dyno": "{dyno}",
  "pid": {pid},
  "ruby_description": "ruby 3.1.2p20 (2022-04-12 revision 4491bb740a) [x86_64-linux-gnu]",
  "trigger": {{"kind": "signal", "message": "{message}", "request": "9f0c1d2e3f405162"}},
  "rss_bytes": {rss},
  "rss_peak_bytes": {peak},
  "memory_limit_bytes": 536870912,
  "heap_pages_bytes": 31457280,
  "gc": {{"count": 48, "heap_allocated_pages": 768, "heap_live_slots": 171401, "total_allocated_objects": 2283911, "major_gc_count": 9}},
  "gc_heap": null,
  "tracing_since": "2026-11-27T13:00:00.000Z",
  "dump_seconds": 1.93,
  "compressed_bytes": 1904840,
  "a_field_of_a_later_version": {{"kept": true}}
}}
"#,
        peak = rss + 4096
    )
}

/// Writes `record` as the context record of `dump`; returns its path.
pub fn write_record(dump: &Path, record: &str) -> PathBuf {
    let path = record_path(dump);
    std::fs::write(&path, record).unwrap();
    path
}

/// The text of an expected-output fixture.
pub fn expected(relative: &str) -> String {
    String::from_utf8(std::fs::read(fixture(relative)).expect("expected output")).expect("UTF-8")
}

/// The decompressed content of a gzip file.
pub fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).expect("fixture exists"))
        .read_to_end(&mut out)
        .expect("fixture decompresses");
    out
}

/// A scratch folder for one test, removed and made anew.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("heapsift-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Runs `body` in Ruby with allocation tracing on, then dumps the heap to
/// `dir/<name>.dump` (extra `args` reach the script as ARGV[1..]). Fails the
/// test with a clear message when Ruby is missing.
pub fn dump_with_ruby(dir: &Path, name: &str, body: &str, args: &[&str]) -> PathBuf {
    let script = dir.join(format!("{name}.rb"));
    let dump = dir.join(format!("{name}.dump"));
    std::fs::write(
        &script,
        format!(
            "require \"objspace\"\nObjectSpace.trace_object_allocations_start\n{body}\nGC.start\n\
             File.open(ARGV[0], \"w\") {{ |f| ObjectSpace.dump_all(output: f) }}\n"
        ),
    )
    .unwrap();
    let mut script_args = vec![dump.as_os_str()];
    script_args.extend(args.iter().map(std::ffi::OsStr::new));
    ruby(&script, &script_args);
    dump
}

/// Runs a Ruby `script` with `args`, failing the test with Ruby's stderr
/// when it fails, or with a clear message when Ruby is missing.
pub fn ruby(script: &Path, args: &[&std::ffi::OsStr]) {
    let output = Command::new("ruby")
        .arg(script)
        .args(args)
        .output()
        .expect("these tests need Ruby: apt-get install ruby");
    assert!(
        output.status.success(),
        "ruby failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
