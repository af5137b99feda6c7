//! Scoring profiles: weighted indicators with rules, and per-category overrides, read from
//! TOML with every mistake reported by line.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::Deserialize;
use toml::{Spanned, Value};

use crate::{Error, Result};

/// The indicators a profile can weigh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// Contribution to national mid/long-term targets (中長期目標への貢献度合).
    NationalTargetContribution,
    /// Backed by support measures (支援措置).
    SupportMeasures,
    /// GX declaration (GX宣言).
    GxDeclaration,
    /// Progress disclosed (進捗).
    ProgressDisclosed,
    /// Publicly disclosed (公開).
    PubliclyDisclosed,
    /// Third-party certified (認証); also PACT assurance / verification.
    Certified,
    /// Cradle-to-gate footprint, kgCO2e per declared unit.
    Cfp,
    /// Reduction achieved (REP, 削減実績量), percent of the baseline.
    Rep,
    /// Avoided emissions (AEP, 削減貢献量), kgCO2e per declared unit.
    Aep,
    /// Circular outflow rate, percent.
    CircularOutflow,
    /// Circular inflow rate, percent.
    CircularInflow,
    /// Additionality (追加性).
    Additionality,
    /// Primary data share of the footprint, percent.
    PrimaryDataShare,
}

impl Key {
    /// Every indicator.
    pub const ALL: [Key; 13] = [
        Key::NationalTargetContribution,
        Key::SupportMeasures,
        Key::GxDeclaration,
        Key::ProgressDisclosed,
        Key::PubliclyDisclosed,
        Key::Certified,
        Key::Cfp,
        Key::Rep,
        Key::Aep,
        Key::CircularOutflow,
        Key::CircularInflow,
        Key::Additionality,
        Key::PrimaryDataShare,
    ];

    /// The key used in profiles and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Key::NationalTargetContribution => "national_target_contribution",
            Key::SupportMeasures => "support_measures",
            Key::GxDeclaration => "gx_declaration",
            Key::ProgressDisclosed => "progress_disclosed",
            Key::PubliclyDisclosed => "publicly_disclosed",
            Key::Certified => "certified",
            Key::Cfp => "cfp",
            Key::Rep => "rep",
            Key::Aep => "aep",
            Key::CircularOutflow => "circular_outflow",
            Key::CircularInflow => "circular_inflow",
            Key::Additionality => "additionality",
            Key::PrimaryDataShare => "primary_data_share",
        }
    }

    /// Parses a key.
    pub fn parse(s: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the indicator is a yes/no fact (else a number).
    pub fn is_flag(self) -> bool {
        matches!(
            self,
            Key::NationalTargetContribution
                | Key::SupportMeasures
                | Key::GxDeclaration
                | Key::ProgressDisclosed
                | Key::PubliclyDisclosed
                | Key::Certified
                | Key::Additionality
        )
    }
}

impl Key {
    /// Whether more of the indicator is better (a number; yes/no facts are better true):
    /// every one but the footprint itself, which is better lower.
    pub fn higher_is_better(self) -> bool {
        self != Key::Cfp
    }

