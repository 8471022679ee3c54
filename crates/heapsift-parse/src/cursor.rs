//! A byte cursor with the JSON scanning steps the record parser needs.

/// Why scanning stopped; turned into a [`crate::RejectReason`] by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

pub(crate) type Scan<T> = Result<T, Malformed>;

pub(crate) struct Cursor<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
}

use crate::bytes::{find_any, find_quote_noting_unusual};
use crate::keys::is_raw_key;

/// How many candidate ends [`Cursor::raw_string_to_tail`] may try in one
/// line, all its raw fields together: a broken Ruby 3.1 method name holds
/// a few dozen quotes at most, and a line made to be slow stops here.
pub(crate) const CANDIDATE_BUDGET: u32 = 1024;

/// Whitespace within a line. A newline is not: it ends the line, so that a
/// parser given the rest of a block stops at the line's end.
#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    #[inline(always)]
    pub fn skip_ws(&mut self) {
        // Ruby writes at most one space between tokens; one comparison
        // settles the common case.
        while let Some(&b) = self.bytes.get(self.pos) {
            if b > b' ' || !is_ws(b) {
                break;
            }
            self.pos += 1;
        }
    }

    /// Moves past a `,` that ends a value, and the whitespace after it.
    /// Returns false when the next token is not a comma.
    #[inline(always)]
    pub fn comma(&mut self) -> bool {
        match self.bytes.get(self.pos..self.pos + 2) {
            Some(b", ") => {
                self.pos += 2;
                true
            }
            _ if self.peek() == Some(b',') => {
                self.pos += 1;
                self.skip_ws();
                true
            }
            _ => false,
        }
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Whether the cursor is at the end of the line: the end of the bytes
    /// or a newline.
    #[inline]
    pub fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some(b'\n'))
    }

    #[inline]
    pub fn expect(&mut self, byte: u8) -> Scan<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    /// Reads a JSON string whose opening quote is at the cursor; returns its
    /// raw (still escaped) content and whether it holds any escape.
    #[inline(always)]
    pub fn string(&mut self) -> Scan<(&'a [u8], bool)> {
        self.expect(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            match find_any(self.bytes, self.pos, [b'"', b'\\', b'\n']) {
                Some(i) if self.bytes[i] == b'"' => {
                    self.pos = i + 1;
                    return Ok((&self.bytes[start..i], escaped));
                }
                Some(i)
                    if self.bytes[i] == b'\\'
                        && self.bytes.get(i + 1).is_some_and(|&b| b != b'\n') =>
                {
                    escaped = true;
                    self.pos = i + 2; // the backslash and the byte it escapes
                }
                _ => return Err(Malformed), // the line ends inside the string
            }
        }
    }

    /// Skips a flat object such as `flags` quickly: when the next `}` comes
    /// before any nested `{` or `[`, the object ends there. Anything else is
    /// walked in full by [`Cursor::skip_value`].
    #[inline]
    pub fn skip_flat_object(&mut self) -> Scan<()> {
        if let Some(end) = find_any(self.bytes, self.pos + 1, [b'}', b'{', b'[', b'\\', b'\n'])
            && self.bytes[end] == b'}'
        {
            self.pos = end + 1;
            return Ok(());
        }
        self.skip_value()
    }

    /// Reads a string that Ruby may have written without escaping. It ends
    /// at the first `"` after which the line goes on as Ruby's layout does:
    /// `, "key":` or the object's final `}`. Returns the raw content, and
    /// whether it is plainly a valid JSON string (no quote, backslash,
    /// control or non-ASCII byte in it; `false` means "check it").
    pub fn raw_string(&mut self) -> Scan<(&'a [u8], bool)> {
        self.expect(b'"')?;
        let start = self.pos;
        let mut from = start;
        let mut plain = true;
        while let Some((quote, unusual)) = find_quote_noting_unusual(self.bytes, from) {
            if unusual && memchr::memchr(b'\n', &self.bytes[from..quote]).is_some() {
                return Err(Malformed); // the line ends inside the string
            }
            plain &= !unusual;
            if continues_after_value(&self.bytes[quote + 1..]) {
                self.pos = quote + 1;
                return Ok((&self.bytes[start..quote], plain));
            }
            plain = false; // the text holds a quote
            from = quote + 1;
        }
        Err(Malformed)
    }

    /// Reads a raw string whose text may itself hold `", "key":` (Ruby
    /// 3.0/3.1's broken method names, a path with quotes): it ends at the
    /// first `"` after which the *whole rest of the line* is a record's
    /// tail as Ruby writes it (`, "key": value` with keys Ruby writes, JSON
    /// values, raw fields read this same way, the closing `}`), checked
    /// from there to the line's end. Garbage that merely looks like
    /// `", "key":` for a while fails that check. `budget` bounds the
    /// candidates tried.
    pub fn raw_string_to_tail(&mut self, budget: &mut u32) -> Scan<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.pos;
        let line = &self.bytes[start..];
        let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
        for quote in memchr::memchr_iter(b'"', line) {
            if *budget == 0 {
                return Err(Malformed);
            }
            *budget -= 1;
            if tail_is_valid(self.bytes, start + quote + 1, budget) {
                self.pos = start + quote + 1;
                return Ok(&line[..quote]);
            }
        }
        Err(Malformed)
    }

    /// Reads an unsigned decimal integer, or returns `None` (having skipped
    /// the value) when the value is anything else.
    #[inline(always)]
    pub fn unsigned(&mut self) -> Scan<Option<u64>> {
        let start = self.pos;
        let mut value: u64 = 0;
        while let Some(&b) = self.bytes.get(self.pos) {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
            self.pos += 1;
        }
        // Up to 19 digits always fit in a u64; longer numbers are skipped.
        let digits = self.pos - start;
        let ends_cleanly = matches!(
            self.peek(),
            None | Some(b',' | b'}' | b' ' | b'\t' | b'\r' | b'\n')
        );
        if (1..=19).contains(&digits) && ends_cleanly {
            Ok(Some(value))
        } else {
            self.pos = start;
            self.skip_value()?;
            Ok(None)
        }
    }

    /// Reads an array, returning its raw content (between the brackets) and
    /// how many elements it has.
    pub fn array(&mut self) -> Scan<(&'a [u8], u32)> {
        self.expect(b'[')?;
        let start = self.pos;
        let mut count = 0u32;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok((&self.bytes[start..self.pos - 1], 0));
        }
        loop {
            self.skip_ws();
            if self.peek() == Some(b'"') {
                self.string()?;
            } else {
                self.skip_value()?;
            }
            count += 1;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok((&self.bytes[start..self.pos - 1], count));
                }
                _ => return Err(Malformed),
            }
        }
    }

    /// Skips any JSON value.
    pub fn skip_value(&mut self) -> Scan<()> {
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'[') => self.array().map(drop),
            Some(b'{') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.skip_ws();
                    self.string()?;
                    self.skip_ws();
                    self.expect(b':')?;
                    self.skip_ws();
                    self.skip_value()?;
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(Malformed),
                    }
                }
            }
            Some(_) => self.skip_scalar(),
            None => Err(Malformed),
        }
    }
}

