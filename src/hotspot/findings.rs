//! What a decomposition says beside its items: the data quality of what it reached, and the
//! findings (suppliers reporting more than a footprint counts upstream, stale or missing
//! data, organization-based calculations, cycles).

use super::graph::{EdgeProblem, Graph, Resolved, Staleness};
use super::values::{Balance, INPUT_SCALE, VALUE_SCALE, Values};
use super::walk::RawItem;
use super::{
    Basis, Finding, Kind, NodeSet, ORGANIZATION_BASED_CAUTION_PCT, Quality, Request, date_of, pct,
};
use crate::model::fixed;

/// The quality of items `raw` (in the walk's order) that reach `reached` footprints.
pub(super) fn quality(graph: &Graph, raw: &[RawItem], cfp: i128, reached: usize) -> Quality {
    // One pass. The weighted averages are f64 sums in item order (a weight: f64's 16
    // digits are plenty).
    let (mut coverage, mut organization, mut untraced) = (Part::ZERO, Part::ZERO, Part::ZERO);
    let (mut unresolved, mut beyond, mut mismatch) = (Part::ZERO, Part::ZERO, Part::ZERO);
    let mut weighted = [(0.0_f64, 0.0_f64); 4];
    let kept = graph.facts();
    let mut ahead = Vec::with_capacity(16);
    for block in raw.chunks(16) {
        // Items name nodes all over the graph: the facts of a few are read together, so
        // their loads overlap rather than wait one after another.
        ahead.clear();
        ahead.extend(
            block
                .iter()
                .map(|i| kept.map_or_else(|| graph.facts_of(i.node), |f| f[i.node as usize])),
        );
        for (i, facts) in block.iter().zip(&ahead) {
            let org = facts.organization_based;
            match i.kind {
                Kind::Own if !org => coverage.add(i.value),
                Kind::Untraced => untraced.add(i.value),
                Kind::Unresolved => unresolved.add(i.value),
                Kind::BeyondCutoff => beyond.add(i.value),
                Kind::Mismatch => mismatch.add(i.value),
                Kind::Own => {}
            }
            if org {
                organization.add(i.value);
            }
            let w = (i.value as f64).abs();
            for (acc, v) in weighted.iter_mut().zip(facts.weighted) {
                if !v.is_nan() {
                    acc.0 += w * v;
                    acc.1 += w;
                }
            }
        }
    }
    let average = |(num, den): (f64, f64)| (den != 0.0).then(|| num / den);
    Quality {
        primary_data_coverage_pct: coverage.pct(cfp),
        weighted_pds_pct: average(weighted[0]),
        weighted_technological_dqr: average(weighted[1]),
        weighted_temporal_dqr: average(weighted[2]),
        weighted_geographical_dqr: average(weighted[3]),
        organization_based_pct: organization.pct(cfp),
        untraced_pct: untraced.pct(cfp),
        unresolved_pct: unresolved.pct(cfp),
        beyond_cutoff_pct: beyond.pct(cfp),
        mismatch_pct: mismatch.pct(cfp),
        footprints_reached: reached,
        deepest_tier: raw.iter().map(|i| i.tier).max().unwrap_or(0),
    }
}

/// A sum of items for a percentage: exact while it fits in i128, in f64 past that. Items of
/// one kind can sum beyond i128's range even where all of them sum to a CFP within it (each
/// item may reach Decimal128's 10^38; untraced and mismatched ones cancel).
#[derive(Clone, Copy)]
struct Part {
    exact: Option<i128>,
    approx: f64,
}

impl Part {
    const ZERO: Part = Part {
        exact: Some(0),
        approx: 0.0,
    };

    fn add(&mut self, v: i128) {
        self.exact = self.exact.and_then(|s| s.checked_add(v));
        self.approx += v as f64;
    }

    fn pct(self, whole: i128) -> f64 {
        match self.exact {
            Some(v) => pct(v, whole),
            None if whole == 0 => 0.0,
            None => self.approx / whole as f64 * 100.0,
        }
    }
}