    /// The sheet's column group the indicator belongs in (表3-2-1), for a profile that adds
    /// it.
    pub fn default_group(self) -> &'static str {
        match self {
            Key::NationalTargetContribution | Key::SupportMeasures => "national",
            Key::GxDeclaration
            | Key::ProgressDisclosed
            | Key::PubliclyDisclosed
            | Key::Certified => "disclosure",
            Key::Cfp | Key::Rep | Key::Aep => "decarbonization",
            Key::CircularOutflow | Key::CircularInflow => "circulation",
            Key::Additionality => "additionality",
            Key::PrimaryDataShare => "quality",
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an indicator's value earns credit (0 to 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A yes/no fact that is true earns full credit (a number: any value).
    Present,
    /// value ≥ threshold.
    AtLeast(Decimal),
    /// value ≤ threshold.
    AtMost(Decimal),
    /// (value − zero_at) / (full_at − zero_at), clamped to 0..1; either direction.
    Linear {
        /// Value earning no credit.
        zero_at: Decimal,
        /// Value earning full credit.
        full_at: Decimal,
    },
    /// The reduction achieved (REP) is at least `min_pct` percent.
    Reduction(Decimal),
}

impl Rule {
    /// A short description (`≤ 250`, `0 → 30 linear`, …).
    pub fn describe(&self) -> String {
        match self {
            Rule::Present => "yes".into(),
            Rule::AtLeast(t) => format!("≥ {}", t.normalize()),
            Rule::AtMost(t) => format!("≤ {}", t.normalize()),
            Rule::Linear { zero_at, full_at } => {
                format!("{} → {} (linear)", zero_at.normalize(), full_at.normalize())
            }
            Rule::Reduction(p) => format!("≥ {} %", p.normalize()),
        }
    }
}

impl Rule {
    /// The rule as a TOML inline table, as profiles write it.
    pub fn to_toml(&self) -> String {
        match self {
            Rule::Present => "{ kind = \"present\" }".into(),
            Rule::AtLeast(t) => format!("{{ kind = \"at_least\", threshold = {} }}", t.normalize()),
            Rule::AtMost(t) => format!("{{ kind = \"at_most\", threshold = {} }}", t.normalize()),
            Rule::Linear { zero_at, full_at } => format!(
                "{{ kind = \"linear\", zero_at = {}, full_at = {} }}",
                zero_at.normalize(),
                full_at.normalize()
            ),
            Rule::Reduction(p) => {
                format!("{{ kind = \"reduction\", min_pct = {} }}", p.normalize())
            }
        }
    }
}

/// One weighted indicator of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// Which indicator.
    pub key: Key,
    /// Column group of the sheet (`national`, `disclosure`, `decarbonization`, …).
    pub group: String,
    /// Points at full credit.
    pub weight: Decimal,
    /// The rule.
    pub rule: Rule,
}

/// A scoring profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Name.
    pub name: String,
    /// Indicators, in sheet order.
    pub indicators: Vec<Indicator>,
    /// Rule overrides by UN CPC prefix.
    pub categories: BTreeMap<String, Vec<(Key, Rule)>>,
}

/// The default profile's TOML.
pub const DEFAULT_PROFILE: &str = include_str!("gxd-2025.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Spanned<String>,
    indicator: Vec<Spanned<RawIndicator>>,
    #[serde(default)]
    category: BTreeMap<String, Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    key: Spanned<String>,
    group: Spanned<String>,
    weight: Spanned<Value>,
    rule: Spanned<Value>,
}

/// Turns byte offsets into line numbers for messages.
struct Where<'a> {
    source: &'a str,
    text: &'a str,
}

impl Where<'_> {
    fn err(&self, at: std::ops::Range<usize>, message: impl fmt::Display) -> Error {
        let line = self.text[..at.start.min(self.text.len())]
            .bytes()
            .filter(|b| *b == b'\n')
            .count()
            + 1;
        Error::Usage(format!("{}:{line}: {message}", self.source))
    }
}

fn number(w: &Where, v: &Value, span: std::ops::Range<usize>, what: &str) -> Result<Decimal> {
    let d = match v {
        Value::Integer(i) => Some(Decimal::from(*i)),
        // Through the shortest text that reads back as the same double, so 7.5 is 7.5 and
        // 0.1 is 0.1, not the binary value's 55 digits.
        Value::Float(f) if f.is_finite() => format!("{f}").parse::<Decimal>().ok(),
        _ => None,
    };
    d.ok_or_else(|| {
        w.err(
            span,
            format!("{what} must be a number, found a {}", v.type_str()),
        )
    })
}

