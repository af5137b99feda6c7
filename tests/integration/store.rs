//! The data directory: round trips, idempotency, versions, atomicity and concurrency.

use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use mieruka::ingest::{self, IngestOptions, IngestReport, Source};
use mieruka::store::Store;
use serde_json::json;

use crate::common::{dangling, source, temp_dir, v2_example};

/// Ingests `sources` into `dir` the way `mieruka ingest --data` does.
fn ingest_into(dir: &Path, sources: &[Source], opts: &IngestOptions) -> IngestReport {
    let store = Store::create_or_open(dir).expect("store");
    ingest::ingest_into(&store, sources, opts, &|_| {}).expect("ingest")
}

/// A fresh directory `name` with the demo dataset ingested.
fn demo_dir(name: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    ingest_into(
        &dir,
        &mieruka::dataset::demo_sources(),
        &IngestOptions::default(),
    );
    dir
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// A view's batches as one (the test datasets are small).
fn one(batches: Vec<RecordBatch>) -> RecordBatch {
    let schema = batches[0].schema();
    concat_batches(&schema, &batches).expect("concat")
}

fn count(dir: &Path) -> (usize, usize, usize) {
    let t = Store::open(dir).expect("open").load().expect("load");
    (
        rows(&t.footprints_view().expect("view")),
        rows(&t.bom_view().expect("view")),
        rows(&t.extensions_view()),
    )
}

#[test]
fn ingest_store_reopen_gives_identical_tables() {
    let dir = temp_dir("store-roundtrip");
    let sources = mieruka::dataset::demo_sources();
    let store = Store::create_or_open(&dir).expect("store");
    let lock = store.lock().expect("lock");
    let existing = lock.load().expect("load");
    let prepared =
        ingest::prepare(&existing, &sources, &IngestOptions::default(), &|_| {}).expect("prepare");
    let seq = lock.commit(|seq| prepared.to_tables(seq)).expect("commit");
    drop(lock);
    assert_eq!(seq, 1);

    let in_memory = prepared.to_tables(seq).expect("tables");
    let reopened = Store::open(&dir).expect("open").load().expect("load");
    assert_eq!(reopened.footprints, in_memory.footprints);
    assert_eq!(
        reopened.footprint_extensions,
        in_memory.footprint_extensions
    );
    assert_eq!(reopened.bom, in_memory.bom);
    assert_eq!(reopened.ingest_log, in_memory.ingest_log);
    assert_eq!(
        reopened.footprints_view().expect("view"),
        in_memory.footprints_view().expect("view")
    );

    // Every original file is kept byte for byte.
    for (i, s) in sources.iter().enumerate() {
        let name = Path::new(&s.name)
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let kept = std::fs::read(dir.join(format!("segments/000001/originals/{i:03}-{name}")))
            .expect("original");
        assert_eq!(kept, s.read().expect("source"), "{}", s.name);
    }
}

#[test]
fn reingesting_is_idempotent() {
    let dir = temp_dir("store-idempotent");
    let sources = mieruka::dataset::demo_sources();
    let first = ingest_into(&dir, &sources, &IngestOptions::default());
    assert!(first.stored);
    let before = count(&dir);
    let again = ingest_into(&dir, &sources, &IngestOptions::default());
    assert_eq!(again.rejected, 0);
    assert_eq!(again.duplicates, again.accepted, "{again:#?}");
    assert!(!again.stored, "nothing new: no new segment");
    assert_eq!(count(&dir), before);
    // Whitespace and key order do not make a document different.
    let doc = v2_example();
    ingest_into(
        &dir,
        &[source("a.json", &doc.to_string())],
        &IngestOptions::default(),
    );
    let pretty = serde_json::to_string_pretty(&doc).expect("json");
    let r = ingest_into(
        &dir,
        &[source("b.json", &pretty)],
        &IngestOptions::default(),
    );
    assert_eq!((r.duplicates, r.rejected), (1, 0));
}

/// What a server does after an upload: the tables of the segments it holds are shared (a
/// million footprints are neither read again nor held twice) and only the new segment is
/// read, into the same tables a whole read gives.
#[test]
fn reading_after_a_commit_reads_only_the_new_segment() {
    use std::sync::Arc;
    let dir = demo_dir("store-load-after");
    let store = Store::open(&dir).expect("open");
    let before = store.load().expect("load");
    let more = ingest_into(
        &dir,
        &[source("more.json", &v2_example().to_string())],
        &IngestOptions::default(),
    );
    assert_eq!((more.footprints, more.rejected), (1, 0), "{more:#?}");

    let after = store.load_after(&before).expect("load after");
    let whole = store.load().expect("load");
    assert_eq!(after.footprints, whole.footprints);
    assert_eq!(after.footprint_extensions, whole.footprint_extensions);
    assert_eq!(after.bom, whole.bom);
    assert_eq!(after.ingest_log, whole.ingest_log);
    assert_eq!(after.gx_attributes, whole.gx_attributes);
    assert_eq!(after.requests, whole.requests);
    assert_eq!(after.segments, whole.segments);
    let seqs = |t: &mieruka::table::Tables| t.originals.0.keys().copied().collect::<Vec<_>>();
    assert_eq!(seqs(&after), vec![1, 2]);
    assert_eq!(rows(&after.footprints), rows(&before.footprints) + 1);
    // The first segment's batches are the very ones read before, not copies.
    let shared = |a: &[RecordBatch], b: &[RecordBatch]| {
        a.iter()
            .zip(b)
            .all(|(a, b)| Arc::ptr_eq(a.column(0), b.column(0)))
    };
    assert!(shared(&before.footprints, &after.footprints));
    assert!(shared(&before.ingest_log, &after.ingest_log));
    assert!(!shared(&before.footprints, &whole.footprints));

    // Tables read in part, or from a copy of the directory (the same segments, another
    // place), share nothing: everything is read.
    let some = store
        .load_some(mieruka::table::TableSet {
            footprints: true,
            ..mieruka::table::TableSet::NONE
        })
        .expect("load some");
    let from_some = store.load_after(&some).expect("load after some");
    assert_eq!(from_some.bom, whole.bom);
    assert!(!shared(&some.footprints, &from_some.footprints));
    let copy = temp_dir("store-load-after-copy");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(dir.join("."))
        .arg(&copy)
        .status()
        .expect("cp");
    assert!(status.success());
    let copied = Store::open(&copy).expect("open copy");
    let from_copy = copied.load_after(&whole).expect("load after, copy");
    assert_eq!(from_copy.footprints, whole.footprints);
    assert!(!shared(&whole.footprints, &from_copy.footprints));
}

/// A BOM CSV row already stored is a duplicate when its amount has the same value, whatever
/// its digits (1.5 and 1.50), and its unit is the same; any other amount or unit is a
/// new row of the edge.
#[test]
fn a_stored_bom_row_is_found_again_by_value() {
    let dir = temp_dir("store-bom-again");
    let csv = |name: &str, row: &str| {
        let text = format!("parent_product_id,child_product_id,amount,unit\n{row}\n");
        ingest_into(&dir, &[source(name, &text)], &IngestOptions::default())
    };
    let first = csv("a.csv", "urn:test:p,urn:test:c,1.5,kilogram");
    assert_eq!((first.bom_edges, first.duplicates), (1, 0), "{first:#?}");
    for (i, (row, new)) in [
        ("urn:test:p,urn:test:c,1.50,kilogram", false),
        ("urn:test:p,urn:test:c,1.500000,kilogram", false),
        ("urn:test:p,urn:test:c,1.6,kilogram", true),
        ("urn:test:p,urn:test:c,1.6,liter", true),
        ("urn:test:p,urn:test:c,1.6,", true),
        ("urn:test:p,urn:test:c,1.60,", false),
    ]
    .into_iter()
    .enumerate()
    {
        let r = csv(&format!("{i}.csv"), row);
        let want = if new { (1, 0) } else { (0, 1) };
        assert_eq!((r.bom_edges, r.duplicates), want, "{row}: {r:#?}");
    }
}

/// A BOM CSV ingested on its own reads no stored document (only footprints are compared
/// with those), but still knows every stored footprint's products: a row naming one is no
/// dangling edge, a row naming a product nobody published is.
#[test]
fn a_bom_csv_alone_knows_the_stored_products() {
    let dir = demo_dir("store-bom-alone");
    let text = "parent_product_id,child_product_id,amount,unit\n\
        urn:mieruka-demo:product:aoba-lcm-140,urn:mieruka-demo:product:formosa-lcd-cell,1,\n\
        urn:mieruka-demo:product:aoba-lcm-140,urn:test:nobody-published-this,2,\n";
    let r = ingest_into(&dir, &[source("more.csv", text)], &IngestOptions::default());
    assert_eq!((r.bom_edges, r.rejected), (2, 0), "{r:#?}");
    let dangling = dangling(&r);
    assert_eq!(dangling.len(), 1, "{dangling:?}");
    assert!(dangling[0].contains("urn:test:nobody-published-this"));
    // The same store still finds a stored document again when footprints come.
    let again = ingest_into(
        &dir,
        &mieruka::dataset::demo_sources(),
        &IngestOptions::default(),
    );
    assert_eq!(again.footprints, 0, "{again:#?}");
}

#[test]
fn a_newer_version_supersedes_but_history_stays() {
    let dir = temp_dir("store-versions");
    let v1 = v2_example();
    let mut v2 = v2_example();
    v2["version"] = json!(2);
    v2["pcf"]["pCfExcludingBiogenic"] = json!("1.5");
    ingest_into(
        &dir,
        &[source("v1.json", &v1.to_string())],
        &IngestOptions::default(),
    );
    ingest_into(
        &dir,
        &[source("v2.json", &v2.to_string())],
        &IngestOptions::default(),
    );
    let t = Store::open(&dir).expect("open").load().expect("load");
    let view = one(t.footprints_view().expect("view"));
    assert_eq!(view.num_rows(), 2);
    let latest = view.column_by_name("is_latest").expect("is_latest");
    let versions = view.column_by_name("version").expect("version");
    let rows: Vec<(String, String)> = (0..2)
        .map(|i| {
            (
                mieruka::output::text(versions, i),
                mieruka::output::text(latest, i),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("1".into(), "false".into()), ("2".into(), "true".into())]
    );
    // The graph index of the second commit keeps the same flags, a row each in stored order.
    let snapshot = Store::open(&dir)
        .expect("open")
        .snapshot()
        .expect("snapshot");
    let kept = snapshot.latest_flags().expect("kept");
    assert_eq!(kept.iter().collect::<Vec<_>>(), [Some(false), Some(true)]);

    // The same id and version with different content is a conflict, not an update.
    let mut changed = v2_example();
    changed["comment"] = json!("changed without a new version");
    let r = ingest_into(
        &dir,
        &[source("v1b.json", &changed.to_string())],
        &IngestOptions::default(),
    );
    assert_eq!(r.rejected, 1);
    assert_eq!(r.errors[0].pointer, "/version");
    assert!(
        r.errors[0]
            .message
            .contains("already stored with different content")
    );
}

#[test]
fn within_one_ingest_a_footprint_is_compared_with_its_first_document() {
    // One id and version four times in one NDJSON source: A, then B (other content), then A
    // and B again. The first A is the footprint; B conflicts with it every time it comes,
    // and A again is a duplicate of it: a rejected document never takes its place.
    let a = v2_example();
    let mut b = v2_example();
    b["comment"] = json!("changed without a new version");
    let ndjson = [&a, &b, &a, &b].map(|d| d.to_string()).join("\n");
    let dir = temp_dir("store-in-batch");
    let r = ingest_into(
        &dir,
        &[source("four.ndjson", &ndjson)],
        &IngestOptions::default(),
    );
    assert_eq!(
        (r.footprints, r.duplicates, r.rejected),
        (1, 1, 2),
        "{r:#?}"
    );
    let lines: Vec<usize> = r.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 4]);
    assert!(r.errors.iter().all(|e| e.pointer == "/version"));
}

