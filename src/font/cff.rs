//! Subsetting a name-keyed CFF table (Adobe TN 5176; charstrings Type 2, TN 5177): the kept
//! glyphs' charstrings, renumbered in order, their names, and the subroutines they call
//! (found by reading the charstrings; the others left empty, keeping every subroutine's
//! number so that no charstring needs rewriting). The Top and Private DICTs are rewritten
//! with the new offsets.

use crate::{Error, Result};

fn bad(why: impl std::fmt::Display) -> Error {
    Error::Internal(format!("font subset: CFF: {why}"))
}

/// An INDEX: its items, and where it ends.
struct Index<'a> {
    items: Vec<&'a [u8]>,
    end: usize,
}

fn read_index(data: &[u8], at: usize) -> Result<Index<'_>> {
    let byte = |i: usize| {
        data.get(i)
            .copied()
            .ok_or_else(|| bad("INDEX past the end"))
    };
    let count = usize::from(u16::from_be_bytes([byte(at)?, byte(at + 1)?]));
    if count == 0 {
        return Ok(Index {
            items: Vec::new(),
            end: at + 2,
        });
    }
    let size = usize::from(byte(at + 2)?);
    if !(1..=4).contains(&size) {
        return Err(bad(format!("INDEX offset size {size}")));
    }
    let offset = |i: usize| -> Result<usize> {
        let start = at + 3 + i * size;
        let mut v = 0usize;
        for k in 0..size {
            v = (v << 8) | usize::from(byte(start + k)?);
        }
        Ok(v)
    };
    let base = at + 3 + (count + 1) * size - 1;
    let mut items = Vec::with_capacity(count);
    let mut from = offset(0)?;
    for i in 1..=count {
        let to = offset(i)?;
        let item = (to >= from)
            .then(|| data.get(base + from..base + to))
            .flatten()
            .ok_or_else(|| bad("INDEX item out of bounds"))?;
        items.push(item);
        from = to;
    }
    Ok(Index {
        items,
        end: base + from,
    })
}

fn write_index<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a [u8]> + Clone) {
    let count = items.clone().count();
    out.extend((count as u16).to_be_bytes());
    if count == 0 {
        return;
    }
    let last = 1 + items.clone().map(<[u8]>::len).sum::<usize>();
    let size = (1..4).find(|s| last < 1 << (8 * s)).unwrap_or(4);
    out.push(size as u8);
    let mut offset = 1usize;
    out.extend(&offset.to_be_bytes()[8 - size..]);
    for item in items.clone() {
        offset += item.len();
        out.extend(&offset.to_be_bytes()[8 - size..]);
    }
    for item in items {
        out.extend(item);
    }
}

/// A DICT entry: its operator (12 x as 1200 + x) and its operands, as numbers (integers; a
/// real keeps its bytes).
#[derive(Debug, Clone)]
enum Operand {
    Int(i32),
    Real(Vec<u8>),
}

fn read_dict(data: &[u8]) -> Result<Vec<(u16, Vec<Operand>)>> {
    let mut entries = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    let byte = |i: usize| data.get(i).copied().ok_or_else(|| bad("DICT past its end"));
    while i < data.len() {
        let b = data[i];
        match b {
            0..=21 => {
                let op = if b == 12 {
                    i += 1;
                    1200 + u16::from(byte(i)?)
                } else {
                    u16::from(b)
                };
                entries.push((op, std::mem::take(&mut operands)));
                i += 1;
            }
            28 => {
                operands.push(Operand::Int(i32::from(i16::from_be_bytes([
                    byte(i + 1)?,
                    byte(i + 2)?,
                ]))));
                i += 3;
            }
            29 => {
                operands.push(Operand::Int(i32::from_be_bytes([
                    byte(i + 1)?,
                    byte(i + 2)?,
                    byte(i + 3)?,
                    byte(i + 4)?,
                ])));
                i += 5;
            }
            30 => {
                let start = i;
                loop {
                    i += 1;
                    let n = byte(i)?;
                    if n & 0x0F == 0x0F || n >> 4 == 0x0F {
                        break;
                    }
                }
                i += 1;
                operands.push(Operand::Real(data[start..i].to_vec()));
            }
            32..=246 => {
                operands.push(Operand::Int(i32::from(b) - 139));
                i += 1;
            }
            247..=250 => {
                operands.push(Operand::Int(
                    (i32::from(b) - 247) * 256 + i32::from(byte(i + 1)?) + 108,
                ));
                i += 2;
            }
            251..=254 => {
                operands.push(Operand::Int(
                    -(i32::from(b) - 251) * 256 - i32::from(byte(i + 1)?) - 108,
                ));
                i += 2;
            }
            _ => return Err(bad(format!("DICT byte {b}"))),
        }
    }
    Ok(entries)
}

