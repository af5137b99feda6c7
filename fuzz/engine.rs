//! An in-process mutation fuzzer over mieruka's parsers, on the stable toolchain.
//!
//! Each target is a function from bytes to an outcome. Inputs start from the seed corpus in
//! `fuzz/seeds/<target>/` and are mutated byte-wise (flips, inserts, deletions, splices,
//! dictionary tokens) and, where an input is JSON or TOML, structure-wise (a value replaced
//! by a hostile one: deep nesting, huge and tiny numbers, long strings, odd Unicode). An input
//! whose outcome is new (a set of error kinds not seen before) joins the corpus, which steers
//! the search toward inputs that reach new checks.
//!
//! A **crash** is a panic, or for the HTTP targets a 500 answer (the server turns panics into
//! 500s); a **hang** is one execution running longer than the hang limit. Crashing inputs are
//! written to `target/fuzz/<target>/crash-*`; a hang writes its input and ends the process.
//!
//! Used by `cargo run --release --example fuzz` (long runs) and by the integration tests (a
//! short smoke in CI).

#![allow(dead_code)]

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use mieruka::ingest::{self, IngestOptions, Source};
use mieruka::server::{AppState, Config, router};
use mieruka::table::Tables;
use tower::ServiceExt as _;

/// What one execution gave: a signature of its outcome (for novelty), or a crash.
pub type Outcome = Result<u64, String>;

/// A target's function.
type Run = Box<dyn FnMut(&[u8]) -> Outcome>;

/// A fuzz target.
pub struct Target {
    /// Its name, also the seed folder.
    pub name: &'static str,
    /// Whether inputs are JSON (structure-aware mutations apply).
    pub json: bool,
    /// Whether inputs are TOML.
    pub toml: bool,
    run: Run,
}

/// The targets, by name.
pub const TARGETS: &[&str] = &[
    "pact-json",
    "ndjson",
    "bom-csv",
    "gx-csv",
    "filter",
    "v3-query",
    "sql-params",
    "profile-toml",
    "dashboard-toml",
    "config-toml",
];

/// A target's seed folder.
pub fn seeds_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(name)
}

/// Builds target `name`.
pub fn target(name: &str) -> Option<Target> {
    let (json, toml) = match name {
        "pact-json" | "ndjson" => (true, false),
        "profile-toml" | "dashboard-toml" | "config-toml" => (false, true),
        _ => (false, false),
    };
    let run: Run = match name {
        "pact-json" => Box::new(|b| ingest_outcome("fuzz.json", b, None)),
        "ndjson" => Box::new(|b| ingest_outcome("fuzz.ndjson", b, None)),
        "bom-csv" | "gx-csv" => {
            let file = if name == "bom-csv" {
                "bom.csv"
            } else {
                "gx.csv"
            };
            let beside = footprint_beside();
            Box::new(move |b| ingest_outcome(file, b, Some(&beside)))
        }
        "filter" => {
            let doc: serde_json::Value =
                serde_json::from_str(&footprint_beside()).unwrap_or_default();
            Box::new(move |b| {
                let text = String::from_utf8_lossy(b);
                Ok(match mieruka::pact::filter::Filter::parse(&text) {
                    Ok(f) => 1 + u64::from(f.matches(&doc)),
                    Err(e) => kinds(std::iter::once(e.as_str())),
                })
            })
        }
        "v3-query" => http_target(|b| {
            let q = query_text(b);
            (format!("/3/footprints?{q}"), Auth::Pact)
        }),
        "sql-params" => http_target(|b| {
            let ids = [
                "footprints/list",
                "footprints/by_company",
                "footprints/trend",
                "hotspot/by_tier",
                "hotspot/items",
                "hotspot/pareto",
                "score/by_product",
                "ranking/suppliers",
            ];
            let id = ids[usize::from(b.first().copied().unwrap_or(0)) % ids.len()];
            let q = query_text(b.get(1..).unwrap_or_default());
            (format!("/api/queries/{id}?{q}"), Auth::Admin)
        }),
        "profile-toml" => Box::new(|b| {
            let text = String::from_utf8_lossy(b);
            Ok(match mieruka::score::Profile::parse("fuzz.toml", &text) {
                Ok(_) => 1,
                Err(e) => kinds(std::iter::once(e.to_string().as_str())),
            })
        }),
        "dashboard-toml" => Box::new(|b| {
            let text = String::from_utf8_lossy(b);
            Ok(
                match mieruka::dashboard::Dashboards::from_files([("fuzz", text.as_ref())]) {
                    Ok(d) => 1 + d.iter().map(|d| d.panels.len() as u64).sum::<u64>(),
                    Err(e) => kinds(std::iter::once(e.to_string().as_str())),
                },
            )
        }),
        "config-toml" => Box::new(|b| {
            let text = String::from_utf8_lossy(b);
            Ok(match Config::parse("fuzz.toml", &text) {
                Ok(_) => 1,
                Err(e) => kinds(std::iter::once(e.to_string().as_str())),
            })
        }),
        _ => return None,
    };
    Some(Target {
        name: TARGETS.iter().find(|t| **t == name)?,
        json,
        toml,
        run,
    })
}