#[test]
fn v3_preceding_ids_supersede() {
    let t = mieruka::dataset::demo().expect("demo");
    let view = one(t.footprints_view().expect("view"));
    let latest = view.column_by_name("is_latest").expect("col");
    let superseded = (0..view.num_rows())
        .filter(|i| mieruka::output::text(latest, *i) == "false")
        .count();
    // build.py publishes two superseded footprints: the resin maker's version 1 (v2, same id)
    // and the mainboard maker's draft (v3, named in precedingPfIds).
    assert_eq!(superseded, 2);
}

#[test]
fn the_hook_before_the_commit_runs_once_per_commit() {
    // `mieruka ingest` gives its allocator's free pages back there: once, before the index
    // is built; an ingest that stores nothing commits nothing and calls nothing.
    use std::sync::atomic::{AtomicUsize, Ordering};
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    fn hook() {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }
    let dir = temp_dir("store-before-commit");
    let opts = IngestOptions {
        all_or_nothing: true,
        before_commit: Some(hook),
        ..IngestOptions::default()
    };
    let good = source("good.json", &v2_example().to_string());
    let r = ingest_into(&dir, &[good.clone(), source("bad.json", "{}")], &opts);
    assert_eq!((r.stored, CALLS.load(Ordering::SeqCst)), (false, 0));
    let r = ingest_into(&dir, &[good], &opts);
    assert_eq!((r.stored, CALLS.load(Ordering::SeqCst)), (true, 1));
}

