//! SQL edge cases as sqllogictest files (`tests/slt/*.slt`), each run against a session over
//! the bundled demo, as `mieruka query "…"` would run it. A file says in comments where its
//! expected values come from.

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use mieruka::query::Session;
use sqllogictest::{DBOutput, DefaultColumnType};

/// A read-only session over the demo: ad-hoc SQL as the CLI and the API run it.
struct Demo {
    runtime: tokio::runtime::Runtime,
    session: Session,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SqlError(String);

impl sqllogictest::DB for Demo {
    type Error = SqlError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SqlError> {
        let out = self
            .runtime
            .block_on(self.session.sql(sql))
            .map_err(|e| SqlError(e.to_string()))?;
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for batch in &out.batches {
            let columns = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SqlError(e.to_string()))?;
            for row in 0..batch.num_rows() {
                rows.push(
                    columns
                        .iter()
                        .map(|c| match c.value(row).to_string() {
                            // sqllogictest's spelling of the empty string.
                            s if s.is_empty() => "(empty)".to_owned(),
                            s => s,
                        })
                        .collect(),
                );
            }
        }
        Ok(DBOutput::Rows {
            types: vec![DefaultColumnType::Any; out.schema.fields().len()],
            rows,
        })
    }
}

#[test]
fn sql_edge_cases_hold_on_the_demo() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/slt")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    let mut failed = Vec::new();
    for file in &files {
        let mut runner = sqllogictest::Runner::new(|| async {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| SqlError(e.to_string()))?;
            let tables = mieruka::dataset::demo().map_err(|e| SqlError(e.to_string()))?;
            let session = runtime
                .block_on(Session::new(&tables))
                .map_err(|e| SqlError(e.to_string()))?;
            Ok(Demo { runtime, session })
        });
        if let Err(e) = runner.run_file(file) {
            failed.push(format!("{}: {e}", file.display()));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
