//! The `nodes` table of the graph index: most of its columns are `footprints` columns as
//! they are, copied whole a column at a time (on a thread of their own when the store builds
//! an index); the graph gives the rest.

use std::sync::Arc;

use datafusion::arrow::array::builder::NullBufferBuilder;
use datafusion::arrow::array::{
    Array, ArrayRef, GenericStringArray, LargeStringArray, OffsetSizeTrait, RecordBatch,
    StringArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};

use super::{GraphIndex, NODE_COLUMNS, TABLES, downcast, nodes_schema, stored_schema};
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
    let Some(first) = pieces.first() else {
        return Ok(datafusion::arrow::array::new_empty_array(
            nodes_schema().field_with_name(from_to(from))?.data_type(),
        ));
    };
    if matches!(first.data_type(), DataType::Utf8 | DataType::LargeUtf8) {
        return join_text(pieces);
    }
    let refs: Vec<&dyn Array> = pieces.iter().map(|a| a.as_ref()).collect();
    Ok(match refs.as_slice() {
        [_] => pieces[0].clone(),
        _ => datafusion::arrow::compute::concat(&refs)?,
    })
}

/// Text pieces (`Utf8` as stored, or `LargeUtf8`) as one `LargeUtf8` array, widened as they
/// are copied (cast first, each piece's offsets were written twice: a tenth of the index's
/// new memory at 1M footprints). Text is the bulk of the index: each piece is dropped once
/// copied, so a column is never held twice (as joining them all at once would).
fn join_text(pieces: Vec<ArrayRef>) -> Result<ArrayRef> {
    let rows = pieces.iter().map(|p| p.len()).sum();
    let mut bytes = 0;
    for p in &pieces {
        bytes += match Piece::of(p)? {
            Piece::Small(t) => span(t),
            Piece::Large(t) => span(t),
        };
    }
    let mut joined = Joined {
        offsets: Vec::with_capacity(rows + 1),
        values: Vec::with_capacity(bytes),
        nulls: NullBufferBuilder::new(rows),
    };
    joined.offsets.push(0);
    for piece in pieces {
        match Piece::of(&piece)? {
            Piece::Small(t) => joined.append(t),
            Piece::Large(t) => joined.append(t),
        }
    }
    Ok(Arc::new(LargeStringArray::try_new(
        OffsetBuffer::new(joined.offsets.into()),
        joined.values.into(),
        joined.nulls.finish(),
    )?))
}

/// A text piece of either offset width.
enum Piece<'a> {
    Small(&'a StringArray),
    Large(&'a LargeStringArray),
}

impl<'a> Piece<'a> {
    fn of(p: &'a ArrayRef) -> Result<Piece<'a>> {
        match p.as_any().downcast_ref::<StringArray>() {
            Some(t) => Ok(Piece::Small(t)),
            None => Ok(Piece::Large(downcast::<LargeStringArray>(p)?)),
        }
    }
}

/// The bytes the offsets of `t` span.
fn span<O: OffsetSizeTrait>(t: &GenericStringArray<O>) -> usize {
    let o = t.value_offsets();
    o[o.len() - 1].as_usize() - o[0].as_usize()
}

/// Text pieces being joined into one `LargeUtf8` array.
struct Joined {
    offsets: Vec<i64>,
    values: Vec<u8>,
    nulls: NullBufferBuilder,
}

impl Joined {
    fn append<O: OffsetSizeTrait>(&mut self, t: &GenericStringArray<O>) {
        let (bytes, ends) = text_from(t, self.values.len() as i64);
        self.values.extend_from_slice(bytes);
        self.offsets.extend(ends);
        match t.nulls() {
            Some(n) => self.nulls.append_buffer(n),
            None => self.nulls.append_n_non_nulls(t.len()),
        }
    }
}

/// The bytes of `t`'s values (only the rows', if it is a slice), and where each value ends
/// once those bytes are appended to text that is `start` bytes long: pieces of text joined
/// into one column.
pub(crate) fn text_from<O: OffsetSizeTrait>(
    t: &GenericStringArray<O>,
    start: i64,
) -> (&[u8], impl Iterator<Item = i64> + '_) {
    let own = t.value_offsets();
    // Arrow checked the offsets: they lie within the bytes, in order.
    let (first, last) = (own[0].as_usize(), own[own.len() - 1].as_usize());
    let base = start - first as i64;
    let bytes = t.value_data().get(first..last).unwrap_or_default();
    (
        bytes,
        own[1..].iter().map(move |o| base + o.as_usize() as i64),
    )
}

/// The `nodes` name of a `footprints` column.
fn from_to(from: &str) -> &'static str {
    NODE_COLUMNS
        .iter()
        .find(|(f, _)| *f == from)
        .map_or("id", |(_, to)| to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_pieces_of_either_width_join_into_one_large_array() {
        // A sliced piece (its offsets start past 0), a piece with nulls, a `LargeUtf8` piece
        // and an empty one: joined, the same values in the same order.
        let sliced = StringArray::from(vec!["skipped", "a", "", "bc"]).slice(1, 3);
        let nulled = StringArray::from(vec![Some("d"), None, Some("éf")]);
        let large = LargeStringArray::from(vec![Some("g"), None]);
        let empty = StringArray::from(Vec::<&str>::new());
        let pieces: Vec<ArrayRef> = vec![
            Arc::new(sliced),
            Arc::new(nulled),
            Arc::new(large),
            Arc::new(empty),
        ];
        let joined = whole(pieces, "id").expect("joined");
        let joined = joined
            .as_any()
            .downcast_ref::<LargeStringArray>()
            .expect("LargeUtf8");
        let got: Vec<Option<&str>> = joined.iter().collect();
        let want = [
            Some("a"),
            Some(""),
            Some("bc"),
            Some("d"),
            None,
            Some("éf"),
            Some("g"),
            None,
        ];
        assert_eq!(got, want);
        // The bytes are only the rows' own ("skipped" is not copied).
        assert_eq!(joined.value_data(), "abcdéfg".as_bytes());
    }
}
