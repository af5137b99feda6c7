//! The all-products batch (`hotspot_batch`, `mieruka batch hotspots`): hand-worked sums on
//! a small chain with three roots, each root's rows against `hotspot_items`, the same rows
//! whatever the partitioning, the roots a filter names, and the directory written whole.
//!
//! The chain (per kilogram), as in the what-if tests, with a second root Q and a product U
//! nobody uses:
//! R (cfp 11, g2g 2) ← A ×2, B ×1, D ×4 (D has no footprint: left out)
//! Q (cfp 5, g2g 1) ← A ×1
//! A (cfp 3, g2g 1) ← C ×0.5
//! B (cfp 2, no Gate-to-Gate: a black box)
//! C (cfp 2, g2g 2)
//! U (cfp 7, g2g 7)
//! The roots (no footprint takes them as an input): Q, R and U; A, B and C are inputs.
//! R's items: R own 2, R untraced 11 − 2 − (2·3 + 1·2) = 1 (tier 0); A own 2·1 = 2,
//! A untraced 2·(3 − 1 − 0.5·2) = 2, B unresolved 1·2 = 2 (tier 1); C own 2·0.5·2 = 2
//! (tier 2). Sum 11.
//! Q's items: Q own 1, Q untraced 5 − 1 − 1·3 = 1 (tier 0); A own 1, A untraced
//! 1·(3 − 1 − 1) = 1 (tier 1); C own 1·0.5·2 = 1 (tier 2). Sum 5.
//! U's items: U own 7. Sum 7.

use std::collections::BTreeMap;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Decimal128Type, Int64Type};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use mieruka::hotspot::VALUE_SCALE;
use mieruka::hotspot::batch::BatchRequest;
use mieruka::model::fixed;
use mieruka::query::Session;
use mieruka::table::Tables;

use crate::common::temp_dir;
use crate::hotspot::{fp, tables, urn};

pub(crate) fn chain() -> Tables {
    tables(
        &[
            fp("R", "11", Some("2")),
            fp("Q", "5", Some("1")),
            fp("A", "3", Some("1")),
            fp("B", "2", None),
            fp("C", "2", Some("2")),
            fp("U", "7", Some("7")),
        ],
        &[
            ("R", "A", "2", ""),
            ("R", "B", "1", ""),
            ("R", "D", "4", ""),
            ("Q", "A", "1", ""),
            ("A", "C", "0.5", ""),
        ],
    )
}

pub(crate) async fn sql(ctx: &SessionContext, q: &str) -> Vec<RecordBatch> {
    ctx.sql(q)
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"))
}

/// Rows of `(text, text, kgCO2e)`: two text columns and a decimal one, as exact text.
pub(crate) fn keyed(batches: &[RecordBatch]) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for b in batches {
        let text = |c: usize, i: usize| -> String {
            let col = datafusion::arrow::compute::cast(
                b.column(c),
                &datafusion::arrow::datatypes::DataType::Utf8,
            )
            .expect("as text");
            col.as_string::<i32>().value(i).to_owned()
        };
        let kg = b.column(2).as_primitive::<Decimal128Type>();
        for i in 0..b.num_rows() {
            let v = out.insert(
                (text(0, i), text(1, i)),
                fixed::format(kg.value(i), VALUE_SCALE),
            );
            assert!(v.is_none(), "a repeated key");
        }
    }
    out
}

fn expect(rows: &[(&str, &str, &str)]) -> BTreeMap<(String, String), String> {
    rows.iter()
        .map(|(a, b, v)| ((a.to_string(), b.to_string()), v.to_string()))
        .collect()
}

/// The hand-worked sums per root and supplier.
pub(crate) fn suppliers_by_hand() -> BTreeMap<(String, String), String> {
    expect(&[
        (&urn("Q"), "Q Co.", "2"),
        (&urn("Q"), "A Co.", "2"),
        (&urn("Q"), "C Co.", "1"),
        (&urn("R"), "R Co.", "3"),
        (&urn("R"), "A Co.", "4"),
        (&urn("R"), "B Co.", "2"),
        (&urn("R"), "C Co.", "2"),
        (&urn("U"), "U Co.", "7"),
    ])
}

/// The hand-worked sums per root and tier.
fn tiers_by_hand() -> BTreeMap<(String, String), String> {
    expect(&[
        (&urn("Q"), "0", "2"),
        (&urn("Q"), "1", "2"),
        (&urn("Q"), "2", "1"),
        (&urn("R"), "0", "3"),
        (&urn("R"), "1", "6"),
        (&urn("R"), "2", "2"),
        (&urn("U"), "0", "7"),
    ])
}