#[test]
fn all_or_nothing_stores_nothing_after_a_rejection() {
    let dir = temp_dir("store-all-or-nothing");
    let good = v2_example().to_string();
    let opts = IngestOptions {
        all_or_nothing: true,
        ..IngestOptions::default()
    };
    let r = ingest_into(
        &dir,
        &[
            source("good.json", &good),
            source("bad.json", "{\"id\": 1}"),
        ],
        &opts,
    );
    assert_eq!((r.accepted, r.rejected, r.stored), (1, 1, false));
    assert_eq!(count(&dir), (0, 0, 0));
    // Without the flag the good document is stored.
    let r = ingest_into(
        &dir,
        &[
            source("good.json", &good),
            source("bad.json", "{\"id\": 1}"),
        ],
        &IngestOptions::default(),
    );
    assert!(r.stored);
    assert_eq!(count(&dir).0, 1);
}

#[test]
fn concurrent_ingests_are_serialised() {
    let dir = temp_dir("store-concurrent");
    Store::create_or_open(&dir).expect("store");
    let mut docs = Vec::new();
    for i in 0..8 {
        let mut d = v2_example();
        d["id"] = json!(format!("00000000-0000-4000-8000-{i:012}"));
        docs.push(d.to_string());
    }
    std::thread::scope(|s| {
        for (i, d) in docs.iter().enumerate() {
            let dir = dir.clone();
            s.spawn(move || {
                let r = ingest_into(
                    &dir,
                    &[source(&format!("{i}.json"), d)],
                    &IngestOptions::default(),
                );
                assert!(r.stored);
            });
        }
    });
    assert_eq!(count(&dir).0, 8, "every ingest committed");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    let mut seqs: Vec<i64> = manifest["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .map(|s| s["seq"].as_i64().expect("seq"))
        .collect();
    seqs.sort();
    assert_eq!(
        seqs,
        (1..=8).collect::<Vec<_>>(),
        "one segment each, numbered without gaps"
    );
}

/// A fresh directory `name` with the PACT v2 example ingested as `a.json` (ingest #1).
fn one_stored(name: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    ingest_into(
        &dir,
        &[source("a.json", &v2_example().to_string())],
        &IngestOptions::default(),
    );
    dir
}

/// The PACT v2 example under another id, as `b.json`: a second footprint for [`one_stored`].
fn second_footprint() -> Source {
    let mut d = v2_example();
    d["id"] = json!("11111111-1111-4111-8111-111111111111");
    source("b.json", &d.to_string())
}

#[test]
fn an_interrupted_commit_leaves_the_previous_state() {
    let dir = one_stored("store-crash");
    // A segment that was renamed into place but never reached the manifest, and a half
    // written temporary: what a crash between the two renames leaves behind.
    std::fs::create_dir_all(dir.join("segments/000002")).expect("orphan");
    std::fs::write(dir.join("segments/000002/footprints.parquet"), b"garbage").expect("write");
    std::fs::create_dir_all(dir.join("tmp/000002-1")).expect("tmp");
    assert_eq!(count(&dir).0, 1, "readers see the manifest only");
    let r = ingest_into(&dir, &[second_footprint()], &IngestOptions::default());
    assert_eq!(r.ingest_seq, Some(2));
    assert_eq!(count(&dir).0, 2);
}

#[test]
fn a_commit_whose_index_cannot_be_written_leaves_the_store_as_it_was() {
    // A commit moves its segment into place, then builds the index (the disk writes the
    // segment's files meanwhile), then syncs both and writes the manifest. Here the second
    // commit's index cannot take its place (a file is where its directory goes): the commit
    // fails, and its segment goes with it.
    let dir = one_stored("store-index-fails");
    let manifest = std::fs::read(dir.join("manifest.json")).expect("manifest");
    std::fs::write(dir.join("index/000002"), b"in the way").expect("write");
    let b = second_footprint();
    let store = Store::open(&dir).expect("open");
    let e = ingest::ingest_into(
        &store,
        std::slice::from_ref(&b),
        &IngestOptions::default(),
        &|_| {},
    )
    .expect_err("the index cannot be written");
    assert!(e.to_string().contains("index/000002"), "{e}");
    assert_eq!(
        std::fs::read(dir.join("manifest.json")).expect("manifest"),
        manifest
    );
    assert!(!dir.join("segments/000002").exists(), "the segment is gone");
    assert_eq!(count(&dir).0, 1);
    std::fs::remove_file(dir.join("index/000002")).expect("remove");
    let r = ingest_into(&dir, &[b], &IngestOptions::default());
    assert_eq!(r.ingest_seq, Some(2));
    assert_eq!(count(&dir).0, 2);
}

#[test]
fn bad_directories_get_clear_errors() {
    let dir = temp_dir("store-not-ours");
    std::fs::write(dir.join("notes.txt"), "hello").expect("write");
    let e = Store::create_or_open(&dir)
        .expect_err("not empty")
        .to_string();
    assert!(e.contains("not a mieruka data directory"), "{e}");
    let e = Store::open(&dir.join("missing"))
        .expect_err("missing")
        .to_string();
    assert!(e.contains("no data directory here"), "{e}");
    let dir = temp_dir("store-damaged");
    Store::create_or_open(&dir).expect("store");
    std::fs::write(dir.join("manifest.json"), "{ not json").expect("write");
    let e = Store::open(&dir)
        .expect("open")
        .load()
        .expect_err("damaged")
        .to_string();
    assert!(e.contains("manifest.json is damaged"), "{e}");
}

/// Copies the format-1 fixture (written by the release before format 2, see
/// tests/fixtures/README.md) into a fresh directory.
fn v1_copy(name: &str) -> std::path::PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("read_dir") {
            let e = e.expect("entry");
            if e.path().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
            }
        }
    }
    let dir = temp_dir(name);
    copy(
        &crate::common::fixtures().join("store-v1"),
        &dir.join("data"),
    );
    dir.join("data")
}

