//! Which Ruby wrote a dump, as far as its format tells.
//!
//! A dump has no version field, but each Ruby release writes some fields,
//! record kinds or values that others don't. [`FormatSink`] notes the
//! *clues* a dump shows, and [`RubyRange`] turns them into the versions
//! the dump can come from. Only what real dumps prove is claimed: each
//! clue below was checked on `../shared/fixtures/versions/{3.1,3.2,3.3,
//! 3.4,4.0}.dump.gz` (one program dumped by each Ruby; 3.2 to 4.0 are
//! CRuby for WASI, see `../shared/workloads/ruby-wasm`) and on the Ruby
//! 3.1 dumps of `rails-small`:
//!
//! | clue | 3.1 | 3.2 | 3.3 | 3.4 | 4.0 | so |
//! |---|---|---|---|---|---|---|
//! | `slot_size` on objects | none of 18,483 | all | all | all | all | 3.2+ |
//! | objects without `slot_size` | all | none | none | none | none | before 3.2 |
//! | SHAPE records | none | 166 | 228 | 227 | 12 | 3.2+ |
//! | IMEMO with `class` | 4,216 of 5,611 | none | none | none | only `fields` | before 3.2 |
//! | `CAPACITY_CHANGE` shapes | - | 11 | none | none | none | 3.2 only |
//! | OBJECT with `embedded` | none | none of 411 | 395 of 401 | 336 of 342 | 68 of 68 | 3.3+ |
//! | IMEMO with `mid`/`called_id` | none | none of 3,948 | 1,424 | 1,337 | 143 | 3.3+ |
//! | a `global_list` root | yes | yes | yes | no | no | before 3.4 |
//! | `chilled` strings | none | none | none | 300 | 206 | 3.4+ |
//! | `T_OBJECT` or `FROZEN` shapes | - | 5 | 9 | 9 | none | before 4.0 |
//! | IMEMO (not `fields`) with `shape_id` | none | all | all | all | none | 3.2 to 3.4 |
//! | `flags` without `age` | all | all | all | all | none | before 4.0 |
//! | `flags` with `age` | none | none | none | none | all 8,985 | 4.0+ |
//! | `fields` IMEMO, `OBJ_ID` shapes, a `global_symbols` root | no | no | no | no | yes | 4.0+ |
//!
//! Absence proves little (a dump of a small program may have no chilled
//! string), so most clues only count when seen; the two that are on every
//! object (`slot_size`, and `age` in `flags`) count either way. Clues in
//! parsed fields (ROOT categories, an IMEMO's kind and class) are taken
//! from every record; those inside a line, from a sample of each reading
//! thread's objects (see [`SAMPLE`]). Older
//! Rubies than 3.1 can't be told apart here: no dump of one was at hand,
//! so a dump without `slot_size` is "3.1 or older".

use std::fmt;

use heapsift_parse::Record;
use heapsift_scan::RecordSink;
use memchr::memmem;
use serde::{Serialize, Serializer};

/// The Ruby versions whose formats heapsift tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RubyVersion {
    /// Ruby 3.1 (or, as an upper bound, anything older).
    V3_1,
    /// Ruby 3.2.
    V3_2,
    /// Ruby 3.3.
    V3_3,
    /// Ruby 3.4.
    V3_4,
    /// Ruby 4.0 (or, as a lower bound, anything newer).
    V4_0,
}

impl fmt::Display for RubyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RubyVersion::V3_1 => "3.1",
            RubyVersion::V3_2 => "3.2",
            RubyVersion::V3_3 => "3.3",
            RubyVersion::V3_4 => "3.4",
            RubyVersion::V4_0 => "4.0",
        })
    }
}

impl Serialize for RubyVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a clue says: the dump comes from this version or a later one, or
/// from this one or an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    AtLeast(RubyVersion),
    AtMost(RubyVersion),
}

/// One thing a dump shows about its format (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clue {
    SlotSize,
    NoSlotSize,
    Shapes,
    ImemoClass,
    ShapeCapacity,
    ObjectEmbedded,
    CallSiteNames,
    GlobalListRoot,
    Chilled,
    OldShapeTypes,
    ImemoShapeId,
    FlagsWithoutAge,
    FlagsAge,
    ImemoFields,
    ObjIdShapes,
    GlobalSymbolsRoot,
}