/// One valid footprint (the PACT v2 example), beside which CSV rows are checked.
fn footprint_beside() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pact/v2/get-footprint-response.json");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("data").map(ToString::to_string))
        .unwrap_or_default()
}

/// Ingests `bytes` as source `name` (beside a footprint document, for CSVs) and builds the
/// tables of what was accepted.
fn ingest_outcome(name: &str, bytes: &[u8], beside: Option<&str>) -> Outcome {
    let mut sources = Vec::new();
    if let Some(doc) = beside {
        sources.push(Source::new("beside.json", doc.as_bytes().to_vec()));
    }
    sources.push(Source::new(name, bytes.to_vec()));
    let opts = IngestOptions {
        max_document_bytes: 1 << 20,
        ..IngestOptions::default()
    };
    match ingest::prepare(&Tables::default(), &sources, &opts, &|_| {}) {
        Ok(p) => {
            let r = &p.report;
            if let Err(e) = p.to_tables(0) {
                return Err(format!("accepted documents do not make tables: {e}"));
            }
            let mut sig = kinds(r.errors.iter().map(|e| e.message.as_str()));
            sig ^= kinds(r.warnings.iter().map(|w| w.message.as_str())).rotate_left(1);
            sig ^= (r.accepted as u64).wrapping_mul(0x9e37_79b9);
            Ok(sig)
        }
        Err(e) => Ok(kinds(std::iter::once(e.to_string().as_str()))),
    }
}

