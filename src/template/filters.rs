//! The filters rlx adds to minijinja's, each saying a value exactly as the built-in
//! prompts do: `fixed(n)` (JavaScript's `toFixed`), `tojson` (compact, numbers and
//! escapes as written), `pretty_json` (2-space indent, as the built-in answers show an
//! action), `shown` (a value as the built-in prompts list it: lists comma-joined, `none`
//! when empty, objects as compact JSON, null as n/a), `reward_band` (the legacy
//! Anthropic reading of a reward) and `without(keys)` (an object's other members, in
//! order: the fields a prompt does not list by name). And the formatter that prints
//! numbers as written.

use std::fmt::Write as _;

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind, Output, State};

use super::context::{written_number, JsonList, JsonMap};
use crate::json::{minified, push_json_escaped};
use crate::prompt;

/// Add the filters and the formatter to `env`.
pub fn install(env: &mut minijinja::Environment<'static>) {
    env.add_filter("fixed", fixed);
    env.add_filter("tojson", tojson);
    env.add_filter("pretty_json", pretty_json);
    env.add_filter("shown", shown);
    env.add_filter("reward_band", reward_band);
    env.add_filter("without", without);
    env.set_formatter(format_value);
}

/// `{{ x }}`: numbers as the example wrote them, true, false and null as JSON writes them
/// (minijinja would print True, False and None), everything else as minijinja prints it.
fn format_value(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    let text = match value.kind() {
        ValueKind::Bool if value.is_true() => "true".into(),
        ValueKind::Bool => "false".into(),
        ValueKind::None => "null".into(),
        _ => match written_number(value) {
            Some(text) => text,
            None => return minijinja::escape_formatter(out, state, value),
        },
    };
    out.write_str(&text).map_err(Error::from)
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// What a value is, for messages.
fn kind_of(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => format!("the string {:?}", value.as_str().unwrap_or_default()),
        ValueKind::None => "null".to_string(),
        ValueKind::Undefined => "undefined".to_string(),
        kind => format!("{kind} {value}"),
    }
}

fn number_of(filter: &str, value: &Value) -> Result<f64, Error> {
    if !value.is_number() {
        return Err(invalid(format!(
            "{filter} expects a number, found {}",
            kind_of(value)
        )));
    }
    f64::try_from(value.clone()).map_err(|_| invalid(format!("{filter}: {value} is no f64")))
}

/// `x | fixed(n)`: `n` decimals (3 when not given), as JavaScript's `x.toFixed(n)`.
fn fixed(value: Value, digits: Option<u32>) -> Result<String, Error> {
    let x = number_of("fixed", &value)?;
    match digits.unwrap_or(3) {
        3 => Ok(prompt::to_fixed3(x)),
        n @ 0..=20 => Ok(to_fixed(x, n)),
        n => Err(invalid(format!("fixed({n}): expected at most 20 decimals"))),
    }
}

/// JavaScript's `x.toFixed(digits)`: the exact binary value rounded half away from
/// zero; numbers of 1e21 and more are written out in full (as `fixed(3)` does).
pub fn to_fixed(x: f64, digits: u32) -> String {
    if !x.is_finite() || x.abs() >= 1e21 {
        return format!("{x:.0$}", digits as usize);
    }
    let bits = x.abs().to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, e) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), exponent - 1075)
    };
    let sign = if x < 0.0 { "-" } else { "" };
    if e >= 0 {
        // An integer below 1e21 < 2^70.
        let whole = (mantissa as u128) << e;
        let zeros = "0".repeat(digits as usize);
        return match digits {
            0 => format!("{sign}{whole}"),
            _ => format!("{sign}{whole}.{zeros}"),
        };
    }
    // |x| · 10^digits = mantissa · 10^digits · 2^e, below 2^53 · 2^67.
    let scale = 10u128.pow(digits);
    let scaled = mantissa as u128 * scale;
    let shift = (-e) as u32;
    let n = if shift >= 127 {
        0
    } else {
        let half = 1u128 << (shift - 1);
        let rest = scaled & ((1u128 << shift) - 1);
        (scaled >> shift) + u128::from(rest >= half)
    };
    match digits {
        0 => format!("{sign}{n}"),
        _ => format!(
            "{sign}{}.{:0width$}",
            n / scale,
            n % scale,
            width = digits as usize
        ),
    }
}