/// `entries` as a DICT, every integer as a 5-byte operand (so a DICT's size does not depend
/// on the offsets written into it).
fn write_dict(entries: &[(u16, Vec<Operand>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (op, operands) in entries {
        for o in operands {
            match o {
                Operand::Int(v) => {
                    out.push(29);
                    out.extend(v.to_be_bytes());
                }
                Operand::Real(bytes) => out.extend(bytes),
            }
        }
        if *op >= 1200 {
            out.extend([12, (op - 1200) as u8]);
        } else {
            out.push(*op as u8);
        }
    }
    out
}

fn int(entries: &[(u16, Vec<Operand>)], op: u16, n: usize) -> Option<usize> {
    let (_, operands) = entries.iter().find(|(o, _)| *o == op)?;
    match operands.get(n)? {
        Operand::Int(v) => usize::try_from(*v).ok(),
        Operand::Real(_) => None,
    }
}

fn set(entries: &mut [(u16, Vec<Operand>)], op: u16, values: &[usize]) -> Result<()> {
    let (_, operands) = (entries.iter_mut())
        .find(|(o, _)| *o == op)
        .ok_or_else(|| bad(format!("DICT without operator {op}")))?;
    *operands = (values.iter())
        .map(|v| {
            i32::try_from(*v)
                .map(Operand::Int)
                .map_err(|_| bad("offset"))
        })
        .collect::<Result<_>>()?;
    Ok(())
}

/// The subroutine number bias (TN 5177, 4.7).
fn bias(count: usize) -> i32 {
    match count {
        0..1240 => 107,
        1240..33900 => 1131,
        _ => 32768,
    }
}

/// Which subroutines the kept charstrings call, found by reading them: numbers and
/// operators, hint masks' lengths from the stems declared, calls followed.
struct Calls<'a> {
    global: &'a [&'a [u8]],
    local: &'a [&'a [u8]],
    used_global: Vec<bool>,
    used_local: Vec<bool>,
}

impl Calls<'_> {
    /// Reads charstring `cs`; `true` when it ended the glyph (`endchar`).
    fn read(
        &mut self,
        cs: &[u8],
        stack: &mut Vec<i32>,
        stems: &mut usize,
        depth: usize,
    ) -> Result<bool> {
        if depth > 10 {
            return Err(bad("subroutines nested deeper than 10"));
        }
        let byte = |i: usize| {
            cs.get(i)
                .copied()
                .ok_or_else(|| bad("charstring past its end"))
        };
        let mut i = 0;
        while i < cs.len() {
            let b = cs[i];
            i += 1;
            match b {
                // hstem, vstem, hstemhm, vstemhm
                1 | 3 | 18 | 23 => {
                    *stems += stack.len() / 2;
                    stack.clear();
                }
                // hintmask, cntrmask: leftover operands are vstems, then the mask's bytes.
                19 | 20 => {
                    *stems += stack.len() / 2;
                    stack.clear();
                    i += stems.div_ceil(8);
                }
                10 | 29 => {
                    let global = b == 29;
                    let subrs = if global { self.global } else { self.local };
                    let n = stack.pop().ok_or_else(|| bad("a call without a number"))?
                        + bias(subrs.len());
                    let n = usize::try_from(n)
                        .ok()
                        .filter(|n| *n < subrs.len())
                        .ok_or_else(|| bad("a call to a subroutine that does not exist"))?;
                    if global {
                        self.used_global[n] = true;
                    } else {
                        self.used_local[n] = true;
                    }
                    if self.read(subrs[n], stack, stems, depth + 1)? {
                        return Ok(true);
                    }
                }
                11 => return Ok(false),
                14 => return Ok(true),
                12 => {
                    byte(i)?;
                    i += 1;
                    stack.clear();
                }
                28 => {
                    stack.push(i32::from(i16::from_be_bytes([byte(i)?, byte(i + 1)?])));
                    i += 2;
                }
                32..=246 => stack.push(i32::from(b) - 139),
                247..=250 => {
                    stack.push((i32::from(b) - 247) * 256 + i32::from(byte(i)?) + 108);
                    i += 1;
                }
                251..=254 => {
                    stack.push(-(i32::from(b) - 251) * 256 - i32::from(byte(i)?) - 108);
                    i += 1;
                }
                255 => {
                    let v =
                        i32::from_be_bytes([byte(i)?, byte(i + 1)?, byte(i + 2)?, byte(i + 3)?]);
                    stack.push(v >> 16);
                    i += 4;
                }
                _ => stack.clear(),
            }
        }
        Ok(false)
    }
}

