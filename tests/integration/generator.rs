//! `mieruka gen`: deterministic output that ingests cleanly.

use mieruka::generator::{self, GenOptions};
use mieruka::ingest::Source;

use crate::common::{check, temp_dir};

fn opts(seed: u64) -> GenOptions {
    GenOptions {
        nodes: 400,
        tiers: 4,
        fanout: 3,
        seed,
        cycle_pct: 5.0,
        ..GenOptions::default()
    }
}

#[test]
fn the_same_seed_gives_byte_identical_files() {
    let a = temp_dir("gen-a");
    let b = temp_dir("gen-b");
    let c = temp_dir("gen-c");
    generator::write(&generator::generate(&opts(9)).expect("gen"), &a).expect("write");
    generator::write(&generator::generate(&opts(9)).expect("gen"), &b).expect("write");
    generator::write(&generator::generate(&opts(10)).expect("gen"), &c).expect("write");
    for f in ["footprints.ndjson", "bom.csv"] {
        let (x, y, z) = (
            std::fs::read(a.join(f)),
            std::fs::read(b.join(f)),
            std::fs::read(c.join(f)),
        );
        assert_eq!(x.as_ref().ok(), y.as_ref().ok(), "{f}");
        assert_ne!(x.ok(), z.ok(), "{f}: another seed, other data");
    }
}

#[test]
fn generated_chains_ingest_without_errors() {
    let dir = temp_dir("gen-ingest");
    let s = generator::write(&generator::generate(&opts(3)).expect("gen"), &dir).expect("write");
    let sources: Vec<Source> = [s.footprints, s.bom]
        .iter()
        .flat_map(|p| Source::read_path(p).expect("read"))
        .collect();
    let p = check(&sources);
    assert_eq!(p.report.rejected, 0, "{:#?}", p.report.errors.first());
    assert_eq!(p.footprints.len(), 400);
    assert_eq!(p.bom.len(), s.edges);
    assert!(
        p.report.warnings.is_empty(),
        "{:#?}",
        p.report.warnings.first()
    );
}
