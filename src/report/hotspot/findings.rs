//! The findings of a text hotspot report: the first [`TEXT_FINDINGS`], the doubtful kinds
//! first and the largest mismatches next, then how many more of each kind.

use std::collections::HashMap;

use crate::hotspot::{Decomposition, Finding, Kind};

/// The findings part of `d`'s text report (empty without findings).
pub(super) fn text(d: &Decomposition) -> String {
    if d.findings.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\n{} findings:\n",
        crate::output::grouped(&d.findings.len().to_string())
    );
    let listed = listing(&d.findings, &mismatch_sizes(d));
    for f in listed.iter().take(TEXT_FINDINGS) {
        s.push_str(&format!("  [{}] {}\n", f.kind, f.message));
    }
    s.push_str(&more_findings(&listed[listed.len().min(TEXT_FINDINGS)..]));
    s
}

/// Most findings a text report lists: a chain of a million footprints has thousands, and a
/// `--top 5` answer on a terminal was thousands of lines of them.
const TEXT_FINDINGS: usize = 20;

/// The findings in the order a text report lists them: every kind but `mismatch` first, in
/// the engine's order (cycles, units, missing inputs: what makes the numbers doubtful), then
/// the mismatches by how much their footprint's mismatch items take from the CFP (`taken`,
/// at [`VALUE_SCALE`](crate::hotspot::VALUE_SCALE)), largest first. At a million
/// footprints most of thousands of mismatches are a parent's CFP rounded below what it
/// reports (10^-7 kg), and the engine's order listed those before the ones of thousands of
/// kilograms.
fn listing<'a>(findings: &'a [Finding], taken: &HashMap<&str, u128>) -> Vec<&'a Finding> {
    let mut listed: Vec<&Finding> = findings.iter().collect();
    listed.sort_by_key(|f| match f.kind {
        "mismatch" => {
            let of = |id: &String| taken.get(id.as_str()).copied();
            (
                1,
                std::cmp::Reverse(f.footprint_id.as_ref().and_then(of).unwrap_or(0)),
            )
        }
        _ => (0, std::cmp::Reverse(0)),
    });
    listed
}

/// What each footprint's mismatch items take from `d`'s CFP, summed over tiers, at
/// [`VALUE_SCALE`](crate::hotspot::VALUE_SCALE) (see [`listing`]).
///
/// Only the mismatch items' footprint ids are read, in the walk's order. Labelling and
/// sorting every item first, a text `--top 5` of a root with 161,660 items took 0.29 s at a
/// million footprints, where it takes 0.20 s (BENCHMARKS.md, "A thirty-fourth look").
fn mismatch_sizes(d: &Decomposition) -> HashMap<&str, u128> {
    let graph = d.items.graph();
    let mut sizes = HashMap::new();
    for raw in d.items.walked().iter().filter(|r| r.kind == Kind::Mismatch) {
        let size: &mut u128 = sizes.entry(graph.id(raw.node)).or_default();
        *size = size.saturating_add(raw.value.unsigned_abs());
    }
    sizes
}

/// The line saying what a text report leaves out of `rest`, the findings after the first
/// [`TEXT_FINDINGS`]: how many of each kind, and where they all are.
fn more_findings(rest: &[&Finding]) -> String {
    if rest.is_empty() {
        return String::new();
    }
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for f in rest {
        match kinds.iter_mut().find(|(k, _)| *k == f.kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((f.kind, 1)),
        }
    }
    let kinds: Vec<String> = kinds
        .iter()
        .map(|(k, n)| format!("{k} {}", crate::output::grouped(&n.to_string())))
        .collect();
    format!(
        "  … and {} more ({}): --format json, or the hotspot/findings query, lists every one\n",
        crate::output::grouped(&rest.len().to_string()),
        kinds.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_report_says_which_findings_it_leaves_out() {
        let finding = |kind: &'static str| Finding {
            footprint_id: None,
            footprint_ids: Vec::new(),
            input: None,
            kind,
            message: String::new(),
            message_ja: String::new(),
        };
        assert_eq!(more_findings(&[]), "");
        // After the first 20 of 23: one mismatch, then two cycles, kinds in order of
        // appearance.
        let rest = [finding("mismatch"), finding("cycle"), finding("cycle")];
        assert_eq!(
            more_findings(&rest.iter().collect::<Vec<_>>()),
            "  … and 3 more (mismatch 1, cycle 2): --format json, or the hotspot/findings query, lists every one\n"
        );
        let many: Vec<Finding> = (0..12_345).map(|_| finding("mismatch")).collect();
        let many: Vec<&Finding> = many.iter().collect();
        assert!(more_findings(&many).starts_with("  … and 12,345 more (mismatch 12,345)"));
    }

    #[test]
    fn a_text_report_lists_other_findings_first_then_the_largest_mismatches() {
        let finding = |kind: &'static str, id: &str| Finding {
            footprint_id: Some(id.to_owned()),
            footprint_ids: Vec::new(),
            input: None,
            kind,
            message: id.to_owned(),
            message_ja: String::new(),
        };
        let findings = [
            finding("mismatch", "tiny"),
            finding("unit", "u"),
            finding("mismatch", "big"),
            finding("cycle", "c"),
            finding("mismatch", "unknown"),
            finding("mismatch", "middle"),
        ];
        // What each footprint's mismatch items take, at any one scale: "unknown" has no
        // item (a footprint past the walk's limits): it goes last.
        let taken = HashMap::from([("tiny", 1_u128), ("big", 5_000_000), ("middle", 700)]);
        let order: Vec<&str> = listing(&findings, &taken)
            .iter()
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(order, ["u", "c", "big", "middle", "tiny", "unknown"]);
    }
}