/// The glyph names (SIDs) of the charset at `at`, for `glyphs` glyphs (formats 0, 1 and 2),
/// `.notdef` (SID 0) first.
fn charset(data: &[u8], at: usize, glyphs: usize) -> Result<Vec<u16>> {
    let byte = |i: usize| {
        data.get(i)
            .copied()
            .ok_or_else(|| bad("charset past the end"))
    };
    let word = |i: usize| Ok::<u16, Error>(u16::from_be_bytes([byte(i)?, byte(i + 1)?]));
    let mut sids = vec![0u16];
    let mut i = at + 1;
    match byte(at)? {
        0 => {
            while sids.len() < glyphs {
                sids.push(word(i)?);
                i += 2;
            }
        }
        format @ (1 | 2) => {
            while sids.len() < glyphs {
                let first = word(i)?;
                let left = if format == 1 {
                    u16::from(byte(i + 2)?)
                } else {
                    word(i + 2)?
                };
                i += if format == 1 { 3 } else { 4 };
                for k in 0..=left {
                    sids.push(first.wrapping_add(k));
                }
            }
            sids.truncate(glyphs);
        }
        format => return Err(bad(format!("charset format {format}"))),
    }
    Ok(sids)
}

/// The standard strings' count: SIDs below it are predefined, those from it index the String
/// INDEX.
const STANDARD_STRINGS: u16 = 391;

/// The Top DICT operators whose operand is a SID.
const SID_OPERATORS: [u16; 8] = [0, 1, 2, 3, 4, 1200, 1221, 1222];

