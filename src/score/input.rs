//! Indicator values per product: the latest Active footprint of each product, its GX
//! attributes, and the reduction achieved against its preceding version or previous period.

use std::collections::HashMap;

use datafusion::arrow::array::{
    Array, BooleanArray, Decimal128Array, Int32Array, ListArray, StringArray,
    TimestampMicrosecondArray,
};
use rust_decimal::Decimal;
use serde::Serialize;

use super::profile::Key;
use crate::table::graph_index::sort_by_text;
use crate::table::{Tables, current_gx_attributes, i128_to_decimal};
use crate::{Error, Result};

/// Rows grouped by a text: each distinct text's rows, in row order, one after the other. A
/// million products and ids took a vector each, allocated and grown row by row.
struct Groups<'a> {
    /// Each text's group.
    index: FastMap<&'a str, u32>,
    /// Each group's text.
    texts: Vec<&'a str>,
    /// Each row's group.
    of: Vec<u32>,
    /// Where each group's rows start in `rows`; one more, the end, after the last.
    starts: Vec<usize>,
    rows: Vec<usize>,
}

impl<'a> Groups<'a> {
    /// The rows of `texts`, the text of each row in order, grouped.
    fn new(texts: impl ExactSizeIterator<Item = &'a str>) -> Groups<'a> {
        let n = texts.len();
        let mut index: FastMap<&str, u32> =
            FastMap::with_capacity_and_hasher(n, Default::default());
        let mut of = Vec::with_capacity(n);
        let mut counts: Vec<usize> = Vec::new();
        let mut group_texts = Vec::new();
        for t in texts {
            // Fewer groups than rows, and rows are counted in `usize`; a store of four
            // billion footprints is not read into memory whole.
            let next = counts.len() as u32;
            let g = *index.entry(t).or_insert(next);
            if g == next {
                counts.push(0);
                group_texts.push(t);
            }
            counts[g as usize] += 1;
            of.push(g);
        }
        let mut starts = Vec::with_capacity(counts.len() + 1);
        let mut at = 0;
        for c in counts {
            starts.push(at);
            at += c;
        }
        starts.push(at);
        let mut next = starts.clone();
        let mut rows = vec![0; n];
        for (row, &g) in of.iter().enumerate() {
            rows[next[g as usize]] = row;
            next[g as usize] += 1;
        }
        Groups {
            index,
            texts: group_texts,
            of,
            starts,
            rows,
        }
    }

    /// The rows of group `g`, in row order.
    fn rows(&self, g: u32) -> &[usize] {
        let g = g as usize;
        &self.rows[self.starts[g]..self.starts[g + 1]]
    }

    /// The rows of `text`, in row order (none if no row has it).
    fn get(&self, text: &str) -> &[usize] {
        match self.index.get(text) {
            Some(&g) => self.rows(g),
            None => &[],
        }
    }

    /// The rows whose text is row `row`'s, `row` among them, in row order.
    fn with(&self, row: usize) -> &[usize] {
        self.rows(self.of[row])
    }

    /// Every group, in the order of their texts: the texts of a million products sorted on
    /// both cores, by their first bytes before they are compared whole (see
    /// [`sort_by_text`]).
    fn in_text_order(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.texts.len() as u32).collect();
        sort_by_text(&mut order, |g| self.texts[g as usize]);
        order
    }
}

/// A hash map with aHash: randomly keyed, as `std`'s SipHash is, and several times faster on
/// short keys.
type FastMap<K, V> = HashMap<K, V, ahash::RandomState>;

/// The values of one indicator across products.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Yes/no facts; `None` = not known.
    Flag(Vec<Option<bool>>),
    /// Numbers.
    Number(Numbers),
}

impl Values {
    /// Product `p`'s value as text, or `None` when missing.
    pub fn text(&self, p: usize) -> Option<String> {
        match self {
            Values::Flag(v) => v[p].map(|b| b.to_string()),
            Values::Number(v) => v.get(p).map(|d| d.normalize().to_string()),
        }
    }

