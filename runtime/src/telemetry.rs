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
