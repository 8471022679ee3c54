//! `heapsift redact`: secrets planted in a dump written by Ruby are gone
//! from the copy, plain or compressed, while the reports stay the same;
//! inputs and existing outputs are never touched.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{Heapsift, dump_with_ruby, gunzip, read, scratch};
use serde_json::Value;

/// The secrets the Ruby program keeps in memory.
const SECRETS: [&str; 8] = [
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "s3cr3t-p4ss",
    "customer7@example.com",
    "billing@acme-corp.example",
    "tok_live_9f8e7d6c5b4a",
    "ghp_0123456789abcdefghij",
    "sk_dyn_symbol_secret",
];

/// A dump of a process holding an AWS key pair, a DATABASE_URL, emails,
/// tokens (30 copies of one), and a secret as a dynamic Symbol.
fn dump_with_secrets(dir: &Path) -> std::path::PathBuf {
    dump_with_ruby(
        dir,
        "secrets",
        r#"part = ->(s) { s.dup }
           ENV_LIKE = {
             "AWS_ACCESS_KEY_ID" => part.("AKIAIOSFODNN7EXAMPLE"),
             "AWS_SECRET_ACCESS_KEY" => part.("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
             "DATABASE_URL" => "postgres://app:" + part.("s3cr3t-p4ss") + "@db.internal:5432/prod",
           }
           EMAILS = Array.new(50) { |i| "customer#{i}@example.com" } + ["billing@acme-corp.example"]
           TOKENS = Array.new(30) { "tok_live_" + part.("9f8e7d6c5b4a") } + [part.("ghp_0123456789abcdefghij")]
           SYMBOL = ["sk_dyn", "symbol", "secret"].join("_").to_sym"#,
        &[],
    )
}

/// `heapsift redact IN OUT ARGS...`.
fn redact(input: &Path, out: &Path, args: &[&str]) -> Heapsift {
    Heapsift::new().arg("redact").arg(input).arg(out).args(args)
}

/// `heapsift read DUMP ARGS... --format json`, parsed.
fn read_json(dump: &Path, args: &[&str]) -> Value {
    read(dump, args).args(["--format", "json"]).json()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn no_secret_survives_and_the_reports_stay_the_same() {
    let dir = scratch("redact");
    let dump = dump_with_secrets(&dir);
    let original = std::fs::read(&dump).unwrap();
    for secret in SECRETS {
        assert!(contains(&original, secret), "the test dump lacks {secret}");
    }
    for name in ["shared.dump", "shared.dump.gz", "shared.dump.zst"] {
        let out = dir.join(name);
        redact(&dump, &out, &[]).succeeds_quietly();
        let bytes = std::fs::read(&out).unwrap();
        let text = match name.rsplit('.').next() {
            Some("gz") => gunzip(&out),
            Some("zst") => zstd::decode_all(&bytes[..]).unwrap(),
            _ => bytes,
        };
        for secret in SECRETS {
            assert!(!contains(&text, secret), "{name} still holds {secret}");
        }
        assert!(contains(&text, "\"value\":\"redacted:"), "{name}");
        // Same lines, and the input is untouched.
        let lines = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count();
        assert_eq!(lines(&text), lines(&original), "{name}");
        assert_eq!(std::fs::read(&dump).unwrap(), original);

        // Every report but the duplicate strings' values is the same.
        assert_eq!(read_json(&out, &[]), read_json(&dump, &[]));
        let all = |file: &Path| read_json(file, &["all", "--lines", "100000"]);
        let (before, after) = (all(&dump), all(&out));
        for section in [
            "allocated_by_memory",
            "object_count",
            "object_counts_by_class",
            "high_ref_counts",
        ] {
            assert_eq!(before[section], after[section], "{name}: {section}");
        }
        let counts = |report: &Value| {
            let mut counts: Vec<u64> = report["duplicate_strings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["count"].as_u64().unwrap())
                .collect();
            counts.sort_unstable();
            counts
        };
        assert_eq!(counts(&before), counts(&after), "{name}");
        // The 30 equal tokens still show as one duplicate, placeholder and all.
        let tokens: Vec<&Value> = after["duplicate_strings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["count"] == 30)
            .collect();
        assert!(!tokens.is_empty());
        assert!(
            tokens
                .iter()
                .all(|d| d["value"].as_str().unwrap().starts_with("redacted:"))
        );
    }
}

#[test]
fn a_salt_makes_placeholders_repeatable_and_without_one_they_differ() {
    let dir = scratch("redact-salt");
    let dump = dump_with_secrets(&dir);
    let make = |name: &str, salt: Option<&str>| {
        let out = dir.join(name);
        let salt: &[&str] = match salt {
            Some(salt) => &["--salt", salt],
            None => &[],
        };
        redact(&dump, &out, salt).succeeds();
        std::fs::read(out).unwrap()
    };
    assert_eq!(make("a", Some("pepper")), make("b", Some("pepper")));
    assert_ne!(make("c", Some("pepper")), make("d", Some("salt")));
    assert_ne!(make("e", None), make("f", None));
    // One placeholder per distinct value, the same for equal values.
    let text = String::from_utf8(make("g", Some("pepper"))).unwrap();
    let mut per_placeholder: HashMap<&str, usize> = HashMap::new();
    for line in text.lines().filter(|l| l.contains("\"value\":\"redacted:")) {
        let start = line.find("redacted:").unwrap();
        *per_placeholder.entry(&line[start..start + 25]).or_default() += 1;
    }
    assert!(per_placeholder.values().any(|&n| n >= 30));
}

#[test]
fn inputs_and_existing_outputs_are_never_touched() {
    let dir = scratch("redact-safety");
    let dump = dump_with_secrets(&dir);
    let original = std::fs::read(&dump).unwrap();

    redact(&dump, &dump, &["--force"])
        .fails(2)
        .assert_contains("is the input");
    assert_eq!(std::fs::read(&dump).unwrap(), original);

    let existing = dir.join("existing.dump");
    std::fs::write(&existing, "mine").unwrap();
    assert_eq!(
        redact(&dump, &existing, &[]).fails(2).message(),
        format!(
            "heapsift: {}: exists already; pass --force to replace it",
            existing.display()
        )
    );
    assert_eq!(std::fs::read(&existing).unwrap(), b"mine");
    redact(&dump, &existing, &["--force"]).succeeds();
    assert_ne!(std::fs::read(&existing).unwrap(), b"mine");

    // A dump cut mid-line: its complete records, and a warning.
    let cut = dir.join("cut.dump");
    let keep = original.len() * 2 / 3;
    std::fs::write(&cut, &original[..keep]).unwrap();
    let out = dir.join("cut-shared.dump");
    redact(&cut, &out, &[]).succeeds().warning();
    let complete = original[..keep].iter().filter(|&&b| b == b'\n').count();
    let written = std::fs::read(&out).unwrap();
    assert_eq!(written.iter().filter(|&&b| b == b'\n').count(), complete);

    // A compressed dump that breaks off can't be copied whole: no OUT (the
    // error comes after the reader's warnings about the cut).
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gzip, &original).unwrap();
    let gzip = gzip.finish().unwrap();
    let broken = dir.join("broken.dump.gz");
    std::fs::write(&broken, &gzip[..gzip.len() / 2]).unwrap();
    let out = dir.join("broken-shared.dump");
    redact(&broken, &out, &[])
        .fails_with_warnings(2)
        .assert_contains("could not be read to its end");
    assert!(!out.exists());

    // A failed run leaves nothing behind.
    let png = dir.join("picture.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    for input in [png.clone(), dir.join("absent.dump")] {
        let out = dir.join("never.dump");
        redact(&input, &out, &[])
            .fails(2)
            .assert_starts_with(&format!("heapsift: {}: ", input.display()));
        assert!(!out.exists());
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn ctrl_c_leaves_no_temporary_file() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let dir = scratch("redact-interrupt");
    let dump = dump_with_secrets(&dir);
    let out = dir.join("interrupted.dump");
    let mut child = redact(Path::new("-"), &out, &[])
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Some lines, and the pipe kept open: heapsift waits for the rest.
    let mut stdin = child.stdin.take().unwrap();
    let original = std::fs::read(&dump).unwrap();
    stdin.write_all(&original[..original.len() / 2]).unwrap();
    let partial = || {
        std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().contains(".partial-"))
    };
    let started = std::time::Instant::now();
    while !partial() {
        assert!(
            started.elapsed().as_secs() < 20,
            "redact never started writing"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!partial(), "the temporary file is left behind");
    assert!(!out.exists());
}
