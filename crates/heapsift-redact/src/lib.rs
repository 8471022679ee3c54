//! `heapsift redact`: a dump safe to share.
//!
//! Every STRING and SYMBOL record's `value` becomes `redacted:` and 16 hex
//! digits of a keyed hash (BLAKE3) of the value as the dump wrote it: equal
//! values get equal placeholders, so duplicate-string analysis still works,
//! and without the key nobody can check a guess (a password, an email)
//! against a placeholder. Everything else of every record is kept byte for
//! byte — sizes, sites, references — so every other report is unchanged.
//! Lines that are not records are left out: they could hold anything.
//!
//! Reading is parallel ([`RedactSink`], one per reading thread, fed by
//! `heapsift_scan::scan_in_order`, which writes the redacted blocks in the
//! dump's order as they come).

use std::io;

use heapsift_parse::Record;
use heapsift_scan::{BlockOutput, RecordSink, WritesBlocks};

/// What a placeholder starts with.
const PREFIX: &[u8] = b"redacted:";

/// Hex digits of the keyed hash in a placeholder: 64 bits, so that two of
/// even a hundred million distinct values share one with a chance of about
/// one in four thousand.
const DIGITS: usize = 16;

/// Turns values into placeholders with one key.
#[derive(Clone)]
pub struct Redactor {
    key: [u8; 32],
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { key: <secret> }")
    }
}

impl Redactor {
    /// A redactor whose placeholders depend on `salt`: the same salt gives
    /// the same placeholders in every run (to compare redacted dumps).
    pub fn with_salt(salt: &str) -> Self {
        Redactor {
            key: blake3::derive_key("heapsift redact 2026-11 salt", salt.as_bytes()),
        }
    }

    /// A redactor with a random key, forgotten when the run ends.
    pub fn random() -> io::Result<Self> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(io::Error::other)?;
        Ok(Redactor { key })
    }

    /// The placeholder of a value (its text as the dump wrote it, escapes
    /// and all): `redacted:` and 16 hex digits.
    pub fn placeholder(&self, value: &[u8]) -> [u8; PREFIX.len() + DIGITS] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let hash = blake3::keyed_hash(&self.key, value);
        let mut text = [0u8; PREFIX.len() + DIGITS];
        text[..PREFIX.len()].copy_from_slice(PREFIX);
        for (i, byte) in hash.as_bytes()[..DIGITS / 2].iter().enumerate() {
            text[PREFIX.len() + 2 * i] = HEX[usize::from(byte >> 4)];
            text[PREFIX.len() + 2 * i + 1] = HEX[usize::from(byte & 0xf)];
        }
        text
    }

    /// Appends the record's line, value redacted, and a newline.
    pub fn redact_into(&self, record: &Record<'_>, out: &mut Vec<u8>) {
        let line = record.text;
        let value = match record.kind {
            b"STRING" | b"SYMBOL" => record.value.and_then(|value| span_in(line, value)),
            _ => None,
        };
        match value {
            Some((start, end)) => {
                out.extend_from_slice(&line[..start]);
                out.extend_from_slice(&self.placeholder(&line[start..end]));
                out.extend_from_slice(&line[end..]);
            }
            None => out.extend_from_slice(line),
        }
        out.push(b'\n');
    }
}

/// Where `part`, a slice of `line`, sits in it.
fn span_in(line: &[u8], part: &[u8]) -> Option<(usize, usize)> {
    let start = (part.as_ptr() as usize).checked_sub(line.as_ptr() as usize)?;
    let end = start + part.len();
    (end <= line.len()).then_some((start, end))
}

/// One reading thread's redaction: each block's records, redacted, go to
/// its [`BlockOutput`].
#[derive(Debug)]
pub struct RedactSink<'a> {
    redactor: &'a Redactor,
    output: BlockOutput,
}

impl<'a> RedactSink<'a> {
    /// A sink redacting with `redactor` into `output`.
    pub fn new(redactor: &'a Redactor, output: BlockOutput) -> Self {
        RedactSink { redactor, output }
    }
}

impl RecordSink for RedactSink<'_> {
    fn block_started(&mut self, block: u32) {
        self.output.start(block);
    }

    fn record(&mut self, record: &Record<'_>) {
        if let Some(out) = self.output.bytes() {
            self.redactor.redact_into(record, out);
        }
    }
}

impl WritesBlocks for RedactSink<'_> {
    fn output(&mut self) -> Option<&mut BlockOutput> {
        Some(&mut self.output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapsift_parse::{Parsed, parse_line};

    fn redacted(redactor: &Redactor, line: &str) -> String {
        let Parsed::Record { record, .. } = parse_line(line.as_bytes()) else {
            panic!("not a record: {line}");
        };
        let mut out = Vec::new();
        redactor.redact_into(&record, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn only_string_and_symbol_values_change() {
        let redactor = Redactor::with_salt("s");
        let string = r#"{"address":"0x1", "type":"STRING", "bytesize":6, "value":"hunter", "file":"a.rb", "line":3, "memsize":40}"#;
        let out = redacted(&redactor, string);
        let placeholder = String::from_utf8(redactor.placeholder(b"hunter").to_vec()).unwrap();
        assert_eq!(out, string.replace("hunter", &placeholder) + "\n");
        assert!(placeholder.starts_with("redacted:") && placeholder.len() == 25);
        let symbol = r#"{"address":"0x2", "type":"SYMBOL", "value":"api_key", "memsize":40}"#;
        assert!(!redacted(&redactor, symbol).contains("api_key"));
        // A class's name is code, not data.
        let class = r#"{"address":"0x3", "type":"CLASS", "name":"Secret", "memsize":40}"#;
        assert_eq!(redacted(&redactor, class), format!("{class}\n"));
        // Escapes are hashed as written: the whole value goes.
        let raw = r#"a\"b\\c\u0001"#;
        let escaped =
            format!(r#"{{"address":"0x4", "type":"STRING", "value":"{raw}", "memsize":40}}"#);
        let placeholder = String::from_utf8(redactor.placeholder(raw.as_bytes()).to_vec()).unwrap();
        assert_eq!(
            redacted(&redactor, &escaped),
            escaped.replace(raw, &placeholder) + "\n"
        );
    }

    #[test]
    fn equal_values_equal_placeholders_per_key() {
        let a = Redactor::with_salt("one");
        assert_eq!(a.placeholder(b"x"), a.placeholder(b"x"));
        assert_ne!(a.placeholder(b"x"), a.placeholder(b"y"));
        assert_ne!(
            a.placeholder(b"x"),
            Redactor::with_salt("two").placeholder(b"x")
        );
        let random = Redactor::random().unwrap();
        assert_ne!(
            random.placeholder(b"x"),
            Redactor::random().unwrap().placeholder(b"x")
        );
    }
}
