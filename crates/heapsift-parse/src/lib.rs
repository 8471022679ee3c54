//! A fast, tolerant parser for one line of a Ruby heap dump.
//!
//! `ObjectSpace.dump_all` writes one JSON object per line, but not always
//! valid JSON: Ruby never escapes the `file` field, and some versions write
//! `method`, `name`, `struct` and `real_class_name` raw or with broken bytes
//! (see `design/dump-format.md`, section 7). [`parse_line`] walks a line once,
//! without allocating, and:
//!
//! - accepts any field order and whitespace, and ignores unknown fields;
//! - reads the fields that can be raw by Ruby's layout rather than by JSON
//!   escaping: such a string ends at the first `"` followed by `,` and the
//!   next `"key":`, or by the closing `}` of the line. When the text found
//!   that way is not valid JSON, the record is marked
//!   [`Parsed::recovered`];
//! - rejects anything else that is not a JSON object with a string `type`.
//!
//! Fields are kept as slices of the line; numbers heapsift needs are decoded
//! on the way.

mod bytes;
mod cursor;
mod keys;
mod record;
mod strings;

pub use record::{LineKind, LineParser, Parsed, Record, RejectReason, parse_line};
pub use strings::{decode_json_string, inspect_ruby_string, parse_address};
