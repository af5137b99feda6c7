//! The `nodes` table of the graph index: most of its columns are `footprints` columns as
//! they are, copied whole a column at a time (on a thread of their own when the store builds
//! an index); the graph gives the rest.

use std::sync::Arc;

use datafusion::arrow::array::builder::NullBufferBuilder;
use datafusion::arrow::array::{Array, ArrayRef, LargeStringArray, RecordBatch};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};

use super::{GraphIndex, NODE_COLUMNS, TABLES, downcast, large, nodes_schema, stored_schema};
use crate::Result;

impl GraphIndex {
    /// The `nodes` column copied from the `footprints` column `from` (one of
    /// [`copied_node_columns`]), from its pieces in stored order: a batch of that one column,
    /// named as `nodes` names it.
    pub fn node_column(from: &str, pieces: Vec<ArrayRef>) -> Result<RecordBatch> {
        let field = nodes_schema().field_with_name(from_to(from))?.clone();
        let column = whole(pieces, from)?;
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(vec![field])),
            vec![column],
        )?)
    }

    /// The schema of table `name`, one of [`TABLES`].
    pub fn table_schema(name: &str) -> Result<SchemaRef> {
        let at = TABLES.iter().position(|t| *t == name);
        at.and_then(|at| GraphIndex::schemas().get(at).cloned())
            .ok_or_else(|| crate::Error::Internal(format!("graph index: no table {name}")))
    }

    /// Table `name` (one of [`TABLES`]) from its columns, `column(name)` giving each by
    /// name: as built (`stored` false) or as stored, text as bytes (see
    /// [`GraphIndex::stored`]).
    pub fn assemble(
        name: &str,
        stored: bool,
        mut column: impl FnMut(&str) -> Result<ArrayRef>,
    ) -> Result<RecordBatch> {
        let schema = GraphIndex::table_schema(name)?;
        let schema = match stored {
            true => stored_schema(&schema),
            false => schema,
        };
        let columns = schema
            .fields()
            .iter()
            .map(|f| column(f.name()))
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(schema, columns)?)
    }
}

/// The `nodes` columns [`GraphIndex::build_in_steps`] gives (`is_latest` from the view, and
/// where each node's edges start); the others are copied from `footprints`.
pub const GRAPH_NODE_COLUMNS: [&str; 2] = ["is_latest", "edges_from"];

/// The `footprints` columns copied into `nodes` as they are, with their `nodes` names.
pub fn copied_node_columns() -> impl Iterator<Item = (&'static str, &'static str)> {
    NODE_COLUMNS
        .into_iter()
        .filter(|(_, to)| !GRAPH_NODE_COLUMNS.contains(to))
}

/// A `footprints` column whole, from its pieces, text widened to `LargeUtf8` so that no
/// store size can pass Arrow's offsets.
pub(super) fn whole(pieces: Vec<ArrayRef>, from: &str) -> Result<ArrayRef> {
    // Widening text copies only its offsets; the bytes are shared.
    let pieces = pieces
        .into_iter()
        .map(|c| Ok(cast(&c, &large(c.data_type()))?))
        .collect::<Result<Vec<ArrayRef>>>()?;
    let Some(first) = pieces.first() else {
        return Ok(datafusion::arrow::array::new_empty_array(
            nodes_schema().field_with_name(from_to(from))?.data_type(),
        ));
    };
    if first.data_type() == &DataType::LargeUtf8 {
        return join_text(pieces);
    }
    let refs: Vec<&dyn Array> = pieces.iter().map(|a| a.as_ref()).collect();
    Ok(match refs.as_slice() {
        [_] => pieces[0].clone(),
        _ => datafusion::arrow::compute::concat(&refs)?,
    })
}

/// Text pieces as one array. Text is the bulk of the index: each piece is dropped once
/// copied, so a column is never held twice (as joining them all at once would).
fn join_text(pieces: Vec<ArrayRef>) -> Result<ArrayRef> {
    let (mut rows, mut bytes) = (0, 0);
    for p in &pieces {
        let text = downcast::<LargeStringArray>(p)?;
        rows += text.len();
        bytes += text.value_data().len();
    }
    let mut offsets: Vec<i64> = Vec::with_capacity(rows + 1);
    offsets.push(0);
    let mut values: Vec<u8> = Vec::with_capacity(bytes);
    let mut nulls = NullBufferBuilder::new(rows);
    for piece in pieces {
        let text = downcast::<LargeStringArray>(&piece)?;
        let own = text.value_offsets();
        let first = own.first().copied().unwrap_or(0);
        let last = own.last().copied().unwrap_or(0);
        let base = values.len() as i64 - first;
        // Arrow checked the offsets: they lie within the bytes, in order.
        let range = first as usize..last as usize;
        values.extend_from_slice(text.value_data().get(range).unwrap_or_default());
        offsets.extend(own.iter().skip(1).map(|o| base + o));
        match text.nulls() {
            Some(n) => nulls.append_buffer(n),
            None => nulls.append_n_non_nulls(text.len()),
        }
    }
    Ok(Arc::new(LargeStringArray::try_new(
        OffsetBuffer::new(offsets.into()),
        values.into(),
        nulls.finish(),
    )?))
}

/// The `nodes` name of a `footprints` column.
fn from_to(from: &str) -> &'static str {
    NODE_COLUMNS
        .iter()
        .find(|(f, _)| *f == from)
        .map_or("id", |(_, to)| to)
}
