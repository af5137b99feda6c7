//! The query catalog: `queries/**/*.sql` parsed into typed definitions (title, parameters,
//! the engine a query needs), checked when it loads, and bound to typed values.

use std::collections::{BTreeMap, HashMap};

use std::ops::ControlFlow;

use datafusion::common::ScalarValue;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    self as ast, CastKind, ExactNumberInfo, Expr as SqlExpr, Statement, TableFactor, Value,
    visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use rust_decimal::Decimal;

use crate::table;
use crate::{Error, Result};

/// The SQL files compiled into the binary: `(id, text)`.
pub fn embedded_queries() -> &'static [(&'static str, &'static str)] {
    crate::dataset::embedded::QUERIES
}

/// The type of a query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `text`: a string.
    Text,
    /// `int`: a 64-bit integer.
    Int,
    /// `decimal`: an exact decimal, bound as `Decimal128(38, 12)`.
    Decimal,
    /// `float`: a 64-bit float.
    Float,
    /// `bool`: `true` or `false`.
    Bool,
    /// `date`: `YYYY-MM-DD`.
    Date,
}

impl ParamType {
    fn parse(s: &str) -> Option<ParamType> {
        Some(match s {
            "text" => ParamType::Text,
            "int" => ParamType::Int,
            "decimal" => ParamType::Decimal,
            "float" => ParamType::Float,
            "bool" => ParamType::Bool,
            "date" => ParamType::Date,
            _ => return None,
        })
    }

    /// The name used in query headers.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Text => "text",
            ParamType::Int => "int",
            ParamType::Decimal => "decimal",
            ParamType::Float => "float",
            ParamType::Bool => "bool",
            ParamType::Date => "date",
        }
    }

    /// Converts user text into a typed value.
    pub fn value(self, text: &str) -> std::result::Result<ScalarValue, String> {
        let bad = || format!("expected {}, got {}", self.describe(), quoted(text));
        Ok(match self {
            ParamType::Text => ScalarValue::Utf8(Some(text.to_owned())),
            ParamType::Int => ScalarValue::Int64(Some(text.trim().parse().map_err(|_| bad())?)),
            ParamType::Float => {
                let v: f64 = text.trim().parse().map_err(|_| bad())?;
                if !v.is_finite() {
                    return Err(bad());
                }
                ScalarValue::Float64(Some(v))
            }
            ParamType::Decimal => {
                let d = Decimal::from_str_exact(text.trim()).map_err(|_| bad())?;
                ScalarValue::Decimal128(
                    Some(table::decimal_to_i128(d)),
                    table::DECIMAL_PRECISION,
                    crate::table::DECIMAL_SCALE as i8,
                )
            }
            ParamType::Bool => match text.trim() {
                "true" => ScalarValue::Boolean(Some(true)),
                "false" => ScalarValue::Boolean(Some(false)),
                _ => return Err(bad()),
            },
            ParamType::Date => {
                let d = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                    .map_err(|_| bad())?;
                let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).ok_or_else(bad)?;
                // Any date chrono parses is within ±262,000 years: its days fit i32.
                let days = i32::try_from((d - epoch).num_days()).map_err(|_| bad())?;
                ScalarValue::Date32(Some(days))
            }
        })
    }

    fn describe(self) -> &'static str {
        match self {
            ParamType::Text => "text",
            ParamType::Int => "an integer",
            ParamType::Decimal => "a decimal number like 12.5",
            ParamType::Float => "a number",
            ParamType::Bool => "true or false",
            ParamType::Date => "a date like 2024-12-31",
        }
    }
}

/// One declared `$name` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Name without `$`.
    pub name: String,
    /// Type.
    pub ty: ParamType,
    /// Default value as text; `None` means the parameter is required.
    pub default: Option<String>,
    /// The only values it takes (`in (a, b, …)` in its declaration); empty: any of its type.
    pub choices: Vec<String>,
    /// What it means.
    pub description: String,
}

