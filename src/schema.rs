//! The union schema of the examples an export writes: every nested key with the types its
//! values take. The HuggingFace card declares it and CSV derives its columns from it.
//!
//! Each example's own shape is interned during the scan (most datasets have a handful of
//! distinct shapes), so the union over exactly the examples selected for the export can
//! be formed later without re-reading anything.

use rustc_hash::FxHashMap;

#[cfg(test)]
use serde_json::{Map, Value};

#[cfg(test)]
use crate::example::Example;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Schema {
    /// Only `null` seen (or, inside a list, an empty list).
    Null,
    Bool,
    /// Integers that fit in i64.
    Int,
    /// Integers outside i64: no Arrow integer type holds them and floats would round them.
    BigInt,
    Float,
    String,
    List(Box<Schema>),
    /// Keys in first-seen order.
    Struct(Vec<(String, Schema)>),
    /// Values of different kinds (a bit per kind, see `kind_bit`).
    Conflict(u8),
}

impl Schema {
    /// The schema of a number from its text: integers that fit i64, bigger integers, floats.
    pub fn of_number(text: &str) -> Schema {
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

    /// The schema of a parsed value (the scan computes it from text, `json::schema_of`;
    /// tests use this to check the two agree).
    #[cfg(test)]
    pub fn of_value(v: &Value) -> Schema {
        match v {
            Value::Null => Schema::Null,
            Value::Bool(_) => Schema::Bool,
            Value::Number(n) => Schema::of_number(&n.to_string()),
            Value::String(_) => Schema::String,
            Value::Array(items) => {
                let mut elem = Schema::Null;
                for item in items {
                    elem = elem.merge(Schema::of_value(item));
                }
                Schema::List(Box::new(elem))
            }
            Value::Object(map) => Schema::of_map(map),
        }
    }

    #[cfg(test)]
    pub fn of_map(map: &Map<String, Value>) -> Schema {
        Schema::Struct(
            map.iter()
                .map(|(k, v)| (k.clone(), Schema::of_value(v)))
                .collect(),
        )
    }

    /// The shape of a whole example, with the keys every format writes, in the JSON
    /// Lines order (state, action, reward, nextState, metadata, then the rest).
    #[cfg(test)]
    pub fn of_example(ex: &Example) -> Schema {
        let mut fields = vec![
            ("state".to_string(), Schema::of_map(&ex.state)),
            ("action".to_string(), Schema::of_map(&ex.action)),
            (
                "reward".to_string(),
                Schema::of_value(&Value::Number(ex.reward.clone())),
            ),
        ];
        if let Some(ns) = &ex.next_state {
            fields.push(("nextState".to_string(), Schema::of_map(ns)));
        }
        if let Some(m) = &ex.metadata {
            fields.push(("metadata".to_string(), Schema::of_map(m)));
        }
        for (k, v) in &ex.extra {
            fields.push((k.clone(), Schema::of_value(v)));
        }
        Schema::Struct(fields)
    }

    fn kind_bit(&self) -> u8 {
        match self {
            Schema::Null => 0,
            Schema::Bool => 1,
            Schema::Int | Schema::BigInt | Schema::Float => 2,
            Schema::String => 4,
            Schema::List(_) => 8,
            Schema::Struct(_) => 16,
            Schema::Conflict(bits) => *bits,
        }
    }

    /// The union of two schemas.
    pub fn merge(self, other: Schema) -> Schema {
        use Schema::*;
        match (self, other) {
            (Null, x) | (x, Null) => x,
            (Int, Int) => Int,
            (Int | Float, Float) | (Float, Int) => Float,
            (BigInt, Int | BigInt | Float) | (Int | Float, BigInt) => BigInt,
            (Bool, Bool) => Bool,
            (String, String) => String,
            (List(a), List(b)) => List(Box::new(a.merge(*b))),
            (Struct(mut a), Struct(b)) => {
                for (k, s) in b {
                    match a.iter_mut().find(|(ka, _)| *ka == k) {
                        Some((_, sa)) => {
                            let taken = std::mem::replace(sa, Null);
                            *sa = taken.merge(s);
                        }
                        None => a.push((k, s)),
                    }
                }
                Struct(a)
            }
            (a, b) => Conflict(a.kind_bit() | b.kind_bit()),
        }
    }

    /// The names of the kinds a conflict mixes, for messages.
    pub fn conflict_kinds(bits: u8) -> String {
        let names = [
            (1, "boolean"),
            (2, "number"),
            (4, "string"),
            (8, "array"),
            (16, "object"),
        ];
        names
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(" and ")
    }

    pub fn field(&self, key: &str) -> Option<&Schema> {
        match self {
            Schema::Struct(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, s)| s),
            _ => None,
        }
    }
}

/// Interned example shapes. Past `LIMIT` distinct shapes, new shapes share one id whose
/// schema is the union of all of them: the card then describes a superset, which
/// `datasets` accepts (absent columns load as None).
#[derive(Debug, Default)]
pub struct ShapeTable {
    ids: FxHashMap<Schema, u32>,
    by_signature: FxHashMap<u64, u32>,
    shapes: Vec<Schema>,
    overflow: Option<Schema>,
}

