//! Finding bytes in short stretches of a line.
//!
//! Dump lines are made of many short strings (keys, addresses, type names);
//! a general search such as memchr spends more on its set-up than on such a
//! string. [`find_any`] instead compares 16 bytes at a time in a loop the
//! compiler inlines: on x86_64 with SSE2 (part of its baseline), elsewhere
//! byte by byte.

/// The position of the first byte at or after `from` that is one of
/// `needles`.
#[inline(always)]
pub(crate) fn find_any<const N: usize>(
    bytes: &[u8],
    from: usize,
    needles: [u8; N],
) -> Option<usize> {
    let mut at = from;
    while let Some(window) = bytes.get(at..at + 16) {
        let mask = matches_mask(window.try_into().expect("sixteen bytes"), needles);
        if mask != 0 {
            return Some(at + mask.trailing_zeros() as usize);
        }
        at += 16;
    }
    let rest = bytes.get(at..)?;
    rest.iter()
        .position(|b| needles.contains(b))
        .map(|i| at + i)
}

/// The position of the first `"` at or after `from`, and whether any byte
/// before it is unusual in a JSON string: a control byte, a backslash or a
/// byte of 0x80 and above. Raw strings (paths) are checked for validity
/// this way while they are searched, rather than in a second pass.
#[inline(always)]
pub(crate) fn find_quote_noting_unusual(bytes: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut at = from;
    let mut unusual = false;
    while let Some(window) = bytes.get(at..at + 16) {
        let (quotes, odd) = quote_and_unusual_masks(window.try_into().expect("sixteen bytes"));
        if quotes != 0 {
            let quote = quotes.trailing_zeros();
            unusual |= odd & ((1 << quote) - 1) != 0;
            return Some((at + quote as usize, unusual));
        }
        unusual |= odd != 0;
        at += 16;
    }
    for (i, &b) in bytes.get(at..)?.iter().enumerate() {
        if b == b'"' {
            return Some((at + i, unusual));
        }
        unusual |= is_unusual(b);
    }
    None
}

fn is_unusual(b: u8) -> bool {
    !(0x20..0x80).contains(&b) || b == b'\\'
}

/// Bit i set where `window[i]` is `"` (first mask), or unusual (second).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline(always)]
fn quote_and_unusual_masks(window: &[u8; 16]) -> (u32, u32) {
    // SAFETY: as for `matches_mask`.
    unsafe { sse2::quote_and_unusual_masks(window) }
}

/// Portable version of the masks above.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn quote_and_unusual_masks(window: &[u8; 16]) -> (u32, u32) {
    window
        .iter()
        .enumerate()
        .fold((0, 0), |(quotes, odd), (i, &b)| {
            (
                quotes | (u32::from(b == b'"') << i),
                odd | (u32::from(is_unusual(b)) << i),
            )
        })
}

/// Bit i set where `window[i]` is one of `needles`.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline(always)]
fn matches_mask<const N: usize>(window: &[u8; 16], needles: [u8; N]) -> u32 {
    // SAFETY: SSE2 is part of the x86_64 baseline, so every x86_64 CPU can
    // run this target-feature function.
    unsafe { sse2::matches_mask(window, needles) }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
        _mm_set1_epi8, _mm_setzero_si128,
    };

    #[target_feature(enable = "sse2")]
    #[inline]
    fn load(window: &[u8; 16]) -> __m128i {
        let low = i64::from_le_bytes(window[..8].try_into().expect("eight bytes"));
        let high = i64::from_le_bytes(window[8..].try_into().expect("eight bytes"));
        _mm_set_epi64x(high, low)
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    pub(super) fn matches_mask<const N: usize>(window: &[u8; 16], needles: [u8; N]) -> u32 {
        let vector = load(window);
        let mut hits = _mm_setzero_si128();
        for needle in needles {
            hits = _mm_or_si128(hits, _mm_cmpeq_epi8(vector, _mm_set1_epi8(needle as i8)));
        }
        _mm_movemask_epi8(hits) as u32
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    pub(super) fn quote_and_unusual_masks(window: &[u8; 16]) -> (u32, u32) {
        let vector = load(window);
        let quotes = _mm_cmpeq_epi8(vector, _mm_set1_epi8(b'"' as i8));
        // Signed: bytes of 0x80 and above are negative, so below 0x20 too.
        let control_or_high = _mm_cmplt_epi8(vector, _mm_set1_epi8(0x20));
        let backslashes = _mm_cmpeq_epi8(vector, _mm_set1_epi8(b'\\' as i8));
        (
            _mm_movemask_epi8(quotes) as u32,
            _mm_movemask_epi8(_mm_or_si128(control_or_high, backslashes)) as u32,
        )
    }
}

/// Bit i set where `window[i]` is one of `needles` (portable version).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn matches_mask<const N: usize>(window: &[u8; 16], needles: [u8; N]) -> u32 {
    window.iter().enumerate().fold(0, |mask, (i, b)| {
        mask | (u32::from(needles.contains(b)) << i)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_unusual_bytes_before_the_quote_only() {
        for len in 1..50 {
            let mut text = vec![b'a'; len];
            text[len - 1] = b'"';
            assert_eq!(find_quote_noting_unusual(&text, 0), Some((len - 1, false)));
            for odd in [0x01, 0x1f, b'\\', 0x80, 0xff] {
                for at in 0..len - 1 {
                    let mut text = text.clone();
                    text[at] = odd;
                    assert_eq!(
                        find_quote_noting_unusual(&text, 0),
                        Some((len - 1, true)),
                        "{len} {at} {odd}"
                    );
                }
                let mut after = text.clone();
                after.push(odd);
                assert_eq!(find_quote_noting_unusual(&after, 0), Some((len - 1, false)));
            }
        }
        assert_eq!(
            find_quote_noting_unusual(b"no quote here, none at all", 0),
            None
        );
    }

    #[test]
    fn finds_the_first_needle_at_every_offset() {
        for len in 0..70 {
            for at in 0..len {
                for needle in [b'"', b'\\'] {
                    let mut text = vec![b'a'; len];
                    text[at] = needle;
                    text[len - 1] = if at + 1 < len { b'"' } else { text[len - 1] };
                    for from in 0..=at {
                        assert_eq!(
                            find_any(&text, from, [b'"', b'\\']),
                            Some(at),
                            "{len} {at} {from}"
                        );
                    }
                    assert_eq!(find_any(&text, at + 1, [b'x']), None);
                }
            }
            assert_eq!(find_any(&vec![b'a'; len], 0, [b'"', b'\\']), None);
        }
        assert_eq!(find_any(b"abc", 3, [b'a']), None);
        assert_eq!(find_any(b"abc", 4, [b'a']), None);
    }
}