impl Param {
    /// `text` as this parameter's value: of its type and, when it lists choices, one of them.
    pub fn value(&self, text: &str) -> std::result::Result<ScalarValue, String> {
        let value = self.ty.value(text)?;
        if !self.takes(&value) {
            return Err(format!(
                "{} is not one of {}",
                quoted(text),
                self.choices.join(", ")
            ));
        }
        Ok(value)
    }

    /// Whether `value` (of its type) is one it takes: any without choices, else one of them,
    /// compared as values of the type (`01` is the choice `1` of an int).
    fn takes(&self, value: &ScalarValue) -> bool {
        self.choices.is_empty()
            || self
                .choices
                .iter()
                .any(|c| self.ty.value(c).is_ok_and(|v| &v == value))
    }
}

/// Most characters of a parameter's text an error repeats.
const QUOTED_CHARS: usize = 60;

/// `text` quoted for an error message, cut after [`QUOTED_CHARS`] characters with its length
/// said: a request's parameter can be as long as its URL.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}… ({} characters)", &text[..cut], text.chars().count()),
    }
}

/// A query of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryDef {
    /// Id: the path under `queries/` without `.sql`.
    pub id: String,
    /// Title.
    pub title: String,
    /// What it answers.
    pub description: String,
    /// Declared parameters, in header order.
    pub params: Vec<Param>,
    /// The columns it returns, as documented.
    pub returns: String,
    /// The SQL text, header included.
    pub sql: String,
    /// Which engine answers it.
    pub engine: Engine,
}

/// Which engine a query runs on, decided from its SQL when the catalog loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// Plain SQL over the tables (portable to any DataFusion, Ballista included).
    Sql,
    /// It calls mieruka's native table functions (named here).
    Native(Vec<String>),
}

impl Engine {
    /// `sql`, or `native(hotspot_items, …)`.
    pub fn describe(&self) -> String {
        match self {
            Engine::Sql => "sql".into(),
            Engine::Native(f) => format!("native({})", f.join(", ")),
        }
    }
}

/// The table functions mieruka registers.
pub const TABLE_FUNCTIONS: [&str; 9] = [
    "hotspot_items",
    "hotspot_findings",
    "hotspot_quality",
    "hotspot_gaps",
    "hotspot_uncertainty",
    "gx_scores",
    "whatif_rows",
    "whatif_summary",
    "whatif_changes",
];

/// Table functions called in `statement`'s FROM clauses.
fn table_functions(statement: &Statement) -> Vec<String> {
    struct Calls(Vec<String>);
    impl ast::Visitor for Calls {
        type Break = ();
        fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
            let name = match t {
                TableFactor::Table {
                    name,
                    args: Some(_),
                    ..
                } => Some(name.to_string()),
                TableFactor::Function { name, .. } => Some(name.to_string()),
                _ => None,
            };
            if let Some(n) = name.map(|n| n.to_ascii_lowercase())
                && !self.0.contains(&n)
            {
                self.0.push(n);
            }
            ControlFlow::Continue(())
        }
    }
    let mut calls = Calls(Vec::new());
    let _ = ast::Visit::visit(statement, &mut calls);
    calls.0
}

