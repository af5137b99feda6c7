//! The same SQL on Apache Ballista (`--features cluster`), in its in-process standalone
//! mode: the all-roots batch gives the hand-worked sums of tests/integration/batch.rs and
//! the very rows of the embedded engine, its plan node travelling through mieruka's codecs
//! to the executor.

use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use mieruka::cluster::{self, Engine};
use mieruka::hotspot::Graph;
use mieruka::hotspot::batch::BatchRequest;
use mieruka::query::Session;

use crate::batch::{chain, keyed, sql, suppliers_by_hand, written_sums_are_the_hand_worked_ones};
use crate::common::temp_dir;

const ITEMS: &str = "SELECT root_product_id, tier, footprint_id, company_name, kind, kgco2e, share_pct FROM hotspot_batch() ORDER BY 1, 2, 3, 5";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_on_a_cluster_gives_the_embedded_rows() {
    let tables = chain();
    let graph = Arc::new(Graph::from_tables(&tables).expect("graph"));
    let ctx = cluster::session(&Engine::Standalone, graph, 3)
        .await
        .expect("standalone cluster");

    let by_supplier =
        "SELECT root_product_id, company_name, sum(kgco2e) FROM hotspot_batch() GROUP BY 1, 2";
    assert_eq!(keyed(&sql(&ctx, by_supplier).await), suppliers_by_hand());

    let embedded = Session::new(&tables).await.expect("session");
    let want = pretty_format_batches(&sql(embedded.context(), ITEMS).await)
        .expect("format")
        .to_string();
    let got = pretty_format_batches(&sql(&ctx, ITEMS).await)
        .expect("format")
        .to_string();
    assert_eq!(got, want);

    // The plan the scheduler ran holds the batch node, split three ways.
    let plan = pretty_format_batches(&sql(&ctx, &format!("EXPLAIN {ITEMS}")).await)
        .expect("format")
        .to_string();
    assert!(plan.contains("HotspotBatchExec"), "{plan}");

    // Written by the cluster: the same sums, read back from its Parquet.
    let out = temp_dir("cluster-batch").join("hotspots");
    let s = mieruka::query::batch::write(
        &ctx,
        &BatchRequest::default(),
        None,
        &out,
        "ballista://standalone",
    )
    .await
    .expect("batch on the cluster");
    assert_eq!((s.roots, s.items, s.suppliers, s.tiers), (3, 12, 8, 7));
    written_sums_are_the_hand_worked_ones(&out).await;
}

#[test]
fn an_engine_is_a_ballista_url() {
    assert_eq!(
        Engine::parse("ballista://standalone").expect("parse"),
        Engine::Standalone
    );
    assert_eq!(
        Engine::parse("ballista://sched:50050").expect("parse"),
        Engine::Remote("ballista://sched:50050".into())
    );
    for bad in [
        "http://sched:50050",
        "ballista://",
        "ballista://a/b",
        "sched:50050",
    ] {
        let e = Engine::parse(bad).expect_err(bad);
        assert!(e.to_string().contains("ballista://HOST:PORT"), "{bad}: {e}");
    }
}
