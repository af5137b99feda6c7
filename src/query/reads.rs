//! What a statement reads, told from its SQL before it runs: a process opens only those
//! tables (and the graph index only for the hotspot functions).

use datafusion::common::config::Dialect;
use datafusion::execution::context::SessionContext;

use crate::{hotspot, table};

/// What a statement reads: the stored tables it names and whether it calls the hotspot
/// functions (which walk the graph index, not the tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reads {
    /// Tables and views named.
    pub tables: table::TableSet,
    /// A function that walks the graph is called (`hotspot_items`, `hotspot_findings`,
    /// `hotspot_quality`, `hotspot_gaps`, `hotspot_uncertainty`, the batch functions).
    pub graph: bool,
    /// `gx_scores()` or a what-if function is called: they score from `footprints` (the
    /// columns [`Inputs::FOOTPRINT_COLUMNS`](crate::score::Inputs::FOOTPRINT_COLUMNS) names)
    /// and `gx_attributes`, which [`Reads::tables`] then includes.
    pub scores: bool,
}

impl Reads {
    /// What scoring reads: `gx_scores()`'s [`Reads`].
    pub const SCORING: Reads = Reads {
        tables: table::TableSet {
            footprints: true,
            gx_attributes: true,
            ..table::TableSet::NONE
        },
        graph: false,
        scores: true,
    };
}

/// What `sql` reads, or `None` when that cannot be told for certain (it does not parse, is
/// more than one statement, or names something unknown); a caller then reads everything.
pub fn reads(sql: &str) -> Option<Reads> {
    let ctx = SessionContext::new();
    let state = ctx.state();
    let statement = state.sql_to_statement(sql, &Dialect::Generic).ok()?;
    let mut reads = Reads {
        tables: table::TableSet::NONE,
        graph: false,
        scores: false,
    };
    for r in state.resolve_table_references(&statement).ok()? {
        if r.schema().is_some() {
            return None;
        }
        match r.table() {
            "hotspot_items"
            | "hotspot_findings"
            | "hotspot_quality"
            | "hotspot_gaps"
            | "hotspot_uncertainty" => reads.graph = true,
            name if hotspot::batch::BatchOutput::ALL
                .iter()
                .any(|o| o.function() == name) =>
            {
                reads.graph = true
            }
            // A what-if scenario's change is also decomposed on the graph.
            name @ ("gx_scores" | "whatif_rows" | "whatif_summary" | "whatif_changes") => {
                reads.tables = reads.tables.union(Reads::SCORING.tables);
                reads.scores = true;
                reads.graph |= name != "gx_scores";
            }
            name => {
                if !reads.tables.add(name) {
                    return None;
                }
            }
        }
    }
    Some(reads)
}
