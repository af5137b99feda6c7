//! Compiles the query catalog (`queries/`), the dashboards (`dashboards/`), the example
//! scenarios (`scenarios/`) and the bundled demo dataset (`datasets/pc-supply-chain/`) into
//! the binary, so `mieruka` works from any directory with nothing installed beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, exts, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.contains(&e))
        {
            out.push(path);
        }
    }
}

fn emit(code: &mut String, name: &str, root: &Path, exts: &[&str], strip_ext: bool, bytes: bool) {
    println!("cargo:rerun-if-changed={}", root.display());
    let mut paths = Vec::new();
    files(root, exts, &mut paths);
    paths.sort();
    let ty = if bytes { "&[u8]" } else { "&str" };
    let mac = if bytes {
        "include_bytes"
    } else {
        "include_str"
    };
    let _ = writeln!(
        code,
        "/// Embedded from `{}`.",
        root.file_name().unwrap_or_default().to_string_lossy()
    );
    let _ = writeln!(code, "pub static {name}: &[(&str, {ty})] = &[");
    for p in paths {
        let rel = p.strip_prefix(root).unwrap_or(&p);
        let mut id = rel.to_string_lossy().replace('\\', "/");
        if strip_ext && let Some(dot) = id.rfind('.') {
            id.truncate(dot);
        }
        let _ = writeln!(code, "    ({id:?}, {mac}!({:?})),", p.display().to_string());
    }
    let _ = writeln!(code, "];");
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut code = String::new();
    emit(
        &mut code,
        "QUERIES",
        &root.join("queries"),
        &["sql"],
        true,
        false,
    );
    emit(
        &mut code,
        "DASHBOARDS",
        &root.join("dashboards"),
        &["toml"],
        true,
        false,
    );
    emit(
        &mut code,
        "SCENARIOS",
        &root.join("scenarios"),
        &["toml"],
        true,
        false,
    );
    emit(
        &mut code,
        "DEMO_DATASET",
        &root.join("datasets/pc-supply-chain"),
        &["json", "ndjson", "csv"],
        false,
        true,
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("embedded.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("writing {}: {e}", out.display());
    }
}