/// Names of `$placeholders` in `sql`, skipping string literals, quoted identifiers and comments.
pub fn placeholders(sql: &str) -> Vec<String> {
    let b = sql.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'$' => {
                let start = i + 1;
                i = start;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let name = &sql[start..i];
                if !name.is_empty() && !out.iter().any(|n| n == name) {
                    out.push(name.to_owned());
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn parse_param(id: &str, line: usize, text: &str) -> Result<Param> {
    let err = |m: String| Error::Query {
        id: id.to_owned(),
        message: format!("line {line}: {m}"),
    };
    let (spec, description) = match text.split_once(';') {
        Some((s, d)) => (s.trim(), d.trim().to_owned()),
        None => (text.trim(), String::new()),
    };
    let (head, default) = match spec.split_once('=') {
        Some((h, d)) => (h.trim(), Some(d.trim())),
        None => (spec, None),
    };
    let mut words = head.split_whitespace();
    let name = words
        .next()
        .map(|n| n.trim_start_matches('$'))
        .filter(|n| !n.is_empty())
        .ok_or_else(|| err("param line needs a name".into()))?;
    let ty_text = words.next().ok_or_else(|| {
        err(format!(
            "param {name} needs a type (text, int, decimal, float, bool, date)"
        ))
    })?;
    let ty = ParamType::parse(ty_text).ok_or_else(|| {
        err(format!(
            "param {name}: unknown type {ty_text:?} (text, int, decimal, float, bool, date)"
        ))
    })?;
    let rest = words.collect::<Vec<_>>().join(" ");
    let choices = match rest.strip_prefix("in ") {
        _ if rest.is_empty() => Vec::new(),
        Some(list) => {
            let list = list
                .trim()
                .strip_prefix('(')
                .and_then(|l| l.strip_suffix(')'))
                .ok_or_else(|| {
                    err(format!(
                        "param {name}: write its choices as `in (a, b, c)`, not {list:?}"
                    ))
                })?;
            let choices: Vec<String> = list.split(',').map(|c| c.trim().to_owned()).collect();
            if choices.iter().any(String::is_empty) {
                return Err(err(format!("param {name}: an empty choice in `in (…)`")));
            }
            for c in &choices {
                ty.value(c)
                    .map_err(|m| err(format!("param {name}: choice {c:?}: {m}")))?;
            }
            choices
        }
        None => {
            return Err(err(format!(
                "param {name}: unexpected {rest:?}; write `-- param: name type [in (a, b)] = default ; description`"
            )));
        }
    };
    let mut param = Param {
        name: name.to_owned(),
        ty,
        default: None,
        choices,
        description,
    };
    if let Some(d) = default {
        let d = d
            .strip_prefix('\'')
            .and_then(|d| d.strip_suffix('\''))
            .unwrap_or(d)
            .to_owned();
        let value = ty
            .value(&d)
            .map_err(|m| err(format!("param {name}: default {m}")))?;
        if !param.takes(&value) {
            return Err(err(format!(
                "param {name}: default {d:?} is not one of its choices ({})",
                param.choices.join(", ")
            )));
        }
        param.default = Some(d);
    }
    Ok(param)
}

/// Parses one SQL file of the catalog.
pub fn parse_query(id: &str, sql: &str) -> Result<QueryDef> {
    let err = |m: String| Error::Query {
        id: id.to_owned(),
        message: m,
    };
    let mut def = QueryDef {
        id: id.to_owned(),
        title: String::new(),
        description: String::new(),
        params: Vec::new(),
        returns: String::new(),
        sql: sql.to_owned(),
        engine: Engine::Sql,
    };
    for (n, line) in sql.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("--") else {
            if line.trim().is_empty() {
                continue;
            }
            break; // the header ends at the first SQL line
        };
        let rest = rest.trim();
        let Some((key, value)) = rest.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "title" => def.title = value.to_owned(),
            "description" => {
                if !def.description.is_empty() {
                    def.description.push(' ');
                }
                def.description.push_str(value);
            }
            "param" => def.params.push(parse_param(id, n + 1, value)?),
            "returns" => def.returns = value.to_owned(),
            _ => {}
        }
    }
    if def.title.is_empty() {
        return Err(err("missing `-- title:` header line".into()));
    }
    let used = placeholders(sql);
    for name in &used {
        if !def.params.iter().any(|p| &p.name == name) {
            return Err(err(format!(
                "${name} is used but not declared; add `-- param: {name} <type> = <default> ; <description>`"
            )));
        }
    }
    for p in &def.params {
        if !used.contains(&p.name) {
            return Err(err(format!("param {} is declared but never used", p.name)));
        }
    }
    let statements = Parser::parse_sql(&GenericDialect {}, sql)
        .map_err(|e| err(format!("SQL does not parse: {e}")))?;
    match statements.as_slice() {
        [q @ Statement::Query(_)] => {
            let calls = table_functions(q);
            if let Some(unknown) = calls
                .iter()
                .find(|c| !TABLE_FUNCTIONS.contains(&c.as_str()))
            {
                return Err(err(format!(
                    "calls unknown table function {unknown}; mieruka has {}",
                    TABLE_FUNCTIONS.join(", ")
                )));
            }
            if !calls.is_empty() {
                def.engine = Engine::Native(calls);
            }
        }
        [_] => return Err(err("the statement is not a read-only query".into())),
        _ => {
            return Err(err(format!(
                "expected exactly one statement, found {}",
                statements.len()
            )));
        }
    }
    Ok(def)
}

/// The query catalog, by id.
#[derive(Debug, Clone)]
pub struct Catalog {
    queries: BTreeMap<String, QueryDef>,
}

impl Catalog {
    /// The catalog compiled into the binary, parsed once per process.
    pub fn embedded() -> Result<&'static Catalog> {
        static EMBEDDED: std::sync::LazyLock<std::result::Result<Catalog, String>> =
            std::sync::LazyLock::new(|| {
                Catalog::from_files(embedded_queries().iter().map(|(id, sql)| (*id, *sql)))
                    .map_err(|e| e.to_string())
            });
        EMBEDDED
            .as_ref()
            .map_err(|e| Error::Internal(format!("the embedded query catalog: {e}")))
    }

    /// A catalog from `(id, sql)` pairs.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Catalog> {
        let mut queries = BTreeMap::new();
        for (id, sql) in files {
            queries.insert(id.to_owned(), parse_query(id, sql)?);
        }
        Ok(Catalog { queries })
    }

    /// Every query, by id.
    pub fn iter(&self) -> impl Iterator<Item = &QueryDef> {
        self.queries.values()
    }

    /// The query `id`.
    pub fn get(&self, id: &str) -> Result<&QueryDef> {
        self.queries.get(id).ok_or_else(|| Error::UnknownQuery {
            id: id.to_owned(),
            known: self.queries.keys().cloned().collect(),
        })
    }

    /// Binds `args` (`name → text`) to the declared parameters of `def`, with defaults;
    /// every value is checked against its type.
    pub fn bind(def: &QueryDef, args: &[(String, String)]) -> Result<HashMap<String, Bound>> {
        let err = |m: String| Error::Query {
            id: def.id.clone(),
            message: m,
        };
        let mut values = HashMap::new();
        for (name, text) in args {
            let name = name.trim_start_matches('$');
            let p = def.params.iter().find(|p| p.name == name).ok_or_else(|| {
                let known: Vec<String> =
                    def.params.iter().map(|p| format!("${}", p.name)).collect();
                err(format!(
                    "unknown parameter ${name}; this query takes {}",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ))
            })?;
            let value = p
                .value(text)
                .map_err(|m| err(format!("parameter ${name}: {m}")))?;
            values.insert(name.to_owned(), Bound { ty: p.ty, value });
        }
        for p in &def.params {
            if values.contains_key(&p.name) {
                continue;
            }
            let d = p.default.as_ref().ok_or_else(|| {
                err(format!(
                    "parameter ${} ({}) is required: pass --param {}=…",
                    p.name,
                    p.ty.as_str(),
                    p.name
                ))
            })?;
            let value =
                p.ty.value(d)
                    .map_err(|m| err(format!("default of ${}: {m}", p.name)))?;
            values.insert(p.name.clone(), Bound { ty: p.ty, value });
        }
        Ok(values)
    }
}

