//! The real server in a real browser: `mieruka serve` on a free loopback port, every
//! dashboard loaded in headless Chromium, in English and in Japanese. Fails on a console
//! message (the pages carry no script, so any message is a fault), on an error panel, on a
//! chart without SVG, or on English a person would read left on a Japanese page.
//! Screenshots are kept under `target/screenshots/`.
//!
//! Runs when `chromium` is on the PATH; with `MIERUKA_BROWSER_TEST=1` (as `.ci/run` sets)
//! a missing Chromium is a failure rather than a skip.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mieruka::dashboard::Dashboards;

fn chromium() -> Option<PathBuf> {
    let required = std::env::var("MIERUKA_BROWSER_TEST").is_ok_and(|v| v == "1");
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        });
    match found {
        Some(p) => Some(p),
        None if required => {
            panic!("MIERUKA_BROWSER_TEST=1 but no chromium on the PATH (apt-get install chromium)")
        }
        None => {
            eprintln!("browser test skipped: no chromium on the PATH (apt-get install chromium)");
            None
        }
    }
}

/// The server process; killed if the test fails before it is stopped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A GET over a plain socket: (status line, body).
fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(String, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

fn start_server() -> Server {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let child = Command::new(env!("CARGO_BIN_EXE_mieruka"))
        .args(["serve", "--bind", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting mieruka serve");
    let server = Server { child, addr };
    let start = Instant::now();
    loop {
        if let Ok((status, body)) = http_get(addr, "/healthz")
            && status.contains("200")
            && body == "ok"
        {
            return server;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "mieruka serve did not answer /healthz on {addr} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn chromium_run(browser: &Path, profile: &Path, extra: &[String], url: &str) -> (String, String) {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("running chromium");
    assert!(out.status.success(), "chromium failed on {url}: {out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What a person reads in English and must not meet on a Japanese page: every dashboard
/// text whose English differs from its Japanese, the glossary's column headings and codes as
/// English pages show them, and the words the pages and charts write themselves.
fn english_words(dashboards: &Dashboards) -> BTreeSet<String> {
    let mut words: BTreeSet<String> = [
        "Overview",
        "Dataset",
        "Requirement sheet",
        "The GX product requirement sheet",
        "the bundled demo dataset (synthetic, read-only)",
        "the server's data directory",
        "Data:",
        "Show",
        "(all)",
        "rows; the CSV has them all.",
        "cumulative share (%)",
        "to deeper tiers",
        "(no data)",
        "(rest)",
        "(none)",
        "(as stored)",
        "(with the scenario)",
        "Language",
        "Profile editor",
        "Profile name",
        "Indicator",
        "Weight (points)",
        "Rule",
        "Preview",
        "Download TOML",
        "This profile cannot be used",
        "the weights add up to",
        "score now",
        "edited score",
        "rank change",
        "present (full credit)",
        "The sheet with the edited profile",
        "Save in the data directory (admin)",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for d in dashboards.iter() {
        for (_, text) in d.texts() {
            if text.en != text.ja {
                words.insert(text.en.clone());
            }
        }
    }
    let glossary = dashboards.words();
    for (column, ja) in &glossary.columns {
        let en = mieruka::output::heading(column);
        if &en != ja {
            words.insert(en);
        }
    }
    for codes in glossary.values.values() {
        for (code, ja) in codes {
            if code != ja {
                words.insert(code.clone());
            }
        }
    }
    words
}

/// The text nodes of `dom` (markup, styles, `code` and entities aside), trimmed, with those that
/// are one of `english` or contain one of its phrases (two words or more).
fn untranslated(dom: &str, english: &BTreeSet<String>) -> Vec<String> {
    let mut text = String::new();
    let mut rest = dom;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        text.push('\n');
        let after = &rest[start..];
        // Styles are not text; `code` is an identifier or a command, the same in any
        // language.
        let skip_to = if after.starts_with("<style") {
            after.find("</style>").map(|e| e + "</style>".len())
        } else if after.starts_with("<code") {
            after.find("</code>").map(|e| e + "</code>".len())
        } else {
            after.find('>').map(|e| e + 1)
        };
        let Some(end) = skip_to else { break };
        rest = &after[end..];
    }
    let decode = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&nbsp;", " ")
            .replace("&amp;", "&")
    };
    let mut left = Vec::new();
    for node in text
        .lines()
        .map(|l| decode(l.trim()))
        .filter(|l| !l.is_empty())
    {
        let hit = english.iter().find(|w| {
            node == **w
                || node.trim_end_matches(':') == w.trim_end_matches(':')
                || (w.contains(' ') && w.len() >= 10 && node.contains(w.as_str()))
        });
        if let Some(w) = hit {
            left.push(format!("{node:?} ({w:?})"));
        }
    }
    left
}

#[test]
fn every_dashboard_renders_in_chromium() {
    let Some(browser) = chromium() else {
        return;
    };
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .to_owned();
    let shots = target.join("screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let profile = crate::common::temp_dir("chromium-profile");
    let server = start_server();

    let dashboards = Dashboards::embedded().expect("dashboards");
    let english = english_words(&dashboards);
    let mut pages: Vec<(String, String)> = Vec::new();
    for lang in ["en", "ja"] {
        pages.push((format!("index.{lang}"), format!("/?lang={lang}")));
        // The profile editor: the form, a preview of five points moved from the CFP to the
        // reduction achieved, and one refused (weights adding up to 101).
        pages.push((
            format!("profile.{lang}"),
            format!("/dashboards/profile?lang={lang}"),
        ));
        pages.push((
            format!("profile-preview.{lang}"),
            format!("/dashboards/profile?lang={lang}&action=preview&w.cfp=10&w.rep=15"),
        ));
        pages.push((
            format!("profile-invalid.{lang}"),
            format!("/dashboards/profile?lang={lang}&action=preview&w.cfp=16"),
        ));
        for d in dashboards.iter() {
            pages.push((
                format!("{}.{lang}", d.id),
                format!("/dashboards/{}?lang={lang}", d.id),
            ));
        }
    }
    for (name, path) in &pages {
        let url = format!("http://{}{path}", server.addr);
        let (dom, log) = chromium_run(&browser, &profile, &["--dump-dom".into()], &url);
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(
            console.is_empty(),
            "{url}: console messages:\n{}",
            console.join("\n")
        );
        assert!(dom.contains("</html>"), "{url}: no document: {dom}");
        assert!(!dom.contains("class=\"error\""), "{url}: an error panel");
        let charts: Vec<&str> = dom.split("<div class=\"chart\"").skip(1).collect();
        let is_dashboard = !name.starts_with("index.") && !name.starts_with("profile");
        if is_dashboard {
            assert!(!charts.is_empty(), "{url}: no chart");
        }
        if name.starts_with("profile") {
            assert!(dom.contains("<form class=\"profile\""), "{url}: no editor");
            let (refused, previewed) = (
                dom.contains("<section class=\"panel invalid\">"),
                dom.contains("<section class=\"panel preview\">"),
            );
            match name.split('.').next() {
                Some("profile-invalid") => assert!(refused && !previewed, "{url}: not refused"),
                Some("profile-preview") => {
                    assert!(previewed && !refused, "{url}: no preview");
                    assert!(dom.contains("<iframe class=\"sheet\""), "{url}: no sheet");
                }
                _ => assert!(!refused && !previewed, "{url}"),
            }
        }
        if name.ends_with(".ja") {
            let left = untranslated(&dom, &english);
            assert!(
                left.is_empty(),
                "{url}: English left on the Japanese page: {left:#?}"
            );
        }
        for (i, c) in charts.iter().enumerate() {
            let inner = c.split("</div>").next().unwrap_or_default();
            assert!(
                inner.contains("<svg") && inner.contains("<rect"),
                "{url}: chart {i} has no SVG content"
            );
        }

        let shot = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        chromium_run(
            &browser,
            &profile,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1400,2400".into(),
            ],
            &url,
        );
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "{url}: screenshot {} is {size} bytes",
            shot.display()
        );
    }

    // SIGTERM stops the server gracefully: it exits 0.
    let mut server = server;
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(killed.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = server.child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the server did not stop within 20 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit after SIGTERM: {status}");
}

/// A screenshot's pixels, as decoded (Chromium writes 8-bit RGB).
fn pixels(png_file: &Path) -> Vec<u8> {
    let file = std::fs::File::open(png_file).expect("screenshot");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a frame");
    buf.truncate(info.buffer_size());
    buf
}

/// The standalone sheet carries the glyphs it uses: in Chromium on a machine without
/// Japanese fonts (as CI's is), its Japanese is drawn exactly as with the whole bundled font
/// and not as the boxes the same page shows without its embedded font.
#[test]
fn the_sheet_renders_japanese_with_its_embedded_font() {
    let Some(browser) = chromium() else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_mieruka"))
        .args(["sheet", "--lang", "ja", "--format", "html"])
        .output()
        .expect("mieruka sheet");
    assert!(out.status.success(), "{out:?}");
    let page = String::from_utf8(out.stdout).expect("UTF-8");

    // The @font-face: a data URL with an OpenType subset that maps the page's Japanese.
    let start = page
        .find("@font-face { font-family: 'mieruka sheet'; src: url(data:font/otf;base64,")
        .expect("an embedded @font-face");
    let rule_end = start + page[start..].find('}').expect("rule end") + 1;
    let rule = &page[start..rule_end];
    assert!(
        page.contains("body { font-family: 'mieruka sheet',"),
        "the sheet uses it first"
    );
    let b64 = rule
        .split("base64,")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .expect("base64");
    use base64::Engine;
    let font = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    let face = ttf_parser::Face::parse(&font, 0).expect("an OpenType font");
    let full = ttf_parser::Face::parse(mieruka::font::MPLUS1, 0).expect("M+ 1");
    let japanese: BTreeSet<char> = page
        .chars()
        .filter(|c| ('\u{3000}'..='\u{9FFF}').contains(c) || ('\u{FF00}'..='\u{FFEF}').contains(c))
        .collect();
    assert!(
        japanese.contains(&'要') && japanese.contains(&'重'),
        "{japanese:?}"
    );
    for c in &japanese {
        assert_eq!(
            face.glyph_index(*c).is_some(),
            full.glyph_index(*c).is_some(),
            "{c:?}: mapped by the subset exactly when M+ 1 has it"
        );
    }
    assert!(
        font.len() < 100_000,
        "a subset, not the font: {} bytes",
        font.len()
    );

    // Three pages, one heading each: with the sheet's own @font-face, with the whole font
    // from its file, and with no font of ours.
    let dir = crate::common::temp_dir("sheet-font");
    let full_font = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/font/Mplus1-Regular.otf");
    let heading =
        "<p style=\"font: 64px 'mieruka sheet'; margin: 8px\">要件シート 重み付け 評点</p>";
    let pages = [
        ("embedded", rule.to_owned()),
        (
            "whole",
            format!(
                "@font-face {{ font-family: 'mieruka sheet'; src: url('file://{}') format('opentype'); font-display: block; }}",
                full_font.display()
            ),
        ),
        ("none", String::new()),
    ];
    let profile = crate::common::temp_dir("chromium-sheet-profile");
    let mut shots = Vec::new();
    for (name, face) in &pages {
        let html = dir.join(format!("{name}.html"));
        std::fs::write(
            &html,
            format!("<!doctype html><meta charset=utf-8><style>{face}</style>{heading}"),
        )
        .expect("write page");
        let shot = dir.join(format!("{name}.png"));
        chromium_run(
            &browser,
            &profile,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1000,400".into(),
                "--allow-file-access-from-files".into(),
            ],
            &format!("file://{}", html.display()),
        );
        shots.push(pixels(&shot));
    }
    // Dark pixels: each channel of every pixel is dark (RGB, or grey).
    let ink = |px: &[u8]| px.iter().filter(|v| **v < 128).count() / 3;
    assert!(
        ink(&shots[0]) > 5_000,
        "the heading is drawn, not blank: {} dark pixels ({})",
        ink(&shots[0]),
        dir.display()
    );
    assert!(
        shots[0] == shots[1],
        "the embedded subset draws the heading as the whole font does ({})",
        dir.display()
    );
    assert!(
        shots[0] != shots[2],
        "without the embedded font the heading looks different (boxes): {}",
        dir.display()
    );

    // And the whole sheet, for a look.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("screenshots");
    std::fs::create_dir_all(&target).expect("screenshot dir");
    let html = dir.join("sheet.html");
    std::fs::write(&html, &page).expect("write sheet");
    chromium_run(
        &browser,
        &profile,
        &[
            format!(
                "--screenshot={}",
                target.join("sheet.ja.standalone.png").display()
            ),
            "--window-size=1400,1000".into(),
        ],
        &format!("file://{}", html.display()),
    );
}