/// The mismatch finding of each footprint of `resolved` whose inputs exceed what it reports
/// (in the order of [`walk::EdgeValues::exceeding`]), formatted once per resolution and
/// basis: a server asked about a large root again and again says the same of the same
/// footprints.
fn mismatches<'a>(graph: &Graph, resolved: &'a Resolved, basis: Basis) -> &'a [Finding] {
    let values = resolved.values(graph, basis);
    let edges = resolved.edge_values(graph, basis);
    edges.mismatches.get_or_init(|| {
        (edges.exceeding.iter())
            .map(|&(l, suppliers)| mismatch(graph, resolved, values, l, suppliers))
            .collect()
    })
}

/// Prepares what questions on `resolved` compute on first use, for `basis`: the edge
/// coefficients, whether it has a cycle, the mismatch findings (for a resolution about to
/// be shared by the questions that follow).
pub(crate) fn prepare(graph: &Graph, resolved: &Resolved, basis: Basis) {
    resolved.is_acyclic();
    mismatches(graph, resolved, basis);
}

/// The finding for local node `l` of `resolved`, whose inputs add up to `suppliers` (`None`:
/// beyond range), more than it reports upstream.
fn mismatch(
    graph: &Graph,
    resolved: &Resolved,
    values: &Values,
    l: u32,
    suppliers: Option<i128>,
) -> Finding {
    let f = resolved.global(l);
    let (cfp, g2g) = (values.cfp[l as usize], values.g2g[l as usize].unwrap_or(0));
    // Exact numbers: the excess may be a rounding unit of the supplier's figures, and then
    // only all their digits show where it comes from.
    let reported = cfp.saturating_sub(g2g);
    let excess = suppliers.and_then(|s| {
        s.checked_sub(reported.checked_mul(fixed::pow10(VALUE_SCALE - INPUT_SCALE))?)
    });
    let exact = |v: Option<i128>, beyond: &str| {
        v.map_or_else(|| beyond.to_owned(), |v| fixed::format(v, VALUE_SCALE))
    };
    let [reported, cfp, g2g] = [reported, cfp, g2g].map(|v| fixed::format(v, INPUT_SCALE));
    Finding {
        kind: "mismatch",
        footprint_id: Some(graph.id(f).to_owned()),
        message_ja: format!(
            "{}: サプライヤーのフットプリントの合計は{}あたり {} kgCO2e で、上流分として報告された {} より {} 多い（クレードル・トゥ・ゲート {} − Gate-to-Gate {}）",
            describe(graph, f),
            unit_name_ja(graph, f),
            exact(suppliers, "範囲外"),
            reported,
            exact(excess, "範囲外"),
            cfp,
            g2g
        ),
        message: format!(
            "{}: supplier footprints add up to {} kgCO2e per {}, {} more than the {} it reports upstream ({} cradle-to-gate − {} Gate-to-Gate)",
            describe(graph, f),
            exact(suppliers, "beyond range"),
            unit_name(graph, f),
            exact(excess, "beyond range"),
            reported,
            cfp,
            g2g
        ),
        footprint_ids: Vec::new(),
        input: None,
    }
}

fn describe(graph: &Graph, n: u32) -> String {
    format!("{} ({})", graph.product_name(n), graph.company_name(n))
}

fn unit_name(graph: &Graph, n: u32) -> &'static str {
    graph.unit(n).map_or("declared unit", |u| u.as_str())
}

/// PACT's declared unit in Japanese.
fn unit_ja(unit: &str) -> &str {
    match unit {
        "liter" => "リットル",
        "kilogram" => "キログラム",
        "cubic meter" => "立方メートル",
        "kilowatt hour" => "キロワット時",
        "megajoule" => "メガジュール",
        "ton kilometer" => "トンキロメートル",
        "square meter" => "平方メートル",
        "piece" => "個",
        other => other,
    }
}

fn unit_name_ja(graph: &Graph, n: u32) -> &'static str {
    graph.unit(n).map_or("申告単位", |u| unit_ja(u.as_str()))
}

