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
    /// each row to `sink` as it arrives (its buffer is freed before the
    /// next is read), inside the statement's span (so the span's duration
    /// and row count cover the whole read). A read whose server went away
    /// half-way runs once more when the executor
    /// [`reads_again`](Executor::reads_again) (it goes to another server),
    /// the sink cleared first.
    pub(crate) async fn run_into<X: Executor>(
        &self,
        executor: &X,
        values: sea_query::Values,
        sink: &mut dyn RowSink,
    ) -> Result<()> {
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
                sink.clear();
                match read_into(rows, schema, &mut *sink).await {
                    Err(Error::Unavailable(_)) if again => again = false,
                    result => return result,
                }
            }
        });
        traced(schema, self.operation, sql, self.slow, run)
            .await
            .map(|_| ())
    }

    /// Runs the text and returns its rows unread, for a caller that reads
    /// them as a stream (the span ends when they start arriving).
    pub(crate) async fn open<X: Executor>(
        &self,
        executor: &X,
        values: sea_query::Values,
    ) -> Result<X::Rows> {
        let (schema, sql, access) = (self.schema, self.sql, self.access);
        let bound = Bound::new(values)?;
        let params = bound.params();
        let run = std::pin::pin!(async {
            executor
                .rows(access, Sql::Built(sql), &params, &bound.types)
                .await
                .map(Unread)
                .map_err(|e| Error::from_db(e, schema))
        });
        Ok(traced(schema, self.operation, sql, self.slow, run).await?.0)
    }

    /// [`run_into`](Self::run_into), collecting the rows.
    pub(crate) async fn rows<X: Executor>(
        &self,
        executor: &X,
        values: sea_query::Values,
    ) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        self.run_into(executor, values, &mut rows).await?;
        Ok(rows)
    }
}

/// Reads every row of `rows` into `sink`; how many.
async fn read_into<S>(
    rows: S,
    schema: &'static TableSchema,
    sink: &mut dyn RowSink,
) -> Result<Taken>
where
    S: futures_util::Stream<Item = Result<Row, tokio_postgres::Error>>,
{
    let mut rows = std::pin::pin!(rows);
    let mut taken = 0;
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(|e| Error::from_db(e, schema))?
    {
        sink.take(row)?;
        taken += 1;
    }
    Ok(Taken(taken))
}

/// Where a built statement's rows go as they arrive: the same code reads
/// for every entity, and only decoding is the entity's.
pub(crate) trait RowSink: Send {
    /// Forgets the rows taken so far (the read starts over).
    fn clear(&mut self);
    /// Takes one row.
    fn take(&mut self, row: Row) -> Result<()>;
}

impl RowSink for Vec<Row> {
    fn clear(&mut self) {
        Vec::clear(self);
    }

    fn take(&mut self, row: Row) -> Result<()> {
        self.push(row);
        Ok(())
    }
}

/// How many rows a sink took.
struct Taken(u64);

impl RowCount for Taken {
    fn row_count(&self) -> Option<u64> {
        Some(self.0)
    }
}

/// Rows not read yet: counted by their reader.
struct Unread<S>(S);

impl<S> RowCount for Unread<S> {
    fn row_count(&self) -> Option<u64> {
        None
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
