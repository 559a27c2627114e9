//! The walker: one pass over an example's text that validates it as strictly as
//! serde_json does (grammar, escapes, control characters, nesting depth, repeated keys)
//! and learns, in the same pass, its shape signature, the fingerprint of its state,
//! action and reward, and whether it is already in its compact form. The scan runs it
//! on every example; whatever it declines goes down the slow path (serde_json, then a
//! walk per part), whose messages say what is wrong. It must accept nothing serde_json
//! rejects.

use std::borrow::Cow;

use super::example_text::ExampleText;
use super::fingerprint::{hash_bytes, mix};
use super::raw::Raw;
use super::raw_map::RawMap;
use super::search::{find_escape, find_quote_or_backslash, has_control};
use crate::schema::Schema;

/// What the walk over a whole example learns (see `ExampleText::walk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walked {
    pub shape: u64,
    pub print: u64,
    /// The fingerprint of the state alone (as `print` is of state, action and reward).
    pub state_print: u64,
    /// The text is exactly what `write_compact` would write for it (with nextState
    /// under its own name, metadata and the other keys included).
    pub is_compact: bool,
}

/// What one walk over a value learns: its shape signature and a hash of its content.
#[derive(Debug, Clone, Copy)]
struct Walk {
    shape: u64,
    content: u64,
}

/// Why a walk stopped: a key repeated in one object (its dotted path), nesting past
/// serde_json's recursion limit, or text that is not valid JSON (or holds a lone
/// surrogate escape, which the slow path reports by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkError {
    RepeatedKey(String),
    TooDeep,
    Invalid,
}

/// Containers nested this deep fail, as they do in serde_json (its recursion limit), so
/// whatever the scan accepts every later parse accepts too.
const WALK_DEPTH_LIMIT: usize = 128;

const SIG_NULL: u64 = 1;
const SIG_BOOL: u64 = 2;
const SIG_INT: u64 = 3;
const SIG_BIG_INT: u64 = 4;
const SIG_FLOAT: u64 = 5;
const SIG_STRING: u64 = 6;

fn scalar(shape: u64, tag: u8, bytes: &[u8]) -> Walk {
    Walk {
        shape,
        content: hash_bytes(tag as u64, bytes),
    }
}

/// A byte walk over JSON text that checks it as strictly as serde_json does (grammar,
/// escapes, control characters), with no allocation but for keys with escapes. The scan
/// walks each example once with it, validating and learning its shape, fingerprint and
/// compactness in the same pass; anything it does not accept sends the example down the
/// slow path (serde_json's parse, then a walk per part), whose messages say what is
/// wrong. It replaced a serde visitor that got every number as an allocated String
/// (arbitrary_precision) and a separate validating parse.
struct Walker<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
    /// Whitespace was seen outside strings (the text is not compact).
    is_spaced: bool,
    /// The text may hold control characters, so each string is checked for them; when
    /// one pass over the whole text found none, strings are searched for their end only.
    may_hold_controls: bool,
    /// The keys (with their hashes) of the objects being walked, innermost last, for
    /// repeated-key checks.
    keys: Vec<(u64, Cow<'a, str>)>,
    /// Set to have the next object's members kept in `captured`.
    capture: Option<Vec<(Cow<'a, str>, Raw<'a>)>>,
    captured: RawMap<'a>,
}

