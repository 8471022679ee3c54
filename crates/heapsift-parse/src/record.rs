//! One line of a dump, parsed into a [`Record`].

use crate::cursor::{CANDIDATE_BUDGET, Cursor, Malformed, Scan};
use crate::keys::{Field, Found, KeyPredictor, START};
use crate::strings::{decode_json_string, is_strict_json_string, parse_address};
use std::borrow::Cow;

/// One record (line) of a heap dump, borrowing from the line.
///
/// Only the fields heapsift uses are kept; any other field is checked for
/// well-formedness and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record<'a> {
    /// The `type` field, e.g. `STRING`, `ROOT`, `SHAPE`.
    pub kind: &'a [u8],
    /// The `address` field's text, e.g. `0x7f00c0ffee08`.
    pub address: Option<&'a [u8]>,
    /// The `class` field's text: the address of the klass word.
    pub class: Option<&'a [u8]>,
    /// `generation`: `GC.count` when the object was allocated (traced objects).
    pub generation: Option<u64>,
    /// `memsize` in bytes, slot included.
    pub memsize: Option<u64>,
    /// `file` where the object was allocated, exactly as Ruby wrote it.
    pub file: Option<&'a [u8]>,
    /// `line` where the object was allocated.
    pub line: Option<u64>,
    /// The raw content of the `references` array (between the brackets).
    pub references: Option<&'a [u8]>,
    /// How many entries `references` has (duplicates included).
    pub reference_count: u32,
    /// The `value` field, still JSON-escaped, when it is a string.
    pub value: Option<&'a [u8]>,
    /// Whether `value` holds escapes and needs [`decode_json_string`].
    pub value_escaped: bool,
    /// The `name` field (classes and modules), as written.
    pub name: Option<&'a [u8]>,
    /// The `root` category of ROOT records, e.g. `vm`.
    pub root: Option<&'a [u8]>,
    /// How big the object is in its own terms: `bytesize` of a STRING or
    /// SYMBOL, `length` of an ARRAY, `size` (entries) of a HASH.
    pub length: Option<u64>,
    /// `struct`: the C type of a DATA object, as written.
    pub struct_name: Option<&'a [u8]>,
    /// `imemo_type` of an IMEMO record, e.g. `ment`, `iseq`, `constcache`.
    pub imemo_type: Option<&'a [u8]>,
    /// `"singleton":true`: a singleton class (Ruby 3.1+).
    pub singleton: bool,
    /// `superclass` of a CLASS (Ruby 3.1+): for a singleton class of an
    /// object, the object's real class.
    pub superclass: Option<&'a [u8]>,
    /// The whole line, as written (without its newline).
    pub text: &'a [u8],
}

impl Record<'_> {
    /// `gen(r)` in the reports: the generation, or 0 when absent.
    pub fn generation_or_zero(&self) -> u64 {
        self.generation.unwrap_or(0)
    }

    /// `memsize(r)` in the reports: the memsize, or 0 when absent.
    pub fn memsize_or_zero(&self) -> u64 {
        self.memsize.unwrap_or(0)
    }

    /// The numeric address, when present and readable.
    pub fn address_value(&self) -> Option<u64> {
        self.address.and_then(parse_address)
    }

    /// The string's value, unescaped (STRING and SYMBOL records).
    pub fn value_bytes(&self) -> Option<Cow<'_, [u8]>> {
        self.value.map(|raw| {
            if self.value_escaped {
                Cow::Owned(decode_json_string(raw))
            } else {
                Cow::Borrowed(raw)
            }
        })
    }

    /// The class or module name, unescaped when Ruby escaped it (3.3.7+),
    /// as written otherwise.
    pub fn name_bytes(&self) -> Option<Cow<'_, [u8]>> {
        self.name.map(|raw| {
            if memchr::memchr(b'\\', raw).is_some() && is_strict_json_string(raw) {
                Cow::Owned(decode_json_string(raw))
            } else {
                Cow::Borrowed(raw)
            }
        })
    }
}

