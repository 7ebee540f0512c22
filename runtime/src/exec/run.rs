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
    Er: Outcome,
{
    // Field values are worked out only when a subscriber takes the span.
    let span = tracing::info_span!(
        "ordinance.statement",
        "otel.name" = %Summary(verb(sql), schema.name),
        "otel.kind" = "client",
        "otel.status_code" = tracing::field::Empty,
        "db.system.name" = "postgresql",
        "db.namespace" = tracing::field::Empty,
        "server.address" = tracing::field::Empty,
        "server.port" = tracing::field::Empty,
        "db.collection.name" = schema.name,
        "db.operation.name" = verb(sql),
        "db.query.summary" = %Summary(verb(sql), schema.name),
        "db.query.text" = sql,
        "db.response.returned_rows" = tracing::field::Empty,
        "db.response.status_code" = tracing::field::Empty,
        "error.type" = tracing::field::Empty,
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
        clock: Clock::Unread,
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
        clock: Clock,
    }
}

/// When a statement started, if anyone can see how long it took.
#[derive(Clone, Copy)]
enum Clock {
    /// Not polled yet.
    Unread,
    /// Nobody is watching: no clock is read.
    Off,
    Since(Instant),
}

/// Whether anyone can see a statement's duration: a subscriber taking its
/// span, the metrics, or a slow-statement warning (a subscriber taking
/// warnings, or a `log` logger, which tracing's `log` feature hands events
/// to when no subscriber is set). With none of them, reading the clock
/// twice a statement is work for nobody.
#[inline]
fn watched(span: &tracing::Span) -> bool {
    !span.is_disabled()
        || crate::telemetry::metrics_enabled()
        || tracing::level_filters::LevelFilter::current() >= tracing::Level::WARN
        || log::max_level() >= log::Level::Warn
}

impl<T, Er, F> Future for Traced<'_, F>
where
    F: Future<Output = Result<T, Er>>,
    T: RowCount,
    Er: Outcome,
{
    type Output = Result<T, Er>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let clock = match *this.clock {
            Clock::Unread => {
                let clock = if watched(this.span) {
                    Clock::Since(Instant::now())
                } else {
                    Clock::Off
                };
                *this.clock = clock;
                clock
            }
            clock => clock,
        };
        let result = {
            // The statement runs inside its span, as `Instrumented` would.
            let _entered = this.span.enter();
            std::task::ready!(this.run.poll(cx))
        };
        let Clock::Since(started) = clock else {
            return std::task::Poll::Ready(result);
        };
        let elapsed = started.elapsed();
        if crate::telemetry::metrics_enabled() {
            let failure = result.as_ref().err().map(Outcome::error_type);
            operation_duration(this.schema, this.operation, this.sql, elapsed, failure);
        }
        let span = &*this.span;
        span.record("duration_us", elapsed.as_micros() as u64);
        match &result {
            Ok(done) => {
                if let Some(rows) = done.row_count() {
                    span.record("rows", rows);
                    span.record("db.response.returned_rows", rows);
                }
            }
            Err(e) => failed(span, e),
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

/// What a failed statement's span records of its error: PostgreSQL's
/// SQLSTATE when the server answered, and a class of error.
pub(crate) trait Outcome {
    /// The SQLSTATE code (`23505`), when the server sent one.
    fn status_code(&self) -> Option<&str>;
    /// The error's class for `error.type`: the SQLSTATE when there is
    /// one, otherwise what kind of failure it was.
    fn error_type(&self) -> &'static str;
}

impl Outcome for Error {
    fn status_code(&self) -> Option<&str> {
        self.sqlstate().map(tokio_postgres::error::SqlState::code)
    }
    fn error_type(&self) -> &'static str {
        match self {
            Error::Unavailable(_) => "unavailable",
            Error::PoolTimeout { .. } => "pool_timeout",
            Error::PoolClosed => "pool_closed",
            Error::Cancelled(_) => "cancelled",
            Error::Decode { .. } => "decode",
            _ if self.sqlstate().is_some() => "db_error",
            _ => "error",
        }
    }
}

impl Outcome for crate::error::Failure {
    fn status_code(&self) -> Option<&str> {
        match self {
            crate::error::Failure::Driver(e) => e.code().map(tokio_postgres::error::SqlState::code),
            crate::error::Failure::Kit(e) => e.status_code(),
        }
    }
    fn error_type(&self) -> &'static str {
        match self {
            crate::error::Failure::Driver(e) if e.code().is_some() => "db_error",
            crate::error::Failure::Driver(e) if e.is_closed() => "unavailable",
            crate::error::Failure::Driver(_) => "driver",
            crate::error::Failure::Kit(e) => e.error_type(),
        }
    }
}

