//! Running one statement the way the kit runs every statement: inside its
//! `ordinance.statement` span (table, operation, rows, duration; never a
//! value), with a warning when it is slow, and — for a read whose result is
//! taken whole, on an executor over several servers — once more when its
//! server went away. The repository and every feature above it run their
//! statements through here.

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt as _;
use tokio_postgres::Row;

use super::{Access, Bound, Executor, Sql};
use crate::error::{Error, Result};
use crate::schema::TableSchema;

/// Statements slower than this log a warning unless the repository is told otherwise.
pub const DEFAULT_SLOW_STATEMENT: Duration = Duration::from_millis(500);

/// How many rows a statement's result carries, for its span, when known
/// as the statement ends.
pub(crate) trait RowCount {
    fn row_count(&self) -> Option<u64>;
}

impl<T> RowCount for Vec<T> {
    fn row_count(&self) -> Option<u64> {
        Some(self.len() as u64)
    }
}

impl RowCount for Option<Row> {
    fn row_count(&self) -> Option<u64> {
        Some(u64::from(self.is_some()))
    }
}

/// Runs one statement inside its span, recording rows and duration. A
/// statement slower than `slow` also emits a warning naming the entity,
/// the table, the operation and the statement's
/// [`Fingerprint`](crate::query::Fingerprint), and never a value.
///
/// A combinator rather than an `async fn`, entering its span itself rather
/// than through `Instrumented`: callers pass the statement's future pinned
/// where it was made (`pin!(executor.query_opt(..))`), so the future (over
/// a kilobyte) is never copied on its way to being polled.
#[inline(always)]
pub(crate) fn traced<'s, T, Er, F>(
    schema: &'static TableSchema,
    operation: &'static str,
    sql: &'s str,
    slow: Duration,
    run: F,
) -> Traced<'s, F>
where
    F: Future<Output = Result<T, Er>>,
    T: RowCount,
{
    let span = tracing::debug_span!(
        "ordinance.statement",
        table = schema.name,
        operation,
        rows = tracing::field::Empty,
        duration_us = tracing::field::Empty,
    );
    Traced {
        run,
        span,
        schema,
        operation,
        sql,
        slow,
        started: None,
    }
}

pin_project_lite::pin_project! {
    /// A statement's future inside its span: see [`traced`].
    pub(crate) struct Traced<'s, F> {
        #[pin]
        run: F,
        span: tracing::Span,
        schema: &'static TableSchema,
        operation: &'static str,
        sql: &'s str,
        slow: Duration,
        started: Option<Instant>,
    }
}

impl<T, Er, F> Future for Traced<'_, F>
where
    F: Future<Output = Result<T, Er>>,
    T: RowCount,
{
    type Output = Result<T, Er>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let started = *this.started.get_or_insert_with(Instant::now);
        let result = {
            // The statement runs inside its span, as `Instrumented` would.
            let _entered = this.span.enter();
            std::task::ready!(this.run.poll(cx))
        };
        let elapsed = started.elapsed();
        let span = &*this.span;
        span.record("duration_us", elapsed.as_micros() as u64);
        if let Some(rows) = result.as_ref().ok().and_then(RowCount::row_count) {
            span.record("rows", rows);
        }
        if elapsed >= *this.slow {
            slow_statement(
                span,
                this.schema,
                this.operation,
                this.sql,
                elapsed,
                *this.slow,
            );
        }
        std::task::Poll::Ready(result)
    }
}

/// Warns of a statement slower than its threshold; worked out only here,
/// off the fast path.
#[cold]
fn slow_statement(
    span: &tracing::Span,
    schema: &TableSchema,
    operation: &str,
    sql: &str,
    elapsed: Duration,
    slow: Duration,
) {
    let fingerprint = crate::query::Fingerprint::of(sql);
    tracing::warn!(
        parent: span,
        entity = schema.struct_name,
        table = schema.name,
        operation,
        fingerprint = %fingerprint,
        duration_ms = elapsed.as_millis() as u64,
        threshold_ms = slow.as_millis() as u64,
        "slow statement"
    );
}

/// A statement built for this call (a scoped select, a page, a join, a
/// bulk chunk), and how it is run.
pub(crate) struct Built<'s> {
    pub(crate) schema: &'static TableSchema,
    pub(crate) sql: &'s str,
    pub(crate) access: Access,
    pub(crate) operation: &'static str,
    pub(crate) slow: Duration,
}

impl Built<'_> {
    /// Runs the text with the values sea-query collected for it and hands
    /// its rows to `read`, inside the statement's span (so the span's
    /// duration and row count cover what `read` consumed). A read whose
    /// server went away before `read` was done runs once more when the
    /// executor [`reads_again`](Executor::reads_again) (it goes to another
    /// server).
    pub(crate) async fn run<X: Executor, T: RowCount>(
        &self,
        executor: &X,
        values: sea_query::Values,
        read: impl AsyncFnOnce(X::Rows) -> Result<T> + Clone,
    ) -> Result<T> {
        let (schema, sql, access) = (self.schema, self.sql, self.access);
        let bound = Bound::new(values)?;
        let params = bound.params();
        let mut again = super::may_read_again(executor, access);
        let run = std::pin::pin!(async {
            loop {
                let rows = executor
                    .rows(access, Sql::Built(sql), &params, &bound.types)
                    .await
                    .map_err(|e| Error::from_db(e, schema))?;
                match read.clone()(rows).await {
                    Err(Error::Unavailable(_)) if again => again = false,
                    result => return result,
                }
            }
        });
        traced(schema, self.operation, sql, self.slow, run).await
    }

    /// [`run`](Self::run), collecting the rows.
    pub(crate) async fn rows<X: Executor>(
        &self,
        executor: &X,
        values: sea_query::Values,
    ) -> Result<Vec<Row>> {
        let schema = self.schema;
        self.run(executor, values, async |rows| {
            rows.try_collect()
                .await
                .map_err(|e| Error::from_db(e, schema))
        })
        .await
    }
}

/// The rows of a sea-query statement on `schema`'s table.
pub(crate) async fn rows_of<X: Executor>(
    executor: &X,
    slow: Duration,
    schema: &'static TableSchema,
    statement: &impl sea_query::QueryStatementWriter,
    access: Access,
    operation: &'static str,
) -> Result<Vec<Row>> {
    let (sql, values) = statement.build(sea_query::PostgresQueryBuilder);
    let run = Built {
        schema,
        sql: &sql,
        access,
        operation,
        slow,
    };
    run.rows(executor, values).await
}
