//! `Raw`: the text of one JSON value borrowed from an example that was validated, and
//! what can be done with such text without parsing it into a `Value`: take a string's
//! contents, drop the whitespace outside strings, escape a string, describe a value for
//! a message, find a lone surrogate escape. Nothing here validates JSON: the walker and
//! serde_json do that once, in the scan.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use serde::de::{Deserialize, Deserializer, Visitor};
use serde_json::Value;

use super::search::for_each_escape;
use crate::example::{describe_value, quote_cut};

/// The text of one JSON value (no surrounding whitespace) borrowed from an example,
/// which has been validated: the scanner follows its structure without
/// checking its syntax again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw<'a>(pub(super) &'a str);

impl<'a> Raw<'a> {
    /// `text` must be one valid JSON value (as serde_json's `RawValue::get` gives).
    pub fn from_validated(text: &'a str) -> Raw<'a> {
        Raw(text)
    }

    pub fn get(self) -> &'a str {
        self.0
    }
}

/// The string a raw JSON string value holds (borrowed when it has no escapes).
pub fn string_of(raw: Raw<'_>) -> Option<Cow<'_, str>> {
    let text = raw.get();
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(text).ok().map(Cow::Owned)
}

/// JSON text without the whitespace outside strings.
pub fn minified(raw: Raw) -> String {
    let mut out = Vec::with_capacity(raw.get().len());
    for_each_significant(raw.get().as_bytes(), |chunk| out.extend_from_slice(chunk));
    // Only ASCII whitespace outside strings was removed, so this is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Append `s` as the contents of a JSON string (no quotes), escaped exactly as
/// serde_json escapes: `"`, `\\`, the short forms `\b \f \n \r \t`, and other control
/// characters as `\u00xx`.
pub fn push_json_escaped(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let mut start = 0;
    for_each_escape(bytes, |i| {
        let b = bytes[i];
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            _ => "",
        };
        out.push_str(&s[start..i]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(short);
        }
        start = i + 1;
    });
    out.push_str(&s[start..]);
}

/// The first byte of a raw value.
pub(super) fn first_byte(raw: Raw) -> u8 {
    raw.get().bytes().next().unwrap_or(b' ')
}

/// What a raw value is, for messages (as `describe_value`).
pub fn describe_raw(raw: Raw) -> String {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(v) => describe_value(&v),
        Err(_) => quote_cut(raw.get(), true),
    }
}

/// Copy JSON text without the whitespace outside strings.
pub fn write_minified(w: &mut dyn Write, raw: Raw) -> io::Result<()> {
    let bytes = raw.get().as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        return w.write_all(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    for_each_significant(bytes, |chunk| out.extend_from_slice(chunk));
    w.write_all(&out)
}

/// Call `f` with the runs of `bytes` that are not whitespace outside strings.
fn for_each_significant(bytes: &[u8], mut f: impl FnMut(&[u8])) {
    let mut in_string = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b' ' | b'\n' | b'\r' | b'\t' => {
                if start < i {
                    f(&bytes[start..i]);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < bytes.len() {
        f(&bytes[start..]);
    }
}

/// The byte offset of the first `\uXXXX` escape that is an unpaired UTF-16 surrogate
/// (`\ud800` alone). serde_json's raw-value check lets these through while its full
/// parser rejects them, and `datasets` rejects them too, so the scan must catch them.
pub fn find_lone_surrogate(bytes: &[u8]) -> Option<usize> {
    let hex = |at: usize| -> Option<u32> {
        let digits = bytes.get(at..at + 4)?;
        u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) != Some(&b'u') {
            i += 2;
            continue;
        }
        let Some(unit) = hex(i + 2) else {
            return Some(i);
        };
        if (0xDC00..0xE000).contains(&unit) {
            return Some(i);
        }
        if (0xD800..0xDC00).contains(&unit) {
            let is_paired = bytes.get(i + 6) == Some(&b'\\')
                && bytes.get(i + 7) == Some(&b'u')
                && hex(i + 8).is_some_and(|low| (0xDC00..0xE000).contains(&low));
            if !is_paired {
                return Some(i);
            }
            i += 12;
            continue;
        }
        i += 6;
    }
    None
}

/// A string key, borrowed when it has no escapes.
pub(super) struct Key<'a>(pub(super) Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lone_surrogates_are_found() {
        assert_eq!(find_lone_surrogate(br#"{"a":"\ud800x"}"#), Some(6));
        assert_eq!(find_lone_surrogate(br#"{"a":"\udc00"}"#), Some(6));
        assert_eq!(find_lone_surrogate(br#"{"a":"\ud83d\ude80"}"#), None);
        assert_eq!(find_lone_surrogate(br#"{"a":"\\ud800"}"#), None);
        assert_eq!(find_lone_surrogate(br#"{"a":"\u00e9\n"}"#), None);
    }

    proptest! {
        #[test]
        fn escaping_matches_serde(s in any::<String>(), t in "[\\x00-\\x1f\"\\\\a\\u{7f}\\u{2028}é]{0,12}") {
            for s in [s, t] {
                let mut ours = String::new();
                push_json_escaped(&mut ours, &s);
                let theirs = serde_json::to_string(&s).unwrap();
                prop_assert_eq!(ours, &theirs[1..theirs.len() - 1]);
            }
        }
    }
}
