//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use mieruka::ingest::{self, IngestOptions, IngestReport, Prepared, Source};
use mieruka::table::Tables;

/// The repository's `tests/fixtures` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A source from text.
pub fn source(name: &str, text: &str) -> Source {
    Source::new(name, text.as_bytes().to_vec())
}

/// Checks sources against an empty dataset with default options.
pub fn check(sources: &[Source]) -> Prepared {
    check_with(sources, &IngestOptions::default())
}

/// Checks sources against an empty dataset.
pub fn check_with(sources: &[Source], opts: &IngestOptions) -> Prepared {
    ingest::prepare(&Tables::default(), sources, opts, &|_| {}).expect("prepare")
}

/// The report's warnings of BOM edges whose product has no footprint (dangling edges).
pub fn dangling(report: &IngestReport) -> Vec<&str> {
    report
        .warnings
        .iter()
        .filter(|w| w.message.contains("no footprint yet"))
        .map(|w| w.message.as_str())
        .collect()
}

/// A fresh temporary directory under `target/`, removed first if it exists.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The PACT v2 example footprint (`get-footprint-response.json`'s `data`), as a JSON value.
pub fn v2_example() -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("pact/v2/get-footprint-response.json"))
        .expect("fixture");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["data"].clone()
}

/// The PACT v3 example footprint `example-1.json`.
pub fn v3_example() -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("pact/v3/example-1.json")).expect("fixture");
    serde_json::from_str(&text).expect("json")
}