/// A signature of a set of messages, by their kind: the words without digits or quoted text,
/// so that two documents failing the same check in different places count once.
fn kinds<'a>(messages: impl Iterator<Item = &'a str>) -> u64 {
    let mut set = std::collections::BTreeSet::new();
    for m in messages {
        let mut kind = String::new();
        let mut quoted = false;
        for c in m.chars().take(80) {
            match c {
                '"' | '`' => quoted = !quoted,
                _ if quoted || c.is_ascii_digit() => {}
                c => kind.push(c),
            }
        }
        set.insert(kind);
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    set.hash(&mut h);
    h.finish()
}

/// Bytes as a query string: printable ASCII as it is (`%` too, so that broken escapes reach
/// the server's decoding), anything else percent-encoded, so that any input makes a URI.
fn query_text(b: &[u8]) -> String {
    let mut q = String::with_capacity(b.len());
    for &c in b {
        if c.is_ascii_graphic() && c != b'#' {
            q.push(char::from(c));
        } else {
            q.push_str(&format!("%{c:02X}"));
        }
    }
    q
}

enum Auth {
    Admin,
    Pact,
}

/// A target sending GET requests to the demo server's router.
fn http_target(make: impl Fn(&[u8]) -> (String, Auth) + 'static) -> Run {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return Box::new(move |_| Err(format!("no runtime: {e}"))),
    };
    let setup = rt.block_on(async {
        let config = Config::parse(
            "fuzz.toml",
            &format!(
                "[[token]]\nname = \"admin\"\nsha256 = \"{}\"\nrole = \"admin\"\n\n\
                 [[pact.client]]\nid = \"fuzz\"\nsecret_sha256 = \"{}\"\ncompanies = [\"*\"]\n",
                mieruka::server::hash_token("admin-secret"),
                mieruka::server::hash_token("fuzz-secret"),
            ),
        )
        .map_err(|e| e.to_string())?;
        let tables = mieruka::dataset::load(None).map_err(|e| e.to_string())?;
        let app = router(
            AppState::new(tables, None, Some(config))
                .await
                .map_err(|e| e.to_string())?,
        );
        let basic = base64::engine::general_purpose::STANDARD.encode("fuzz:fuzz-secret");
        let req = Request::post("/auth/token")
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("grant_type=client_credentials"))
            .map_err(|e| e.to_string())?;
        let r = app.clone().oneshot(req).await.map_err(|e| e.to_string())?;
        let body = axum::body::to_bytes(r.into_body(), 1 << 20)
            .await
            .map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let token = v["access_token"].as_str().unwrap_or_default().to_owned();
        Ok::<(Router, String), String>((app, token))
    });
    let (app, pact_token) = match setup {
        Ok(s) => s,
        Err(e) => return Box::new(move |_| Err(format!("setup: {e}"))),
    };
    Box::new(move |b| {
        let (uri, auth) = make(b);
        let token = match auth {
            Auth::Admin => "admin-secret",
            Auth::Pact => pact_token.as_str(),
        };
        let Ok(req) = Request::get(uri.as_str())
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
        else {
            return Ok(0);
        };
        rt.block_on(async {
            let r = app
                .clone()
                .oneshot(req)
                .await
                .map_err(|e| format!("{e:?}"))?;
            let status = r.status();
            let body = axum::body::to_bytes(r.into_body(), usize::MAX)
                .await
                .map_err(|e| e.to_string())?;
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                return Err(format!(
                    "{uri}: 500 {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ));
            }
            let text = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
            Ok(u64::from(status.as_u16()) << 48 ^ kinds(std::iter::once(text.as_str())))
        })
    })
}

/// A small, fast, seeded random number generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens inserted by the dictionary mutation: the syntax and the values the checks care
/// about.
const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "false",
    "-1",
    "0",
    "1e999",
    "-0",
    "1e-999",
    "99999999999999999999999999999999999999",
    "0.000000000000000000000000001",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\\",
    "\n",
    "\r\n",
    "\u{feff}",
    "urn:",
    " eq ",
    " and ",
    " or ",
    "(",
    ")",
    "'",
    "productIds/any(p:(p eq '",
    "$filter=",
    "&",
    "=",
    "%",
    "%00",
    "limit=",
    "status=",
    "validOn=",
    "product=",
    "max_tier=",
    "top=",
    "min_share=",
    "2023-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "kgCO2e",
    "\"pcf\"",
    "\"extensions\"",
    "\"specVersion\"",
    "\"2.3.0\"",
    "\"3.0.0\"",
    "\"id\"",
    "\"version\"",
    "NaN",
    "Infinity",
    "=HYPERLINK(",
    "<script>",
    "[[panel]]",
    "[limits]",
    "weight = ",
    "rule = ",
    "\u{1F600}",
    "日本語",
];

/// One mutation of `input`, with `other` (another corpus entry) for splices.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8], json: bool, toml: bool) -> Vec<u8> {
    if json
        && rng.below(3) == 0
        && let Some(out) = mutate_json(rng, input)
    {
        return out;
    }
    if toml
        && rng.below(3) == 0
        && let Some(out) = mutate_toml(rng, input)
    {
        return out;
    }
    let mut out = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = out.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                out.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                out.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let copy = out[i..i + n].to_vec();
                let at = rng.below(len + 1);
                out.splice(at..at, copy);
            }
            5 if !other.is_empty() => {
                let i = rng.below(len + 1);
                let j = rng.below(other.len());
                let n = 1 + rng.below((other.len() - j).min(256));
                out.splice(i..i, other[j..j + n].iter().copied());
            }
            _ => {
                let token = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                let i = rng.below(len + 1);
                if rng.below(2) == 0 || len == 0 {
                    out.splice(i..i, token.iter().copied());
                } else {
                    let end = (i + token.len()).min(len);
                    out.splice(i..end, token.iter().copied());
                }
            }
        }
    }
    out.truncate(1 << 20);
    out
}

