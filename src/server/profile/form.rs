//! The editor's form: the text of every field as typed, the profile it describes, and every
//! reason it is not one, in the page's language.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::lang::Lang;
use crate::score::{self, Key, Profile, Rule, sheet};

pub(super) const KINDS: [&str; 5] = ["present", "at_least", "at_most", "linear", "reduction"];

/// One indicator as the form holds it: text as typed.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) key: Key,
    pub(super) group: String,
    pub(super) weight: String,
    pub(super) kind: String,
    pub(super) a: String,
    pub(super) b: String,
}

/// One override row: the rule of indicator `key` for products whose CPC code starts with
/// `prefix`.
#[derive(Debug, Clone, Default)]
pub(super) struct Override {
    pub(super) prefix: String,
    pub(super) key: String,
    pub(super) kind: String,
    pub(super) a: String,
    pub(super) b: String,
}

/// The editor's form.
#[derive(Debug, Clone)]
pub(super) struct Form {
    pub(super) name: String,
    pub(super) rows: Vec<Row>,
    pub(super) overrides: Vec<Override>,
}

/// A rule's kind and its one or two numbers as the form writes them.
fn rule_fields(rule: &Rule) -> (&'static str, String, String) {
    let n = |d: &Decimal| d.normalize().to_string();
    match rule {
        Rule::Present => ("present", String::new(), String::new()),
        Rule::AtLeast(t) => ("at_least", n(t), String::new()),
        Rule::AtMost(t) => ("at_most", n(t), String::new()),
        Rule::Linear { zero_at, full_at } => ("linear", n(zero_at), n(full_at)),
        Rule::Reduction(p) => ("reduction", n(p), String::new()),
    }
}

/// The kinds a rule of `key` may have.
pub(super) fn kinds_for(key: Key) -> &'static [&'static str] {
    match key {
        k if k.is_flag() => &KINDS[..1],
        Key::Rep => &KINDS,
        _ => &KINDS[..4],
    }
}

pub(super) fn kind_label(kind: &str, lang: Lang) -> &str {
    match kind {
        "present" => lang.pick("あり（値があれば満点）", "present (full credit)"),
        "at_least" => lang.pick("しきい値以上", "at least"),
        "at_most" => lang.pick("しきい値以下", "at most"),
        "linear" => lang.pick("線形（0点の値 → 満点の値）", "linear (zero at → full at)"),
        "reduction" => lang.pick("削減率（最小 %）", "reduction (min %)"),
        _ => kind,
    }
}

impl Form {
    pub(super) fn of_profile(p: &Profile) -> Form {
        let mut rows: Vec<Row> = (p.indicators.iter())
            .map(|i| {
                let (kind, a, b) = rule_fields(&i.rule);
                Row {
                    key: i.key,
                    group: i.group.clone(),
                    weight: i.weight.normalize().to_string(),
                    kind: kind.into(),
                    a,
                    b,
                }
            })
            .collect();
        for key in Key::ALL {
            if !rows.iter().any(|r| r.key == key) {
                rows.push(Row {
                    key,
                    group: key.default_group().into(),
                    weight: String::new(),
                    kind: kinds_for(key)[0].into(),
                    a: String::new(),
                    b: String::new(),
                });
            }
        }
        let overrides = (p.categories.iter())
            .flat_map(|(prefix, rules)| {
                rules.iter().map(move |(key, rule)| {
                    let (kind, a, b) = rule_fields(rule);
                    Override {
                        prefix: prefix.clone(),
                        key: key.as_str().into(),
                        kind: kind.into(),
                        a,
                        b,
                    }
                })
            })
            .collect();
        Form {
            name: p.name.clone(),
            rows,
            overrides,
        }
    }

    /// The form as sent (`q`), on top of the active profile's: a field not sent keeps the
    /// active profile's value, so a link that changes one weight previews just that change.
    pub(super) fn sent(q: &HashMap<String, String>, active: &Profile) -> Form {
        let mut form = Form::of_profile(active);
        let get = |k: String| q.get(&k).map(|v| v.trim().to_owned());
        if let Some(order) = q.get("order") {
            let keys: Vec<Key> = order.split(',').filter_map(Key::parse).collect();
            form.rows
                .sort_by_key(|r| keys.iter().position(|k| *k == r.key).unwrap_or(usize::MAX));
        }
        if let Some(n) = get("name".into()) {
            form.name = n;
        }
        for r in &mut form.rows {
            let k = r.key.as_str();
            for (field, value) in [
                ("w", &mut r.weight),
                ("kind", &mut r.kind),
                ("a", &mut r.a),
                ("b", &mut r.b),
            ] {
                if let Some(v) = get(format!("{field}.{k}")) {
                    *value = v;
                }
            }
        }
        let sent_overrides = (0..1000).take_while(|i| q.contains_key(&format!("o{i}.prefix")));
        let sent: Vec<Override> = sent_overrides
            .map(|i| {
                let f = |name: &str| get(format!("o{i}.{name}")).unwrap_or_default();
                Override {
                    prefix: f("prefix"),
                    key: f("key"),
                    kind: f("kind"),
                    a: f("a"),
                    b: f("b"),
                }
            })
            .filter(|o| !(o.prefix.is_empty() && o.key.is_empty()))
            .collect();
        if q.contains_key("o0.prefix") {
            form.overrides = sent;
        }
        form
    }

