//! What the kit tells a service's dashboards: its spans (through
//! `tracing`) and its metrics (through the [`metrics`](https://docs.rs/metrics)
//! facade, so a Prometheus, OpenTelemetry or StatsD exporter records them).
//!
//! **Spans.** Every statement runs in an INFO span named
//! `ordinance.statement` carrying OpenTelemetry's database attributes —
//! `db.system.name` (`postgresql`), `db.collection.name`,
//! `db.operation.name` (the SQL verb), `db.query.summary`
//! (`SELECT users`, also the span's `otel.name`), `db.query.text` (the
//! parameterized text: never a value), `db.response.returned_rows`, and on
//! failure `db.response.status_code` (the SQLSTATE), `error.type` and
//! `otel.status_code` — beside the kit's own `table`, `operation`, `rows`
//! and `duration_us`. With `tracing-opentelemetry` they arrive as client
//! spans named by their summary.
//!
//! **Metrics** are recorded once [`enable_metrics`] is called (so a
//! service without an exporter pays one atomic load per statement):
//!
//! | name | kind | labels |
//! |---|---|---|
//! | [`OPERATION_DURATION`] `db.client.operation.duration` | histogram, seconds | `db.system.name`, `db.collection.name`, `db.operation.name`, `ordinance.operation`, `error.type` on failure |
//! | [`CONNECTION_COUNT`] `db.client.connection.count` | gauge | `db.client.connection.pool.name`, `db.client.connection.state` (`idle` / `used`) |
//! | [`CONNECTION_MAX`] `db.client.connection.max` | gauge | pool name |
//! | [`CONNECTION_PENDING`] `db.client.connection.pending_requests` | gauge | pool name |
//! | [`CONNECTION_TIMEOUTS`] `db.client.connection.timeouts` | counter | pool name |
//! | [`CONNECTION_CREATE_TIME`] `db.client.connection.create_time` | histogram, seconds | pool name |
//! | [`CONNECTION_WAIT_TIME`] `db.client.connection.wait_time` | histogram, seconds | pool name |
//! | [`CONNECTION_USE_TIME`] `db.client.connection.use_time` | histogram, seconds | pool name |
//! | [`RETRIES`] `ordinance.transaction.retries` | counter | `error.type` (the SQLSTATE retried) |
//! | [`STALE_VERSIONS`] `ordinance.stale_versions` | counter | `db.collection.name` |
//! | [`REPLICA_LAG`] `ordinance.replica.lag` | gauge, seconds | pool name |
//! | [`REPLICA_SKIPS`] `ordinance.replica.skips` | counter | pool name |
//! | [`OUTBOX_DELIVERED`] `ordinance.outbox.delivered` | counter | `db.collection.name` |
//! | [`OUTBOX_FAILED`] `ordinance.outbox.failed` | counter | `db.collection.name` |
//!
//! Pool gauges are set as connections are taken; [`Pool::status`](crate::pool::Pool::status)
//! reads them exactly, and [`Pool::record_metrics`](crate::pool::Pool::record_metrics)
//! sets them from it (call it from a scrape handler).

use std::sync::atomic::{AtomicBool, Ordering};

/// Duration of each statement.
pub const OPERATION_DURATION: &str = "db.client.operation.duration";
/// Connections open, by state.
pub const CONNECTION_COUNT: &str = "db.client.connection.count";
/// The most connections a pool opens.
pub const CONNECTION_MAX: &str = "db.client.connection.max";
/// Requests waiting for a connection.
pub const CONNECTION_PENDING: &str = "db.client.connection.pending_requests";
/// Requests that gave up waiting for a connection.
pub const CONNECTION_TIMEOUTS: &str = "db.client.connection.timeouts";
/// Time to open a connection.
pub const CONNECTION_CREATE_TIME: &str = "db.client.connection.create_time";
/// Time a request waited for a connection.
pub const CONNECTION_WAIT_TIME: &str = "db.client.connection.wait_time";
/// How long a connection was lent before it came back.
pub const CONNECTION_USE_TIME: &str = "db.client.connection.use_time";
/// Transactions run again after a retryable failure.
pub const RETRIES: &str = "ordinance.transaction.retries";
/// Writes refused because the row had changed meanwhile.
pub const STALE_VERSIONS: &str = "ordinance.stale_versions";
/// A replica's replay lag as last checked.
pub const REPLICA_LAG: &str = "ordinance.replica.lag";
/// Reads that passed a replica by (down, behind, or not yet at the
/// reader's own write).
pub const REPLICA_SKIPS: &str = "ordinance.replica.skips";
/// Outbox events delivered.
pub const OUTBOX_DELIVERED: &str = "ordinance.outbox.delivered";
/// Outbox deliveries that failed (each retried).
pub const OUTBOX_FAILED: &str = "ordinance.outbox.failed";

