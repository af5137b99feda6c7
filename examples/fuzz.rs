//! Fuzzes mieruka's parsers (see `fuzz/engine.rs`):
//!
//! ```sh
//! cargo run --release --example fuzz -- [TARGET…] [--seconds N] [--execs N] [--seed N]
//! ```
//!
//! With no target, every target in turn. Prints one line per target (executions, rate,
//! crashes, corpus, slowest execution) and exits 1 if any input crashed, 3 on a hang.

#[path = "../fuzz/engine.rs"]
mod engine;

use std::time::{Duration, Instant};

fn main() {
    let mut names = Vec::new();
    let (mut seconds, mut execs, mut seed) = (60u64, u64::MAX, 1u64);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = |what: &str| -> u64 {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
                eprintln!("fuzz: {what} needs a number");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--seconds" => seconds = number("--seconds"),
            "--execs" => execs = number("--execs"),
            "--seed" => seed = number("--seed"),
            "-h" | "--help" => {
                println!(
                    "fuzz [TARGET…] [--seconds N per target, default 60] [--execs N] [--seed N]\ntargets: {}",
                    engine::TARGETS.join(" ")
                );
                return;
            }
            name => names.push(name.to_owned()),
        }
    }
    if names.is_empty() {
        names = engine::TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    let mut crashed = false;
    let mut total = 0;
    for name in &names {
        let Some(mut target) = engine::target(name) else {
            eprintln!(
                "fuzz: no target {name:?}; targets: {}",
                engine::TARGETS.join(" ")
            );
            std::process::exit(2);
        };
        let started = Instant::now();
        let until = started + Duration::from_secs(seconds);
        let r = engine::run(&mut target, seed, until, execs, Duration::from_secs(10));
        let took = started.elapsed().as_secs_f64();
        total += r.execs;
        println!(
            "{name:<15} {:>11} execs {:>8.0}/s  crashes {}  corpus {}  outcomes {}  slowest {:.1?}",
            r.execs,
            r.execs as f64 / took.max(1e-9),
            r.crashes.len(),
            r.corpus,
            r.outcomes,
            r.slowest
        );
        for (input, why) in r.crashes.iter().take(5) {
            println!(
                "  crash: {why}\n  input: {:?}",
                String::from_utf8_lossy(&input[..input.len().min(300)])
            );
        }
        crashed |= !r.crashes.is_empty();
    }
    println!("total {total} executions");
    if crashed {
        std::process::exit(1);
    }
}
