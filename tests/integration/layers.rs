//! The library's layers, guarded: every `crate::…` path in `src/` (tests and comments aside)
//! must name a module its own module may use, so dependencies keep pointing one way. The
//! table below is the house plan; ARCHITECTURE.md explains it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of the library, the modules it may use directly, and why it sits
/// where it does. A module may also use whatever those may use (the table is read
/// transitively); nothing else, so an arrow pointing back up fails the test.
const LAYERS: &[(&str, &[&str], &str)] = &[
    (
        "error",
        &[],
        "the error type every layer returns: the floor",
    ),
    (
        "escape",
        &[],
        "CSV and Markdown cell escapes every writer shares: supplier text is never a formula or HTML",
    ),
    (
        "font",
        &[],
        "the bundled font and subsets of it: charts draw with it, sheets embed the glyphs they use",
    ),
    (
        "lang",
        &[],
        "the two languages (ja, en) and text written in both: sheets, charts and pages pick one",
    ),
    (
        "pages",
        &[],
        "memory in small pages, for buffers read in order and tables touched once per entry",
    ),
    (
        "model",
        &[],
        "PACT and GxD documents as Rust types, fixed-point numbers",
    ),
    (
        "table",
        &["model", "pages"],
        "Arrow schemas, columns and views of the stored tables, the graph index's form",
    ),
    (
        "store",
        &["table"],
        "the data directory and its atomic commits; it commits the tables it is given",
    ),
    (
        "ingest",
        &["store"],
        "validation of documents into tables; the store never imports it",
    ),
    (
        "hotspot",
        &["table"],
        "the decomposition on the graph index: pure computation, no catalog, no SQL",
    ),
    (
        "score",
        &["table", "escape", "lang", "font"],
        "GX scores on tables: pure computation, no catalog, no SQL",
    ),
    (
        "generator",
        &["ingest"],
        "synthetic chains written as the documents ingest reads",
    ),
    (
        "dataset",
        &["ingest", "hotspot"],
        "the bundled demo or a data directory, opened with its graph",
    ),
    (
        "query",
        &["dataset", "hotspot", "score"],
        "the catalog and SQL sessions; registers the table functions",
    ),
    (
        "cluster",
        &["query"],
        "Ballista (feature `cluster`): the scheduler, executors and client sessions with mieruka's codecs",
    ),
    (
        "output",
        &["query"],
        "query output as a table, CSV, JSON, Arrow IPC or Parquet",
    ),
    (
        "report",
        &["output"],
        "catalog-driven views shared by the CLI and the API",
    ),
    ("chart", &["report"], "SVG and PNG charts of query output"),
    (
        "dashboard",
        &["chart"],
        "dashboards: pages of queries, tables and charts",
    ),
    (
        "pact",
        &["ingest"],
        "the PACT protocol: documents, filters, tokens, the client; never the server",
    ),
    (
        "server",
        &["dashboard", "pact"],
        "every HTTP handler, the PACT API included",
    ),
];

/// A `crate::…` path found in a file: the module it is in and the module it names.
#[derive(Debug, PartialEq, Eq)]
struct Import {
    file: String,
    from: String,
    to: String,
}

