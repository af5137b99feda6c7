//! Decimal amounts as PACT writes them, read exactly: strings (`"12.5"`) and JSON numbers,
//! brought to [`DECIMAL_SCALE`] places and checked for sign and magnitude.

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::{describe, string};

/// Which sign a decimal must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sign {
    /// Any value.
    Any,
    /// ≥ 0.
    NonNegative,
    /// > 0.
    Positive,
    /// ≤ 0.
    NonPositive,
}

impl Sign {
    fn check(self, d: Decimal, text: &str) -> Result<Decimal, String> {
        let ok = match self {
            Sign::Any => true,
            Sign::NonNegative => !d.is_sign_negative() || d.is_zero(),
            Sign::Positive => !d.is_sign_negative() && !d.is_zero(),
            Sign::NonPositive => d.is_sign_negative() || d.is_zero(),
        };
        if ok {
            Ok(d)
        } else {
            let want = match self {
                Sign::Any => "any value",
                Sign::NonNegative => "a value ≥ 0",
                Sign::Positive => "a value > 0",
                Sign::NonPositive => "a value ≤ 0",
            };
            Err(format!("{text} is out of range: expected {want}"))
        }
    }
}

/// Whether `s` is a PACT decimal: `^[+-]?\d+(\.\d+)?$` (no exponent, no bare point).
pub(crate) fn is_pact_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

pub use crate::table::DECIMAL_SCALE;

/// Integer digits an amount may have: below 10^16, so that every stored value (at 12 places,
/// under 10^28) also converts exactly to `rust_decimal` (96 bits, about 7.9·10^28) wherever
/// an edge needs it. No product footprint comes near: 10^16 kgCO2e is ten gigatonnes per unit.
const MAX_INTEGER_DIGITS: u32 = 16;

/// `10^n` for every `n` that [`fit`] compares a mantissa with (`MAX_INTEGER_DIGITS` plus a
/// scale up to [`DECIMAL_SCALE`]).
const POW10: [u128; (MAX_INTEGER_DIGITS + DECIMAL_SCALE + 1) as usize] = {
    let mut t = [1_u128; (MAX_INTEGER_DIGITS + DECIMAL_SCALE + 1) as usize];
    let mut i = 1;
    while i < t.len() {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Whether `lo ≤ d ≤ hi`, compared as integers: `d`'s mantissa against the bounds brought to
/// its scale. Comparing two decimals of different scales rescales one of them (about 80
/// instructions; a bounded value, a DQR or a percentage, took two).
pub(crate) fn within(d: Decimal, lo: u8, hi: u8) -> bool {
    // A decimal's scale is at most 28, the table's last power; 10^28 · 255 < 2^127.
    let Some(&p) = POW10.get(d.scale() as usize) else {
        return d >= Decimal::from(lo) && d <= Decimal::from(hi);
    };
    let (m, p) = (d.mantissa(), p as i128);
    i128::from(lo) * p <= m && m <= i128::from(hi) * p
}

/// Brings an exactly parsed decimal to [`DECIMAL_SCALE`] places and checks its magnitude.
fn fit(d: Decimal, text: &str) -> Result<Decimal, String> {
    // Nearly every amount has at most `DECIMAL_SCALE` places: |d| < 10^16 is then its
    // mantissa below 10^(16 + scale), an integer comparison (comparing two decimals rescales
    // one of them: a sixth of reading a footprint's amounts).
    if d.scale() <= DECIMAL_SCALE
        && d.mantissa().unsigned_abs() < POW10[(MAX_INTEGER_DIGITS + d.scale()) as usize]
    {
        return Ok(d);
    }
    let d = if d.scale() > DECIMAL_SCALE {
        d.round_dp(DECIMAL_SCALE)
    } else {
        d
    };
    if d.abs() >= Decimal::from_i128_with_scale(10_i128.pow(MAX_INTEGER_DIGITS.min(28)), 0) {
        return Err(format!(
            "{text} is too large: amounts must stay below 10^{MAX_INTEGER_DIGITS} (ten gigatonnes)"
        ));
    }
    Ok(d)
}

/// Parses decimal text exactly (up to 28 significant digits).
pub(crate) fn parse_decimal_text(s: &str) -> Result<Decimal, String> {
    // A short plain decimal (nearly every amount) is read in one pass, its syntax with it.
    if let Some(d) = small_decimal(s) {
        return fit(d, s);
    }
    if !is_pact_decimal(s) {
        return Err(format!(
            "{s:?} is not a decimal number: expected digits with an optional sign and fraction, like \"12.5\""
        ));
    }
    let d = Decimal::from_str_exact(s).map_err(|_| {
        format!("{s:?} has more than 28 significant digits and cannot be held exactly")
    })?;
    fit(d, s)
}

/// `s` as a decimal, read digit by digit, when it is `-?D+(.D+)?` with at most 18 digits `D`
/// (all but a few of the amounts a footprint has), and not a negative zero; `None` for
/// anything else, which `Decimal::from_str_exact` reads (the same value, several times slower).
fn small_decimal(s: &str) -> Option<Decimal> {
    let (negative, b) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        b => (false, b),
    };
    if b.len() > 19 || !b.first()?.is_ascii_digit() {
        return None;
    }
    let (mut mantissa, mut digits, mut scale, mut point) = (0u64, 0u32, 0u32, false);
    for &c in b {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
                scale += u32::from(point);
            }
            b'.' if !point => point = true,
            _ => return None,
        }
    }
    if digits > 18 || (point && scale == 0) || (negative && mantissa == 0) {
        return None;
    }
    let (lo, mid) = (mantissa as u32, (mantissa >> 32) as u32);
    Some(Decimal::from_parts(lo, mid, 0, negative, scale))
}

