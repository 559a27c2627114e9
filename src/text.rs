//! An example as text: the top-level parts of an example borrowed from the input bytes
//! (`Raw` values), checked without building a tree. The scan validates an example once,
//! with serde_json; everything after that (the parts' members, the writers' second
//! reading) is found by a byte scanner that trusts the syntax, so their cost is a walk
//! and a copy rather than a parse into `Value`s and back.

use std::borrow::Cow;
use std::fmt;
use std::hash::Hasher;
use std::io::{self, Write};

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::example::{describe_value, quote_cut, Example, ShapeError};
use crate::input::Location;
use crate::schema::Schema;

/// The key serde_json uses to hand an arbitrary-precision number to a visitor.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A string key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

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

/// The text of one JSON value (no surrounding whitespace) borrowed from an example,
/// which serde_json has validated: the scanners below follow its structure without
/// checking its syntax again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw<'a>(&'a str);

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
    let mut i = 0;
    while let Some(skip) = find_escape(&bytes[i..]) {
        i += skip;
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
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
}

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
fn find_escape(bytes: &[u8]) -> Option<usize> {
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

/// Validated JSON text that did not have the expected structure: the file changed under
/// rlx, or a bug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError(&'static str);

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the JSON text is not as validated ({})", self.0)
    }
}

impl std::error::Error for ScanError {}

/// A cursor over validated JSON text that steps over whole values.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> u8 {
        self.text.as_bytes().get(self.at).copied().unwrap_or(0)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\n' | b'\r' | b'\t') {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), ScanError> {
        self.skip_ws();
        if self.peek() != byte {
            return Err(ScanError(what));
        }
        self.at += 1;
        Ok(())
    }

    /// Step over a string (at its opening quote); the end of its contents.
    #[inline]
    fn skip_string(&mut self) -> Result<usize, ScanError> {
        let bytes = self.text.as_bytes();
        let mut i = self.at + 1;
        loop {
            i += find_quote_or_backslash(bytes.get(i..).unwrap_or_default())
                .ok_or(ScanError("an unterminated string"))?;
            if bytes[i] == b'"' {
                self.at = i + 1;
                return Ok(i);
            }
            i += 2;
        }
    }

    /// Step over one value; its text.
    fn value(&mut self) -> Result<Raw<'a>, ScanError> {
        self.skip_ws();
        let start = self.at;
        let bytes = self.text.as_bytes();
        match self.peek() {
            b'"' => {
                self.skip_string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    self.at += find_quote_or_bracket(bytes.get(self.at..).unwrap_or_default())
                        .ok_or(ScanError("an unclosed object or array"))?;
                    match bytes[self.at] {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        _ => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                break;
                            }
                        }
                    }
                    self.at += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' | 0
                ) {
                    self.at += 1;
                }
                if self.at == start {
                    return Err(ScanError("a missing value"));
                }
            }
        }
        self.raw_since(start)
    }

    /// Visit an object's members (at its opening brace): `f` gets each key with the
    /// scanner at the member's value; a value `f` does not step over is stepped over.
    fn each_member(
        &mut self,
        mut f: impl FnMut(&mut Scanner<'a>, Cow<'a, str>) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        self.expect(b'{', "an object")?;
        self.skip_ws();
        if self.peek() == b'}' {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            if self.peek() != b'"' {
                return Err(ScanError("a key"));
            }
            let key = self.value()?;
            let key = string_of(key).ok_or(ScanError("a key"))?;
            self.expect(b':', "a colon")?;
            self.skip_ws();
            let start = self.at;
            f(self, key)?;
            if self.at == start {
                self.value()?;
            }
            self.skip_ws();
            match self.peek() {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(ScanError("a comma or a closing brace")),
            }
        }
    }

    /// The text from `start` to where the scanner is.
    fn raw_since(&self, start: usize) -> Result<Raw<'a>, ScanError> {
        self.text
            .get(start..self.at)
            .map(Raw)
            .ok_or(ScanError("a value cut inside a character"))
    }

    /// An object's members (at its opening brace). With `nest`, the members of the
    /// values that are objects are found in the same pass (one per member, `None` for
    /// the others), so nested text is not scanned twice.
    #[allow(clippy::type_complexity)]
    fn members(
        &mut self,
        nest: bool,
    ) -> Result<(Vec<(Cow<'a, str>, Raw<'a>)>, Vec<Option<RawMap<'a>>>), ScanError> {
        let mut members = Vec::with_capacity(8);
        let mut nested = Vec::new();
        self.each_member(|s, key| {
            if nest && s.peek() == b'{' {
                let start = s.at;
                let (inner, _) = s.members(false)?;
                members.push((key, s.raw_since(start)?));
                nested.push(Some(RawMap(inner)));
            } else {
                members.push((key, s.value()?));
                if nest {
                    nested.push(None);
                }
            }
            Ok(())
        })?;
        Ok((members, nested))
    }

    /// An example's members (at its opening brace), with the `state` member's groups
    /// and their members found in the same pass.
    #[allow(clippy::type_complexity)]
    fn example_members(
        &mut self,
    ) -> Result<
        (
            Vec<(Cow<'a, str>, Raw<'a>)>,
            Option<(RawMap<'a>, Vec<Option<RawMap<'a>>>)>,
        ),
        ScanError,
    > {
        let mut members = Vec::with_capacity(8);
        let mut state = None;
        self.each_member(|s, key| {
            if key == "state" && s.peek() == b'{' {
                let start = s.at;
                let (groups, nested) = s.members(true)?;
                members.push((key, s.raw_since(start)?));
                state = Some((RawMap(groups), nested));
            } else {
                members.push((key, s.value()?));
            }
            Ok(())
        })?;
        Ok((members, state))
    }

    /// An array's items (at its opening bracket).
    fn items(&mut self) -> Result<Vec<Raw<'a>>, ScanError> {
        self.expect(b'[', "an array")?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == b']' {
            self.at += 1;
            return Ok(items);
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Ok(items);
                }
                _ => return Err(ScanError("a comma or a closing bracket")),
            }
        }
    }
}

