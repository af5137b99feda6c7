//! GX scores, requirement sheets and the supplier ranking: hand-computed scores (the formula
//! in comments), edge cases, golden sheets in every format and language.

use mieruka::output;
use mieruka::query::{Catalog, Session};
use mieruka::score::sheet::{Lang, Sheet, SheetFormat};
use mieruka::score::{Inputs, Key, ProductScore, Profile, RepBasis, Values, score};
use rust_decimal::Decimal;

fn demo() -> (Inputs, mieruka::score::Scores) {
    let t = mieruka::dataset::demo().expect("demo");
    let inputs = Inputs::from_tables(&t).expect("inputs");
    let s = score(&Profile::default_profile(), &inputs);
    (inputs, s)
}

fn product<'a>(all: &'a [ProductScore], slug: &str) -> &'a ProductScore {
    all.iter()
        .find(|p| p.product_id == format!("urn:mieruka-demo:product:{slug}"))
        .unwrap_or_else(|| panic!("{slug} not scored"))
}

fn points(p: &ProductScore) -> Vec<(&str, &str, &str)> {
    p.indicators
        .iter()
        .map(|i| (i.key, i.status, i.points.as_str()))
        .collect()
}

#[test]
fn demo_scores_worked_by_hand() {
    let (inputs, s) = demo();
    let all = s.products(&inputs);

    // The PC (FY2024, CPC 4521): every yes/no attribute true but additionality; certified by
    // its PACT v3 verification; CFP 150.4727 ≤ 200 (the 4521 override); REP against FY2023
    // (161.8707 − 150.4727) / 161.8707 = 7.04 % ≥ 5; AEP 18.5 ≥ 0.001; outflow 45 % of 50 →
    // credit 0.9 × 8 = 7.2; inflow 12 % of 30 → 0.4 × 8 = 3.2.
    // 8 + 7 + 8 + 7 + 7 + 8 + 15 + 10 + 8 + 7.2 + 3.2 + 0 = 88.4.
    let pc = product(&all, "kaede-note-14");
    assert_eq!(pc.gx_score, "88.4");
    assert_eq!(pc.missing, 0);
    assert_eq!(
        points(pc),
        [
            ("national_target_contribution", "pass", "8"),
            ("support_measures", "pass", "7"),
            ("gx_declaration", "pass", "8"),
            ("progress_disclosed", "pass", "7"),
            ("publicly_disclosed", "pass", "7"),
            ("certified", "pass", "8"),
            ("cfp", "pass", "15"),
            ("rep", "pass", "10"),
            ("aep", "pass", "8"),
            ("circular_outflow", "partial", "7.2"),
            ("circular_inflow", "partial", "3.2"),
            ("additionality", "fail", "0"),
        ]
    );

    // The battery pack (4642: CFP ≤ 8): not publicly disclosed (0), no AEP (missing);
    // CFP 6.1723 ✓ 15; REP (6.6005 − 6.1723) / 6.6005 = 6.49 % ✓ 10; outflow 60 ≥ 50 → 8;
    // inflow 15 of 30 → 0.5 × 8 = 4; additionality ✓ 6.
    // 8 + 7 + 8 + 7 + 0 + 8 + 15 + 10 + 0 + 8 + 4 + 6 = 81, one missing.
    let pack = product(&all, "lotus-bp-56");
    assert_eq!((pack.gx_score.as_str(), pack.missing), ("81", 1));

    // The aluminium ingot (4132): no national contribution or support measures (0 + 0);
    // declaration, progress, disclosure, certification 8 + 7 + 7 + 8; CFP 4.2 ≤ 250 (15);
    // REP 2.33 % < 5 (0); AEP 11.8 (8); outflow 95 ≥ 50 (8); additionality (6); inflow 5 of
    // 30: credit 1/6, 8 / 6 = 4/3 points. 67 + 4/3 = 68.3333…, rounded once: 68.333333 (a
    // credit rounded first, 0.166667 × 8 = 1.333336, gave 68.333336). The inflow's points
    // are shown rounded; the score adds the exact 4/3.
    let ingot = product(&all, "nordic-al-ingot");
    assert_eq!((ingot.gx_score.as_str(), ingot.missing), ("68.333333", 0));
    let inflow = &ingot.indicators[10];
    assert_eq!(
        (inflow.key, inflow.credit.as_deref(), inflow.points.as_str()),
        ("circular_inflow", Some("0.166667"), "1.333333")
    );

    // The keyboard maker gives only its GX declaration (8); its PACT v2 assurance says
    // "false", so certified fails (a known no, not missing); CFP 8.27 ≤ 250 (15); REP
    // (8.7975 − 8.27) / 8.7975 = 6.00 % (10). 8 + 15 + 10 = 33 with 8 indicators missing.
    let kb = product(&all, "wakaba-kb-k14");
    assert_eq!((kb.gx_score.as_str(), kb.missing), ("33", 8));
    let certified = kb
        .indicators
        .iter()
        .find(|i| i.key == "certified")
        .expect("certified");
    assert_eq!(
        (certified.status, certified.value.as_deref()),
        ("fail", Some("false"))
    );

    // Missing data are shown as missing with no points, never as a fail.
    let soc = product(&all, "meridian-soc");
    assert!(
        soc.indicators
            .iter()
            .filter(|i| i.status == "missing")
            .all(|i| i.points == "0")
    );
    assert_eq!(soc.missing, 10);
}