/// A parameter value, checked against its declared type.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// Declared type.
    pub ty: ParamType,
    /// The value.
    pub value: ScalarValue,
}

impl Bound {
    /// The value as a typed SQL literal node (never as text spliced into SQL): strings are
    /// string-literal nodes, numbers number nodes, decimals and dates CASTs of a string node.
    fn to_sql(&self) -> SqlExpr {
        let string = |s: String| SqlExpr::value(Value::SingleQuotedString(s));
        let cast = |s: String, data_type: ast::DataType| SqlExpr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(string(s)),
            data_type,
            array: false,
            format: None,
        };
        match &self.value {
            ScalarValue::Utf8(Some(s)) => string(s.clone()),
            ScalarValue::Int64(Some(n)) => SqlExpr::value(Value::Number(n.to_string(), false)),
            ScalarValue::Float64(Some(f)) => cast(
                format!("{f:?}"),
                ast::DataType::Double(ast::ExactNumberInfo::None),
            ),
            ScalarValue::Boolean(Some(b)) => SqlExpr::value(Value::Boolean(*b)),
            ScalarValue::Decimal128(Some(v), p, sc) => cast(
                crate::model::fixed::format(*v, (*sc).max(0) as u32),
                ast::DataType::Decimal(ExactNumberInfo::PrecisionAndScale(
                    u64::from(*p),
                    (*sc).max(0) as i64,
                )),
            ),
            ScalarValue::Date32(Some(days)) => {
                // Days from 1970-01-01, either way (a parameter's date may be earlier).
                let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).and_then(|e| {
                    e.checked_add_signed(chrono::TimeDelta::try_days((*days).into())?)
                });
                match date {
                    Some(d) => cast(d.to_string(), ast::DataType::Date),
                    None => string(days.to_string()),
                }
            }
            other => string(other.to_string()),
        }
    }
}