const BY_SUPPLIER: &str =
    "SELECT root_product_id, company_name, sum(kgco2e) FROM hotspot_batch() GROUP BY 1, 2";

#[tokio::test]
async fn the_batch_walks_every_root_and_sums_as_worked_out_by_hand() {
    let session = Session::new(&chain()).await.expect("session");
    let got = keyed(&sql(session.context(), BY_SUPPLIER).await);
    assert_eq!(got, suppliers_by_hand());
    let got = keyed(
        &sql(
            session.context(),
            "SELECT root_product_id, tier, sum(kgco2e) FROM hotspot_batch(10, 0, 'excluding_biogenic') GROUP BY 1, 2",
        )
        .await,
    );
    assert_eq!(got, tiers_by_hand());
}

/// The sums per supplier and per tier, made root by root in the walk, are the SQL sums of
/// the items.
#[tokio::test]
async fn the_supplier_and_tier_tables_are_the_items_summed() {
    let session = Session::new(&chain()).await.expect("session");
    let ctx = session.context();
    let text = |b: Vec<RecordBatch>| {
        datafusion::arrow::util::pretty::pretty_format_batches(&b)
            .expect("format")
            .to_string()
    };
    let pairs = [
        (
            "SELECT root_product_id, root_footprint_id, company_name, company_id, kgco2e, first_tier, footprints FROM hotspot_batch_suppliers() ORDER BY 1, 3, 4",
            "SELECT root_product_id, root_footprint_id, company_name, company_id, sum(kgco2e) AS kgco2e, min(tier) AS first_tier, count(DISTINCT footprint_id) AS footprints FROM hotspot_batch() GROUP BY 1, 2, 3, 4 ORDER BY 1, 3, 4",
        ),
        (
            "SELECT root_product_id, tier, kgco2e, own_kgco2e, untraced_kgco2e, mismatch_kgco2e, unresolved_kgco2e, beyond_cutoff_kgco2e, items FROM hotspot_batch_tiers() ORDER BY 1, 2",
            "SELECT root_product_id, tier, sum(kgco2e) AS kgco2e, \
               sum(CASE WHEN kind = 'own' THEN kgco2e ELSE 0 END) AS own_kgco2e, \
               sum(CASE WHEN kind = 'untraced' THEN kgco2e ELSE 0 END) AS untraced_kgco2e, \
               sum(CASE WHEN kind = 'mismatch' THEN kgco2e ELSE 0 END) AS mismatch_kgco2e, \
               sum(CASE WHEN kind = 'unresolved' THEN kgco2e ELSE 0 END) AS unresolved_kgco2e, \
               sum(CASE WHEN kind = 'beyond_cutoff' THEN kgco2e ELSE 0 END) AS beyond_cutoff_kgco2e, \
               count(*) AS items FROM hotspot_batch() GROUP BY 1, 2 ORDER BY 1, 2",
        ),
    ];
    for (native, summed) in pairs {
        let (a, b) = (text(sql(ctx, native).await), text(sql(ctx, summed).await));
        // The SQL decimal sums widen their type; the digits are the same.
        assert_eq!(a.replace(' ', ""), b.replace(' ', ""), "{native}");
        assert!(a.lines().count() > 4, "{a}");
    }
    // R's tier 1: A own 2, A untraced 2, B unresolved 2 (the chain above).
    let r = keyed(
        &sql(
            ctx,
            &format!(
                "SELECT root_product_id, tier, unresolved_kgco2e FROM hotspot_batch_tiers() WHERE root_product_id = '{}' AND tier = 1",
                urn("R")
            ),
        )
        .await,
    );
    assert_eq!(r, expect(&[(&urn("R"), "1", "2")]));
}

/// Every root's rows are `hotspot_items`' rows for it, column for column.
#[tokio::test]
async fn each_roots_rows_are_its_hotspot_items() {
    let session = Session::new(&chain()).await.expect("session");
    let cols = "tier, footprint_id, company_name, company_id, kind, kgco2e, share_pct, root_footprint_id, root_cfp_kgco2e_per_unit";
    for root in ["Q", "R", "U"] {
        let p = urn(root);
        let batch = sql(
            session.context(),
            &format!(
                "SELECT {cols} FROM hotspot_batch() WHERE root_product_id = '{p}' ORDER BY {cols}"
            ),
        )
        .await;
        let single = sql(
            session.context(),
            &format!("SELECT {cols} FROM hotspot_items('{p}') ORDER BY {cols}"),
        )
        .await;
        let rows = |b: &[RecordBatch]| {
            datafusion::arrow::util::pretty::pretty_format_batches(b)
                .expect("format")
                .to_string()
        };
        assert_eq!(rows(&batch), rows(&single), "root {root}");
        assert!(batch.iter().map(RecordBatch::num_rows).sum::<usize>() > 0);
    }
}

