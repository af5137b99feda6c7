//! The score and ranking views as the CLI and the API show them: a session's scored products
//! (optionally of one category) and the catalog's supplier ranking.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::query::{Catalog, Output, Session};
use crate::score;
use crate::{Error, Result};

/// The products of `session` (optionally those whose CPC code starts with `category`) and
/// their scores under the session's profile.
pub fn scored(session: &Session, category: Option<&str>) -> Result<(score::Inputs, score::Scores)> {
    let all = session.scores()?;
    Ok(match category.filter(|c| !c.is_empty()) {
        Some(c) => {
            let inputs = all.0.clone().filter_category(c);
            let scores = score::score(session.profile(), &inputs);
            (inputs, scores)
        }
        None => (all.0.clone(), all.1.clone()),
    })
}

/// The supplier ranking (`ranking/suppliers`) within `category`, by `by` (`score`,
/// `intensity`, `reduction` or `pds`), with a buyer `product`'s contributions when given.
pub async fn rank(
    session: &Session,
    category: Option<&str>,
    by: &str,
    product: Option<&str>,
) -> Result<Output> {
    if !["score", "intensity", "reduction", "pds"].contains(&by) {
        return Err(Error::Usage(format!(
            "rank by {by:?}: expected score, intensity, reduction or pds"
        )));
    }
    let catalog = Catalog::embedded()?;
    let args = vec![
        (
            "category".to_owned(),
            category.unwrap_or_default().to_owned(),
        ),
        ("by".to_owned(), by.to_owned()),
        ("product".to_owned(), product.unwrap_or_default().to_owned()),
    ];
    session.run(catalog.get("ranking/suppliers")?, &args).await
}

/// Samples times products one ranking's Monte Carlo may take (about a second's work).
const MAX_DRAWS: usize = 200_000_000;