/// A value in validated JSON text, to be taken whole (`take`) or, when it is an object,
/// visited member by member (`members`), so nested text is scanned once however deep
/// the caller descends. A value the caller leaves alone is stepped over.
pub struct Cursor<'s, 'a> {
    scanner: &'s mut Scanner<'a>,
}

impl<'a> Cursor<'_, 'a> {
    /// The first byte of the value (`{`, `[`, `"`, a digit, `-`, `t`, `f` or `n`).
    pub fn first_byte(&self) -> u8 {
        self.scanner.peek()
    }

    /// The value's text.
    pub fn take(self) -> Result<Raw<'a>, ScanError> {
        self.scanner.value()
    }

    /// Call `f` with each member's key and a cursor on its value (the value must be an
    /// object).
    pub fn members(
        self,
        mut f: impl FnMut(Cow<'a, str>, Cursor<'_, 'a>) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        self.scanner
            .each_member(|scanner, key| f(key, Cursor { scanner }))
    }
}

/// Visit validated JSON text with a `Cursor` on its value.
pub fn visit<'a, R>(
    text: &'a str,
    f: impl FnOnce(Cursor<'_, 'a>) -> Result<R, ScanError>,
) -> Result<R, ScanError> {
    let mut scanner = Scanner {
        text: text.trim_matches([' ', '\n', '\r', '\t']),
        at: 0,
    };
    f(Cursor {
        scanner: &mut scanner,
    })
}

/// An array's items, from validated text.
pub fn items_of(raw: Raw<'_>) -> Result<Vec<Raw<'_>>, ScanError> {
    Scanner {
        text: raw.get(),
        at: 0,
    }
    .items()
}

/// An object's members, values left as text. A repeated key keeps its last value, as
/// `serde_json::Map` does.
pub struct RawMap<'a>(pub Vec<(Cow<'a, str>, Raw<'a>)>);

impl<'a> RawMap<'a> {
    pub fn get(&self, key: &str) -> Option<Raw<'a>> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }

    /// The members of validated object text.
    pub fn parse(raw: Raw<'a>) -> Result<RawMap<'a>, ScanError> {
        Scanner {
            text: raw.get(),
            at: 0,
        }
        .members(false)
        .map(|(m, _)| RawMap(m))
    }

    /// The members of validated object text, and the members of each member that is an
    /// object (`None` for the others), in one pass.
    pub fn parse_nested(raw: Raw<'a>) -> Result<(RawMap<'a>, Vec<Option<RawMap<'a>>>), ScanError> {
        Scanner {
            text: raw.get(),
            at: 0,
        }
        .members(true)
        .map(|(m, nested)| (RawMap(m), nested))
    }
}

/// serde_json's validating parse of an object (the scan's first reading of an example).
impl<'de> Deserialize<'de> for RawMap<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = RawMap<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawMap<'de>, A::Error> {
                let mut members = Vec::with_capacity(8);
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    members.push((key.0, Raw(value.get())));
                }
                Ok(RawMap(members))
            }
        }
        d.deserialize_map(MapVisitor)
    }
}

/// The first byte of a raw value.
fn first_byte(raw: Raw) -> u8 {
    raw.get().bytes().next().unwrap_or(b' ')
}

/// What a raw value is, for messages (as `describe_value`).
pub fn describe_raw(raw: Raw) -> String {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(v) => describe_value(&v),
        Err(_) => quote_cut(raw.get(), true),
    }
}

/// An example's parts, borrowed from its bytes.
pub struct ExampleText<'a> {
    pub state: Raw<'a>,
    pub action: Raw<'a>,
    pub reward: Raw<'a>,
    pub next_state: Option<Raw<'a>>,
    pub metadata: Option<Raw<'a>>,
    /// Keys beyond the five above, in input order.
    pub extra: Vec<(Cow<'a, str>, Raw<'a>)>,
    pub reward_value: f64,
}

