//! The requirement sheet as an Excel workbook, laid out like the consortium's 表3-2-1: merged
//! group headers (環境指標 over 減炭素指標 and 資源循環), the weight row (重み付け), one row per
//! product with its marks and GX score, each indicator's rule as a cell note and in the notes
//! under the table; a second sheet holds the numbers behind every mark.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Note, Workbook, Worksheet};

use super::{Sheet, group_label, label, labels, mark};
use crate::score::{SCORE_PLACES, Status};
use crate::{Error, Result};

/// Groups under the environmental-indicator header (環境指標).
const ENVIRONMENTAL: [&str; 2] = ["decarbonization", "circulation"];

/// Rows of the header block: the top header, the group, the indicator.
const HEAD: u32 = 2;
/// The weight row.
const WEIGHTS: u32 = HEAD + 3;
/// The first product row.
const FIRST: u32 = WEIGHTS + 1;
/// Columns before the indicators: product, company.
const LEFT: u16 = 2;

fn err(e: rust_xlsxwriter::XlsxError) -> Error {
    Error::Internal(format!("writing the workbook: {e}"))
}

/// Writes `text` over rows `r0..=r1` and columns `c0..=c1` (one cell is written, not merged).
fn span(
    ws: &mut Worksheet,
    (r0, c0): (u32, u16),
    (r1, c1): (u32, u16),
    text: &str,
    f: &Format,
) -> Result<()> {
    if (r0, c0) == (r1, c1) {
        ws.write_string_with_format(r0, c0, text, f).map_err(err)?;
    } else {
        ws.merge_range(r0, c0, r1, c1, text, f).map_err(err)?;
    }
    Ok(())
}