/// `map | without(["a", "b"])`: the map's other members, in their order.
fn without(value: Value, keys: Value) -> Result<Value, Error> {
    // A list literal is a `Vec<Value>` object: read it in place, as this runs per group
    // of every example.
    let collected: Vec<Value>;
    let listed: &[Value] = match keys.downcast_object_ref::<Vec<Value>>() {
        Some(list) => list,
        None => {
            collected = keys
                .try_iter()
                .map_err(|_| {
                    invalid(format!(
                        "without expects a list of keys, found {}",
                        kind_of(&keys)
                    ))
                })?
                .collect();
            &collected
        }
    };
    // Keys usually come in the listed order, so the key at the same place is tried first.
    let is_listed = |at: usize, k: &str| {
        listed.get(at).and_then(Value::as_str) == Some(k)
            || listed.iter().any(|l| l.as_str() == Some(k))
    };
    if let Some(map) = value.downcast_object_ref::<JsonMap>() {
        let mut pairs = Vec::new();
        for (at, k) in map.keys().enumerate() {
            if !is_listed(at, k) {
                pairs.push((Value::from(k), map.member(at)));
            }
        }
        return Ok(Value::from_pairs(pairs));
    }
    if value.kind() != ValueKind::Map {
        return Err(invalid(format!(
            "without expects an object, found {}",
            kind_of(&value)
        )));
    }
    let mut pairs = Vec::new();
    for (at, key) in value.try_iter()?.enumerate() {
        if !key.as_str().is_some_and(|k| is_listed(at, k)) {
            let member = value.get_item(&key)?;
            pairs.push((key, member));
        }
    }
    Ok(Value::from_pairs(pairs))
}

fn reward_band(value: Value) -> Result<String, Error> {
    Ok(prompt::reward_band(number_of("reward_band", &value)?).to_string())
}

fn tojson(value: Value) -> Result<Value, Error> {
    let mut out = String::new();
    write_json(&mut out, &value, None)?;
    Ok(Value::from_safe_string(out))
}

fn pretty_json(value: Value) -> Result<Value, Error> {
    let mut out = String::new();
    write_json(&mut out, &value, Some(0))?;
    Ok(Value::from_safe_string(out))
}

/// A number as JSON: as written when the example wrote it.
fn push_number(out: &mut String, value: &Value) -> Result<(), Error> {
    if let Some(text) = written_number(value) {
        out.push_str(&text);
        return Ok(());
    }
    if !value.is_integer() {
        let x = f64::try_from(value.clone()).unwrap_or(f64::NAN);
        if !x.is_finite() {
            return Err(invalid(format!("{value} cannot be written as JSON")));
        }
    }
    let _ = write!(out, "{value}");
    Ok(())
}