#[test]
fn a_format_1_directory_is_refused_until_migrated_and_keeps_its_data() {
    let dir = v1_copy("store-migrate");
    let store = Store::open(&dir).expect("open");
    assert_eq!(store.format_version().expect("version"), 1);
    let e = store.load().expect_err("format 1 is refused");
    let msg = e.to_string();
    assert!(msg.contains("mieruka migrate --data"), "{msg}");
    // Ingest refuses too, and writes nothing.
    let r = ingest::ingest_into(
        &store,
        &[source("x.json", &v2_example().to_string())],
        &IngestOptions::default(),
        &|_| {},
    );
    assert!(r.is_err());

    let m = mieruka::store::migrate(&store).expect("migrate");
    // The fixture: ingest 1 holds the v2 list response's footprint and v3 example 1, ingest 2
    // v3 example 2.
    assert_eq!((m.from, m.to, m.segments, m.footprints), (1, 2, 2, 3));
    assert!(
        !dir.join("segments/000001").exists(),
        "old files go after the commit"
    );
    let t = store.load().expect("load after migrating");
    // Every document is found again, byte for byte a slice of its original.
    let mut ids = Vec::new();
    for (bi, b) in t.footprints.iter().enumerate() {
        let id = b.column_by_name("id").expect("id");
        for r in 0..b.num_rows() {
            let doc = t.footprint_document(bi, r).expect("document");
            let v: serde_json::Value = serde_json::from_slice(&doc).expect("json");
            let want = mieruka::output::text(id, r);
            assert_eq!(
                v["id"].as_str().map(str::to_ascii_lowercase),
                Some(want.clone())
            );
            ids.push(want);
        }
    }
    assert_eq!(ids.len(), 3);
    // A second run has nothing to do; the directory then takes new ingests.
    let again = mieruka::store::migrate(&store).expect("again");
    assert_eq!((again.from, again.segments), (2, 0));
    let r = ingest::ingest_into(
        &store,
        &[source("x.json", &v2_example().to_string())],
        &IngestOptions::default(),
        &|_| {},
    )
    .expect("ingest");
    assert_eq!(r.rejected, 0, "{r:#?}");
}

