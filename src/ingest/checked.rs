//! What the parallel check hands to the ordered decision: each document's outcome and, for a
//! run of documents, the batches of their footprints, built on the core that checked them.

use std::borrow::Cow;

use datafusion::arrow::array::{BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;

use super::json::Diag;
use super::sink::footprint_batches;
use crate::model::{BomEdge, BomInput, BomSource, GxAttributes};
use crate::table::{DocumentSpan, FootprintRecord, FootprintRows, GxRecord};
use crate::{Error, Result};

/// The outcome of checking one document; its index in the source is set afterwards. `R` is
/// the footprint: the whole record as checked ([`Document`]), then what the decision needs of
/// it ([`Kept`]).
pub(super) struct Checked<R> {
    pub(super) source: usize,
    pub(super) line: usize,
    pub(super) record: Option<R>,
    pub(super) errors: Vec<(usize, Diag)>,
    pub(super) warnings: Vec<(usize, Diag)>,
}

/// The outcome of checking one document inside a chunk whose bytes live for `'a`: its
/// footprint borrows its texts from them.
pub(super) type Document<'a> = Checked<Box<FootprintRecord<'a>>>;

impl<R> Checked<R> {
    pub(super) fn rejected(source: usize, line: usize, diag: Diag) -> Checked<R> {
        Checked {
            source,
            line,
            record: None,
            errors: vec![(line, diag)],
            warnings: Vec::new(),
        }
    }

    /// The same outcome, its record (if any) turned into `f`'s.
    fn try_map<S>(self, f: impl FnOnce(R) -> Result<S>) -> Result<Checked<S>> {
        Ok(Checked {
            source: self.source,
            line: self.line,
            record: self.record.map(f).transpose()?,
            errors: self.errors,
            warnings: self.warnings,
        })
    }
}

/// A footprint's id and version, as the key of a map of a whole ingest's footprints: the id
/// is a UUID (the checks accept no other, and write it lower-case), kept as its 128 bits —
/// 24 bytes a key and no allocation, where the id as a `String` took 80 in two places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct IdKey([u64; 2], Option<i32>);

impl IdKey {
    fn new(id: &str, version: Option<i32>) -> Result<IdKey> {
        let bits = super::json::uuid_bits(id).ok_or_else(|| {
            Error::Internal(format!(
                "footprint id {id:?} was accepted but is not a UUID"
            ))
        })?;
        Ok(IdKey([(bits >> 64) as u64, bits as u64], version))
    }

    /// A key of the given bits and version.
    #[cfg(test)]
    pub(super) fn from_parts(bits: [u64; 2], version: Option<i32>) -> IdKey {
        IdKey(bits, version)
    }
}

/// What the ordered decision needs of a checked footprint (duplicates, the products it
/// names, its BOM edges and GX attributes); the rest of it is in its group's batches.
pub(super) struct Kept {
    /// Its id and version as a key, read on the core that checked it.
    pub(super) key: IdKey,
    pub(super) id: String,
    pub(super) version: Option<i32>,
    pub(super) document: DocumentSpan,
    pub(super) product_ids: Vec<String>,
    pub(super) bom_inputs: Vec<BomInput>,
    pub(super) gx_attributes: Option<GxAttributes>,
    /// Its rows in the group's `footprint_extensions` batches.
    pub(super) extensions: usize,
}

impl Kept {
    /// What the decision needs of `record`, taken from it where it is (moved out of its box
    /// whole, a record of a couple of kilobytes was copied once more for a few fields).
    fn taken(record: &mut FootprintRecord) -> Result<Kept> {
        let f = &mut record.footprint;
        Ok(Kept {
            key: IdKey::new(&f.id, f.version)?,
            id: std::mem::take(&mut f.id).into_owned(),
            version: f.version,
            document: record.document,
            product_ids: std::mem::take(&mut f.product_ids)
                .into_iter()
                .map(Cow::into_owned)
                .collect(),
            bom_inputs: std::mem::take(&mut f.bom_inputs),
            gx_attributes: f.gx_attributes.take(),
            extensions: f.extensions.len(),
        })
    }

    /// The BOM edges its extension declares (taken: called once).
    pub(super) fn take_edges(&mut self) -> Vec<BomEdge> {
        // The product URN that is this footprint's key in BOM edges.
        let parent = self.product_ids.first().cloned().unwrap_or_default();
        let id = &self.id;
        std::mem::take(&mut self.bom_inputs)
            .into_iter()
            .map(|input| BomEdge {
                parent_product_id: parent.clone(),
                child_product_id: input.product_id,
                amount: input.amount,
                unit: input.unit,
                source: BomSource::Extension {
                    footprint_id: id.clone(),
                },
            })
            .collect()
    }

    /// The GX attributes its extension declares, as a row (taken: called once).
    pub(super) fn take_gx(&mut self) -> Option<GxRecord> {
        let attributes = self.gx_attributes.take()?;
        Some(GxRecord {
            attributes,
            source_kind: "extension",
            source: self.id.clone(),
            footprint_id: Some(self.id.clone()),
            line: None,
        })
    }
}

/// The footprints of a run of documents (a row each, in document order).
pub(super) enum Rows {
    /// As `footprints` and `footprint_extensions` batches.
    Batches {
        footprints: Vec<RecordBatch>,
        extensions: Vec<RecordBatch>,
    },
    /// As records, for tables kept in memory (and their tests, which read the typed model).
    Records(Vec<FootprintRecord<'static>>),
}

impl Rows {
    /// The rows whose entry in `keep` is true; `extensions` gives each footprint's
    /// `footprint_extensions` rows.
    pub(super) fn kept(self, keep: &[bool], extensions: &[usize]) -> Result<Rows> {
        Ok(match self {
            Rows::Records(records) if records.len() != keep.len() => {
                return Err(Error::Internal(format!(
                    "{} footprints checked, {} decided on",
                    records.len(),
                    keep.len()
                )));
            }
            Rows::Records(records) => Rows::Records(
                records
                    .into_iter()
                    .zip(keep)
                    .filter_map(|(r, &k)| k.then_some(r))
                    .collect(),
            ),
            Rows::Batches {
                footprints,
                extensions: ext,
            } => {
                let each: Vec<bool> = keep
                    .iter()
                    .zip(extensions)
                    .flat_map(|(&k, &n)| std::iter::repeat_n(k, n))
                    .collect();
                Rows::Batches {
                    footprints: kept_rows(footprints, keep)?,
                    extensions: kept_rows(ext, &each)?,
                }
            }
        })
    }

    /// The batches of these rows, numbered for ingest `seq` (records are built into them).
    pub(super) fn into_batches(self, seq: i64) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>)> {
        match self {
            Rows::Batches {
                footprints,
                extensions,
            } => Ok((footprints, extensions)),
            Rows::Records(r) => footprint_batches(r, seq),
        }
    }
}

/// A run of checked documents, in order, and the rows of the footprints among them.
pub(super) struct Group {
    pub(super) checked: Vec<Checked<Kept>>,
    pub(super) rows: Rows,
}

impl Group {
    /// A group of one document, rejected.
    pub(super) fn rejected(source: usize, line: usize, diag: Diag) -> Group {
        Group {
            checked: vec![Checked::rejected(source, line, diag)],
            rows: Rows::Records(Vec::new()),
        }
    }
}

/// A [`Group`] being built by the task that checks its documents, one document at a time.
///
/// A footprint goes into the group's batches as soon as it was checked, while its record (a
/// couple of kilobytes in some thirty allocations) is still in the core's cache, and the
/// record is freed right away: the next document's allocations reuse its memory. (Built
/// after the whole group was checked, the batches read each record back from memory once per
/// column, and the records' memory went cold before it was reused.)
pub(super) struct GroupBuilder<'a> {
    checked: Vec<Checked<Kept>>,
    /// Outcomes whose footprints wait to be appended to the batches, [`RUN`] at a time.
    waiting: Vec<Document<'a>>,
    rows: Destination,
}