/// Why a non-empty line is not a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// The line is not a well-formed JSON object, even allowing for Ruby's
    /// known output bugs.
    Malformed,
    /// The line is a JSON object without a string `type`.
    NoType,
}

/// The result of parsing one line.
// Returned by value from the one-line convenience API; the hot path fills a
// caller's record in place instead (`parse_first_line`).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// An empty or all-whitespace line.
    Blank,
    /// A record.
    Record {
        /// The record's fields.
        record: Record<'a>,
        /// Whether strict JSON would reject the line, and the record was read
        /// by following Ruby's layout instead.
        recovered: bool,
    },
    /// A line that is not a record.
    Rejected(RejectReason),
}

/// What a line held, when its record was parsed in place (see
/// [`LineParser::parse_first_line`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// An empty or all-whitespace line.
    Blank,
    /// A record, now in the record given; `recovered` as in [`Parsed`].
    Record {
        /// Whether strict JSON would reject the line.
        recovered: bool,
    },
    /// A line that is not a record.
    Rejected(RejectReason),
}

/// Parses the lines of a dump, learning as it goes how Ruby laid out the
/// records; use one per thread.
#[derive(Default)]
pub struct LineParser {
    keys: KeyPredictor,
}

impl LineParser {
    /// Parses one line of a dump (without its newline).
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let mut record = Record::default();
        match self.parse_first_line(line, &mut record).0 {
            LineKind::Blank => Parsed::Blank,
            LineKind::Record { recovered } => Parsed::Record { record, recovered },
            LineKind::Rejected(reason) => Parsed::Rejected(reason),
        }
    }

    /// Parses the first line of `data` (the rest of a block of lines) into
    /// `record`, and returns what the line held and its length without its
    /// newline. Finding the line's end while parsing saves a separate search
    /// for it; filling a caller's record saves moving one per line.
    pub fn parse_first_line<'a>(
        &mut self,
        data: &'a [u8],
        record: &mut Record<'a>,
    ) -> (LineKind, usize) {
        let mut cursor = Cursor::new(data);
        cursor.skip_ws();
        if cursor.at_line_end() {
            return (LineKind::Blank, cursor.pos);
        }
        let start = cursor.pos;
        let mut first = RawStrings::FirstEnd {
            ambiguous: false,
            after_raw: false,
        };
        let fast = self.parse_record(data, start, record, &mut first);
        let ambiguous = matches!(
            first,
            RawStrings::FirstEnd {
                ambiguous: true,
                ..
            }
        );
        if let Some(parsed @ (LineKind::Record { .. }, _)) = fast
            && !ambiguous
        {
            return parsed;
        }
        // A raw field held a quote, or the line did not parse: read the raw
        // fields again, each ending where the whole rest of the line is a
        // record's tail. A line that parsed keeps its first reading if this
        // one fails.
        let mut careful = Record::default();
        let mut to_tail = RawStrings::ToTail {
            budget: CANDIDATE_BUDGET,
        };
        match self.parse_record(data, start, &mut careful, &mut to_tail) {
            Some(parsed) => {
                *record = careful;
                parsed
            }
            None => fast.unwrap_or((
                LineKind::Rejected(RejectReason::Malformed),
                memchr::memchr(b'\n', data).unwrap_or(data.len()),
            )),
        }
    }

    /// Parses the record starting at `start` into `record`, its raw fields
    /// read as `raw` says; `None` when the line is malformed.
    fn parse_record<'a>(
        &mut self,
        data: &'a [u8],
        start: usize,
        record: &mut Record<'a>,
        raw: &mut RawStrings,
    ) -> Option<(LineKind, usize)> {
        let mut cursor = Cursor::new(data);
        cursor.pos = start;
        *record = Record::default();
        let mut has_type = false;
        let recovered = self
            .parse_object(&mut cursor, record, &mut has_type, raw)
            .ok()?;
        if has_type {
            record.text = &data[..cursor.pos];
            Some((LineKind::Record { recovered }, cursor.pos))
        } else {
            Some((LineKind::Rejected(RejectReason::NoType), cursor.pos))
        }
    }

    /// Reads a key and its colon the slow way, and learns it as the key
    /// that follows `previous`.
    fn read_key(&mut self, c: &mut Cursor<'_>, type_slot: usize, previous: usize) -> Scan<Found> {
        let (key, _) = c.string()?;
        c.skip_ws();
        c.expect(b':')?;
        Ok(self.keys.learn(key, type_slot, previous))
    }

    /// Parses the top-level object; returns whether any raw field needed
    /// recovery.
    fn parse_object<'a>(
        &mut self,
        c: &mut Cursor<'a>,
        record: &mut Record<'a>,
        has_type: &mut bool,
        raw: &mut RawStrings,
    ) -> Scan<bool> {
        let mut recovered = false;
        let mut type_slot = 0;
        let mut found = match self.keys.guess(c.bytes, c.pos, type_slot, START) {
            Some((found, len)) => {
                c.pos += len;
                found
            }
            None => {
                c.expect(b'{')?;
                c.skip_ws();
                if c.peek() == Some(b'}') {
                    c.pos += 1;
                    c.skip_ws();
                    return if c.at_line_end() {
                        Ok(false)
                    } else {
                        Err(Malformed)
                    };
                }
                self.read_key(c, type_slot, START)?
            }
        };
        loop {
            let previous = found.slot;
            c.skip_ws();
            match found.field {
                Field::Type => {
                    if c.peek() == Some(b'"') {
                        record.kind = c.string()?.0;
                        type_slot = KeyPredictor::type_slot(record.kind);
                        *has_type = true;
                    } else {
                        c.skip_value()?;
                    }
                }
                // Ruby always quotes an address: `"address":123abc` is not
                // a record.
                Field::Address => record.address = Some(c.string()?.0),
                Field::Class => record.class = string_field(c)?,
                Field::Generation => record.generation = c.unsigned()?,
                Field::Memsize => record.memsize = c.unsigned()?,
                Field::Line => record.line = c.unsigned()?,
                Field::References => {
                    if c.peek() == Some(b'[') {
                        let (raw, count) = c.array()?;
                        record.references = Some(raw);
                        record.reference_count = count;
                    } else {
                        c.skip_value()?;
                    }
                }
                Field::Value => {
                    if c.peek() == Some(b'"') {
                        let (raw, escaped) = c.string()?;
                        record.value = Some(raw);
                        record.value_escaped = escaped;
                    } else {
                        c.skip_value()?;
                    }
                }
                Field::Root => record.root = string_field(c)?,
                Field::File => record.file = raw_field(c, &mut recovered, raw)?,
                Field::Name => record.name = raw_field(c, &mut recovered, raw)?,
                Field::Length => record.length = c.unsigned()?,
                Field::Struct => record.struct_name = raw_field(c, &mut recovered, raw)?,
                Field::ImemoType => record.imemo_type = string_field(c)?,
                Field::Superclass => record.superclass = string_field(c)?,
                Field::Singleton => {
                    record.singleton = c.peek() == Some(b't');
                    c.skip_value()?;
                }
                Field::RawText => {
                    raw_field(c, &mut recovered, raw)?;
                }
                Field::Flags if c.peek() == Some(b'{') => c.skip_flat_object()?,
                Field::Flags | Field::Other => c.skip_value()?,
            }
            // Most often the next bytes are `, "key":` for the key
            // expected next, matched in one comparison.
            if let Some((next, len)) = self.keys.guess(c.bytes, c.pos, type_slot, previous) {
                c.pos += len;
                found = next;
                continue;
            }
            c.skip_ws();
            if c.comma() {
                found = self.read_key(c, type_slot, previous)?;
                // Off Ruby's usual order after a raw field, a key read
                // twice or one Ruby never writes: the raw field's first
                // end was likely too early.
                if let RawStrings::FirstEnd {
                    ambiguous,
                    after_raw: true,
                } = raw
                    && (!found.is_known() || holds(record, found.field))
                {
                    *ambiguous = true;
                }
                continue;
            }
            c.expect(b'}')?;
            break;
        }
        c.skip_ws();
        if c.at_line_end() {
            Ok(recovered)
        } else {
            Err(Malformed)
        }
    }
}