/// `cff` with only the glyphs `keep` (old glyph ids, ascending, `.notdef` first): glyph
/// `keep[i]` of `cff` is glyph `i` of the subset. The String INDEX keeps only the names still
/// used; subroutines keep their numbers (a call is not rewritten), unused ones emptied.
pub(super) fn subset(cff: &[u8], keep: &[u16]) -> Result<Vec<u8>> {
    let header = usize::from(*cff.get(2).ok_or_else(|| bad("no header"))?);
    let names = read_index(cff, header)?;
    let tops = read_index(cff, names.end)?;
    let strings = read_index(cff, tops.end)?;
    let global = read_index(cff, strings.end)?;
    let [top] = tops.items[..] else {
        return Err(bad("not one font"));
    };
    let mut top = read_dict(top)?;
    if top.iter().any(|(op, _)| *op == 1230) {
        return Err(bad("CID-keyed fonts are not supported"));
    }
    // An OpenType font maps characters with its cmap; the CFF's own Encoding is unused
    // there (OpenType's CFF table: "the Encoding is not used"), so the subset has none.
    top.retain(|(op, _)| *op != 16);
    let charstrings_at = int(&top, 17, 0).ok_or_else(|| bad("no CharStrings"))?;
    let charstrings = read_index(cff, charstrings_at)?;
    let charset_at = int(&top, 15, 0).ok_or_else(|| bad("no charset"))?;
    let sids = charset(cff, charset_at, charstrings.items.len())?;
    let (private_len, private_at) = int(&top, 18, 0)
        .zip(int(&top, 18, 1))
        .ok_or_else(|| bad("no Private DICT"))?;
    let private = cff
        .get(private_at..private_at + private_len)
        .ok_or_else(|| bad("Private DICT out of bounds"))?;
    let mut private = read_dict(private)?;
    let local = match int(&private, 19, 0) {
        Some(at) => read_index(cff, private_at + at)?.items,
        None => Vec::new(),
    };

    let mut calls = Calls {
        global: &global.items,
        local: &local,
        used_global: vec![false; global.items.len()],
        used_local: vec![false; local.len()],
    };
    let mut glyphs = Vec::with_capacity(keep.len());
    for &g in keep {
        let cs =
            (charstrings.items.get(usize::from(g))).ok_or_else(|| bad(format!("no glyph {g}")))?;
        calls.read(cs, &mut Vec::new(), &mut 0, 0)?;
        glyphs.push(*cs);
    }

    // Strings: those the Top DICT and the kept glyphs' names use, renumbered in order.
    let mut renamed = std::collections::BTreeMap::new();
    let mut kept_strings: Vec<&[u8]> = Vec::new();
    let mut rename = |sid: u16| -> Result<u16> {
        if sid < STANDARD_STRINGS {
            return Ok(sid);
        }
        if let Some(new) = renamed.get(&sid) {
            return Ok(*new);
        }
        let s = (strings.items.get(usize::from(sid - STANDARD_STRINGS)))
            .ok_or_else(|| bad(format!("no string {sid}")))?;
        let new = STANDARD_STRINGS + kept_strings.len() as u16;
        kept_strings.push(s);
        renamed.insert(sid, new);
        Ok(new)
    };
    for (op, operands) in top.iter_mut() {
        if SID_OPERATORS.contains(op)
            && let Some(Operand::Int(sid)) = operands.first_mut()
        {
            *sid = i32::from(rename(u16::try_from(*sid).map_err(|_| bad("SID"))?)?);
        }
    }
    let mut charset = vec![0u8]; // format 0: one SID per glyph after .notdef
    for &g in keep.iter().skip(1) {
        let sid = sids.get(usize::from(g)).copied().unwrap_or(0);
        charset.extend(rename(sid)?.to_be_bytes());
    }

    // Layout: header, Name, Top DICT, String, Global Subrs, charset, CharStrings, Private,
    // Local Subrs. The Top DICT's size is fixed (5-byte operands), so offsets are known
    // before it is written.
    let mut out = cff[..header].to_vec();
    out[3] = 4; // absolute offsets up to 4 bytes
    write_index(&mut out, names.items.iter().copied());
    let mut rest = Vec::new();
    write_index(&mut rest, kept_strings.iter().copied());
    write_index(
        &mut rest,
        (global.items.iter().zip(&calls.used_global)).map(|(s, u)| if *u { *s } else { &[][..] }),
    );
    set(&mut top, 15, &[0])?;
    set(&mut top, 17, &[0])?;
    set(&mut top, 18, &[0, 0])?;
    let top_len = write_dict(&top).len();
    // Top DICT INDEX: count, offSize, two offsets, the DICT.
    let size = (1..4).find(|s| top_len + 1 < 1 << (8 * s)).unwrap_or(4);
    let charset_at = out.len() + 3 + 2 * size + top_len + rest.len();
    let charstrings_at = charset_at + charset.len();
    let mut tail = charset;
    write_index(&mut tail, glyphs.iter().copied());
    let private_at = charset_at + tail.len();
    if int(&private, 19, 0).is_some() {
        let len = write_dict(&private).len();
        set(&mut private, 19, &[len])?;
    }
    let private_bytes = write_dict(&private);
    tail.extend(&private_bytes);
    if !local.is_empty() {
        write_index(
            &mut tail,
            (local.iter().zip(&calls.used_local)).map(|(s, u)| if *u { *s } else { &[][..] }),
        );
    }
    set(&mut top, 15, &[charset_at])?;
    set(&mut top, 17, &[charstrings_at])?;
    set(&mut top, 18, &[private_bytes.len(), private_at])?;
    let top_bytes = write_dict(&top);
    debug_assert_eq!(top_bytes.len(), top_len);
    write_index(&mut out, [top_bytes.as_slice()].into_iter());
    out.extend(rest);
    out.extend(tail);
    Ok(out)
}