/// Why bytes are not an example: invalid JSON (with serde_json's error) or a wrong shape.
pub enum TextError {
    Json(serde_json::Error),
    Shape(ShapeError),
}

impl<'a> ExampleText<'a> {
    /// Parse and check the shape every format needs (the same rules and messages as
    /// `Example::from_value`).
    pub fn parse(bytes: &'a [u8]) -> Result<ExampleText<'a>, TextError> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
        if first != Some(b'{') {
            let v: Value = serde_json::from_slice(bytes).map_err(TextError::Json)?;
            return Err(TextError::Shape(ShapeError(format!(
                "found {}; expected an example object {{\"state\", \"action\", \"reward\"}}",
                describe_value(&v)
            ))));
        }
        let map: RawMap<'a> = serde_json::from_slice(bytes).map_err(TextError::Json)?;
        ExampleText::from_members(&map)
    }

    /// Parse an example's text that `parse` has accepted before (a writer's second
    /// reading): its members are found by the scanner, without validating again.
    pub fn parse_validated(bytes: &'a [u8]) -> Result<ExampleText<'a>, TextError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| TextError::Shape(ShapeError("is no longer UTF-8".into())))?;
        let map = RawMap::parse(Raw(text.trim_matches([' ', '\n', '\r', '\t'])))
            .map_err(|e| TextError::Shape(ShapeError(e.to_string())))?;
        ExampleText::from_members(&map)
    }

    /// `parse_validated`, with the state's groups and their members found in the same
    /// pass (for the formats that render prompts).
    #[allow(clippy::type_complexity)]
    pub fn parse_validated_with_state(
        bytes: &'a [u8],
    ) -> Result<(ExampleText<'a>, RawMap<'a>, Vec<Option<RawMap<'a>>>), TextError> {
        let shape = |s: String| TextError::Shape(ShapeError(s));
        let text = std::str::from_utf8(bytes).map_err(|_| shape("is no longer UTF-8".into()))?;
        let text = text.trim_matches([' ', '\n', '\r', '\t']);
        let (members, state) = Scanner { text, at: 0 }
            .example_members()
            .map_err(|e| shape(e.to_string()))?;
        let example = ExampleText::from_members(&RawMap(members))?;
        let (groups, nested) = state.ok_or_else(|| shape("has no state object".into()))?;
        Ok((example, groups, nested))
    }

    /// The shape checks every format needs, on the example's members.
    fn from_members(map: &RawMap<'a>) -> Result<ExampleText<'a>, TextError> {
        let shape = |s: String| TextError::Shape(ShapeError(s));
        for (i, (k, _)) in map.0.iter().enumerate() {
            if map.0[..i].iter().any(|(earlier, _)| earlier == k) {
                return Err(shape(format!(
                    "the key \"{k}\" appears twice in the example; expected each key once (readers disagree on which value wins)"
                )));
            }
        }
        let object = |key: &str, required: bool| -> Result<Option<Raw<'a>>, TextError> {
            match map.get(key) {
                None if required => Err(shape(format!("has no \"{key}\"; expected an object"))),
                None => Ok(None),
                Some(v) if first_byte(v) == b'{' => Ok(Some(v)),
                Some(v) if !required && v.get() == "null" => Ok(None),
                Some(v) => Err(shape(format!(
                    "\"{key}\" is {}; expected an object",
                    describe_raw(v)
                ))),
            }
        };
        let state = object("state", true)?.expect("required parts are present");
        let action = object("action", true)?.expect("required parts are present");
        let reward = map
            .get("reward")
            .ok_or_else(|| shape("has no \"reward\"; expected a finite number".into()))?;
        let b = first_byte(reward);
        if !(b == b'-' || b.is_ascii_digit()) {
            return Err(shape(format!(
                "\"reward\" is {}; expected a finite number",
                describe_raw(reward)
            )));
        }
        let reward_value: f64 = reward.get().parse().unwrap_or(f64::INFINITY);
        if !reward_value.is_finite() {
            return Err(shape(format!(
                "\"reward\" is {}, which is not a finite double; expected a finite number",
                quote_cut(reward.get(), false)
            )));
        }
        let next_state = object("nextState", false)?;
        let metadata = object("metadata", false)?;
        let mut extra: Vec<(Cow<'a, str>, Raw<'a>)> = Vec::new();
        for (k, v) in &map.0 {
            if matches!(
                k.as_ref(),
                "state" | "action" | "reward" | "nextState" | "metadata"
            ) {
                continue;
            }
            match extra.iter_mut().find(|(ek, _)| ek == k) {
                Some(slot) => slot.1 = *v,
                None => extra.push((k.clone(), *v)),
            }
        }
        Ok(ExampleText {
            state,
            action,
            reward,
            next_state,
            metadata,
            extra,
            reward_value,
        })
    }

    /// The example's parts with their keys, in the order every line writes them:
    /// state, action, reward, nextState and metadata when present, then the other keys.
    pub fn parts(&self) -> impl Iterator<Item = (&str, Raw<'a>)> + '_ {
        [
            Some(("state", self.state)),
            Some(("action", self.action)),
            Some(("reward", self.reward)),
            self.next_state.map(|v| ("nextState", v)),
            self.metadata.map(|v| ("metadata", v)),
        ]
        .into_iter()
        .flatten()
        .chain(self.extra.iter().map(|(k, v)| (k.as_ref(), *v)))
    }

    /// The union-schema shape of this example (see `Schema::of_example`).
    pub fn schema(&self) -> Schema {
        Schema::Struct(
            self.parts()
                .map(|(k, v)| (k.to_string(), schema_of(v)))
                .collect(),
        )
    }

    /// One walk over every part of the example, with no allocation but for keys with
    /// escapes: the shape signature (examples with equal signatures have equal
    /// `schema()`s, up to hash collisions, so the schema is built once per distinct
    /// shape), the fingerprint of state, action and reward (their content: whitespace
    /// and string escapes do not matter, key order and number spelling do) for duplicate
    /// detection, and whether `bytes` (the example's text) is already its own compact
    /// form. Fails on a key repeated in one object anywhere, or on nesting past the limit.
    pub fn walk(&self, bytes: &[u8]) -> Result<Walked, WalkError> {
        let walks = self
            .parts()
            .map(|(name, raw)| Ok((name, walk_of(raw).map_err(|e| nested(name, e))?)))
            .collect::<Result<Vec<_>, WalkError>>()?;
        Ok(combine_parts(self, bytes, walks.into_iter()))
    }

    /// Whether `bytes` hold the members in the order `write_compact` writes them
    /// (state, action, reward, nextState, metadata, then the rest), each key written
    /// plainly, with nothing between them but `,` and `:`. The values' own whitespace
    /// is the walk's business.
    fn is_laid_out_compactly(&self, bytes: &[u8]) -> bool {
        let base = bytes.as_ptr() as usize;
        let mut at = 0;
        for (i, (key, value)) in self.parts().enumerate() {
            let head = if i == 0 { "{\"" } else { ",\"" };
            let text = value.get();
            let Some(offset) = (text.as_ptr() as usize).checked_sub(base) else {
                return false;
            };
            let expected = [head.as_bytes(), key.as_bytes(), b"\":"];
            for piece in expected {
                if bytes.get(at..at + piece.len()) != Some(piece) {
                    return false;
                }
                at += piece.len();
            }
            if offset != at {
                return false;
            }
            at += text.len();
        }
        bytes.len() == at + 1 && bytes[at] == b'}'
    }

    /// Write the example as one compact object with keys in the order state, action,
    /// reward, nextState (named `next_state_key`), metadata (unless `with_metadata` is
    /// false), then, with `with_extra`, the other keys. Values are copied as written.
    pub fn write_compact(
        &self,
        w: &mut dyn Write,
        next_state_key: &str,
        with_metadata: bool,
        with_extra: bool,
    ) -> io::Result<()> {
        w.write_all(b"{\"state\":")?;
        write_minified(w, self.state)?;
        w.write_all(b",\"action\":")?;
        write_minified(w, self.action)?;
        w.write_all(b",\"reward\":")?;
        w.write_all(self.reward.get().as_bytes())?;
        if let Some(ns) = self.next_state {
            write!(w, ",\"{next_state_key}\":")?;
            write_minified(w, ns)?;
        }
        if with_metadata {
            if let Some(m) = self.metadata {
                w.write_all(b",\"metadata\":")?;
                write_minified(w, m)?;
            }
        }
        if with_extra {
            for (k, v) in &self.extra {
                w.write_all(b",")?;
                serde_json::to_writer(&mut *w, k.as_ref())?;
                w.write_all(b":")?;
                write_minified(w, *v)?;
            }
        }
        w.write_all(b"}")
    }
}