#[test]
fn a_newer_format_is_refused() {
    let dir = temp_dir("store-newer");
    let store = Store::create_or_open(&dir).expect("store");
    let manifest = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let newer = text.replace(
        &format!("\"version\": {}", mieruka::store::FORMAT_VERSION),
        "\"version\": 99",
    );
    assert_ne!(text, newer);
    std::fs::write(&manifest, newer).expect("write");
    let msg = store.load().expect_err("refused").to_string();
    assert!(msg.contains("newer mieruka") && msg.contains("99"), "{msg}");
    assert!(mieruka::store::migrate(&store).is_err());
}

#[test]
fn each_commit_writes_a_graph_index_that_decomposes_as_the_tables_do() {
    let dir = temp_dir("store-graph-index");
    let sources = mieruka::dataset::demo_sources();
    // Two commits: the index of the second covers both.
    let (fp, rest): (Vec<Source>, Vec<Source>) =
        sources.into_iter().partition(|s| !s.name.ends_with(".csv"));
    ingest_into(&dir, &fp, &IngestOptions::default());
    ingest_into(&dir, &rest, &IngestOptions::default());
    let store = Store::open(&dir).expect("open");
    let index = store.graph_index().expect("read").expect("an index");
    let indexes: Vec<_> = std::fs::read_dir(dir.join("index"))
        .expect("index dir")
        .collect();
    assert_eq!(indexes.len(), 1, "the previous commit's index is removed");
    // The store builds its index in steps from the stored columns, a table at a time; the
    // same builder on the tables in memory gives the same four tables.
    assert_index_is_built_from_tables(&store, &index);
    let from_index =
        std::sync::Arc::new(mieruka::hotspot::Graph::from_index(&index).expect("graph"));
    let from_tables = std::sync::Arc::new(
        mieruka::hotspot::Graph::from_tables(&store.load().expect("load")).expect("graph"),
    );
    let req = mieruka::hotspot::Request::new("urn:mieruka-demo:product:kaede-note-14");
    let a = mieruka::hotspot::decompose(&from_index, &req).expect("decompose");
    let b = mieruka::hotspot::decompose(&from_tables, &req).expect("decompose");
    assert_eq!(a, b);
    // build.py: the FY2024 PC is 150.4727 kgCO2e per piece.
    assert_eq!(
        mieruka::model::fixed::format(a.cfp_kgco2e_per_unit, mieruka::hotspot::VALUE_SCALE),
        "150.4727"
    );

    // A damaged index file is an error naming it; the index is derived from the tables, so
    // answers then come from them. (The answers above label their items from the mapped
    // index: kept as JSON, and the mapping released, before the file is damaged.)
    let expected = mieruka::report::hotspot::to_json(&a, None, false);
    drop((a, b, from_index, from_tables, index));
    let index_dir = indexes[0].as_ref().expect("entry").path();
    let nodes = index_dir.join("nodes").join("company_name.arrow");
    let len = std::fs::metadata(&nodes).expect("size").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&nodes)
        .and_then(|f| f.set_len(len / 2))
        .expect("truncate");
    let e = store.graph_index().expect_err("damaged");
    assert!(
        e.to_string().contains("company_name.arrow") && e.to_string().contains("damaged"),
        "{e}"
    );
    let fallback =
        std::sync::Arc::new(mieruka::dataset::graph(Some(&dir)).expect("graph from the tables"));
    let d = mieruka::hotspot::decompose(&fallback, &req).expect("decompose");
    assert_eq!(
        String::from_utf8_lossy(&mieruka::report::hotspot::to_json(&d, None, false)),
        String::from_utf8_lossy(&expected)
    );
}

#[test]
fn text_of_a_damaged_index_that_is_not_utf8_reads_as_a_replacement_character() {
    // The index keeps its text as bytes, so opening it reads none of it; each text is checked
    // as it is read. A byte flipped inside a company's name wherever it is stored (0xFF is
    // never UTF-8) gives that name as U+FFFD, never undefined text; the rest still answers.
    let dir = demo_dir("store-index-utf8");
    let index_dir = the_index_dir(&dir);
    let nodes = index_dir.join("nodes").join("company_name.arrow");
    let mut bytes = std::fs::read(&nodes).expect("read");
    let name = b"Pearl River Power Co., Ltd.";
    let found: Vec<usize> = (0..bytes.len() - name.len())
        .filter(|&at| &bytes[at..at + name.len()] == name)
        .collect();
    assert!(!found.is_empty(), "the name is stored as it is");
    for at in found {
        bytes[at] = 0xFF;
    }
    std::fs::write(&nodes, &bytes).expect("write");
    let store = Store::open(&dir).expect("open");
    let index = store.graph_index().expect("opens").expect("an index");
    let graph = std::sync::Arc::new(mieruka::hotspot::Graph::from_index(&index).expect("graph"));
    let req = mieruka::hotspot::Request::new("urn:mieruka-demo:product:kaede-note-14");
    let d = mieruka::hotspot::decompose(&graph, &req).expect("decompose");
    let names: Vec<&str> = d.items.iter().map(|i| i.company_name).collect();
    assert!(names.contains(&"\u{FFFD}"), "{names:?}");
    assert!(!names.contains(&"Pearl River Power Co., Ltd."), "{names:?}");
    assert!(
        names.contains(&"Lotus Energy Co., Ltd."),
        "others keep theirs: {names:?}"
    );
    // build.py: the FY2024 PC is 150.4727 kgCO2e per piece, damaged names or not.
    assert_eq!(
        mieruka::model::fixed::format(d.cfp_kgco2e_per_unit, mieruka::hotspot::VALUE_SCALE),
        "150.4727"
    );
    // Checked whole, as a server checks its graph's text once: the damaged column keeps being
    // read value by value, and the answer is the same, U+FFFD and all; so is an undamaged
    // index's.
    let json = |g: mieruka::hotspot::Graph| {
        let d = mieruka::hotspot::decompose(&std::sync::Arc::new(g), &req).expect("decompose");
        mieruka::report::hotspot::to_json(&d, None, false)
    };
    let graph = || mieruka::hotspot::Graph::from_index(&index).expect("graph");
    assert_eq!(json(graph().with_text_checked()), json(graph()));
    let intact = demo_dir("store-index-utf8-intact");
    let index = Store::open(&intact)
        .expect("open")
        .graph_index()
        .expect("opens")
        .expect("an index");
    let graph = || mieruka::hotspot::Graph::from_index(&index).expect("graph");
    let checked = json(graph().with_text_checked());
    assert_eq!(checked, json(graph()));
    assert!(String::from_utf8_lossy(&checked).contains("Pearl River Power Co., Ltd."));
}

