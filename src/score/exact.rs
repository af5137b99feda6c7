//! Exact credits and points. A `linear` credit is a rational number, (v − zero_at) /
//! (full_at − zero_at); it stays one until a result is rounded, once, half to even.
//!
//! Products are scored by the integer kernel in `score`; what is shown per product (a credit,
//! an indicator's points, a group's points) and every case the kernel cannot take are computed
//! here, in `i128` where the numbers fit and in arbitrary precision where they do not.

use num_bigint::BigInt;
use rust_decimal::Decimal;

use super::profile::Rule;

/// A credit, exactly: none, full, or a fraction `num / den` in lowest terms, 0 < num < den.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credit {
    /// 0.
    Zero,
    /// 1.
    Full,
    /// Strictly between 0 and 1, in `i128`.
    Part(i128, i128),
    /// Strictly between 0 and 1, too large for `i128`.
    Big(BigInt, BigInt),
}

impl Credit {
    /// The credit of a yes/no value.
    pub fn of_flag(v: bool) -> Credit {
        if v { Credit::Full } else { Credit::Zero }
    }

    /// The credit `rule` gives the number `v`.
    pub fn of_number(rule: &Rule, v: Decimal) -> Credit {
        let yes = |b: bool| if b { Credit::Full } else { Credit::Zero };
        match *rule {
            Rule::Present => Credit::Full,
            Rule::AtLeast(t) | Rule::Reduction(t) => yes(v >= t),
            Rule::AtMost(t) => yes(v <= t),
            Rule::Linear { zero_at, full_at } => {
                linear_i128(v, zero_at, full_at).unwrap_or_else(|| linear_big(v, zero_at, full_at))
            }
        }
    }

    /// The credit as a decimal rounded half to even at `places` (for display).
    pub fn rounded(&self, places: u32) -> Decimal {
        points(Decimal::ONE, self, places)
    }

    /// `(num, den)` in arbitrary precision.
    fn big(&self) -> (BigInt, BigInt) {
        match self {
            Credit::Zero => (BigInt::from(0), BigInt::from(1)),
            Credit::Full => (BigInt::from(1), BigInt::from(1)),
            Credit::Part(n, d) => (BigInt::from(*n), BigInt::from(*d)),
            Credit::Big(n, d) => (n.clone(), d.clone()),
        }
    }
}

/// `d`'s mantissa at `scale` (≥ its own), if it fits.
fn at_scale(d: Decimal, scale: u32) -> Option<i128> {
    d.mantissa()
        .checked_mul(10i128.checked_pow(scale.checked_sub(d.scale())?)?)
}

fn big_at_scale(d: Decimal, scale: u32) -> BigInt {
    BigInt::from(d.mantissa()) * BigInt::from(10).pow(scale - d.scale())
}

fn linear_i128(v: Decimal, zero_at: Decimal, full_at: Decimal) -> Option<Credit> {
    let s = v.scale().max(zero_at.scale()).max(full_at.scale());
    let (x, z, f) = (
        at_scale(v, s)?,
        at_scale(zero_at, s)?,
        at_scale(full_at, s)?,
    );
    let (num, den) = if f > z {
        (x.checked_sub(z)?, f.checked_sub(z)?)
    } else {
        (z.checked_sub(x)?, z.checked_sub(f)?)
    };
    Some(if num <= 0 {
        Credit::Zero
    } else if num >= den {
        Credit::Full
    } else {
        let g = gcd(num, den);
        Credit::Part(num / g, den / g)
    })
}

fn linear_big(v: Decimal, zero_at: Decimal, full_at: Decimal) -> Credit {
    let s = v.scale().max(zero_at.scale()).max(full_at.scale());
    let (x, z, f) = (
        big_at_scale(v, s),
        big_at_scale(zero_at, s),
        big_at_scale(full_at, s),
    );
    let (num, den) = if f > z {
        (x - &z, f - z)
    } else {
        (&z - x, z - f)
    };
    let zero = BigInt::from(0);
    if num <= zero {
        Credit::Zero
    } else if num >= den {
        Credit::Full
    } else {
        let g = big_gcd(num.clone(), den.clone());
        Credit::Big(num / &g, den / g)
    }
}

