//! The scoring kernel: every rule as one integer line over a fixed-point column, points
//! counted over the lines' common denominator, blocks of products added up in the first-level
//! cache (in 64-bit integers where every line and total fits them, else in 128), and each
//! total made millionths by one half-even division. A [`Plan`] is `None` when a value or rule
//! does not fit these integers; `score` then uses exact rationals.

use rust_decimal::Decimal;

use super::input::Fixed;
use super::{Inputs, Profile, Rule, Values, exact};

/// One indicator's rule for one category, prepared for the integer kernel: the credit of a
/// value `x` (a fixed-point integer of its column) is `clamp(sign · (x · mul − zero), 0,
/// den) / den`; points are counted in units of 1 / (D · 10^ws), D the common denominator of
/// every line and ws the weights' scale: `per` per unit of numerator, so `per` × `den` at full
/// credit. Thresholds are lines one unit long (`den` = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line {
    mul: i128,
    zero: i128,
    sign: i128,
    den: i128,
    per: i128,
}

/// Beyond any fixed-point value × `mul`: a threshold past every value.
const FAR: i128 = 1 << 100;

impl Line {
    /// The line of `rule` over a column at `scale` whose values are at most `max_abs`
    /// (before `per` is known); `None` when its integers could overflow.
    fn of(rule: &Rule, scale: u32, max_abs: u64) -> Option<Line> {
        let pow = |e: u32| 10i128.checked_pow(e);
        // ⌈t · 10^scale⌉ or ⌊t · 10^scale⌋, clamped to ±FAR.
        let at = |t: Decimal, up: bool| -> i128 {
            let m = t.mantissa();
            let v = if t.scale() <= scale {
                pow(scale - t.scale())
                    .and_then(|p| m.checked_mul(p))
                    .unwrap_or(if m > 0 { FAR } else { -FAR })
            } else {
                let d = pow(t.scale() - scale).unwrap_or(i128::MAX);
                let (q, r) = (m.div_euclid(d), m.rem_euclid(d));
                q + i128::from(up && r != 0)
            };
            v.clamp(-FAR, FAR)
        };
        let unit = |zero: i128, sign: i128| Line {
            mul: 1,
            zero,
            sign,
            den: 1,
            per: 0,
        };
        Some(match *rule {
            Rule::Present => Line {
                mul: 0,
                ..unit(-1, 1)
            },
            // x ≥ t ⇔ x − (⌈t⌉ − 1) ≥ 1.
            Rule::AtLeast(t) | Rule::Reduction(t) => unit(at(t, true) - 1, 1),
            // x ≤ t ⇔ (⌊t⌋ + 1) − x ≥ 1.
            Rule::AtMost(t) => unit(at(t, false) + 1, -1),
            Rule::Linear { zero_at, full_at } => {
                let s = scale.max(zero_at.scale()).max(full_at.scale());
                let mul = pow(s - scale)?;
                let z = zero_at.mantissa().checked_mul(pow(s - zero_at.scale())?)?;
                let f = full_at.mantissa().checked_mul(pow(s - full_at.scale())?)?;
                let (sign, den) = if f > z {
                    (1, f - z)
                } else {
                    (-1, z.checked_sub(f)?)
                };
                // Every x · mul − zero fits with room to spare.
                let reach = i128::from(max_abs).checked_mul(mul)?.checked_add(z.abs())?;
                if reach > FAR {
                    return None;
                }
                let g = exact::gcd(exact::gcd(mul, z), den);
                Line {
                    mul: mul / g,
                    zero: z / g,
                    sign,
                    den: den / g,
                    per: 0,
                }
            }
        })
    }

    /// Points in kernel units for value `x`: `per` × the numerator clamped to 0..=den.
    #[inline(always)]
    fn points(&self, x: i64) -> i128 {
        let num = self.sign * (i128::from(x) * self.mul - self.zero);
        self.per * num.clamp(0, self.den)
    }
}

/// How one indicator is read by the kernel: a flag, or a fixed-point column with the line of
/// each category.
enum Column<'a> {
    Flag(&'a [Option<bool>], i128),
    Number(Numbers<'a>),
}

/// A number column and its lines.
struct Numbers<'a> {
    fixed: Fixed<'a>,
    /// The line of each category, or one line for all when every category has the same.
    lines: Vec<Line>,
    /// The same lines in 64 bits, when every step of them fits.
    lines64: Option<Vec<Line64>>,
}

/// A [`Line`] in 64-bit integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line64 {
    mul: i64,
    zero: i64,
    sign: i64,
    den: i64,
    per: i64,
}

