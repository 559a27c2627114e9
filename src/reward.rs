//! Rewards as the decimals they were written as. Thresholds (`--min-reward`,
//! `--kto-threshold`) and pair margins (`--min-margin`) compare the reward's JSON text
//! exactly, so `0.8` against `0.7` has a gap of exactly `0.1`, as has `0.3` against
//! `0.2` (the original's floats said yes to the first and no to the second).
//!
//! A reward keeps 18 significant digits, which every log seen has to spare; longer
//! numbers are rounded to 18 digits (half away from zero). Pure arithmetic, no I/O.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// `mantissa · 10^exponent`, with trailing zeros stripped from the mantissa, so equal
/// values have equal representations (zero is `0 · 10^0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Reward {
    mantissa: i64,
    exponent: i16,
}

/// The most significant digits a `Reward` keeps.
const DIGITS: usize = 18;

impl Reward {
    pub const ZERO: Reward = Reward {
        mantissa: 0,
        exponent: 0,
    };

    fn normalized(mut mantissa: i64, mut exponent: i32) -> Reward {
        if mantissa == 0 {
            return Reward::ZERO;
        }
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        match i16::try_from(exponent) {
            Ok(exponent) => Reward { mantissa, exponent },
            // Below every double (1e-40000 reads as 0.0 everywhere else too).
            Err(_) if exponent < 0 => Reward::ZERO,
            // Above every double: such a reward is not finite and never gets here, but
            // the nearest representable value keeps the order.
            Err(_) => Reward {
                mantissa: mantissa.signum(),
                exponent: i16::MAX,
            },
        }
    }