/// Parses one line on its own. Reading many lines, keep a [`LineParser`]:
/// it learns the dump's layout and parses faster.
pub fn parse_line(line: &[u8]) -> Parsed<'_> {
    LineParser::default().parse(line)
}

/// A field that should hold a string; other values are skipped.
fn string_field<'a>(c: &mut Cursor<'a>) -> Scan<Option<&'a [u8]>> {
    if c.peek() == Some(b'"') {
        Ok(Some(c.string()?.0))
    } else {
        c.skip_value()?;
        Ok(None)
    }
}

/// How a line's raw fields find their ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawStrings {
    /// At the first `"` after which the line goes on as Ruby writes it
    /// (fast, and right unless the text holds a quote); `after_raw` once a
    /// raw field was read, `ambiguous` when one may have ended too early.
    FirstEnd { ambiguous: bool, after_raw: bool },
    /// Where the whole rest of the line is a record's tail
    /// ([`Cursor::raw_string_to_tail`]), trying at most `budget` more
    /// candidate ends.
    ToTail { budget: u32 },
}

/// Whether `record` has a value for `field` already.
fn holds(record: &Record<'_>, field: Field) -> bool {
    match field {
        Field::Type => !record.kind.is_empty(),
        Field::Address => record.address.is_some(),
        Field::Class => record.class.is_some(),
        Field::Generation => record.generation.is_some(),
        Field::Memsize => record.memsize.is_some(),
        Field::Line => record.line.is_some(),
        Field::References => record.references.is_some(),
        Field::Value => record.value.is_some(),
        Field::Root => record.root.is_some(),
        Field::File => record.file.is_some(),
        Field::Name => record.name.is_some(),
        Field::Length => record.length.is_some(),
        Field::Struct => record.struct_name.is_some(),
        Field::ImemoType => record.imemo_type.is_some(),
        Field::Superclass => record.superclass.is_some(),
        Field::Singleton => record.singleton,
        Field::RawText | Field::Flags | Field::Other => false,
    }
}

