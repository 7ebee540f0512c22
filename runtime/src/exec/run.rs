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
use tracing::Instrument as _;

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
pub(crate) async fn traced<T, Er, F>(
    schema: &'static TableSchema,
    operation: &'static str,
    sql: &str,
    slow: Duration,
    run: F,
) -> Result<T, Er>
where
    F: Future<Output = Result<T, Er>>,
    T: RowCount,
{
    let table = schema.name;
    let span = tracing::debug_span!(
        "ordinance.statement",
        table,
        operation,
        rows = tracing::field::Empty,
        duration_us = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = run.instrument(span.clone()).await;
    let elapsed = started.elapsed();
    span.record("duration_us", elapsed.as_micros() as u64);
    if let Some(rows) = result.as_ref().ok().and_then(RowCount::row_count) {
        span.record("rows", rows);
    }
    if elapsed >= slow {
        // Worked out only here, off the fast path.
        let fingerprint = crate::query::Fingerprint::of(sql);
        tracing::warn!(
            parent: &span,
            entity = schema.struct_name,
            table,
            operation,
            fingerprint = %fingerprint,
            duration_ms = elapsed.as_millis() as u64,
            threshold_ms = slow.as_millis() as u64,
            "slow statement"
        );
    }
    result
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
        traced(schema, self.operation, sql, self.slow, async {
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
        })
        .await
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