/// The partitions split the roots, not the answer; a filter on the root walks only it.
#[tokio::test]
async fn partitions_and_filters_choose_what_is_walked_not_what_it_gives() {
    let session = Session::new(&chain()).await.expect("session");
    let ctx = session.context();
    let all = "SELECT root_product_id, tier, footprint_id, kind, kgco2e FROM hotspot_batch() ORDER BY 1, 2, 3, 4";
    let mut seen = Vec::new();
    for n in [1, 2, 3, 7] {
        sql(
            ctx,
            &format!("SET datafusion.execution.target_partitions = {n}"),
        )
        .await;
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&sql(ctx, all).await)
            .expect("format")
            .to_string();
        seen.push(text);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:#?}");
    // 6 items of R, 5 of Q, 1 of U.
    assert_eq!(seen[0].lines().count(), 12 + 4, "{}", seen[0]);

    let q = format!(
        "SELECT count(*) FROM hotspot_batch() WHERE root_product_id IN ('{}', '{}')",
        urn("Q"),
        urn("U")
    );
    let plan = datafusion::arrow::util::pretty::pretty_format_batches(
        &sql(ctx, &format!("EXPLAIN {q}")).await,
    )
    .expect("format")
    .to_string();
    assert!(plan.contains("HotspotBatchExec: output=items"), "{plan}");
    assert!(
        plan.contains("partition_sizes=[1, 1]"),
        "two roots, one each: {plan}"
    );
    let n = sql(ctx, &q).await;
    assert_eq!(n[0].column(0).as_primitive::<Int64Type>().value(0), 5 + 1);
}

#[tokio::test]
async fn the_batch_function_refuses_what_it_cannot_walk() {
    let session = Session::new(&chain()).await.expect("session");
    for (q, says) in [
        ("SELECT * FROM hotspot_batch(1001)", "max_tier"),
        ("SELECT * FROM hotspot_batch(1, 0, 'gross')", "basis"),
        (
            "SELECT * FROM hotspot_batch(1, 0, 'excluding_biogenic', '2024-01-01')",
            "own reference period",
        ),
    ] {
        let e = session
            .context()
            .sql(q)
            .await
            .err()
            .unwrap_or_else(|| panic!("{q} was accepted"));
        assert!(e.to_string().contains(says), "{q}: {e}");
    }
    // A root named in a filter that is not a product: the error names it.
    let e = session
        .context()
        .sql("SELECT * FROM hotspot_batch() WHERE root_product_id = 'urn:test:nope'")
        .await
        .expect("plan")
        .collect()
        .await
        .expect_err("no such product");
    assert!(e.to_string().contains("urn:test:nope"), "{e}");
}

/// Reads the batch's table `name` (a directory of Parquet files).
async fn read(dir: &std::path::Path, name: &str, q: &str) -> Vec<RecordBatch> {
    let ctx = SessionContext::new();
    let path = dir.join(name);
    ctx.register_parquet(
        name,
        path.to_str().expect("utf-8"),
        ParquetReadOptions::default(),
    )
    .await
    .expect("register");
    sql(&ctx, q).await
}

/// The `suppliers/` and `tiers/` a batch of the chain wrote, read back: the sums worked
/// out by hand.
/// The files in `dir`, each checked to be a committed part file.
fn part_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in &names {
        let hex = n
            .strip_prefix("part-")
            .and_then(|r| r.strip_suffix(".parquet"))
            .unwrap_or_default();
        assert!(
            hex.len() == 16 && hex.chars().all(|c| c.is_ascii_hexdigit()),
            "{n} in {}",
            dir.display()
        );
    }
    names
}

