//! A supplier's scope: the rows of the tables that a token bound to some companies may see.

use std::collections::HashSet;

use datafusion::arrow::array::{Array, BooleanArray, ListArray, RecordBatch, StringArray};

use super::{Tables, column};
use crate::Result;

impl Tables {
    /// The rows a supplier bound to `companies` may see: its own footprints (any of their
    /// `companyIds` in `companies`), their extensions, the BOM edges and GX attributes of
    /// their products, and the log rows about them.
    pub fn restrict_to_companies(&self, companies: &[String]) -> Result<Tables> {
        use datafusion::arrow::compute::filter_record_batch;

        let allowed: HashSet<&str> = companies.iter().map(String::as_str).collect();
        let mut ids: HashSet<String> = HashSet::new();
        let mut products: HashSet<String> = HashSet::new();
        let mut footprints = Vec::new();
        for b in &self.footprints {
            let company_ids = column::<ListArray>(b, "company_ids")?;
            let product_ids = column::<ListArray>(b, "product_ids")?;
            let id = column::<StringArray>(b, "id")?;
            let keep = BooleanArray::from_iter((0..b.num_rows()).map(|i| {
                let list = company_ids.value(i);
                let owned = list
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .is_some_and(|s| s.iter().flatten().any(|c| allowed.contains(c)));
                if owned {
                    ids.insert(id.value(i).to_owned());
                    if let Some(p) = product_ids.value(i).as_any().downcast_ref::<StringArray>() {
                        products.extend(p.iter().flatten().map(str::to_owned));
                    }
                }
                Some(owned)
            }));
            footprints.push(filter_record_batch(b, &keep)?);
        }
        let by = |batches: &[RecordBatch],
                  keep: &dyn Fn(&RecordBatch, usize) -> Result<bool>|
         -> Result<Vec<RecordBatch>> {
            batches
                .iter()
                .map(|b| {
                    let mask = (0..b.num_rows())
                        .map(|i| keep(b, i).map(Some))
                        .collect::<Result<BooleanArray>>()?;
                    Ok(filter_record_batch(b, &mask)?)
                })
                .collect()
        };
        let text = |b: &RecordBatch, name: &str, i: usize| -> Result<Option<String>> {
            let c = column::<StringArray>(b, name)?;
            Ok((!c.is_null(i)).then(|| c.value(i).to_owned()))
        };
        Ok(Tables {
            footprints,
            footprint_extensions: by(&self.footprint_extensions, &|b, i| {
                Ok(text(b, "footprint_id", i)?.is_some_and(|f| ids.contains(&f)))
            })?,
            bom: by(&self.bom, &|b, i| {
                let by_footprint =
                    text(b, "parent_footprint_id", i)?.is_some_and(|f| ids.contains(&f));
                let by_product =
                    text(b, "parent_product_id", i)?.is_some_and(|p| products.contains(&p));
                Ok(by_footprint || by_product)
            })?,
            ingest_log: by(&self.ingest_log, &|b, i| {
                Ok(text(b, "footprint_id", i)?.is_some_and(|f| ids.contains(&f)))
            })?,
            gx_attributes: by(&self.gx_attributes, &|b, i| {
                Ok(text(b, "product_id", i)?.is_some_and(|p| products.contains(&p)))
            })?,
            // The requests are the data directory owner's own business, not a supplier's.
            requests: Vec::new(),
            originals: self.originals.clone(),
            // Some rows only: never a segment whole.
            segments: Default::default(),
        })
    }
}
