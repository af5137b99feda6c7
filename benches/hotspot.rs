//! Hotspot decomposition on generated graphs: one root (f64 and exact decimal), the adjacency
//! index's memory against the edge data, and 100 roots on one and on two threads.
//!
//! `cargo bench --bench hotspot` runs criterion on 10k, 100k and 1M-node graphs (7 tiers,
//! fan-out 10, 22 % black boxes: 1,002,000 nodes give about 6.5M edges).
//! `MIERUKA_BENCH_SIZES=10000,100000` picks sizes. `benches/compare_hotspot.py` runs this
//! binary with `MIERUKA_COMPARE=NODES` to time the same root beside DuckDB and Polars.

use std::sync::Arc;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, criterion_group};
use mieruka::generator::{self, GenOptions};
use mieruka::hotspot::{self, Graph, Request};

/// The benchmark graph with `nodes` nodes (same options as compare_hotspot.py).
pub fn options(nodes: usize) -> GenOptions {
    GenOptions {
        nodes,
        tiers: 7,
        fanout: 10,
        seed: 7,
        roots: Some((nodes / 500).max(1)),
        black_box_pct: 22.0,
        gap_pct: 20.0,
        mismatch_pct: 2.0,
        cycle_pct: 0.0,
        skip_pct: 10.0,
    }
}

fn build(nodes: usize) -> (Arc<Graph>, usize, usize) {
    let g = generator::generate(&options(nodes)).expect("generate");
    let (fp, bom) = generator::graph_batches(&g).expect("batches");
    let edge_bytes = bom.get_array_memory_size();
    let edges = bom.num_rows();
    let graph = Arc::new(Graph::from_batches(&[fp], &[bom]).expect("graph"));
    (graph, edge_bytes, edges)
}

fn root(nodes: usize, i: usize) -> Request {
    Request::new(generator::product_urn(options(nodes).seed, i))
}

fn sizes() -> Vec<usize> {
    std::env::var("MIERUKA_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_002_000])
}

fn bench(c: &mut Criterion) {
    for nodes in sizes() {
        let (graph, edge_bytes, edges) = build(nodes);
        let req = root(nodes, 0);
        let (_, date) = graph.root(&req.product, None).expect("root");
        let resolved = graph.resolve(date);
        eprintln!(
            "graph {nodes} nodes, {edges} edges: edge data {:.1} MiB, adjacency index {:.1} MiB ({:.2}× the edge data)",
            edge_bytes as f64 / 1048576.0,
            resolved.heap_bytes() as f64 / 1048576.0,
            resolved.heap_bytes() as f64 / edge_bytes as f64
        );
        let items = hotspot::decompose_raw(&graph, &req).expect("decompose");
        eprintln!("root 0: {} items", items.len());

        let mut group = c.benchmark_group("hotspot");
        group.sample_size(10);
        group.bench_with_input(BenchmarkId::new("one_root_walk", nodes), &req, |b, r| {
            b.iter(|| hotspot::decompose_raw(&graph, r).expect("decompose"))
        });
        group.bench_with_input(
            BenchmarkId::new("one_root_labelled", nodes),
            &req,
            |b, r| b.iter(|| hotspot::decompose(&graph, r).expect("decompose")),
        );
        if nodes >= 100_000 {
            let reqs: Vec<Request> = (0..100)
                .map(|i| root(nodes, i % options(nodes).roots.unwrap_or(1)))
                .collect();
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool");
                group.bench_with_input(
                    BenchmarkId::new(format!("batch_100_roots_{threads}_threads"), nodes),
                    &reqs,
                    |b, r| {
                        b.iter(|| {
                            pool.install(|| hotspot::decompose_batch(&graph, r).expect("batch"))
                        })
                    },
                );
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(n) = std::env::var("MIERUKA_COMPARE") {
        compare(n.parse().expect("MIERUKA_COMPARE=NODES"));
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

/// Times root 0 for compare_hotspot.py: JSON with the median and every run, in ms.
fn compare(nodes: usize) {
    let t = Instant::now();
    let (graph, _, edges) = build(nodes);
    let req = root(nodes, 0);
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let items = hotspot::decompose_raw(&graph, &req).expect("decompose");
    let total =
        mieruka::model::fixed::to_f64(items.iter().map(|i| i.value).sum(), hotspot::VALUE_SCALE);
    let mut runs = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let items = hotspot::decompose_raw(&graph, &req).expect("decompose");
        runs.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(items);
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{{\"nodes\": {nodes}, \"edges\": {edges}, \"build_ms\": {build_ms:.1}, \"items\": {}, \"total_kgco2e\": {total}, \"median_ms\": {:.3}, \"runs_ms\": {runs:?}}}",
        items.len(),
        sorted[sorted.len() / 2]
    );
}