/// Parses a PACT decimal string (`"12.5"`) exactly and checks its sign.
pub(crate) fn decimal_string(raw: &RawValue, sign: Sign) -> Result<Decimal, String> {
    let text = raw.get();
    if !text.starts_with('"') {
        return Err(format!(
            "expected a decimal string like \"12.5\", found {}",
            describe(raw)
        ));
    }
    let s = string(raw)?;
    let d = parse_decimal_text(&s)?;
    sign.check(d, &s)
}

/// Parses a JSON number exactly from its text. Returns whether it was a string instead
/// (accepted, for the caller to warn about).
pub(crate) fn number_or_decimal_string(raw: &RawValue) -> Result<(Decimal, bool), String> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => decimal_string(raw, Sign::Any).map(|d| (d, true)),
        Some(b'-' | b'0'..=b'9') => {
            let d = if text.contains(['e', 'E']) {
                Decimal::from_scientific(text)
            } else if let Some(d) = small_decimal(text) {
                Ok(d)
            } else {
                Decimal::from_str_exact(text)
            }
            .map_err(|_| {
                format!("number {text} cannot be held exactly in 28 significant digits")
            })?;
            Ok((fit(d, text)?, false))
        }
        _ => Err(format!("expected a number, found {}", describe(raw))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_agrees_with_comparing_decimals() {
        let bounds = [(0, 100), (1, 3), (1, 5), (0, 0), (255, 255)];
        let values = [
            "0",
            "-0",
            "0.0",
            "1",
            "0.999999999999",
            "1.000000000001",
            "3",
            "3.0",
            "3.01",
            "2.5",
            "5",
            "5.000",
            "-1",
            "-0.000000000001",
            "100",
            "100.0000000000000000000000001",
            "99.9999999999999999999999999",
            "255",
            "254.99",
            "7922816251426433759354395033",
            "-7922816251426433759354395033",
            "0.0000000000000000000000000001",
        ];
        for v in values {
            let d: Decimal = v.parse().unwrap();
            for (lo, hi) in bounds {
                let by_decimal = d >= Decimal::from(lo) && d <= Decimal::from(hi);
                assert_eq!(within(d, lo, hi), by_decimal, "{v} in {lo}..={hi}");
            }
        }
    }

    fn raw(s: &str) -> &RawValue {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(
            decimal_string(raw("\"0.1\""), Sign::Any)
                .unwrap()
                .to_string(),
            "0.1"
        );
        assert_eq!(
            decimal_string(raw("\"+12.50\""), Sign::Positive)
                .unwrap()
                .to_string(),
            "12.50"
        );
        assert!(decimal_string(raw("\"1e3\""), Sign::Any).is_err());
        assert!(decimal_string(raw("\".5\""), Sign::Any).is_err());
        assert!(decimal_string(raw("\"5.\""), Sign::Any).is_err());
        assert!(decimal_string(raw("\"\""), Sign::Any).is_err());
        assert!(decimal_string(raw("\"0\""), Sign::Positive).is_err());
        assert!(decimal_string(raw("\"-0.1\""), Sign::NonNegative).is_err());
        assert!(decimal_string(raw("\"-0.0\""), Sign::NonNegative).is_ok());
        assert!(decimal_string(raw("1.5"), Sign::Any).is_err());
        assert!(decimal_string(raw("\"123456789012345678901234567890\""), Sign::Any).is_err());
        // A JSON number keeps its written digits: 12.9 is not 12.9000000000000003552…
        let (d, was_string) = number_or_decimal_string(raw("12.9")).unwrap();
        assert_eq!((d.to_string().as_str(), was_string), ("12.9", false));
        let (d, _) = number_or_decimal_string(raw("1.5e1")).unwrap();
        assert_eq!(d, Decimal::new(15, 0));
    }

    #[test]
    fn amounts_stay_below_ten_to_the_sixteenth() {
        let read = |s: &str| parse_decimal_text(s).map(|d| d.to_string());
        // Sixteen integer digits are the most, with up to twelve places…
        assert_eq!(read("9999999999999999").unwrap(), "9999999999999999");
        assert_eq!(read("-9999999999999999.5").unwrap(), "-9999999999999999.5");
        let widest = "9999999999999999.999999999999";
        assert_eq!(read(widest).unwrap(), widest);
        // … and 10^16 is too large, however it is written.
        for s in [
            "10000000000000000",
            "-10000000000000000",
            "10000000000000000.0",
            "99999999999999999",
            "10000000000000000.000000000000",
        ] {
            assert!(read(s).unwrap_err().contains("too large"), "{s}");
        }
        assert!(number_or_decimal_string(raw("1e16")).is_err());
        assert!(number_or_decimal_string(raw("-1E16")).is_err());
        assert_eq!(
            number_or_decimal_string(raw("9.999e15")).unwrap().0,
            Decimal::new(9_999_000_000_000_000, 0)
        );
    }

    #[test]
    fn signs_are_checked_on_zeros_too() {
        let ok = |s: &str, sign| decimal_string(raw(&format!("\"{s}\"")), sign).is_ok();
        assert!(!ok("0", Sign::Positive) && !ok("-0.0", Sign::Positive));
        assert!(ok("0.000000000001", Sign::Positive));
        assert!(ok("0", Sign::NonPositive) && ok("-0.0", Sign::NonPositive));
        assert!(ok("-0.1", Sign::NonPositive) && !ok("0.1", Sign::NonPositive));
        assert!(ok("0", Sign::NonNegative) && !ok("-0.1", Sign::NonNegative));
    }

    /// What `Decimal::from_str_exact` makes of `s`: mantissa, scale, sign.
    fn exact(s: &str) -> Option<(i128, u32, bool)> {
        let d = Decimal::from_str_exact(s).ok()?;
        Some((d.mantissa(), d.scale(), d.is_sign_negative()))
    }

    #[test]
    fn small_decimals_read_as_from_str_exact_reads_them() {
        let parts = |d: Decimal| (d.mantissa(), d.scale(), d.is_sign_negative());
        for s in [
            "0",
            "1",
            "12.5",
            "-12.5",
            "1.50",
            "0.000000000001",
            "007.5",
            "999999999999999999",
            "-999999999999.999999",
            "999999999.999999999",
        ] {
            let small = small_decimal(s).map(parts);
            assert!(small.is_some(), "{s}");
            assert_eq!(small, exact(s), "{s}");
        }
        // Left to from_str_exact: 19 digits, a negative zero, signs and points out of place.
        for s in [
            "1234567890123456789",
            "-0",
            "-0.00",
            "+1",
            ".5",
            "1.",
            "1..2",
            "1e3",
            "",
            "-",
            "1-",
        ] {
            assert_eq!(small_decimal(s), None, "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn small_decimals_agree_with_from_str_exact(
            s in "-?[0-9]{1,9}(\\.[0-9]{1,9})?",
        ) {
            // At most 18 digits: read here unless it is a negative zero.
            let negative_zero = s.starts_with('-') && s.bytes().all(|c| b"-0.".contains(&c));
            match small_decimal(&s) {
                Some(d) => {
                    let parts = (d.mantissa(), d.scale(), d.is_sign_negative());
                    proptest::prop_assert_eq!(Some(parts), exact(&s));
                }
                None => proptest::prop_assert!(negative_zero, "{} left to from_str_exact", s),
            }
        }
    }
}
