//! Byte searches over JSON text: the first byte a string must escape, the end of a
//! string's contents, the next quote or bracket. They are the inner loops of the walker
//! and the scanner. Nothing here knows JSON's grammar beyond which bytes matter.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of the result is set where `word` has a byte below `n`
/// (n ≤ 128; the lowest such byte is exact, which is the one used).
#[inline]
fn bytes_below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * n as u64) & !word & HIGHS
}

/// The position of the first byte JSON must escape in a string: a control character,
/// `"` or `\\`.
#[inline]
pub(super) fn find_escape(bytes: &[u8]) -> Option<usize> {
    find_first(
        bytes,
        |word| {
            bytes_below(word, 0x20)
                | bytes_below(word ^ (ONES * b'"' as u64), 1)
                | bytes_below(word ^ (ONES * b'\\' as u64), 1)
        },
        |b| b < 0x20 || b == b'"' || b == b'\\',
    )
}

/// The position of the first byte of `bytes` that `is_hit` accepts, eight bytes at a
/// time: `hits` marks (with the high bit of a byte) the bytes of a word that `is_hit`
/// accepts, exactly at least for the lowest one.
#[inline(always)]
fn find_first(
    bytes: &[u8],
    hits: impl Fn(u64) -> u64,
    is_hit: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks_exact yields 8 bytes"));
        let found = hits(word);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| is_hit(b))
        .map(|i| at + i)
}

/// The position of the first `"` or `\\` in `bytes` (strings are most of an example's
/// text, and this is the scanner's inner loop).
#[inline]
pub(super) fn find_quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    find_first(
        bytes,
        |word| {
            bytes_below(word ^ (ONES * b'"' as u64), 1)
                | bytes_below(word ^ (ONES * b'\\' as u64), 1)
        },
        |b| b == b'"' || b == b'\\',
    )
}

/// The position of the first `"`, `{`, `}`, `[` or `]` in JSON text outside strings.
/// The four brackets are the bytes b with b & 0xD9 == 0x59; the others with that
/// pattern (`Y`, `y`, `_`, DEL) cannot stand outside a string.
#[inline]
pub(super) fn find_quote_or_bracket(bytes: &[u8]) -> Option<usize> {
    find_first(
        bytes,
        |word| {
            bytes_below(word ^ (ONES * b'"' as u64), 1)
                | bytes_below((word & (ONES * 0xD9)) ^ (ONES * 0x59), 1)
        },
        |b| b == b'"' || b & 0xD9 == 0x59,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn quote_search_finds_the_first_quote_or_backslash(
            bytes in prop::collection::vec(prop::sample::select(b"ab\"\\\xff ".to_vec()), 0..40)
        ) {
            let naive = bytes.iter().position(|&b| b == b'"' || b == b'\\');
            prop_assert_eq!(find_quote_or_backslash(&bytes), naive);
        }
    }

    #[test]
    fn bracket_search_finds_quotes_and_brackets() {
        for (text, at) in [
            ("12, true, null: 3e5 , \"x", Some(22)),
            ("0.5]", Some(3)),
            ("1234567890{", Some(10)),
            ("false, 1234567 }", Some(15)),
            ("[", Some(0)),
            ("12345678 9", None),
        ] {
            assert_eq!(find_quote_or_bracket(text.as_bytes()), at, "{text}");
        }
    }
}