impl ShapeTable {
    const LIMIT: usize = 4096;
    pub const OVERFLOW: u32 = u32::MAX;

    pub fn intern(&mut self, shape: Schema) -> u32 {
        if let Some(id) = self.ids.get(&shape) {
            return *id;
        }
        if self.shapes.len() >= Self::LIMIT {
            let merged = match self.overflow.take() {
                Some(o) => o.merge(shape),
                None => shape,
            };
            self.overflow = Some(merged);
            return Self::OVERFLOW;
        }
        let id = self.shapes.len() as u32;
        self.shapes.push(shape.clone());
        self.ids.insert(shape, id);
        id
    }

    /// `intern` keyed by a shape signature: `build` runs only for a new signature.
    pub fn intern_signature(&mut self, signature: u64, build: impl FnOnce() -> Schema) -> u32 {
        if let Some(id) = self.by_signature.get(&signature) {
            return *id;
        }
        let id = self.intern(build());
        // Past the limit every new shape merges into the overflow; keep re-merging it.
        if id != Self::OVERFLOW {
            self.by_signature.insert(signature, id);
        }
        id
    }

    /// For each shape id: whether it has an integer where `union` has a float.
    pub fn ints_in_float_fields(&self, union: &Schema) -> Vec<bool> {
        self.shapes
            .iter()
            .map(|s| has_int_where_float(s, union))
            .collect()
    }

    /// The union of the shapes with the given ids.
    pub fn union(&self, ids: impl IntoIterator<Item = u32>) -> Schema {
        let mut used = vec![false; self.shapes.len()];
        let mut has_overflow = false;
        for id in ids {
            match used.get_mut(id as usize) {
                Some(u) => *u = true,
                None => has_overflow = true,
            }
        }
        let mut out = Schema::Null;
        for (shape, is_used) in self.shapes.iter().zip(used) {
            if is_used {
                out = out.merge(shape.clone());
            }
        }
        if has_overflow {
            if let Some(o) = &self.overflow {
                out = out.merge(o.clone());
            }
        }
        out
    }
}

/// Whether `shape` has an `Int` (or a list of them) where `union` says `Float`.
fn has_int_where_float(shape: &Schema, union: &Schema) -> bool {
    match (shape, union) {
        (Schema::Int, Schema::Float) => true,
        (Schema::List(a), Schema::List(b)) => has_int_where_float(a, b),
        (Schema::Struct(fields), Schema::Struct(_)) => fields
            .iter()
            .any(|(k, s)| union.field(k).is_some_and(|u| has_int_where_float(s, u))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ints_and_floats_unite_as_float_and_big_ints_stay_apart() {
        let a = Schema::of_value(&json!(1));
        let b = Schema::of_value(&json!(0.5));
        assert_eq!(a.clone().merge(b), Schema::Float);
        let big: Value = serde_json::from_str("12345678901234567890").unwrap();
        assert_eq!(Schema::of_value(&big), Schema::BigInt);
        let huge: Value = serde_json::from_str("123456789012345678901234567890").unwrap();
        assert_eq!(Schema::of_value(&huge), Schema::BigInt);
        assert_eq!(a.merge(Schema::of_value(&huge)), Schema::BigInt);
    }

    #[test]
    fn structs_unite_keys_and_conflicts_are_marked() {
        let a = Schema::of_value(&json!({"x": 1, "tags": []}));
        let b = Schema::of_value(&json!({"y": "s", "tags": ["a"], "x": null}));
        assert_eq!(
            a.merge(b),
            Schema::Struct(vec![
                ("x".into(), Schema::Int),
                ("tags".into(), Schema::List(Box::new(Schema::String))),
                ("y".into(), Schema::String),
            ])
        );
        let c = Schema::of_value(&json!("high")).merge(Schema::of_value(&json!(0.5)));
        assert_eq!(c, Schema::Conflict(6));
        assert_eq!(Schema::conflict_kinds(6), "number and string");
    }

    #[test]
    fn ints_where_the_union_has_floats_are_found() {
        let mut t = ShapeTable::default();
        let a = t.intern(Schema::of_value(&json!({"x": 1, "l": [1]})));
        let b = t.intern(Schema::of_value(&json!({"x": 1.5, "l": [2]})));
        let union = t.union([a, b]);
        assert_eq!(t.ints_in_float_fields(&union), [true, false]);
    }

    #[test]
    fn shape_table_unions_only_the_selected_shapes() {
        let mut t = ShapeTable::default();
        let a = t.intern(Schema::of_value(&json!({"a": 1})));
        let b = t.intern(Schema::of_value(&json!({"b": 1})));
        assert_eq!(t.intern(Schema::of_value(&json!({"a": 2}))), a);
        assert_eq!(t.union([a]), Schema::of_value(&json!({"a": 1})));
        assert_eq!(t.union([a, b]).field("b"), Some(&Schema::Int));
    }
}