#[test]
fn rep_comes_from_the_preceding_version_else_the_previous_period() {
    let (inputs, _) = demo();
    let rep = |slug: &str| {
        let p = inputs
            .product_id
            .iter()
            .position(|id| id.ends_with(slug))
            .expect("product");
        inputs.rep[p].clone().expect("rep")
    };
    // The mainboard's FY2024 footprint names its draft in precedingPfIds. The draft had a
    // Gate-to-Gate of 6.1 instead of 5.8, so its CFP was 48.95 + 0.3 = 49.25:
    // 0.3 / 49.25 × 100 = 0.609137 %.
    let mb = rep("shinonome-mb-k14");
    assert_eq!(mb.basis, RepBasis::PrecedingVersion);
    assert_eq!(mb.reduction_kgco2e_per_unit.to_string(), "0.3");
    assert_eq!(
        mb.reduction_pct.map(|d| d.to_string()).as_deref(),
        Some("0.609137")
    );
    // The resin maker's FY2024 footprint is version 2 of the same id (PACT v2); version 1 had
    // a Gate-to-Gate of 0.85 instead of 0.8: 3.45 → 3.4, 0.05 / 3.45 = 1.449275 %.
    let resin = rep("setouchi-pcabs");
    assert_eq!(resin.basis, RepBasis::PrecedingVersion);
    assert_eq!(
        resin.reduction_pct.map(|d| d.to_string()).as_deref(),
        Some("1.449275")
    );
    // The PC has no preceding version: its FY2023 footprint is the baseline.
    let pc = rep("kaede-note-14");
    assert_eq!(pc.basis, RepBasis::PreviousPeriod);
    assert_eq!(pc.baseline_kgco2e_per_unit.to_string(), "161.8707");
    // 11.398 / 161.8707 × 100 = 7.0414231…, kept to 6 places.
    assert_eq!(
        pc.reduction_pct.map(|d| d.to_string()).as_deref(),
        Some("7.041423")
    );
}

/// Two products, for profile edge cases: indicator values set by hand.
fn two(cpc: [&str; 2]) -> Inputs {
    let mut i = Inputs::with_len(2);
    i.product_id = vec!["urn:t:a".into(), "urn:t:b".into()];
    i.cpc = [Some(cpc[0].into()), Some(cpc[1].into())]
        .into_iter()
        .collect();
    i.set(
        Key::Cfp,
        Values::numbers(vec![Some(Decimal::from(275)), Some(Decimal::from(150))]),
    );
    i.set(
        Key::CircularInflow,
        Values::numbers(vec![Some(Decimal::from(12)), None]),
    );
    i.set(Key::Certified, Values::Flag(vec![Some(true), None]));
    i
}