/// rustc's Fx hash: deterministic and several times faster than SipHash on the short
/// keys and texts hashed once per example (measured: SipHash was 9% of a huggingface
/// export). Not for untrusted keys in long-lived maps; here it only fingerprints.
/// Streaming: bytes are packed into 8-byte words across `write` calls, so hashing a
/// text in pieces equals hashing it whole.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
    pending: u64,
    pending_len: u32,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        while self.pending_len != 0 && !bytes.is_empty() {
            self.pending |= (bytes[0] as u64) << (8 * self.pending_len);
            self.pending_len += 1;
            bytes = &bytes[1..];
            if self.pending_len == 8 {
                let word = self.pending;
                self.add(word);
                self.pending = 0;
                self.pending_len = 0;
            }
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(
                c.try_into().expect("chunks_exact yields 8 bytes"),
            ));
        }
        for &b in chunks.remainder() {
            self.pending |= (b as u64) << (8 * self.pending_len);
            self.pending_len += 1;
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write(&(i as u64).to_le_bytes());
    }

    #[inline]
    fn finish(&self) -> u64 {
        let mut h = *self;
        if h.pending_len != 0 {
            let word = h.pending ^ ((h.pending_len as u64) << 59);
            h.add(word);
        }
        h.hash
    }
}

/// Parse an example's text again in a later pass; it was validated by the scan, so a
/// failure means the file changed underneath rlx.
pub fn reparse<'a>(location: &Location, bytes: &'a [u8]) -> anyhow::Result<ExampleText<'a>> {
    ExampleText::parse_validated(bytes).map_err(|e| input_changed(location, e))
}