pub(super) fn findings(
    graph: &Graph,
    resolved: &Resolved,
    req: &Request,
    root: u32,
    raw: &[RawItem],
    reached: &[u32],
) -> Findings {
    // Values and adjacency are the resolution's (local node numbers); findings name graph
    // nodes. Every node an item names was resolved.
    let values = resolved.values(graph, req.basis);
    let edges = resolved.edge_values(graph, req.basis);
    let balance = &edges.balance;
    let local = |f: u32| resolved.local(f).unwrap_or_default() as usize;
    let mut out = Vec::new();
    let r = graph.node(root);
    if !r.active || !r.is_latest {
        out.push(Finding {
            kind: "root_status",
            footprint_id: Some(r.id.to_owned()),
            message: format!(
                "the footprint decomposed is {}",
                if r.active {
                    "superseded by a newer version"
                } else {
                    "Deprecated"
                }
            ),
            message_ja: format!(
                "分解したフットプリントは{}",
                if r.active {
                    "新しい版に置き換えられています"
                } else {
                    "廃止（Deprecated）されています"
                }
            ),
            footprint_ids: Vec::new(),
            input: None,
        });
    }
    // Expanded nodes are those with an own item or a gap item; reached nodes are all.
    let expanded = NodeSet::of(
        graph,
        raw.iter()
            .filter(|i| matches!(i.kind, Kind::Own | Kind::Untraced | Kind::Mismatch)),
    );
    // Most nodes have nothing to say: only those whose inputs exceed what they report, or
    // with an edge left out, and of them those the walk expanded, ascending.
    let mut speaking: Vec<u32> = edges
        .exceeding
        .iter()
        .map(|e| resolved.global(e.0))
        .chain(resolved.problems.keys().copied())
        .filter(|&f| expanded.contains(f))
        .collect();
    speaking.sort_unstable();
    speaking.dedup();
    for &f in &speaking {
        let l = local(f);
        if values.g2g[l].is_none() {
            continue;
        }
        if balance[l] == Balance::Exceeds
            && let Ok(at) = edges.exceeding.binary_search_by_key(&(l as u32), |e| e.0)
        {
            out.push(mismatches(graph, resolved, req.basis)[at].clone());
        }
        for p in resolved.problems.get(&f).into_iter().flatten() {
            match p {
                EdgeProblem::Dangling { product } => out.push(Finding {
                    kind: "dangling",
                    footprint_id: Some(graph.id(f).to_owned()),
                    message: format!(
                        "{} lists input {product}, which has no Active footprint; its share stays in {}'s untraced upstream",
                        describe(graph, f),
                        graph.company_name(f)
                    ),
                    message_ja: format!(
                        "{} の投入物 {product} には有効（Active）なフットプリントがありません。そのシェアは {} の未追跡の上流に残ります",
                        describe(graph, f),
                        graph.company_name(f)
                    ),
                    footprint_ids: Vec::new(),
                    input: Some(product.to_string()),
                }),
                EdgeProblem::Unit {
                    child,
                    unit,
                    declared,
                } => {
                    out.push(Finding {
                        kind: "unit",
                        footprint_id: Some(graph.id(f).to_owned()),
                        message: format!(
                            "{} counts input {} in {}, but it is declared per {}{}; the edge is left out and its share stays in {}'s untraced upstream",
                            describe(graph, f),
                            describe(graph, *child),
                            unit.as_str(),
                            declared.map_or("(no unit)", |u| u.as_str()),
                            if graph.node(*child).mass_kg.is_none() { " with no mass per declared unit" } else { "" },
                            graph.company_name(f)
                        ),
                        message_ja: format!(
                            "{} は投入物 {} を{}で数えていますが、その申告単位は{}です{}。この辺は除外され、そのシェアは {} の未追跡の上流に残ります",
                            describe(graph, f),
                            describe(graph, *child),
                            unit_ja(unit.as_str()),
                            declared.map_or("（単位なし）", |u| unit_ja(u.as_str())),
                            if graph.node(*child).mass_kg.is_none() { "（申告単位あたりの質量なし）" } else { "" },
                            graph.company_name(f)
                        ),
                        footprint_ids: vec![graph.id(*child).to_owned()],
                        input: None,
                    });
                }
            }
        }
    }
    let per_reached = !resolved.staleness.is_empty() || !values.fallback.is_empty();
    for &f in reached.iter().filter(|_| per_reached) {
        match resolved.staleness.get(&f) {
            Some(Staleness::Older) if f != root => out.push(Finding {
                kind: "older_reference_period",
                footprint_id: Some(graph.id(f).to_owned()),
                message: format!(
                    "{} has no footprint for the root's period; its reference period {}..{} is older than the root's {}..{}",
                    describe(graph, f),
                    date_of(graph.period(f).0),
                    date_of(graph.period(f).1),
                    date_of(graph.node(root).period.0),
                    date_of(graph.node(root).period.1)
                ),
                message_ja: format!(
                    "{} には対象の報告期間のフットプリントがありません。その報告期間 {}..{} は対象の {}..{} より古いものです",
                    describe(graph, f),
                    date_of(graph.period(f).0),
                    date_of(graph.period(f).1),
                    date_of(graph.node(root).period.0),
                    date_of(graph.node(root).period.1)
                ),
                footprint_ids: Vec::new(),
                input: None,
            }),
            Some(Staleness::Newer) if f != root => out.push(Finding {
                kind: "newer_reference_period",
                footprint_id: Some(graph.id(f).to_owned()),
                message: format!(
                    "{} has no footprint for the root's period; its reference period {}..{} is later",
                    describe(graph, f),
                    date_of(graph.period(f).0),
                    date_of(graph.period(f).1)
                ),
                message_ja: format!(
                    "{} には対象の報告期間のフットプリントがありません。その報告期間 {}..{} はそれより新しいものです",
                    describe(graph, f),
                    date_of(graph.period(f).0),
                    date_of(graph.period(f).1)
                ),
                footprint_ids: Vec::new(),
                input: None,
            }),
            _ => {}
        }
        if values.fallback.binary_search(&(local(f) as u32)).is_ok() {
            out.push(Finding {
                kind: "basis_fallback",
                footprint_id: Some(graph.id(f).to_owned()),
                message: format!(
                    "{} gives no pcfIncludingBiogenic; its pcfExcludingBiogenic is used",
                    describe(graph, f)
                ),
                message_ja: format!(
                    "{} には pcfIncludingBiogenic がないため、pcfExcludingBiogenic を使っています",
                    describe(graph, f)
                ),
                footprint_ids: Vec::new(),
                input: None,
            });
        }
    }
    // The organization-based finding comes here, once quality, computed beside these, gives
    // its share (see `Findings::with_organization_based`).
    let before = std::mem::take(&mut out);
    for cycle in cycles(resolved, &expanded) {
        let names: Vec<String> = cycle.iter().map(|n| describe(graph, *n)).collect();
        out.push(Finding {
            kind: "cycle",
            footprint_id: Some(graph.id(cycle[0]).to_owned()),
            message: format!(
                "the BOM has a cycle through {}; the walk stops at tier {} (every pass around the cycle is counted on a deeper tier)",
                names.join(", "),
                req.max_tier + 1
            ),
            message_ja: format!(
                "部品表に {} を通る循環があります。分解は第{}階層で止まります（循環を一周するたびに、より深い階層に数えられます）",
                names.join("、"),
                req.max_tier + 1
            ),
            footprint_ids: cycle
                .iter()
                .map(|n| graph.id(*n).to_owned())
                .collect(),
            input: None,
        });
    }
    Findings { before, after: out }
}

