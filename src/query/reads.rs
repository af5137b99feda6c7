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

/// What `sql` reads.
///
/// A statement that fails before it reads anything fails the same way over only what it
/// names, so it is told as reading only that: one that does not parse, is more than one
/// statement or names a table DataFusion cannot resolve (`a.b.c.d`) reads nothing, and a
/// name no session registers (a misspelt table) is left out.
/// At a million footprints, reading everything to say `table 'footprint' not found` took
/// seconds and gigabytes. A name such a session does not register but DataFusion has (a
/// built-in table function such as `generate_series`) reads no stored table either.
pub fn reads(sql: &str) -> Reads {
    let ctx = SessionContext::new();
    let state = ctx.state();
    let mut reads = Reads {
        tables: table::TableSet::NONE,
        graph: false,
        scores: false,
    };
    let Ok(statement) = state.sql_to_statement(sql, &Dialect::Generic) else {
        return reads;
    };
    let Ok(references) = state.resolve_table_references(&statement) else {
        return reads;
    };
    for r in references {
        // Every session registers its tables in the default catalog's default schema; a
        // name in any other is none of them.
        let default = match (r.catalog(), r.schema()) {
            (None, None) => true,
            (catalog, Some(schema)) => {
                schema == "public" && catalog.is_none_or(|c| c == "datafusion")
            }
            (Some(_), None) => false,
        };
        if !default {
            continue;
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
            // Not registered by any session: the statement fails on it (or a built-in
            // table function answers it) whatever else is read.
            name => {
                reads.tables.add(name);
            }
        }
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::super::{Session, TABLES};
    use super::*;

    #[test]
    fn reads_names_the_tables_a_statement_reads() {
        let r = reads(
            "WITH x AS (SELECT * FROM ingest_log) SELECT count(*) FROM x \
             JOIN footprints_latest f ON true WHERE EXISTS (SELECT 1 FROM gx_attributes)",
        );
        assert_eq!(
            r.tables,
            table::TableSet {
                footprints: true,
                ingest_log: true,
                gx_attributes: true,
                ..table::TableSet::NONE
            }
        );
        assert!(!r.graph);
        let r = reads("SELECT * FROM hotspot_items($product, 10, 0, '', '')");
        assert_eq!((r.tables, r.graph), (table::TableSet::NONE, true));
        let r = reads("SELECT * FROM hotspot_gaps($product) g JOIN pact_requests r ON true");
        let requests = table::TableSet {
            requests: true,
            ..table::TableSet::NONE
        };
        assert_eq!((r.tables, r.graph), (requests, true));
        // A CTE is not a table.
        let r = reads("WITH bom AS (SELECT 1 AS n) SELECT * FROM bom");
        assert_eq!(r.tables, table::TableSet::NONE);
        // A name no session has fails whatever else is read: only the rest is read.
        let r = reads("SELECT * FROM footprint JOIN ingest_log ON true");
        let log = table::TableSet {
            ingest_log: true,
            ..table::TableSet::NONE
        };
        assert_eq!((r.tables, r.graph, r.scores), (log, false, false));
        let nothing = Reads {
            tables: table::TableSet::NONE,
            graph: false,
            scores: false,
        };
        // A built-in table function reads no stored table.
        assert_eq!(reads("SELECT * FROM generate_series(1, 3)"), nothing);
        // The default schema named is the same table; another schema holds none.
        let r = reads("SELECT * FROM public.ingest_log, datafusion.public.ingest_log");
        assert_eq!(r.tables, log);
        assert_eq!(reads("SELECT * FROM other.footprints"), nothing);
        assert_eq!(reads("SELECT * FROM other.public.footprints"), nothing);
        // What does not parse, is two statements or names what cannot be resolved fails
        // before it reads.
        assert_eq!(reads("SELEC"), nothing);
        assert_eq!(reads("SELECT * FROM a.b.c.d JOIN bom ON true"), nothing);
        assert_eq!(reads("SELECT 1 FROM bom; SELECT 2 FROM bom"), nothing);
        let r = reads("SELECT * FROM gx_scores()");
        let scored = table::TableSet {
            footprints: true,
            gx_attributes: true,
            ..table::TableSet::NONE
        };
        assert_eq!((r.tables, r.graph, r.scores), (scored, false, true));
        let r = reads("SELECT * FROM whatif_summary('x')");
        assert_eq!((r.tables, r.graph, r.scores), (scored, true, true));
    }

    /// [`reads`] leaves out the names no session registers: every table, view and table
    /// function a session over the demo registers (beyond DataFusion's own) is one it knows.
    #[tokio::test]
    async fn reads_knows_every_name_a_session_registers() {
        let session = Session::new(&crate::dataset::demo().expect("demo"))
            .await
            .expect("session");
        let schema = session
            .ctx
            .catalog("datafusion")
            .and_then(|c| c.schema("public"))
            .expect("the default schema");
        let names = schema.table_names();
        // The tables and the views over them.
        assert!(names.len() > TABLES.len(), "{names:?}");
        for name in names {
            let r = reads(&format!("SELECT * FROM {name}"));
            assert_ne!(r.tables, table::TableSet::NONE, "{name}");
        }
        let builtin = SessionContext::new().state().table_functions().clone();
        let state = session.ctx.state();
        let own: Vec<&String> = state
            .table_functions()
            .keys()
            .filter(|n| !builtin.contains_key(*n))
            .collect();
        assert!(own.iter().any(|n| *n == "hotspot_items"), "{own:?}");
        for name in own {
            let r = reads(&format!("SELECT * FROM {name}()"));
            assert!(r.graph || r.scores, "{name}");
        }
    }
}