#[test]
fn an_index_with_a_file_per_table_still_opens() {
    // Earlier builds of data directory format 2 wrote `nodes` and `edges` as one file each
    // (`nodes.arrow`); they are now a file per column (`nodes/id.arrow`, …). An index of
    // either layout opens to the same tables.
    let dir = demo_dir("store-index-one-nodes-file");
    let store = Store::open(&dir).expect("open");
    let index = store.graph_index().expect("read").expect("an index");
    let index_dir = the_index_dir(&dir);
    for (name, table) in [("nodes", &index.nodes), ("edges", &index.edges)] {
        let file = std::fs::File::create(index_dir.join(format!("{name}.arrow"))).expect("create");
        let mut w = datafusion::arrow::ipc::writer::FileWriter::try_new(file, &table.schema())
            .expect("writer");
        w.write(table).expect("write");
        w.finish().expect("finish");
        drop(w);
        std::fs::remove_dir_all(index_dir.join(name)).expect("remove the columns");
    }
    let again = store.graph_index().expect("read").expect("an index");
    for ((a, b), name) in index
        .tables()
        .into_iter()
        .zip(again.tables())
        .zip(mieruka::table::graph_index::TABLES)
    {
        assert_eq!(a, b, "{name}");
    }
    assert_eq!(again.nodes.num_rows(), index.nodes.num_rows());
}

#[test]
fn a_first_commit_writes_the_index_columns_it_kept_as_a_later_commit_reads_them_back() {
    // A first segment's footprints keep the graph index's copied `nodes` columns as they are
    // written, in many batches (4 KiB chunks); a later commit reads them back from every
    // segment. The same footprints stored in one commit, or in two, give the same columns:
    // nulls (black-box nodes have no Gate-to-Gate figures) and all. (Only what null slots
    // hold may differ: Arrow leaves it undefined.)
    let dir = temp_dir("store-kept-index-columns");
    let opts = mieruka::generator::GenOptions {
        nodes: 300,
        tiers: 4,
        fanout: 3,
        seed: 11,
        black_box_pct: 30.0,
        ..Default::default()
    };
    let (_, files, ndjson) = generated(&opts, &dir.join("in"));
    let lines: Vec<&str> = ndjson.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    let halves = [first, second].map(|h| Source::new("half.ndjson", h.join("\n") + "\n"));
    let small = IngestOptions {
        chunk_bytes: 4096,
        ..IngestOptions::default()
    };
    let whole = Source::file(&files.footprints);
    let one = ingest_into(&dir.join("one"), std::slice::from_ref(&whole), &small);
    assert_eq!((one.footprints, one.rejected), (300, 0));
    for half in &halves {
        let r = ingest_into(&dir.join("two"), std::slice::from_ref(half), &small);
        assert_eq!((r.footprints, r.rejected), (150, 0));
    }
    let (a, b) = (
        the_index_dir(&dir.join("one")),
        the_index_dir(&dir.join("two")),
    );
    let mut compared = 0;
    for (_, to) in mieruka::table::graph_index::copied_node_columns() {
        let read = |d: &Path| {
            let file = std::fs::File::open(d.join("nodes").join(format!("{to}.arrow")));
            let reader =
                datafusion::arrow::ipc::reader::FileReader::try_new(file.expect("open"), None);
            let batches: Vec<RecordBatch> =
                reader.expect("ipc").map(|b| b.expect("batch")).collect();
            assert_eq!(batches.len(), 1, "{to}: one batch");
            batches.into_iter().next().expect("batch")
        };
        let (kept, read_back) = (read(&a), read(&b));
        assert_eq!(kept.num_rows(), 300);
        assert_eq!(kept, read_back, "nodes/{to}.arrow");
        compared += 1;
    }
    assert_eq!(
        compared,
        mieruka::table::graph_index::NODE_COLUMNS.len() - 1
    );
    // Nothing of the kept columns is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.join("one").join("tmp"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    // And the index answers as the tables do.
    let store = Store::open(&dir.join("one")).expect("open");
    let index = store.graph_index().expect("read").expect("an index");
    assert_index_is_built_from_tables(&store, &index);
}

