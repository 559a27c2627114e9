//! The trusting scanner: it steps over whole values of JSON text that was validated
//! before (by the walker or serde_json, in the scan), finding members, items and parts
//! without checking the syntax again, so a writer's second reading costs a walk and a
//! copy. `Cursor` lets a caller descend into the objects it wants and step over the
//! rest in the same pass. It must never be given text that was not validated: on such
//! text it fails with a `ScanError` or finds the wrong values.

use std::borrow::Cow;
use std::fmt;

use super::raw::{string_of, Raw};
use super::raw_map::RawMap;
use super::search::{find_quote_or, find_quote_or_backslash};

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
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                let mut depth = 0usize;
                loop {
                    self.at += find_quote_or(open, close, bytes.get(self.at..).unwrap_or_default())
                        .ok_or(ScanError("an unclosed object or array"))?;
                    match bytes[self.at] {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b if b == open => depth += 1,
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

/// The scanner's readings of an object into a `RawMap` (the type and its serde reading
/// are in `raw_map`).
impl<'a> RawMap<'a> {
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
    #[allow(clippy::type_complexity)]
    pub fn parse_nested(raw: Raw<'a>) -> Result<(RawMap<'a>, Vec<Option<RawMap<'a>>>), ScanError> {
        Scanner {
            text: raw.get(),
            at: 0,
        }
        .members(true)
        .map(|(m, nested)| (RawMap(m), nested))
    }
}

/// An example's members (from validated text without surrounding whitespace), with
/// the `state` member's groups and their members found in the same pass.
#[allow(clippy::type_complexity)]
pub fn example_members_of(
    text: &str,
) -> Result<
    (
        Vec<(Cow<'_, str>, Raw<'_>)>,
        Option<(RawMap<'_>, Vec<Option<RawMap<'_>>>)>,
    ),
    ScanError,
> {
    Scanner { text, at: 0 }.example_members()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::arbitrary::{example, json_text, parsed, value};
    use crate::json::example_text::ExampleText;
    use proptest::prelude::*;
    use serde_json::value::RawValue;

    proptest! {
        /// The scanner that trusts validated text finds exactly the members,
        /// items and parts serde_json's validating parse finds.
        #[test]
        fn the_scanner_agrees_with_serde(ex in example(), pretty in any::<bool>(), nested in value()) {
            let src = json_text(&ex, pretty);
            let strict = parsed(&src);
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
    }
}
