//! Byte searches over JSON text: the first byte a string must escape, the end of a
//! string's contents, the next quote or bracket. They are the inner loops of the walker
//! and the scanner, done with memchr (SIMD on every platform memchr supports). Nothing
//! here knows JSON's grammar beyond which bytes matter.

use memchr::{memchr2, memchr3, memchr3_iter};

/// The position of the first `"` or `\\` in `bytes` (strings are most of an example's
/// text, and this is the scanner's inner loop).
#[inline]
pub(super) fn find_quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    memchr2(b'"', b'\\', bytes)
}

/// The position of the first byte JSON must escape in a string: a control character,
/// `"` or `\\`. Used on a string's contents, which end at the next quote, so the check
/// for control characters covers a few bytes.
#[inline]
pub(super) fn find_escape(bytes: &[u8]) -> Option<usize> {
    let end = find_quote_or_backslash(bytes);
    let head = &bytes[..end.unwrap_or(bytes.len())];
    if has_control(head) {
        head.iter().position(|&b| b < 0x20)
    } else {
        end
    }
}

/// Call `f` with the position of every byte JSON must escape in a string, in order.
/// Text with no control character but newlines (prompts, most of all) is searched once
/// with `memchr3_iter`, whose setup is paid once per text rather than once per line.
#[inline]
pub(super) fn for_each_escape(bytes: &[u8], mut f: impl FnMut(usize)) {
    let is_other_control = |b: u8| b < 0x20 && b != b'\n';
    if bytes
        .iter()
        .fold(false, |found, &b| found | is_other_control(b))
    {
        let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        for (i, _) in bytes.iter().enumerate().filter(|(_, &b)| needs_escape(b)) {
            f(i);
        }
    } else {
        memchr3_iter(b'"', b'\\', b'\n', bytes).for_each(f);
    }
}

/// Whether `bytes` hold a control character (below 0x20). The fold has no early exit,
/// so it compiles to vector compares.
#[inline]
pub(super) fn has_control(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |found, &b| found | (b < 0x20))
}

/// The position of the first `"`, `open` or `close` in JSON text outside strings. To
/// step over a container it is enough to count its own kind of bracket: outside
/// strings, braces and brackets each balance on their own in valid JSON.
#[inline]
pub(super) fn find_quote_or(open: u8, close: u8, bytes: &[u8]) -> Option<usize> {
    memchr3(b'"', open, close, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn escape_search_finds_the_first_byte_to_escape(
            bytes in prop::collection::vec(prop::sample::select(b"ab\"\\\xff \n\x00\x1f".to_vec()), 0..80)
        ) {
            let naive = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(find_escape(&bytes), naive);
        }
    }

    proptest! {
        #[test]
        fn every_byte_to_escape_is_found(
            bytes in prop::collection::vec(prop::sample::select(b"ab\"\\\xff \n\t\x00\x1f".to_vec()), 0..80)
        ) {
            let naive: Vec<usize> = (0..bytes.len())
                .filter(|&i| matches!(bytes[i], b'"' | b'\\' | 0..=0x1f))
                .collect();
            let mut found = Vec::new();
            for_each_escape(&bytes, |i| found.push(i));
            prop_assert_eq!(found, naive);
        }
    }

    #[test]
    fn bracket_search_finds_quotes_and_its_own_brackets() {
        for (text, at) in [
            ("12, true, null: 3e5 , \"x", Some(22)),
            ("0.5}", Some(3)),
            ("1234567890{", Some(10)),
            ("false, [1234567] }", Some(17)),
            ("{", Some(0)),
            ("12345678 9", None),
        ] {
            assert_eq!(find_quote_or(b'{', b'}', text.as_bytes()), at, "{text}");
        }
    }
}