impl Line64 {
    /// `line` over values of at most `max_abs` in 64 bits, if every step fits; a threshold
    /// beyond every value becomes the constant it is.
    fn of(line: &Line, max_abs: u64) -> Option<Line64> {
        const LIMIT: i128 = 1 << 62;
        let reach = i128::from(max_abs).checked_mul(line.mul)?;
        let (mul, zero) = if line.zero.abs() > reach + line.den {
            // sign · (x · mul − zero) has the sign of −sign · zero for every x: full or none.
            if line.sign * -line.zero > 0 {
                (0, -line.sign * line.den)
            } else {
                (0, line.sign)
            }
        } else {
            (line.mul, line.zero)
        };
        if reach > LIMIT || zero.abs() > LIMIT || line.per.checked_mul(line.den)? > LIMIT {
            return None;
        }
        Some(Line64 {
            mul: i64::try_from(mul).ok()?,
            zero: i64::try_from(zero).ok()?,
            sign: i64::try_from(line.sign).ok()?,
            den: i64::try_from(line.den).ok()?,
            per: i64::try_from(line.per).ok()?,
        })
    }

    #[inline(always)]
    fn points(&self, x: i64) -> i64 {
        let num = self.sign * (x * self.mul - self.zero);
        self.per * num.clamp(0, self.den)
    }
}

/// The kernel's plan: every column prepared, the common denominator, and how totals become
/// millionths; `None` when some value or rule does not fit its integers.
pub(super) struct Plan<'a> {
    columns: Vec<Column<'a>>,
    /// micros = round_half_even(total · mult / div).
    mult: i128,
    div: i128,
    /// Whether every total × mult fits a `u64`.
    pub(super) narrow: bool,
    /// Whether the totals are added in 64 bits (narrow, and every line fits them).
    pub(super) wide: bool,
}

