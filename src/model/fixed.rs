//! Fixed-point numbers as scaled `i128` integers: what the engines compute in, and how they
//! are written back as exact decimal text.
//!
//! A value `v` at scale `s` means `v / 10^s`. Nothing here goes through binary floating point
//! or `rust_decimal` (whose 96-bit mantissa holds only 28 digits: an item of 10^5 kgCO2e at 24
//! decimal places does not fit it, an `i128` does). Every operation that can overflow is
//! checked and returns `None`; callers turn that into an error naming the data concerned.

/// `10^k` for `k` in `0..=38`.
pub const fn pow10(k: u32) -> i128 {
    let mut v: i128 = 1;
    let mut i = 0;
    while i < k {
        v *= 10;
        i += 1;
    }
    v
}

/// The largest magnitude a `Decimal128(38, _)` column holds: `10^38 − 1`.
pub const DECIMAL128_MAX: i128 = pow10(38) - 1;

/// `n / d` rounded half to even (banker's rounding, as `rust_decimal` and DataFusion round);
/// `d` must be positive.
pub fn div_round(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    let q = n / d;
    let r = n % d;
    // |r| vs d/2 without overflow: compare |r| with d − |r|.
    let ra = r.unsigned_abs();
    let rest = d.unsigned_abs() - ra;
    let away = ra > rest || (ra == rest && q % 2 != 0);
    if !away {
        q
    } else if n < 0 {
        q - 1
    } else {
        q + 1
    }
}

/// Converts `v` from scale `from` to scale `to`, rounding half to even when the scale
/// shrinks; `None` when the result overflows `i128`.
pub fn rescale(v: i128, from: u32, to: u32) -> Option<i128> {
    if to >= from {
        v.checked_mul(pow10(to - from))
    } else {
        Some(div_round(v, pow10(from - to)))
    }
}