fn profile(body: &str) -> Profile {
    Profile::parse("test.toml", &format!("name = \"t\"\n{body}")).expect("profile")
}

#[test]
fn linear_credit_both_ways_overrides_and_missing() {
    let p = profile(
        "[[indicator]]\nkey = \"cfp\"\ngroup = \"d\"\nweight = 40\nrule = { kind = \"linear\", zero_at = 300, full_at = 200 }\n\
         [[indicator]]\nkey = \"circular_inflow\"\ngroup = \"c\"\nweight = 40\nrule = { kind = \"linear\", zero_at = 0, full_at = 30 }\n\
         [[indicator]]\nkey = \"certified\"\ngroup = \"x\"\nweight = 20\nrule = { kind = \"present\" }\n\
         [category.\"45\"]\ncfp = { kind = \"at_most\", threshold = 100 }\n\
         [category.\"452\"]\ncfp = { kind = \"at_most\", threshold = 280 }\n",
    );
    let inputs = two(["4521", "4530"]);
    let s = score(&p, &inputs);
    // a (CPC 4521): the longest prefix 452 applies, 275 ≤ 280 → 40; inflow 12 of 30 → 0.4 ×
    // 40 = 16; certified → 20. 40 + 16 + 20 = 76.
    assert_eq!(s.gx_score(0), Decimal::from(76));
    // b (CPC 4530): prefix 45 applies, 150 > 100 → 0; inflow missing; certified missing. 0.
    assert_eq!((s.gx_score(1), s.missing[1]), (Decimal::ZERO, 2));

    // Without overrides the linear CFP rule runs downwards: 275 → (275 − 300) / (200 − 300)
    // = 0.25 × 40 = 10; 150 is past the full end → 40.
    let p = profile(
        "[[indicator]]\nkey = \"cfp\"\ngroup = \"d\"\nweight = 40\nrule = { kind = \"linear\", zero_at = 300, full_at = 200 }\n\
         [[indicator]]\nkey = \"circular_inflow\"\ngroup = \"c\"\nweight = 60\nrule = { kind = \"linear\", zero_at = 0, full_at = 30 }\n",
    );
    let inputs = two(["1", "2"]);
    let s = score(&p, &inputs);
    assert_eq!(s.points(&inputs, 0, 0), Decimal::from(10));
    assert_eq!(s.points(&inputs, 0, 1), Decimal::from(40));
    // a: 10 + 0.4 × 60 = 34.
    assert_eq!(s.gx_score(0), Decimal::from(34));
}

#[test]
fn bad_profiles_are_refused_with_the_line() {
    let bad = [
        (
            "name = \"t\"\n[[indicator]]\nkey = \"cfp\"\ngroup = \"g\"\nweight = 99\nrule = { kind = \"present\" }\n",
            "add up to 99, not 100",
        ),
        (
            "name = \"t\"\n[[indicator]]\nkey = \"co2\"\ngroup = \"g\"\nweight = 100\nrule = { kind = \"present\" }\n",
            "unknown indicator \"co2\"",
        ),
        (
            "name = \"t\"\n[[indicator]]\nkey = \"cfp\"\ngroup = \"g\"\nweight = 100\nrule = { kind = \"at_most\", threshold = \"high\" }\n",
            "threshold must be a number",
        ),
    ];
    for (text, message) in bad {
        let e = Profile::parse("bad.toml", text)
            .expect_err(message)
            .to_string();
        assert!(e.starts_with("bad.toml:") && e.contains(message), "{e}");
    }
}