/// Replaces every `$name` placeholder in `statement` by its bound value.
pub(super) fn bind_statement(
    id: &str,
    statement: &mut DfStatement,
    values: &HashMap<String, Bound>,
) -> Result<()> {
    let DfStatement::Statement(inner) = statement else {
        return Err(Error::Query {
            id: id.to_owned(),
            message: "not a query".into(),
        });
    };
    let mut missing = None;
    let _ = visit_expressions_mut(inner.as_mut(), |e| {
        if let SqlExpr::Value(v) = e
            && let Value::Placeholder(p) = &v.value
        {
            let name = p.trim_start_matches('$');
            match values.get(name) {
                Some(b) => *e = b.to_sql(),
                None => {
                    missing = Some(name.to_owned());
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    });
    match missing {
        Some(name) => Err(Error::Query {
            id: id.to_owned(),
            message: format!("${name} has no value"),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_skip_strings_and_comments() {
        let sql =
            "-- uses $nope\nSELECT '$no', \"$x\", $a /* $b */ FROM t WHERE c = $a_b AND d = $a";
        assert_eq!(placeholders(sql), vec!["a".to_owned(), "a_b".to_owned()]);
    }

    #[test]
    fn header_and_parameters_are_checked() {
        let ok = "-- title: T\n-- param: n int = 5 ; how many\nSELECT $n";
        let def = parse_query("x/y", ok).unwrap();
        assert_eq!(def.params[0].default.as_deref(), Some("5"));
        assert_eq!(def.params[0].description, "how many");

        let undeclared = "-- title: T\nSELECT $n";
        assert!(
            parse_query("x", undeclared)
                .unwrap_err()
                .to_string()
                .contains("not declared")
        );
        let unused = "-- title: T\n-- param: n int = 1\nSELECT 1";
        assert!(
            parse_query("x", unused)
                .unwrap_err()
                .to_string()
                .contains("never used")
        );
        let two = "-- title: T\nSELECT 1; SELECT 2";
        assert!(
            parse_query("x", two)
                .unwrap_err()
                .to_string()
                .contains("exactly one")
        );
        let ddl = "-- title: T\nDROP TABLE footprints";
        assert!(
            parse_query("x", ddl)
                .unwrap_err()
                .to_string()
                .contains("read-only")
        );
        let bad_default = "-- title: T\n-- param: n int = many\nSELECT $n";
        assert!(parse_query("x", bad_default).is_err());
    }

    #[test]
    fn parameters_bind_typed() {
        let def = parse_query(
            "q",
            "-- title: T\n-- param: d date\n-- param: k decimal = 1.5\nSELECT $d, $k",
        )
        .unwrap();
        let err = Catalog::bind(&def, &[]).unwrap_err().to_string();
        assert!(err.contains("required"), "{err}");
        let v = Catalog::bind(&def, &[("d".into(), "2024-01-02".into())]).unwrap();
        assert_eq!(v["d"].value, ScalarValue::Date32(Some(19724)));
        assert_eq!(v["d"].to_sql().to_string(), "CAST('2024-01-02' AS DATE)");
        // Before 1970: -3,653 days (1960-01-01), written back as that date.
        let v = Catalog::bind(&def, &[("d".into(), "1960-01-01".into())]).unwrap();
        assert_eq!(v["d"].value, ScalarValue::Date32(Some(-3653)));
        assert_eq!(v["d"].to_sql().to_string(), "CAST('1960-01-01' AS DATE)");
        assert_eq!(v["k"].to_sql().to_string(), "CAST('1.5' AS DECIMAL(38,12))");
        let err = Catalog::bind(&def, &[("d".into(), "soon".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("a date like"), "{err}");
        let err = Catalog::bind(&def, &[("zz".into(), "1".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown parameter $zz"), "{err}");
    }

    #[test]
    fn parameters_with_choices_take_only_those() {
        let def = parse_query(
            "q",
            "-- title: T\n-- param: by text in (score, pds) = 'score' ; rank by\nSELECT $by",
        )
        .unwrap();
        assert_eq!(def.params[0].choices, ["score", "pds"]);
        assert_eq!(def.params[0].description, "rank by");
        let v = Catalog::bind(&def, &[("by".into(), "pds".into())]).unwrap();
        assert_eq!(v["by"].value, ScalarValue::Utf8(Some("pds".into())));
        assert_eq!(
            Catalog::bind(&def, &[]).unwrap()["by"].value,
            ScalarValue::Utf8(Some("score".into()))
        );
        // A near miss is refused, naming what it takes: no silent fallback to the default.
        for bad in ["nope", "PDS", " pds", ""] {
            let err = Catalog::bind(&def, &[("by".into(), bad.into())])
                .unwrap_err()
                .to_string();
            assert!(err.contains("is not one of score, pds"), "{bad:?}: {err}");
        }
        // A long value is quoted in part, with its length.
        let long = "x".repeat(100_000);
        let err = Catalog::bind(&def, &[("by".into(), long)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "\"{}\"… (100000 characters) is not one of",
                "x".repeat(60)
            )),
            "{}",
            &err[..err.len().min(300)]
        );
        // Other types compare as values.
        let def =
            parse_query("q", "-- title: T\n-- param: n int in (1, 2) = 1\nSELECT $n").unwrap();
        let v = Catalog::bind(&def, &[("n".into(), "02".into())]).unwrap();
        assert_eq!(v["n"].value, ScalarValue::Int64(Some(2)));
        let err = Catalog::bind(&def, &[("n".into(), "3".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"3\" is not one of 1, 2"), "{err}");
        // Declarations that cannot be right are refused when the catalog loads.
        for (header, says) in [
            ("by text in (score, pds) = 'rank'", "not one of its choices"),
            ("by text in score, pds = 'score'", "in (a, b, c)"),
            ("by text in (score, , pds)", "empty choice"),
            ("n int in (1, many) = 1", "choice \"many\""),
            ("by text within (a)", "unexpected \"within (a)\""),
        ] {
            let sql = format!(
                "-- title: T\n-- param: {header}\nSELECT ${}",
                &header[..header.find(' ').unwrap()]
            );
            let err = parse_query("q", &sql).unwrap_err().to_string();
            assert!(err.contains(says), "{header}: {err}");
        }
    }
}
