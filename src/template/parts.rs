//! The prompt template file: three parts, each introduced by a line of its own,
//!
//! ```text
//! # comments and blank lines may come first
//! === system ===
//! You are …
//! === user ===
//! {{ state.queryFeatures.queryLength }} …
//! === assistant ===
//! {{ action | pretty_json }}
//! ```
//!
//! A part is the lines between its marker and the next one (or the end of the file); the
//! line break before a marker, and one at the end of the file, end the part and are not
//! in it. This file only cuts the text; compiling is `template`'s.

use crate::outcome::UsageError;

/// The parts, in the order of `NAMES`.
pub const NAMES: [&str; 3] = ["system", "user", "assistant"];

/// One part's text and the line of the file its first line is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: &'static str,
    pub first_line: usize,
    pub source: String,
}

/// The part a marker line names, if the line is a marker (`=== name ===`).
fn marker(line: &str) -> Option<&str> {
    let name = line.trim_end().strip_prefix("=== ")?.strip_suffix(" ===")?;
    Some(name.trim())
}

/// Cut `text` (the file at `path`, line breaks already `\n`) into its three parts.
pub fn cut(path: &str, text: &str) -> Result<[Part; 3], UsageError> {
    let mut parts: [Option<Part>; 3] = Default::default();
    let mut current: Option<(usize, Vec<&str>, usize)> = None;
    let close = |current: Option<(usize, Vec<&str>, usize)>, parts: &mut [Option<Part>; 3]| {
        if let Some((at, lines, first_line)) = current {
            parts[at] = Some(Part {
                name: NAMES[at],
                first_line,
                source: lines.join("\n"),
            });
        }
    };
    let body = text.strip_suffix('\n').unwrap_or(text);
    for (n, line) in body.split('\n').enumerate() {
        let line_number = n + 1;
        match marker(line) {
            Some(name) => {
                let Some(at) = NAMES.iter().position(|n| *n == name) else {
                    return Err(UsageError(format!(
                        "{path}:{line_number}: the marker {:?} names no part; expected === system ===, === user === or === assistant ===",
                        line.trim_end()
                    )));
                };
                if parts[at].is_some() || current.as_ref().is_some_and(|c| c.0 == at) {
                    return Err(UsageError(format!(
                        "{path}:{line_number}: a second === {name} === part; expected each part once"
                    )));
                }
                close(current.take(), &mut parts);
                current = Some((at, Vec::new(), line_number + 1));
            }
            None => match &mut current {
                Some((_, lines, _)) => lines.push(line),
                None if line.trim().is_empty() || line.starts_with('#') => {}
                None => {
                    return Err(UsageError(format!(
                        "{path}:{line_number}: text before the first part; expected a line === system === (only blank lines and # comments may come before it)"
                    )))
                }
            },
        }
    }
    close(current.take(), &mut parts);
    let missing: Vec<&str> = NAMES
        .iter()
        .zip(&parts)
        .filter(|(_, p)| p.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Err(UsageError(format!(
            "{path}: no {} part; expected a line === {} === before each part's text (rlx template show prints a complete file)",
            missing.join(" or "),
            missing[0]
        )));
    }
    Ok(parts.map(|p| p.expect("every part was checked above")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_the_lines_between_markers() {
        let text = "# a comment\n\n=== system ===\nBe brief.\n=== user ===\nline 1\n\nline 3\n\n=== assistant ===\n{{ action }}\n";
        let [system, user, assistant] = cut("t.j2", text).unwrap();
        assert_eq!(system.source, "Be brief.");
        assert_eq!(system.first_line, 4);
        assert_eq!(user.source, "line 1\n\nline 3\n");
        assert_eq!(user.first_line, 6);
        assert_eq!(assistant.source, "{{ action }}");
        assert_eq!(assistant.first_line, 11);
    }

    #[test]
    fn order_is_free_and_parts_may_be_empty() {
        let [system, user, _] =
            cut("t", "=== user ===\nu\n=== assistant ===\na\n=== system ===").unwrap();
        assert_eq!(system.source, "");
        assert_eq!(user.source, "u");
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let e = cut("t.j2", "=== system ===\n\n=== users ===\n").unwrap_err();
        assert!(
            e.0.starts_with("t.j2:3: the marker \"=== users ===\" names no part"),
            "{e}"
        );
        let e = cut("t.j2", "=== system ===\n=== system ===\n").unwrap_err();
        assert!(
            e.0.starts_with("t.j2:2: a second === system === part"),
            "{e}"
        );
        let e = cut("t.j2", "hello\n=== system ===\n").unwrap_err();
        assert!(e.0.starts_with("t.j2:1: text before the first part"), "{e}");
        let e = cut("t.j2", "=== system ===\nx\n").unwrap_err();
        assert!(e.0.starts_with("t.j2: no user or assistant part"), "{e}");
    }
}
