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

/// Ingests `sources` into a new data directory named after `name`.
fn stored(name: &str, sources: &[mieruka::ingest::Source]) -> std::path::PathBuf {
    use mieruka::ingest::{self, IngestOptions};
    use mieruka::store::Store;
    let dir = temp_dir(name);
    let store = Store::create_or_open(&dir).expect("store");
    let lock = store.lock().expect("lock");
    let existing = lock.load().expect("load");
    let prepared =
        ingest::prepare(&existing, sources, &IngestOptions::default(), &|_| {}).expect("prepare");
    assert_eq!(prepared.report.rejected, 0, "{:#?}", prepared.report.errors);
    lock.commit(|seq| prepared.to_tables(seq)).expect("commit");
    dir
}

/// A result's rows as text, sorted (rows that tie under a query's ORDER BY may come in
/// either order from two engines), with floats to 12 significant digits: a float sum over
/// other partitions may differ in its last bits.
fn row_set(out: &mieruka::query::Output) -> Vec<String> {
    fn round(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Number(n) if n.is_f64() => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                *v = serde_json::Value::String(format!("{x:.11e}"));
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(round),
            serde_json::Value::Object(o) => o.values_mut().for_each(round),
            _ => {}
        }
    }
    let mut rows: Vec<String> = mieruka::output::rows_json(&out.batches)
        .into_iter()
        .map(|mut r| {
            round(&mut r);
            r.to_string()
        })
        .collect();
    rows.sort();
    rows
}

/// Every catalog query on a session over the data directory `dir` on the standalone
/// cluster (its stored tables scanned from the segments' Parquet, the views in SQL) against
/// the embedded session; `product` for the queries that take one. The ids of those that
/// gave rows, and of those that ran on the cluster.
async fn every_catalog_query_gives_the_embedded_rows(
    dir: &std::path::Path,
    product: &str,
) -> (Vec<String>, Vec<String>) {
    use mieruka::query::Catalog;
    use mieruka::score::Profile;
    let tables = mieruka::store::Store::open(dir)
        .expect("open")
        .load()
        .expect("load");
    let graph = Arc::new(mieruka::dataset::graph(Some(dir)).expect("graph"));
    let embedded = Session::with_graph(&tables, Profile::default_profile(), Some(graph.clone()))
        .await
        .expect("embedded");
    let on_cluster = cluster::catalog::session(
        &Engine::Standalone,
        dir,
        &tables,
        Profile::default_profile(),
        Some(graph),
        3,
    )
    .await
    .expect("standalone cluster");
    let (mut with_rows, mut ran_there) = (Vec::new(), Vec::new());
    for q in Catalog::embedded().expect("catalog").iter() {
        let args: Vec<(String, String)> = q
            .params
            .iter()
            .filter(|p| p.name == "product")
            .map(|_| ("product".to_owned(), product.to_owned()))
            .collect();
        // The same rows, or the same refusal (the bundled scenarios name demo products).
        let (want, got) = match (embedded.run(q, &args).await, on_cluster.run(q, &args).await) {
            (Ok(want), Ok(got)) => (want, got),
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string(), "{}", q.id);
                continue;
            }
            (a, b) => panic!(
                "{}: embedded {:?}, on the cluster {:?}",
                q.id,
                a.err(),
                b.err()
            ),
        };
        assert_eq!(row_set(&got), row_set(&want), "{}", q.id);
        if want.num_rows() > 0 {
            with_rows.push(q.id.clone());
        }
        if on_cluster.runs_on_cluster(q, &args).await.expect("plan") {
            ran_there.push(q.id.clone());
        }
    }
    // The stored tables and views themselves, row for row.
    for table in [
        "footprints",
        "footprints_latest",
        "footprint_extensions",
        "bom",
        "bom_history",
        "ingest_log",
        "gx_attributes",
        "pact_requests",
    ] {
        let q = format!("SELECT * FROM {table}");
        let want = embedded.sql(&q).await.expect("embedded");
        let got = on_cluster.sql(&q).await.expect("on the cluster");
        assert_eq!(row_set(&got), row_set(&want), "{table}");
    }
    (with_rows, ran_there)
}

/// The queries over the stored tables ran on the cluster; those over the table functions'
/// answers only, and the recursive one, here.
fn ran_where_expected(ran_there: &[String]) {
    for id in [
        "footprints/list",
        "footprints/summary",
        "footprints/by_company",
        "footprints/trend",
        "ingest/summary",
        "ingest/warnings",
    ] {
        assert!(
            ran_there.iter().any(|r| r == id),
            "{id} not on the cluster: {ran_there:?}"
        );
    }
    for id in ["hotspot/sql_items", "hotspot/items", "whatif/summary"] {
        assert!(!ran_there.iter().any(|r| r == id), "{id} on the cluster");
    }
}