fn rule(w: &Where, key: Key, v: &Spanned<Value>) -> Result<Rule> {
    let span = v.span();
    let Some(t) = v.get_ref().as_table() else {
        return Err(w.err(
            span,
            "rule must be a table like { kind = \"at_most\", threshold = 250 }",
        ));
    };
    let kind = t.get("kind").and_then(Value::as_str).ok_or_else(|| {
        w.err(
            span.clone(),
            "rule needs a kind: present, at_least, at_most, linear or reduction",
        )
    })?;
    let field = |name: &str| -> Result<Decimal> {
        let v = t
            .get(name)
            .ok_or_else(|| w.err(span.clone(), format!("a {kind} rule needs {name}")))?;
        number(w, v, span.clone(), name)
    };
    let allowed: &[&str] = match kind {
        "present" => &["kind"],
        "at_least" | "at_most" => &["kind", "threshold"],
        "linear" => &["kind", "zero_at", "full_at"],
        "reduction" => &["kind", "min_pct"],
        other => {
            return Err(w.err(
                span,
                format!(
                    "unknown rule kind {other:?}: present, at_least, at_most, linear or reduction"
                ),
            ));
        }
    };
    if let Some(extra) = t.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(w.err(span, format!("a {kind} rule takes no {extra:?}")));
    }
    let r = match kind {
        "present" => Rule::Present,
        "at_least" => Rule::AtLeast(field("threshold")?),
        "at_most" => Rule::AtMost(field("threshold")?),
        "linear" => {
            let (zero_at, full_at) = (field("zero_at")?, field("full_at")?);
            if zero_at == full_at {
                return Err(w.err(span, "a linear rule needs zero_at and full_at to differ"));
            }
            Rule::Linear { zero_at, full_at }
        }
        _ => Rule::Reduction(field("min_pct")?),
    };
    match (&r, key.is_flag()) {
        (Rule::Present, _) | (_, false) => {}
        (_, true) => {
            return Err(w.err(
                span,
                format!("{key} is a yes/no indicator: only kind = \"present\" applies"),
            ));
        }
    }
    if matches!(r, Rule::Reduction(_)) && key != Key::Rep {
        return Err(w.err(
            span,
            format!("a reduction rule applies to rep, not to {key}"),
        ));
    }
    Ok(r)
}

impl Profile {
    /// The default profile, `gxd-2025`.
    pub fn default_profile() -> Profile {
        // Checked by a test; a broken built-in profile would be a build defect.
        Profile::parse("gxd-2025.toml", DEFAULT_PROFILE).unwrap_or_else(|_| Profile {
            name: "gxd-2025".into(),
            indicators: Vec::new(),
            categories: BTreeMap::new(),
        })
    }

