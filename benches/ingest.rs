//! Ingest throughput: full validation of every field of generated PACT v2.3 + GxD NDJSON
//! into Arrow record batches (`prepare` + `to_tables`), on every core.
//!
//! `cargo bench --bench ingest`; `MIERUKA_BENCH_DOCS` sets the document count (default
//! 20,000; BENCHMARKS.md records 200,000).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mieruka::generator::{self, GenOptions};
use mieruka::ingest::{self, IngestOptions, Source};
use mieruka::table::Tables;

fn bench(c: &mut Criterion) {
    let docs: usize = std::env::var("MIERUKA_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("mieruka-bench-ingest-{docs}"));
    let graph = generator::generate(&GenOptions {
        nodes: docs,
        tiers: 5,
        fanout: 4,
        seed: 42,
        ..GenOptions::default()
    })
    .expect("generate");
    let summary = generator::write(&graph, &dir).expect("write");
    let bytes = std::fs::read(&summary.footprints).expect("read");
    let sources = vec![Source::new("footprints.ndjson", bytes)];
    let existing = Tables::default();
    let opts = IngestOptions::default();

    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(summary.footprint_bytes));
    group.bench_function(format!("validate_to_arrow/{docs}_docs"), |b| {
        b.iter(|| {
            let p = ingest::prepare(&existing, &sources, &opts, &|_| {}).expect("prepare");
            assert_eq!(p.report.rejected, 0);
            p.to_tables(1).expect("tables")
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