impl<'a> Walker<'a> {
    fn new(text: &'a str) -> Walker<'a> {
        Walker {
            text,
            bytes: text.as_bytes(),
            at: 0,
            depth: 0,
            is_spaced: false,
            may_hold_controls: true,
            keys: Vec::new(),
            capture: None,
            captured: RawMap(Vec::new()),
        }
    }

    #[inline]
    fn peek(&self) -> u8 {
        self.bytes.get(self.at).copied().unwrap_or(0)
    }

    #[inline]
    fn skip_ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\n' | b'\r' | b'\t') {
            self.is_spaced = true;
            self.at += 1;
        }
    }

    fn value(&mut self) -> Result<Walk, WalkError> {
        self.skip_ws();
        match self.peek() {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string_value(),
            b't' => self.literal(b"true", scalar(SIG_BOOL, b'b', &[1])),
            b'f' => self.literal(b"false", scalar(SIG_BOOL, b'b', &[0])),
            b'n' => self.literal(b"null", scalar(SIG_NULL, b'z', &[])),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(WalkError::Invalid),
        }
    }

    fn literal(&mut self, word: &[u8], walk: Walk) -> Result<Walk, WalkError> {
        if self.bytes.get(self.at..self.at + word.len()) != Some(word) {
            return Err(WalkError::Invalid);
        }
        self.at += word.len();
        Ok(walk)
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.peek().is_ascii_digit() {
            self.at += 1;
        }
        self.at - start
    }

    /// A number, by JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<Walk, WalkError> {
        let start = self.at;
        if self.peek() == b'-' {
            self.at += 1;
        }
        let is_integer_part_ok = match self.peek() {
            b'0' => {
                self.at += 1;
                true
            }
            b'1'..=b'9' => self.digits() > 0,
            _ => false,
        };
        if !is_integer_part_ok {
            return Err(WalkError::Invalid);
        }
        let mut is_integer = true;
        if self.peek() == b'.' {
            self.at += 1;
            is_integer = false;
            if self.digits() == 0 {
                return Err(WalkError::Invalid);
            }
        }
        if matches!(self.peek(), b'e' | b'E') {
            self.at += 1;
            is_integer = false;
            if matches!(self.peek(), b'+' | b'-') {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(WalkError::Invalid);
            }
        }
        let text = &self.bytes[start..self.at];
        let digits = text.len() - usize::from(text[0] == b'-');
        let sig = if !is_integer {
            SIG_FLOAT
        } else if digits < 19 {
            SIG_INT
        } else {
            // Near i64's edge: decide exactly, as `Schema::of_number` does.
            match std::str::from_utf8(text).map(Schema::of_number) {
                Ok(Schema::Int) => SIG_INT,
                _ => SIG_BIG_INT,
            }
        };
        Ok(scalar(sig, b'n', text))
    }

    /// Step over a string; returns where its contents start and end, and whether they
    /// hold escapes. Control characters, unknown escapes and lone surrogate escapes
    /// are refused.
    #[inline]
    fn string_span(&mut self) -> Result<(usize, usize, bool), WalkError> {
        let bytes = self.bytes;
        let start = self.at + 1;
        let mut i = start;
        let mut has_escape = false;
        loop {
            let rest = bytes.get(i..).unwrap_or_default();
            let hit = if self.may_hold_controls {
                find_escape(rest)
            } else {
                find_quote_or_backslash(rest)
            };
            i += hit.ok_or(WalkError::Invalid)?;
            match bytes[i] {
                b'"' => break,
                b'\\' => {
                    has_escape = true;
                    i += self.escape_len(i)?;
                }
                _ => return Err(WalkError::Invalid),
            }
        }
        self.at = i + 1;
        Ok((start, i, has_escape))
    }

    /// The length of the escape at `i` (its backslash).
    #[cold]
    fn escape_len(&self, i: usize) -> Result<usize, WalkError> {
        let hex = |at: usize| -> Option<u32> {
            let digits = self.bytes.get(at..at + 4)?;
            if !digits.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
        };
        match self.bytes.get(i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(2),
            Some(b'u') => {
                let unit = hex(i + 2).ok_or(WalkError::Invalid)?;
                match unit {
                    0xD800..=0xDBFF => {
                        let is_paired = self.bytes.get(i + 6..i + 8) == Some(b"\\u")
                            && hex(i + 8).is_some_and(|low| (0xDC00..0xE000).contains(&low));
                        if is_paired {
                            Ok(12)
                        } else {
                            Err(WalkError::Invalid)
                        }
                    }
                    0xDC00..=0xDFFF => Err(WalkError::Invalid),
                    _ => Ok(6),
                }
            }
            _ => Err(WalkError::Invalid),
        }
    }

    /// The decoded text of a string with escapes (`start..end` are its contents).
    #[cold]
    fn decoded(&self, start: usize, end: usize) -> Result<String, WalkError> {
        let quoted = self.text.get(start - 1..=end).ok_or(WalkError::Invalid)?;
        serde_json::from_str::<String>(quoted).map_err(|_| WalkError::Invalid)
    }

    /// A key's text: borrowed when it has no escapes.
    #[inline]
    fn key(&mut self) -> Result<Cow<'a, str>, WalkError> {
        let (start, end, has_escape) = self.string_span()?;
        if has_escape {
            return self.decoded(start, end).map(Cow::Owned);
        }
        // The quotes are ASCII, so the slice between them is on character boundaries.
        self.text
            .get(start..end)
            .map(Cow::Borrowed)
            .ok_or(WalkError::Invalid)
    }

    fn string_value(&mut self) -> Result<Walk, WalkError> {
        let (start, end, has_escape) = self.string_span()?;
        if !has_escape {
            return Ok(scalar(SIG_STRING, b's', &self.bytes[start..end]));
        }
        let s = self.decoded(start, end)?;
        Ok(scalar(SIG_STRING, b's', s.as_bytes()))
    }

    fn enter(&mut self) -> Result<(), WalkError> {
        self.depth += 1;
        if self.depth >= WALK_DEPTH_LIMIT {
            return Err(WalkError::TooDeep);
        }
        self.at += 1;
        self.skip_ws();
        Ok(())
    }

    /// After a member or element: true when another follows.
    fn next_item(&mut self, close: u8) -> Result<bool, WalkError> {
        self.skip_ws();
        match self.peek() {
            b',' => {
                self.at += 1;
                Ok(true)
            }
            c if c == close => {
                self.at += 1;
                Ok(false)
            }
            _ => Err(WalkError::Invalid),
        }
    }

    /// A member's key and the colon after it (at the key's opening quote, or where one
    /// is expected).
    fn member_key(&mut self) -> Result<Cow<'a, str>, WalkError> {
        self.skip_ws();
        if self.peek() != b'"' {
            return Err(WalkError::Invalid);
        }
        let key = self.key()?;
        self.skip_ws();
        if self.peek() != b':' {
            return Err(WalkError::Invalid);
        }
        self.at += 1;
        Ok(key)
    }

    fn array(&mut self) -> Result<Walk, WalkError> {
        self.enter()?;
        // The element schemas are merged, so the shape is over the set of distinct
        // element shapes (order and repetition do not matter); the content is in order.
        let mut distinct: Vec<u64> = Vec::new();
        let mut content = mix(0, b'[' as u64);
        if self.peek() == b']' {
            self.at += 1;
        } else {
            loop {
                let w = self.value().map_err(|e| nested("[]", e))?;
                if !distinct.contains(&w.shape) {
                    distinct.push(w.shape);
                }
                content = mix(content, w.content);
                if !self.next_item(b']')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        distinct.sort_unstable();
        let shape = distinct.into_iter().fold(mix(1, b'[' as u64), mix);
        Ok(Walk { shape, content })
    }

    fn object(&mut self) -> Result<Walk, WalkError> {
        // The members of this object (not of the ones inside it) are kept when asked.
        let mut captured = self.capture.take();
        self.enter()?;
        let mut shape = mix(1, b'{' as u64);
        let mut content = mix(0, b'{' as u64);
        let first_key = self.keys.len();
        if self.peek() == b'}' {
            self.at += 1;
        } else {
            loop {
                let key = self.member_key()?;
                let key_hash = hash_bytes(KEY_SEED, key.as_bytes());
                // A key twice in one object: strict readers (pyarrow, datasets) reject
                // it, and which value wins differs between readers.
                if self.keys[first_key..]
                    .iter()
                    .any(|(h, k)| *h == key_hash && *k == key)
                {
                    return Err(WalkError::RepeatedKey(format!(".{key}")));
                }
                self.skip_ws();
                let start = self.at;
                let w = self.value().map_err(|e| nested(&format!(".{key}"), e))?;
                shape = mix(mix(shape, key_hash), w.shape);
                content = mix(mix(content, key_hash), w.content);
                if let Some(members) = captured.as_mut() {
                    let text = self.text.get(start..self.at).ok_or(WalkError::Invalid)?;
                    members.push((key.clone(), Raw(text)));
                }
                self.keys.push((key_hash, key));
                if !self.next_item(b'}')? {
                    break;
                }
            }
        }
        self.keys.truncate(first_key);
        self.depth -= 1;
        if let Some(members) = captured {
            self.captured = RawMap(members);
        }
        Ok(Walk { shape, content })
    }
}

const KEY_SEED: u64 = 0x6b65_7973;

/// Prefix a repeated key's path with where it happened.
fn nested(prefix: &str, e: WalkError) -> WalkError {
    match e {
        WalkError::RepeatedKey(path) => WalkError::RepeatedKey(format!("{prefix}{path}")),
        other => other,
    }
}

/// The scan's one pass over an example's text: checks it is valid JSON and an example
/// (every shape rule of `ExampleText::parse`), and walks it (`ExampleText::walk`), all
/// at once. `None` when anything is off (invalid JSON, a shape rule, a repeated key,
/// nesting too deep, a lone surrogate escape): the slow path then says what.
pub fn parse_and_walk(text: &str) -> Option<Parsed<'_>> {
    let bytes = text.as_bytes();
    let mut w = Walker::new(text);
    // One vector pass over the whole text is cheaper than a search for control
    // characters in every string, and most examples have none (not even whitespace).
    w.may_hold_controls = has_control(bytes);
    w.skip_ws();
    if w.peek() != b'{' {
        return None;
    }
    w.at += 1;
    w.skip_ws();
    // The top-level members with their walks and whether each value had whitespace.
    let mut members = Vec::with_capacity(8);
    let (mut state, mut action) = (RawMap(Vec::new()), RawMap(Vec::new()));
    let mut walks: Vec<(Walk, bool)> = Vec::with_capacity(8);
    if w.peek() == b'}' {
        w.at += 1;
    } else {
        loop {
            let key = w.member_key().ok()?;
            w.skip_ws();
            let start = w.at;
            w.is_spaced = false;
            let is_captured = matches!(key.as_ref(), "state" | "action");
            if is_captured {
                w.capture = Some(Vec::with_capacity(8));
            }
            let walk = w.value().ok()?;
            w.capture = None;
            match key.as_ref() {
                "state" => state = std::mem::replace(&mut w.captured, RawMap(Vec::new())),
                "action" => action = std::mem::replace(&mut w.captured, RawMap(Vec::new())),
                _ => {}
            }
            walks.push((walk, w.is_spaced));
            members.push((key, Raw(text.get(start..w.at)?)));
            if !w.next_item(b'}').ok()? {
                break;
            }
        }
    }
    w.skip_ws();
    if w.at != bytes.len() {
        return None;
    }
    let map = RawMap(members);
    let parsed = ExampleText::from_members(&map).ok()?;
    // The parts' walks, combined as `ExampleText::walk` combines its own.
    let walk_of = |key: &str| -> Option<(Walk, bool)> {
        let at = map.0.iter().position(|(k, _)| k == key)?;
        Some(walks[at])
    };
    let parts = parsed
        .parts()
        .map(|(name, _)| Some((name, walk_of(name)?)))
        .collect::<Option<Vec<_>>>()?;
    let walked = combine_parts(&parsed, bytes, parts.into_iter());
    Some(Parsed {
        text: parsed,
        walked,
        state,
        action,
    })
}