/// Greatest common divisor of two positive integers.
pub(crate) fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

fn big_gcd(mut a: BigInt, mut b: BigInt) -> BigInt {
    let zero = BigInt::from(0);
    while b != zero {
        let r = &a % &b;
        (a, b) = (b, r);
    }
    a
}

/// `num / den` (den > 0) rounded half to even to an integer.
pub(crate) fn round_half_even(num: i128, den: i128) -> i128 {
    let (q, r) = (num.div_euclid(den), num.rem_euclid(den));
    // r in 0..den: compare 2r with den without overflow.
    match r.cmp(&(den - r)) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal if q % 2 != 0 => q + 1,
        _ => q,
    }
}

fn big_round_half_even(num: BigInt, den: &BigInt) -> BigInt {
    let zero = BigInt::from(0);
    let mut q = &num / den;
    let mut r = num - &q * den;
    // Truncating division: make the remainder non-negative (den > 0).
    if r < zero {
        q -= 1;
        r += den;
    }
    let twice = &r * 2;
    let odd = &q % 2 != zero;
    if twice > *den || (twice == *den && odd) {
        q + 1
    } else {
        q
    }
}

fn big_to_decimal(n: BigInt, places: u32) -> Decimal {
    // Every value rounded here is a score or points (at most the weights' total) or a
    // credit: small enough for a decimal at any scale this module is asked for.
    i128::try_from(n)
        .ok()
        .and_then(|m| Decimal::try_from_i128_with_scale(m, places).ok())
        .unwrap_or(Decimal::MAX)
}

/// `weight × credit` rounded half to even at `places`.
pub fn points(weight: Decimal, credit: &Credit, places: u32) -> Decimal {
    match credit {
        Credit::Zero => Decimal::ZERO,
        Credit::Full => weight,
        Credit::Part(n, d) => {
            // weight = w / 10^ws: the points × 10^places = w · n · 10^places / (10^ws · d).
            let fast = (|| {
                let num = weight
                    .mantissa()
                    .checked_mul(*n)?
                    .checked_mul(10i128.checked_pow(places)?)?;
                let den = d.checked_mul(10i128.checked_pow(weight.scale())?)?;
                Decimal::try_from_i128_with_scale(round_half_even(num, den), places).ok()
            })();
            fast.unwrap_or_else(|| sum_rounded(&[(weight, credit.clone())], places))
        }
        Credit::Big(..) => sum_rounded(&[(weight, credit.clone())], places),
    }
}

/// `Σ weight × credit`, exactly, rounded once, half to even, at `places`: in `i128` while
/// the sum's numerator and denominator fit it (every product's breakdown goes here), in
/// arbitrary precision otherwise.
pub fn sum_rounded(terms: &[(Decimal, Credit)], places: u32) -> Decimal {
    sum_i128(terms, places).unwrap_or_else(|| sum_big(terms, places))
}

fn sum_i128(terms: &[(Decimal, Credit)], places: u32) -> Option<Decimal> {
    // Σ (w_i / 10^s_i) · (n_i / d_i), kept as num / den in lowest terms.
    let (mut num, mut den) = (0i128, 1i128);
    for (w, c) in terms {
        let (n, d) = match c {
            Credit::Zero => continue,
            Credit::Full => (1, 1),
            Credit::Part(n, d) => (*n, *d),
            Credit::Big(..) => return None,
        };
        let tn = w.mantissa().checked_mul(n)?;
        let td = 10i128.checked_pow(w.scale())?.checked_mul(d)?;
        let g = gcd(den, td);
        let l = den.checked_mul(td / g)?;
        num = num
            .checked_mul(l / den)?
            .checked_add(tn.checked_mul(l / td)?)?;
        den = l;
        let r = gcd(num, den);
        if r > 1 {
            (num, den) = (num / r, den / r);
        }
    }
    let scaled = num.checked_mul(10i128.checked_pow(places)?)?;
    Decimal::try_from_i128_with_scale(round_half_even(scaled, den), places).ok()
}

