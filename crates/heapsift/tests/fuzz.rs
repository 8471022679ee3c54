//! A bounded, seeded mutation test: real fixture lines, damaged the ways
//! dumps get damaged (cut, bytes flipped, quotes, braces, NULs and newlines
//! inserted, huge numbers and lines, duplicate addresses, references to
//! missing objects and cycles, blank lines), run through every command
//! that reads dumps. Each must end within its time limit with exit 0, 1
//! or 2, print only `heapsift: ` lines on stderr, at most one of each kind,
//! and `read` must count every record whose line came through intact. A
//! gzipped copy, cut or with a byte changed, goes through the gzip reader.
//!
//! It runs for `HEAPSIFT_FUZZ_SECONDS` (default 40) from the seed in
//! `HEAPSIFT_FUZZ_SEED` (default: the clock), and prints the seed. A
//! failure names the seed of its case: `HEAPSIFT_FUZZ_SEED=<it>` runs that
//! case first.

mod common;

use std::collections::HashSet;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Heapsift, gunzip, rails, scratch};

/// SplitMix64: small, seedable, and good enough to pick mutations.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The seed of case `k` of a run seeded `seed`: case 0 is the seed itself.
fn case_seed(seed: u64, k: u64) -> u64 {
    if k == 0 {
        seed
    } else {
        Random(seed ^ k.wrapping_mul(0xa24b_aed4_963e_e407)).next()
    }
}

/// A dump being damaged: its lines, and which came through untouched.
struct Sample {
    lines: Vec<Vec<u8>>,
    intact: Vec<bool>,
    final_newline: bool,
}

