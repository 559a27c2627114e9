//! What a template sees of one example: `state`, `action`, `reward`, `metadata`,
//! `next_state`, `policy`, `split` (and, for a line template, the rendered `system`,
//! `user` and `assistant`). Objects and arrays are read from the example's own text
//! when the template first asks for them, and keep that text, so `tojson` and
//! `pretty_json` say exactly what the built-in prompts say. Numbers are template numbers;
//! the few whose JSON text is not how minijinja would print them (`1e-05`, `1.50`, `-0`)
//! are remembered by their example and, while a template renders, by the rendering
//! thread (`Context::while_rendering`), so `{{ x }}` still shows them as written. Nothing
//! here renders or knows a format.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use rustc_hash::FxHashMap;

use crate::example::Policy;
use crate::json::{items_of, minified, string_of, ExampleText, Raw, RawMap};

/// Numbers as written, by the bits of their f64 value.
type Written = FxHashMap<u64, Arc<str>>;

thread_local! {
    /// The numbers of the examples being rendered on this thread whose text minijinja
    /// would print differently.
    static WRITTEN: RefCell<Written> = RefCell::new(FxHashMap::default());
}

/// How `value` was written, when it is a number whose text minijinja would not give back.
pub fn written_number(value: &Value) -> Option<Arc<str>> {
    if !value.is_number() || value.is_integer() {
        return None;
    }
    let x = f64::try_from(value.clone()).ok()?;
    WRITTEN.with(|w| w.borrow().get(&x.to_bits()).cloned())
}

/// A JSON number of `source` as a template number.
fn number(source: &Text, text: &str) -> Value {
    let is_integer = !text.contains(['.', 'e', 'E']);
    if is_integer && text != "-0" {
        if let Ok(i) = text.parse::<i64>() {
            return Value::from(i);
        }
        if let Ok(i) = text.parse::<i128>() {
            return Value::from(i);
        }
    }
    let x: f64 = text.parse().unwrap_or(f64::NAN);
    let value = Value::from(x);
    if !prints_as_written(text) && value.to_string() != text {
        let text: Arc<str> = Arc::from(text);
        source
            .written
            .lock()
            .expect("no render panics while holding the lock")
            .insert(x.to_bits(), text.clone());
        WRITTEN.with(|w| w.borrow_mut().insert(x.to_bits(), text));
    }
    value
}

/// Whether minijinja surely prints the f64 of `text`, a JSON number with a fraction or
/// an exponent, as `text` (without formatting it to see): Rust's shortest round-trip
/// digits, no exponent, `.0` added to a whole number. That is so for a plain decimal
/// (`-?D+.D+`) without a leading or trailing zero (`.0` alone aside) of at most 15
/// significant digits: two such decimals never round to one f64, so the shortest
/// digits of its f64 are its own. `false` means "format it and compare".
fn prints_as_written(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let Some((whole, fraction)) = digits.split_once('.') else {
        return false;
    };
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !is_digits(whole) || !is_digits(fraction) {
        return false;
    }
    let is_canonical =
        (whole == "0" || !whole.starts_with('0')) && (fraction == "0" || !fraction.ends_with('0'));
    let significant = match whole {
        "0" => fraction.trim_start_matches('0').len(),
        _ => whole.len() + fraction.len(),
    };
    is_canonical && significant <= 15
}

/// The text of an example, shared by every value read from it, and its numbers that
/// minijinja would print differently.
#[derive(Debug)]
struct Text {
    text: Arc<str>,
    written: std::sync::Mutex<Written>,
}

impl Text {
    fn at(&self, span: &Range<usize>) -> Raw<'_> {
        Raw::from_validated(&self.text[span.clone()])
    }

    /// Where `raw`, a part of this text, lies in it.
    fn span_of(&self, raw: Raw) -> Range<usize> {
        let start = raw.get().as_ptr() as usize - self.text.as_ptr() as usize;
        start..start + raw.get().len()
    }

    /// The value at `span`: objects and arrays as objects that read their members when
    /// asked, scalars as template values.
    fn value(self: &Arc<Self>, span: Range<usize>) -> Value {
        let raw = self.at(&span);
        match raw.get().as_bytes().first() {
            Some(b'{') => Value::from_object(JsonMap::new(self, span)),
            Some(b'[') => Value::from_object(JsonList::new(self, span)),
            Some(b'"') => Value::from(string_of(raw).unwrap_or_default().into_owned()),
            Some(b't') => Value::from(true),
            Some(b'f') => Value::from(false),
            Some(b'n') | None => Value::from(()),
            Some(_) => number(self, raw.get()),
        }
    }
}

