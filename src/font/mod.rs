//! The bundled font, M+ 1 Regular (SIL OFL 1.1, `OFL.txt`), and subsets of it that hold only
//! the glyphs a document uses: a page that embeds one shows its Japanese the same on every
//! machine, Japanese fonts installed or not, for a few tens of kilobytes instead of 1.5 MB.
//!
//! M+ 1 is an OpenType font with CFF outlines (name-keyed, 6,650 glyphs). A subset holds
//! `.notdef` and the glyphs of the characters asked for, renumbered in the font's order, with
//! their outlines, names and metrics; `cmap` maps only those characters; the layout tables
//! (GSUB, GPOS, vertical metrics) are left out.

mod cff;

use std::collections::BTreeMap;

use crate::{Error, Result};

/// M+ 1 Regular.
pub const MPLUS1: &[u8] = include_bytes!("Mplus1-Regular.otf");

/// The tables a subset keeps as they are (with `CFF `, `cmap`, `hmtx`, `hhea` and `maxp`
/// rewritten): what a browser needs to accept an OpenType font.
const KEPT: [&[u8; 4]; 4] = [b"OS/2", b"head", b"name", b"post"];

/// A subset of `font` (an OpenType font with CFF outlines) mapping `chars` that it has, and
/// only those, to their glyphs. Characters the font lacks are left to the reader's other
/// fonts.
pub fn subset(font: &[u8], chars: impl IntoIterator<Item = char>) -> Result<Vec<u8>> {
    let bad = |why: &str| Error::Internal(format!("font subset: {why}"));
    let face = ttf_parser::Face::parse(font, 0).map_err(|e| bad(&e.to_string()))?;
    let table = |tag: &[u8; 4]| {
        face.raw_face()
            .table(ttf_parser::Tag::from_bytes(tag))
            .ok_or_else(|| bad(&format!("no {} table", String::from_utf8_lossy(tag))))
    };
    // Character → old glyph, the Basic Multilingual Plane only (a format 4 cmap; M+ 1 has
    // no glyph beyond it).
    let mut map = BTreeMap::new();
    for c in chars {
        if let (Ok(code), Some(g)) = (u16::try_from(u32::from(c)), face.glyph_index(c)) {
            map.insert(code, g.0);
        }
    }
    // The kept glyphs, .notdef first, in the font's order; glyph keep[i] becomes glyph i.
    let mut keep: Vec<u16> = map.values().copied().chain([0]).collect();
    keep.sort_unstable();
    keep.dedup();
    let new = |old: u16| keep.binary_search(&old).unwrap_or(0) as u16;
    let map: BTreeMap<u16, u16> = map.into_iter().map(|(c, g)| (c, new(g))).collect();
    let count = keep.len() as u16;

    // Every glyph its own advance and side bearing.
    let mut hmtx = Vec::with_capacity(keep.len() * 4);
    for &g in &keep {
        let id = ttf_parser::GlyphId(g);
        hmtx.extend(face.glyph_hor_advance(id).unwrap_or(0).to_be_bytes());
        hmtx.extend(face.glyph_hor_side_bearing(id).unwrap_or(0).to_be_bytes());
    }
    let mut hhea = table(b"hhea")?.to_vec();
    let mut maxp = table(b"maxp")?.to_vec();
    if hhea.len() < 36 || maxp.len() < 6 {
        return Err(bad("hhea or maxp too short"));
    }
    hhea[34..36].copy_from_slice(&count.to_be_bytes()); // numberOfHMetrics
    maxp[4..6].copy_from_slice(&count.to_be_bytes()); // numGlyphs
    let mut tables: Vec<([u8; 4], Vec<u8>)> = vec![
        (*b"CFF ", cff::subset(table(b"CFF ")?, &keep)?),
        (*b"cmap", cmap(&map)),
        (*b"hhea", hhea),
        (*b"hmtx", hmtx),
        (*b"maxp", maxp),
    ];
    for tag in KEPT {
        tables.push((*tag, table(tag)?.to_vec()));
    }
    Ok(sfnt(tables))
}

/// A `cmap` with one format 4 subtable (Windows, Unicode BMP) for `map`: runs of
/// consecutive characters on consecutive glyphs share a segment.
fn cmap(map: &BTreeMap<u16, u16>) -> Vec<u8> {
    // (start, end, delta)
    let mut segments: Vec<(u16, u16, u16)> = Vec::new();
    for (&code, &glyph) in map.iter().filter(|(c, _)| **c != 0xFFFF) {
        let delta = glyph.wrapping_sub(code);
        match segments.last_mut() {
            Some(s) if s.1.wrapping_add(1) == code && s.2 == delta => s.1 = code,
            _ => segments.push((code, code, delta)),
        }
    }
    segments.push((0xFFFF, 0xFFFF, 1));
    let n = segments.len() as u16;
    let pow = 1u16 << (15 - n.leading_zeros());
    let mut sub = Vec::new();
    let length = 16 + 8 * n;
    for v in [
        4,
        length,
        0,
        n * 2,
        pow * 2,
        pow.trailing_zeros() as u16,
        (n - pow) * 2,
    ] {
        sub.extend(v.to_be_bytes());
    }
    sub.extend(segments.iter().flat_map(|s| s.1.to_be_bytes()));
    sub.extend([0, 0]);
    sub.extend(segments.iter().flat_map(|s| s.0.to_be_bytes()));
    sub.extend(segments.iter().flat_map(|s| s.2.to_be_bytes()));
    sub.extend(segments.iter().flat_map(|_| [0, 0]));
    let mut out = Vec::with_capacity(12 + sub.len());
    // version 0, one table: platform 3 (Windows), encoding 1 (Unicode BMP), at offset 12.
    for v in [0u16, 1, 3, 1] {
        out.extend(v.to_be_bytes());
    }
    out.extend(12u32.to_be_bytes());
    out.extend(sub);
    out
}

fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, c| {
        let mut word = [0u8; 4];
        word[..c.len()].copy_from_slice(c);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// An OpenType file (CFF outlines) of `tables`, in tag order, each on a 4-byte boundary,
/// with `head`'s checksum adjustment set.
fn sfnt(mut tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    tables.sort_by_key(|t| t.0);
    let n = tables.len() as u16;
    let pow = 1u16 << (15 - n.leading_zeros());
    let mut out = b"OTTO".to_vec();
    for v in [n, pow * 16, pow.trailing_zeros() as u16, n * 16 - pow * 16] {
        out.extend(v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = None;
    for (tag, data) in &mut tables {
        if tag == b"head" && data.len() >= 12 {
            data[8..12].copy_from_slice(&[0; 4]);
            head_at = Some(offset);
        }
        out.extend(*tag);
        out.extend(checksum(data).to_be_bytes());
        out.extend((offset as u32).to_be_bytes());
        out.extend((data.len() as u32).to_be_bytes());
        offset += data.len().next_multiple_of(4);
    }
    for (_, data) in &tables {
        out.extend(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBA_u32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A glyph's outline as text, to compare two fonts' drawings of it.
    #[derive(Default)]
    struct Path(String);

    impl ttf_parser::OutlineBuilder for Path {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0.push_str(&format!("M{x},{y} "));
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0.push_str(&format!("L{x},{y} "));
        }
        fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
            self.0.push_str(&format!("Q{x1},{y1},{x},{y} "));
        }
        fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
            self.0.push_str(&format!("C{x1},{y1},{x2},{y2},{x},{y} "));
        }
        fn close(&mut self) {
            self.0.push('Z');
        }
    }

    fn outline(face: &ttf_parser::Face, c: char) -> Option<String> {
        let g = face.glyph_index(c)?;
        let mut p = Path::default();
        face.outline_glyph(g, &mut p)?;
        Some(p.0)
    }

    #[test]
    fn a_subset_draws_its_characters_as_the_font_does_and_nothing_else() {
        let text = "GX要件シート 見える化（重み付け）○ABC abc 0.5 – ・";
        let sub = subset(MPLUS1, text.chars()).expect("subset");
        let full = ttf_parser::Face::parse(MPLUS1, 0).expect("font");
        let face = ttf_parser::Face::parse(&sub, 0).expect("the subset parses");
        // .notdef and one glyph per distinct character M+ 1 has (○ it has not).
        let distinct: std::collections::BTreeSet<char> = text
            .chars()
            .filter(|c| full.glyph_index(*c).is_some())
            .collect();
        assert_eq!(usize::from(face.number_of_glyphs()), distinct.len() + 1);
        assert!(sub.len() < 30_000, "{} bytes", sub.len());
        for c in text.chars() {
            // Same outline, same advance and side bearing: text lays out as with the font.
            let Some(g) = full.glyph_index(c) else {
                assert_eq!(face.glyph_index(c), None, "{c:?}");
                continue;
            };
            let s = face.glyph_index(c).expect("mapped");
            assert_eq!(outline(&face, c), outline(&full, c), "{c:?}");
            assert_eq!(
                face.glyph_hor_advance(s),
                full.glyph_hor_advance(g),
                "{c:?}"
            );
            assert_eq!(
                face.glyph_hor_side_bearing(s),
                full.glyph_hor_side_bearing(g)
            );
            assert_eq!(face.glyph_name(s), full.glyph_name(g), "{c:?}");
        }
        assert_eq!(full.glyph_index('○'), None);
        // A character not asked for is not mapped.
        for c in ['東', 'Z', 'ぬ'] {
            assert!(full.glyph_index(c).is_some());
            assert_eq!(face.glyph_index(c), None, "{c:?}");
        }
        // The checksum adjustment makes the whole file sum to OpenType's magic number.
        assert_eq!(checksum(&sub), 0xB1B0_AFBA);
    }

    #[test]
    fn an_empty_subset_is_still_a_font() {
        let sub = subset(MPLUS1, std::iter::empty()).expect("subset");
        let face = ttf_parser::Face::parse(&sub, 0).expect("parses");
        assert_eq!(face.glyph_index('A'), None);
        assert_eq!(face.number_of_glyphs(), 1);
    }

    #[test]
    fn cmap_segments_follow_runs() {
        let map: BTreeMap<u16, u16> = [(0x41, 34), (0x42, 35), (0x43, 36), (0x61, 66), (0x63, 68)]
            .into_iter()
            .collect();
        let t = cmap(&map);
        // Header 12 bytes, then format 4 with four segments: A–C, a, c and the 0xFFFF end.
        assert_eq!(u16::from_be_bytes([t[12], t[13]]), 4);
        assert_eq!(u16::from_be_bytes([t[18], t[19]]), 8, "segCountX2");
        let ends: Vec<u16> = (0..4)
            .map(|i| u16::from_be_bytes([t[26 + 2 * i], t[27 + 2 * i]]))
            .collect();
        assert_eq!(ends, [0x43, 0x61, 0x63, 0xFFFF]);
    }

    #[test]
    fn a_font_that_is_not_one_is_an_error() {
        let e = subset(b"not a font", "a".chars()).expect_err("junk");
        assert!(e.to_string().contains("font subset"), "{e}");
    }
}