/// The chain `opts` generates, written as files into `dir`, and its NDJSON's text.
fn generated(
    opts: &mieruka::generator::GenOptions,
    dir: &Path,
) -> (
    mieruka::generator::Graph,
    mieruka::generator::GenSummary,
    String,
) {
    let g = mieruka::generator::generate(opts).expect("gen");
    let files = mieruka::generator::write(&g, dir).expect("write");
    let ndjson = std::fs::read_to_string(&files.footprints).expect("read");
    (g, files, ndjson)
}

/// `index`, the store's, is the index the same builder makes of its tables in memory.
fn assert_index_is_built_from_tables(
    store: &Store,
    index: &mieruka::table::graph_index::GraphIndex,
) {
    let built = mieruka::table::graph_index::GraphIndex::build(&store.load().expect("load"))
        .expect("build");
    for ((stored, built), name) in index
        .tables()
        .into_iter()
        .zip(built.tables())
        .zip(mieruka::table::graph_index::TABLES)
    {
        let built = mieruka::table::graph_index::GraphIndex::stored(built.clone()).expect("stored");
        assert_eq!(stored, &built, "{name}");
    }
}

/// The one index directory of the data directory `dir`.
fn the_index_dir(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir.join("index"))
        .expect("index dir")
        .next()
        .expect("an index")
        .expect("entry")
        .path()
}

/// Every column of `batches` but `skip`, as one batch (for tables compared across two
/// ingests that ran at different times).
fn without(batches: Vec<RecordBatch>, skip: &str) -> RecordBatch {
    let b = one(batches);
    let keep: Vec<usize> = (0..b.num_columns())
        .filter(|i| b.schema().field(*i).name() != skip)
        .collect();
    b.project(&keep).expect("project")
}

#[test]
fn reading_in_small_chunks_stores_exactly_what_one_chunk_stores() {
    // A generated chain written as files, then made awkward at every chunk boundary: a UTF-8
    // byte order mark, CRLF line ends, blank lines, a line over the size limit and a broken
    // line in the middle, and a BOM CSV row whose quoted field spans two lines.
    let dir = temp_dir("store-chunks");
    let opts = mieruka::generator::GenOptions {
        nodes: 120,
        tiers: 4,
        fanout: 3,
        seed: 5,
        ..Default::default()
    };
    let (g, files, ndjson) = generated(&opts, &dir.join("in"));
    let lines: Vec<&str> = ndjson.lines().collect();
    let mut text = String::from("\u{feff}");
    for (i, l) in lines.iter().enumerate() {
        text.push_str(l);
        text.push_str(if i % 2 == 0 { "\r\n" } else { "\n" });
        if i == 40 {
            text.push_str("\n   \n");
            text.push_str(&format!("{{\"big\": \"{}\"}}\n", "x".repeat(9000)));
            text.push_str("{\"broken\": \n");
        }
    }
    std::fs::write(&files.footprints, &text).expect("write");
    let csv = std::fs::read_to_string(&files.bom).expect("read");
    let mut rows: Vec<&str> = csv.lines().collect();
    let quoted = "\"urn:a:\nb\",urn:mieruka:gen:5:1,1,";
    rows.insert(rows.len() / 2, quoted);
    std::fs::write(&files.bom, rows.join("\n") + "\n").expect("write");

    let sources: Vec<Source> = [&files.footprints, &files.bom]
        .into_iter()
        .map(|p| Source::file(p))
        .collect();
    let whole = IngestOptions {
        max_document_bytes: 8000,
        ..IngestOptions::default()
    };
    // 4 KiB chunks: most documents (about 2 KiB) straddle a boundary, and the big line
    // spans several chunks.
    let small = IngestOptions {
        chunk_bytes: 4096,
        ..whole.clone()
    };
    // The NDJSON file is mapped and read in place (the default), or copied into buffers as
    // it is read (`--no-mmap`): two ways of cutting it into chunks, which must agree.
    let copied = |o: &IngestOptions| IngestOptions {
        map_files: false,
        ..o.clone()
    };
    let a = ingest_into(&dir.join("a"), &sources, &whole);
    let b = ingest_into(&dir.join("b"), &sources, &small);
    let c = ingest_into(&dir.join("c"), &sources, &copied(&whole));
    let d = ingest_into(&dir.join("d"), &sources, &copied(&small));
    // Two rejected lines (over the limit, broken JSON) and one rejected CSV row.
    assert_eq!(a.rejected, 3, "{:#?}", a.errors);
    assert_eq!(a.footprints, 120);
    assert_eq!(a.bom_edges, g.edges.len());
    for other in [&b, &c, &d] {
        assert_eq!(
            serde_json::to_value(&a).expect("json"),
            serde_json::to_value(other).expect("json")
        );
    }
    // A dry run reports the same, and stores nothing.
    let mut dry = ingest::dry_run(None, &sources, &small, &|_| {}).expect("dry");
    assert!(!dry.stored && dry.ingest_seq.is_none());
    (dry.stored, dry.ingest_seq) = (a.stored, a.ingest_seq);
    assert_eq!(
        serde_json::to_value(&a).expect("json"),
        serde_json::to_value(&dry).expect("json")
    );
    let big = &a.errors[0];
    assert_eq!(big.line, 44, "after 41 lines and two blank ones: {big:?}");
    assert!(big.message.contains("over the 7.8 KiB limit"), "{big:?}");
    let row = a.errors.iter().find(|e| e.pointer == "/parent_product_id");
    assert!(row.is_some(), "{:#?}", a.errors);

    let [ta, tb, tc, td] = ["a", "b", "c", "d"].map(|d| {
        Store::open(&dir.join(d))
            .expect("open")
            .load()
            .expect("load")
    });
    for tx in [&tb, &tc, &td] {
        assert_eq!(one(ta.footprints.clone()), one(tx.footprints.clone()));
        assert_eq!(one(ta.bom.clone()), one(tx.bom.clone()));
        assert_eq!(
            without(ta.ingest_log.clone(), "ingested_at"),
            without(tx.ingest_log.clone(), "ingested_at")
        );
    }
    // The documents are read back from the originals, byte for byte as received.
    let mut docs = ta.documents();
    let first = docs.footprint(0, 0).expect("document");
    assert_eq!(first, lines[0].as_bytes());
    let last = ta.footprints.len() - 1;
    let rows = ta.footprints[last].num_rows();
    let doc = docs.footprint(last, rows - 1).expect("document");
    assert_eq!(doc, lines[lines.len() - 1].as_bytes());
}