fn sum_big(terms: &[(Decimal, Credit)], places: u32) -> Decimal {
    // Σ (w_i / 10^s_i) · (n_i / d_i) over the common denominator Π 10^s_i · d_i.
    let mut num = BigInt::from(0);
    let mut den = BigInt::from(1);
    for (w, c) in terms {
        if *c == Credit::Zero {
            continue;
        }
        let (n, d) = c.big();
        let tn = BigInt::from(w.mantissa()) * n;
        let td = BigInt::from(10).pow(w.scale()) * d;
        num = num * &td + tn * &den;
        den *= td;
    }
    let scaled = num * BigInt::from(10).pow(places);
    big_to_decimal(big_round_half_even(scaled, &den), places)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn a_third_stays_a_third_until_rounded() {
        let rule = Rule::Linear {
            zero_at: d("0"),
            full_at: d("30"),
        };
        // 10 of 30: credit 1/3 exactly.
        assert_eq!(Credit::of_number(&rule, d("10")), Credit::Part(1, 3));
        // 15 points × 1/3 = 5 exactly, where a credit rounded first (0.333333) gives 4.999995.
        assert_eq!(points(d("15"), &Credit::Part(1, 3), 6), d("5"));
        // Three thirds of 8, 7 and 7 points: 22/3 = 7.333333… rounds to 7.333333.
        let third = Credit::Part(1, 3);
        let terms = [
            (d("8"), third.clone()),
            (d("7"), third.clone()),
            (d("7"), third),
        ];
        assert_eq!(sum_rounded(&terms, 6), d("7.333333"));
    }

    #[test]
    fn ties_round_to_even_once() {
        // 0.000001 points × 1/2 = 0.0000005: a tie at the seventh place, to even (0).
        assert_eq!(points(d("0.000001"), &Credit::Part(1, 2), 6), d("0"));
        // 0.000003 × 1/2 = 0.0000015: to even (0.000002).
        assert_eq!(points(d("0.000003"), &Credit::Part(1, 2), 6), d("0.000002"));
        // 1/3 + 1/6 of 0.000001 = 0.0000005 exactly: the sum is a tie, to even (0).
        let terms = [
            (d("0.000001"), Credit::Part(1, 3)),
            (d("0.000001"), Credit::Part(1, 6)),
        ];
        assert_eq!(sum_rounded(&terms, 6), d("0"));
    }

    #[test]
    fn linear_credits_fall_back_to_big_integers() {
        // 28 decimals on every side: the common scale overflows i128 only past 10^38.
        let rule = Rule::Linear {
            zero_at: d("0.0000000000000000000000000001"),
            full_at: d("79228162514264.337593543950335"),
        };
        let c = Credit::of_number(&rule, d("26409387504754.779197847983445"));
        assert!(matches!(c, Credit::Big(..) | Credit::Part(..)), "{c:?}");
        // Roughly a third, exactly rounded.
        assert_eq!(c.rounded(6), d("0.333333"));
        assert_eq!(Credit::of_number(&rule, d("-1")), Credit::Zero);
        assert_eq!(Credit::of_number(&rule, Decimal::MAX), Credit::Full);
    }

    /// The i128 sum and the arbitrary-precision one agree (thirds, sevenths, ties, weights
    /// with six decimals).
    #[test]
    fn both_sums_agree() {
        let cases = [
            vec![(d("8"), Credit::Part(1, 3)), (d("7"), Credit::Part(2, 7))],
            vec![
                (d("0.000001"), Credit::Part(1, 3)),
                (d("0.000001"), Credit::Part(1, 6)),
            ],
            vec![
                (d("33.333333"), Credit::Part(13, 21)),
                (d("33.333327"), Credit::Full),
            ],
            vec![(d("15"), Credit::Zero), (d("0.000003"), Credit::Part(1, 2))],
        ];
        for terms in &cases {
            assert_eq!(sum_i128(terms, 6), Some(sum_big(terms, 6)), "{terms:?}");
        }
    }

    #[test]
    fn falling_lines_run_the_other_way() {
        let rule = Rule::Linear {
            zero_at: d("300"),
            full_at: d("200"),
        };
        assert_eq!(Credit::of_number(&rule, d("250")), Credit::Part(1, 2));
        assert_eq!(Credit::of_number(&rule, d("199.9")), Credit::Full);
        assert_eq!(Credit::of_number(&rule, d("300")), Credit::Zero);
    }
}
