//! The query catalog on the demo dataset.

use mieruka::output;
use mieruka::query::{Catalog, Session};

async fn demo_session() -> Session {
    let tables = mieruka::dataset::demo().expect("demo");
    Session::new(&tables).await.expect("session")
}

/// Arguments for a catalog query on the demo: a query that needs a product gets the demo PC.
fn demo_args(q: &mieruka::query::QueryDef) -> Vec<(String, String)> {
    q.params
        .iter()
        .filter(|p| p.name == "product")
        .map(|_| {
            let pc = "urn:mieruka-demo:product:kaede-note-14";
            ("product".to_owned(), pc.to_owned())
        })
        .collect()
}

#[test]
fn every_catalog_query_loads() {
    let catalog = Catalog::embedded().expect("catalog");
    let ids: Vec<&str> = catalog.iter().map(|q| q.id.as_str()).collect();
    for id in [
        "footprints/list",
        "footprints/summary",
        "footprints/by_company",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
}

#[tokio::test]
async fn every_catalog_query_runs_on_the_demo() {
    let session = demo_session().await;
    let catalog = Catalog::embedded().expect("catalog");
    for q in catalog.iter() {
        let args = demo_args(q);
        let out = session
            .run(q, &args)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", q.id));
        if q.id == "requests/by_supplier" {
            // It reads only pact_requests, and the demo sent no requests (the end-to-end
            // request test in pact_pull.rs has rows).
            assert_eq!(out.num_rows(), 0, "{}", q.id);
            continue;
        }
        assert!(out.num_rows() > 0, "{} returned no rows", q.id);
    }
}

/// Every catalog query has a golden result on the demo: the hotspot queries in hotspot.rs
/// (`every_hotspot_query_answers_on_the_demo`), the ranking in score.rs, and the rest here,
/// each as the JSON rows `mieruka query ID --format json` prints. A new query fails here
/// until its result is looked at and kept (`INSTA_UPDATE=always`, then review the file).
#[tokio::test]
async fn every_catalog_query_has_a_golden_result() {
    let session = demo_session().await;
    let catalog = Catalog::embedded().expect("catalog");
    let snapshots =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/snapshots");
    for q in catalog.iter() {
        let elsewhere = if q.id.starts_with("hotspot/") {
            Some(format!(
                "integration__hotspot__{}.snap",
                q.id.replace('/', "__")
            ))
        } else if q.id == "ranking/suppliers" {
            Some("integration__score__ranking_suppliers.snap".to_owned())
        } else {
            None
        };
        if let Some(file) = elsewhere {
            assert!(
                snapshots.join(&file).exists(),
                "{}: no golden result {file}",
                q.id
            );
            continue;
        }
        let out = session
            .run(q, &demo_args(q))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", q.id));
        let mut rows = output::rows_json(&out.batches);
        // The demo is ingested as the test starts: its time is the one value that changes.
        for row in &mut rows {
            if let Some(at) = row.get_mut("ingested_at") {
                *at = serde_json::json!("[ingest time]");
            }
        }
        insta::assert_json_snapshot!(format!("catalog__{}", q.id.replace('/', "__")), rows);
    }
}

#[tokio::test]
async fn summary_counts_the_demo() {
    let session = demo_session().await;
    let catalog = Catalog::embedded().expect("catalog");
    let out = session
        .run(catalog.get("footprints/summary").expect("q"), &[])
        .await
        .expect("run");
    let rows = output::rows_json(&out.batches);
    let r = &rows[0];
    // From datasets/pc-supply-chain/build.py: 24 products (one company each); 23 have FY2023
    // data (not the LED backlight) and 23 FY2024 data (not the cathode): 46, plus the resin
    // maker's superseded version 1 and the mainboard maker's superseded draft: 48 versions,
    // 46 latest. Seven products are PACT v3 (PC, display, mainboard, SSD, battery, adapter,
    // SoC) × 2 years = 14 latest v3, 32 v2. Without GxD: the SoC (2) and the cathode (1);
    // with GxD but no Gate-to-Gate: the backlight (1). Organization-based: keyboard and
    // aluminium sheet × 2 years. BOM: 34 CSV rows + 7 inputs in each of the PC's 2 footprints.
    let expected = serde_json::json!({
        "footprint_versions": 48, "latest_footprints": 46, "companies": 24, "products": 24,
        "pact_v2": 32, "pact_v3": 14, "with_gxd": 43, "with_g2g": 42, "organization_based": 4,
        "bom_edges": 48, "first_period_start": "2023-04-01", "last_period_end": "2025-04-01"
    });
    assert_eq!(r, &expected);
}

#[tokio::test]
async fn parameters_filter_and_errors_name_the_parameter() {
    let session = demo_session().await;
    let catalog = Catalog::embedded().expect("catalog");
    let q = catalog.get("footprints/by_company").expect("q");
    let out = session
        .run(q, &[("company".into(), "Hanbit".into())])
        .await
        .expect("run");
    let names: Vec<String> = output::rows_json(&out.batches)
        .iter()
        .map(|r| r["company_name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        names,
        ["Hanbit Memory Co., Ltd.", "Hanbit Storage Co., Ltd."]
    );
    let e = session
        .run(q, &[("colour".into(), "red".into())])
        .await
        .expect_err("unknown")
        .to_string();
    assert!(e.contains("unknown parameter $colour"), "{e}");
    let list = catalog.get("footprints/list").expect("q");
    let e = session
        .run(list, &[("all_versions".into(), "perhaps".into())])
        .await
        .expect_err("bad bool")
        .to_string();
    assert!(
        e.contains("$all_versions") && e.contains("true or false"),
        "{e}"
    );
    let all = session
        .run(list, &[("all_versions".into(), "true".into())])
        .await
        .expect("run");
    assert_eq!(all.num_rows(), 48);
}

#[tokio::test]
async fn adhoc_sql_is_read_only() {
    let session = demo_session().await;
    let out = session
        .sql("SELECT count(*) AS n FROM bom WHERE source_kind = 'extension'")
        .await
        .expect("select");
    assert_eq!(output::rows_json(&out.batches)[0]["n"], 14);
    for stmt in [
        "CREATE TABLE t AS SELECT 1",
        "DROP TABLE footprints",
        "INSERT INTO bom SELECT * FROM bom",
        "SET datafusion.execution.batch_size = 1",
    ] {
        assert!(session.sql(stmt).await.is_err(), "{stmt} must be refused");
    }
}

#[tokio::test]
async fn decimals_stay_exact_in_json() {
    let session = demo_session().await;
    let out = session
        .sql("SELECT pcf_excluding_biogenic_kgco2e_per_unit AS cfp FROM footprints WHERE product_id = 'urn:mieruka-demo:product:kaede-note-14' ORDER BY reference_period_end")
        .await
        .expect("select");
    let rows = output::rows_json(&out.batches);
    // build.py prints these two totals.
    assert_eq!(rows[0]["cfp"], "161.8707");
    assert_eq!(rows[1]["cfp"], "150.4727");
}

/// A question reads only the tables its statement names (`query::reads`): every catalog
/// query gives the same rows over only those tables (the others left empty, the hotspot
/// functions over a graph of their own) as over every table.
#[tokio::test]
async fn every_catalog_query_answers_from_the_tables_it_names() {
    use mieruka::query::reads;
    let all = mieruka::dataset::demo().expect("demo");
    let full = Session::new(&all).await.expect("session");
    let catalog = Catalog::embedded().expect("catalog");
    for q in catalog.iter() {
        let r = reads(&q.sql);
        // Every catalog query names what it reads (the scoring and what-if ones too:
        // `footprints` and `gx_attributes`).
        let nothing = mieruka::table::TableSet::NONE;
        assert!(r.tables != nothing || r.graph || r.scores, "{}", q.id);
        let mut some = all.clone();
        if !r.tables.footprints {
            some.footprints.clear();
        }
        if !r.tables.extensions {
            some.footprint_extensions.clear();
        }
        if !r.tables.bom {
            some.bom.clear();
        }
        if !r.tables.ingest_log {
            some.ingest_log.clear();
        }
        if !r.tables.gx_attributes {
            some.gx_attributes.clear();
        }
        let graph = r.graph.then(|| {
            std::sync::Arc::new(mieruka::hotspot::Graph::from_tables(&all).expect("graph"))
        });
        let session = Session::with_graph(&some, mieruka::score::Profile::default_profile(), graph)
            .await
            .expect("session");
        let args = demo_args(q);
        let expected = full.run(q, &args).await.expect("every table");
        let got = session.run(q, &args).await.expect("the tables named");
        assert_eq!(
            output::rows_json(&got.batches),
            output::rows_json(&expected.batches),
            "{}",
            q.id
        );
    }
    let scoring = [
        "ranking/suppliers",
        "score/breakdown",
        "score/by_product",
        "whatif/summary",
        "whatif/changes",
    ];
    for id in scoring {
        let q = catalog.get(id).expect(id);
        assert!(reads(&q.sql).scores, "{id}");
    }
    assert!(catalog.iter().count() >= 18, "the catalog's queries");
}

/// What went wrong is told by the error's variant, with the engine's error kept as its
/// cause: the server answers 404 for an unknown query because of the variant, not the text.
#[tokio::test]
async fn query_errors_say_what_by_variant_and_keep_their_cause() {
    use std::error::Error as _;
    let catalog = Catalog::embedded().expect("catalog");
    match catalog.get("footprints/nope") {
        Err(mieruka::Error::UnknownQuery { id, known }) => {
            assert_eq!(id, "footprints/nope");
            assert!(known.iter().any(|k| k == "footprints/summary"), "{known:?}");
        }
        other => panic!("expected UnknownQuery, got {:?}", other.map(|q| &q.id)),
    }

    let session = demo_session().await;
    let e = session
        .sql("SELECT no_such_column FROM footprints")
        .await
        .expect_err("an unknown column");
    assert!(
        matches!(&e, mieruka::Error::QueryFailed { id, .. } if id == "sql"),
        "{e:?}"
    );
    let cause = e.source().expect("the engine's error as the cause");
    assert!(
        cause
            .downcast_ref::<datafusion::error::DataFusionError>()
            .is_some(),
        "{cause:?}"
    );
    assert!(e.to_string().contains("no_such_column"), "{e}");
}

/// Ad-hoc SQL nested deeper than the planner's stack allows is refused with a clear error
/// (`SELECT 1+1+…+1` with 2,000 terms aborted the process); at the limit it runs, as a sum
/// (of 128 ones: 128) and as a chain of ORs in a filter (the PC's id among 123 that match
/// nothing: its two footprints, FY2023 and FY2024).
#[tokio::test]
async fn deeply_nested_sql_is_refused_not_a_crash() {
    let session = demo_session().await;
    let limit = mieruka::query::MAX_EXPR_DEPTH;
    let chain = |n: usize| format!("SELECT {} AS s", vec!["1"; n].join(" + "));
    let e = session.sql(&chain(2_000)).await.expect_err("too deep");
    assert!(e.to_string().contains("nested more than 128 deep"), "{e}");
    let out = session.sql(&chain(limit)).await.expect("at the limit");
    assert_eq!(output::rows_json(&out.batches)[0]["s"], 128);

    // 127 ORs of 128 comparisons: each comparison is one level below its OR.
    let mut terms: Vec<String> = (1..limit - 4)
        .map(|i| format!("product_id = 'urn:none:{i}'"))
        .collect();
    terms.push("product_id = 'urn:mieruka-demo:product:kaede-note-14'".into());
    let sql = format!(
        "SELECT count(*) AS n FROM footprints WHERE {}",
        terms.join(" OR ")
    );
    let out = session.sql(&sql).await.expect("at the limit");
    assert_eq!(output::rows_json(&out.batches)[0]["n"], 2);
}

/// A question from a data directory reads `footprints` and `bom` as its plan scans them,
/// only the columns the plan needs (`Session::over_snapshot`, what `mieruka query` opens):
/// every catalog query, and statements whose scans read no column, `is_latest` alone, or the
/// current edges, gives the same rows as over the tables read whole. The store has two
/// ingests: the demo (two footprints with a newer version, 48 BOM rows) and a BOM CSV row that
/// replaces one of the demo's edges, so `is_latest` and the current edges each drop rows.
#[tokio::test]
async fn every_catalog_query_answers_from_a_snapshot_read_column_by_column() {
    use mieruka::ingest::{self, IngestOptions};
    use mieruka::query::reads;
    use mieruka::store::Store;

    let dir = crate::common::temp_dir("query-snapshot");
    let store = Store::create_or_open(&dir).expect("store");
    let opts = IngestOptions::default();
    ingest::ingest_into(&store, &mieruka::dataset::demo_sources(), &opts, &|_| {}).expect("demo");
    let replaced = crate::common::source(
        "bom-change.csv",
        "parent_product_id,child_product_id,amount,unit\n\
         urn:mieruka-demo:product:aoba-lcm-140,urn:mieruka-demo:product:formosa-lcd-cell,0.0600,\n",
    );
    // A question sees the version committed when it began: a snapshot taken before the
    // change reads the demo's 48 edges after the change is committed.
    let before = store.snapshot().expect("snapshot");
    ingest::ingest_into(&store, &[replaced], &opts, &|_| {}).expect("change");
    let everything = mieruka::query::Reads {
        tables: mieruka::table::TableSet::ALL,
        graph: false,
        scores: true,
    };
    let profile = mieruka::score::Profile::default_profile;
    let old = Session::over_snapshot(before, everything, None, profile())
        .await
        .expect("session");
    let out = old
        .sql("SELECT count(*) AS n FROM bom_history")
        .await
        .expect("count");
    assert_eq!(
        serde_json::Value::Array(output::rows_json(&out.batches)).to_string(),
        r#"[{"n":48}]"#
    );
    // … and scores the demo's 24 products (`summary_counts_the_demo`).
    let out = old
        .sql("SELECT count(*) AS n FROM gx_scores()")
        .await
        .expect("scores");
    assert_eq!(output::rows_json(&out.batches)[0]["n"], 24);

    let all = store.load().expect("load");
    let graph = std::sync::Arc::new(mieruka::dataset::graph(Some(&dir)).expect("graph"));
    let full = Session::with_graph(
        &all,
        mieruka::score::Profile::default_profile(),
        Some(graph.clone()),
    )
    .await
    .expect("session");
    let over = |sql: &str| {
        let r = reads(sql);
        let snapshot = store.snapshot().expect("snapshot");
        Session::over_snapshot(snapshot, r, r.graph.then(|| graph.clone()), profile())
    };

    // What the store holds: rows the views drop, so the comparisons below can tell.
    let count = |sql: &'static str| {
        let full = &full;
        async move {
            let out = full.sql(sql).await.expect(sql);
            serde_json::Value::Array(output::rows_json(&out.batches)).to_string()
        }
    };
    assert_eq!(
        count("SELECT count(*) AS n FROM footprints WHERE NOT is_latest").await,
        r#"[{"n":2}]"#
    );
    assert_eq!(
        count("SELECT (SELECT count(*) FROM bom_history) - (SELECT count(*) FROM bom) AS n").await,
        r#"[{"n":1}]"#
    );

    let catalog = Catalog::embedded().expect("catalog");
    let mut compared = 0;
    for q in catalog.iter() {
        compared += 1;
        let session = over(&q.sql).await.expect("session");
        let args = demo_args(q);
        let expected = full.run(q, &args).await.expect("every table");
        let got = session.run(q, &args).await.expect("over the snapshot");
        assert_eq!(
            output::rows_json(&got.batches),
            output::rows_json(&expected.batches),
            "{}",
            q.id
        );
    }
    assert!(compared >= 15, "only {compared} queries compared");
    // `is_latest` and the current edges as the graph index keeps them (a flag per stored
    // row, written with each commit), then worked out from the rows, as when the index's
    // files are damaged.
    let kept = store.snapshot().expect("snapshot").latest_flags();
    let flags = kept.expect("the index keeps the flags");
    let worked_out: Vec<bool> = all
        .latest_flags()
        .expect("flags")
        .iter()
        .flat_map(|a| a.iter().map(|f| f.expect("a flag per row")))
        .collect();
    let kept: Vec<bool> = flags.iter().map(|f| f.expect("a flag per row")).collect();
    assert_eq!(kept, worked_out);
    // build.py: two of the demo's footprints are superseded.
    assert_eq!(flags.false_count(), 2);
    // … and which stored BOM rows are current: the demo's 48, one of them replaced by the
    // change's row.
    let current = store.snapshot().expect("snapshot").bom_current();
    let current = current.expect("the index keeps which BOM rows are current");
    assert_eq!((current.len(), current.false_count()), (48 + 1, 1));
    for (i, flags) in ["kept by the index", "worked out"].into_iter().enumerate() {
        if i == 1 {
            let index = std::fs::read_dir(dir.join("index"))
                .expect("index dir")
                .next()
                .expect("an index")
                .expect("entry")
                .path();
            for file in [
                index.join("nodes").join("is_latest.arrow"),
                index.join("bom_current.arrow"),
            ] {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(file)
                    .and_then(|f| f.set_len(8))
                    .expect("truncate");
            }
            let snapshot = store.snapshot().expect("snapshot");
            assert!(snapshot.latest_flags().is_none() && snapshot.bom_current().is_none());
        }
        compare_snapshot_sql(&over, &full, flags).await;
        // A session over the tables read whole (a server's) takes the same flags.
        let kept = mieruka::query::KeptViews::of(&store.snapshot().expect("snapshot"));
        let whole = Session::with_kept(&all, profile(), Some(graph.clone()), &kept)
            .await
            .expect("session");
        let whole = |_: &str| {
            let s = whole.clone();
            async move { Ok(s) }
        };
        compare_snapshot_sql(&whole, &full, &format!("{flags}, tables read whole")).await;
    }
}

/// The statements of `every_catalog_query_answers_from_a_snapshot_read_column_by_column`,
/// each over a snapshot (`over`) and over the tables read whole (`full`).
async fn compare_snapshot_sql<F, S>(over: &F, full: &Session, flags: &str)
where
    F: Fn(&str) -> S,
    S: std::future::Future<Output = mieruka::Result<Session>>,
{
    for sql in [
        "SELECT count(*) AS n FROM footprints",
        "SELECT count(*) AS n FROM footprints_latest",
        "SELECT is_latest, count(*) AS n FROM footprints GROUP BY is_latest ORDER BY is_latest",
        "SELECT id, version FROM footprints WHERE NOT is_latest ORDER BY id",
        "SELECT * FROM footprints ORDER BY id, version",
        "SELECT parent_product_id, child_product_id, amount FROM bom ORDER BY 1, 2",
        "SELECT amount, source_kind FROM bom_history ORDER BY amount, source_kind",
        "SELECT count(*) AS n FROM bom b JOIN footprints_latest f ON f.product_id = b.parent_product_id",
        // A limit with no order reads the first rows only, `is_latest` still from every row:
        // the 25th stored row is version 1 of an id whose version 2 is the 26th, and the 39th
        // is named in the `precedingPfIds` of the 40th.
        "SELECT * FROM footprints LIMIT 5",
        "SELECT id, version, is_latest FROM footprints LIMIT 25",
        "SELECT id, version, is_latest FROM footprints LIMIT 39",
        "SELECT id, is_latest FROM footprints LIMIT 3 OFFSET 44",
        "SELECT company_name FROM footprints LIMIT 0",
        "SELECT * FROM bom_history LIMIT 9 OFFSET 40",
        "SELECT amount FROM bom LIMIT 3",
        // Scores from the columns scoring reads, beside a scan of the same table.
        "SELECT * FROM gx_scores() ORDER BY product_id",
        "SELECT s.product_id, s.gx_score, f.version FROM gx_scores() s \
         JOIN footprints_latest f ON f.id = s.footprint_id ORDER BY 1",
    ] {
        let session = over(sql).await.expect("session");
        let got = session.sql(sql).await.expect(sql);
        let expected = full.sql(sql).await.expect(sql);
        assert_eq!(
            output::rows_json(&got.batches),
            output::rows_json(&expected.batches),
            "{sql} ({flags})"
        );
        assert_eq!(got.schema, expected.schema, "{sql} ({flags})");
    }
}

/// The current edges the graph index keeps are the ones the `bom` view works out, for
/// extension edges of two versions of one footprint and a CSV row replaced by a later one.
/// Hand-worked: footprint X version 1 declares C1 (1) and C2 (2), version 2 declares C1 (3)
/// and C3 (4); a CSV gives the same parent C1 (5), a later CSV C1 (6). Stored: six rows.
/// Current: X's C1 from version 2 (its edges are keyed by footprint id, not version), X's C2
/// and C3, and the later CSV row: four.
#[tokio::test]
async fn the_current_edges_the_index_keeps_are_the_views() {
    use mieruka::ingest::{self, IngestOptions};
    use mieruka::store::Store;
    use serde_json::json;

    let dir = crate::common::temp_dir("query-current-edges");
    let store = Store::create_or_open(&dir).expect("store");
    let opts = IngestOptions::default();
    let with_inputs = |version: i32, inputs: &[(&str, &str)]| {
        let mut doc = crate::common::v2_example();
        doc["version"] = json!(version);
        doc["pcf"]["pCfExcludingBiogenic"] = json!(format!("{version}.5"));
        let inputs: Vec<_> = inputs
            .iter()
            .map(|(child, amount)| json!({"productId": format!("urn:test:{child}"), "amount": amount}))
            .collect();
        doc["extensions"] = json!([{
            "specVersion": "1.0.0",
            "dataSchema": mieruka::ingest::BOM_EXTENSION_SCHEMA,
            "data": {"inputs": inputs},
        }]);
        crate::common::source(&format!("x-v{version}.json"), &doc.to_string())
    };
    let parent = crate::common::v2_example()["productIds"][0]
        .as_str()
        .expect("a product id")
        .to_owned();
    let csv = |amount: &str| {
        let text = format!(
            "parent_product_id,child_product_id,amount,unit\n{parent},urn:test:C1,{amount},\n"
        );
        crate::common::source(&format!("bom-{amount}.csv"), &text)
    };
    for sources in [
        vec![with_inputs(1, &[("C1", "1"), ("C2", "2")])],
        vec![with_inputs(2, &[("C1", "3"), ("C3", "4")])],
        vec![csv("5")],
        vec![csv("6")],
    ] {
        ingest::ingest_into(&store, &sources, &opts, &|_| {}).expect("ingest");
    }
    let current = store.snapshot().expect("snapshot").bom_current();
    let current = current.expect("the index keeps which rows are current");
    assert_eq!((current.len(), current.true_count()), (6, 4));

    let sql = "SELECT child_product_id, CAST(amount AS VARCHAR) AS amount, \
               parent_footprint_id IS NOT NULL AS extension FROM bom ORDER BY 1, 2";
    let reads = mieruka::query::reads(sql);
    let profile = mieruka::score::Profile::default_profile;
    let snapshot = store.snapshot().expect("snapshot");
    let over = Session::over_snapshot(snapshot, reads, None, profile())
        .await
        .expect("session");
    let full = Session::new(&store.load().expect("load"))
        .await
        .expect("session");
    let got = output::rows_json(&over.sql(sql).await.expect("kept").batches);
    let expected = output::rows_json(&full.sql(sql).await.expect("worked out").batches);
    assert_eq!(got, expected);
    let rows: Vec<String> = got
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["child_product_id"], r["amount"], r["extension"]
            )
        })
        .collect();
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(
        rows[0].starts_with("\"urn:test:C1\" \"3") && rows[0].ends_with("true"),
        "{rows:?}"
    );
    assert!(
        rows[1].starts_with("\"urn:test:C1\" \"6") && rows[1].ends_with("false"),
        "{rows:?}"
    );
    assert!(rows[2].starts_with("\"urn:test:C2\" \"2"), "{rows:?}");
    assert!(rows[3].starts_with("\"urn:test:C3\" \"4"), "{rows:?}");
}
