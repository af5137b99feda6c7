//! The query catalog (`queries/**/*.sql`) and the DataFusion session it runs in.
//!
//! A query's id is its path under `queries/` without `.sql`. Each file holds one read-only
//! statement after a header of `--` lines:
//!
//! ```sql
//! -- title: Footprints by company
//! -- description: One row per company with its footprint count and mean CFP.
//! -- param: company text = '' ; Only this company (empty: all)
//! -- returns: company_name, footprints, mean_cfp_kgco2e_per_unit
//! SELECT …  WHERE ($company = '' OR company_name = $company)
//! ```
//!
//! Parameters are DataFusion `$name` placeholders bound as typed values, never text spliced
//! into SQL. A parameter used but not declared, or declared but not used, is a load error, as
//! is a file holding anything but a single query. The session holds the tables of
//! [`crate::table`]; ad-hoc SQL runs with DDL, DML and statements disabled.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use std::ops::ControlFlow;

use datafusion::common::ScalarValue;
use datafusion::common::config::Dialect;
use datafusion::datasource::MemTable;
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    self as ast, CastKind, ExactNumberInfo, Expr as SqlExpr, Statement, TableFactor, Value,
    visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use rust_decimal::Decimal;

use crate::hotspot::{self, GraphSource};
use crate::score::{GxScoresFunction, Profile, ScoreSource};
use crate::table::{self, Tables};
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
        let bad = || format!("expected {}, got {text:?}", self.describe());
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
    /// What it means.
    pub description: String,
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
pub const TABLE_FUNCTIONS: [&str; 4] = [
    "hotspot_items",
    "hotspot_findings",
    "hotspot_quality",
    "gx_scores",
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
    if let Some(extra) = words.next() {
        return Err(err(format!(
            "param {name}: unexpected {extra:?}; write `-- param: name type = default ; description`"
        )));
    }
    let default = match default {
        None => None,
        Some(d) => {
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(d)
                .to_owned();
            ty.value(&d)
                .map_err(|m| err(format!("param {name}: default {m}")))?;
            Some(d)
        }
    };
    Ok(Param {
        name: name.to_owned(),
        ty,
        default,
        description,
    })
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
            let value =
                p.ty.value(text)
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
fn bind_statement(
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

/// A query result: schema and batches.
#[derive(Debug, Clone)]
pub struct Output {
    /// Result schema.
    pub schema: SchemaRef,
    /// Result rows.
    pub batches: Vec<RecordBatch>,
}

impl Output {
    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// A DataFusion session over a loaded dataset.
#[derive(Clone)]
pub struct Session {
    ctx: SessionContext,
    graph: Arc<GraphSource>,
    scores: Arc<ScoreSource>,
}

/// The tables every session with data registers (the views in [`create_views`] read them).
const TABLES: [&str; 6] = [
    "footprints",
    "footprint_extensions",
    "bom",
    "bom_history",
    "ingest_log",
    "gx_attributes",
];

/// The views over [`TABLES`]: `footprints_latest`, the newest version of each footprint.
async fn create_views(ctx: &SessionContext) -> datafusion::error::Result<()> {
    ctx.sql("CREATE VIEW footprints_latest AS SELECT * FROM footprints WHERE is_latest")
        .await?;
    Ok(())
}

fn register(ctx: &SessionContext, name: &str, batches: Vec<RecordBatch>) -> Result<()> {
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .ok_or_else(|| Error::Internal(format!("table {name} has no batch")))?;
    let table = MemTable::try_new(schema, vec![batches])?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

/// Registers `hotspot_items`, `hotspot_findings` and `hotspot_quality` over `graph`.
fn register_hotspot_functions(ctx: &SessionContext, graph: &Arc<GraphSource>) {
    for (name, output) in [
        ("hotspot_items", hotspot::Output::Items),
        ("hotspot_findings", hotspot::Output::Findings),
        ("hotspot_quality", hotspot::Output::Quality),
    ] {
        ctx.register_udtf(
            name,
            Arc::new(hotspot::HotspotItemsFunction::new(graph.clone(), output)),
        );
    }
}

impl Session {
    /// Registers `footprints` (with `is_latest`), `footprints_latest`, `footprint_extensions`,
    /// `bom` (current edges), `bom_history` (every stored edge) and `ingest_log`, and the
    /// native table functions `hotspot_items`, `hotspot_findings` and `hotspot_quality`.
    pub async fn new(tables: &Tables) -> Result<Session> {
        Session::with_profile(tables, Profile::default_profile()).await
    }

    /// [`Session::new`] with `profile` for `gx_scores()` instead of the default `gxd-2025`.
    pub async fn with_profile(tables: &Tables, profile: Profile) -> Result<Session> {
        Session::with_graph(tables, profile, None).await
    }

    /// [`Session::with_profile`] whose hotspot functions walk `graph` (from a data
    /// directory's graph index) instead of a graph built from `tables` on first use.
    pub async fn with_graph(
        tables: &Tables,
        profile: Profile,
        graph: Option<Arc<hotspot::Graph>>,
    ) -> Result<Session> {
        let ctx = SessionContext::new();
        let footprints = tables.footprints_view()?;
        let bom = tables.bom_view()?;
        // In the order of TABLES.
        let views = [
            footprints.clone(),
            tables.extensions_view(),
            bom.clone(),
            tables.bom_history_view(),
            tables.ingest_log_view(),
            tables.gx_view()?,
        ];
        for (name, batches) in TABLES.into_iter().zip(views) {
            register(&ctx, name, batches)?;
        }
        create_views(&ctx).await?;
        let graph = Arc::new(match graph {
            Some(g) => GraphSource::from_graph(g),
            None => GraphSource::new(footprints, bom),
        });
        register_hotspot_functions(&ctx, &graph);
        let scores = Arc::new(ScoreSource::new(tables.clone(), profile));
        ctx.register_udtf("gx_scores", Arc::new(GxScoresFunction::new(scores.clone())));
        Ok(Session { ctx, graph, scores })
    }

    /// A session with only the hotspot table functions, over `graph`: what the `hotspots`
    /// command needs, without reading a table (the `hotspot/` queries read nothing else).
    pub async fn for_graph(graph: Arc<hotspot::Graph>) -> Result<Session> {
        let ctx = SessionContext::new();
        let graph = Arc::new(GraphSource::from_graph(graph));
        register_hotspot_functions(&ctx, &graph);
        let scores = Arc::new(ScoreSource::new(
            Tables::default(),
            Profile::default_profile(),
        ));
        Ok(Session { ctx, graph, scores })
    }

    /// The products' GX inputs and scores under the session's profile, computed on first use.
    pub fn scores(&self) -> Result<Arc<(crate::score::Inputs, crate::score::Scores)>> {
        self.scores.get()
    }

    /// The session's scoring profile.
    pub fn profile(&self) -> &Profile {
        self.scores.profile()
    }

    /// The DataFusion context, for callers that register more (table functions, views).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The supply-chain graph of the dataset, built on first use.
    pub fn graph(&self) -> Result<Arc<hotspot::Graph>> {
        self.graph.get()
    }

    /// Decomposes `req` on the session's graph; the hotspot table functions asked the same
    /// question next answer from this decomposition.
    pub fn decompose(&self, req: &hotspot::Request) -> Result<Arc<hotspot::Decomposition>> {
        self.graph.decompose(req)
    }

    /// Runs a catalog query with `args`.
    pub async fn run(&self, def: &QueryDef, args: &[(String, String)]) -> Result<Output> {
        let values = Catalog::bind(def, args)?;
        let wrap = |e: datafusion::error::DataFusionError| match raised(&e) {
            Some(e) => e,
            None => Error::QueryFailed {
                id: def.id.clone(),
                source: e,
            },
        };
        let state = self.ctx.state();
        let mut statement = state
            .sql_to_statement(&def.sql, &Dialect::Generic)
            .map_err(wrap)?;
        bind_statement(&def.id, &mut statement, &values)?;
        let plan = state.statement_to_plan(statement).await.map_err(wrap)?;
        let df = self.ctx.execute_logical_plan(plan).await.map_err(wrap)?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(wrap)?;
        Ok(Output { schema, batches })
    }

    /// Runs ad-hoc read-only SQL within limits: at most `memory_bytes` of query memory, at
    /// most `max_rows` rows (more is an error, not a silent cut), and `timeout` in all.
    pub async fn sql_limited(
        &self,
        sql: &str,
        memory_bytes: usize,
        max_rows: usize,
        timeout: std::time::Duration,
    ) -> std::result::Result<Output, SqlLimit> {
        use datafusion::execution::runtime_env::RuntimeEnvBuilder;
        use futures::StreamExt;

        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(memory_bytes, 1.0)
            .build_arc()
            .map_err(|e| SqlLimit::Failed(Error::from(e)))?;
        let ctx = SessionContext::new_with_config_rt(self.ctx.copied_config(), runtime);
        for name in TABLES {
            let provider = self
                .ctx
                .table_provider(name)
                .await
                .map_err(|e| SqlLimit::Failed(Error::from(e)))?;
            ctx.register_table(name, provider)
                .map_err(|e| SqlLimit::Failed(Error::from(e)))?;
        }
        for name in TABLE_FUNCTIONS {
            if let Ok(f) = self.ctx.table_function(name) {
                ctx.register_udtf(name, f.function().clone());
            }
        }
        create_views(&ctx)
            .await
            .map_err(|e| SqlLimit::Failed(Error::from(e)))?;
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let run = async {
            let wrap = |e: datafusion::error::DataFusionError| match e.find_root() {
                datafusion::error::DataFusionError::ResourcesExhausted(m) => {
                    SqlLimit::Memory(m.clone())
                }
                _ => SqlLimit::Failed(match raised(&e) {
                    Some(e) => e,
                    None => Error::QueryFailed {
                        id: "sql".into(),
                        source: e,
                    },
                }),
            };
            let df = ctx.sql_with_options(sql, options).await.map_err(wrap)?;
            let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            let mut stream = df.execute_stream().await.map_err(wrap)?;
            let mut batches = Vec::new();
            let mut rows = 0;
            while let Some(b) = stream.next().await {
                let b = b.map_err(wrap)?;
                rows += b.num_rows();
                if rows > max_rows {
                    return Err(SqlLimit::Rows(max_rows));
                }
                batches.push(b);
            }
            Ok(Output { schema, batches })
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(SqlLimit::Time(timeout)),
        }
    }

    /// Runs ad-hoc read-only SQL: DDL, DML and other statements are refused.
    pub async fn sql(&self, sql: &str) -> Result<Output> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let wrap = |e: datafusion::error::DataFusionError| match raised(&e) {
            Some(e) => e,
            None => Error::QueryFailed {
                id: "sql".into(),
                source: e,
            },
        };
        let df = self
            .ctx
            .sql_with_options(sql, options)
            .await
            .map_err(wrap)?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(wrap)?;
        Ok(Output { schema, batches })
    }
}

/// What a statement reads: the stored tables it names and whether it calls the hotspot
/// functions (which walk the graph index, not the tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reads {
    /// Tables and views named.
    pub tables: table::TableSet,
    /// `hotspot_items`, `hotspot_findings` or `hotspot_quality` is called.
    pub graph: bool,
}

/// What `sql` reads, or `None` when that cannot be told for certain (it does not parse, is
/// more than one statement, names something unknown, or scores products: `gx_scores` reads
/// every table); a caller then reads everything.
pub fn reads(sql: &str) -> Option<Reads> {
    let ctx = SessionContext::new();
    let state = ctx.state();
    let statement = state.sql_to_statement(sql, &Dialect::Generic).ok()?;
    let mut reads = Reads {
        tables: table::TableSet::NONE,
        graph: false,
    };
    for r in state.resolve_table_references(&statement).ok()? {
        if r.schema().is_some() {
            return None;
        }
        match r.table() {
            "hotspot_items" | "hotspot_findings" | "hotspot_quality" => reads.graph = true,
            name => {
                if !reads.tables.add(name) {
                    return None;
                }
            }
        }
    }
    Some(reads)
}

/// The [`Error::NotFound`] or [`Error::OutOfRange`] a table function raised inside `e`, if
/// any, so callers answer it as such (404, 422) rather than as a failed query.
fn raised(e: &datafusion::error::DataFusionError) -> Option<Error> {
    match e.find_root() {
        datafusion::error::DataFusionError::External(inner) => {
            match inner.downcast_ref::<Error>() {
                Some(Error::NotFound(m)) => Some(Error::NotFound(m.clone())),
                Some(Error::OutOfRange { footprint, message }) => Some(Error::OutOfRange {
                    footprint: footprint.clone(),
                    message: message.clone(),
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Why limited ad-hoc SQL stopped.
#[derive(Debug)]
pub enum SqlLimit {
    /// It needed more memory than allowed.
    Memory(String),
    /// It returned more rows than allowed.
    Rows(usize),
    /// It ran longer than allowed.
    Time(std::time::Duration),
    /// It failed for another reason (bad SQL, a refused statement, …).
    Failed(Error),
}

/// Whether a column type is one of the exact amount types.
pub fn is_decimal(t: &DataType) -> bool {
    matches!(t, DataType::Decimal128(_, _))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_the_tables_a_statement_reads() {
        let r = reads(
            "WITH x AS (SELECT * FROM ingest_log) SELECT count(*) FROM x \
             JOIN footprints_latest f ON true WHERE EXISTS (SELECT 1 FROM gx_attributes)",
        )
        .expect("known");
        assert_eq!(
            r.tables,
            table::TableSet {
                footprints: true,
                ingest_log: true,
                gx_attributes: true,
                ..table::TableSet::NONE
            }
        );
        assert!(!r.graph);
        let r = reads("SELECT * FROM hotspot_items($product, 10, 0, '', '')").expect("known");
        assert_eq!((r.tables, r.graph), (table::TableSet::NONE, true));
        // A CTE is not a table; a name that is neither is not guessed at.
        let r = reads("WITH bom AS (SELECT 1 AS n) SELECT * FROM bom").expect("known");
        assert_eq!(r.tables, table::TableSet::NONE);
        assert_eq!(reads("SELECT * FROM nowhere"), None);
        assert_eq!(reads("SELECT * FROM gx_scores()"), None);
        assert_eq!(reads("SELECT * FROM other.footprints"), None);
        assert_eq!(reads("SELEC"), None);
    }

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
}
