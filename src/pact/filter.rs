//! The `$filter` subset of PACT v2 `ListFootprints` (an ODataV4 subset): comparisons `eq`,
//! `ne`, `lt`, `le`, `gt`, `ge` of a property with a string literal, `and`, parentheses, and
//! the `any` lambda over the array properties `productIds` and `companyIds`:
//!
//! ```text
//! (pcf/geographyCountry eq 'DE') and (pcf/referencePeriodStart ge '2023-01-01T00:00:00Z')
//! productIds/any(productId:(productId eq 'urn:gtin:4712345060507'))
//! ```
//!
//! Properties are the ones the PACT Tech Specs list for filtering: `created`, `updated`,
//! `productCategoryCpc`, `pcf/geographyCountry`, `pcf/referencePeriodStart`,
//! `pcf/referencePeriodEnd`, plus `id`, `status`, `version`, `companyName` and
//! `productNameCompany`. Values that are RFC 3339 date-times on both sides compare as
//! instants; other values compare as text.

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

/// A field of a footprint known without reading its document (see [`Filter::may_match`]).
#[derive(Debug, Clone, Copy)]
pub enum Known<'a> {
    /// A string array (`productIds`, `companyIds`).
    Array(&'a [String]),
    /// A text field, `None` when the footprint does not have it (`pcf/geographyCountry`).
    Text(Option<&'a str>),
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// All of these hold.
    And(Vec<Filter>),
    /// `path op 'literal'`.
    Compare {
        /// Property path (`pcf/geographyCountry`) or a lambda variable.
        path: String,
        /// Operator.
        op: Op,
        /// The literal.
        value: String,
    },
    /// `array/any(var: filter)`: some element of `array` satisfies `filter`.
    Any {
        /// `productIds` or `companyIds`.
        array: String,
        /// The lambda variable.
        var: String,
        /// The condition on it.
        filter: Box<Filter>,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `lt`
    Lt,
    /// `le`
    Le,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
}

const PROPERTIES: &[&str] = &[
    "id",
    "status",
    "version",
    "created",
    "updated",
    "companyName",
    "productNameCompany",
    "productCategoryCpc",
    "pcf/geographyCountry",
    "pcf/geographyRegionOrSubregion",
    "pcf/geographyCountrySubdivision",
    "pcf/referencePeriodStart",
    "pcf/referencePeriodEnd",
];

const ARRAYS: &[&str] = &["productIds", "companyIds"];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Colon,
    Word(String),
    Text(String),
}

fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Token::Open),
            ')' => out.push(Token::Close),
            ':' => out.push(Token::Colon),
            '\'' => {
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\'')) if chars.peek().is_some_and(|(_, c)| *c == '\'') => {
                            chars.next();
                            text.push('\'');
                        }
                        Some((_, '\'')) => break,
                        Some((_, c)) => text.push(c),
                        None => return Err(format!("unterminated string starting at {i}")),
                    }
                }
                out.push(Token::Text(text));
            }
            c if c.is_alphanumeric() || c == '_' || c == '/' => {
                let mut word = c.to_string();
                while let Some((_, c)) = chars.peek() {
                    if c.is_alphanumeric() || *c == '_' || *c == '/' || *c == '-' || *c == '.' {
                        word.push(*c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Word(word));
            }
            other => return Err(format!("unexpected {other:?} at {i}")),
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    vars: Vec<String>,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn take(&mut self, want: Token, what: &str) -> Result<(), String> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(format!("expected {what}, found {}", show(&t))),
            None => Err(format!("expected {what}, found the end")),
        }
    }

    fn expr(&mut self) -> Result<Filter, String> {
        let mut all = vec![self.term()?];
        while matches!(self.peek(), Some(Token::Word(w)) if w == "and") {
            self.next();
            all.push(self.term()?);
        }
        if matches!(self.peek(), Some(Token::Word(w)) if w == "or" || w == "not") {
            return Err("only `and` is supported (PACT's $filter subset)".into());
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Filter::And(all)
        })
    }

    fn term(&mut self) -> Result<Filter, String> {
        match self.next() {
            Some(Token::Open) => {
                let f = self.expr()?;
                self.take(Token::Close, "`)`")?;
                Ok(f)
            }
            Some(Token::Word(w)) if w.ends_with("/any") => {
                let array = w.trim_end_matches("/any").to_owned();
                if !ARRAYS.contains(&array.as_str()) {
                    return Err(format!(
                        "any() works on {}, not {array:?}",
                        ARRAYS.join(" and ")
                    ));
                }
                self.take(Token::Open, "`(` after any")?;
                let var = match self.next() {
                    Some(Token::Word(v)) if !v.contains('/') => v,
                    _ => return Err("expected a variable name in any(var: …)".into()),
                };
                self.take(Token::Colon, "`:` after the variable")?;
                self.vars.push(var.clone());
                let filter = self.expr()?;
                self.vars.pop();
                self.take(Token::Close, "`)` closing any(")?;
                Ok(Filter::Any {
                    array,
                    var,
                    filter: Box::new(filter),
                })
            }
            Some(Token::Word(path)) => {
                if !PROPERTIES.contains(&path.as_str()) && !self.vars.contains(&path) {
                    return Err(format!(
                        "{path:?} cannot be filtered on; properties: {}, and productIds/any(…), companyIds/any(…)",
                        PROPERTIES.join(", ")
                    ));
                }
                let op = match self.next() {
                    Some(Token::Word(op)) => match op.as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "lt" => Op::Lt,
                        "le" => Op::Le,
                        "gt" => Op::Gt,
                        "ge" => Op::Ge,
                        other => {
                            return Err(format!(
                                "unknown operator {other:?} (eq, ne, lt, le, gt, ge)"
                            ));
                        }
                    },
                    _ => return Err(format!("expected an operator after {path}")),
                };
                let value = match self.next() {
                    Some(Token::Text(v)) => v,
                    Some(Token::Word(v)) if v.parse::<f64>().is_ok() => v,
                    Some(t) => {
                        return Err(format!(
                            "expected a quoted literal after {path}, found {}",
                            show(&t)
                        ));
                    }
                    None => return Err(format!("expected a literal after {path}")),
                };
                Ok(Filter::Compare { path, op, value })
            }
            Some(t) => Err(format!("unexpected {}", show(&t))),
            None => Err("unexpected end of the filter".into()),
        }
    }
}

