//! Helpers shared by the CLI tests: running the binary, finding fixtures,
//! making scratch files.

#![allow(dead_code)] // each test file uses a different subset

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `../shared` beside the repository: fixture dumps and expected outputs.
pub fn shared() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    assert!(
        path.join("fixtures").is_dir(),
        "the fixtures are missing: expected ../shared/fixtures beside the repository ({})",
        path.display()
    );
    path
}

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

/// Runs heapsift with `args`, optionally feeding `stdin`.
pub fn heapsift(args: &[&std::ffi::OsStr], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_heapsift"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("heapsift runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin piped");
        pipe.write_all(bytes).expect("stdin written");
    }
    child.wait_with_output().expect("heapsift finishes")
}

/// Runs heapsift with string arguments.
pub fn run(args: &[&str]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| std::ffi::OsStr::new(*a)).collect();
    heapsift(&args, None)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The decompressed content of a gzip fixture.
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
    let output = Command::new("ruby")
        .arg(&script)
        .arg(&dump)
        .args(args)
        .output()
        .expect("these tests need Ruby: apt-get install ruby");
    assert!(
        output.status.success(),
        "ruby failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    dump
}