/// A JSON object of the example, its members read from its text.
#[derive(Debug)]
pub struct JsonMap {
    text: Arc<Text>,
    span: Range<usize>,
    /// Each key: its span in the text (a key without escapes) or its decoded text.
    keys: Vec<Key>,
    spans: Vec<Range<usize>>,
    values: Vec<OnceLock<Value>>,
}

impl JsonMap {
    fn new(text: &Arc<Text>, span: Range<usize>) -> JsonMap {
        let members = RawMap::parse(text.at(&span))
            .map(|m| m.0)
            .unwrap_or_default();
        let keys = members
            .iter()
            .map(|(k, _)| match k {
                Cow::Borrowed(k) => Key::At(text.span_of(Raw::from_validated(k))),
                Cow::Owned(k) => Key::Decoded(k.as_str().into()),
            })
            .collect();
        let spans: Vec<_> = members.iter().map(|(_, v)| text.span_of(*v)).collect();
        JsonMap {
            text: text.clone(),
            span,
            keys,
            values: spans.iter().map(|_| OnceLock::new()).collect(),
            spans,
        }
    }

    /// The object's text as the example has it.
    pub fn raw(&self) -> Raw<'_> {
        self.text.at(&self.span)
    }

    /// The keys in order (a repeated key each time; valid examples have none).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| self.key(k))
    }

    fn key<'k>(&'k self, key: &'k Key) -> &'k str {
        match key {
            Key::At(span) => &self.text.text[span.clone()],
            Key::Decoded(k) => k,
        }
    }

    /// The value of the member at `at` (in `keys`' order).
    pub fn member(&self, at: usize) -> Value {
        self.values[at]
            .get_or_init(|| self.text.value(self.spans[at].clone()))
            .clone()
    }
}

impl Object for JsonMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        // A repeated key keeps its last value, as everywhere else.
        let at = self.keys.iter().rposition(|k| self.key(k) == key)?;
        Some(self.member(at))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.keys().map(Value::from).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.keys.len())
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&minified(self.raw()))
    }
}

/// A key of a `JsonMap`.
#[derive(Debug)]
enum Key {
    At(Range<usize>),
    Decoded(Box<str>),
}

/// A JSON array of the example, its items read from its text.
#[derive(Debug)]
pub struct JsonList {
    text: Arc<Text>,
    span: Range<usize>,
    spans: Vec<Range<usize>>,
    values: Vec<OnceLock<Value>>,
}

impl JsonList {
    fn new(text: &Arc<Text>, span: Range<usize>) -> JsonList {
        let items = items_of(text.at(&span)).unwrap_or_default();
        let spans: Vec<_> = items.iter().map(|v| text.span_of(*v)).collect();
        JsonList {
            text: text.clone(),
            span,
            values: spans.iter().map(|_| OnceLock::new()).collect(),
            spans,
        }
    }

    /// The array's text as the example has it.
    pub fn raw(&self) -> Raw<'_> {
        self.text.at(&self.span)
    }
}

impl Object for JsonList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let at = key.as_usize()?;
        let span = self.spans.get(at)?;
        Some(
            self.values[at]
                .get_or_init(|| self.text.value(span.clone()))
                .clone(),
        )
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.spans.len())
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&minified(self.raw()))
    }
}

/// How many of `NAMES` come from the example itself (a prompt template reads only these).
pub const EXAMPLE_NAMES: usize = 7;

/// The names a template may read: the example's, the prompt texts, and the names of
/// the objectives' lines (kto's `label`; a pair's `chosen`, `rejected` and `margin`).
pub const NAMES: [&str; 14] = [
    "state",
    "action",
    "reward",
    "metadata",
    "next_state",
    "policy",
    "split",
    "system",
    "user",
    "assistant",
    "label",
    "chosen",
    "rejected",
    "margin",
];

fn slot(name: &str) -> usize {
    NAMES
        .iter()
        .position(|n| *n == name)
        .expect("slots are looked up by the names in NAMES")
}

/// One example (or, for a pair's line, one pair) as a template's context.
#[derive(Debug, Clone)]
pub struct Context {
    values: [Option<Value>; 14],
    /// The texts the values come from (two for a pair).
    sources: Vec<Arc<Text>>,
}