/// Footprints appended to a group's batches together, a column at a time: enough that each
/// column's loop runs a while, few enough that their records stay in the core's cache.
const RUN: usize = 32;

/// Where a group's footprints go: into batches (some sixty column builders), or kept as
/// records.
enum Destination {
    Batches(Box<FootprintRows>),
    Records(Vec<FootprintRecord<'static>>),
}

impl<'a> GroupBuilder<'a> {
    /// A group of up to `n` documents, its footprints built into batches numbered for ingest
    /// `seq`, or kept as `records`.
    pub(super) fn new(n: usize, seq: i64, records: bool) -> GroupBuilder<'a> {
        GroupBuilder {
            checked: Vec::with_capacity(n),
            waiting: Vec::with_capacity(if records { 0 } else { RUN }),
            rows: match records {
                true => Destination::Records(Vec::new()),
                false => Destination::Batches(Box::new(FootprintRows::new(seq, n))),
            },
        }
    }

    /// Adds the next document's outcome.
    pub(super) fn push(&mut self, checked: Document<'a>) -> Result<()> {
        match &mut self.rows {
            Destination::Batches(_) => {
                self.waiting.push(checked);
                if self.waiting.len() == RUN {
                    self.append_waiting()?;
                }
            }
            // Tables kept in memory are small (the demo, tests): the record is kept whole
            // and what the decision needs copied from it.
            Destination::Records(rows) => {
                let kept = checked.try_map(|r| {
                    let kept = Kept::taken(&mut (*r).clone())?;
                    rows.push(r.into_owned());
                    Ok(kept)
                })?;
                self.checked.push(kept);
            }
        }
        Ok(())
    }