/// Every clue, in the order they are reported.
const CLUES: [Clue; 16] = [
    Clue::SlotSize,
    Clue::NoSlotSize,
    Clue::Shapes,
    Clue::ImemoClass,
    Clue::ShapeCapacity,
    Clue::ObjectEmbedded,
    Clue::CallSiteNames,
    Clue::GlobalListRoot,
    Clue::Chilled,
    Clue::OldShapeTypes,
    Clue::ImemoShapeId,
    Clue::FlagsWithoutAge,
    Clue::FlagsAge,
    Clue::ImemoFields,
    Clue::ObjIdShapes,
    Clue::GlobalSymbolsRoot,
];

impl Clue {
    fn bit(self) -> u32 {
        1 << self as u32
    }

    /// What the clue proves.
    fn bound(self) -> Bound {
        use Bound::*;
        use RubyVersion::*;
        match self {
            Clue::SlotSize | Clue::Shapes => AtLeast(V3_2),
            Clue::NoSlotSize | Clue::ImemoClass => AtMost(V3_1),
            Clue::ShapeCapacity => AtMost(V3_2),
            Clue::ObjectEmbedded | Clue::CallSiteNames => AtLeast(V3_3),
            Clue::GlobalListRoot => AtMost(V3_3),
            Clue::Chilled => AtLeast(V3_4),
            Clue::OldShapeTypes | Clue::ImemoShapeId | Clue::FlagsWithoutAge => AtMost(V3_4),
            Clue::FlagsAge | Clue::ImemoFields | Clue::ObjIdShapes | Clue::GlobalSymbolsRoot => {
                AtLeast(V4_0)
            }
        }
    }

    /// The clue in words, with what it proves.
    fn words(self) -> &'static str {
        match self {
            Clue::SlotSize => "objects have slot_size (3.2 and later)",
            Clue::NoSlotSize => "objects without slot_size (before 3.2)",
            Clue::Shapes => "SHAPE records (3.2 and later)",
            Clue::ImemoClass => "IMEMO records with a class (before 3.2)",
            Clue::ShapeCapacity => "CAPACITY_CHANGE or INITIAL_CAPACITY shapes (3.2 only)",
            Clue::ObjectEmbedded => "OBJECT records with embedded (3.3 and later)",
            Clue::CallSiteNames => {
                "call caches naming their method, mid or called_id (3.3 and later)"
            }
            Clue::GlobalListRoot => "a global_list root (before 3.4)",
            Clue::Chilled => "chilled strings (3.4 and later)",
            Clue::OldShapeTypes => "T_OBJECT or FROZEN shapes (before 4.0)",
            Clue::ImemoShapeId => "IMEMO records with shape_id (before 4.0)",
            Clue::FlagsWithoutAge => "flags without age (before 4.0)",
            Clue::FlagsAge => "flags with age (4.0 and later)",
            Clue::ImemoFields => "imemo fields records (4.0 and later)",
            Clue::ObjIdShapes => "OBJ_ID shapes (4.0 and later)",
            Clue::GlobalSymbolsRoot => "a global_symbols root (4.0 and later)",
        }
    }
}

/// How far into a line the fields that come early (`shape_id`,
/// `slot_size`, a string's `chilled`, an object's `embedded`, a call
/// cache's `mid`) are looked for: in the fixtures they end before byte
/// 130, with 32-bit addresses; 64-bit ones add 16 bytes.
const HEAD: usize = 192;
/// How far from a line's end `flags` is looked for (it is the last field;
/// 126 bytes from the end at most in the fixtures).
const TAIL: usize = 256;

/// How many objects each reading thread looks into for the clues inside
/// a line (the others are seen from fields already parsed): enough to
/// find any of them in a dump of a real app, while a big dump costs no
/// more than a small one. A clue missed this way only leaves the range
/// wider; nothing false is claimed.
const SAMPLE: u32 = 32_768;

/// The clues of the records it is fed; one per reading thread.
#[derive(Debug, Default, Clone)]
pub struct FormatSink {
    seen: u32,
    /// Objects looked into so far.
    sampled: u32,
}

impl FormatSink {
    fn has(&self, clue: Clue) -> bool {
        self.seen & clue.bit() != 0
    }

    fn note(&mut self, clue: Clue) {
        self.seen |= clue.bit();
    }

    /// Notes `clue` if `found` finds it, unless it was seen already.
    fn look(&mut self, clue: Clue, found: impl FnOnce() -> bool) {
        if !self.has(clue) && found() {
            self.note(clue);
        }
    }

