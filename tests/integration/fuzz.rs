//! The fuzz smoke: every fuzz target (`fuzz/engine.rs`) for a few seconds from its seed
//! corpus, with no crash and no hang. Long runs: `cargo run --release --example fuzz`
//! (RELIABILITY.md has the figures).

#[path = "../../fuzz/engine.rs"]
mod engine;

use std::time::{Duration, Instant};

/// Seconds per target: about a minute and a half for all ten, in a debug build.
const SECONDS: u64 = 8;

#[test]
fn every_fuzz_target_survives_a_short_run() {
    // The harness builds hostile values 2,000 levels deep, whose (recursive) printing and
    // dropping need more than a test thread's stack; mieruka's own parsers refuse them
    // before they recurse. The main thread of `cargo run --example fuzz` has 8 MiB.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(fuzz_every_target)
        .expect("thread")
        .join()
        .expect("fuzz thread");
}

fn fuzz_every_target() {
    let mut lines = Vec::new();
    let mut crashes = Vec::new();
    for (i, name) in engine::TARGETS.iter().enumerate() {
        let mut target = engine::target(name).expect("target");
        assert!(
            engine::seeds_dir(name).is_dir(),
            "fuzz/seeds/{name} is missing"
        );
        let until = Instant::now() + Duration::from_secs(SECONDS);
        let r = engine::run(
            &mut target,
            i as u64 + 1,
            until,
            u64::MAX,
            Duration::from_secs(60),
        );
        // Every seed runs, and mutations after them.
        assert!(
            r.execs > engine::seeds(name).len() as u64,
            "{name}: only {} executions",
            r.execs
        );
        lines.push(format!("{name}: {} execs, corpus {}", r.execs, r.corpus));
        for (input, why) in r.crashes {
            crashes.push(format!(
                "{name}: {why}\n  input: {:?}",
                String::from_utf8_lossy(&input[..input.len().min(300)])
            ));
        }
    }
    eprintln!("{}", lines.join("\n"));
    assert!(crashes.is_empty(), "{}", crashes.join("\n"));
}
