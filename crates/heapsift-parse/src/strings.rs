//! Decoding and writing the strings found in dumps.

/// Parses an address as dumps write it: hex, with or without `0x`, in any
/// case (Ruby 2.1–2.5 used the platform's `%p`).
pub fn parse_address(text: &[u8]) -> Option<u64> {
    let digits = match text {
        [b'0', b'x' | b'X', rest @ ..] => rest,
        _ => text,
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut value = 0u64;
    let mut invalid = 0u8;
    for &b in digits {
        let digit = HEX_DIGITS[usize::from(b)];
        invalid |= digit;
        value = (value << 4) | u64::from(digit & 0x0f);
    }
    (invalid & 0x80 == 0).then_some(value)
}

/// The value of each hex digit; 0x80 marks bytes that are not hex digits.
static HEX_DIGITS: [u8; 256] = {
    let mut table = [0x80u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Whether `raw` (the text between a string's quotes) is a valid JSON
/// string: no unescaped `"`, control bytes or invalid UTF-8, and only valid
/// escapes.
pub(crate) fn is_strict_json_string(raw: &[u8]) -> bool {
    let suspicious = raw.iter().fold(false, |seen, &b| {
        seen | (b < 0x20) | (b == b'"') | (b == b'\\') | (b >= 0x80)
    });
    if !suspicious {
        return true;
    }
    if std::str::from_utf8(raw).is_err() {
        return false;
    }
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'"' => return false,
            b if b < 0x20 => return false,
            b'\\' => match raw.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u')
                    if raw
                        .get(i + 2..i + 6)
                        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                {
                    i += 6
                }
                _ => return false,
            },
            _ => i += 1,
        }
    }
    true
}

/// Decodes the escapes of a JSON string's content into bytes. `\uXXXX`
/// escapes become UTF-8 (surrogate pairs combined); anything malformed is
/// kept as written, since dumps are decoded leniently.
pub fn decode_json_string(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' || i + 1 >= raw.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let simple = match raw[i + 1] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            i += 2;
            continue;
        }
        match raw[i + 1] {
            b'u' => match hex4(&raw[i + 2..]) {
                Some(unit) => {
                    let mut consumed = 6;
                    let mut code = u32::from(unit);
                    if (0xD800..0xDC00).contains(&unit)
                        && raw.get(i + 6..i + 8) == Some(b"\\u")
                        && let Some(low) =
                            hex4(&raw[i + 8..]).filter(|l| (0xDC00..0xE000).contains(l))
                    {
                        code = 0x10000 + ((code - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                        consumed = 12;
                    }
                    let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    i += consumed;
                }
                None => {
                    out.push(b'\\');
                    i += 1;
                }
            },
            _ => {
                out.push(b'\\');
                i += 1;
            }
        }
    }
    out
}

fn hex4(bytes: &[u8]) -> Option<u16> {
    let digits = bytes.get(..4)?;
    let text = std::str::from_utf8(digits).ok()?;
    u16::from_str_radix(text, 16).ok()
}

/// Writes `value` as Ruby's `String#inspect` does for 7-bit strings,
/// quotes included: `"` and `\` escaped, the named control escapes, other
/// control bytes and DEL as `\uXXXX`, and `#` before `{`, `$` or `@` as `\#`.
/// Bytes of 0x80 and above (not expected in dumps) are written as `\xHH`.
pub fn inspect_ruby_string(value: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for (i, &b) in value.iter().enumerate() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0b => out.extend_from_slice(b"\\v"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x1b => out.extend_from_slice(b"\\e"),
            b'#' if matches!(value.get(i + 1), Some(b'{' | b'$' | b'@')) => {
                out.extend_from_slice(b"\\#")
            }
            0..0x20 | 0x7f => out.extend_from_slice(format!("\\u{b:04X}").as_bytes()),
            0x80.. => out.extend_from_slice(format!("\\x{b:02X}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_every_spelling() {
        assert_eq!(parse_address(b"0x7f0000000028"), Some(0x7f0000000028));
        assert_eq!(parse_address(b"0X7F0A"), Some(0x7f0a));
        assert_eq!(parse_address(b"00007FF6A1B2C3D4"), Some(0x7ff6a1b2c3d4));
        assert_eq!(parse_address(b"0x"), None);
        assert_eq!(parse_address(b"0xzz"), None);
    }

    #[test]
    fn decodes_every_json_escape() {
        assert_eq!(
            decode_json_string(br#"a\"b\\c\/d\b\f\n\r\t\u0000\u001f\u007F\u00e9\ud83d\ude00"#),
            "a\"b\\c/d\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}é😀".as_bytes()
        );
        assert_eq!(decode_json_string(br"bad \x and \u12"), br"bad \x and \u12");
    }

    #[test]
    fn strict_json_strings() {
        assert!(is_strict_json_string(b"plain/path.rb"));
        assert!(is_strict_json_string(br#"esc \" \\ \u00ff"#));
        assert!(is_strict_json_string("é".as_bytes()));
        assert!(!is_strict_json_string(br#"we"ird"#));
        assert!(!is_strict_json_string(br"dir\d"));
        assert!(!is_strict_json_string(b"nul\0"));
        assert!(!is_strict_json_string(b"\xff\xfe"));
        assert!(!is_strict_json_string(br"\u12"));
    }

    #[test]
    fn inspects_like_ruby() {
        let mut out = Vec::new();
        inspect_ruby_string(
            b"q\" b\\ \t\n\r\x0c\x0b\x08\x07\x1b\x00\x1f\x7f #{x} #$y #@z # {n} #",
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""q\" b\\ \t\n\r\f\v\b\a\e\u0000\u001F\u007F \#{x} \#$y \#@z # {n} #""#
        );
    }
}