    /// Numbers from decimals (`None` = not known).
    pub fn numbers(v: Vec<Option<Decimal>>) -> Values {
        Values::Number(Numbers::new(v))
    }

    fn empty(key: Key, n: usize) -> Values {
        if key.is_flag() {
            Values::Flag(vec![None; n])
        } else {
            Values::numbers(vec![None; n])
        }
    }
}

/// A column of numbers, held as fixed-point integers: every value × 10^scale as an `i64`,
/// at the smallest scale that keeps every value exact. A column that does not fit (a value
/// with more digits than an `i64` holds at that scale) keeps its decimals.
#[derive(Debug, Clone)]
pub struct Numbers(Repr);

#[derive(Debug, Clone)]
enum Repr {
    Fixed {
        scale: u32,
        values: Vec<i64>,
        known: Vec<bool>,
        /// The largest |value| × 10^scale.
        max_abs: u64,
    },
    Decimal(Vec<Option<Decimal>>),
}

/// What the scoring kernel reads of a fixed-point column.
pub(crate) struct Fixed<'a> {
    pub scale: u32,
    pub values: &'a [i64],
    pub known: &'a [bool],
    pub max_abs: u64,
}

impl Numbers {
    /// The column of `values` (`None` = not known).
    pub fn new(values: Vec<Option<Decimal>>) -> Numbers {
        let scale = values
            .iter()
            .flatten()
            .map(|d| d.normalize().scale())
            .max()
            .unwrap_or(0);
        let fixed = |d: &Decimal| -> Option<i64> {
            let m = d
                .mantissa()
                .checked_mul(10i128.checked_pow(scale.checked_sub(d.scale())?)?);
            // A value with more decimals than `scale` carries trailing zeros.
            let m = match m {
                Some(m) => m,
                None => {
                    let drop = 10i128.checked_pow(d.scale().checked_sub(scale)?)?;
                    (d.mantissa() % drop == 0).then(|| d.mantissa() / drop)?
                }
            };
            i64::try_from(m).ok().filter(|m| *m != i64::MIN)
        };
        let mut out = Vec::with_capacity(values.len());
        let mut known = Vec::with_capacity(values.len());
        let mut max_abs = 0u64;
        for v in &values {
            match v {
                None => {
                    out.push(0);
                    known.push(false);
                }
                Some(d) => match fixed(d) {
                    Some(m) => {
                        max_abs = max_abs.max(m.unsigned_abs());
                        out.push(m);
                        known.push(true);
                    }
                    None => return Numbers(Repr::Decimal(values)),
                },
            }
        }
        Numbers(Repr::Fixed {
            scale,
            values: out,
            known,
            max_abs,
        })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Fixed { known, .. } => known.len(),
            Repr::Decimal(v) => v.len(),
        }
    }

    /// Whether the column is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Product `p`'s value, or `None` when missing.
    pub fn get(&self, p: usize) -> Option<Decimal> {
        match &self.0 {
            Repr::Fixed {
                scale,
                values,
                known,
                ..
            } => known[p].then(|| Decimal::new(values[p], *scale)),
            Repr::Decimal(v) => v[p],
        }
    }

    /// Every value, as decimals.
    pub fn to_decimals(&self) -> Vec<Option<Decimal>> {
        (0..self.len()).map(|p| self.get(p)).collect()
    }

    /// The values of products `keep`, in that order.
    pub fn pick(&self, keep: &[usize]) -> Numbers {
        Numbers::new(keep.iter().map(|&p| self.get(p)).collect())
    }

    /// The fixed-point form, unless the column keeps decimals.
    pub(crate) fn fixed(&self) -> Option<Fixed<'_>> {
        match &self.0 {
            Repr::Fixed {
                scale,
                values,
                known,
                max_abs,
            } => Some(Fixed {
                scale: *scale,
                values,
                known,
                max_abs: *max_abs,
            }),
            Repr::Decimal(_) => None,
        }
    }
}

impl FromIterator<Option<Decimal>> for Numbers {
    fn from_iter<I: IntoIterator<Item = Option<Decimal>>>(iter: I) -> Numbers {
        Numbers::new(iter.into_iter().collect())
    }
}