    /// Parse a JSON number's text (`-0.25`, `1e-3`, `7`). `None` for anything else.
    pub fn parse(text: &str) -> Option<Reward> {
        let bytes = text.as_bytes();
        let (negative, rest) = match bytes.first()? {
            b'-' => (true, &bytes[1..]),
            b'+' => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        let mut digits: Vec<u8> = Vec::with_capacity(24);
        let mut exponent: i64 = 0;
        let mut seen_point = false;
        let mut seen_digit = false;
        let mut i = 0;
        while i < rest.len() {
            match rest[i] {
                d @ b'0'..=b'9' => {
                    seen_digit = true;
                    if digits.is_empty() && d == b'0' {
                        // A leading zero carries no value, only its place.
                    } else {
                        digits.push(d - b'0');
                    }
                    if seen_point {
                        exponent -= 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                b'e' | b'E' => break,
                _ => return None,
            }
            i += 1;
        }
        if !seen_digit {
            return None;
        }
        if i < rest.len() {
            let e: i64 = std::str::from_utf8(&rest[i + 1..]).ok()?.parse().ok()?;
            exponent = exponent.checked_add(e)?;
        }
        // Digits past the 18th move into the exponent, rounded half away from zero.
        let mut round_up = false;
        if digits.len() > DIGITS {
            round_up = digits[DIGITS] >= 5;
            exponent += (digits.len() - DIGITS) as i64;
            digits.truncate(DIGITS);
        }
        let mut mantissa: i64 = 0;
        for d in &digits {
            mantissa = mantissa * 10 + *d as i64;
        }
        if round_up {
            mantissa += 1;
        }
        if negative {
            mantissa = -mantissa;
        }
        let exponent = i32::try_from(exponent).ok()?;
        Some(Reward::normalized(mantissa, exponent))
    }

    /// The nearest double, for what only needs an approximation (statistics).
    pub fn to_f64(self) -> f64 {
        format!("{}e{}", self.mantissa, self.exponent)
            .parse()
            .expect("a mantissa and an exponent make a float literal")
    }

    /// Both mantissas at the smaller exponent, when they fit in an i128.
    fn aligned(self, other: Reward) -> Option<(i128, i128)> {
        let e = self.exponent.min(other.exponent);
        let scale = |r: Reward| -> Option<i128> {
            let shift = (r.exponent as i32 - e as i32) as u32;
            10i128.checked_pow(shift)?.checked_mul(r.mantissa as i128)
        };
        Some((scale(self)?, scale(other)?))
    }

    /// `self − other`, exactly, rounded to 18 digits only when it needs more.
    pub fn minus(self, other: Reward) -> Reward {
        if other.mantissa == 0 {
            return self;
        }
        if self.mantissa == 0 {
            return other.negated();
        }
        match self.aligned(other) {
            Some((a, b)) => {
                let e = self.exponent.min(other.exponent) as i32;
                from_wide(a - b, e)
            }
            // Exponents 38 decades apart: the smaller is far below what the larger keeps.
            None => {
                if self.exponent > other.exponent {
                    self
                } else {
                    other.negated()
                }
            }
        }
    }

    fn negated(self) -> Reward {
        Reward {
            mantissa: -self.mantissa,
            exponent: self.exponent,
        }
    }

    pub fn is_negative(self) -> bool {
        self.mantissa < 0
    }
}

/// `value · 10^exponent` from a wide mantissa, rounded to 18 digits.
fn from_wide(mut value: i128, mut exponent: i32) -> Reward {
    let limit: i128 = 10i128.pow(DIGITS as u32);
    let mut dropped = 0i128;
    while value.abs() >= limit {
        dropped = value % 10;
        value /= 10;
        exponent += 1;
    }
    if dropped.abs() >= 5 {
        value += value.signum();
    }
    Reward::normalized(value as i64, exponent)
}

impl Ord for Reward {
    fn cmp(&self, other: &Reward) -> Ordering {
        if self.mantissa == 0 || other.mantissa == 0 {
            return self.mantissa.signum().cmp(&other.mantissa.signum());
        }
        match self.aligned(*other) {
            Some((a, b)) => a.cmp(&b),
            None => {
                // Exponents far apart: signs decide, then the magnitude of the exponent.
                let sign = |r: &Reward| r.mantissa.signum();
                match sign(self).cmp(&sign(other)) {
                    Ordering::Equal if self.mantissa > 0 => self.exponent.cmp(&other.exponent),
                    Ordering::Equal => other.exponent.cmp(&self.exponent),
                    o => o,
                }
            }
        }
    }
}

impl PartialOrd for Reward {
    fn partial_cmp(&self, other: &Reward) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Reward {
    /// Plain decimal notation (`0.6`, `-1`, `0.001`), as a JSON number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let e = self.exponent as i64;
        // Far-off exponents stay in scientific notation, which JSON also allows.
        if !(-40..=40).contains(&e) {
            return write!(f, "{sign}{digits}e{e}");
        }
        if e >= 0 {
            write!(f, "{sign}{digits}{}", "0".repeat(e as usize))
        } else {
            let point = digits.len() as i64 + e;
            if point > 0 {
                let (int, frac) = digits.split_at(point as usize);
                write!(f, "{sign}{int}.{frac}")
            } else {
                write!(f, "{sign}0.{}{digits}", "0".repeat((-point) as usize))
            }
        }
    }
}

impl FromStr for Reward {
    type Err = String;

    /// A flag's value: a finite decimal number.
    fn from_str(s: &str) -> Result<Reward, String> {
        Reward::parse(s.trim())
            .ok_or_else(|| format!("\"{s}\" is not a number; expected a decimal such as 0.5 or -1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(s: &str) -> Reward {
        Reward::parse(s).unwrap_or_else(|| panic!("{s} parses"))
    }

    #[test]
    fn equal_values_written_differently_are_equal() {
        assert_eq!(r("0.5"), r("5e-1"));
        assert_eq!(r("0.50"), r("0.5"));
        assert_eq!(r("1"), r("1.0"));
        assert_eq!(r("100"), r("1e2"));
        assert_eq!(r("-0"), r("0"));
        assert_eq!(r("0.000"), Reward::ZERO);
    }

    #[test]
    fn gaps_are_exact_decimals() {
        assert_eq!(r("0.8").minus(r("0.7")), r("0.1"));
        assert_eq!(r("0.3").minus(r("0.2")), r("0.1"));
        assert_eq!(r("0.3").minus(r("0.2")).to_string(), "0.1");
        assert_eq!(r("1").minus(r("-0.5")).to_string(), "1.5");
        assert_eq!(r("-1").minus(r("-0.5")).to_string(), "-0.5");
        assert_eq!(r("0.001").to_string(), "0.001");
        assert_eq!(r("12e3").to_string(), "12000");
        assert!(r("0.8").minus(r("0.7")) <= r("0.1"));
    }

    #[test]
    fn order_follows_the_values() {
        assert!(r("-1") < r("-0.5"));
        assert!(r("0.1") < r("0.11"));
        assert!(r("1e-30") > Reward::ZERO);
        assert!(r("1e300") > r("1e-300"));
        assert!(r("-1e300") < r("-1e-300"));
    }

    #[test]
    fn zero_and_far_exponents_compare_and_subtract_exactly() {
        assert_eq!(r("1e-39").minus(Reward::ZERO), r("1e-39"));
        assert_eq!(Reward::ZERO.minus(r("-1e-39")), r("1e-39"));
        assert!(r("1e-39") > Reward::ZERO);
        assert!(r("-1e-300") < Reward::ZERO);
        assert_eq!(r("1e-40000"), Reward::ZERO);
        assert!(r("15e-32769") < r("2e-32768") || r("15e-32769") == Reward::ZERO);
    }

    #[test]
    fn long_numbers_keep_eighteen_digits() {
        assert_eq!(r("0.1234567890123456789"), r("0.123456789012345679"));
        assert_eq!(r("-0.1234567890123456784"), r("-0.123456789012345678"));
    }

    #[test]
    fn non_numbers_are_refused() {
        for s in ["", "-", ".", "abc", "1e", "0x10", "NaN", "1.2.3"] {
            assert!(Reward::parse(s).is_none(), "{s}");
        }
        assert!("x".parse::<Reward>().is_err());
    }

    proptest! {
        #[test]
        fn parse_display_and_order_agree_with_floats(a in -1e6f64..1e6, b in -1e6f64..1e6) {
            let (ra, rb) = (r(&a.to_string()), r(&b.to_string()));
            prop_assert_eq!(ra.to_f64(), a);
            prop_assert_eq!(r(&ra.to_string()), ra);
            prop_assert_eq!(ra.cmp(&rb), a.partial_cmp(&b).unwrap());
            prop_assert!((ra.minus(rb).to_f64() - (a - b)).abs() <= 1e-9 * (a.abs() + b.abs() + 1.0));
        }
    }
}