#[test]
fn sheets_in_every_format_and_language() {
    let (inputs, s) = demo();
    for (lang, l) in [(Lang::Ja, "ja"), (Lang::En, "en")] {
        for (format, f) in [
            (SheetFormat::Html, "html"),
            (SheetFormat::Csv, "csv"),
            (SheetFormat::Json, "json"),
            (SheetFormat::Markdown, "md"),
        ] {
            let mut text = Sheet::new(&s, &inputs, lang).render(format);
            // The embedded font subset is checked glyph by glyph in `font` and drawn in the
            // browser test; the snapshot keeps the page around it readable.
            if let Some(start) = text.find("base64,") {
                let end = start + text[start..].find(')').expect("the data URL ends");
                text.replace_range(start + "base64,".len()..end, "…");
            }
            insta::assert_snapshot!(format!("sheet_{l}_{f}"), text);
        }
    }
    let html = Sheet::new(&s, &inputs, Lang::Ja).render(SheetFormat::Html);
    // Printable: A4 landscape, the header block (with the weights) repeated on every page.
    assert!(html.contains("@page { size: A4 landscape;"));
    assert!(html.contains("table.sheet thead { display: table-header-group; }"));
    // A complete, self-contained page: no links to anything outside it.
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"ja\">"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    for label in [
        "重み付け",
        "GX評点",
        "国視点の重要性",
        "サーキュラーインフロー率",
        "100 pt max.",
    ] {
        assert!(html.contains(label), "{label}");
    }
}

#[tokio::test]
async fn suppliers_rank_within_a_category() {
    let t = mieruka::dataset::demo().expect("demo");
    let session = Session::new(&t).await.expect("session");
    let catalog = Catalog::embedded().expect("catalog");
    let q = catalog.get("ranking/suppliers").expect("query");
    let args = vec![
        ("category".to_owned(), "4714".to_owned()),
        ("by".to_owned(), "intensity".to_owned()),
        (
            "product".to_owned(),
            "urn:mieruka-demo:product:kaede-note-14".to_owned(),
        ),
    ];
    let rows = output::rows_json(&session.run(q, &args).await.expect("run").batches);
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["company_name"].as_str().unwrap_or(""))
        .collect();
    // The DRAM (2085.2 kg/kg) and NAND (6960 kg/kg) makers share a median of 4522.6: 0.461
    // and 1.539; the SoC is the only one declared per piece: 1.0.
    assert_eq!(
        names,
        [
            "Hanbit Memory Co., Ltd.",
            "Meridian Semiconductor Inc.",
            "記憶半導体株式会社"
        ]
    );
    // Contributions to the PC come from its decomposition: the SoC is an unresolved 24.5.
    assert_eq!(rows[1]["contribution_kgco2e"], "24.5");
    let all = output::rows_json(&session.run(q, &[]).await.expect("run").batches);
    insta::assert_json_snapshot!("ranking_suppliers", all);
}

