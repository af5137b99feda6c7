//! What keeps ad-hoc SQL from taking a server down or answering wrong: its own threads, a
//! size limit on the statement and on how deep its expressions nest, a refusal of the
//! functions whose memory the engine does not account for and of the joins it could not stop,
//! and integer arithmetic that fails rather than wraps (`CheckedSums`, a logical rule, for `sum`; [`checked_arithmetic`], on the
//! physical plan, for `+ - *`).
//!
//! DataFusion's memory pool counts what operators hold (sorts, joins, aggregates), not what
//! a scalar function allocates for its result: `repeat('x', 1000000000)` or
//! `cardinality(range(1, 200000000))` builds gigabytes inside one call, past any pool. Such
//! a function is allowed only with literal arguments that bound its result small; anything
//! else is refused before it runs, with the reason. The time limit is kept by running the
//! query on threads of its own and dropping it when time is up, which cancels its tasks at
//! their next batch.

use std::ops::ControlFlow;
use std::sync::OnceLock;

use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::sql::sqlparser::ast;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::{Error, Result};

/// Longest ad-hoc statement, bytes.
pub const MAX_SQL_BYTES: usize = 256 * 1024;

/// Largest count `lpad`/`rpad` may pad to, and the largest element count of a literal
/// `range`/`generate_series` array: at DataFusion's 8,192 rows a batch, at most a few tens
/// of megabytes per batch.
pub const MAX_GROWTH: i64 = 1000;

/// Refuses a statement longer than [`MAX_SQL_BYTES`].
pub fn check_size(sql: &str) -> Result<()> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(Error::Usage(format!(
            "SQL: the statement is {} bytes; at most {MAX_SQL_BYTES} are accepted",
            sql.len()
        )));
    }
    Ok(())
}

/// Refuses `plan` (as planned, before optimisation folds constants) when it calls a function
/// whose result size is set by an argument rather than by its inputs, unless literal
/// arguments bound that size:
///
/// - `repeat`, `array_repeat` (`list_repeat`): refused; their result is a multiple of an
///   input by a count, which one call can make gigabytes;
/// - `lpad`, `rpad`: the length a literal of at most [`MAX_GROWTH`];
/// - `range`, `generate_series` as array functions (the table functions in `FROM` stream
///   in batches and are not concerned): literal bounds giving at most [`MAX_GROWTH`]
///   elements;
/// - `replace`: the replacement a literal no longer than the literal it replaces, so the
///   result is never longer than the input; `regexp_replace`: the replacement a literal of at
///   most one character.
pub fn check_growth(plan: &LogicalPlan) -> Result<()> {
    let mut refused: Option<String> = None;
    plan.apply_with_subqueries(|node| {
        node.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::ScalarFunction(f) = e
                    && let Some(why) = refusal(f.func.name(), &f.args)
                {
                    refused = Some(why);
                    return Ok(TreeNodeRecursion::Stop);
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    })?;
    match refused {
        Some(why) => Err(Error::Usage(format!(
            "SQL: {why}: the engine cannot account for the memory its result takes, so \
             ad-hoc SQL over the server refuses it (`mieruka query` on your own machine runs \
             it)"
        ))),
        None => Ok(()),
    }
}

/// Why a call of `name` with `args` is refused, if it is.
fn refusal(name: &str, args: &[Expr]) -> Option<String> {
    match name {
        "repeat" | "array_repeat" => Some(format!("{name}(…) makes a result of any size")),
        "lpad" | "rpad" => match args.get(1).and_then(int) {
            Some(n) if n <= MAX_GROWTH => None,
            _ => Some(format!(
                "{name}(…, n) needs n as a number of at most {MAX_GROWTH}"
            )),
        },
        "range" | "generate_series" => {
            let bounds: Option<Vec<i64>> = args.iter().map(int).collect();
            let count = bounds.and_then(|b| match b.as_slice() {
                [stop] => Some(i128::from(*stop)),
                [start, stop] => Some(i128::from(*stop) - i128::from(*start)),
                [start, stop, step] if *step != 0 => {
                    Some((i128::from(*stop) - i128::from(*start)) / i128::from(*step))
                }
                _ => None,
            });
            match count {
                Some(n) if n <= i128::from(MAX_GROWTH) => None,
                _ => Some(format!(
                    "{name}(…) as an array needs number bounds giving at most {MAX_GROWTH} \
                     elements (in FROM, the table function {name}(…) has no such limit)"
                )),
            }
        }
        "replace" => match (args.get(1).and_then(text), args.get(2).and_then(text)) {
            (Some(from), Some(to)) if to.len() <= from.len() => None,
            _ => Some(
                "replace(s, from, to) needs from and to as text with to no longer than from".into(),
            ),
        },
        "regexp_replace" => match args.get(2).and_then(text) {
            Some(to) if to.chars().count() <= 1 => None,
            _ => Some(
                "regexp_replace(s, pattern, to) needs to as text of at most one character".into(),
            ),
        },
        _ => None,
    }
}

/// An integer literal's value.
fn int(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(v, _) => match v {
            ScalarValue::Int8(Some(n)) => Some(i64::from(*n)),
            ScalarValue::Int16(Some(n)) => Some(i64::from(*n)),
            ScalarValue::Int32(Some(n)) => Some(i64::from(*n)),
            ScalarValue::Int64(Some(n)) => Some(*n),
            ScalarValue::UInt8(Some(n)) => Some(i64::from(*n)),
            ScalarValue::UInt16(Some(n)) => Some(i64::from(*n)),
            ScalarValue::UInt32(Some(n)) => Some(i64::from(*n)),
            ScalarValue::UInt64(Some(n)) => i64::try_from(*n).ok(),
            _ => None,
        },
        Expr::Negative(inner) => int(inner).and_then(i64::checked_neg),
        _ => None,
    }
}