    /// Adds what another reading thread saw.
    pub fn absorb(&mut self, other: &FormatSink) {
        self.seen |= other.seen;
    }

    /// The versions the clues allow.
    pub fn range(&self) -> RubyRange {
        RubyRange::from_clues(CLUES.iter().copied().filter(|&c| self.has(c)).collect())
    }

    fn root(&mut self, record: &Record<'_>) {
        match record.root {
            Some(b"global_list") => self.note(Clue::GlobalListRoot),
            Some(b"global_symbols") => self.note(Clue::GlobalSymbolsRoot),
            _ => {}
        }
    }

    fn shape(&mut self, record: &Record<'_>) {
        self.note(Clue::Shapes);
        match field_text(record.text, b"\"shape_type\":\"") {
            Some(b"CAPACITY_CHANGE" | b"INITIAL_CAPACITY") => self.note(Clue::ShapeCapacity),
            Some(b"T_OBJECT" | b"FROZEN") => self.note(Clue::OldShapeTypes),
            Some(b"OBJ_ID") => self.note(Clue::ObjIdShapes),
            _ => {}
        }
    }

    fn object(&mut self, record: &Record<'_>) {
        if record.kind == b"IMEMO" {
            self.imemo_fields(record);
        }
        if self.sampled >= SAMPLE {
            return;
        }
        self.sampled += 1;
        let text = record.text;
        let head = &text[..text.len().min(HEAD)];
        // On every object (or on none): both are looked for until seen.
        if !self.has(Clue::SlotSize) || !self.has(Clue::NoSlotSize) {
            match has(head, b"\"slot_size\":") {
                true => self.note(Clue::SlotSize),
                false => self.note(Clue::NoSlotSize),
            }
        }
        match record.kind {
            b"IMEMO" => self.imemo(record, head),
            b"STRING" => self.look(Clue::Chilled, || has(head, b"\"chilled\":true")),
            b"OBJECT" => self.look(Clue::ObjectEmbedded, || has(head, b"\"embedded\":")),
            // Free slots and zombies have no flags in any version.
            b"NONE" | b"ZOMBIE" => return,
            _ => {}
        }
        if !self.has(Clue::FlagsAge) || !self.has(Clue::FlagsWithoutAge) {
            self.flags(&text[text.len().saturating_sub(TAIL)..]);
        }
    }

    /// What an IMEMO's parsed fields tell, for every IMEMO.
    fn imemo_fields(&mut self, record: &Record<'_>) {
        match record.imemo_type == Some(b"fields") {
            true => self.note(Clue::ImemoFields),
            false if record.class.is_some() => self.note(Clue::ImemoClass),
            false => {}
        }
    }

    /// What an IMEMO's line tells, looked for in the sample.
    fn imemo(&mut self, record: &Record<'_>, head: &[u8]) {
        if record.imemo_type != Some(b"fields") {
            self.look(Clue::ImemoShapeId, || has(head, b"\"shape_id\":"));
        }
        if matches!(record.imemo_type, Some(b"callinfo" | b"callcache")) {
            self.look(Clue::CallSiteNames, || {
                has(head, b"\"mid\":") || has(head, b"\"called_id\":")
            });
        }
    }

    /// `tail`: the end of a line, where `flags` is.
    fn flags(&mut self, tail: &[u8]) {
        let Some(start) = memmem::rfind(tail, b"\"flags\":{") else {
            return;
        };
        match has(&tail[start..], b"\"age\":") {
            true => self.note(Clue::FlagsAge),
            false => self.note(Clue::FlagsWithoutAge),
        }
    }
}

impl RecordSink for FormatSink {
    fn record(&mut self, record: &Record<'_>) {
        match record.kind {
            b"ROOT" => self.root(record),
            b"SHAPE" => self.shape(record),
            _ if record.address.is_some() => self.object(record),
            _ => {}
        }
    }
}

fn has(haystack: &[u8], needle: &[u8]) -> bool {
    memmem::find(haystack, needle).is_some()
}

/// The text of a string field whose opening (`"key":"`) is `opening`.
fn field_text<'a>(line: &'a [u8], opening: &[u8]) -> Option<&'a [u8]> {
    let start = memmem::find(line, opening)? + opening.len();
    let length = memchr::memchr(b'"', &line[start..])?;
    Some(&line[start..start + length])
}

