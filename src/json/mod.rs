//! The JSON text layer: an example's values borrowed from the input bytes (`Raw`) and
//! never built into `Value` trees unless a caller asks. The scan reads each example once
//! with the validating walker (or, when it declines, serde_json); every later reading
//! (the parts' members, the writers' second pass) uses the scanner that trusts that
//! validation. One room per file:
//!
//! - `raw`: the `Raw` value and what can be done with its text (strings, minifying,
//!   escaping, messages);
//! - `search`: the byte searches the walker and the scanner run;
//! - `scanner`: the trusting `Scanner`, its `Cursor` and the member and item readers;
//! - `raw_map`: an object's members as text, and serde_json's validating reading of one
//!   (the scanner's trusting reading, `RawMap::parse`, is in `scanner`);
//! - `example_text`: an example's parts and the shape rules every format needs;
//! - `walker`: the one-pass validating walk, with its shape signature and fingerprint;
//! - `fingerprint`: the hash steps behind signatures and fingerprints;
//! - `schema_of`: the union-schema shape of a value, from its text.
//!
//! Nothing here does I/O or knows policies or formats.

#[cfg(test)]
mod arbitrary;
pub mod example_text;
mod fingerprint;
pub mod raw;
pub mod raw_map;
pub mod scanner;
pub mod schema_of;
mod search;
pub mod walker;

pub use example_text::{example_from_text, reparse, reparse_with_state, ExampleText, TextError};
pub use raw::{
    describe_raw, find_lone_surrogate, minified, push_json_escaped, string_of, write_minified, Raw,
};
pub use raw_map::RawMap;
pub use scanner::{items_of, visit, Cursor, ScanError};
pub use schema_of::schema_of;
pub use walker::{parse_and_walk, walk_example, Parsed, WalkError, Walked};