/// A partition written again (as a retried task would) replaces its own file: the same
/// files, the same rows, never a second copy.
#[tokio::test]
async fn a_partition_written_again_replaces_its_own_file() {
    use datafusion::catalog::TableFunctionArgs;
    use mieruka::query::batch::WrittenTable;
    let session = Session::new(&chain()).await.expect("session");
    let ctx = session.context();
    ctx.sql("SET datafusion.execution.target_partitions = 2")
        .await
        .expect("set");
    let dir = temp_dir("batch-again").join("items");
    std::fs::create_dir_all(&dir).expect("dir");
    let mut listed = Vec::new();
    for _ in 0..2 {
        let state = ctx.state();
        let inner = ctx
            .table_function("hotspot_batch")
            .expect("function")
            .create_table_provider_with_args(TableFunctionArgs::new(&[], &state))
            .expect("table");
        let table = WrittenTable {
            inner,
            roots: None,
            dir: dir.to_str().expect("utf-8").to_owned(),
        };
        let report = ctx
            .read_table(std::sync::Arc::new(table))
            .expect("read")
            .collect()
            .await
            .expect("write");
        // Two partitions: roots Q, R, U in partitions 0, 1, 0.
        assert_eq!(report.iter().map(RecordBatch::num_rows).sum::<usize>(), 2);
        listed.push(part_files(&dir));
    }
    assert_eq!(listed[0].len(), 2, "{listed:?}");
    assert_eq!(listed[0], listed[1]);
    let items = read(
        dir.parent().expect("parent"),
        "items",
        "SELECT count(*) FROM items",
    )
    .await;
    // 6 + 5 + 1 items (the module's hand-worked chain), once.
    assert_eq!(items[0].column(0).as_primitive::<Int64Type>().value(0), 12);
}

pub(crate) async fn written_sums_are_the_hand_worked_ones(out: &std::path::Path) {
    let suppliers = read(
        out,
        "suppliers",
        "SELECT root_product_id, company_name, kgco2e FROM suppliers",
    )
    .await;
    assert_eq!(keyed(&suppliers), suppliers_by_hand());
    let tiers = read(
        out,
        "tiers",
        "SELECT root_product_id, tier, kgco2e FROM tiers",
    )
    .await;
    assert_eq!(keyed(&tiers), tiers_by_hand());
}

#[tokio::test]
async fn the_batch_writes_its_directory_whole_and_never_replaces_one() {
    let session = Session::new(&chain()).await.expect("session");
    let base = temp_dir("batch-write");
    let out = base.join("hotspots");
    let s = mieruka::query::batch::write(
        session.context(),
        &BatchRequest::default(),
        None,
        &out,
        "embedded",
    )
    .await
    .expect("batch");
    // 3 roots; items 6 + 5 + 1; supplier rows 4 + 3 + 1; tier rows 3 + 3 + 1.
    assert_eq!(
        (s.roots, s.items, s.suppliers, s.tiers),
        (3, 12, 8, 7),
        "{s:?}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("batch.json")).expect("json"))
            .expect("parse");
    assert_eq!(json["items"], 12);
    // Each table: a file per partition that had a root, named part-<16 hex>.parquet,
    // nothing else (no partial file left).
    for table in ["items", "suppliers", "tiers"] {
        let names = part_files(&out.join(table));
        assert!((1..=3).contains(&names.len()), "{table}: {names:?}");
    }
    written_sums_are_the_hand_worked_ones(&out).await;
    // Each root's items sum to its CFP.
    let items = read(
        &out,
        "items",
        "SELECT root_product_id, max(root_cfp_kgco2e_per_unit), sum(kgco2e) FROM items GROUP BY 1",
    )
    .await;
    let by_hand = expect(&[
        (&urn("Q"), "5.000000000000000000000000", "5"),
        (&urn("R"), "11.000000000000000000000000", "11"),
        (&urn("U"), "7.000000000000000000000000", "7"),
    ]);
    assert_eq!(keyed(&items), by_hand);

    // Asked again: refused, the first batch kept, nothing left beside it.
    let e = mieruka::query::batch::write(
        session.context(),
        &BatchRequest::default(),
        None,
        &out,
        "embedded",
    )
    .await
    .expect_err("exists");
    assert!(e.to_string().contains("exists"), "{e}");
    let left: Vec<String> = std::fs::read_dir(&base)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["hotspots"]);

    // A batch that fails (a root that is not a product) leaves nothing at all.
    let failed = base.join("failed");
    mieruka::query::batch::write(
        session.context(),
        &BatchRequest::default(),
        Some(&["urn:test:nope".to_owned()]),
        &failed,
        "embedded",
    )
    .await
    .expect_err("no such root");
    let mut left: Vec<String> = std::fs::read_dir(&base)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["hotspots"]);
}
