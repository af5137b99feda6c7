//! GX scoring throughput: 1,000,000 generated products on the default profile (12
//! indicators, category overrides), exact decimals, on every core.
//!
//! `cargo bench --bench score`; `MIERUKA_COMPARE=OUT_DIR` instead writes the inputs to
//! `OUT_DIR/score-inputs.csv`, times the scoring and prints JSON for benches/compare_score.py.

use std::time::Instant;

use criterion::{Criterion, criterion_group};
use mieruka::generator::Rng;
use mieruka::score::{Inputs, Key, Profile, Values, score};
use rust_decimal::Decimal;

const N: usize = 1_000_000;
const CPC: [&str; 5] = ["4521", "4526", "4530", "4642", "4714"];

/// Seeded synthetic inputs: about 10 % of the yes/no facts and a third of the numbers missing.
pub fn inputs(n: usize) -> Inputs {
    let mut i = Inputs::with_len(n);
    let mut rng = Rng::for_item(11, 0, 0);
    i.cpc = (0..n)
        .map(|_| Some(CPC[rng.below(5) as usize].to_owned()))
        .collect();
    for key in Key::ALL {
        let mut rng = Rng::for_item(11, key as u64 + 1, 1);
        let values = if key.is_flag() {
            Values::Flag(
                (0..n)
                    .map(|_| (!rng.chance(10.0)).then(|| rng.chance(60.0)))
                    .collect(),
            )
        } else {
            let (lo, hi) = match key {
                Key::Cfp => (1_000, 400_000),
                Key::Rep => (-5_000, 20_000),
                Key::Aep => (0, 30_000),
                Key::CircularOutflow => (0, 100_000),
                Key::CircularInflow => (0, 60_000),
                _ => (0, 100_000),
            };
            Values::Number(
                (0..n)
                    .map(|_| (!rng.chance(33.0)).then(|| rng.milli(lo, hi)))
                    .collect(),
            )
        };
        i.set(key, values);
    }
    i
}

fn bench(c: &mut Criterion) {
    let inputs = inputs(N);
    let profile = Profile::default_profile();
    let mut group = c.benchmark_group("score");
    group.sample_size(20);
    group.bench_function("default_profile/1000000_products", |b| {
        b.iter(|| score(&profile, &inputs))
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(dir) = std::env::var("MIERUKA_COMPARE") {
        compare(std::path::Path::new(&dir));
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

fn compare(dir: &std::path::Path) {
    use std::fmt::Write as _;
    let inputs = inputs(N);
    let profile = Profile::default_profile();
    std::fs::create_dir_all(dir).expect("dir");
    let path = dir.join("score-inputs.csv");
    if !path.exists() {
        let mut s = String::from("cpc");
        for k in Key::ALL {
            let _ = write!(s, ",{}", k.as_str());
        }
        s.push('\n');
        for p in 0..N {
            s.push_str(inputs.cpc.get(p).unwrap_or(""));
            for k in Key::ALL {
                s.push(',');
                s.push_str(&inputs.values(k).text(p).unwrap_or_default());
            }
            s.push('\n');
        }
        std::fs::write(&path, s).expect("write");
    }
    let mut runs = Vec::new();
    let mut total = Decimal::ZERO;
    for _ in 0..15 {
        let t = Instant::now();
        let s = score(&profile, &inputs);
        runs.push(t.elapsed().as_secs_f64() * 1e3);
        total = Decimal::new(s.gx_micros.iter().sum(), 6);
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{{\"products\": {N}, \"total_gx_score\": \"{total}\", \"median_ms\": {:.3}, \"runs_ms\": {runs:?}}}",
        sorted[sorted.len() / 2]
    );
}
