//! Cell escapes every text writer shares: CSV fields that a spreadsheet opens as text, never
//! as a formula, and Markdown table cells that a renderer shows as text, never as HTML.
//!
//! Company and product names come from suppliers' documents, so they are hostile input
//! wherever they are written out.

/// Appends `s` to `out` as one CSV field (RFC 4180 quoting).
///
/// A text starting with `=`, `+`, `-`, `@`, a tab or a carriage return is opened by Excel,
/// LibreOffice and Google Sheets as a formula (`=HYPERLINK(…)`, `@SUM(…)`); such a field
/// gets a leading `'`, which those programs show as a text marker, as OWASP's advice on CSV
/// injection says. Numbers (`-5`, `+1.5e3`) are left as they are, so they stay numbers.
pub fn csv_field(s: &str, out: &mut String) {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number(s);
    if formula || s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        if formula {
            out.push('\'');
        }
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// `s` as one CSV field (see [`csv_field`]).
pub fn csv(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    csv_field(s, &mut out);
    out
}

/// Whether `s` is a plain decimal number (`-12`, `+0.5`, `1e-3`), which no spreadsheet reads
/// as a formula.
fn is_number(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    !body.is_empty()
        && body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body.parse::<f64>().is_ok_and(f64::is_finite)
}

/// `s` as the text of one Markdown table cell: `|` would end the cell, and `<`, `>` and `&`
/// would reach a renderer as HTML (`<script>`, `<img onerror=…>`), so they are written as
/// character references; a line break would end the row.
pub fn markdown_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        assert_eq!(
            csv("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv("+cmd|' /C calc'!A0"), "\"'+cmd|' /C calc'!A0\"");
        assert_eq!(csv("-2+3"), "\"'-2+3\"");
        assert_eq!(csv("\tx"), "\"'\tx\"");
        assert_eq!(csv("-12.5"), "-12.5");
        assert_eq!(csv("+1e3"), "+1e3");
        assert_eq!(csv("-"), "\"'-\"");
        assert_eq!(csv("-inf"), "\"'-inf\"");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("株式会社"), "株式会社");
    }

    #[test]
    fn markdown_cells_carry_no_html() {
        assert_eq!(
            markdown_cell("<script>alert(1)</script> | A&B\nx"),
            "&lt;script&gt;alert(1)&lt;/script&gt; \\| A&amp;B x"
        );
    }
}
