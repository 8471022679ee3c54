//! A fast, tolerant parser for the lines of a Ruby heap dump.
//!
//! `ObjectSpace.dump_all` writes one JSON object per line, but not always
//! valid JSON: Ruby never escapes the `file` field, and some versions write
//! `method`, `name`, `struct` and `real_class_name` raw or with broken bytes
//! (see `design/dump-format.md`, section 7). [`LineParser`] walks each line
//! once, without allocating, and:
//!
//! - accepts any field order and whitespace, and ignores unknown fields;
//! - reads the fields that can be raw by Ruby's layout rather than by JSON
//!   escaping: such a string ends at the first `"` followed by `,` and the
//!   next `"key":`, or by the closing `}` of the line. When the text found
//!   that way is not valid JSON, the line counts as recovered (see
//!   [`Parsed::Record`]);
//! - rejects anything else that is not a JSON object with a string `type`.
//!
//! It is fast because it follows Ruby's own layout where it can: it predicts
//! each `, "key":` from the previous record of the same type and checks the
//! guess with one comparison, finds the ends of strings 16 bytes at a time,
//! and finds the end of the line while parsing it
//! ([`LineParser::parse_first_line`]). Fields are kept as slices of the
//! line; the numbers heapsift needs are decoded on the way.

mod bytes;
mod cursor;
mod keys;
mod record;
mod strings;

pub use record::{LineKind, LineParser, Parsed, Record, RejectReason, parse_line};
pub use strings::{decode_json_string, inspect_ruby_string, parse_address};