impl PartialEq for Numbers {
    fn eq(&self, other: &Numbers) -> bool {
        self.len() == other.len() && (0..self.len()).all(|p| self.get(p) == other.get(p))
    }
}

/// The UN CPC code of each product, dictionary-coded: scoring resolves a category's rules
/// once per distinct code, not once per product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Categories {
    codes: Vec<u32>,
    names: Vec<Option<String>>,
}

impl Categories {
    /// Product `p`'s code.
    pub fn get(&self, p: usize) -> Option<&str> {
        self.names[self.codes[p] as usize].as_deref()
    }

    /// Number of products.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether there are no products.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The distinct codes, numbered.
    pub(crate) fn distinct(&self) -> &[Option<String>] {
        &self.names
    }

    /// Each product's number in [`Categories::distinct`].
    pub(crate) fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// Every product's code, in order.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.codes
            .iter()
            .map(|&c| self.names[c as usize].as_deref())
    }
}

impl FromIterator<Option<String>> for Categories {
    fn from_iter<I: IntoIterator<Item = Option<String>>>(iter: I) -> Categories {
        let mut seen: datafusion::common::HashMap<Option<String>, u32> = Default::default();
        let mut out = Categories::default();
        for c in iter {
            let next = out.names.len() as u32;
            let code = *seen.entry(c).or_insert_with_key(|c| {
                out.names.push(c.clone());
                next
            });
            out.codes.push(code);
        }
        out
    }
}

/// What the reduction achieved (REP) is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepBasis {
    /// An earlier version of the same footprint (PACT v2 `version`, or `precedingPfIds`).
    PrecedingVersion,
    /// The product's footprint for the previous reference period.
    PreviousPeriod,
}

/// The reduction achieved by a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rep {
    /// What the baseline is.
    pub basis: RepBasis,
    /// Footprint of the baseline.
    pub baseline_footprint_id: String,
    /// Baseline CFP per declared unit.
    pub baseline_kgco2e_per_unit: Decimal,
    /// Baseline − current, per declared unit (positive = reduced).
    pub reduction_kgco2e_per_unit: Decimal,
    /// The reduction in percent of the baseline (none when the baseline is 0).
    pub reduction_pct: Option<Decimal>,
}

/// Indicator values of every product, column by column.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Product URN.
    pub product_id: Vec<String>,
    /// The footprint scored: the product's latest Active one.
    pub footprint_id: Vec<String>,
    /// Trade name.
    pub product_name: Vec<String>,
    /// Company.
    pub company_name: Vec<String>,
    /// Company URN.
    pub company_id: Vec<String>,
    /// UN CPC code.
    pub cpc: Categories,
    /// Declared unit.
    pub declared_unit: Vec<Option<String>>,
    /// GX calcMethod "1".
    pub organization_based: Vec<bool>,
    /// Reduction achieved, when a baseline exists.
    pub rep: Vec<Option<Rep>>,
    /// Values per indicator, in [`Key::ALL`] order.
    pub values: Vec<Values>,
}

fn col<'a, T: 'static>(b: &'a datafusion::arrow::array::RecordBatch, name: &str) -> Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::Internal(format!("footprints.{name} missing or mistyped")))
}

fn key_index(key: Key) -> usize {
    Key::ALL.iter().position(|k| *k == key).unwrap_or(0)
}

impl Inputs {
    /// The stored `footprints` columns scoring reads ([`Inputs::from_tables`]; `is_latest`
    /// is made from `id`, `version` and `preceding_pf_ids`): with `gx_attributes`, all a
    /// table of footprints needs to be scored.
    pub const FOOTPRINT_COLUMNS: [&str; 16] = [
        "id",
        "product_id",
        "version",
        "preceding_pf_ids",
        "status",
        "reference_period_start",
        "reference_period_end",
        "pcf_excluding_biogenic_kgco2e_per_unit",
        "primary_data_share_pct",
        "assurance",
        "gxd_calc_method",
        "product_name_company",
        "company_name",
        "company_id",
        "product_category_cpc",
        "declared_unit",
    ];

