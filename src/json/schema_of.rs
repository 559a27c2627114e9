//! The schema of a raw value (`schema_of`), built by a serde visitor over its text so
//! no `Value` tree is made: the scan calls it once per distinct shape. The schema type
//! and its rules (merging, conflicts) belong to `crate::schema`, not here.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::raw::{Key, Raw};
use crate::schema::Schema;

/// The key serde_json uses to hand an arbitrary-precision number to a visitor.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

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
                return Ok(Schema::of_number(&text));
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