/// A decomposition's findings, made beside its quality: those before the organization-based
/// one, and those after it.
pub(super) struct Findings {
    before: Vec<Finding>,
    after: Vec<Finding>,
}

impl Findings {
    /// All of them, in order, the organization-based one (when `organization_based_pct`, the
    /// quality's share, is above the caution level) in its place.
    pub(super) fn with_organization_based(
        self,
        graph: &Graph,
        raw: &[RawItem],
        organization_based_pct: f64,
    ) -> Vec<Finding> {
        let Findings { mut before, after } = self;
        if organization_based_pct > ORGANIZATION_BASED_CAUTION_PCT {
            let kept = graph.facts();
            let org_based = |n: u32| {
                kept.map_or_else(
                    || graph.organization_based(n),
                    |f| f[n as usize].organization_based,
                )
            };
            let mut names: Vec<String> = raw
                .iter()
                .filter(|i| org_based(i.node))
                .map(|i| graph.company_name(i.node).to_owned())
                .collect();
            names.sort();
            names.dedup();
            before.push(Finding {
                kind: "organization_based",
                footprint_id: None,
                message: format!(
                    "{organization_based_pct:.1} % of the footprint comes from organization-based data ({}); these allocate company-wide emissions and are less specific than product-based data",
                    names.join(", ")
                ),
                message_ja: format!(
                    "フットプリントの {organization_based_pct:.1} % は組織ベースのデータ（{}）によるものです。組織ベースは企業全体の排出を配分したもので、製品ベースのデータより具体性が低くなります",
                    names.join("、")
                ),
                footprint_ids: Vec::new(),
                input: None,
            });
        }
        before.extend(after);
        before
    }
}