/// `reparse`, with the state's groups (see `ExampleText::parse_validated_with_state`).
#[allow(clippy::type_complexity)]
pub fn reparse_with_state<'a>(
    location: &Location,
    bytes: &'a [u8],
) -> anyhow::Result<(ExampleText<'a>, RawMap<'a>, Vec<Option<RawMap<'a>>>)> {
    ExampleText::parse_validated_with_state(bytes).map_err(|e| input_changed(location, e))
}

fn input_changed(location: &Location, e: TextError) -> anyhow::Error {
    let why = match e {
        TextError::Json(e) => e.to_string(),
        TextError::Shape(e) => e.0,
    };
    anyhow::anyhow!("{location}: the input changed while rlx was reading it ({why})")
}

/// Build an `Example` from validated bytes, parsing only the parts asked for:
/// metadata, and the rest (nextState and other keys). State and action always.
pub fn example_from_text(
    bytes: &[u8],
    with_metadata: bool,
    with_rest: bool,
) -> Result<Example, String> {
    let text = ExampleText::parse_validated(bytes).map_err(|e| match e {
        TextError::Json(e) => e.to_string(),
        TextError::Shape(e) => e.0,
    })?;
    let object = |raw: Raw| serde_json::from_str::<Map<String, Value>>(raw.get());
    let err = |e: serde_json::Error| e.to_string();
    Ok(Example {
        state: object(text.state).map_err(err)?,
        action: object(text.action).map_err(err)?,
        reward: serde_json::from_str(text.reward.get()).map_err(err)?,
        next_state: match (with_rest, text.next_state) {
            (true, Some(ns)) => Some(object(ns).map_err(err)?),
            _ => None,
        },
        metadata: match (with_metadata, text.metadata) {
            (true, Some(m)) => Some(object(m).map_err(err)?),
            _ => None,
        },
        extra: if with_rest {
            let mut extra = Map::new();
            for (k, v) in &text.extra {
                extra.insert(k.to_string(), serde_json::from_str(v.get()).map_err(err)?);
            }
            extra
        } else {
            Map::new()
        },
    })
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

/// What the walk over a whole example learns (see `ExampleText::walk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walked {
    pub shape: u64,
    pub print: u64,
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

/// One step of rustc's Fx hash.
#[inline]
fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED)
}

/// Bytes hashed eight at a time, the last word tagged with the length (not streaming:
/// the walk hashes each key and scalar whole).
#[inline]
fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = mix(
            h,
            u64::from_le_bytes(c.try_into().expect("chunks_exact yields 8 bytes")),
        );
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    tail[7] ^= bytes.len() as u8;
    mix(h, u64::from_le_bytes(tail))
}

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
            // Near i64's edge: decide exactly, as `number_schema` does.
            match std::str::from_utf8(text).map(number_schema) {
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
            i += find_escape(bytes.get(i..).unwrap_or_default()).ok_or(WalkError::Invalid)?;
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

/// The position of the first `"` or `\\` in `bytes` (strings are most of an example's
/// text, and this is the scanner's inner loop).
#[inline]
fn find_quote_or_backslash(bytes: &[u8]) -> Option<usize> {
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
fn find_quote_or_bracket(bytes: &[u8]) -> Option<usize> {
    find_first(
        bytes,
        |word| {
            bytes_below(word ^ (ONES * b'"' as u64), 1)
                | bytes_below((word & (ONES * 0xD9)) ^ (ONES * 0x59), 1)
        },
        |b| b == b'"' || b & 0xD9 == 0x59,
    )
}

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
    let mut is_spaced = false;
    for (name, (w, spaced)) in parts {
        is_spaced |= spaced;
        shape = mix(mix(shape, hash_bytes(KEY_SEED, name.as_bytes())), w.shape);
        if matches!(name, "state" | "action" | "reward") {
            print = mix(print, w.content);
        }
    }
    Walked {
        shape,
        print,
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

/// The schema of a raw value, built by a serde visitor: no `Value` tree is made.
pub fn schema_of(raw: Raw) -> Schema {
    serde_json::from_str::<SchemaOf>(raw.get())
        .map(|s| s.0)
        .unwrap_or(Schema::Null)
}

struct SchemaOf(Schema);

impl<'de> Deserialize<'de> for SchemaOf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SchemaVisitor).map(SchemaOf)
    }
}

struct SchemaVisitor;