/// SIGKILL at any moment of an ingest leaves the last committed state: a `mieruka ingest`
/// process is killed at twelve moments spread over its run, and after each kill the store
/// opens and holds either nothing new or everything (the generated chain's footprints
/// and BOM edges, which the finished ingest at the end reports).
#[cfg(unix)]
#[test]
fn a_killed_ingest_leaves_the_last_commit() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let dir = temp_dir("store-sigkill");
    let chain = dir.join("chain");
    let data = dir.join("data");
    let bin = env!("CARGO_BIN_EXE_mieruka");
    let generated = Command::new(bin)
        .args([
            "gen", "--nodes", "6000", "--tiers", "4", "--fanout", "6", "--seed", "3",
        ])
        .arg("--out")
        .arg(&chain)
        .output()
        .expect("gen");
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    // A first commit, so that a kill has something to keep.
    let first = common_ingest(bin, &data, &[&dir.join("chain/bom.csv")]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let before = count(&data);
    // How long a whole ingest takes here, to spread the kills over it.
    let probe = dir.join("probe");
    let t = Instant::now();
    let whole = common_ingest(bin, &probe, &[&chain]);
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    let full = count(&probe);
    let span = t.elapsed();
    let mut outcomes = (0, 0);
    for k in 1..=12u32 {
        let mut child = Command::new(bin)
            .env_remove("MIERUKA_DATA")
            .args(["ingest", "--data"])
            .arg(&data)
            .arg(&chain)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(span.mul_f64(f64::from(k) / 13.0));
        let _ = child.kill();
        let _ = child.wait();
        let now = count(&data);
        if now == before {
            outcomes.0 += 1;
        } else {
            // Everything the chain adds, or the kill came after the commit.
            assert_eq!(now.0, full.0 + before.0, "kill {k}: footprints half loaded");
            outcomes.1 += 1;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        outcomes.0 >= 1,
        "no kill landed before the commit: {outcomes:?}"
    );
    let last = common_ingest(bin, &data, &[&chain]);
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    assert_eq!(count(&data).0, full.0 + before.0);
}

#[cfg(unix)]
fn common_ingest(bin: &str, data: &Path, sources: &[&Path]) -> std::process::Output {
    let mut c = std::process::Command::new(bin);
    c.env_remove("MIERUKA_DATA")
        .args(["ingest", "--data"])
        .arg(data);
    for s in sources {
        c.arg(s);
    }
    c.output().expect("ingest")
}

/// Texts written with JSON escapes are stored unescaped on both of the ingest's paths: rows
/// built as the ingest streams (where a text without escapes is borrowed from the document,
/// and one with escapes is decoded) and rows built from records kept in memory.
#[test]
fn escaped_texts_are_stored_unescaped_on_both_paths() {
    use datafusion::arrow::array::{AsArray, ListArray};
    let mut doc = v2_example();
    doc["companyName"] = json!("NAME");
    doc["companyIds"] = json!(["ID", "urn:acme:plain"]);
    let text = doc
        .to_string()
        .replace("\"NAME\"", r#""Acme \"Ltd\" \u00e9\ncorp""#)
        .replace("\"ID\"", r#""urn:acme:\u0063ompany""#);
    let name = "Acme \"Ltd\" é\ncorp";
    let ids = ["urn:acme:company", "urn:acme:plain"];

    let p = crate::common::check(&[source("escaped.json", &text)]);
    assert_eq!(p.report.rejected, 0, "{:#?}", p.report.errors);
    assert_eq!(p.footprints[0].footprint.company_name, name);
    assert_eq!(p.footprints[0].footprint.company_ids, ids);

    let dir = temp_dir("store-escaped-texts");
    let report = ingest_into(
        &dir,
        &[source("escaped.json", &text)],
        &IngestOptions::default(),
    );
    assert_eq!(report.footprints, 1, "{:#?}", report.errors);
    let t = Store::open(&dir).expect("open").load().expect("load");
    let view = one(t.footprints_view().expect("view"));
    let column = |n: &str| view.column_by_name(n).expect("column").clone();
    assert_eq!(column("company_name").as_string::<i32>().value(0), name);
    let lists = column("company_ids");
    let lists: &ListArray = lists.as_list();
    let stored = lists.value(0);
    let stored: Vec<&str> = stored.as_string::<i32>().iter().flatten().collect();
    assert_eq!(stored, ids);
}