/// A JSON value a check must cope with.
fn hostile_json(rng: &mut Rng) -> serde_json::Value {
    use serde_json::json;
    match rng.below(14) {
        0 => serde_json::Value::Null,
        1 => json!(-1),
        2 => json!(1e308),
        3 => json!(5e-324),
        4 => json!(""),
        5 => json!("x".repeat(rng.below(100_000))),
        6 => json!("1e999"),
        7 => json!("-0.0000000000000000000000000000001"),
        8 => json!("999999999999999999999999999999999999999"),
        9 => {
            let mut v = json!(1);
            for _ in 0..rng.below(2000) {
                v = json!([v]);
            }
            v
        }
        10 => json!({"a": {"b": {"c": [1, "2", null, {}]}}}),
        11 => json!([]),
        12 => json!(u64::MAX),
        _ => json!("urn:\u{0000}\u{202e}日本"),
    }
}

/// Replaces one value of a JSON input by a hostile one, or removes a member.
fn mutate_json(rng: &mut Rng, input: &[u8]) -> Option<Vec<u8>> {
    // NDJSON: mutate one line.
    let text = std::str::from_utf8(input).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let pick = rng.below(lines.len().max(1));
    let mut v: serde_json::Value = serde_json::from_str(lines.get(pick)?).ok()?;
    // Walk down a random path, as a JSON pointer.
    let mut path: Vec<String> = Vec::new();
    let mut node = &v;
    for _ in 0..1 + rng.below(6) {
        let (step, next) = match node {
            serde_json::Value::Object(m) if !m.is_empty() => {
                let (k, next) = m.iter().nth(rng.below(m.len()))?;
                (k.replace('~', "~0").replace('/', "~1"), next)
            }
            serde_json::Value::Array(a) if !a.is_empty() => {
                let i = rng.below(a.len());
                (i.to_string(), &a[i])
            }
            _ => break,
        };
        path.push(step);
        node = next;
    }
    let pointer: String = path.iter().map(|p| format!("/{p}")).collect();
    let remove = rng.below(6) == 0;
    match (remove, path.split_last()) {
        (true, Some((last, parent))) => {
            let parent: String = parent.iter().map(|p| format!("/{p}")).collect();
            if let Some(serde_json::Value::Object(m)) = v.pointer_mut(&parent) {
                m.remove(&last.replace("~1", "/").replace("~0", "~"));
            }
        }
        _ => *v.pointer_mut(&pointer)? = hostile_json(rng),
    }
    let mut out = Vec::with_capacity(input.len());
    for (i, line) in lines.iter().enumerate() {
        if i == pick {
            out.extend_from_slice(v.to_string().as_bytes());
        } else {
            out.extend_from_slice(line.as_bytes());
        }
        out.push(b'\n');
    }
    Some(out)
}

/// Replaces one value of a TOML input (a `key = value` line) by a hostile one.
fn mutate_toml(rng: &mut Rng, input: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(input).ok()?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let keyed: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].contains(" = "))
        .collect();
    let i = *keyed.get(rng.below(keyed.len()))?;
    let key = lines[i].split(" = ").next()?.to_owned();
    let values = [
        "-1",
        "0",
        "1e308",
        "nan",
        "inf",
        "\"\"",
        "[]",
        "{}",
        "9223372036854775807",
        "-9223372036854775808",
        "\"x\"",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "\"日本語\"",
        "true",
    ];
    lines[i] = format!("{key} = {}", values[rng.below(values.len())]);
    Some((lines.join("\n") + "\n").into_bytes())
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Executions.
    pub execs: u64,
    /// Inputs that crashed, with the reason.
    pub crashes: Vec<(Vec<u8>, String)>,
    /// Entries in the corpus at the end (seeds and inputs with new outcomes).
    pub corpus: usize,
    /// Distinct outcomes seen.
    pub outcomes: usize,
    /// The longest execution.
    pub slowest: Duration,
}

