//! The `mieruka` binary: exit codes and the JSON ingest report contract.

use std::process::Command;

use crate::common::{fixtures, temp_dir};

pub(crate) fn mieruka() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mieruka"));
    c.env_remove("MIERUKA_DATA");
    c
}

#[test]
fn ingest_reports_json_and_exits_1_on_rejections() {
    let dir = temp_dir("cli-ingest");
    let out = mieruka()
        .args(["ingest", "--format", "json", "--data"])
        .arg(dir.join("data"))
        .arg(fixtures().join("pact/v2/get-footprint-response.json"))
        .arg(fixtures().join("pact/v2/invalid-response-all-properties.json"))
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(r["accepted"], 1);
    assert_eq!(r["rejected"], 1);
    assert!(r["warnings"].is_array());
    let e = &r["errors"][0];
    assert!(
        e["source"]
            .as_str()
            .unwrap_or("")
            .ends_with("invalid-response-all-properties.json")
    );
    assert_eq!(e["index"], 0);
    assert_eq!(e["line"], 11);
    assert_eq!(e["pointer"], "/updated");
    assert!(e["message"].is_string());
}

#[test]
fn ingest_without_a_data_directory_is_a_usage_error() {
    let out = mieruka()
        .args(["ingest"])
        .arg(fixtures().join("pact/v2/get-footprint-response.json"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
    let out = mieruka()
        .args(["ingest", "--dry-run", "--format", "json"])
        .arg(fixtures().join("pact/v3/example-2.json"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let out = mieruka()
        .args([
            "ingest",
            "--data",
            "/nonexistent/x",
            "/nonexistent/file.json",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn footprints_and_queries_run_on_the_bundled_demo() {
    let out = mieruka()
        .args(["footprints", "--format", "csv"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Header plus the 46 latest footprints.
    assert_eq!(text.lines().count(), 47);
    let out = mieruka()
        .args(["query", "footprints/summary", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let out = mieruka()
        .args(["query", "no/such/query"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such query"));
    // A value the query does not take is refused before anything is read: the data directory
    // named here does not exist, and the error is about the parameter, not the directory.
    let out = mieruka()
        .args([
            "query",
            "ranking/suppliers",
            "--param",
            "by=price",
            "--data",
        ])
        .arg(temp_dir("cli-no-data").join("missing"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("parameter $by: \"price\" is not one of score, intensity, reduction, pds"),
        "{err}"
    );
}

#[test]
fn serve_without_a_config_refuses_a_public_address() {
    let out = mieruka()
        .args(["serve", "--bind", "0.0.0.0:0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--config"), "{stderr}");
}

#[test]
fn serve_rejects_a_config_with_a_bad_token_hash() {
    let dir = temp_dir("cli-serve-config");
    let config = dir.join("mieruka.toml");
    std::fs::write(
        &config,
        "[[token]]\nname = \"ops\"\nsha256 = \"not-a-hash\"\nrole = \"admin\"\n",
    )
    .expect("write");
    let out = mieruka()
        .args(["serve", "--bind", "127.0.0.1:0", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sha256 must be 64 hex digits"), "{stderr}");
}

#[test]
fn serve_with_a_config_refuses_plain_http_off_loopback() {
    let dir = temp_dir("cli-serve-plain");
    let config = dir.join("mieruka.toml");
    std::fs::write(
        &config,
        format!(
            "[[token]]\nname = \"ops\"\nsha256 = \"{}\"\nrole = \"admin\"\n",
            "0".repeat(64)
        ),
    )
    .expect("write");
    let out = mieruka()
        .args(["serve", "--bind", "0.0.0.0:0", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--tls-cert"), "{stderr}");
}

#[test]
fn gaps_rank_what_to_ask_suppliers_for() {
    let run = |top: &str| -> Vec<serde_json::Value> {
        let out = mieruka()
            .args([
                "gaps",
                "--product",
                "urn:mieruka-demo:product:kaede-note-14",
            ])
            .args(["--format", "json", "--top", top])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json rows")
    };
    let all = run("0");
    // datasets/pc-supply-chain/build.py: Meridian's SoC is a black box (FY2024 cfp 24.5, no
    // Gate-to-Gate data), one per mainboard, one mainboard per PC, whose CFP is 150.4727:
    // the largest gap, 24.5 / 150.4727 = 16.28 % of it.
    let first = &all[0];
    assert_eq!(first["rank"], 1);
    assert_eq!(first["kind"], "unresolved");
    assert_eq!(first["company_name"], "Meridian Semiconductor Inc.");
    assert_eq!(first["kgco2e"], "24.5");
    let share = first["share_pct"].as_f64().expect("share");
    assert!((share - 24.5 / 150.4727 * 100.0).abs() < 1e-9, "{share}");
    // Ranked by share; build.py lists a thermal module that has no footprint at all.
    let shares: Vec<f64> = all.iter().filter_map(|r| r["share_pct"].as_f64()).collect();
    assert!(shares.windows(2).all(|w| w[0] >= w[1]), "{shares:?}");
    assert!(all.iter().any(|r| r["kind"] == "dangling_input"
        && r["input"] == "urn:mieruka-demo:product:thermal-module-tm14"));
    assert_eq!(run("3").len(), 3);
}

/// `footprints --explain-conversion`: a v2 footprint of the demo as v3 (exit 0, with the
/// document in JSON), a v3 one per piece left out of v2 (exit 1, with the reason), an unknown
/// id (exit 2).
#[test]
fn footprints_explain_their_conversion_to_the_other_pact_version() {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/pc-supply-chain");
    let v2: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(demo.join("footprints-pact-v2.json")).expect("v2 file"),
    )
    .expect("json");
    let v2 = &v2["data"][0];
    let id = v2["id"].as_str().expect("id");
    let out = mieruka()
        .args(["footprints", "--explain-conversion", id, "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((j["from"].as_u64(), j["to"].as_u64()), (Some(2), Some(3)));
    assert_eq!(
        j["document"]["pcf"]["pcfExcludingBiogenicUptake"],
        v2["pcf"]["pCfExcludingBiogenic"]
    );
    assert!(
        j["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .any(|n| n["from"] == "/version" && n["change"] == "left_out")
    );

    let v3_line = std::fs::read_to_string(demo.join("footprints-pact-v3.ndjson")).expect("v3");
    let v3: serde_json::Value =
        serde_json::from_str(v3_line.lines().next().expect("a line")).expect("json");
    let out = mieruka()
        .args([
            "footprints",
            "--explain-conversion",
            v3["id"].as_str().expect("id"),
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("left out of /2/footprints"), "{text}");
    assert!(
        text.contains("\"piece\" has no PACT v2 counterpart"),
        "{text}"
    );

    let out = mieruka()
        .args([
            "footprints",
            "--explain-conversion",
            "00000000-0000-4000-8000-000000000000",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no footprint"));
}

/// `mieruka batch hotspots` on the demo: its one root product (the notebook PC, which no
/// footprint takes as an input) with the items `mieruka hotspots` gives it; the directory is
/// never replaced.
#[test]
fn batch_hotspots_writes_every_roots_items_once() {
    let dir = temp_dir("cli-batch");
    let out = dir.join("hotspots");
    let run = mieruka()
        .args(["batch", "hotspots", "--all-roots", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let single = mieruka()
        .args([
            "hotspots",
            "--product",
            "urn:mieruka-demo:product:kaede-note-14",
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    let single: serde_json::Value = serde_json::from_slice(&single.stdout).expect("json");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("batch.json")).expect("read"))
            .expect("json");
    assert_eq!(summary["roots"], 1);
    assert_eq!(
        summary["items"].as_u64(),
        single["items"].as_array().map(|a| a.len() as u64)
    );
    for table in ["items", "suppliers", "tiers"] {
        let files = std::fs::read_dir(out.join(table)).expect("table directory");
        assert!(files.count() >= 1, "{table}: no file");
    }

    let again = mieruka()
        .args(["batch", "hotspots", "--all-roots", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    let neither = mieruka()
        .args(["batch", "hotspots", "--out"])
        .arg(dir.join("other"))
        .output()
        .expect("run");
    assert_eq!(neither.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&neither.stderr).contains("--all-roots"));
}

/// `--engine` says what it needs: a data directory (the demo lives only in this process),
/// and in a build without the cluster feature, how to build one that has it.
#[test]
fn engine_asks_for_a_data_directory_and_the_cluster_feature() {
    let out = mieruka()
        .args([
            "query",
            "--engine",
            "ballista://127.0.0.1:50050",
            "footprints/summary",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--data DIR"), "{err}");
    if cfg!(feature = "cluster") {
        return;
    }
    let dir = temp_dir("cli-engine");
    let out = mieruka()
        .args(["serve", "--engine", "ballista://127.0.0.1:50050", "--data"])
        .arg(&dir)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--features cluster"), "{err}");
}

/// `score`, `rank`, `sheet` and `whatif` from a data directory read only what scoring needs
/// (the scoring columns of `footprints`, `gx_attributes`, the graph index for a ranking's
/// contributions and a scenario's decomposition), `footprints` only the columns it lists:
/// over the demo ingested into a directory they print what they print over the bundled
/// demo, read whole.
#[test]
fn commands_from_a_data_directory_match_the_bundled_demo() {
    let dir = temp_dir("cli-scored").join("data");
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/pc-supply-chain");
    let out = mieruka()
        .args(["ingest", "--data"])
        .arg(&dir)
        .arg(&demo)
        .output()
        .expect("ingest");
    // The demo ingests with one warning (bom.csv names a thermal module with no footprint).
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pc = "urn:mieruka-demo:product:kaede-note-14";
    for args in [
        vec!["score", "--format", "json"],
        vec!["score", "--format", "csv", "--category", "45"],
        vec!["rank", "--format", "json", "--product", pc],
        vec!["rank", "--format", "csv", "--by", "intensity"],
        vec!["sheet", "--format", "csv", "--lang", "ja"],
        vec!["footprints", "--format", "csv"],
        vec![
            "footprints",
            "--all-versions",
            "--company",
            "Hanbit",
            "--format",
            "json",
        ],
        vec![
            "whatif",
            "--scenario",
            "display-supplier",
            "--format",
            "json",
        ],
    ] {
        let run = |data: Option<&std::path::Path>| {
            let mut c = mieruka();
            c.args(&args);
            if let Some(d) = data {
                c.arg("--data").arg(d);
            }
            let out = c.output().expect("run");
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        let bundled = run(None);
        assert!(bundled.len() > 200, "{args:?}: {} bytes", bundled.len());
        assert_eq!(
            String::from_utf8_lossy(&run(Some(&dir))),
            String::from_utf8_lossy(&bundled),
            "{args:?}"
        );
    }

    // Statements whose names are not all the store's (`query::reads` leaves those out):
    // a misspelt table is the planner's error, the default schema named is the same table,
    // and DataFusion's own table functions answer.
    let query = |sql: &str| {
        mieruka()
            .args(["query", "--format", "csv", "--data"])
            .arg(&dir)
            .arg(sql)
            .output()
            .expect("run")
    };
    for (sql, said) in [
        (
            "SELECT count(*) AS n FROM footprint",
            "table 'datafusion.public.footprint' not found",
        ),
        (
            "SELEC count(*) FROM footprints",
            "Expected: an SQL statement, found: SELEC",
        ),
        (
            "SELECT * FROM a.b.c.d",
            "Unsupported compound identifier 'a.b.c.d'",
        ),
    ] {
        let out = query(sql);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(said), "{sql}: {err}");
    }
    let plain = query("SELECT count(*) AS n FROM footprints");
    let qualified = query("SELECT count(*) AS n FROM datafusion.public.footprints");
    // Every stored footprint of the demo: 46 latest and the 2 versions they superseded.
    assert_eq!(String::from_utf8_lossy(&plain.stdout), "n\n48\n");
    assert_eq!(qualified.stdout, plain.stdout);
    let out = query("SELECT sum(value) AS s FROM generate_series(1, 3)");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "s\n6\n");
}