impl<'a> Plan<'a> {
    pub(super) fn new(
        profile: &Profile,
        inputs: &'a Inputs,
        rulesets: &[Vec<Rule>],
        ruleset_of: &[u32],
    ) -> Option<Plan<'a>> {
        let ws = profile
            .indicators
            .iter()
            .map(|i| i.weight.scale())
            .max()
            .unwrap_or(0);
        let weights = profile
            .indicators
            .iter()
            .map(|i| {
                i.weight
                    .mantissa()
                    .checked_mul(10i128.pow(ws - i.weight.scale()))
            })
            .collect::<Option<Vec<i128>>>()?;
        // Each column with the lines of its categories, and their common denominator.
        let mut columns = Vec::with_capacity(weights.len());
        let mut d: i128 = 1;
        for (i, ind) in profile.indicators.iter().enumerate() {
            columns.push(match inputs.values(ind.key) {
                // `full` is set below, once `d` is known.
                Values::Flag(v) => Column::Flag(v, 0),
                Values::Number(v) => {
                    let fixed = v.fixed()?;
                    let per_set = rulesets
                        .iter()
                        .map(|rules| Line::of(&rules[i], fixed.scale, fixed.max_abs))
                        .collect::<Option<Vec<Line>>>()?;
                    for l in &per_set {
                        d = d.checked_mul(l.den / exact::gcd(d, l.den))?;
                    }
                    // One rule for every category: no lookup per product.
                    let lines = if per_set.windows(2).all(|w| w[0] == w[1]) {
                        per_set[..1.min(per_set.len())].to_vec()
                    } else {
                        ruleset_of.iter().map(|&r| per_set[r as usize]).collect()
                    };
                    Column::Number(Numbers {
                        fixed,
                        lines,
                        lines64: None,
                    })
                }
            });
        }
        // The largest total: every indicator at full credit.
        let mut top: i128 = 0;
        for (column, w) in columns.iter_mut().zip(&weights) {
            let full = w.checked_mul(d)?;
            top = top.checked_add(full)?;
            match column {
                Column::Flag(_, f) => *f = full,
                Column::Number(n) => {
                    for l in &mut n.lines {
                        l.per = w.checked_mul(d / l.den)?;
                    }
                    n.lines64 = n
                        .lines
                        .iter()
                        .map(|l| Line64::of(l, n.fixed.max_abs))
                        .collect();
                }
            }
        }
        let m = d.checked_mul(10i128.checked_pow(ws)?)?;
        let g = exact::gcd(m, MICROS as i128);
        let (mult, div) = (MICROS as i128 / g, m / g);
        let bound = top.checked_mul(mult)?;
        // Room for the half-even comparison (2 × remainder).
        if bound > i128::MAX / 4 {
            return None;
        }
        let narrow = bound < i128::from(u64::MAX) / 2 && div < i128::from(u64::MAX) / 2;
        let wide = !narrow
            || columns
                .iter()
                .any(|c| matches!(c, Column::Number(n) if n.lines64.is_none()));
        Some(Plan {
            columns,
            mult,
            div,
            narrow,
            wide,
        })
    }

    /// Scores products `start..start + micros.len()`, a block at a time.
    pub(super) fn run(&self, codes: &[u32], start: usize, micros: &mut [i64], missing: &mut [u32]) {
        for (b, (micros, missing)) in micros
            .chunks_mut(BLOCK)
            .zip(missing.chunks_mut(BLOCK))
            .enumerate()
        {
            if self.wide {
                self.block(codes, start + b * BLOCK, micros, missing);
            } else {
                self.block64(codes, start + b * BLOCK, micros, missing);
            }
        }
    }

    /// [`Plan::block`] in 64-bit integers: the same steps, half the width.
    fn block64(&self, codes: &[u32], start: usize, micros: &mut [i64], missing: &mut [u32]) {
        let len = micros.len();
        let mut total = [0i64; BLOCK];
        let total = &mut total[..len];
        let codes = &codes[start..start + len];
        for column in &self.columns {
            match column {
                Column::Flag(v, full) => {
                    let full = *full as i64;
                    for ((t, m), b) in total
                        .iter_mut()
                        .zip(missing.iter_mut())
                        .zip(&v[start..start + len])
                    {
                        // Random to a branch predictor: masks, not branches.
                        *t += full & -i64::from(*b == Some(true));
                        *m += u32::from(b.is_none());
                    }
                }
                Column::Number(n) => {
                    let Some(lines) = &n.lines64 else { continue };
                    let values = &n.fixed.values[start..start + len];
                    let known = &n.fixed.known[start..start + len];
                    if let [line] = lines[..] {
                        for j in 0..len {
                            total[j] += line.points(values[j]) & -i64::from(known[j]);
                            missing[j] += u32::from(!known[j]);
                        }
                    } else {
                        for j in 0..len {
                            let line = &lines[codes[j] as usize];
                            total[j] += line.points(values[j]) & -i64::from(known[j]);
                            missing[j] += u32::from(!known[j]);
                        }
                    }
                }
            }
        }
        let (mult, div) = (self.mult as u64, self.div as u64);
        for (m, t) in micros.iter_mut().zip(total.iter()) {
            *m = half_even_u64(*t as u64 * mult, div) as i64;
        }
    }

    /// Scores one block of at most [`BLOCK`] products: its totals stay in the first-level
    /// cache while every column is added to them.
    fn block(&self, codes: &[u32], start: usize, micros: &mut [i64], missing: &mut [u32]) {
        let len = micros.len();
        let mut total = [0i128; BLOCK];
        let total = &mut total[..len];
        let codes = &codes[start..start + len];
        for column in &self.columns {
            match column {
                Column::Flag(v, full) => {
                    let full = *full;
                    for ((t, m), b) in total
                        .iter_mut()
                        .zip(missing.iter_mut())
                        .zip(&v[start..start + len])
                    {
                        match b {
                            Some(true) => *t += full,
                            Some(false) => {}
                            None => *m += 1,
                        }
                    }
                }
                Column::Number(n) => {
                    let lines = &n.lines;
                    let values = &n.fixed.values[start..start + len];
                    let known = &n.fixed.known[start..start + len];
                    if let [line] = lines[..] {
                        for j in 0..len {
                            if known[j] {
                                total[j] += line.points(values[j]);
                            } else {
                                missing[j] += 1;
                            }
                        }
                    } else {
                        for j in 0..len {
                            if known[j] {
                                total[j] += lines[codes[j] as usize].points(values[j]);
                            } else {
                                missing[j] += 1;
                            }
                        }
                    }
                }
            }
        }
        if self.narrow {
            let (mult, div) = (self.mult as u64, self.div as u64);
            for (m, t) in micros.iter_mut().zip(total.iter()) {
                *m = half_even_u64(*t as u64 * mult, div) as i64;
            }
        } else {
            for (m, t) in micros.iter_mut().zip(total.iter()) {
                *m = exact::round_half_even(t * self.mult, self.div) as i64;
            }
        }
    }
}

/// `n / div` rounded half to even, for the narrow plans (`n` and `div` non-negative and
/// below `u64::MAX / 2`): [`exact::round_half_even`] in 64 bits.
#[inline]
fn half_even_u64(n: u64, div: u64) -> u64 {
    let (q, r) = (n / div, n % div);
    q + u64::from(r > div - r || (r == div - r && q % 2 == 1))
}

/// Products whose totals are added up together (4 KiB of `i128`).
const BLOCK: usize = 256;

/// Millionths of a point in a point.
const MICROS: i64 = 1_000_000;