/// A text literal's value.
fn text(e: &Expr) -> Option<&str> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
            _,
        ) => Some(s),
        _ => None,
    }
}

/// Most row pairs a join without an equality condition may test.
///
/// Such a join (`ON a.x < b.y`, a filter over several tables, a cross join) runs as a nested
/// loop, pairing each batch of one side with every row of the other; while no pair
/// matches, it returns nothing, and nothing above it gets a turn at which the query could
/// be stopped. Measured here, 48⁵ = 255 million pairs of footprint ids went on computing for
/// seconds after the query was dropped. A plan whose joins would test more pairs than this,
/// by the row counts the engine knows, is refused before it runs; one whose sides' row
/// counts cannot be told (a table function such as `range(…)`) too.
pub const MAX_JOIN_PAIRS: usize = 100_000_000;

/// Refuses a physical plan with a nested-loop or cross join over [`MAX_JOIN_PAIRS`] row
/// pairs, or over a side whose row count the engine cannot tell.
pub fn check_joins(
    plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) -> Result<()> {
    use datafusion::physical_plan::ExecutionPlan;
    use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
    let stats = StatisticsContext::new();
    let rows = |p: &dyn ExecutionPlan| {
        stats
            .compute(p, &StatisticsArgs::new())
            .ok()
            .and_then(|s| s.num_rows.get_value().copied())
    };
    let mut refused = None;
    plan.apply(|node| {
        if matches!(node.name(), "NestedLoopJoinExec" | "CrossJoinExec")
            && let [left, right] = node.children()[..]
        {
            let pairs = rows(left.as_ref()).zip(rows(right.as_ref()));
            if pairs.is_none_or(|(l, r)| l.saturating_mul(r) > MAX_JOIN_PAIRS) {
                refused = Some(pairs);
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    let fix = "join on equal columns (`ON a.x = b.y`), or narrow a side first";
    match refused {
        Some(Some((l, r))) => Err(Error::Usage(format!(
            "SQL: a join without an equality condition would test {l} × {r} row pairs, more \
             than {MAX_JOIN_PAIRS}, computing where the query could not be stopped; {fix}"
        ))),
        Some(None) => Err(Error::Usage(format!(
            "SQL: a join without an equality condition over a side whose size cannot be told \
             beforehand (a table function such as range(…)) could compute where the query \
             could not be stopped; {fix}"
        ))),
        None => Ok(()),
    }
}

/// Integer sums computed without wrapping.
///
/// DataFusion 55 adds BIGINT values with wrapping arithmetic: `sum(a.value * b.value)` over
/// a large cross join wraps past 2⁶³ to a wrong number without an error. This rule has each
/// `sum` of an integer column add in `DECIMAL(38, 0)` (exact far past any BIGINT sum) and
/// casts the total back to the sum's own type, which fails with an error when it does not
/// fit: the answer is right, or there is none. `sum(…) OVER (…)` windows still wrap.
#[derive(Debug)]
pub(crate) struct CheckedSums;

impl datafusion::optimizer::OptimizerRule for CheckedSums {
    fn name(&self) -> &str {
        "mieruka_checked_sums"
    }

    fn apply_order(&self) -> Option<datafusion::optimizer::ApplyOrder> {
        Some(datafusion::optimizer::ApplyOrder::BottomUp)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn datafusion::optimizer::OptimizerConfig,
    ) -> datafusion::error::Result<datafusion::common::tree_node::Transformed<LogicalPlan>> {
        use datafusion::arrow::datatypes::DataType;
        use datafusion::common::tree_node::Transformed;
        use datafusion::logical_expr::expr::AggregateFunction;
        use datafusion::logical_expr::{Aggregate, ExprSchemable, Projection, cast};

        let LogicalPlan::Aggregate(agg) = plan else {
            return Ok(Transformed::no(plan));
        };
        let input = agg.input.schema();
        let mut rewritten = vec![false; agg.aggr_expr.len()];
        let mut exprs = Vec::with_capacity(agg.aggr_expr.len());
        for (k, e) in agg.aggr_expr.iter().enumerate() {
            let inner = match e {
                Expr::Alias(a) => a.expr.as_ref(),
                e => e,
            };
            if let Expr::AggregateFunction(AggregateFunction { func, params }) = inner
                && func.name() == "sum"
                && let [arg] = params.args.as_slice()
                && let Ok(t) = arg.get_type(input)
                && matches!(
                    t,
                    DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
                )
            {
                let mut params = params.clone();
                params.args = vec![cast(arg.clone(), DataType::Decimal128(38, 0))];
                let tmp = format!("__mieruka_checked_sum_{k}");
                exprs.push(
                    Expr::AggregateFunction(AggregateFunction {
                        func: func.clone(),
                        params,
                    })
                    .alias(&tmp),
                );
                rewritten[k] = true;
                continue;
            }
            exprs.push(e.clone());
        }
        if !rewritten.contains(&true) {
            return Ok(Transformed::no(LogicalPlan::Aggregate(agg)));
        }
        let before = agg.schema.clone();
        let groups = before.fields().len() - agg.aggr_expr.len();
        let checked = Aggregate::try_new(agg.input.clone(), agg.group_expr.clone(), exprs)?;
        let after = checked.schema.clone();
        let mut out = Vec::with_capacity(before.fields().len());
        for (j, (qualifier, field)) in before.iter().enumerate() {
            let (new_qualifier, new_field) = after.qualified_field(j);
            let column = Expr::Column(datafusion::common::Column::new(
                new_qualifier.cloned(),
                new_field.name(),
            ));
            let e = if j.checked_sub(groups).is_some_and(|k| rewritten[k]) {
                cast(column, field.data_type().clone())
            } else {
                column
            };
            out.push(e.alias_qualified(qualifier.cloned(), field.name()));
        }
        Ok(Transformed::yes(LogicalPlan::Projection(
            Projection::try_new(out, std::sync::Arc::new(LogicalPlan::Aggregate(checked)))?,
        )))
    }
}

/// `plan` with integer `+`, `-` and `*` in its projections and filters checked: an overflow
/// is an error, not a wrapped number. DataFusion 55's `BinaryExpr` has the switch
/// (`with_fail_on_overflow`) but its planner leaves it off; this turns it on where the
/// expressions a query writes are evaluated (other operators' expressions, such as an
/// aggregate's arguments, are left as planned).
pub fn checked_arithmetic(
    plan: std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) -> Result<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
    use std::sync::Arc;

    use datafusion::common::tree_node::Transformed;
    use datafusion::logical_expr::Operator;
    use datafusion::physical_expr::expressions::BinaryExpr;
    use datafusion::physical_expr::{PhysicalExpr, projection::ProjectionExpr};
    use datafusion::physical_plan::ExecutionPlan;
    use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
    use datafusion::physical_plan::projection::ProjectionExec;

    fn checked(e: &Arc<dyn PhysicalExpr>) -> datafusion::error::Result<Arc<dyn PhysicalExpr>> {
        Arc::clone(e)
            .transform_up(|e| {
                if let Some(b) = e.downcast_ref::<BinaryExpr>()
                    && matches!(
                        b.op(),
                        Operator::Plus | Operator::Minus | Operator::Multiply
                    )
                {
                    let c = BinaryExpr::new(Arc::clone(b.left()), *b.op(), Arc::clone(b.right()))
                        .with_fail_on_overflow(true);
                    return Ok(Transformed::yes(Arc::new(c) as Arc<dyn PhysicalExpr>));
                }
                Ok(Transformed::no(e))
            })
            .map(|t| t.data)
    }

    let out = plan.transform_up(|node: Arc<dyn ExecutionPlan>| {
        if let Some(p) = node.downcast_ref::<ProjectionExec>() {
            let exprs = p
                .expr()
                .iter()
                .map(|e| {
                    Ok(ProjectionExpr {
                        expr: checked(&e.expr)?,
                        alias: e.alias.clone(),
                    })
                })
                .collect::<datafusion::error::Result<Vec<_>>>()?;
            let p = ProjectionExec::try_new(exprs, Arc::clone(p.input()))?;
            return Ok(Transformed::yes(Arc::new(p) as Arc<dyn ExecutionPlan>));
        }
        if let Some(f) = node.downcast_ref::<FilterExec>() {
            let g = FilterExecBuilder::new(checked(f.predicate())?, Arc::clone(f.input()))
                .with_default_selectivity(f.default_selectivity())
                .with_batch_size(f.batch_size())
                .apply_projection(f.projection().as_ref().map(|p| p.to_vec()))?
                .build()?;
            return Ok(Transformed::yes(Arc::new(g) as Arc<dyn ExecutionPlan>));
        }
        Ok(Transformed::no(node))
    })?;
    Ok(out.data)
}

/// The threads ad-hoc SQL runs on: one fewer than the cores (at least one), apart from the
/// threads that answer requests, so that a query computing for a long time leaves a core
/// for everything else, and one that runs past its time can be dropped from outside.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> =
        OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(cores.saturating_sub(1).max(1))
                .thread_name("mieruka-sql")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Internal(format!("the SQL threads could not start: {e}")))
}

/// The deepest nesting of expressions ad-hoc SQL may have. The planner recurses once per
/// level, so a statement much deeper (a chain of 2,000 `+`, 20,000 `OR`) exhausts its
/// thread's 2 MiB stack and aborts the process; a debug build already fails near 256. A
/// long list of `OR`s is written `x IN (…)`, which does not nest.
pub const MAX_EXPR_DEPTH: usize = 128;

/// Refuses `sql` when an expression in it nests deeper than [`MAX_EXPR_DEPTH`]. Text that
/// does not parse is left for the engine to report.
pub fn check_depth(sql: &str) -> Result<()> {
    /// Counts the depth going down and stops at the limit, before the walk itself gets deep.
    struct Depth(usize);
    impl ast::Visitor for Depth {
        type Break = ();
        fn pre_visit_expr(&mut self, _: &ast::Expr) -> ControlFlow<()> {
            self.0 += 1;
            if self.0 > MAX_EXPR_DEPTH {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
        fn post_visit_expr(&mut self, _: &ast::Expr) -> ControlFlow<()> {
            self.0 -= 1;
            ControlFlow::Continue(())
        }
    }
    let Ok(statements) = Parser::parse_sql(&GenericDialect {}, sql) else {
        return Ok(());
    };
    if statements
        .iter()
        .any(|s| ast::Visit::visit(s, &mut Depth(0)).is_break())
    {
        return Err(Error::Usage(format!(
            "SQL: an expression is nested more than {MAX_EXPR_DEPTH} deep (such as a chain of \
             {MAX_EXPR_DEPTH} AND, OR or +); write it flatter, e.g. `x IN (…)` for a long list of ORs"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    async fn growth(sql: &str) -> Result<()> {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t (s VARCHAR, n BIGINT) AS VALUES ('a', 1)")
            .await
            .expect("table");
        let plan = ctx.state().create_logical_plan(sql).await.expect("plans");
        check_growth(&plan)
    }

    #[tokio::test]
    async fn functions_that_grow_their_input_are_bounded_or_refused() {
        for ok in [
            "SELECT lpad(s, 10) FROM t",
            "SELECT cardinality(range(1, 1001))",
            "SELECT cardinality(generate_series(1, 100, 2))",
            "SELECT replace(s, '-', '') FROM t",
            "SELECT regexp_replace(s, '[0-9]+', '#') FROM t",
            "SELECT * FROM range(1, 100000000) LIMIT 1",
            "SELECT upper(s) FROM t WHERE n IN (SELECT n FROM t)",
        ] {
            growth(ok).await.unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (refused, why) in [
            ("SELECT length(repeat('x', 1000000000))", "repeat(…)"),
            ("SELECT cardinality(range(1, 200000000))", "range(…)"),
            ("SELECT cardinality(range(n)) FROM t", "range(…)"),
            ("SELECT array_repeat(1, 5)", "array_repeat(…)"),
            ("SELECT list_repeat(1, 5)", "array_repeat(…)"),
            ("SELECT rpad(s, 1000000) FROM t", "rpad(…, n)"),
            ("SELECT lpad(s, n) FROM t", "lpad(…, n)"),
            (
                "SELECT replace(s, 'a', 'aaaaaaaaaa') FROM t",
                "replace(s, from, to)",
            ),
            ("SELECT regexp_replace(s, 'a', s) FROM t", "regexp_replace("),
            (
                "SELECT 1 FROM t WHERE EXISTS (SELECT repeat(s, 9) FROM t)",
                "repeat(…)",
            ),
        ] {
            let e = growth(refused).await.expect_err(refused).to_string();
            assert!(e.contains(why), "{refused}: {e}");
        }
    }

    /// The join check on the plans of real statements, over the demo's 48 footprints.
    #[tokio::test]
    async fn joins_that_could_not_be_stopped_are_refused() {
        let tables = crate::dataset::demo().expect("demo");
        let session = crate::query::Session::new(&tables).await.expect("session");
        let check = |sql: &'static str| {
            let ctx = session.context().clone();
            async move {
                let df = ctx.sql(sql).await.expect("plans");
                let plan = df.create_physical_plan().await.expect("physical plan");
                check_joins(&plan)
            }
        };
        for ok in [
            "SELECT count(*) FROM footprints a JOIN footprints b ON a.id = b.id",
            "SELECT count(*) FROM footprints a, footprints b WHERE a.version < b.version",
            "SELECT f.id, t.n FROM footprints f, (SELECT count(*) AS n FROM footprints) t",
            // 48⁴ = 5,308,416 pairs in all.
            "SELECT count(*) FROM footprints a, footprints b, footprints c, footprints d \
             WHERE a.id || b.id || c.id || d.id = 'x'",
        ] {
            check(ok).await.unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (refused, why) in [
            // The last join pairs 48 rows with 48⁴: 254,803,968 pairs.
            (
                "SELECT count(*) FROM footprints a, footprints b, footprints c, footprints d, \
                 footprints e WHERE a.id || b.id || c.id || d.id || e.id = 'x'",
                "48 × 5308416 row pairs",
            ),
            (
                "SELECT a.value, b.value FROM range(1,100000) a, range(1,100000) b \
                 ORDER BY a.value DESC, b.value DESC LIMIT 5",
                "cannot be told",
            ),
        ] {
            let e = check(refused).await.expect_err(refused).to_string();
            assert!(e.contains(why), "{refused}: {e}");
        }
    }

    /// An integer sum past 2⁶³ is an error, not a wrapped number; sums that fit keep their
    /// type and value; GROUP BY columns and other aggregates pass through as they were.
    #[tokio::test]
    async fn integer_sums_never_wrap() {
        let ctx = SessionContext::new();
        ctx.add_optimizer_rule(std::sync::Arc::new(CheckedSums));
        let run = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let df = ctx.sql(sql).await?;
                datafusion::arrow::util::pretty::pretty_format_batches(&df.collect().await?)
                    .map(|t| t.to_string())
                    .map_err(Into::into)
            }
        };
        // i64::MAX + 1: DataFusion alone answers -9223372036854775808.
        let e: datafusion::error::Result<String> =
            run("SELECT sum(v) AS s FROM (VALUES (9223372036854775807), (1)) t(v)").await;
        let e = e.expect_err("overflow").to_string();
        assert!(e.contains("Int64") || e.contains("overflow"), "{e}");
        let t = run("SELECT g, sum(v) AS s, count(*) AS n, sum(v * 2) FROM \
             (VALUES ('a', 9223372036854775806), ('b', -5), ('b', 7)) t(g, v) \
             WHERE g = 'b' GROUP BY g")
        .await
        .expect("runs");
        assert!(t.contains("| b | 2 | 2 | 4"), "{t}");
        let df = ctx
            .sql("SELECT sum(v) FROM (VALUES (1), (2)) t(v)")
            .await
            .expect("plans");
        let plan = df.into_optimized_plan().expect("optimized");
        assert_eq!(
            plan.schema().field(0).data_type(),
            &datafusion::arrow::datatypes::DataType::Int64
        );
    }

    /// Integer `+ - *` written in a query's projection or filter: an overflow is an error;
    /// sums in range are computed as before.
    #[tokio::test]
    async fn integer_arithmetic_in_projections_and_filters_is_checked() {
        let ctx = SessionContext::new();
        let run = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let df = ctx.sql(sql).await?;
                let task = std::sync::Arc::new(df.task_ctx());
                let plan = checked_arithmetic(df.create_physical_plan().await?)
                    .map_err(|e| datafusion::error::DataFusionError::External(e.into()))?;
                let batches = datafusion::physical_plan::collect(plan, task).await?;
                datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                    .map(|t| t.to_string())
                    .map_err(Into::into)
            }
        };
        for sql in [
            // 10^10 × 10^10 = 10^20 > 2^63: DataFusion alone answers 7766279631452241920.
            "SELECT v * v FROM (VALUES (10000000000)) t(v)",
            "SELECT v + 1 FROM (VALUES (9223372036854775807)) t(v)",
            "SELECT v FROM (VALUES (-9223372036854775807)) t(v) WHERE v - 2 < 0",
        ] {
            let e: datafusion::error::Result<String> = run(sql).await;
            let e = e.expect_err(sql).to_string();
            assert!(
                e.contains("Overflow") || e.contains("overflow"),
                "{sql}: {e}"
            );
        }
        let t = run("SELECT v * 2 + 1 AS x FROM (VALUES (20), (-4)) t(v) WHERE v - 1 > 0")
            .await
            .expect("runs");
        assert!(t.contains("| 41 |"), "{t}");
    }

    #[test]
    fn long_statements_are_refused() {
        assert!(check_size(&"x".repeat(MAX_SQL_BYTES)).is_ok());
        let e = check_size(&"x".repeat(MAX_SQL_BYTES + 1)).expect_err("too long");
        assert!(e.to_string().contains("at most 262144"), "{e}");
    }

    /// A statement nested far deeper than the limit is refused before any planning, on a
    /// thread with the stack a server's request has (2 MiB), and one at the limit is not.
    #[test]
    fn deep_expressions_are_refused_before_they_reach_the_planner() {
        let chain = |op: &str, n: usize| {
            let terms = vec!["1"; n];
            format!("SELECT {}", terms.join(op))
        };
        let result = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                (
                    check_depth(&chain(" + ", 2_000)),
                    check_depth(&chain(" OR ", 20_000)),
                    check_depth(&chain(" + ", MAX_EXPR_DEPTH)),
                )
            })
            .expect("thread")
            .join()
            .expect("no overflow");
        for refused in [result.0, result.1] {
            let e = refused.expect_err("too deep");
            assert!(e.to_string().contains("nested more than 128 deep"), "{e}");
        }
        // 128 terms are 127 operators and the innermost literal: 128 levels.
        result.2.expect("at the limit");
    }
}
