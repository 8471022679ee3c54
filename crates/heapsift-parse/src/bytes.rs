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
        _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
        _mm_setzero_si128,
    };

    #[target_feature(enable = "sse2")]
    #[inline]
    pub(super) fn matches_mask<const N: usize>(window: &[u8; 16], needles: [u8; N]) -> u32 {
        let low = i64::from_le_bytes(window[..8].try_into().expect("eight bytes"));
        let high = i64::from_le_bytes(window[8..].try_into().expect("eight bytes"));
        let vector = _mm_set_epi64x(high, low);
        let mut hits = _mm_setzero_si128();
        for needle in needles {
            hits = _mm_or_si128(hits, _mm_cmpeq_epi8(vector, _mm_set1_epi8(needle as i8)));
        }
        _mm_movemask_epi8(hits) as u32
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
