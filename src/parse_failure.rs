//! What is wrong with one example's bytes, said as a user can act on it: invalid
//! UTF-8, a JSON syntax error at its line and column, with the key it was in. Pure
//! functions over the bytes and their `Location`; opening and scanning inputs is
//! `input`'s.

use serde_json::Value;

use crate::example::quote_cut;
use crate::input::{Location, MAX_DEPTH};

/// Why one example's bytes could not be turned into an `Example`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseFailure {
    /// The column of a syntax error, when there is one.
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

/// Parse bytes as one JSON value with messages that say what was found.
pub fn parse_json(bytes: &[u8], location: &Location) -> Result<Value, ParseFailure> {
    check_utf8(bytes, location)?;
    serde_json::from_slice::<Value>(bytes).map_err(|e| json_failure(bytes, &e, location))
}

/// Check that bytes are UTF-8, naming the first bad byte; the text when they are.
pub fn check_utf8<'a>(bytes: &'a [u8], location: &Location) -> Result<&'a str, ParseFailure> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let (line, column) = line_col(bytes, at, location);
        ParseFailure {
            line: Some(line),
            column: Some(column),
            message: format!(
                "byte 0x{:02x} is not UTF-8; expected UTF-8 text (re-encode the file, e.g. iconv -f latin1 -t utf-8)",
                bytes[at]
            ),
        }
    })
}

/// A serde_json error on an example's bytes, with the absolute line and column.
pub fn json_failure(bytes: &[u8], e: &serde_json::Error, location: &Location) -> ParseFailure {
    let at = offset_of(bytes, e.line(), e.column());
    let (line, column) = line_col(bytes, at, location);
    ParseFailure {
        line: Some(line),
        column: Some(column),
        message: describe_json_error(bytes, at, e),
    }
}

/// Byte offset of serde_json's (line, column) position (1-based; column counts bytes).
fn offset_of(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut l = 1;
    let mut start = 0;
    if line > 1 {
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                l += 1;
                if l == line {
                    start = i + 1;
                    break;
                }
            }
        }
    }
    (start + column.saturating_sub(1)).min(bytes.len())
}

/// Absolute (line, column) in the input of byte `at` of an example.
pub fn line_col(bytes: &[u8], at: usize, location: &Location) -> (u32, u32) {
    let before = &bytes[..at.min(bytes.len())];
    let newlines = before.iter().filter(|&&b| b == b'\n').count() as u32;
    let col_in_line = match memchr::memrchr(b'\n', before) {
        Some(i) => (at - i) as u32,
        None => at as u32 + location.column.unwrap_or(1),
    };
    (location.line + newlines, col_in_line)
}

fn describe_json_error(bytes: &[u8], at: usize, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let text = String::from_utf8_lossy(bytes);
    // serde_json's column points at the byte it could not accept; look around it for
    // the non-standard literals Python writes.
    let at = at.min(bytes.len());
    for from in at.saturating_sub(2)..=(at + 1).min(bytes.len()) {
        let Some(rest) = text.get(from..) else {
            continue;
        };
        for word in ["NaN", "-Infinity", "Infinity"] {
            if rest.starts_with(word) {
                let what = match key_before(&text[..from]) {
                    Some(k) => format!("\"{k}\" is {word}"),
                    None => format!("found {word}"),
                };
                return format!(
                    "{what}, which JSON does not allow (Python's json.dumps writes it for float('{}')); expected a finite number",
                    if word == "NaN" { "nan" } else { "inf" }
                );
            }
        }
    }
    let rest = text.get(at..).unwrap_or("");
    let inner = e.to_string();
    let inner = match inner.rfind(" at line ") {
        Some(i) => inner[..i].to_string(),
        None => inner,
    };
    match e.classify() {
        Category::Eof => format!(
            "the example ends early ({inner}); expected a complete JSON object (is the line truncated, or is a pretty-printed example split over lines? JSON Lines needs one example per line)"
        ),
        Category::Syntax if inner.contains("recursion limit") => format!(
            "nesting is deeper than {MAX_DEPTH} levels; expected an example nested at most {MAX_DEPTH} deep"
        ),
        Category::Syntax
            if inner.contains("trailing characters")
                && bytes.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n') =>
        {
            "found a CR after the example; expected one JSON value per line (the file seems to end lines with CR alone, as classic Mac OS did: convert them to LF)".to_string()
        }
        Category::Syntax if inner.contains("trailing characters") => {
            let found = quote_cut(rest.lines().next().unwrap_or(""), true);
            format!("found {found} after the example; expected one JSON value per line")
        }
        _ => {
            let found = quote_cut(rest.lines().next().unwrap_or(""), true);
            format!("invalid JSON ({inner}) at {found}")
        }
    }
}

/// The key whose value starts right after `before` (`..."reward": ` → `reward`).
fn key_before(before: &str) -> Option<&str> {
    let t = before.trim_end().strip_suffix(':')?.trim_end();
    let t = t.strip_suffix('"')?;
    let start = t.rfind('"')?;
    Some(&t[start + 1..])
}