/// The top-level modules named by `crate::…` paths in `text`, leaving out comments and
/// `#[cfg(test)]` items (tests may reach anywhere).
fn imports_of(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        if code.starts_with("#[cfg(test)]") {
            // Skip the item: a one-line item (`use …;`, `mod tests;`) ends with its line, a
            // block at the brace that closes it, at the attribute's indentation.
            let close = format!("{}}}", &line[..line.len() - code.len()]);
            if lines
                .next()
                .is_some_and(|item| !item.trim_end().ends_with(';'))
            {
                for l in lines.by_ref() {
                    if l.trim_end() == close {
                        break;
                    }
                }
            }
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::c}`: a group, possibly over several lines.
                let mut group = group.to_owned();
                while !group.contains('}') {
                    match lines.next() {
                        Some(l) => group.push_str(l),
                        None => break,
                    }
                }
                for part in group.split('}').next().unwrap_or("").split(',') {
                    names.insert(module_name(part.trim()));
                }
            } else {
                names.insert(module_name(rest));
            }
        }
    }
    // `crate::Error`, `crate::Result` and the like are items of the crate root.
    names.retain(|n| !n.is_empty() && n.starts_with(|c: char| c.is_ascii_lowercase()));
    names
}

/// The leading identifier of a path.
fn module_name(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Every `.rs` file under `src`, as `(path, path relative to src with / separators)`, sorted.
fn rust_files(src: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).expect("under src");
                let rel = rel.to_string_lossy().replace('\\', "/");
                out.push((path, rel));
            }
        }
    }
    out.sort();
    out
}

/// Every `crate::…` import of the library's files under `src` (the binary's `main.rs` and
/// `cli/` are the top floor and not part of the library).
fn imports_in(src: &Path) -> Vec<Import> {
    let mut out = Vec::new();
    for (path, rel) in rust_files(src) {
        if rel.starts_with("cli/") || ["main.rs", "lib.rs", "build.rs"].contains(&rel.as_str()) {
            continue;
        }
        let from = module_name(&rel);
        let text = std::fs::read_to_string(&path).expect("read");
        for to in imports_of(&text) {
            if to != from {
                out.push(Import {
                    file: format!("src/{rel}"),
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    out
}

/// What each module may use: its row of [`LAYERS`] and, transitively, theirs.
fn allowed() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let direct: BTreeMap<&str, &[&str]> = LAYERS.iter().map(|(m, uses, _)| (*m, *uses)).collect();
    let mut all = BTreeMap::new();
    for m in direct.keys() {
        let mut seen = BTreeSet::from(["error"]);
        let mut todo: Vec<&str> = direct[m].to_vec();
        while let Some(u) = todo.pop() {
            if seen.insert(u) {
                todo.extend(direct.get(u).copied().unwrap_or_default());
            }
        }
        all.insert(*m, seen);
    }
    all
}

/// The imports the table forbids, as messages naming the file.
fn forbidden(imports: &[Import]) -> Vec<String> {
    let allowed = allowed();
    imports
        .iter()
        .filter_map(|i| match allowed.get(i.from.as_str()) {
            None => Some(format!(
                "{}: module {} is not in the layer table (tests/integration/layers.rs)",
                i.file, i.from
            )),
            Some(ok) if !ok.contains(i.to.as_str()) => Some(format!(
                "{}: {} imports {}, which its layer may not use",
                i.file, i.from, i.to
            )),
            Some(_) => None,
        })
        .collect()
}

#[test]
fn no_module_imports_a_layer_it_may_not_use() {
    let imports = imports_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    // The walk found the code: `server` uses `query`, and `ingest` uses `store`.
    for (from, to) in [("server", "query"), ("ingest", "store")] {
        assert!(
            imports.iter().any(|i| i.from == from && i.to == to),
            "{from} → {to} not found"
        );
    }
    let broken = forbidden(&imports);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn every_library_module_has_a_place_in_the_table() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("lib.rs");
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("mod "))
                .map(|m| m.trim_end_matches(';').to_owned())
        })
        .collect();
    let placed: BTreeSet<String> = LAYERS.iter().map(|(m, _, _)| m.to_string()).collect();
    assert_eq!(declared, placed);
}

#[test]
fn the_guard_finds_imports_and_refuses_an_upward_one() {
    let text = "\
use crate::{hotspot::Graph,
    model::fixed};
use crate::query::Session;
use crate::{Error, Result};
// crate::server in a comment is not an import
/// nor is [`crate::chart`] in a doc comment
fn f() -> crate::output::Format { todo!() }
#[cfg(test)]
mod tests {
    use crate::server;
}
fn g() { crate::dataset::load(None); }
";
    let names: Vec<String> = imports_of(text).into_iter().collect();
    assert_eq!(names, ["dataset", "hotspot", "model", "output", "query"]);

    // `table` reaching up into `hotspot` (as it once did for the graph index) is refused;
    // `hotspot` using `table` and `server` using `model` (through its layers) are not.
    let import = |from: &str, to: &str| Import {
        file: format!("src/{from}.rs"),
        from: from.into(),
        to: to.into(),
    };
    let broken = forbidden(&[
        import("table", "hotspot"),
        import("hotspot", "table"),
        import("server", "model"),
        import("pact", "server"),
        import("newcomer", "model"),
    ]);
    assert_eq!(
        broken,
        [
            "src/table.rs: table imports hotspot, which its layer may not use",
            "src/pact.rs: pact imports server, which its layer may not use",
            "src/newcomer.rs: module newcomer is not in the layer table (tests/integration/layers.rs)",
        ]
    );
}

#[test]
fn a_file_over_800_lines_says_why_first() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let long: Vec<String> = rust_files(&src)
        .into_iter()
        .filter(|(path, _)| {
            let text = std::fs::read_to_string(path).expect("read");
            text.lines().count() > 800 && !text.starts_with("// Over 800 lines")
        })
        .map(|(_, rel)| rel)
        .collect();
    assert!(
        long.is_empty(),
        "over 800 lines without a first comment saying why (\"// Over 800 lines: …\"): {long:?}"
    );
}