/// Strongly connected components with more than one node (or a self-loop) among the expanded
/// nodes (graph nodes, ascending), each listed from its smallest node id (iterative Tarjan
/// over the resolution's local numbers, which keep the graph's order).
fn cycles(resolved: &Resolved, expanded: &NodeSet) -> Vec<Vec<u32>> {
    // Most supply chains have no cycle at all: then no part of one has either.
    if resolved.is_acyclic() {
        return Vec::new();
    }
    let expanded: Vec<u32> = expanded
        .to_vec()
        .iter()
        .filter_map(|g| resolved.local(*g))
        .collect();
    let len = resolved.len();
    let mut is_expanded = vec![false; len];
    for &n in &expanded {
        is_expanded[n as usize] = true;
    }
    let inside = |n: u32| is_expanded[n as usize];
    let mut index = vec![u32::MAX; len];
    let mut low = vec![0u32; len];
    let mut on_stack = vec![false; len];
    let mut stack = Vec::new();
    let mut next = 0u32;
    let mut out = Vec::new();
    for &start in &expanded {
        if index[start as usize] != u32::MAX {
            continue;
        }
        // (node, position in its child list)
        let mut call: Vec<(u32, usize)> = vec![(start, 0)];
        index[start as usize] = next;
        low[start as usize] = next;
        next += 1;
        stack.push(start);
        on_stack[start as usize] = true;
        while let Some(&(v, pos)) = call.last() {
            let a = resolved.offsets[v as usize] as usize;
            let b = resolved.offsets[v as usize + 1] as usize;
            if a + pos < b {
                let w = resolved.children[a + pos];
                if let Some(top) = call.last_mut() {
                    top.1 += 1;
                }
                if !inside(w) {
                    continue;
                }
                if index[w as usize] == u32::MAX {
                    index[w as usize] = next;
                    low[w as usize] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    call.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent as usize] = low[parent as usize].min(low[v as usize]);
                }
                if low[v as usize] == index[v as usize] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    let self_loop = comp.len() == 1 && resolved.inputs(v).any(|(c, _)| c == v);
                    if comp.len() > 1 || self_loop {
                        // In graph order, whatever the resolution's local numbering.
                        let mut comp: Vec<u32> =
                            comp.into_iter().map(|l| resolved.global(l)).collect();
                        comp.sort_unstable();
                        out.push(comp);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Part;

    #[test]
    fn a_part_past_i128_goes_on_in_f64() {
        // Two untraced items of 10^38 (Decimal128's largest, each within the walk's range)
        // sum to 2·10^38, past i128's 1.7·10^38; against a CFP of 10^38 that is 200 %.
        let e38 = 10_i128.pow(38);
        let mut p = Part::ZERO;
        p.add(e38);
        assert_eq!(p.pct(e38), 100.0);
        p.add(e38);
        assert_eq!(p.exact, None);
        assert_eq!(p.pct(e38), 200.0);
        assert_eq!(p.pct(0), 0.0);
    }
}