/// What the scan's one pass learns of a good example.
pub struct Parsed<'a> {
    pub text: ExampleText<'a>,
    pub walked: Walked,
    /// The members of `state` (its groups) and of `action`, as `RawMap::parse` gives.
    pub state: RawMap<'a>,
    pub action: RawMap<'a>,
}

/// An example's walk from its parts' walks (in the order state, action, reward,
/// nextState, metadata, other keys): see `ExampleText::walk`.
fn combine_parts<'p>(
    text: &ExampleText,
    bytes: &[u8],
    parts: impl Iterator<Item = (&'p str, (Walk, bool))>,
) -> Walked {
    let mut shape = 0;
    let mut print = 0;
    let mut state_print = 0;
    let mut is_spaced = false;
    for (name, (w, spaced)) in parts {
        is_spaced |= spaced;
        shape = mix(mix(shape, hash_bytes(KEY_SEED, name.as_bytes())), w.shape);
        if matches!(name, "state" | "action" | "reward") {
            print = mix(print, w.content);
        }
        if name == "state" {
            state_print = w.content;
        }
    }
    Walked {
        shape,
        print,
        state_print,
        is_compact: !is_spaced && text.is_laid_out_compactly(bytes),
    }
}

/// Walk one part of an example; also says whether its text had whitespace outside
/// strings.
fn walk_of(raw: Raw) -> Result<(Walk, bool), WalkError> {
    let mut w = Walker::new(raw.get());
    let walk = w.value()?;
    Ok((walk, w.is_spaced))
}