impl Context {
    /// The context of the example `ex`, read from `bytes` (its text), in `split`.
    pub fn new(policy: Policy, split: &str, ex: &ExampleText, bytes: &[u8]) -> Context {
        let source = std::str::from_utf8(bytes).unwrap_or_default();
        let text = Arc::new(Text {
            text: Arc::from(source),
            written: Default::default(),
        });
        // The parts are borrowed from `bytes`; their places are the same in the copy.
        let at = |raw: Raw| {
            let start = raw.get().as_ptr() as usize - source.as_ptr() as usize;
            text.value(start..start + raw.get().len())
        };
        let none = || Some(Value::from(()));
        let mut values: [Option<Value>; 14] = Default::default();
        values[..EXAMPLE_NAMES].clone_from_slice(&[
            Some(at(ex.state)),
            Some(at(ex.action)),
            Some(at(ex.reward)),
            ex.metadata.map(at).or_else(none),
            ex.next_state.map(at).or_else(none),
            Some(Value::from(policy.name())),
            Some(Value::from(split.to_string())),
        ]);
        Context {
            values,
            sources: vec![text],
        }
    }

    /// The line context of a pair: `chosen` and `rejected` (each an example's context
    /// with its texts), `margin`, and the prompt both share, the chosen one's.
    pub fn pair(chosen: Context, rejected: Context, margin: Value) -> Context {
        let mut values: [Option<Value>; 14] = Default::default();
        for name in ["policy", "split", "system", "user"] {
            values[slot(name)] = chosen.values[slot(name)].clone();
        }
        values[slot("margin")] = Some(margin);
        let mut sources = chosen.sources.clone();
        sources.extend(rejected.sources.iter().cloned());
        values[slot("chosen")] = Some(Value::from_object(chosen));
        values[slot("rejected")] = Some(Value::from_object(rejected));
        Context { values, sources }
    }

    /// The rendered prompts, for a line template.
    pub fn set_texts(&mut self, system: &str, user: &str, assistant: &str) {
        self.values[slot("system")] = Some(Value::from(system));
        self.values[slot("user")] = Some(Value::from(user));
        self.values[slot("assistant")] = Some(Value::from(assistant));
    }

    /// kto's label.
    pub fn set_label(&mut self, label: bool) {
        self.values[slot("label")] = Some(Value::from(label));
    }

    /// Run `render` with this context's numbers known to the formatter (a number two
    /// examples of a pair write differently shows as the rejected one writes it).
    pub fn while_rendering<R>(&self, render: impl FnOnce(Value) -> R) -> R {
        WRITTEN.with(|w| {
            let mut w = w.borrow_mut();
            w.clear();
            for source in &self.sources {
                let known = source
                    .written
                    .lock()
                    .expect("no render panics while holding the lock");
                w.extend(known.iter().map(|(k, v)| (*k, v.clone())));
            }
        });
        let rendered = render(Value::from_object(self.clone()));
        WRITTEN.with(|w| w.borrow_mut().clear());
        rendered
    }
}

impl Object for Context {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let at = NAMES.iter().position(|n| *n == key)?;
        self.values[at].clone()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let names: Vec<Value> = NAMES
            .iter()
            .zip(&self.values)
            .filter(|(_, v)| v.is_some())
            .map(|(n, _)| Value::from(*n))
            .collect();
        Enumerator::Values(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Where the quick test says a number prints as written, formatting it agrees.
        #[test]
        fn prints_as_written_agrees_with_formatting(
            whole in proptest::prop_oneof![proptest::strategy::Just(0u64), 0u64..10, 0u64..100_000, 0u64..10_000_000_000_000_000],
            fraction in "[0-9]{1,18}",
            negative in proptest::bool::ANY,
            exponent in proptest::option::of(-30i32..30),
        ) {
            let mut text = format!("{}{whole}.{fraction}", if negative { "-" } else { "" });
            if let Some(e) = exponent {
                text.push_str(&format!("e{e}"));
            }
            let x: f64 = text.parse().unwrap();
            if prints_as_written(&text) {
                proptest::prop_assert_eq!(Value::from(x).to_string(), text);
            }
        }
    }

    #[test]
    fn prints_as_written_takes_plain_decimals_only() {
        for yes in [
            "0.219",
            "-0.5",
            "1.0",
            "-0.0",
            "0.0",
            "123.456",
            "0.000000000000001",
            "99999999999999.9",
        ] {
            assert!(prints_as_written(yes), "{yes}");
            let x: f64 = yes.parse().unwrap();
            assert_eq!(Value::from(x).to_string(), yes);
        }
        for no in [
            "1.50",
            "01.5",
            "1e-05",
            "1.5E3",
            ".5",
            "5.",
            "0.1234567890123456",
            "1234567890123456.7",
            "-",
            "1.2.3",
        ] {
            assert!(!prints_as_written(no), "{no}");
        }
    }
}