    /// Appends the footprints waiting to the batches, then takes what the decision needs
    /// of each (its id and products among it, which their columns read first).
    fn append_waiting(&mut self) -> Result<()> {
        if let Destination::Batches(rows) = &mut self.rows {
            let records: Vec<&FootprintRecord> = self
                .waiting
                .iter()
                .filter_map(|c| c.record.as_deref())
                .collect();
            rows.push_all(&records)?;
        }
        for c in self.waiting.drain(..) {
            self.checked.push(c.try_map(|mut r| Kept::taken(&mut r))?);
        }
        Ok(())
    }

    /// The group, its batches closed.
    pub(super) fn finish(mut self) -> Result<Group> {
        self.append_waiting()?;
        let rows = match self.rows {
            Destination::Batches(rows) => {
                let (footprints, extensions) = (*rows).finish()?;
                Rows::Batches {
                    footprints,
                    extensions,
                }
            }
            Destination::Records(records) => Rows::Records(records),
        };
        Ok(Group {
            checked: self.checked,
            rows,
        })
    }
}

/// The rows of `batches` whose entry in `keep` is true (`keep` has an entry per row, in
/// order); the batches themselves when every row is kept.
fn kept_rows(batches: Vec<RecordBatch>, keep: &[bool]) -> Result<Vec<RecordBatch>> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows != keep.len() {
        return Err(Error::Internal(format!(
            "{rows} rows checked, {} decided on",
            keep.len()
        )));
    }
    if keep.iter().all(|&k| k) {
        return Ok(batches);
    }
    let mut at = 0;
    let mut out = Vec::with_capacity(batches.len());
    for b in batches {
        let n = b.num_rows();
        let mask = BooleanArray::from(keep[at..at + n].to_vec());
        at += n;
        let b = filter_record_batch(&b, &mask)?;
        if b.num_rows() > 0 {
            out.push(b);
        }
    }
    Ok(out)
}