/// The runtime the binary runs on (its thread stacks: [`mieruka::STACK_BYTES`]).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(mieruka::STACK_BYTES)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn every_catalog_query_gives_the_embedded_rows_on_the_demo() {
    runtime().block_on(on_the_demo());
}

async fn on_the_demo() {
    let dir = stored("cluster-demo", &mieruka::dataset::demo_sources());
    let (with_rows, ran_there) =
        every_catalog_query_gives_the_embedded_rows(&dir, "urn:mieruka-demo:product:kaede-note-14")
            .await;
    // Every query but requests/by_supplier (the demo sent no PACT request) has rows.
    let queries = mieruka::query::Catalog::embedded()
        .expect("catalog")
        .iter()
        .count();
    assert_eq!(with_rows.len(), queries - 1, "{with_rows:?}");
    ran_where_expected(&ran_there);
}

#[test]
fn every_catalog_query_gives_the_embedded_rows_on_a_generated_chain() {
    runtime().block_on(on_a_generated_chain());
}

async fn on_a_generated_chain() {
    use mieruka::generator::{self, GenOptions};
    let chain = temp_dir("cluster-gen-files");
    let opts = GenOptions {
        nodes: 400,
        tiers: 4,
        fanout: 3,
        seed: 3,
        cycle_pct: 5.0,
        ..GenOptions::default()
    };
    let written =
        generator::write(&generator::generate(&opts).expect("gen"), &chain).expect("write");
    let sources: Vec<mieruka::ingest::Source> = [written.footprints, written.bom]
        .iter()
        .flat_map(|p| mieruka::ingest::Source::read_path(p).expect("read"))
        .collect();
    let dir = stored("cluster-gen", &sources);
    let (with_rows, ran_there) =
        every_catalog_query_gives_the_embedded_rows(&dir, "urn:mieruka:gen:3:0").await;
    assert!(
        with_rows.iter().any(|id| id == "hotspot/items"),
        "{with_rows:?}"
    );
    ran_where_expected(&ran_there);
}

/// `mieruka query --engine ballista://standalone` prints what the embedded query prints.
#[test]
fn the_binary_runs_a_catalog_query_on_a_cluster() {
    let dir = stored("cluster-cli", &mieruka::dataset::demo_sources());
    let run = |engine: Option<&str>| run_query(&dir, engine, "footprints/by_company");
    let embedded = run(None);
    assert!(embedded.as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(run(Some("ballista://standalone")), embedded);
    // A decomposition's items beside a stored table: the plan scans files, so it runs on the
    // cluster, the items travelling to it as a table.
    let items = "SELECT count(*) AS n, CAST(sum(h.kgco2e) AS DECIMAL(20, 4)) AS s \
        FROM hotspot_items('urn:mieruka-demo:product:kaede-note-14') h \
        JOIN footprints f ON f.id = h.footprint_id";
    let embedded = run_query(&dir, None, items);
    assert!(
        embedded[0]["n"].as_i64().is_some_and(|n| n > 0),
        "{embedded}"
    );
    assert_eq!(
        run_query(&dir, Some("ballista://standalone"), items),
        embedded
    );
}

/// `mieruka query --data DIR [--engine ENGINE] QUERY --format json`'s rows.
fn run_query(dir: &std::path::Path, engine: Option<&str>, query: &str) -> serde_json::Value {
    let mut cmd = crate::cli::mieruka();
    cmd.args(["query", "--data"]).arg(dir);
    if let Some(e) = engine {
        cmd.args(["--engine", e]);
    }
    let out = cmd.args([query, "--format", "json"]).output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// A server whose catalog runs on the cluster answers a catalog query as the embedded one
/// does, and its dashboards still render.
#[test]
fn the_server_answers_from_a_cluster() {
    runtime().block_on(async {
        use axum::http::StatusCode;
        use mieruka::server::{AppState, router};
        let dir = stored("cluster-serve", &mieruka::dataset::demo_sources());
        let get = |app: axum::Router, uri: &'static str| async move {
            let reply = crate::server::get(&app, uri, None).await;
            (reply.status, reply.body)
        };
        let tables = || {
            mieruka::store::Store::open(&dir)
                .expect("open")
                .load()
                .expect("load")
        };
        let embedded = router(
            AppState::new(tables(), Some(dir.clone()), None)
                .await
                .expect("state"),
        );
        let engine = cluster::catalog::ClusterEngine {
            engine: Engine::Standalone,
            data: dir.clone(),
            partitions: 3,
        };
        let on_cluster = router(
            AppState::on_engine(tables(), Some(dir.clone()), None, Some(Arc::new(engine)))
                .await
                .expect("state on the cluster"),
        );
        let uri = "/api/queries/footprints/by_company?format=json";
        let (s1, want) = get(embedded, uri).await;
        let (s2, got) = get(on_cluster.clone(), uri).await;
        assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
        assert_eq!(got, want);
        let (status, _) = get(on_cluster, "/").await;
        assert_eq!(status, StatusCode::OK);
    });
}