impl Cursor<'_> {
    /// At a `}`: whether only whitespace follows it to the line's end (it
    /// closes the record).
    fn closes_the_line(&mut self) -> bool {
        self.pos += 1;
        self.skip_ws();
        self.at_line_end()
    }

    /// Skips `true`, `false`, `null` or a JSON number; anything else (an
    /// unquoted address, `12abc`, `1.`) is not what Ruby writes.
    fn skip_scalar(&mut self) -> Scan<()> {
        let rest = &self.bytes[self.pos..];
        for word in [&b"true"[..], b"false", b"null"] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return Ok(());
            }
        }
        let digits = |c: &mut Self| {
            let start = c.pos;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.pos += 1;
            }
            if c.pos > start {
                Ok(())
            } else {
                Err(Malformed)
            }
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        digits(self)?;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            digits(self)?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            digits(self)?;
        }
        Ok(())
    }
}

/// Whether the bytes from `from` to the line's end are the tail of a record
/// as Ruby writes it, after a value: see [`Cursor::raw_string_to_tail`].
fn tail_is_valid(bytes: &[u8], from: usize, budget: &mut u32) -> bool {
    let mut c = Cursor { bytes, pos: from };
    loop {
        c.skip_ws();
        match c.peek() {
            Some(b'}') => return c.closes_the_line(),
            Some(b',') => c.pos += 1,
            _ => return false,
        }
        c.skip_ws();
        let Ok((key, _)) = c.string() else {
            return false;
        };
        let Some(raw) = is_raw_key(key) else {
            return false;
        };
        c.skip_ws();
        if c.expect(b':').is_err() {
            return false;
        }
        c.skip_ws();
        let value = if raw && c.peek() == Some(b'"') {
            c.raw_string_to_tail(budget).map(drop)
        } else {
            c.skip_value()
        };
        if value.is_err() {
            return false;
        }
    }
}