/// The label naming a pool.
pub const POOL_NAME: &str = "db.client.connection.pool.name";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Starts (or stops) recording the kit's metrics through the `metrics`
/// facade's recorder: call it once the service's exporter is installed.
pub fn enable_metrics(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether metrics are being recorded.
#[inline]
pub fn metrics_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

static APP: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Appends to every statement the kit sends a comment in SQLCommenter's
/// format naming the application, the entity and the operation —
/// `/*app='billing',entity='Invoice',operation='get'*/` — so
/// `pg_stat_activity`, the server's log and `auto_explain` say who sent
/// a statement. Call it once at startup, before the first statement:
/// each entity's statements are rendered once, with the comment or
/// without. Returns `false` (and changes nothing) when comments were
/// already turned on.
///
/// The comment is per entity and operation, never per call, so a
/// statement's text stays one prepared statement per connection. A
/// `traceparent` would differ per call, so prepared statements go
/// without; with the `opentelemetry` feature, statements run unnamed
/// ([`Unnamed`](crate::exec::Unnamed), PgBouncer's transaction mode, a
/// bare client's transactions) — parsed per call anyway — carry the
/// statement span's `traceparent` too. `pg_stat_statements` ignores
/// comments when it groups statements, and so does
/// [`Fingerprint`](crate::query::Fingerprint): its mapping is unchanged.
pub fn comment_statements(app: &str) -> bool {
    APP.set(encode(app)).is_ok()
}

/// Whether statements carry comments.
pub(crate) fn comments_on() -> bool {
    APP.get().is_some()
}

/// The comment to append to a statement of `schema`'s `operation`, with
/// a space before it, when comments are on.
pub(crate) fn statement_comment(schema: &crate::TableSchema, operation: &str) -> Option<String> {
    let app = APP.get()?;
    Some(format!(
        " /*app='{app}',entity='{}',operation='{}'*/",
        encode(schema.struct_name),
        encode(operation)
    ))
}

/// `text` with its comment appended, when comments are on.
pub(crate) fn commented(schema: &crate::TableSchema, operation: &str, text: &mut String) {
    if let Some(comment) = statement_comment(schema, operation) {
        text.push_str(&comment);
    }
}

/// SQLCommenter's value encoding: URL-encoding, which also keeps `'`,
/// `*` and `/` out of the comment.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `sql` (rendered once, kept for the process) with its comment, itself
/// kept: the same text for every call.
pub(crate) fn commented_static(
    schema: &crate::TableSchema,
    operation: &'static str,
    sql: &'static str,
) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{PoisonError, RwLock};
    if !comments_on() {
        return sql;
    }
    type Kept = HashMap<(usize, &'static str), &'static str>;
    static KEPT: std::sync::OnceLock<RwLock<Kept>> = std::sync::OnceLock::new();
    let kept = KEPT.get_or_init(Default::default);
    let key = (sql.as_ptr() as usize, operation);
    if let Some(found) = kept
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return found;
    }
    kept.write()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key)
        .or_insert_with(|| {
            let mut text = sql.to_owned();
            commented(schema, operation, &mut text);
            Box::leak(text.into_boxed_str())
        })
}

/// `text` with the current span's trace context as `traceparent` in its
/// comment — for a statement run unnamed, which is parsed per call anyway —
/// when comments are on and the `opentelemetry` feature gives the span a
/// trace context; `None` otherwise.
#[inline]
pub(crate) fn with_traceparent(text: &str) -> Option<String> {
    APP.get()?;
    traceparent_into(text)
}

#[cfg(feature = "opentelemetry")]
fn traceparent_into(text: &str) -> Option<String> {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let body = text.strip_suffix("'*/")?;
    let context = tracing::Span::current().context();
    let span = context.span();
    let span = span.span_context();
    if !span.is_valid() {
        return None;
    }
    Some(format!(
        "{body}',traceparent='00-{}-{}-{:02x}'*/",
        span.trace_id(),
        span.span_id(),
        span.trace_flags().to_u8()
    ))
}

#[cfg(not(feature = "opentelemetry"))]
fn traceparent_into(_: &str) -> Option<String> {
    None
}