fn push_newline(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// `value` as JSON: compact (`pretty` None) or indented at `pretty` levels, as
/// serde_json's pretty printer writes it. Values read from the example keep their text:
/// compact is that text without whitespace, pretty is the built-in answer's rendering.
fn write_json(out: &mut String, value: &Value, pretty: Option<usize>) -> Result<(), Error> {
    let raw = value
        .downcast_object_ref::<JsonMap>()
        .map(JsonMap::raw)
        .or_else(|| value.downcast_object_ref::<JsonList>().map(JsonList::raw));
    if let Some(raw) = raw {
        match pretty {
            None => out.push_str(&minified(raw)),
            Some(level) => {
                let text = prompt::pretty_action(raw);
                let indent = format!("\n{}", "  ".repeat(level));
                out.push_str(&text.replace('\n', &indent));
            }
        }
        return Ok(());
    }
    match value.kind() {
        ValueKind::Undefined => return Err(Error::from(ErrorKind::UndefinedError)),
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => push_number(out, value)?,
        ValueKind::String => {
            out.push('"');
            push_json_escaped(out, value.as_str().unwrap_or_default());
            out.push('"');
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = value.try_iter()?.collect();
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(level) = pretty {
                    push_newline(out, level + 1);
                }
                write_json(out, item, pretty.map(|l| l + 1))?;
            }
            if let (Some(level), false) = (pretty, items.is_empty()) {
                push_newline(out, level);
            }
            out.push(']');
        }
        ValueKind::Map => {
            let keys: Vec<Value> = value.try_iter()?.collect();
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(level) = pretty {
                    push_newline(out, level + 1);
                }
                out.push('"');
                match key.as_str() {
                    Some(k) => push_json_escaped(out, k),
                    None => push_json_escaped(out, &key.to_string()),
                }
                out.push_str(if pretty.is_some() { "\": " } else { "\":" });
                write_json(out, &value.get_item(key)?, pretty.map(|l| l + 1))?;
            }
            if let (Some(level), false) = (pretty, keys.is_empty()) {
                push_newline(out, level);
            }
            out.push('}');
        }
        kind => return Err(invalid(format!("a {kind} cannot be written as JSON"))),
    }
    Ok(())
}

/// A value as the built-in prompts list it.
fn shown(value: Value) -> Result<String, Error> {
    let mut out = String::new();
    push_shown(&mut out, &value)?;
    Ok(out)
}

fn push_shown(out: &mut String, value: &Value) -> Result<(), Error> {
    if let Some(map) = value.downcast_object_ref::<JsonMap>() {
        out.push_str(&minified(map.raw()));
        return Ok(());
    }
    match value.kind() {
        ValueKind::Undefined => return Err(Error::from(ErrorKind::UndefinedError)),
        ValueKind::None => out.push_str("n/a"),
        ValueKind::Number => push_number(out, value)?,
        ValueKind::Seq | ValueKind::Iterable => {
            let mut is_empty = true;
            for (i, item) in value.try_iter()?.enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_shown(out, &item)?;
                is_empty = false;
            }
            if is_empty {
                out.push_str("none");
            }
        }
        ValueKind::Map => write_json(out, value, None)?,
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        _ => {
            let _ = write!(out, "{value}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::Strategy as _;

    proptest::proptest! {
        #[test]
        fn to_fixed_with_3_digits_is_to_fixed3(
            x in proptest::prop_oneof![
                proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
                -2.0f64..2.0,
                (-40000i64..40000).prop_map(|k| k as f64 / 16.0),
                (-2000i64..2000).prop_map(|k| k as f64 / 1000.0 + 0.0005),
            ]
        ) {
            if x.abs() < 1e21 {
                proptest::prop_assert_eq!(to_fixed(x, 3), prompt::to_fixed3(x), "{:e}", x);
            }
        }
    }

    #[test]
    fn to_fixed_matches_javascript() {
        assert_eq!(to_fixed(0.5, 0), "1");
        assert_eq!(to_fixed(-0.5, 0), "-1");
        assert_eq!(to_fixed(2.5, 0), "3");
        assert_eq!(to_fixed(1.005, 2), "1.00"); // 1.005 is below the tie in binary
        assert_eq!(to_fixed(1.125, 2), "1.13");
        assert_eq!(to_fixed(-0.0001, 2), "-0.00");
        assert_eq!(to_fixed(1234.5678, 1), "1234.6");
        assert_eq!(to_fixed(1e20, 2), "100000000000000000000.00");
        assert_eq!(to_fixed(0.1, 20), "0.10000000000000000555");
    }
}