/// The schema of a number from its text: integers that fit i64, bigger integers, floats.
pub(crate) fn number_schema(text: &str) -> Schema {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if text.parse::<i64>().is_ok() {
            Schema::Int
        } else {
            Schema::BigInt
        }
    } else {
        Schema::Float
    }
}

impl<'de> Visitor<'de> for SchemaVisitor {
    type Value = Schema;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Schema, E> {
        Ok(Schema::Bool)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Schema, E> {
        Ok(Schema::Int)
    }
    fn visit_u64<E>(self, v: u64) -> Result<Schema, E> {
        Ok(if v > i64::MAX as u64 {
            Schema::BigInt
        } else {
            Schema::Int
        })
    }
    fn visit_f64<E>(self, _: f64) -> Result<Schema, E> {
        Ok(Schema::Float)
    }
    fn visit_str<E>(self, _: &str) -> Result<Schema, E> {
        Ok(Schema::String)
    }
    fn visit_unit<E>(self) -> Result<Schema, E> {
        Ok(Schema::Null)
    }
    fn visit_none<E>(self) -> Result<Schema, E> {
        Ok(Schema::Null)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Schema, A::Error> {
        let mut elem = Schema::Null;
        while let Some(SchemaOf(s)) = seq.next_element()? {
            if s != elem {
                elem = elem.merge(s);
            }
        }
        Ok(Schema::List(Box::new(elem)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Schema, A::Error> {
        let mut fields: Vec<(String, Schema)> = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if key.0 == NUMBER_TOKEN {
                let text: String = map.next_value()?;
                return Ok(number_schema(&text));
            }
            let SchemaOf(s) = map.next_value()?;
            match fields.iter_mut().find(|(k, _)| *k == key.0) {
                Some(slot) => slot.1 = s,
                None => fields.push((key.0.into_owned(), s)),
            }
        }
        Ok(Schema::Struct(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> ExampleText<'_> {
        match ExampleText::parse(s.as_bytes()) {
            Ok(t) => t,
            Err(TextError::Json(e)) => panic!("{e}"),
            Err(TextError::Shape(e)) => panic!("{e}"),
        }
    }

    #[test]
    fn compact_output_orders_keys_and_keeps_number_text() {
        let src = r#"{ "id": 1, "metadata": {"a": [1, 2]}, "reward": 0.10, "action": {"d": "x y"},
                      "state": {"k": 1e-7, "big": 123456789012345678901234} }"#;
        let t = text(src);
        let mut out = Vec::new();
        t.write_compact(&mut out, "nextState", true, true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"state":{"k":1e-7,"big":123456789012345678901234},"action":{"d":"x y"},"reward":0.10,"metadata":{"a":[1,2]},"id":1}"#
        );
    }

    #[test]
    fn shape_errors_say_what_was_found() {
        for (src, expected) in [
            (r#"{"state":{},"action":{},"reward":"0.8"}"#, "\"reward\" is the string \"0.8\"; expected a finite number"),
            (r#"{"state":[1],"action":{},"reward":1}"#, "\"state\" is an array of 1 items; expected an object"),
            (r#"{"action":{},"reward":1}"#, "has no \"state\"; expected an object"),
            (r#"{"state":{},"action":{},"reward":null}"#, "\"reward\" is null; expected a finite number"),
            (r#"{"state":{},"action":{},"reward":1,"metadata":3}"#, "\"metadata\" is the number 3; expected an object"),
            ("7", "found the number 7; expected an example object {\"state\", \"action\", \"reward\"}"),
            (r#"{"state":{},"action":{},"reward":1e400}"#, "\"reward\" is 1e400, which is not a finite double; expected a finite number"),
        ] {
            match ExampleText::parse(src.as_bytes()) {
                Err(TextError::Shape(e)) => assert_eq!(e.0, expected, "{src}"),
                _ => panic!("{src} must be a shape error"),
            }
        }
    }

    #[test]
    fn schema_from_text_equals_schema_from_value() {
        let src = r#"{"state":{"a":1,"b":0.5,"c":[1,2.5],"d":{"e":null},"f":12345678901234567890,"g":"s","h":true},"action":{"x":[]},"reward":1,"metadata":{"z":[{"q":1},{"r":"s"}]},"extra":[1,"a"]}"#;
        let ex = example_from_text(src.as_bytes(), true, true).unwrap();
        assert_eq!(text(src).schema(), Schema::of_example(&ex));
    }

    #[test]
    fn repeated_keys_are_found_at_any_depth() {
        let src = r#"{"state":{"a":{"b":1,"c":[{"d":1,"d":2}]}},"action":{},"reward":1}"#;
        assert_eq!(
            text(src).walk(src.as_bytes()),
            Err(WalkError::RepeatedKey("state.a.c[].d".to_string()))
        );
        let src = r#"{"state":{},"action":{},"reward":1,"metadata":{"x":1,"x":1}}"#;
        assert_eq!(
            text(src).walk(src.as_bytes()),
            Err(WalkError::RepeatedKey("metadata.x".to_string()))
        );
        assert!(matches!(
            ExampleText::parse(br#"{"state":{},"action":{},"reward":1,"reward":2}"#),
            Err(TextError::Shape(_))
        ));
    }

    #[test]
    fn signatures_follow_schemas() {
        let sig = |s: &str| text(s).walk(s.as_bytes()).unwrap().shape;
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
        let print = |s: &str| text(s).walk(s.as_bytes()).unwrap().print;
        let a = print(r#"{"state":{"a":1},"action":{"b":"x y"},"reward":1}"#);
        let b = print("{\"state\": {\"a\": 1}, \"action\": {\"b\": \"x y\"}, \"reward\": 1}");
        let c = print(r#"{"state":{"a":1},"action":{"b":"xy"},"reward":1}"#);
        let d = print(r#"{"state":{"a":1},"action":{"b":"x y"},"reward":1,"metadata":{"m":1}}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, d, "metadata is not compared");
    }

    #[test]
    fn lone_surrogates_are_found() {
        assert_eq!(find_lone_surrogate(br#"{"a":"\ud800x"}"#), Some(6));
        assert_eq!(find_lone_surrogate(br#"{"a":"\udc00"}"#), Some(6));
        assert_eq!(find_lone_surrogate(br#"{"a":"\ud83d\ude80"}"#), None);
        assert_eq!(find_lone_surrogate(br#"{"a":"\\ud800"}"#), None);
        assert_eq!(find_lone_surrogate(br#"{"a":"\u00e9\n"}"#), None);
    }

    #[test]
    fn nesting_past_the_limit_is_reported() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let src = format!(r#"{{"state":{{}},"action":{{}},"reward":1,"metadata":{{"d":{deep}}}}}"#);
        assert_eq!(text(&src).walk(src.as_bytes()), Err(WalkError::TooDeep));
        // serde_json's limit, which the serde walk this replaced had: 127 nested
        // containers in one part are fine, 128 are not.
        for (depth, is_ok) in [(127, true), (128, false)] {
            let deep = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            let src = format!(r#"{{"state":{{}},"action":{{}},"reward":1,"metadata":{deep}}}"#);
            assert_eq!(text(&src).walk(src.as_bytes()).is_ok(), is_ok, "{depth}");
        }
    }

    mod walk_properties {
        use super::super::*;
        use super::text;
        use proptest::prelude::*;
        use serde_json::json;

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z]{1,6}",
                Just("a.b".to_string()),
                Just("é\"\\".to_string()),
                Just(String::new()),
            ]
        }

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                (-1e6f64..1e6).prop_map(Value::from),
                "[ -~]{0,8}|\u{1F680}\n\t\u{2028}".prop_map(Value::from),
                Just(serde_json::from_str("123456789012345678901234").unwrap()),
            ];
            leaf.prop_recursive(3, 20, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                    prop::collection::btree_map(key(), inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn example() -> impl Strategy<Value = Value> {
            (
                prop::collection::btree_map(key(), value(), 0..4),
                prop::collection::btree_map(key(), value(), 0..3),
                prop::option::of(prop::collection::btree_map(key(), value(), 0..3)),
                prop::option::of(prop::collection::btree_map(key(), value(), 0..3)),
                prop::collection::btree_map("x[a-z]{0,3}", value(), 0..2),
                -1.0f64..1.0,
            )
                .prop_map(|(state, action, next, meta, extra, reward)| {
                    let mut ex = json!({
                        "state": Value::Object(state.into_iter().collect()),
                        "action": Value::Object(action.into_iter().collect()),
                        "reward": reward,
                    });
                    if let Some(n) = next {
                        ex["nextState"] = Value::Object(n.into_iter().collect());
                    }
                    if let Some(m) = meta {
                        ex["metadata"] = Value::Object(m.into_iter().collect());
                    }
                    for (k, v) in extra {
                        ex[k] = v;
                    }
                    ex
                })
        }

        proptest! {
            /// The copy-through shortcut of jsonl and huggingface is only taken when it
            /// writes exactly what rewriting would, and it is taken for compact input.
            #[test]
            fn compact_text_is_its_own_compact_form(ex in example(), pretty in any::<bool>()) {
                let src = if pretty {
                    serde_json::to_string_pretty(&ex).unwrap()
                } else {
                    serde_json::to_string(&ex).unwrap()
                };
                let t = text(&src);
                let walked = t.walk(src.as_bytes()).unwrap();
                let mut rewritten = Vec::new();
                t.write_compact(&mut rewritten, "nextState", true, true).unwrap();
                if walked.is_compact {
                    prop_assert_eq!(&rewritten, src.as_bytes());
                }
                prop_assert_eq!(walked.is_compact, !pretty || rewritten == src.as_bytes());
                let again = String::from_utf8(rewritten).unwrap();
                let w2 = text(&again).walk(again.as_bytes()).unwrap();
                prop_assert!(w2.is_compact);
                prop_assert_eq!((w2.shape, w2.print), (walked.shape, walked.print));
            }

            /// The scanner that trusts validated text finds exactly the members,
            /// items and parts serde_json's validating parse finds.
            #[test]
            fn the_scanner_agrees_with_serde(ex in example(), pretty in any::<bool>(), nested in value()) {
                let src = if pretty {
                    serde_json::to_string_pretty(&ex).unwrap()
                } else {
                    serde_json::to_string(&ex).unwrap()
                };
                let strict = text(&src);
                let trusted = match ExampleText::parse_validated(src.as_bytes()) {
                    Ok(t) => t,
                    Err(_) => panic!("the scanner rejected {src}"),
                };
                prop_assert_eq!(strict.state, trusted.state);
                prop_assert_eq!(strict.action, trusted.action);
                prop_assert_eq!(strict.reward, trusted.reward);
                prop_assert_eq!(strict.next_state, trusted.next_state);
                prop_assert_eq!(strict.metadata, trusted.metadata);
                prop_assert_eq!(&strict.extra, &trusted.extra);
                for part in [strict.state, strict.action] {
                    let by_serde: RawMap = serde_json::from_str(part.get()).unwrap();
                    prop_assert_eq!(RawMap::parse(part).unwrap().0, by_serde.0);
                }
                let nested_text = if pretty {
                    serde_json::to_string_pretty(&nested).unwrap()
                } else {
                    nested.to_string()
                };
                let (with_state, groups, members) =
                    ExampleText::parse_validated_with_state(src.as_bytes()).ok().unwrap();
                prop_assert_eq!(with_state.state, strict.state);
                let (groups2, members2) = RawMap::parse_nested(strict.state).unwrap();
                prop_assert_eq!(&groups.0, &groups2.0);
                let flat = |m: &[Option<RawMap>]| -> Vec<Option<Vec<(String, String)>>> {
                    m.iter()
                        .map(|g| g.as_ref().map(|g| g.0.iter().map(|(k, v)| (k.to_string(), v.get().to_string())).collect()))
                        .collect()
                };
                prop_assert_eq!(flat(&members), flat(&members2));
                if nested.is_array() {
                    let by_serde: Vec<&RawValue> = serde_json::from_str(&nested_text).unwrap();
                    let by_serde: Vec<&str> = by_serde.iter().map(|r| r.get()).collect();
                    let scanned: Vec<&str> = items_of(Raw(&nested_text)).unwrap().into_iter().map(Raw::get).collect();
                    prop_assert_eq!(scanned, by_serde);
                }
                if nested.is_string() {
                    let decoded = string_of(Raw(&nested_text));
                    prop_assert_eq!(decoded.as_deref(), nested.as_str());
                }
            }

            #[test]
            fn escaping_matches_serde(s in any::<String>(), t in "[\\x00-\\x1f\"\\\\a\\u{7f}\\u{2028}é]{0,12}") {
                for s in [s, t] {
                    let mut ours = String::new();
                    push_json_escaped(&mut ours, &s);
                    let theirs = serde_json::to_string(&s).unwrap();
                    prop_assert_eq!(ours, &theirs[1..theirs.len() - 1]);
                }
            }

            /// The scan's one-pass reader finds what serde_json's parse and the walk
            /// per part find.
            #[test]
            fn the_one_pass_reader_agrees_with_the_slow_path(ex in example(), pretty in any::<bool>()) {
                let src = if pretty {
                    serde_json::to_string_pretty(&ex).unwrap()
                } else {
                    serde_json::to_string(&ex).unwrap()
                };
                let Some(Parsed { text: fast, walked, state, action }) = parse_and_walk(&src) else {
                    panic!("the one-pass reader declined {src}");
                };
                let slow = text(&src);
                prop_assert_eq!(walked, slow.walk(src.as_bytes()).unwrap());
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
                        let slow = text(src);
                        prop_assert!(find_lone_surrogate(src.as_bytes()).is_none());
                        prop_assert_eq!(walked, slow.walk(src.as_bytes()).unwrap());
                    }
                }
            }

            /// Equal shapes mean equal schemas, so one schema per shape id is right.
            #[test]
            fn shapes_follow_schemas(a in example(), b in example()) {
                let (sa, sb) = (a.to_string(), b.to_string());
                let (ta, tb) = (text(&sa), text(&sb));
                let (wa, wb) = (ta.walk(sa.as_bytes()).unwrap(), tb.walk(sb.as_bytes()).unwrap());
                prop_assert_eq!(wa.shape == wb.shape, ta.schema() == tb.schema());
            }
        }

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
                assert!(!text(src).walk(src.as_bytes()).unwrap().is_compact, "{src}");
            }
            let src = r#"{"state":{"a":"x y"},"action":{},"reward":1,"nextState":{},"metadata":{},"z":[]}"#;
            assert!(text(src).walk(src.as_bytes()).unwrap().is_compact);
        }
    }
}