/// The Ruby versions a dump's format allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RubyRange {
    /// The oldest it can be, if the dump shows one (`None`: any older).
    pub min: Option<RubyVersion>,
    /// The newest it can be, if the dump shows one (`None`: any newer).
    pub max: Option<RubyVersion>,
    /// Whether the clues disagree (min above max): a format heapsift does
    /// not know, or a dump put together by hand; `min` and `max` are then
    /// `None`.
    pub contradictory: bool,
    /// Every clue seen, in words with what it proves.
    pub clues: Vec<&'static str>,
    /// The clues that set `min` and `max`, in words.
    pub decisive: Vec<&'static str>,
}

impl RubyRange {
    fn from_clues(clues: Vec<Clue>) -> Self {
        let min = clues
            .iter()
            .filter_map(|c| match c.bound() {
                Bound::AtLeast(v) => Some(v),
                Bound::AtMost(_) => None,
            })
            .max();
        let max = clues
            .iter()
            .filter_map(|c| match c.bound() {
                Bound::AtMost(v) => Some(v),
                Bound::AtLeast(_) => None,
            })
            .min();
        let contradictory = matches!((min, max), (Some(low), Some(high)) if low > high);
        let decisive = clues
            .iter()
            .filter(|c| match c.bound() {
                Bound::AtLeast(v) => Some(v) == min,
                Bound::AtMost(v) => Some(v) == max,
            })
            .map(|c| c.words())
            .collect();
        RubyRange {
            min: min.filter(|_| !contradictory),
            max: max.filter(|_| !contradictory),
            contradictory,
            clues: clues.iter().map(|c| c.words()).collect(),
            decisive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapsift_parse::{Parsed, parse_line};

    fn range(lines: &[&str]) -> RubyRange {
        let mut sink = FormatSink::default();
        for line in lines {
            match parse_line(line.as_bytes()) {
                Parsed::Record { record, .. } => sink.record(&record),
                other => panic!("{line}: {other:?}"),
            }
        }
        sink.range()
    }

    #[test]
    fn a_3_1_object_is_3_1_or_older() {
        let r = range(&[
            r#"{"address":"0x1", "type":"STRING", "class":"0x2", "value":"a", "memsize":40, "flags":{"wb_protected":true}}"#,
        ]);
        assert_eq!((r.min, r.max), (None, Some(RubyVersion::V3_1)));
        assert!(!r.contradictory);
    }

    #[test]
    fn chilled_strings_and_imemo_shapes_make_3_4() {
        let r = range(&[
            r#"{"address":"0x1", "type":"STRING", "shape_id":0, "slot_size":40, "class":"0x2", "chilled":true, "value":"a"}"#,
            r#"{"address":"0x3", "type":"IMEMO", "shape_id":0, "slot_size":40, "imemo_type":"ment", "memsize":40}"#,
        ]);
        assert_eq!(
            (r.min, r.max),
            (Some(RubyVersion::V3_4), Some(RubyVersion::V3_4))
        );
        assert_eq!(
            r.decisive,
            [
                "chilled strings (3.4 and later)",
                "IMEMO records with shape_id (before 4.0)"
            ]
        );
    }

    #[test]
    fn ages_in_flags_make_4_0_or_newer() {
        let r = range(&[
            r#"{"address":"0x1", "type":"ARRAY", "shape_id":0, "slot_size":40, "length":0, "flags":{"wb_protected":true, "age":1}}"#,
            r#"{"type":"ROOT", "root":"global_symbols", "references":["0x1"]}"#,
        ]);
        assert_eq!((r.min, r.max), (Some(RubyVersion::V4_0), None));
        assert_eq!(r.clues.len(), 3, "{:?}", r.clues);
    }

    #[test]
    fn clues_that_disagree_give_no_range() {
        let r = range(&[
            r#"{"address":"0x1", "type":"STRING", "value":"a"}"#,
            r#"{"address":"0x2", "type":"SHAPE", "id":0, "shape_type":"OBJ_ID"}"#,
        ]);
        assert!(r.contradictory);
        assert_eq!((r.min, r.max), (None, None));
    }

    #[test]
    fn nothing_known_is_any_version() {
        let r = range(&[r#"{"type":"ROOT", "root":"vm", "references":["0x1"]}"#]);
        assert_eq!((r.min, r.max, r.clues.len()), (None, None, 0));
    }
}
