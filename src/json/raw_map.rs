//! `RawMap`: an object's members with their values left as text, and serde_json's
//! validating reading of an object into one (the scan's first reading of an example
//! that its own walker declined). The trusting readings of validated text
//! (`RawMap::parse`, `RawMap::parse_nested`) are the scanner's and live in `scanner`. Nothing here looks inside the values.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::raw::{Key, Raw};

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