/// One walk over every part of the example, with no allocation but for keys with
/// escapes: the shape signature (examples with equal signatures have equal
/// `schema()`s, up to hash collisions, so the schema is built once per distinct
/// shape), the fingerprint of state, action and reward (their content: whitespace
/// and string escapes do not matter, key order and number spelling do) for duplicate
/// detection, and whether `bytes` (the example's text) is already its own compact
/// form. Fails on a key repeated in one object anywhere, or on nesting past the limit.
pub fn walk_example(text: &ExampleText, bytes: &[u8]) -> Result<Walked, WalkError> {
    let walks = text
        .parts()
        .map(|(name, raw)| Ok((name, walk_of(raw).map_err(|e| nested(name, e))?)))
        .collect::<Result<Vec<_>, WalkError>>()?;
    Ok(combine_parts(text, bytes, walks.into_iter()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::arbitrary::{example, json_text, parsed};
    use crate::json::example_text::TextError;
    use crate::json::find_lone_surrogate;
    use proptest::prelude::*;
    use serde_json::Value;

    #[test]
    fn repeated_keys_are_found_at_any_depth() {
        let src = r#"{"state":{"a":{"b":1,"c":[{"d":1,"d":2}]}},"action":{},"reward":1}"#;
        assert_eq!(
            walk_example(&parsed(src), src.as_bytes()),
            Err(WalkError::RepeatedKey("state.a.c[].d".to_string()))
        );
        let src = r#"{"state":{},"action":{},"reward":1,"metadata":{"x":1,"x":1}}"#;
        assert_eq!(
            walk_example(&parsed(src), src.as_bytes()),
            Err(WalkError::RepeatedKey("metadata.x".to_string()))
        );
        assert!(matches!(
            ExampleText::parse(br#"{"state":{},"action":{},"reward":1,"reward":2}"#),
            Err(TextError::Shape(_))
        ));
    }

    #[test]
    fn signatures_follow_schemas() {
        let sig = |s: &str| walk_example(&parsed(s), s.as_bytes()).unwrap().shape;
        let a = sig(r#"{"state":{"a":1,"l":[1,2]},"action":{},"reward":1}"#);
        assert_eq!(
            a,
            sig(r#"{"state":{"a":7,"l":[3]},"action":{},"reward":0}"#)
        );
        assert_ne!(
            a,
            sig(r#"{"state":{"a":1.5,"l":[1,2]},"action":{},"reward":1}"#)
        );
        assert_ne!(
            a,
            sig(r#"{"state":{"l":[1,2],"a":1},"action":{},"reward":1}"#)
        );
        assert_ne!(
            a,
            sig(r#"{"state":{"a":1,"l":[1,"x"]},"action":{},"reward":1}"#)
        );
        assert_ne!(
            a,
            sig(r#"{"state":{"a":"1","l":[1,2]},"action":{},"reward":1}"#)
        );
    }

    #[test]
    fn fingerprints_ignore_whitespace_only() {
        let print = |s: &str| walk_example(&parsed(s), s.as_bytes()).unwrap().print;
        let a = print(r#"{"state":{"a":1},"action":{"b":"x y"},"reward":1}"#);
        let b = print("{\"state\": {\"a\": 1}, \"action\": {\"b\": \"x y\"}, \"reward\": 1}");
        let c = print(r#"{"state":{"a":1},"action":{"b":"xy"},"reward":1}"#);
        let d = print(r#"{"state":{"a":1},"action":{"b":"x y"},"reward":1,"metadata":{"m":1}}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, d, "metadata is not compared");
    }

    #[test]
    fn nesting_past_the_limit_is_reported() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let src = format!(r#"{{"state":{{}},"action":{{}},"reward":1,"metadata":{{"d":{deep}}}}}"#);
        assert_eq!(
            walk_example(&parsed(&src), src.as_bytes()),
            Err(WalkError::TooDeep)
        );
        // serde_json's limit, which the serde walk this replaced had: 127 nested
        // containers in one part are fine, 128 are not.
        for (depth, is_ok) in [(127, true), (128, false)] {
            let deep = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            let src = format!(r#"{{"state":{{}},"action":{{}},"reward":1,"metadata":{deep}}}"#);
            assert_eq!(
                walk_example(&parsed(&src), src.as_bytes()).is_ok(),
                is_ok,
                "{depth}"
            );
        }
    }

    #[test]
    fn the_one_pass_reader_declines_what_is_not_valid() {
        let base = r#"{"state":{"a":X},"action":{},"reward":1}"#;
        for bad in [
            "[1,]",
            "{\"b\":1,}",
            "01",
            "1.",
            "-",
            ".5",
            "1e",
            "1e+",
            "tru",
            "nul",
            "\"a\\x\"",
            "\"\u{1}\"",
            "\"\\u12\"",
            "'a'",
            "{\"b\" 1}",
            "{1:2}",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "+1",
            "NaN",
            "[1 2]",
        ] {
            let src = base.replace('X', bad);
            assert!(parse_and_walk(&src).is_none(), "{src}");
        }
        for trailing in [" x", "}", ",", "{}"] {
            let src = format!("{}{trailing}", base.replace('X', "1"));
            assert!(parse_and_walk(&src).is_none(), "{src}");
        }
        let ok = base.replace(
            'X',
            r#"[-0, 1.5e-3, "\u00e9\ud83d\ude80\/", true, null, {}]"#,
        );
        assert!(parse_and_walk(&format!("  {ok} \r\n")).is_some());
    }

    #[test]
    fn reordered_or_escaped_keys_are_not_compact() {
        for src in [
            r#"{"action":{},"state":{},"reward":1}"#,
            r#"{"st\u0061te":{},"action":{},"reward":1}"#,
            r#"{"state":{},"action":{},"reward":1,"metadata":{},"nextState":{}}"#,
            r#"{"state":{},"action":{},"reward":1 }"#,
            r#"{"state":{"a": 1},"action":{},"reward":1}"#,
            // null parts are left out when written
            r#"{"state":{},"action":{},"reward":1,"nextState":null}"#,
            r#"{"state":{},"action":{},"reward":1,"metadata":null}"#,
        ] {
            assert!(
                !walk_example(&parsed(src), src.as_bytes())
                    .unwrap()
                    .is_compact,
                "{src}"
            );
        }
        let src =
            r#"{"state":{"a":"x y"},"action":{},"reward":1,"nextState":{},"metadata":{},"z":[]}"#;
        assert!(
            walk_example(&parsed(src), src.as_bytes())
                .unwrap()
                .is_compact
        );
    }

    proptest! {
        /// The copy-through shortcut of jsonl and huggingface is only taken when it
        /// writes exactly what rewriting would, and it is taken for compact input.
        #[test]
        fn compact_text_is_its_own_compact_form(ex in example(), pretty in any::<bool>()) {
            let src = json_text(&ex, pretty);
            let t = parsed(&src);
            let walked = walk_example(&t, src.as_bytes()).unwrap();
            let mut rewritten = Vec::new();
            t.write_compact(&mut rewritten, "nextState", true, true).unwrap();
            if walked.is_compact {
                prop_assert_eq!(&rewritten, src.as_bytes());
            }
            prop_assert_eq!(walked.is_compact, !pretty || rewritten == src.as_bytes());
            let again = String::from_utf8(rewritten).unwrap();
            let w2 = walk_example(&parsed(&again), again.as_bytes()).unwrap();
            prop_assert!(w2.is_compact);
            prop_assert_eq!((w2.shape, w2.print), (walked.shape, walked.print));
        }

        /// The scan's one-pass reader finds what serde_json's parse and the walk
        /// per part find.
        #[test]
        fn the_one_pass_reader_agrees_with_the_slow_path(ex in example(), pretty in any::<bool>()) {
            let src = json_text(&ex, pretty);
            let Some(Parsed { text: fast, walked, state, action }) = parse_and_walk(&src) else {
                panic!("the one-pass reader declined {src}");
            };
            let slow = parsed(&src);
            prop_assert_eq!(walked, walk_example(&slow, src.as_bytes()).unwrap());
            prop_assert_eq!(fast.state, slow.state);
            prop_assert_eq!(fast.action, slow.action);
            prop_assert_eq!(fast.reward, slow.reward);
            prop_assert_eq!(fast.next_state, slow.next_state);
            prop_assert_eq!(fast.metadata, slow.metadata);
            prop_assert_eq!(&fast.extra, &slow.extra);
            prop_assert_eq!(fast.reward_value.to_bits(), slow.reward_value.to_bits());
            prop_assert_eq!(state.0, RawMap::parse(slow.state).unwrap().0);
            prop_assert_eq!(action.0, RawMap::parse(slow.action).unwrap().0);
        }

        /// Whatever the one-pass reader accepts, serde_json accepts too (so the
        /// reader can only ever send an example down the slow path, never let a
        /// broken one through).
        #[test]
        fn the_one_pass_reader_accepts_only_what_serde_accepts(
            ex in example(),
            cuts in prop::collection::vec(
                (any::<prop::sample::Index>(), prop::sample::select(b"{}[],:\"\\ \t\n0159.eE+-tfnaulsrx\x00\x1f\x7f/".to_vec()), any::<bool>()),
                1..4,
            ),
        ) {
            let mut bytes = serde_json::to_vec(&ex).unwrap();
            for (at, byte, insert) in cuts {
                let at = at.index(bytes.len());
                if insert {
                    bytes.insert(at, byte);
                } else {
                    bytes[at] = byte;
                }
            }
            if let Ok(src) = std::str::from_utf8(&bytes) {
                if let Some(Parsed { walked, .. }) = parse_and_walk(src) {
                    prop_assert!(serde_json::from_str::<Value>(src).is_ok(), "accepted {}", src);
                    let slow = parsed(src);
                    prop_assert!(find_lone_surrogate(src.as_bytes()).is_none());
                    prop_assert_eq!(walked, walk_example(&slow, src.as_bytes()).unwrap());
                }
            }
        }

        /// Equal shapes mean equal schemas, so one schema per shape id is right.
        #[test]
        fn shapes_follow_schemas(a in example(), b in example()) {
            let (sa, sb) = (a.to_string(), b.to_string());
            let (ta, tb) = (parsed(&sa), parsed(&sb));
            let (wa, wb) = (walk_example(&ta, sa.as_bytes()).unwrap(), walk_example(&tb, sb.as_bytes()).unwrap());
            prop_assert_eq!(wa.shape == wb.shape, ta.schema() == tb.schema());
        }
    }
}