/// How sure an intensity ranking is: `rows` (the `ranking/suppliers` output by intensity)
/// with `ahead_of_next_pct`, the probability in percent that the supplier's CFP intensity
/// is below that of the next one in its category (a tie counts half). In each of `samples` samples every
/// product's CFP varies by a lognormal factor with mean 1 and the spread its footprint's
/// data quality gives (`spreads`), and intensities are recomputed as the query computes
/// them: each product's CFP over the median of its category and unit, averaged per
/// supplier. The last supplier of a category has none.
pub fn ahead_of_next(
    session: &Session,
    rows: Output,
    spreads: &crate::hotspot::Spreads,
    samples: usize,
    seed: u64,
) -> Result<Output> {
    if samples == 0 {
        return Err(Error::Usage("--uncertainty: at least 1 sample".into()));
    }
    let text = |name: &str| -> Result<Vec<Option<String>>> {
        let i = rows.schema.index_of(name)?;
        Ok((rows.batches.iter())
            .flat_map(|b| {
                let c = b.column(i).clone();
                (0..b.num_rows()).map(move |r| (!c.is_null(r)).then(|| crate::output::text(&c, r)))
            })
            .collect())
    };
    let (cpcs, companies) = (text("cpc")?, text("company_id")?);
    // Suppliers: (cpc, company id) → row.
    let supplier: HashMap<(Option<&str>, &str), usize> = (cpcs.iter().zip(&companies))
        .enumerate()
        .filter_map(|(r, (cpc, c))| Some(((cpc.as_deref(), c.as_deref()?), r)))
        .collect();
    let all = session.scores()?;
    let inputs = &all.0;
    let graph = session.graph()?;
    let cfp = inputs.values(score::Key::Cfp);
    // The products ranked: (supplier row, median group, CFP, σ).
    let mut groups: HashMap<(Option<&str>, Option<&str>), usize> = HashMap::new();
    let mut products: Vec<(usize, usize, f64, f64)> = Vec::new();
    for p in 0..inputs.product_id.len() {
        let cpc = inputs.cpc.get(p);
        let Some(&row) = supplier.get(&(cpc, inputs.company_id[p].as_str())) else {
            continue;
        };
        let value = match cfp {
            score::Values::Number(n) => n.get(p).and_then(|d| {
                use rust_decimal::prelude::ToPrimitive;
                d.to_f64()
            }),
            score::Values::Flag(_) => None,
        };
        let Some(value) = value else { continue };
        let next = groups.len();
        let group = *groups
            .entry((cpc, inputs.declared_unit[p].as_deref()))
            .or_insert(next);
        let sigma = match graph.node_by_id(&inputs.footprint_id[p]) {
            Some(n) => {
                let f = graph.facts_of(n);
                spreads
                    .own_variance(f.weighted, f.organization_based)
                    .sqrt()
            }
            None => spreads.unresolved.sqrt(),
        };
        products.push((row, group, value, sigma));
    }
    if samples.saturating_mul(products.len()) > MAX_DRAWS {
        return Err(Error::Usage(format!(
            "{samples} samples of {} products are too many draws: narrow the category or take fewer samples",
            products.len()
        )));
    }
    let n_rows = cpcs.len();
    let n_groups = groups.len();
    // Per row: samples in which it is ahead of the next row of its category.
    let next_of: Vec<Option<usize>> = (0..n_rows)
        .map(|r| (r + 1 < n_rows && cpcs[r + 1] == cpcs[r]).then_some(r + 1))
        .collect();
    let counts: Vec<Vec<u64>> = crate::hotspot::in_blocks(samples, seed, |rng, n| {
        let mut ahead = vec![0u64; n_rows];
        let mut drawn = vec![0.0; products.len()];
        let mut by_group: Vec<Vec<f64>> = vec![Vec::new(); n_groups];
        for _ in 0..n {
            for g in &mut by_group {
                g.clear();
            }
            for (i, &(_, g, v, sigma)) in products.iter().enumerate() {
                drawn[i] = v * crate::hotspot::factor(rng, sigma);
                by_group[g].push(drawn[i]);
            }
            let medians: Vec<f64> = by_group.iter_mut().map(|g| median(g)).collect();
            let mut sum = vec![0.0; n_rows];
            let mut count = vec![0u32; n_rows];
            for (i, &(row, g, _, _)) in products.iter().enumerate() {
                if medians[g] != 0.0 {
                    sum[row] += drawn[i] / medians[g];
                    count[row] += 1;
                }
            }
            let intensity = |r: usize| (count[r] > 0).then(|| sum[r] / f64::from(count[r]));
            // In halves: a tie (two suppliers that are each their category's median, say)
            // is a coin toss, not a loss.
            for r in 0..n_rows {
                if let (Some(next), Some(mine)) = (next_of[r], intensity(r)) {
                    ahead[r] += match intensity(next) {
                        Some(theirs) if mine == theirs => 1,
                        Some(theirs) if mine > theirs => 0,
                        _ => 2,
                    };
                }
            }
        }
        ahead
    });
    let total: Vec<u64> = (0..n_rows)
        .map(|r| counts.iter().map(|c| c[r]).sum())
        .collect();
    let column: Vec<Option<f64>> = (0..n_rows)
        .map(|r| next_of[r].map(|_| total[r] as f64 / (2 * samples) as f64 * 100.0))
        .collect();
    let mut fields: Vec<Field> = rows
        .schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("ahead_of_next_pct", DataType::Float64, true));
    let schema = Arc::new(Schema::new(fields));
    let mut batches = Vec::new();
    let mut at = 0;
    for b in &rows.batches {
        let mut columns: Vec<ArrayRef> = b.columns().to_vec();
        columns.push(Arc::new(Float64Array::from(
            column[at..at + b.num_rows()].to_vec(),
        )));
        at += b.num_rows();
        batches.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    Ok(Output { schema, batches })
}

/// The median as SQL's `median` gives it: the middle value, or the mean of the two middle
/// ones. Reorders `v`.
fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    let (_, hi, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let hi = *hi;
    if n % 2 == 1 {
        return hi;
    }
    let lo = v[..n / 2].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    (lo + hi) / 2.0
}