/// Reads the seeds of `name`.
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(seeds_dir(name)) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if let Ok(b) = std::fs::read(&p) {
                out.push(b);
            }
        }
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

thread_local! {
    /// Whether this thread is fuzzing: its panics are counted, not printed.
    static FUZZING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps panics on fuzzing threads quiet (they are counted as crashes); panics elsewhere,
/// such as other tests in the same process, are reported as before.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !FUZZING.with(std::cell::Cell::get) {
                before(info);
            }
        }));
    });
}

/// The input being run, and when it started, for the hang watchdog.
struct Running {
    input: Mutex<Vec<u8>>,
    started_ms: AtomicU64,
    busy: AtomicBool,
}

/// Runs `target` until `until` or `max_execs`, from `seed`. A panic is caught and counted;
/// an execution longer than `hang` ends the process after writing its input to
/// `target/fuzz/<target>/hang`.
pub fn run(
    target: &mut Target,
    seed: u64,
    until: Instant,
    max_execs: u64,
    hang: Duration,
) -> Report {
    let mut rng = Rng::new(seed ^ 0x5eed);
    let mut corpus = seeds(target.name);
    let mut seen = HashSet::new();
    let mut report = Report::default();
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/fuzz")
        .join(target.name);
    let running = Arc::new(Running {
        input: Mutex::new(Vec::new()),
        started_ms: AtomicU64::new(0),
        busy: AtomicBool::new(false),
    });
    let epoch = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (running, done, out_dir) = (running.clone(), done.clone(), out_dir.clone());
        let name = target.name;
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let now = epoch.elapsed().as_millis() as u64;
                let started = running.started_ms.load(Ordering::Relaxed);
                if running.busy.load(Ordering::Relaxed)
                    && now.saturating_sub(started) > hang.as_millis() as u64
                {
                    let input = running.input.lock().map(|i| i.clone()).unwrap_or_default();
                    let _ = std::fs::create_dir_all(&out_dir);
                    let _ = std::fs::write(out_dir.join("hang"), &input);
                    eprintln!(
                        "fuzz {name}: HANG: one execution ran over {hang:?}; input in {}",
                        out_dir.join("hang").display()
                    );
                    std::process::exit(3);
                }
            }
        })
    };
    quiet_panics();
    FUZZING.with(|f| f.set(true));
    // The seeds themselves first, then mutations.
    let mut queue: Vec<Vec<u8>> = corpus.clone();
    while Instant::now() < until && report.execs < max_execs {
        let input = match queue.pop() {
            Some(i) => i,
            None => {
                let a = &corpus[rng.below(corpus.len())];
                let b = &corpus[rng.below(corpus.len())];
                mutate(&mut rng, a, b, target.json, target.toml)
            }
        };
        if let Ok(mut slot) = running.input.lock() {
            slot.clear();
            slot.extend_from_slice(&input);
        }
        running
            .started_ms
            .store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        running.busy.store(true, Ordering::Relaxed);
        let t = Instant::now();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.run)(&input)))
                .unwrap_or_else(|p| {
                    let why = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_else(|| "panic".into());
                    Err(format!("panic: {why}"))
                });
        running.busy.store(false, Ordering::Relaxed);
        report.slowest = report.slowest.max(t.elapsed());
        report.execs += 1;
        match outcome {
            Ok(sig) => {
                if seen.insert(sig) && corpus.len() < 4096 {
                    corpus.push(input);
                }
            }
            Err(why) => {
                let _ = std::fs::create_dir_all(&out_dir);
                let _ = std::fs::write(
                    out_dir.join(format!("crash-{}", report.crashes.len())),
                    &input,
                );
                report.crashes.push((input, why));
            }
        }
    }
    FUZZING.with(|f| f.set(false));
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    report.corpus = corpus.len();
    report.outcomes = seen.len();
    report
}