/// Records a statement's duration in `db.client.operation.duration`. A
/// success's histogram is registered once per table, operation and verb
/// and kept (metrics are turned on after the recorder is installed).
fn operation_duration(
    schema: &'static TableSchema,
    operation: &'static str,
    sql: &str,
    elapsed: Duration,
    failure: Option<&'static str>,
) {
    use std::collections::HashMap;
    use std::sync::{OnceLock, PoisonError, RwLock};
    type Key = (usize, usize, &'static str);
    static KEPT: OnceLock<RwLock<HashMap<Key, metrics::Histogram>>> = OnceLock::new();

    let verb = verb(sql);
    let register = |failure: Option<&'static str>| {
        let mut labels = vec![
            metrics::Label::from_static_parts("db.system.name", "postgresql"),
            metrics::Label::from_static_parts("db.collection.name", schema.name),
            metrics::Label::from_static_parts("db.operation.name", verb),
            metrics::Label::from_static_parts("ordinance.operation", operation),
        ];
        if let Some(kind) = failure {
            labels.push(metrics::Label::from_static_parts("error.type", kind));
        }
        metrics::histogram!(crate::telemetry::OPERATION_DURATION, labels)
    };
    let seconds = elapsed.as_secs_f64();
    if failure.is_some() {
        return register(failure).record(seconds);
    }
    let key = (
        std::ptr::from_ref(schema) as usize,
        operation.as_ptr() as usize,
        verb,
    );
    let kept = KEPT.get_or_init(Default::default);
    if let Some(h) = kept
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return h.record(seconds);
    }
    kept.write()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key)
        .or_insert_with(|| register(None))
        .record(seconds);
}

/// Records a failure on its statement's span.
#[cold]
fn failed(span: &tracing::Span, e: &impl Outcome) {
    if span.is_disabled() {
        return;
    }
    span.record("otel.status_code", "ERROR");
    span.record("error.type", e.status_code().unwrap_or(e.error_type()));
    if let Some(code) = e.status_code() {
        span.record("db.response.status_code", code);
    }
}

/// The SQL verb of a statement's text (`SELECT`, `INSERT`, ...): its first
/// word, or for a `WITH` the statement the common table expressions
/// feed.
pub(crate) fn verb(sql: &str) -> &'static str {
    const VERBS: [&str; 6] = ["SELECT", "INSERT", "UPDATE", "DELETE", "COPY", "CREATE"];
    let first = sql
        .trim_start()
        .split([' ', '\n', '('])
        .next()
        .unwrap_or("");
    if let Some(v) = VERBS.iter().find(|v| first.eq_ignore_ascii_case(v)) {
        return v;
    }
    if first.eq_ignore_ascii_case("WITH") {
        // The main statement is the first verb outside the common table
        // expressions' parentheses (and outside quotes).
        let bytes = sql.as_bytes();
        let (mut depth, mut quoted) = (0usize, None::<u8>);
        for (i, &b) in bytes.iter().enumerate() {
            match (quoted, b) {
                (Some(q), _) if b == q => quoted = None,
                (Some(_), _) => {}
                (None, b'\'' | b'"') => quoted = Some(b),
                (None, b'(') => depth += 1,
                (None, b')') => depth = depth.saturating_sub(1),
                (None, _) if depth == 0 && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) => {
                    let rest = &sql[i..];
                    if let Some(v) = ["INSERT", "UPDATE", "DELETE", "SELECT"].iter().find(|v| {
                        rest.len() >= v.len()
                            && rest.is_char_boundary(v.len())
                            && rest[..v.len()].eq_ignore_ascii_case(v)
                    }) {
                        return v;
                    }
                }
                _ => {}
            }
        }
        return "WITH";
    }
    "OTHER"
}

/// `db.query.summary` and the span's name: `SELECT users`.
struct Summary(&'static str, &'static str);

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0, self.1)
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
        let (schema, access) = (self.schema, self.access);
        let commented = crate::telemetry::statement_comment(schema, self.operation)
            .map(|comment| format!("{}{comment}", self.sql));
        let sql = commented.as_deref().unwrap_or(self.sql);
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
        let (schema, access) = (self.schema, self.access);
        let commented = crate::telemetry::statement_comment(schema, self.operation)
            .map(|comment| format!("{}{comment}", self.sql));
        let sql = commented.as_deref().unwrap_or(self.sql);
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

#[cfg(test)]
mod tests {
    use super::verb;

    #[test]
    fn a_statements_verb_is_its_first_word_or_what_its_ctes_feed() {
        assert_eq!(verb("SELECT \"id\" FROM \"users\""), "SELECT");
        assert_eq!(verb("  insert into t (a) values ($1)"), "INSERT");
        assert_eq!(verb("COPY \"t\" (\"a\") FROM STDIN BINARY"), "COPY");
        assert_eq!(
            verb("WITH s AS (SELECT 1), u AS (UPDATE t SET a = 1 RETURNING a) INSERT INTO t (a) VALUES ($1)"),
            "INSERT"
        );
        assert_eq!(verb("WITH \"x(\" AS (SELECT ')') DELETE FROM t"), "DELETE");
        assert_eq!(verb("WITH x AS (SELECT 1) SELECT * FROM x"), "SELECT");
        assert_eq!(verb("VACUUM"), "OTHER");
    }
}