fn show(t: &Token) -> String {
    match t {
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::Colon => "`:`".into(),
        Token::Word(w) => format!("`{w}`"),
        Token::Text(t) => format!("'{t}'"),
    }
}

/// The deepest nesting of parentheses a `$filter` may have (PACT's own examples use two).
pub const MAX_DEPTH: usize = 32;

impl Filter {
    /// Parses a `$filter` expression.
    pub fn parse(s: &str) -> Result<Filter, String> {
        let mut p = Parser {
            tokens: tokens(s)?,
            at: 0,
            vars: Vec::new(),
        };
        if p.tokens.is_empty() {
            return Err("the filter is empty".into());
        }
        // The parser (and every use of the filter) recurses once per parenthesis: a filter
        // nested thousands deep would exhaust the stack and abort the server.
        let mut depth = 0usize;
        for t in &p.tokens {
            match t {
                Token::Open => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(format!(
                            "the filter nests parentheses more than {MAX_DEPTH} deep"
                        ));
                    }
                }
                Token::Close => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        let f = p.expr()?;
        match p.next() {
            None => Ok(f),
            Some(t) => Err(format!("unexpected {} after the filter", show(&t))),
        }
    }

    /// Whether a footprint whose stored fields are `fields` may satisfy the filter: `false`
    /// only when an `any` term over a known array holds for none of its elements, or a
    /// comparison with a known text field fails. A necessary condition of
    /// [`Filter::matches`], decided without the document; a field `fields` does not know
    /// (`None`) never rules a footprint out.
    pub fn may_match<'a>(&self, fields: &dyn Fn(&str) -> Option<Known<'a>>) -> bool {
        match self {
            Filter::And(all) => all.iter().all(|f| f.may_match(fields)),
            Filter::Compare { path, op, value } => match fields(path) {
                // As in `matches`: an absent field fails every comparison.
                Some(Known::Text(found)) => {
                    found.is_some_and(|s| compare(&Value::String(s.to_owned()), *op, value))
                }
                _ => true,
            },
            Filter::Any { array, var, filter } => {
                let Filter::Compare { path, op, value } = filter.as_ref() else {
                    return true;
                };
                let Some(Known::Array(items)) = fields(array) else {
                    return true;
                };
                path != var
                    || items
                        .iter()
                        .any(|i| compare(&Value::String(i.clone()), *op, value))
            }
        }
    }

    /// Whether [`Filter::may_match`] decides the filter alone when the fields named `known`
    /// are given: every comparison is with a known text field, every `any` term compares the
    /// elements of a known array. Then no document needs reading.
    pub fn decided_by(&self, known: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Filter::And(all) => all.iter().all(|f| f.decided_by(known)),
            Filter::Compare { path, .. } => known(path),
            Filter::Any { array, var, filter } => {
                known(array)
                    && matches!(filter.as_ref(), Filter::Compare { path, .. } if path == var)
            }
        }
    }

    /// Whether the ProductFootprint `doc` satisfies the filter.
    pub fn matches(&self, doc: &Value) -> bool {
        self.eval_with(doc, &mut Vec::new())
    }

    fn eval_with(&self, doc: &Value, vars: &mut Vec<(&str, &Value)>) -> bool {
        match self {
            Filter::And(all) => all.iter().all(|f| f.eval_with(doc, vars)),
            Filter::Compare { path, op, value } => {
                let found = vars
                    .iter()
                    .rev()
                    .find(|(v, _)| *v == path.as_str())
                    .map(|(_, x)| *x)
                    .or_else(|| lookup(doc, path));
                found.is_some_and(|v| compare(v, *op, value))
            }
            Filter::Any { array, var, filter } => {
                let Some(Value::Array(items)) = doc.get(array.as_str()) else {
                    return false;
                };
                items.iter().any(|item| {
                    let mut inner = vars.clone();
                    inner.push((var.as_str(), item));
                    filter.eval_with(doc, &mut inner)
                })
            }
        }
    }
}

fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(doc, |v, key| v.get(key))
}

fn instant(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

fn compare(found: &Value, op: Op, literal: &str) -> bool {
    let text = match found {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return false,
    };
    let ord = match (instant(&text), instant(literal)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => match (text.parse::<f64>(), literal.parse::<f64>()) {
            (Ok(a), Ok(b)) if found.is_number() => match a.partial_cmp(&b) {
                Some(o) => o,
                None => return false,
            },
            _ => text.as_str().cmp(literal),
        },
    };
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => ord == Equal,
        Op::Ne => ord != Equal,
        Op::Lt => ord == Less,
        Op::Le => ord != Greater,
        Op::Gt => ord == Greater,
        Op::Ge => ord != Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "id": "91715e5e-fd0b-4d1c-8fab-76290c46e6ed",
            "created": "2022-03-01T09:32:20Z",
            "productCategoryCpc": "3342",
            "companyIds": ["urn:uuid:51131FB5-42A2-4267-A402-0ECFEFAD1619", "urn:epc:id:sgln:4063973.00000.8"],
            "productIds": ["urn:gtin:4712345060507"],
            "version": 1,
            "pcf": {
                "geographyCountry": "DE",
                "referencePeriodStart": "2021-01-01T00:00:00Z",
                "referencePeriodEnd": "2022-01-01T00:00:00Z"
            }
        })
    }

    fn holds(f: &str) -> bool {
        let filter = Filter::parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let d = doc();
        let holds = filter.matches(&d);
        // The pruning from stored ids is a necessary condition: never false where it holds;
        // and where it decides alone, it is the answer.
        assert!(may(&filter, &d) || !holds, "{f}: may_match refused a match");
        if filter.decided_by(&|f| STORED.contains(&f)) {
            assert_eq!(may(&filter, &d), holds, "{f}: decided by stored fields");
        }
        holds
    }

    /// The fields `may` gives.
    const STORED: [&str; 4] = [
        "productIds",
        "companyIds",
        "pcf/geographyCountry",
        "pcf/geographyCountrySubdivision",
    ];

    fn may(filter: &Filter, d: &Value) -> bool {
        let ids = |k: &str| -> Vec<String> {
            d[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (products, companies) = (ids("productIds"), ids("companyIds"));
        filter.may_match(&|field| match field {
            "productIds" => Some(Known::Array(products.as_slice())),
            "companyIds" => Some(Known::Array(companies.as_slice())),
            "pcf/geographyCountry" => Some(Known::Text(d["pcf"]["geographyCountry"].as_str())),
            "pcf/geographyCountrySubdivision" => Some(Known::Text(
                d["pcf"]["geographyCountrySubdivision"].as_str(),
            )),
            _ => None,
        })
    }

    #[test]
    fn stored_fields_prune_any_terms_and_geography() {
        let d = doc();
        let f = |s: &str| Filter::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(!may(&f("productIds/any(p:(p eq 'urn:gtin:0'))"), &d));
        assert!(!may(
            &f("(pcf/geographyCountry eq 'DE') and companyIds/any(c:(c eq 'urn:x'))"),
            &d
        ));
        assert!(may(
            &f("productIds/any(p:(p eq 'urn:gtin:4712345060507'))"),
            &d
        ));
        // The stored geography decides a comparison with it: DE is stored, FR is not, and
        // the subdivision is absent, so no comparison with it can hold.
        assert!(!may(&f("pcf/geographyCountry eq 'FR'"), &d));
        assert!(may(&f("pcf/geographyCountry eq 'DE'"), &d));
        assert!(may(&f("pcf/geographyCountry ne 'FR'"), &d));
        assert!(!may(&f("pcf/geographyCountrySubdivision eq 'DE-BY'"), &d));
        // A field not stored leaves it to the document.
        assert!(may(
            &f("pcf/referencePeriodStart ge '2030-01-01T00:00:00Z'"),
            &d
        ));
    }

    #[test]
    fn the_spec_examples() {
        // The examples of the PACT Tech Specs v2, §6.6 (filtering), on the doc above.
        assert!(holds(
            "(pcf/geographyCountry eq 'DE') and (pcf/referencePeriodStart ge '2021-01-01T00:00:00Z') and (pcf/referencePeriodEnd lt '2023-01-01T00:00:00Z')"
        ));
        assert!(holds(
            "productIds/any(productId:(productId eq 'urn:gtin:4712345060507'))"
        ));
        assert!(!holds(
            "productIds/any(productId:(productId eq 'urn:gtin:0'))"
        ));
        assert!(holds(
            "companyIds/any(c:(c eq 'urn:epc:id:sgln:4063973.00000.8'))"
        ));
        assert!(holds(
            "created ge '2022-01-01T00:00:00Z' and productCategoryCpc eq '3342'"
        ));
        assert!(!holds("pcf/geographyCountry ne 'DE'"));
    }

    #[test]
    fn instants_compare_across_offsets() {
        // 09:32:20Z is 18:32:20+09:00.
        assert!(holds("created eq '2022-03-01T18:32:20+09:00'"));
        assert!(holds("created lt '2022-03-01T18:32:21+09:00'"));
    }

    #[test]
    fn numbers_compare_as_numbers() {
        assert!(holds("version ge 1"));
        assert!(!holds("version gt 1"));
    }

    /// A filter nested 3,000 parentheses deep (which aborted the server) is refused before it
    /// is parsed; one at the limit parses and matches.
    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let nested = |n: usize| {
            format!(
                "{}pcf/geographyCountry eq 'DE'{}",
                "(".repeat(n),
                ")".repeat(n)
            )
        };
        let e = Filter::parse(&nested(3_000)).expect_err("too deep");
        assert!(e.contains("more than 32 deep"), "{e}");
        let f = Filter::parse(&nested(MAX_DEPTH)).expect("at the limit");
        assert!(f.matches(&doc()));
        assert!(Filter::parse(&nested(MAX_DEPTH + 1)).is_err());
    }

    #[test]
    fn mistakes_are_explained() {
        for (f, why) in [
            ("", "empty"),
            ("pcf/geographyCountry eq", "literal"),
            ("pcf/declaredUnit eq 'kilogram'", "cannot be filtered"),
            ("created eq '2022", "unterminated"),
            ("created like 'x'", "unknown operator"),
            ("created eq 'a' or created eq 'b'", "only `and`"),
            ("(created eq 'a'", "`)`"),
            ("pcf/any(x:(x eq 'a'))", "any() works on"),
        ] {
            let e = Filter::parse(f).expect_err(f);
            assert!(e.contains(why), "{f}: {e}");
        }
    }
}