/// `v / 10^scale` as exact decimal text without trailing zeros: `1.5`, `-0.000001`, `42`.
pub fn format(v: i128, scale: u32) -> String {
    let mut out = Vec::with_capacity(48);
    write(&mut out, v, scale);
    // Only ASCII digits, `-` and `.` were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends [`format()`]`(v, scale)` to `out`, without allocating: what a large answer writes
/// for each of its items.
pub fn write(out: &mut Vec<u8>, v: i128, scale: u32) {
    let mut buf = [0u8; 40];
    let d = digits(v.unsigned_abs(), &mut buf);
    let scale = scale as usize;
    if v < 0 {
        out.push(b'-');
    }
    let frac = if d.len() > scale {
        let (int, frac) = d.split_at(d.len() - scale);
        out.extend_from_slice(int);
        frac
    } else {
        out.push(b'0');
        d
    };
    let kept = frac.len() - frac.iter().rev().take_while(|&&b| b == b'0').count();
    if kept > 0 {
        out.push(b'.');
        // Zeros between the point and the digits of a value below one.
        out.resize(out.len() + scale.saturating_sub(d.len()), b'0');
        out.extend_from_slice(&frac[..kept]);
    }
}

/// The decimal digits of `x` (no leading zeros; `0` for zero), written at the end of `buf`:
/// nineteen at a time through `u64`, so that at most two 128-bit divisions are made.
fn digits(mut x: u128, buf: &mut [u8; 40]) -> &[u8] {
    const CHUNK: u128 = 10_000_000_000_000_000_000;
    let mut i = buf.len();
    loop {
        let (rest, mut low) = if x >= CHUNK {
            (x / CHUNK, (x % CHUNK) as u64)
        } else {
            (0, x as u64)
        };
        if rest > 0 {
            for _ in 0..19 {
                i -= 1;
                buf[i] = b'0' + (low % 10) as u8;
                low /= 10;
            }
            x = rest;
        } else {
            loop {
                i -= 1;
                buf[i] = b'0' + (low % 10) as u8;
                low /= 10;
                if low == 0 {
                    return &buf[i..];
                }
            }
        }
    }
}

/// `v / 10^scale` rounded to `places` decimals, with exactly that many decimals shown
/// (`12.50`); for display only.
pub fn format_places(v: i128, scale: u32, places: u32) -> String {
    let places = places.min(scale);
    let r = div_round(v, pow10(scale - places));
    let digits = r.unsigned_abs().to_string();
    let p = places as usize;
    let padded = format!("{digits:0>width$}", width = p + 1);
    let (int, frac) = padded.split_at(padded.len() - p);
    let sign = if r < 0 { "-" } else { "" };
    if p == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// `v / 10^scale` as the nearest `f64`, for shares and charts (never for sums).
pub fn to_f64(v: i128, scale: u32) -> f64 {
    // Split so that values beyond 2^53 keep their leading digits.
    let p = pow10(scale);
    let (int, frac) = (v / p, v % p);
    int as f64 + frac as f64 / p as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer against the text formatting it replaced (`to_string` of the digits, split
    /// at the scale, zeros trimmed), over edge values and a spread of random ones.
    #[test]
    fn format_writes_what_the_text_formatting_wrote() {
        fn by_text(v: i128, scale: u32) -> String {
            let digits = v.unsigned_abs().to_string();
            let scale = scale as usize;
            let (int, frac) = if digits.len() > scale {
                let (i, f) = digits.split_at(digits.len() - scale);
                (i.to_owned(), f.to_owned())
            } else {
                ("0".to_owned(), format!("{digits:0>scale$}"))
            };
            let frac = frac.trim_end_matches('0');
            let sign = if v < 0 { "-" } else { "" };
            if frac.is_empty() {
                format!("{sign}{int}")
            } else {
                format!("{sign}{int}.{frac}")
            }
        }
        let mut values = vec![
            0,
            1,
            -1,
            9,
            10,
            10_000_000_000_000_000_000,
            9_999_999_999_999_999_999,
            i128::MAX,
            i128::MIN,
            i128::MIN + 1,
            -10_i128.pow(24),
            10_i128.pow(38),
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let wide = (i128::from(x) << 64 | i128::from(x.rotate_left(29))) >> (x % 120);
            values.push(if x.is_multiple_of(3) {
                wide.wrapping_neg()
            } else {
                wide
            });
        }
        for v in values {
            for scale in [0, 1, 6, 9, 12, 19, 20, 24, 38, 40] {
                assert_eq!(format(v, scale), by_text(v, scale), "{v} at scale {scale}");
            }
        }
    }

    #[test]
    fn div_round_is_half_to_even_both_signs() {
        // 25/10 = 2.5 → 2 (even), 35/10 = 3.5 → 4, 26/10 = 2.6 → 3, 24/10 = 2.4 → 2.
        assert_eq!(div_round(25, 10), 2);
        assert_eq!(div_round(35, 10), 4);
        assert_eq!(div_round(26, 10), 3);
        assert_eq!(div_round(24, 10), 2);
        assert_eq!(div_round(-25, 10), -2);
        assert_eq!(div_round(-35, 10), -4);
        assert_eq!(div_round(-26, 10), -3);
        // 1/3 = 0.333… → 0; 2/3 = 0.666… → 1.
        assert_eq!(div_round(1, 3), 0);
        assert_eq!(div_round(2, 3), 1);
        assert_eq!(div_round(i128::MAX, 1), i128::MAX);
        assert_eq!(div_round(i128::MIN + 1, 1), i128::MIN + 1);
    }

    #[test]
    fn rescale_up_checks_overflow() {
        assert_eq!(rescale(15, 1, 3), Some(1500));
        assert_eq!(rescale(1555, 3, 2), Some(156)); // 1.555 → 1.56 (5 after 5: half, to even 6)
        assert_eq!(rescale(1545, 3, 2), Some(154)); // 1.545 → 1.54 (half, to even 4)
        assert_eq!(rescale(i128::MAX / 10 + 1, 0, 1), None);
    }

    #[test]
    fn format_is_exact_without_trailing_zeros() {
        assert_eq!(format(15, 1), "1.5");
        assert_eq!(format(1_500, 3), "1.5");
        assert_eq!(format(-1, 6), "-0.000001");
        assert_eq!(format(42_000, 3), "42");
        assert_eq!(format(0, 24), "0");
        // 10^12 kg at 24 places: 37 digits, beyond rust_decimal's 28.
        assert_eq!(format(pow10(36), 24), "1000000000000");
        assert_eq!(
            format(DECIMAL128_MAX, 24),
            "99999999999999.999999999999999999999999"
        );
    }

    #[test]
    fn format_places_rounds_for_display() {
        assert_eq!(format_places(12_345, 3, 2), "12.34"); // 12.345 → half to even
        assert_eq!(format_places(12_355, 3, 2), "12.36");
        assert_eq!(format_places(-5, 3, 2), "0.00"); // −0.005 → −0.00 is shown as 0.00
        assert_eq!(format_places(-15, 3, 2), "-0.02");
        assert_eq!(format_places(7, 0, 2), "7");
        assert_eq!(format_places(1, 3, 3), "0.001");
    }

    #[test]
    fn to_f64_keeps_leading_digits() {
        assert_eq!(to_f64(15, 1), 1.5);
        assert_eq!(to_f64(pow10(36), 24), 1e12);
        assert_eq!(to_f64(-25, 2), -0.25);
    }
}