/// Whether `rest`, the bytes after a candidate closing quote of a raw string,
/// continue a record as Ruby writes it: `, "key":` or `}` and the line's end.
fn continues_after_value(rest: &[u8]) -> bool {
    // Ruby's own spacing first, then any whitespace.
    let (comma_and_quote, key_start) = match rest {
        [b',', b' ', b'"', ..] => (true, 3),
        _ => {
            let mut c = Cursor::new(rest);
            c.skip_ws();
            match c.peek() {
                Some(b'}') => return c.closes_the_line(),
                Some(b',') => {
                    c.pos += 1;
                    c.skip_ws();
                    (c.expect(b'"').is_ok(), c.pos)
                }
                _ => return false,
            }
        }
    };
    if !comma_and_quote {
        return false;
    }
    let Some(key_end) = find_any(rest, key_start, [b'"']) else {
        return false;
    };
    let mut c = Cursor::new(rest);
    c.pos = key_end + 1;
    c.skip_ws();
    key_end > key_start && c.peek() == Some(b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_end_at_the_first_unescaped_quote() {
        let mut c = Cursor::new(br#""a\"b\\" rest"#);
        assert_eq!(c.string(), Ok((&br#"a\"b\\"#[..], true)));
        assert_eq!(&c.bytes[c.pos..], b" rest");
    }

    #[test]
    fn raw_strings_end_where_the_record_goes_on() {
        let mut c = Cursor::new(br#""/tmp/we"ird\dir/f.rb", "line":3}"#);
        assert_eq!(c.raw_string(), Ok((&br#"/tmp/we"ird\dir/f.rb"#[..], false)));
        let mut c = Cursor::new(br#""a", b", "line" : 3}"#);
        assert_eq!(c.raw_string(), Ok((&br#"a", b"#[..], false)));
        let mut c = Cursor::new(br#""a", "", b",  "x":1}"#);
        assert_eq!(c.raw_string(), Ok((&br#"a", "", b"#[..], false)));
        let mut c = Cursor::new(br#""last"}  "#);
        assert_eq!(c.raw_string(), Ok((&b"last"[..], true)));
        let mut c = Cursor::new(b"\"caf\xc3\xa9.rb\", \"line\":1}");
        assert_eq!(c.raw_string(), Ok((&b"caf\xc3\xa9.rb"[..], false)));
        let mut c = Cursor::new(br#""never closed, "#);
        assert_eq!(c.raw_string(), Err(Malformed));
    }

    #[test]
    fn arrays_count_their_elements() {
        let mut c = Cursor::new(br#"["0x1", "0x2","0x1" ] x"#);
        let (raw, n) = c.array().unwrap();
        assert_eq!(n, 3);
        assert_eq!(raw, br#""0x1", "0x2","0x1" "#);
        assert_eq!(Cursor::new(b"[ ]").array(), Ok((&b" "[..], 0)));
        assert_eq!(Cursor::new(br#"["a", ]"#).array(), Err(Malformed));
        assert_eq!(Cursor::new(br#"["a""#).array(), Err(Malformed));
    }

    #[test]
    fn unsigned_numbers_or_none() {
        assert_eq!(Cursor::new(b"42,").unsigned(), Ok(Some(42)));
        assert_eq!(Cursor::new(b"42").unsigned(), Ok(Some(42)));
        assert_eq!(Cursor::new(b"-1,").unsigned(), Ok(None));
        assert_eq!(Cursor::new(b"1.5,").unsigned(), Ok(None));
        assert_eq!(Cursor::new(b"null}").unsigned(), Ok(None));
        assert_eq!(
            Cursor::new(b"99999999999999999999999,").unsigned(),
            Ok(None)
        );
    }

    #[test]
    fn flat_objects_are_skipped_fast_and_nested_ones_in_full() {
        let mut c = Cursor::new(br#"{"old":true, "age":3}, "x":1"#);
        c.skip_flat_object().unwrap();
        assert_eq!(&c.bytes[c.pos..], br#", "x":1"#);
        let mut c = Cursor::new(br#"{"a":{"b":1}, "c":2} tail"#);
        c.skip_flat_object().unwrap();
        assert_eq!(&c.bytes[c.pos..], b" tail");
    }

    #[test]
    fn nested_values_are_skipped() {
        let mut c = Cursor::new(br#"{"a":[1,{"b":"}"}], "c":true} tail"#);
        c.skip_value().unwrap();
        assert_eq!(&c.bytes[c.pos..], b" tail");
    }
}