/// The workbook read back (calamine): 表3-2-1's two-level header with its merges, the weight
/// row of the default profile (8, 7 | 8, 7, 7, 8 | 15, 10, 8 | 8, 8 | 6: 100 points), the
/// products by score, the notes, and the numbers sheet.
#[test]
fn the_xlsx_sheet_reads_back_as_laid_out() {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

    let (inputs, s) = demo();
    for lang in [Lang::Ja, Lang::En] {
        let bytes = Sheet::new(&s, &inputs, lang).xlsx().expect("xlsx");
        let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("opens");
        let (marks_name, numbers_name) = match lang {
            Lang::Ja => ("要件シート", "数値"),
            Lang::En => ("Requirement sheet", "Numbers"),
        };
        assert_eq!(wb.sheet_names(), [marks_name, numbers_name]);
        let r = wb.worksheet_range(marks_name).expect("marks sheet");
        let at = |row: u32, col: u32| r.get_value((row, col)).cloned().unwrap_or(Data::Empty);
        let text = |row: u32, col: u32| match at(row, col) {
            Data::String(s) => s,
            other => panic!("({row}, {col}) is {other:?}"),
        };
        let number = |row: u32, col: u32| match at(row, col) {
            Data::Float(f) => f,
            Data::Int(i) => i as f64,
            other => panic!("({row}, {col}) is {other:?}"),
        };

        // Rows 2–4 are the header; columns 2–13 the twelve indicators; 14 the score.
        if lang == Lang::Ja {
            assert_eq!(text(2, 0), "具体製品");
            assert_eq!(text(2, 2), "国視点の重要性");
            assert_eq!(text(2, 4), "環境宣言・情報開示・認証");
            assert_eq!(text(2, 8), "環境指標");
            assert_eq!(text(3, 8), "減炭素指標");
            assert_eq!(text(3, 11), "資源循環");
            assert_eq!(text(2, 13), "追加性");
            assert_eq!(text(2, 14), "GX評点");
            assert_eq!(text(4, 12), "サーキュラーインフロー率");
            assert_eq!(text(5, 0), "重み付け");
        } else {
            assert_eq!(text(2, 8), "Environmental indicators");
            assert_eq!(text(5, 0), "Weight");
        }
        let weights: Vec<f64> = (2..14).map(|c| number(5, c)).collect();
        assert_eq!(weights, [8., 7., 8., 7., 7., 8., 15., 10., 8., 8., 8., 6.]);
        assert_eq!(weights.iter().sum::<f64>(), 100.0);
        assert_eq!(text(5, 14), "100 pt max.");

        // The notebook PC first (88.4, worked by hand in `demo_scores_worked_by_hand`):
        // outflow 45 of 50 → △ 0.9, inflow 12 of 30 → △ 0.4, additionality ×.
        assert!(text(6, 0).contains("KAEDE Note 14"), "{}", text(6, 0));
        assert_eq!(text(6, 2), "○");
        assert_eq!(text(6, 11), "△ 0.9");
        assert_eq!(text(6, 12), "△ 0.4");
        assert_eq!(text(6, 13), "×");
        assert_eq!(number(6, 14), 88.4);
        // Scores descend down the rows.
        let scores: Vec<f64> = (6..6 + inputs.len() as u32)
            .map(|row| number(row, 14))
            .collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        // The notes under the table: the legend, then one rule per indicator.
        let notes: Vec<String> = (6 + inputs.len() as u32..r.height() as u32)
            .filter_map(|row| match at(row, 0) {
                Data::String(s) => Some(s),
                _ => None,
            })
            .collect();
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("*11 ") && n.contains("0 → 30 (linear)")),
            "{notes:?}"
        );

        let mut merges: Vec<((u32, u32), (u32, u32))> = wb
            .merge_cells_by_sheet_name(marks_name)
            .expect("merges")
            .iter()
            .map(|d| (d.start, d.end))
            .collect();
        merges.sort();
        assert_eq!(
            merges,
            [
                ((2, 0), (4, 0)),   // product
                ((2, 1), (4, 1)),   // company
                ((2, 2), (3, 3)),   // national viewpoint
                ((2, 4), (3, 7)),   // declaration, disclosure, certification
                ((2, 8), (2, 12)),  // environmental indicators
                ((2, 13), (3, 13)), // additionality
                ((2, 14), (4, 14)), // GX score
                ((3, 8), (3, 10)),  // decarbonization
                ((3, 11), (3, 12)), // resource circulation
                ((5, 0), (5, 1)),   // weight
            ]
        );

        // The numbers: the ingot's inflow credit 1/6 to six places and its exact score.
        let n = wb.worksheet_range(numbers_name).expect("numbers sheet");
        let row = (1..n.height() as u32)
            .find(|&row| {
                n.get_value((row, 0))
                    == Some(&Data::String(
                        "urn:mieruka-demo:product:nordic-al-ingot".into(),
                    ))
            })
            .expect("ingot row");
        // Five leading columns, then four per indicator; inflow is the eleventh.
        let inflow = 5 + 10 * 4;
        assert_eq!(n.get_value((row, inflow)), Some(&Data::Float(5.0)));
        assert_eq!(n.get_value((row, inflow + 1)), Some(&Data::Float(0.166667)));
        assert_eq!(
            n.get_value((row, inflow + 3)),
            Some(&Data::String("partial".into()))
        );
        assert_eq!(
            n.get_value((row, 5 + 12 * 4)),
            Some(&Data::Float(68.333333))
        );
    }
}