    /// Reads a profile from TOML; `source` names it in errors (`my.toml:12: …`).
    pub fn parse(source: &str, text: &str) -> Result<Profile> {
        let w = Where { source, text };
        let raw: RawProfile = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            w.err(span, e.message())
        })?;
        let mut indicators = Vec::new();
        let mut total = Decimal::ZERO;
        for ind in &raw.indicator {
            let i = ind.get_ref();
            let key = Key::parse(i.key.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = Key::ALL.iter().map(|k| k.as_str()).collect();
                w.err(
                    i.key.span(),
                    format!(
                        "unknown indicator {:?}; known: {}",
                        i.key.get_ref(),
                        known.join(", ")
                    ),
                )
            })?;
            if indicators.iter().any(|x: &Indicator| x.key == key) {
                return Err(w.err(i.key.span(), format!("indicator {key} is listed twice")));
            }
            let weight = number(&w, i.weight.get_ref(), i.weight.span(), "weight")?;
            if weight <= Decimal::ZERO {
                return Err(w.err(
                    i.weight.span(),
                    format!("weight {weight} must be greater than 0"),
                ));
            }
            let weight = weight.normalize();
            if weight.scale() > 6 {
                return Err(w.err(
                    i.weight.span(),
                    format!("weight {weight} has more than 6 decimals"),
                ));
            }
            total += weight;
            indicators.push(Indicator {
                key,
                group: i.group.get_ref().clone(),
                weight,
                rule: rule(&w, key, &i.rule)?,
            });
        }
        if indicators.is_empty() {
            return Err(w.err(
                raw.name.span(),
                "a profile needs at least one [[indicator]]",
            ));
        }
        if total != Decimal::ONE_HUNDRED {
            return Err(w.err(
                raw.indicator[0].span(),
                format!("weights add up to {}, not 100", total.normalize()),
            ));
        }
        let mut categories = BTreeMap::new();
        for (prefix, table) in &raw.category {
            if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                return Err(w.err(
                    table.span(),
                    format!("category {prefix:?} is not a UN CPC code or prefix (digits)"),
                ));
            }
            let mut rules = Vec::new();
            for (k, v) in table.get_ref() {
                let key = Key::parse(k).ok_or_else(|| {
                    w.err(
                        table.span(),
                        format!("unknown indicator {k:?} in [category.\"{prefix}\"]"),
                    )
                })?;
                if !indicators.iter().any(|i| i.key == key) {
                    return Err(w.err(table.span(), format!("[category.\"{prefix}\"] overrides {key}, which the profile does not weigh")));
                }
                let spanned = Spanned::new(table.span(), v.clone());
                rules.push((key, rule(&w, key, &spanned)?));
            }
            categories.insert(prefix.clone(), rules);
        }
        Ok(Profile {
            name: raw.name.get_ref().clone(),
            indicators,
            categories,
        })
    }

    /// The profile as TOML that [`Profile::parse`] reads back as the same profile.
    pub fn to_toml(&self) -> String {
        // A JSON string is a TOML basic string: the same quotes and escapes.
        let text = |s: &str| serde_json::Value::from(s).to_string();
        let mut out = format!("name = {}\n", text(&self.name));
        for i in &self.indicators {
            out.push_str(&format!(
                "\n[[indicator]]\nkey = \"{}\"\ngroup = {}\nweight = {}\nrule = {}\n",
                i.key,
                text(&i.group),
                i.weight.normalize(),
                i.rule.to_toml()
            ));
        }
        for (prefix, rules) in &self.categories {
            out.push_str(&format!("\n[category.\"{prefix}\"]\n"));
            for (key, rule) in rules {
                out.push_str(&format!("{key} = {}\n", rule.to_toml()));
            }
        }
        out
    }

    /// The rule for indicator `i` of a product in category `cpc`: the longest matching
    /// prefix's override, else the indicator's own.
    pub fn rule_for<'a>(&'a self, i: &'a Indicator, cpc: Option<&str>) -> &'a Rule {
        let Some(cpc) = cpc else { return &i.rule };
        self.categories
            .iter()
            .filter(|(prefix, _)| cpc.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .and_then(|(_, rules)| rules.iter().find(|(k, _)| *k == i.key).map(|(_, r)| r))
            .unwrap_or(&i.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Credit;

    #[test]
    fn the_default_profile_reads_and_weighs_100() {
        let p = Profile::parse("gxd-2025.toml", DEFAULT_PROFILE).unwrap();
        assert_eq!(p.name, "gxd-2025");
        let total: Decimal = p.indicators.iter().map(|i| i.weight).sum();
        assert_eq!(total, Decimal::ONE_HUNDRED);
        // Every column of the consortium's sheet (表3-2-1).
        assert_eq!(p.indicators.len(), 12);
        let cfp = p.indicators.iter().find(|i| i.key == Key::Cfp).unwrap();
        assert_eq!(
            p.rule_for(cfp, Some("45210")),
            &Rule::AtMost(Decimal::from(200))
        );
        assert_eq!(
            p.rule_for(cfp, Some("4530")),
            &Rule::AtMost(Decimal::from(250))
        );
        assert_eq!(p.rule_for(cfp, None), &Rule::AtMost(Decimal::from(250)));
    }

    fn profile(body: &str) -> Result<Profile> {
        Profile::parse("p.toml", &format!("name = \"t\"\n{body}"))
    }

    #[test]
    fn mistakes_name_their_line() {
        let e = profile("[[indicator]]\nkey = \"cfp\"\ngroup = \"g\"\nweight = 90\nrule = { kind = \"present\" }\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.toml:2:") && e.contains("add up to 90, not 100"),
            "{e}"
        );
        let e = profile("[[indicator]]\nkey = \"cfpp\"\ngroup = \"g\"\nweight = 100\nrule = { kind = \"present\" }\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.toml:3:") && e.contains("unknown indicator \"cfpp\""),
            "{e}"
        );
        let e = profile("[[indicator]]\nkey = \"cfp\"\ngroup = \"g\"\nweight = 100\nrule = { kind = \"at_most\", threshold = \"low\" }\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.toml:6:") && e.contains("threshold must be a number"),
            "{e}"
        );
        let e = profile("[[indicator]]\nkey = \"certified\"\ngroup = \"g\"\nweight = 100\nrule = { kind = \"at_least\", threshold = 1 }\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("yes/no indicator"), "{e}");
        let e = profile("[[indicator]]\nkey = \"cfp\"\ngroup = \"g\"\nweight = 100\nrule = { kind = \"present\" }\n[category.\"45\"]\nrep = { kind = \"present\" }\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not weigh"), "{e}");
        let e = Profile::parse("p.toml", "name = \"t\"\nindicator = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml:2:"), "{e}");
    }

    #[test]
    fn a_profile_reads_back_from_its_toml() {
        let p = Profile::default_profile();
        let again = Profile::parse("again.toml", &p.to_toml()).expect("reads back");
        assert_eq!(again, p);
        let odd = profile(
            "[[indicator]]\nkey = \"cfp\"\ngroup = \"g \\\" q\"\nweight = 33.333333\nrule = { kind = \"linear\", zero_at = 300.5, full_at = 0.000001 }\n\
             [[indicator]]\nkey = \"rep\"\ngroup = \"減炭素\"\nweight = 66.666667\nrule = { kind = \"reduction\", min_pct = -2.5 }\n\
             [category.\"45\"]\ncfp = { kind = \"at_most\", threshold = 1e12 }\n",
        )
        .expect("parses");
        assert_eq!(
            Profile::parse("odd.toml", &odd.to_toml()).expect("reads back"),
            odd
        );
    }

    #[test]
    fn weights_may_have_decimals() {
        let body = "[[indicator]]\nkey = \"cfp\"\ngroup = \"g\"\nweight = 33.3\nrule = { kind = \"present\" }\n\
                    [[indicator]]\nkey = \"rep\"\ngroup = \"g\"\nweight = 33.3\nrule = { kind = \"present\" }\n\
                    [[indicator]]\nkey = \"aep\"\ngroup = \"g\"\nweight = 33.4\nrule = { kind = \"present\" }\n";
        let p = profile(body).unwrap();
        assert_eq!(p.indicators[0].weight.to_string(), "33.3");
    }

    #[test]
    fn linear_credit_runs_both_ways() {
        let up = Rule::Linear {
            zero_at: Decimal::ZERO,
            full_at: Decimal::from(30),
        };
        // 12 of 30 → 2/5; above the top clamps to 1; below zero clamps to 0; 5 of 30 is
        // exactly 1/6.
        let credit = |r: &Rule, v: i64| Credit::of_number(r, Decimal::from(v));
        assert_eq!(credit(&up, 5), Credit::Part(1, 6));
        assert_eq!(credit(&up, 12), Credit::Part(2, 5));
        assert_eq!(credit(&up, 45), Credit::Full);
        assert_eq!(credit(&up, -1), Credit::Zero);
        // Lower is better: 0 credit at 300, full at 200; 275 → (275 − 300) / (200 − 300) = 0.25.
        let down = Rule::Linear {
            zero_at: Decimal::from(300),
            full_at: Decimal::from(200),
        };
        assert_eq!(credit(&down, 275), Credit::Part(1, 4));
    }
}