impl Sheet<'_> {
    /// The sheet as an `.xlsx` workbook.
    pub fn xlsx(&self) -> Result<Vec<u8>> {
        let mut wb = Workbook::new();
        self.marks_sheet(wb.add_worksheet())?;
        self.numbers_sheet(wb.add_worksheet())?;
        wb.save_to_buffer().map_err(err)
    }

    fn marks_sheet(&self, ws: &mut Worksheet) -> Result<()> {
        let l = labels(self.lang);
        let lang = self.lang;
        let profile = &self.scores.profile;
        let k = profile.indicators.len() as u16;
        let score_col = LEFT + k;
        ws.set_name(lang.pick("要件シート", "Requirement sheet"))
            .map_err(err)?;
        let head = Format::new()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap()
            .set_border(FormatBorder::Thin)
            .set_background_color(Color::RGB(0xE8EEF4));
        let cell = Format::new()
            .set_align(FormatAlign::Center)
            .set_border(FormatBorder::Thin);
        let name = Format::new().set_border(FormatBorder::Thin);
        let weight = cell.clone().set_num_format("General\" pt\"");
        let score = cell.clone().set_bold().set_num_format("0.0");
        let title = Format::new().set_bold().set_font_size(14);

        ws.write_string_with_format(0, 0, l.title, &title)
            .map_err(err)?;
        ws.write_string(1, 0, format!("{}: {}", l.profile, profile.name))
            .map_err(err)?;

        // Header: product and company over three rows; each group's label over its columns,
        // the environmental groups under one 環境指標 header; the indicators below.
        span(ws, (HEAD, 0), (HEAD + 2, 0), l.product, &head)?;
        span(ws, (HEAD, 1), (HEAD + 2, 1), l.company, &head)?;
        let mut col = LEFT;
        let groups = self.groups();
        let mut g = 0;
        while g < groups.len() {
            let (group, n) = &groups[g];
            let n = *n as u16;
            if ENVIRONMENTAL.contains(&group.as_str()) {
                // Consecutive environmental groups share the top header.
                let mut width = 0u16;
                let mut h = g;
                while h < groups.len() && ENVIRONMENTAL.contains(&groups[h].0.as_str()) {
                    let w = groups[h].1 as u16;
                    span(
                        ws,
                        (HEAD + 1, col + width),
                        (HEAD + 1, col + width + w - 1),
                        &group_label(&groups[h].0, lang),
                        &head,
                    )?;
                    width += w;
                    h += 1;
                }
                let top = lang.pick("環境指標", "Environmental indicators");
                span(ws, (HEAD, col), (HEAD, col + width - 1), top, &head)?;
                col += width;
                g = h;
            } else {
                span(
                    ws,
                    (HEAD, col),
                    (HEAD + 1, col + n - 1),
                    &group_label(group, lang),
                    &head,
                )?;
                col += n;
                g += 1;
            }
        }
        span(ws, (HEAD, score_col), (HEAD + 2, score_col), l.score, &head)?;
        for (i, ind) in profile.indicators.iter().enumerate() {
            let c = LEFT + i as u16;
            ws.write_string_with_format(HEAD + 2, c, label(ind.key, lang), &head)
                .map_err(err)?;
            let note = format!(
                "{}\n{}: {}",
                super::definition(ind.key, lang),
                lang.pick("要件", "Requirement"),
                ind.rule.describe()
            );
            ws.insert_note(HEAD + 2, c, &Note::new(note).set_width(320).set_height(140))
                .map_err(err)?;
            ws.write_number_with_format(WEIGHTS, c, decimal_f64(ind.weight), &weight)
                .map_err(err)?;
        }
        span(ws, (WEIGHTS, 0), (WEIGHTS, 1), l.weight, &head)?;
        ws.write_string_with_format(WEIGHTS, score_col, l.max, &cell)
            .map_err(err)?;

        let mut row = FIRST;
        for &p in &self.order {
            ws.write_string_with_format(row, 0, &self.inputs.product_name[p], &name)
                .map_err(err)?;
            ws.write_string_with_format(row, 1, &self.inputs.company_name[p], &name)
                .map_err(err)?;
            for i in 0..profile.indicators.len() {
                let credit = self.scores.credit(self.inputs, i, p);
                ws.write_string_with_format(row, LEFT + i as u16, mark(credit.as_ref()), &cell)
                    .map_err(err)?;
            }
            ws.write_number_with_format(
                row,
                score_col,
                decimal_f64(self.scores.gx_score(p)),
                &score,
            )
            .map_err(err)?;
            row += 1;
        }

        // Notes under the table: the legend, every indicator's rule, the caveat.
        row += 1;
        ws.write_string(row, 0, l.notes).map_err(err)?;
        for note in std::iter::once(l.legend.to_owned())
            .chain(self.rule_note())
            .chain(std::iter::once(l.caveat.to_owned()))
        {
            row += 1;
            ws.write_string(row, 0, note).map_err(err)?;
        }

        ws.set_column_width(0, 40).map_err(err)?;
        ws.set_column_width(1, 28).map_err(err)?;
        for c in LEFT..score_col {
            ws.set_column_width(c, 11).map_err(err)?;
        }
        ws.set_column_width(score_col, 10).map_err(err)?;
        ws.set_row_height(HEAD + 2, 48).map_err(err)?;
        ws.set_freeze_panes(FIRST, LEFT).map_err(err)?;
        // A4 landscape, the header block on every printed page.
        ws.set_landscape().set_paper_size(9);
        ws.set_repeat_rows(HEAD, WEIGHTS).map_err(err)?;
        Ok(())
    }

    /// The numbers behind the marks: per product and indicator the value, the credit (exact,
    /// shown to six places) and the points; the GX score and the missing count.
    fn numbers_sheet(&self, ws: &mut Worksheet) -> Result<()> {
        let lang = self.lang;
        let l = labels(lang);
        let profile = &self.scores.profile;
        ws.set_name(lang.pick("数値", "Numbers")).map_err(err)?;
        let head = Format::new().set_bold().set_text_wrap();
        let mut header: Vec<String> = vec![
            "product_id".into(),
            "footprint_id".into(),
            l.product.into(),
            l.company.into(),
            "CPC".into(),
        ];
        for ind in &profile.indicators {
            let name = label(ind.key, lang);
            header.push(format!("{name} {}", lang.pick("値", "value")));
            header.push(format!("{name} {}", lang.pick("得点率", "credit")));
            header.push(format!("{name} {}", lang.pick("得点", "points")));
            header.push(format!("{name} {}", lang.pick("判定", "status")));
        }
        header.push(l.score.into());
        header.push(lang.pick("欠測", "missing").into());
        for (c, h) in header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &head)
                .map_err(err)?;
        }
        for (r, &p) in self.order.iter().enumerate() {
            let row = r as u32 + 1;
            let i = self.inputs;
            let fixed = [
                i.product_id[p].as_str(),
                i.footprint_id[p].as_str(),
                i.product_name[p].as_str(),
                i.company_name[p].as_str(),
                i.cpc.get(p).unwrap_or(""),
            ];
            for (c, v) in fixed.iter().enumerate() {
                ws.write_string(row, c as u16, *v).map_err(err)?;
            }
            let mut col = fixed.len() as u16;
            for (n, ind) in profile.indicators.iter().enumerate() {
                if let Some(v) = i.values(ind.key).text(p) {
                    match v.parse::<f64>() {
                        Ok(x) => ws.write_number(row, col, x),
                        Err(_) => ws.write_string(row, col, v),
                    }
                    .map_err(err)?;
                }
                let credit = self.scores.credit(i, n, p);
                if let Some(c) = &credit {
                    ws.write_number(row, col + 1, decimal_f64(c.rounded(SCORE_PLACES)))
                        .map_err(err)?;
                }
                ws.write_number(row, col + 2, decimal_f64(self.scores.points(i, n, p)))
                    .map_err(err)?;
                ws.write_string(row, col + 3, Status::of(credit.as_ref()).as_str())
                    .map_err(err)?;
                col += 4;
            }
            ws.write_number(row, col, decimal_f64(self.scores.gx_score(p)))
                .map_err(err)?;
            ws.write_number(row, col + 1, self.scores.missing[p])
                .map_err(err)?;
        }
        ws.set_freeze_panes(1, 3).map_err(err)?;
        Ok(())
    }
}

/// A decimal as Excel's number (binary floating point: the nearest double).
fn decimal_f64(d: rust_decimal::Decimal) -> f64 {
    d.to_string().parse().unwrap_or(f64::NAN)
}