    /// The indicators' order on the sheet, as the hidden `order` field carries it.
    pub(super) fn order(&self) -> String {
        (self.rows.iter().map(|r| r.key.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The form's fields, as the page's inputs name them.
    pub(super) fn fields(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("name".to_owned(), self.name.clone()),
            ("order".to_owned(), self.order()),
        ];
        for r in &self.rows {
            let k = r.key.as_str();
            v.push((format!("w.{k}"), r.weight.clone()));
            v.push((format!("kind.{k}"), r.kind.clone()));
            v.push((format!("a.{k}"), r.a.clone()));
            v.push((format!("b.{k}"), r.b.clone()));
        }
        for (i, o) in self.overrides.iter().enumerate() {
            v.push((format!("o{i}.prefix"), o.prefix.clone()));
            v.push((format!("o{i}.key"), o.key.clone()));
            v.push((format!("o{i}.kind"), o.kind.clone()));
            v.push((format!("o{i}.a"), o.a.clone()));
            v.push((format!("o{i}.b"), o.b.clone()));
        }
        v
    }

    /// The profile the form describes, or every reason it is not one (in `lang`).
    pub(super) fn profile(&self, lang: Lang) -> Result<Profile, Vec<String>> {
        let t = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            errors.push(t(
                "名前: 1〜100文字（改行なし）で付けてください",
                "name: give it 1 to 100 characters, no line breaks",
            ));
        }
        let mut indicators = Vec::new();
        let mut total = Decimal::ZERO;
        for r in &self.rows {
            let label = format!("{} ({})", sheet::label(r.key, lang), r.key);
            let weight = match r.weight.as_str() {
                "" | "0" => continue,
                w => match decimal(w) {
                    Ok(d) if d > Decimal::ZERO && d.normalize().scale() <= 6 => d.normalize(),
                    Ok(d) if d <= Decimal::ZERO => {
                        errors.push(format!("{label}: {}", t("重みは0より大きい数にしてください（空欄なら使わない指標）", "a weight must be above 0 (leave it empty to leave the indicator out)")));
                        continue;
                    }
                    Ok(_) => {
                        errors.push(format!(
                            "{label}: {} {w}",
                            t(
                                "重みの小数は6桁までです:",
                                "a weight has at most 6 decimals:"
                            )
                        ));
                        continue;
                    }
                    Err(_) => {
                        errors.push(format!(
                            "{label}: {} {w:?}",
                            t("重みが数ではありません:", "the weight is not a number:")
                        ));
                        continue;
                    }
                },
            };
            // Weights are at most 2^96 / 10^6 each; thirteen of them could still pass what
            // a decimal holds, and a sum that does not fit is not 100 either.
            total = total.checked_add(weight).unwrap_or(Decimal::MAX);
            match rule_of(r.key, &r.kind, &r.a, &r.b, lang) {
                Ok(rule) => indicators.push(score::Indicator {
                    key: r.key,
                    group: r.group.clone(),
                    weight,
                    rule,
                }),
                Err(e) => errors.push(format!("{label}: {e}")),
            }
        }
        if total != Decimal::ONE_HUNDRED {
            errors.push(match lang {
                Lang::Ja => format!(
                    "重みの合計が {} です。100 にしてください",
                    total.normalize()
                ),
                Lang::En => format!("the weights add up to {}, not 100", total.normalize()),
            });
        }
        let mut categories: std::collections::BTreeMap<String, Vec<(Key, Rule)>> =
            std::collections::BTreeMap::new();
        for o in &self.overrides {
            let at = format!("CPC {:?} / {}", o.prefix, o.key);
            if o.prefix.is_empty() || !o.prefix.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(format!(
                    "{at}: {}",
                    t("CPCの接頭辞は数字です", "a CPC prefix is digits")
                ));
                continue;
            }
            let Some(key) = Key::parse(&o.key).filter(|k| indicators.iter().any(|i| i.key == *k))
            else {
                errors.push(format!(
                    "{at}: {}",
                    t(
                        "重みのある指標を選んでください",
                        "choose an indicator the profile weighs"
                    )
                ));
                continue;
            };
            let rules = categories.entry(o.prefix.clone()).or_default();
            if rules.iter().any(|(k, _)| *k == key) {
                errors.push(format!(
                    "{at}: {}",
                    t(
                        "同じ接頭辞と指標の組が2回あります",
                        "this prefix and indicator are given twice"
                    )
                ));
                continue;
            }
            match rule_of(key, &o.kind, &o.a, &o.b, lang) {
                Ok(rule) => rules.push((key, rule)),
                Err(e) => errors.push(format!("{at}: {e}")),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let p = Profile {
            name: name.to_owned(),
            indicators,
            categories,
        };
        // The profile's own reader has the last word, and the TOML downloaded reads back.
        match Profile::parse("profile", &p.to_toml()) {
            Ok(read) if read == p => Ok(p),
            Ok(_) => Err(vec![t(
                "TOMLに書くと値が変わります",
                "the profile does not survive its TOML",
            )]),
            Err(e) => Err(vec![e.to_string()]),
        }
    }
}

/// A number as typed: `250`, `0.001`, or `1e12` for the big ones.
fn decimal(v: &str) -> Result<Decimal, rust_decimal::Error> {
    v.parse::<Decimal>().or_else(|e| {
        if v.contains(['e', 'E']) {
            Decimal::from_scientific(v)
        } else {
            Err(e)
        }
    })
}

/// The rule a form row describes, checked against its indicator.
fn rule_of(key: Key, kind: &str, a: &str, b: &str, lang: Lang) -> Result<Rule, String> {
    let t = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    if !kinds_for(key).contains(&kind) {
        return Err(match (lang, key.is_flag()) {
            (Lang::Ja, true) => "有無の指標のルールは「あり」だけです".into(),
            (Lang::En, true) => "a yes/no indicator takes only \"present\"".into(),
            (Lang::Ja, false) => format!("この指標に使えないルールです: {kind:?}"),
            (Lang::En, false) => format!("rule {kind:?} does not apply to this indicator"),
        });
    }
    let number = |v: &str, what: &str| -> Result<Decimal, String> {
        decimal(v).map(|d| d.normalize()).map_err(|_| match lang {
            Lang::Ja => format!("{what}が数ではありません: {v:?}"),
            Lang::En => format!("{what} is not a number: {v:?}"),
        })
    };
    Ok(match kind {
        "present" => Rule::Present,
        "at_least" => Rule::AtLeast(number(a, &t("しきい値", "the threshold"))?),
        "at_most" => Rule::AtMost(number(a, &t("しきい値", "the threshold"))?),
        "reduction" => Rule::Reduction(number(a, &t("最小の削減率", "the minimum reduction"))?),
        _ => {
            let zero_at = number(a, &t("0点の値", "zero at"))?;
            let full_at = number(b, &t("満点の値", "full at"))?;
            // Thresholds in order: credit grows towards the better end of the indicator.
            let ordered = if key.higher_is_better() {
                zero_at < full_at
            } else {
                zero_at > full_at
            };
            if !ordered {
                return Err(match (lang, key.higher_is_better()) {
                    (Lang::Ja, true) => format!(
                        "大きいほど良い指標です。0点の値 {zero_at} は満点の値 {full_at} より小さくしてください"
                    ),
                    (Lang::Ja, false) => format!(
                        "小さいほど良い指標です。0点の値 {zero_at} は満点の値 {full_at} より大きくしてください"
                    ),
                    (Lang::En, true) => format!(
                        "more is better here: zero at ({zero_at}) must be below full at ({full_at})"
                    ),
                    (Lang::En, false) => format!(
                        "less is better here: zero at ({zero_at}) must be above full at ({full_at})"
                    ),
                });
            }
            Rule::Linear { zero_at, full_at }
        }
    })
}

/// Each product's rank by score, highest first; ties share a rank (1, 2, 2, 4).
pub(super) fn ranks(scores: &[i64]) -> Vec<usize> {
    let mut sorted = scores.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    (scores.iter())
        .map(|s| sorted.partition_point(|x| x > s) + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn the_active_profile_comes_back_unchanged() {
        let active = Profile::default_profile();
        let form = Form::sent(&HashMap::new(), &active);
        assert_eq!(form.profile(Lang::En).expect("valid"), active);
        // And through its own fields, as the page sends them.
        let fields: HashMap<String, String> = form.fields().into_iter().collect();
        assert_eq!(
            Form::sent(&fields, &active)
                .profile(Lang::En)
                .expect("valid"),
            active
        );
    }

    #[test]
    fn every_mistake_is_named() {
        let active = Profile::default_profile();
        let errors = |pairs: &[(&str, &str)], lang| {
            Form::sent(&sent(pairs), &active)
                .profile(lang)
                .expect_err("invalid")
                .join("\n")
        };
        // gxd-2025 weighs cfp 15: 16 makes 101.
        let e = errors(&[("w.cfp", "16")], Lang::En);
        assert!(e.contains("the weights add up to 101, not 100"), "{e}");
        let e = errors(&[("w.cfp", "16")], Lang::Ja);
        assert!(e.contains("重みの合計が 101 です"), "{e}");
        let e = errors(&[("w.cfp", "14.0000001"), ("w.rep", "11")], Lang::En);
        assert!(
            e.contains("CFP (cfp): a weight has at most 6 decimals"),
            "{e}"
        );
        let e = errors(&[("w.cfp", "lots")], Lang::En);
        assert!(e.contains("the weight is not a number: \"lots\""), "{e}");
        let e = errors(&[("w.cfp", "-15")], Lang::En);
        assert!(e.contains("a weight must be above 0"), "{e}");
        // Linear thresholds run towards the better end: circular inflow is better higher.
        let e = errors(
            &[("a.circular_inflow", "30"), ("b.circular_inflow", "0")],
            Lang::En,
        );
        assert!(e.contains("zero at (30) must be below full at (0)"), "{e}");
        let e = errors(
            &[("kind.cfp", "linear"), ("a.cfp", "100"), ("b.cfp", "300")],
            Lang::En,
        );
        assert!(e.contains("less is better here"), "{e}");
        let e = errors(
            &[("kind.certified", "at_least"), ("a.certified", "1")],
            Lang::En,
        );
        assert!(e.contains("takes only \"present\""), "{e}");
        let e = errors(&[("kind.cfp", "reduction")], Lang::En);
        assert!(e.contains("does not apply"), "{e}");
        let e = errors(
            &[
                ("o0.prefix", "45x"),
                ("o0.key", "cfp"),
                ("o0.kind", "at_most"),
                ("o0.a", "1"),
            ],
            Lang::En,
        );
        assert!(e.contains("a CPC prefix is digits"), "{e}");
        let e = errors(
            &[
                ("o0.prefix", "45"),
                ("o0.key", "primary_data_share"),
                ("o0.kind", "present"),
            ],
            Lang::En,
        );
        assert!(e.contains("choose an indicator the profile weighs"), "{e}");
        // Weights too big for any sum: refused, not an overflow.
        let huge = "79228162514264337593543950335";
        let e = errors(&[("w.cfp", huge), ("w.rep", huge)], Lang::En);
        assert!(e.contains("the weights add up to"), "{e}");
        let e = errors(&[("a.cfp", "1e400")], Lang::En);
        assert!(
            e.contains("the threshold is not a number: \"1e400\""),
            "{e}"
        );
        let e = errors(&[("name", "")], Lang::En);
        assert!(e.contains("name: give it"), "{e}");
    }

    #[test]
    fn an_edit_gives_its_profile() {
        let active = Profile::default_profile();
        // Move 5 points from the CFP to the primary data share, which gxd-2025 leaves out,
        // and add an override.
        let p = Form::sent(
            &sent(&[
                ("name", "pc-2026"),
                ("w.cfp", "10"),
                ("w.primary_data_share", "5"),
                ("kind.primary_data_share", "linear"),
                ("a.primary_data_share", "0"),
                ("b.primary_data_share", "80"),
                ("o0.prefix", "4521"),
                ("o0.key", "cfp"),
                ("o0.kind", "at_most"),
                ("o0.a", "1.8e2"),
            ]),
            &active,
        )
        .profile(Lang::Ja)
        .expect("valid");
        assert_eq!(p.name, "pc-2026");
        let pds = p
            .indicators
            .iter()
            .find(|i| i.key == Key::PrimaryDataShare)
            .expect("added");
        assert_eq!(pds.weight, Decimal::from(5));
        assert_eq!(pds.group, "quality");
        assert_eq!(
            p.categories["4521"],
            vec![(Key::Cfp, Rule::AtMost(Decimal::from(180)))]
        );
        // The overrides sent replace the profile's own.
        assert_eq!(p.categories.len(), 1);
    }

    #[test]
    fn ranks_share_ties() {
        assert_eq!(ranks(&[50, 90, 50, 10]), [2, 1, 2, 4]);
        assert!(ranks(&[]).is_empty());
    }
}