impl Sample {
    /// The fixture's ROOT lines and a window of its other lines.
    fn of(all: &[Vec<u8>], random: &mut Random) -> Sample {
        let roots = all
            .iter()
            .take_while(|l| l.starts_with(br#"{"type":"ROOT""#));
        let start = random.below(all.len().saturating_sub(400));
        let lines: Vec<Vec<u8>> = roots.chain(&all[start..start + 300]).cloned().collect();
        Sample {
            intact: vec![true; lines.len()],
            lines,
            final_newline: true,
        }
    }

    fn damage(&mut self, random: &mut Random) {
        let i = random.below(self.lines.len());
        let line = &mut self.lines[i];
        let at = random.below(line.len() + 1);
        match random.below(11) {
            0 => line.truncate(at),
            1 if !line.is_empty() => {
                let byte = at.min(line.len() - 1);
                line[byte] ^= 1 << random.below(8);
            }
            2 => {
                let byte = b"\"{}[]\0\n\\,:"[random.below(10)];
                line.insert(at, byte);
            }
            3 => {
                // The first number after `at` becomes one no integer holds.
                if let Some(digit) = line[at..].iter().position(u8::is_ascii_digit) {
                    line.splice(at + digit..at + digit, b"99999999999999999999999".to_vec());
                }
            }
            4 => {
                // A huge line: a megabyte-long string value.
                let at = line.iter().rposition(|&b| b == b'}').unwrap_or(line.len());
                let huge = format!(", \"value\":\"{}\"", "x".repeat(1 << 20));
                line.splice(at..at, huge.into_bytes());
            }
            5 => {
                let copy = line.clone();
                self.lines.insert(i, copy);
                self.intact.insert(i, false);
                return;
            }
            6 | 7 => {
                // A reference to a missing object, or back to itself.
                let target = if random.below(2) == 0 {
                    b"0x1234abcd".to_vec()
                } else {
                    address_of(line).unwrap_or_default()
                };
                if let Some(open) = find(line, br#""references":["#) {
                    let entry = [b"\"", &target[..], b"\", "].concat();
                    line.splice(open + 15..open + 15, entry);
                }
            }
            8 => {
                let blank = [&b""[..], b"   ", b"\t"][random.below(3)].to_vec();
                self.lines.insert(i, blank);
                self.intact.insert(i, false);
                return;
            }
            9 => {
                self.lines.truncate(i + 1);
                self.intact.truncate(i + 1);
                self.final_newline = false;
                let last = self.lines.last_mut().expect("a line");
                last.truncate(at.min(last.len()));
                *self.intact.last_mut().expect("a line") = false;
                return;
            }
            _ => line.insert(at, b' '),
        }
        self.intact[i] = false;
    }

    fn write(&self, path: &Path) {
        let mut bytes = self.lines.join(&b'\n');
        if self.final_newline {
            bytes.push(b'\n');
        }
        std::fs::write(path, bytes).expect("sample written");
    }

    /// Lines that came through untouched.
    fn intact_records(&self) -> u64 {
        self.intact.iter().filter(|&&intact| intact).count() as u64
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn address_of(line: &[u8]) -> Option<Vec<u8>> {
    let start = find(line, br#""address":""#)? + 11;
    let len = line[start..].iter().position(|&b| b == b'"')?;
    Some(line[start..start + len].to_vec())
}

/// How a run ended.
struct Ended {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs heapsift with `args`, killing it after `limit`: `None` means it
/// hung.
fn run(args: &[&str], limit: Duration) -> Option<Ended> {
    let mut child = Heapsift::new()
        .args(args)
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("heapsift starts");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let stdout = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = out.read_to_end(&mut bytes);
        bytes
    });
    let stderr = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = err.read_to_end(&mut bytes);
        bytes
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("heapsift runs") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = stdout.join().expect("stdout read");
    let stderr = String::from_utf8_lossy(&stderr.join().expect("stderr read")).into_owned();
    status.map(|status| Ended {
        code: status.code(),
        stdout,
        stderr,
    })
}

/// What a warning or error says, its numbers and line lists left out: two
/// lines of one kind about one file read the same.
fn kind_of(line: &str) -> String {
    let without_lists = line.split(" (line").next().unwrap_or(line);
    without_lists
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// Checks one command's run; `Err` says what went wrong.
fn check(args: &[&str]) -> Result<Ended, String> {
    let shown = args.join(" ");
    let ended = run(args, Duration::from_secs(30)).ok_or(format!("{shown}: no end within 30 s"))?;
    if !matches!(ended.code, Some(0..=2)) {
        return Err(format!("{shown}: exit {:?}\n{}", ended.code, ended.stderr));
    }
    let mut kinds = HashSet::new();
    for line in ended.stderr.lines() {
        if !line.starts_with("heapsift: ") || line.contains("panicked") {
            return Err(format!("{shown}: stderr line {line:?}\n{}", ended.stderr));
        }
        if !kinds.insert(kind_of(line)) {
            return Err(format!(
                "{shown}: the same kind of line twice\n{}",
                ended.stderr
            ));
        }
    }
    Ok(ended)
}

/// Runs every command that reads dumps on one damaged sample.
fn one_case(seed: u64, all: &[Vec<u8>], dir: &Path) -> Result<(), String> {
    let mut random = Random(seed);
    let mut sample = Sample::of(all, &mut random);
    let clean = dir.join("clean.dump");
    sample.write(&clean);
    let address = sample
        .lines
        .iter()
        .rev()
        .find_map(|line| address_of(line))
        .map(|a| String::from_utf8_lossy(&a).into_owned())
        .unwrap_or_else(|| "0x1".into());
    for _ in 0..1 + random.below(5) {
        sample.damage(&mut random);
    }
    let damaged = dir.join("damaged.dump");
    sample.write(&damaged);
    let (c, d) = (path_str(&clean), path_str(&damaged));
    let out = dir.join("out");
    let (redacted, tables) = (out.join("redacted.dump"), out.join("tables"));
    let commands: Vec<Vec<&str>> = vec![
        vec!["read", d],
        vec!["read", d, "all"],
        vec!["diff", c, d],
        vec!["trend", c, d, c],
        vec!["retained", d],
        vec!["path", d, &address],
        vec!["show", d, &address],
        vec!["suspects", c, d],
        vec!["redact", d, path_str(&redacted), "--force"],
        vec![
            "export",
            &d,
            "--objects",
            "--force",
            "--to",
            path_str(&tables),
        ],
    ];
    std::fs::create_dir_all(&out).expect("output folder");
    for args in &commands {
        check(args)?;
    }
    // The gzip reader, on a compressed stream cut or with a byte flipped.
    let gzipped = dir.join("damaged.dump.gz");
    std::fs::write(&gzipped, damaged_gzip(&damaged, &mut random)).expect("gzip written");
    check(&["read", path_str(&gzipped), "all"])?;
    let report = check(&["read", d, "--format", "json"])?;
    if report.code == Some(0) {
        let json: serde_json::Value =
            serde_json::from_slice(&report.stdout).map_err(|e| format!("read JSON: {e}"))?;
        let count = json["total"]["count"].as_u64().unwrap_or(0);
        let written = std::fs::read(&damaged).expect("sample");
        let lines = written
            .split(|&b| b == b'\n')
            .filter(|l| !l.trim_ascii().is_empty())
            .count() as u64;
        let intact = sample.intact_records();
        if count < intact || count > lines {
            return Err(format!(
                "read counted {count} records; {intact} lines are intact"
            ));
        }
    } else if sample.intact_records() > 0 {
        return Err(format!(
            "read failed with intact records:\n{}",
            report.stderr
        ));
    }
    Ok(())
}

/// The file at `path` gzipped, then cut short or with one byte changed.
fn damaged_gzip(path: &Path, random: &mut Random) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(path).expect("sample"))
        .expect("gzip");
    let mut bytes = gz.finish().expect("gzip");
    let at = random.below(bytes.len());
    if random.below(2) == 0 {
        bytes.truncate(at);
    } else {
        bytes[at] ^= 1 << random.below(8);
    }
    bytes
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

#[test]
fn damaged_dumps_never_crash_hang_or_lose_intact_records() {
    let seed = std::env::var("HEAPSIFT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let budget = std::env::var("HEAPSIFT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    // Straight to the terminal, past the test harness's capture.
    let _ = writeln!(std::io::stderr(), "fuzz: seed {seed}, {budget} s");
    let text = gunzip(Path::new(&rails(1)));
    let all: Vec<Vec<u8>> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let dir = scratch("fuzz");
    let started = Instant::now();
    let mut cases = 0;
    while cases == 0 || started.elapsed() < Duration::from_secs(budget) {
        let case = case_seed(seed, cases);
        if let Err(problem) = one_case(case, &all, &dir) {
            panic!("fuzz case seed {case} (HEAPSIFT_FUZZ_SEED={case} replays it): {problem}");
        }
        cases += 1;
    }
    let _ = writeln!(std::io::stderr(), "fuzz: {cases} cases, nothing found");
}