    /// Number of products.
    pub fn len(&self) -> usize {
        self.product_id.len()
    }

    /// Whether there are no products.
    pub fn is_empty(&self) -> bool {
        self.product_id.is_empty()
    }

    /// The values of indicator `key`.
    pub fn values(&self, key: Key) -> &Values {
        &self.values[key_index(key)]
    }

    /// Empty columns for `n` products, for callers that fill them (benchmarks, tests).
    pub fn with_len(n: usize) -> Inputs {
        Inputs {
            product_id: vec![String::new(); n],
            footprint_id: vec![String::new(); n],
            product_name: vec![String::new(); n],
            company_name: vec![String::new(); n],
            company_id: vec![String::new(); n],
            cpc: std::iter::repeat_n(None, n).collect(),
            declared_unit: vec![None; n],
            organization_based: vec![false; n],
            rep: vec![None; n],
            values: Key::ALL.iter().map(|k| Values::empty(*k, n)).collect(),
        }
    }

    /// Sets indicator `key` for every product.
    pub fn set(&mut self, key: Key, values: Values) {
        self.values[key_index(key)] = values;
    }

    /// One row per product (its latest Active footprint), products in id order.
    pub fn from_tables(t: &Tables) -> Result<Inputs> {
        // The columns scoring reads, as one batch (strings bounded by names and ids).
        let mut columns = Inputs::FOOTPRINT_COLUMNS.to_vec();
        columns.push("is_latest");
        let fp = crate::table::concat_columns(&t.footprints_view()?, &columns)?;
        let gx = current_gx_attributes(t)?;
        let ids = col::<StringArray>(&fp, "id")?;
        let product = col::<StringArray>(&fp, "product_id")?;
        let versions = col::<Int32Array>(&fp, "version")?;
        let preceding = col::<ListArray>(&fp, "preceding_pf_ids")?;
        let status = col::<StringArray>(&fp, "status")?;
        let latest = col::<BooleanArray>(&fp, "is_latest")?;
        let start = col::<TimestampMicrosecondArray>(&fp, "reference_period_start")?;
        let end = col::<TimestampMicrosecondArray>(&fp, "reference_period_end")?;
        let cfp = col::<Decimal128Array>(&fp, "pcf_excluding_biogenic_kgco2e_per_unit")?;
        let pds = col::<Decimal128Array>(&fp, "primary_data_share_pct")?;
        let assurance = col::<BooleanArray>(&fp, "assurance")?;
        let calc = col::<StringArray>(&fp, "gxd_calc_method")?;
        let name = col::<StringArray>(&fp, "product_name_company")?;
        let company = col::<StringArray>(&fp, "company_name")?;
        let company_id = col::<StringArray>(&fp, "company_id")?;
        let cpc = col::<StringArray>(&fp, "product_category_cpc")?;
        let unit = col::<StringArray>(&fp, "declared_unit")?;

        let version = |i: usize| (!versions.is_null(i)).then(|| versions.value(i));
        let cfp_of = |i: usize| i128_to_decimal(cfp.value(i), cfp.scale());
        let recency = |i: usize| (end.value(i), start.value(i), version(i).unwrap_or(-1));

        // Rows by product and by id, hashed once per row (with aHash: SipHash was a sixth of
        // `mieruka query score/by_product`'s time at 1M). A product's rows and a row's
        // versions are then found through the row's group, not its text: looked up by text,
        // a million products and ids were a sixth of that time again, each lookup a cache
        // miss or two; only the ids a footprint names as preceding are looked up.
        let by_product = Groups::new(product.iter().map(Option::unwrap_or_default));
        let by_id = Groups::new(ids.iter().map(Option::unwrap_or_default));

        let mut rows = Vec::new();
        for g in by_product.in_text_order() {
            let candidates = by_product.rows(g);
            let current = candidates
                .iter()
                .copied()
                .filter(|&i| latest.value(i) && status.value(i) == "Active")
                .max_by(|&a, &b| {
                    recency(a)
                        .cmp(&recency(b))
                        .then(ids.value(a).cmp(ids.value(b)))
                });
            if let Some(i) = current {
                rows.push(i);
            }
        }

        let n = rows.len();
        let text = |a: &StringArray| rows.iter().map(|&i| a.value(i).to_owned()).collect();
        let mut out = Inputs {
            product_id: text(product),
            footprint_id: text(ids),
            product_name: text(name),
            company_name: text(company),
            company_id: text(company_id),
            cpc: rows
                .iter()
                .map(|&i| (!cpc.is_null(i)).then(|| cpc.value(i).to_owned()))
                .collect(),
            declared_unit: rows
                .iter()
                .map(|&i| (!unit.is_null(i)).then(|| unit.value(i).to_owned()))
                .collect(),
            organization_based: rows
                .iter()
                .map(|&i| !calc.is_null(i) && calc.value(i) == "1")
                .collect(),
            rep: vec![None; n],
            values: Key::ALL.iter().map(|k| Values::empty(*k, n)).collect(),
        };
        // Each indicator's values, by its place in `Key::ALL`, made at its first value.
        let mut flags: Vec<Option<Vec<Option<bool>>>> = vec![None; Key::ALL.len()];
        let mut numbers: Vec<Option<Vec<Option<Decimal>>>> = vec![None; Key::ALL.len()];
        for (p, &i) in rows.iter().enumerate() {
            // The preceding version: the same id with a lower version (PACT v2), else the
            // most recent footprint named in precedingPfIds; then the previous period.
            let same_id = by_id
                .with(i)
                .iter()
                .copied()
                .filter(|&j| version(j) < version(i))
                .max_by_key(|&j| version(j));
            let named = preceding
                .value(i)
                .as_any()
                .downcast_ref::<StringArray>()
                .into_iter()
                .flat_map(|s| s.iter().flatten().collect::<Vec<_>>())
                .flat_map(|pid| by_id.get(pid).iter().copied())
                .max_by(|&a, &b| recency(a).cmp(&recency(b)));
            let previous_period = by_product
                .with(i)
                .iter()
                .copied()
                .filter(|&j| end.value(j) <= start.value(i))
                .max_by(|&a, &b| {
                    (recency(a), latest.value(a))
                        .cmp(&(recency(b), latest.value(b)))
                        .then(ids.value(a).cmp(ids.value(b)))
                });
            let baseline = same_id
                .or(named)
                .map(|j| (j, RepBasis::PrecedingVersion))
                .or(previous_period.map(|j| (j, RepBasis::PreviousPeriod)));
            out.rep[p] = baseline.map(|(j, basis)| {
                let base = cfp_of(j);
                let reduction = base - cfp_of(i);
                Rep {
                    basis,
                    baseline_footprint_id: ids.value(j).to_owned(),
                    baseline_kgco2e_per_unit: base.normalize(),
                    reduction_kgco2e_per_unit: reduction.normalize(),
                    reduction_pct: (base > Decimal::ZERO).then(|| {
                        (reduction / base * Decimal::ONE_HUNDRED)
                            .round_dp(6)
                            .normalize()
                    }),
                }
            });

            let a = gx.get(product.value(i));
            let assured = (!assurance.is_null(i)).then(|| assurance.value(i));
            let certified = match (a.and_then(|a| a.certified), assured) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), _) | (_, Some(false)) => Some(false),
                _ => None,
            };
            let mut flag = |k: Key, v: Option<bool>| {
                flags[key_index(k)].get_or_insert_with(|| vec![None; n])[p] = v
            };
            flag(
                Key::NationalTargetContribution,
                a.and_then(|a| a.national_target_contribution),
            );
            flag(Key::SupportMeasures, a.and_then(|a| a.support_measures));
            flag(Key::GxDeclaration, a.and_then(|a| a.gx_declaration));
            flag(Key::ProgressDisclosed, a.and_then(|a| a.progress_disclosed));
            flag(Key::PubliclyDisclosed, a.and_then(|a| a.publicly_disclosed));
            flag(Key::Certified, certified);
            flag(Key::Additionality, a.and_then(|a| a.additionality));
            let mut number = |k: Key, v: Option<Decimal>| {
                numbers[key_index(k)].get_or_insert_with(|| vec![None; n])[p] =
                    v.map(|d| d.normalize())
            };
            number(Key::Cfp, Some(cfp_of(i)));
            number(Key::Rep, out.rep[p].as_ref().and_then(|r| r.reduction_pct));
            number(Key::Aep, a.and_then(|a| a.aep_kgco2e_per_unit));
            number(Key::CircularOutflow, a.and_then(|a| a.circular_outflow_pct));
            number(Key::CircularInflow, a.and_then(|a| a.circular_inflow_pct));
            number(
                Key::PrimaryDataShare,
                (!pds.is_null(i)).then(|| i128_to_decimal(pds.value(i), pds.scale())),
            );
        }
        for (k, (f, v)) in Key::ALL.iter().zip(flags.into_iter().zip(numbers)) {
            if let Some(f) = f {
                out.set(*k, Values::Flag(f));
            }
            if let Some(v) = v {
                out.set(*k, Values::numbers(v));
            }
        }
        Ok(out)
    }

    /// Keeps the products whose CPC code starts with `prefix`.
    pub fn filter_category(self, prefix: &str) -> Inputs {
        let keep: Vec<usize> = (0..self.len())
            .filter(|&p| self.cpc.get(p).is_some_and(|c| c.starts_with(prefix)))
            .collect();
        self.pick(&keep)
    }

    /// The products at `keep` (indices), in that order.
    pub fn pick(&self, keep: &[usize]) -> Inputs {
        let pick = |v: &Vec<String>| keep.iter().map(|&p| v[p].clone()).collect::<Vec<_>>();
        Inputs {
            product_id: pick(&self.product_id),
            footprint_id: pick(&self.footprint_id),
            product_name: pick(&self.product_name),
            company_name: pick(&self.company_name),
            company_id: pick(&self.company_id),
            cpc: keep
                .iter()
                .map(|&p| self.cpc.get(p).map(str::to_owned))
                .collect(),
            declared_unit: keep
                .iter()
                .map(|&p| self.declared_unit[p].clone())
                .collect(),
            organization_based: keep.iter().map(|&p| self.organization_based[p]).collect(),
            rep: keep.iter().map(|&p| self.rep[p].clone()).collect(),
            values: self
                .values
                .iter()
                .map(|v| match v {
                    Values::Flag(x) => Values::Flag(keep.iter().map(|&p| x[p]).collect()),
                    Values::Number(x) => Values::Number(x.pick(keep)),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_each_texts_rows_in_row_order() {
        let texts = ["b", "a", "b", "c", "b", "a"];
        let g = Groups::new(texts.iter().copied());
        assert_eq!(g.get("b"), [0, 2, 4]);
        assert_eq!(g.get("a"), [1, 5]);
        assert_eq!(g.get("c"), [3]);
        assert_eq!(g.get("d"), [] as [usize; 0]);
        assert!(Groups::new(std::iter::empty()).get("").is_empty());
        // A row's group is the group of its text.
        assert_eq!(g.with(2), [0, 2, 4]);
        assert_eq!(g.with(5), [1, 5]);
        assert_eq!(g.with(3), [3]);
    }

    #[test]
    fn groups_come_in_the_order_of_their_texts() {
        // Numbered by first sight: b 0, a 1, c 2.
        let texts = ["b", "a", "b", "c", "b", "a"];
        let g = Groups::new(texts.iter().copied());
        assert_eq!(g.in_text_order(), [1, 0, 2]);
        // URNs sharing a long prefix, where byte order is not number order, and texts that
        // differ only past the 16 bytes after it: the order of `str`'s comparison.
        let urns = [
            "urn:x:9",
            "urn:x:10",
            "urn:x:1",
            "urn:x:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2",
            "urn:x:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
            "urn:x:10",
            "",
        ];
        let g = Groups::new(urns.iter().copied());
        let order: Vec<&str> = g
            .in_text_order()
            .into_iter()
            .map(|grp| urns[g.rows(grp)[0]])
            .collect();
        let mut sorted: Vec<&str> = urns.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(order, sorted);
    }
}