/// A field Ruby may write without escaping; flags `recovered` when the text
/// is not a valid JSON string.
fn raw_field<'a>(
    c: &mut Cursor<'a>,
    recovered: &mut bool,
    raw: &mut RawStrings,
) -> Scan<Option<&'a [u8]>> {
    if c.peek() != Some(b'"') {
        c.skip_value()?;
        return Ok(None);
    }
    let (text, plain) = match raw {
        RawStrings::FirstEnd {
            ambiguous,
            after_raw,
        } => {
            let (text, plain) = c.raw_string()?;
            *after_raw = true;
            *ambiguous |= !plain && memchr::memchr(b'"', text).is_some();
            (text, plain)
        }
        RawStrings::ToTail { budget } => (c.raw_string_to_tail(budget)?, false),
    };
    if !plain && !is_strict_json_string(text) {
        *recovered = true;
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(line: &[u8]) -> (Record<'_>, bool) {
        match parse_line(line) {
            Parsed::Record { record, recovered } => (record, recovered),
            other => panic!("not a record: {other:?}"),
        }
    }

    #[test]
    fn reads_a_ruby_3_1_line() {
        let line = br#"{"address":"0x7f30cc77e440", "type":"STRING", "class":"0x7f30d295e458", "embedded":true, "bytesize":2, "value":"43", "encoding":"US-ASCII", "file":"/gems/ar/associations.rb", "line":133, "method":"to_s", "generation":68, "memsize":40, "flags":{"wb_protected":true, "old":true}}"#;
        let (r, recovered) = record(line);
        assert!(!recovered);
        assert_eq!(r.kind, b"STRING");
        assert_eq!(r.address_value(), Some(0x7f30cc77e440));
        assert_eq!(r.class.and_then(parse_address), Some(0x7f30d295e458));
        assert_eq!(r.value, Some(&b"43"[..]));
        assert_eq!(r.file, Some(&b"/gems/ar/associations.rb"[..]));
        assert_eq!(
            (r.line, r.generation, r.memsize),
            (Some(133), Some(68), Some(40))
        );
        assert_eq!(r.reference_count, 0);
    }

    #[test]
    fn sizes_of_strings_arrays_and_hashes_and_c_types() {
        type Case = (&'static [u8], Option<u64>, Option<&'static [u8]>);
        let cases: [Case; 4] = [
            (
                br#"{"address":"0x1", "type":"STRING", "bytesize":2, "value":"43"}"#,
                Some(2),
                None,
            ),
            (
                br#"{"address":"0x2", "type":"ARRAY", "length":7, "references":["0x1"]}"#,
                Some(7),
                None,
            ),
            (
                br#"{"address":"0x3", "type":"HASH", "size":4000}"#,
                Some(4000),
                None,
            ),
            (
                br#"{"address":"0x4", "type":"DATA", "struct":"proc", "memsize":72}"#,
                None,
                Some(b"proc"),
            ),
        ];
        for (line, length, struct_name) in cases {
            let (r, _) = record(line);
            assert_eq!((r.length, r.struct_name), (length, struct_name));
        }
    }

    #[test]
    fn imemo_kinds_and_singleton_classes_are_read() {
        let (r, _) =
            record(br#"{"address":"0x5", "type":"IMEMO", "imemo_type":"ment", "memsize":48}"#);
        assert_eq!((r.imemo_type, r.singleton), (Some(&b"ment"[..]), false));
        let (r, _) = record(
            br#"{"address":"0x6", "type":"CLASS", "real_class_name":"Module", "singleton":true, "memsize":480}"#,
        );
        assert_eq!((r.imemo_type, r.singleton), (None, true));
        let (r, _) = record(br#"{"address":"0x7", "type":"CLASS", "singleton":false}"#);
        assert!(!r.singleton);
        let (r, _) =
            record(br#"{"address":"0x8", "type":"CLASS", "superclass":"0x9", "singleton":true}"#);
        assert_eq!(r.superclass, Some(&b"0x9"[..]));
    }

    #[test]
    fn any_field_order_and_whitespace() {
        let (r, _) = record(b" {  \"memsize\" :\t12 ,\"references\" : [ \"0x1\" , \"0x2\" ] , \"type\" : \"ARRAY\" , \"extra\": {\"x\": [1, 2]} }\r");
        assert_eq!(r.kind, b"ARRAY");
        assert_eq!(r.memsize, Some(12));
        assert_eq!(r.reference_count, 2);
    }

    #[test]
    fn the_unescaped_file_path_of_ruby_3_1_is_recovered() {
        let line = br#"{"address":"0x1", "type":"STRING", "file":"/tmp/we"ird\dir/f.rb", "line":3, "generation":9}"#;
        let (r, recovered) = record(line);
        assert!(recovered);
        assert_eq!(r.file, Some(&br#"/tmp/we"ird\dir/f.rb"#[..]));
        assert_eq!((r.line, r.generation), (Some(3), Some(9)));
    }

    #[test]
    fn broken_method_bytes_of_ruby_3_0_are_recovered() {
        let line = b"{\"address\":\"0x1\", \"type\":\"STRING\", \"file\":\"a.rb\", \"line\":1, \"method\":\"utf8_m\\u00ff\0\0\0\0\0\0\\u00ff\0\"\0\0\0\0thod\", \"generation\":4}";
        let (r, recovered) = record(line);
        assert!(recovered);
        assert_eq!(r.generation, Some(4));
    }

    #[test]
    fn escaped_and_raw_names() {
        let (r, recovered) = record(br#"{"type":"CLASS", "name":"Foo\"Bar"}"#);
        assert!(!recovered);
        assert_eq!(r.name_bytes().unwrap().as_ref(), b"Foo\"Bar");
        let (r, recovered) = record(br##"{"type":"CLASS", "name":"#<weird "name">"}"##);
        assert!(recovered);
        assert_eq!(r.name_bytes().unwrap().as_ref(), b"#<weird \"name\">");
    }

    #[test]
    fn rejects_what_is_not_a_record() {
        use RejectReason::*;
        assert_eq!(parse_line(b"   "), Parsed::Blank);
        assert_eq!(parse_line(b"garbage"), Parsed::Rejected(Malformed));
        assert_eq!(
            parse_line(b"{\"address\":\"0x1\", \"type\":\"STR"),
            Parsed::Rejected(Malformed)
        );
        assert_eq!(
            parse_line(b"{\"address\":\"0x1\"}"),
            Parsed::Rejected(NoType)
        );
        assert_eq!(parse_line(b"{\"type\":5}"), Parsed::Rejected(NoType));
        assert_eq!(
            parse_line(b"{\"type\":\"ROOT\"} x"),
            Parsed::Rejected(Malformed)
        );
        assert_eq!(parse_line(b"\x89PNG\r\n"), Parsed::Rejected(Malformed));
        assert_eq!(
            parse_line(b"{\"type\":\"RO\nOT\"}"),
            Parsed::Rejected(Malformed)
        );
        assert_eq!(parse_line(b"[1,2]"), Parsed::Rejected(Malformed));
    }

    #[test]
    fn parses_a_block_line_by_line_as_it_would_each_line() {
        let block: &[u8] = b"{\"type\":\"ROOT\", \"root\":\"vm\"}\n\n  \n{\"type\":\"STRING\", \"value\":\"a\nb\"}\n\
            garbage\n{\"type\":\"OBJECT\", \"file\":\"x\ny.rb\", \"line\":1}\n{\"type\":\"HASH\", \"flags\":{\"old\":true\n}}\n\
            {\"type\":\"DATA\"}  \r";
        let mut parser = LineParser::default();
        let mut rest = block;
        let mut from_block = Vec::new();
        let mut record = Record::default();
        while !rest.is_empty() {
            let (kind, len) = parser.parse_first_line(rest, &mut record);
            let parsed = match kind {
                LineKind::Blank => Parsed::Blank,
                LineKind::Record { recovered } => Parsed::Record {
                    record: record.clone(),
                    recovered,
                },
                LineKind::Rejected(reason) => Parsed::Rejected(reason),
            };
            from_block.push((format!("{parsed:?}"), rest[..len].to_vec()));
            rest = rest.get(len + 1..).unwrap_or_default();
        }
        let from_lines: Vec<(String, Vec<u8>)> = block
            .split(|&b| b == b'\n')
            .map(|line| (format!("{:?}", parse_line(line)), line.to_vec()))
            .collect();
        assert_eq!(from_block, from_lines);
        assert_eq!(from_block.len(), 11);
    }

    #[test]
    fn agrees_with_serde_json_on_valid_lines() {
        let lines: &[&[u8]] = &[
            br#"{"type":"ROOT", "root":"vm", "references":["0x7f1", "0x7f2", "0x7f1"]}"#,
            br#"{"address":"0x1000", "type":"SHAPE", "id":1, "parent_id":0, "depth":2, "shape_type":"IVAR", "edge_name":"@x", "edges":0, "memsize":24}"#,
            br#"{"address":"0x7f5", "type":"FLOAT", "class":"0x7f6", "frozen":true, "value":"1.50000", "memsize":40, "flags":{"wb_protected":true, "age":3, "object_id":12}}"#,
            br#"{"address":"0x7f7", "type":"STRING", "value":"tab\tq\"\\\u001b", "file":"x.rb", "line":0}"#,
        ];
        for line in lines {
            let json: serde_json::Value = serde_json::from_slice(line).unwrap();
            let (r, recovered) = record(line);
            assert!(!recovered);
            assert_eq!(r.kind, json["type"].as_str().unwrap().as_bytes());
            assert_eq!(r.memsize, json["memsize"].as_u64());
            assert_eq!(r.line, json["line"].as_u64());
            let refs = json["references"].as_array().map_or(0, |a| a.len());
            assert_eq!(r.reference_count as usize, refs);
            if let Some(v) = json["value"].as_str() {
                assert_eq!(r.value_bytes().unwrap().as_ref(), v.as_bytes());
            }
        }
    }

    /// A Ruby 3.1 STRING line whose `method` field is `method`, as written.
    fn with_method(method: &[u8]) -> Vec<u8> {
        [
            &br#"{"address":"0x7f10", "type":"STRING", "class":"0x7f20", "bytesize":2, "value":"s1", "file":"app/a.rb", "line":5, "method":""#[..],
            method,
            br#"", "generation":9, "memsize":40, "flags":{"wb_protected":true, "old":true}}"#,
        ]
        .concat()
    }

    #[test]
    fn a_broken_method_name_keeps_the_record_around_it() {
        let garbage: [&[u8]; 5] = [
            b"m\\u00ff\0ue, \"\", \"\\u00ff\0",
            b"m\\u00ff\0\"imem\\u00ff\0:\"cal\", \"memsize\\u00ff\0",
            b"x\", \"line\":7, \"q\":\"",
            b"a}}\", \"generation\":1, \"b",
            b"\", \"\", \"",
        ];
        for method in garbage {
            let line = with_method(method);
            let (r, recovered) = record(&line);
            let shown = String::from_utf8_lossy(&line);
            assert!(recovered, "{shown}");
            assert_eq!(r.address_value(), Some(0x7f10), "{shown}");
            assert_eq!(
                (r.line, r.generation, r.memsize),
                (Some(5), Some(9), Some(40)),
                "{shown}"
            );
            assert_eq!(r.file, Some(&b"app/a.rb"[..]), "{shown}");
        }
        // A plain name takes the fast way and is not "recovered".
        let plain = with_method(b"to_s");
        let (r, recovered) = record(&plain);
        assert!(!recovered);
        assert_eq!(r.generation, Some(9));
    }

    #[test]
    fn lines_ruby_never_writes_are_rejected_not_taken() {
        let lines: [&[u8]; 5] = [
            br#"{"address":123abc, "type":"STRING", "memsize":40}"#,
            br#"{"address":123, "type":"STRING", "memsize":40}"#,
            br#"{"address":"0x1", "type":"STRING", "memsize":4x0}"#,
            br#"{"address":"0x1", "type":"STRING", "memsize":1.}"#,
            br#"{"address":"0x1", "type":"STRING", "frozen":tru}"#,
        ];
        for line in lines {
            assert_eq!(
                parse_line(line),
                Parsed::Rejected(RejectReason::Malformed),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        // JSON numbers and keywords Ruby does write are still skipped.
        let line = br#"{"address":"0x1", "type":"FLOAT", "x":-1.5e+3, "y":null, "frozen":false, "memsize":40}"#;
        assert_eq!(record(line).0.memsize, Some(40));
    }

    #[test]
    fn a_line_built_to_be_slow_is_bounded() {
        // Thousands of quotes, none of which ends the field.
        let method = b"\", \"a".repeat(5_000);
        let mut line = with_method(&method);
        line.truncate(line.len() - 1);
        let started = std::time::Instant::now();
        assert_eq!(parse_line(&line), Parsed::Rejected(RejectReason::Malformed));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
