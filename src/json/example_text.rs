//! `ExampleText`: an example's parts (state, action, reward, nextState, metadata, other
//! keys) borrowed from its bytes, with the shape rules every format needs checked on
//! them; the writers' second reading of an example (`reparse`), and its compact form
//! written straight from the parts. Nothing here parses a part into a `Value` unless a
//! caller asks for an `Example` (`example_from_text`).

use std::borrow::Cow;
use std::io::{self, Write};

use serde_json::{Map, Value};

use super::raw::{describe_raw, first_byte, write_minified, Raw};
use super::raw_map::RawMap;
use super::scanner::example_members_of;
use super::schema_of::schema_of;
use crate::example::{describe_value, quote_cut, Example, ShapeError};
use crate::input::Location;
use crate::schema::Schema;

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
        let (members, state) = example_members_of(text).map_err(|e| shape(e.to_string()))?;
        let example = ExampleText::from_members(&RawMap(members))?;
        let (groups, nested) = state.ok_or_else(|| shape("has no state object".into()))?;
        Ok((example, groups, nested))
    }

    /// The shape checks every format needs, on the example's members.
    pub(super) fn from_members(map: &RawMap<'a>) -> Result<ExampleText<'a>, TextError> {
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

    /// Whether `bytes` hold the members in the order `write_compact` writes them
    /// (state, action, reward, nextState, metadata, then the rest), each key written
    /// plainly, with nothing between them but `,` and `:`. The values' own whitespace
    /// is the walk's business.
    pub(super) fn is_laid_out_compactly(&self, bytes: &[u8]) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::arbitrary::parsed;

    #[test]
    fn compact_output_orders_keys_and_keeps_number_text() {
        let src = r#"{ "id": 1, "metadata": {"a": [1, 2]}, "reward": 0.10, "action": {"d": "x y"},
                      "state": {"k": 1e-7, "big": 123456789012345678901234} }"#;
        let t = parsed(src);
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
        assert_eq!(parsed(src).schema(), Schema::of_example(&ex));
    }
}
