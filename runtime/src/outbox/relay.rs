//! The relay: claims events (`SKIP LOCKED`, the oldest of each key), hands
//! them to a handler one at a time, deletes each delivered one and
//! schedules a failed one again with backoff — woken by the outbox's
//! notifications, polling as a fallback.

use std::fmt::Display;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::future::{select, Either, FutureExt as _};
use tokio::sync::Notify;
use tokio_postgres::types::Type;
use tokio_postgres::Row;
use uuid::Uuid;

use super::listen::Listener;
use super::{require_outbox, statements};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::exec::{Access, Executor, Sql, Unnamed};
use crate::params::SqlParam;
use crate::pool::Pool;
use crate::sql::outbox::{channel, CLAIM_TYPES, DONE_TYPES, RELEASE_TYPES, RETRY_TYPES};

/// What a relay does with each event: an async function of the event
/// (the outbox entity, as claimed) returning `Ok` when it was delivered.
/// Any `Fn(O) -> impl Future<Output = Result<(), E>>` closure is one.
pub trait Handler<O>: Send + Sync {
    /// Why a delivery failed; its text is kept in the event's
    /// `last_error`.
    type Error: Display;
    /// Delivers one event.
    fn handle(&self, event: O) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

impl<O, F, Fut, E> Handler<O> for F
where
    F: Fn(O) -> Fut + Send + Sync,
    Fut: Future<Output = std::result::Result<(), E>> + Send,
    E: Display,
{
    type Error = E;
    fn handle(&self, event: O) -> impl Future<Output = std::result::Result<(), E>> + Send {
        self(event)
    }
}

/// How a relay claims, waits and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayOptions {
    /// Events claimed at once (at most one per key). Default 100.
    pub batch_size: u32,
    /// How long a claim holds its events: a relay that dies leaves them
    /// to others once it expires, and a relay stops handing out a batch's
    /// events (and gives the rest back) before it does. Default 30 s.
    pub lease: Duration,
    /// How often an idle relay looks for events when no notification
    /// wakes it (always, when it does not listen). Default 1 s.
    pub poll_interval: Duration,
    /// The delay before a failed event is tried again, doubled at each
    /// attempt up to `max_backoff`. Default 1 s.
    pub backoff: Duration,
    /// The longest delay between attempts. Default 5 min.
    pub max_backoff: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            batch_size: 100,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
        }
    }
}

impl RelayOptions {
    /// Refuses a zero batch, lease or poll interval, and a backoff longer
    /// than its maximum.
    pub fn validate(&self) -> Result<()> {
        let refuse = |setting, reason: &str| {
            Err(Error::InvalidSetting {
                setting,
                reason: reason.to_owned(),
            })
        };
        if self.batch_size == 0 {
            return refuse("batch_size", "a relay claims at least one event at a time");
        }
        if self.lease < Duration::from_millis(100) {
            return refuse(
                "lease",
                "a lease shorter than 100 ms expires before a handler runs",
            );
        }
        if self.poll_interval.is_zero() {
            return refuse("poll_interval", "a relay polling without pause spins");
        }
        if self.backoff > self.max_backoff {
            return refuse("backoff", "the first delay is longer than max_backoff");
        }
        Ok(())
    }

    /// The delay after the `attempts`-th failed attempt.
    fn delay(&self, attempts: i32) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(30);
        self.backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }
}

/// What one claim did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Round {
    /// Events claimed.
    pub claimed: u64,
    /// Delivered and deleted.
    pub delivered: u64,
    /// Their handler failed (or outlived the lease): scheduled again.
    pub failed: u64,
    /// Given back untried: the lease was running out, or the relay was
    /// stopping.
    pub released: u64,
    /// Handled, but the lease had expired and another relay had claimed
    /// the event meanwhile, which delivers it again.
    pub lost_leases: u64,
}

/// What a relay did while it ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayStats {
    /// Claims made.
    pub rounds: u64,
    /// Events delivered and deleted.
    pub delivered: u64,
    /// Failed attempts (each scheduled again).
    pub failed: u64,
    /// Events given back untried.
    pub released: u64,
    /// Deliveries whose lease had been lost (the event is delivered again).
    pub lost_leases: u64,
    /// Notifications heard.
    pub notifications: u64,
}

impl RelayStats {
    fn add(&mut self, round: Round) {
        self.rounds += 1;
        self.delivered += round.delivered;
        self.failed += round.failed;
        self.released += round.released;
        self.lost_leases += round.lost_leases;
    }
}

/// Delivers the events of the outbox `O` (`#[entity(outbox)]`).
///
/// Any number of relays, in one process or many, may run on one outbox:
/// each claims with `FOR UPDATE SKIP LOCKED`, only the oldest event of a
/// key no relay holds, so events of one key are handled one at a time and
/// in order, and others in parallel.
///
/// ```no_run
/// # use ordinance::prelude::*;
/// # #[derive(Entity, Debug)] #[entity(outbox)] pub struct OutboxEvent { pub id: Uuid, #[column(max_len = 100)] pub topic: String, #[column(max_len = 200)] pub key: String, pub payload: serde_json::Value, pub attempts: i32, pub available_at: DateTime<Utc>, pub last_error: Option<String>, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
/// # async fn demo(pool: ordinance::pool::Pool, direct: ordinance::deps::tokio_postgres::Config) -> ordinance::Result<()> {
/// use ordinance::outbox::Relay;
///
/// let relay = Relay::<OutboxEvent>::new(pool)?.listen(direct);
/// let stop = tokio::signal::ctrl_c();
/// relay
///     .run(
///         |event: OutboxEvent| async move {
///             println!("{} {}: {}", event.topic, event.key, event.payload);
///             Ok::<(), std::convert::Infallible>(())
///         },
///         async move { stop.await.ok(); },
///     )
///     .await?;
/// # Ok(()) }
/// ```
pub struct Relay<O> {
    pool: Pool,
    options: RelayOptions,
    listen: Option<tokio_postgres::Config>,
    unnamed: bool,
    outbox: PhantomData<fn() -> O>,
}

impl<O> std::fmt::Debug for Relay<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("options", &self.options)
            .field("listens", &self.listen.is_some())
            .field("unnamed", &self.unnamed)
            .finish_non_exhaustive()
    }
}

/// An event as claimed: the entity, and what the relay needs of it.
struct Claimed<O> {
    event: O,
    id: Uuid,
    attempts: i32,
    created_at: DateTime<Utc>,
}

impl<O: Entity + Send + 'static> Relay<O> {
    /// A relay claiming through `pool` (a [`Cluster`](crate::cluster::Cluster)'s
    /// [`primary`](crate::cluster::Cluster::primary)), polling only until
    /// [`listen`](Self::listen) says where to listen.
    /// [`Error::InvalidSetting`] when `O` is not an outbox.
    pub fn new(pool: Pool) -> Result<Self> {
        require_outbox(O::SCHEMA)?;
        Ok(Relay {
            pool,
            options: RelayOptions::default(),
            listen: None,
            unnamed: false,
            outbox: PhantomData,
        })
    }

    /// These options ([`Error::InvalidSetting`] for ones that cannot work).
    pub fn options(mut self, options: RelayOptions) -> Result<Self> {
        options.validate()?;
        self.options = options;
        Ok(self)
    }

    /// Wakes the relay when events commit: `LISTEN` on the outbox's
    /// channel through one session connection made from `config`
    /// (without TLS). `LISTEN` needs a session of its own, so behind
    /// PgBouncer in transaction mode point `config` at PostgreSQL itself
    /// (or at a PgBouncer pool in session mode); the claims may go through
    /// the transaction-mode pool. Polling goes on as the fallback while the
    /// connection is down.
    pub fn listen(mut self, config: tokio_postgres::Config) -> Self {
        self.listen = Some(config);
        self
    }

    /// Runs every statement unnamed (no prepared statement kept on the
    /// server): for a pool behind PgBouncer in transaction mode.
    pub fn unnamed_statements(mut self) -> Self {
        self.unnamed = true;
        self
    }

    /// Claims one batch and hands its events to `handler`, oldest first;
    /// returns what became of them. Nothing claimed means nothing is
    /// available now.
    pub async fn run_once<H: Handler<O>>(&self, handler: &H) -> Result<Round> {
        self.round(handler, &mut || false).await
    }

    /// Runs until `shutdown` completes: claims while claims find events,
    /// then waits for a notification or the poll interval. The event in
    /// hand when `shutdown` completes is finished and the rest of its
    /// batch given back. Losing the database (a restart, a dropped
    /// connection, a full pool) is waited out; any other error ends the
    /// run.
    pub async fn run<H, S>(&self, handler: H, shutdown: S) -> Result<RelayStats>
    where
        H: Handler<O>,
        S: Future<Output = ()> + Send,
    {
        let wake = Arc::new(Notify::new());
        let heard = Arc::new(AtomicU64::new(0));
        let _listener = self
            .listen
            .clone()
            .map(|config| Listener::start(config, channel(O::SCHEMA), wake.clone(), heard.clone()));
        let mut shutdown = std::pin::pin!(shutdown.fuse());
        let mut stopping = false;
        let mut stats = RelayStats::default();
        while !stopping {
            let mut stop = || {
                stopping = stopping || shutdown.as_mut().now_or_never().is_some();
                stopping
            };
            let round = match self.round(&handler, &mut stop).await {
                Ok(round) => round,
                Err(e) if e.is_retryable() => {
                    tracing::warn!(
                        table = O::SCHEMA.name,
                        error = %e,
                        "the outbox relay lost the database; trying again"
                    );
                    Round::default()
                }
                Err(e) => return Err(e),
            };
            stats.add(round);
            // Events delivered may have freed their keys' next ones: claim
            // again until a claim finds nothing.
            if stopping || round.claimed > 0 {
                continue;
            }
            // Drained: sleep until notified, the poll interval, or shutdown.
            let notified = std::pin::pin!(wake.notified());
            let poll = std::pin::pin!(tokio::time::sleep(self.options.poll_interval));
            let wait = select(notified, poll);
            if let Either::Right(_) = select(wait, shutdown.as_mut()).await {
                stopping = true;
            }
        }
        stats.notifications = heard.load(Ordering::Relaxed);
        Ok(stats)
    }

    async fn round<H: Handler<O>>(
        &self,
        handler: &H,
        stop: &mut (dyn FnMut() -> bool + Send),
    ) -> Result<Round> {
        let sql = statements(O::SCHEMA);
        let lease = self.options.lease;
        // Hand out no event after this: the lease ends at the server's
        // claim time plus `lease`, a little after the claim was sent.
        let deadline = Instant::now() + lease.mul_f64(0.9);
        let rows = self
            .query(
                "outbox_claim",
                &sql.claim,
                &[&lease.as_secs_f64(), &i64::from(self.options.batch_size)],
                CLAIM_TYPES,
            )
            .await?;
        let positions = sql.positions.ok_or_else(|| {
            Error::UnsupportedValue(format!(
                "\"{}\" lacks an outbox's id, attempts or created_at",
                O::SCHEMA.name
            ))
        })?;
        let mut claimed = rows
            .iter()
            .map(|row| claimed::<O>(row, positions))
            .collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|c| (c.created_at, c.id));
        let mut round = Round {
            claimed: claimed.len() as u64,
            ..Round::default()
        };
        let mut events = claimed.into_iter();
        while let Some(c) = events.next() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || stop() {
                let rest: Vec<_> = std::iter::once(c).chain(events).collect();
                round.released = rest.len() as u64;
                self.release(&rest).await?;
                break;
            }
            let (id, attempts) = (c.id, c.attempts);
            let outcome = tokio::time::timeout(left, handler.handle(c.event)).await;
            let kept = match outcome {
                Ok(Ok(())) => {
                    round.delivered += 1;
                    if crate::telemetry::metrics_enabled() {
                        metrics::counter!(crate::telemetry::OUTBOX_DELIVERED, "db.collection.name" => O::SCHEMA.name)
                            .increment(1);
                    }
                    self.query("outbox_done", &sql.done, &[&id, &attempts], DONE_TYPES)
                        .await?
                }
                failure => {
                    round.failed += 1;
                    if crate::telemetry::metrics_enabled() {
                        metrics::counter!(crate::telemetry::OUTBOX_FAILED, "db.collection.name" => O::SCHEMA.name)
                            .increment(1);
                    }
                    let error = match failure {
                        Ok(Err(e)) => e.to_string(),
                        _ => format!("the handler ran past the lease ({} ms)", lease.as_millis()),
                    };
                    let delay = self.options.delay(attempts);
                    tracing::warn!(
                        table = O::SCHEMA.name,
                        event = %id,
                        attempts,
                        retry_in_ms = delay.as_millis() as u64,
                        error = error.as_str(),
                        "an outbox event was not delivered"
                    );
                    let error = truncate(error, 2000);
                    self.query(
                        "outbox_retry",
                        &sql.retry,
                        &[&id, &attempts, &delay.as_secs_f64(), &error],
                        RETRY_TYPES,
                    )
                    .await?
                }
            };
            if kept.is_empty() {
                round.lost_leases += 1;
                tracing::warn!(
                    table = O::SCHEMA.name,
                    event = %id,
                    attempts,
                    "an outbox event's lease expired before it was handled; another relay delivers it again"
                );
            }
        }
        Ok(round)
    }

    /// Hands `events` back untried.
    async fn release(&self, events: &[Claimed<O>]) -> Result<()> {
        let ids: Vec<Uuid> = events.iter().map(|c| c.id).collect();
        let attempts: Vec<i32> = events.iter().map(|c| c.attempts).collect();
        self.query(
            "outbox_release",
            &statements(O::SCHEMA).release,
            &[&ids, &attempts],
            RELEASE_TYPES,
        )
        .await?;
        Ok(())
    }

    /// One statement on a connection of the pool, named or not.
    async fn query(
        &self,
        operation: &'static str,
        sql: &'static str,
        params: &[SqlParam<'_>],
        types: &[Type],
    ) -> Result<Vec<Row>> {
        let conn = self.pool.get().await?;
        if self.unnamed {
            run(&Unnamed(&*conn), O::SCHEMA, operation, sql, params, types).await
        } else {
            run(&*conn, O::SCHEMA, operation, sql, params, types).await
        }
    }
}

/// One statement in its `ordinance.statement` span.
async fn run<X: Executor>(
    executor: &X,
    schema: &'static crate::TableSchema,
    operation: &'static str,
    sql: &'static str,
    params: &[SqlParam<'_>],
    types: &[Type],
) -> Result<Vec<Row>> {
    crate::exec::run::traced(
        schema,
        operation,
        sql,
        crate::exec::run::DEFAULT_SLOW_STATEMENT,
        std::pin::pin!(executor.query(Access::Write, Sql::Fixed(sql), params, types)),
    )
    .await
    .map_err(|e| Error::from_db(e, schema))
}

/// An event as claimed, its bookkeeping read at `[id, attempts,
/// created_at]`.
fn claimed<O: Entity>(row: &Row, [id, attempts, created_at]: [usize; 3]) -> Result<Claimed<O>> {
    let table = O::SCHEMA.name;
    Ok(Claimed {
        id: crate::row::read(row, id, table, "id")?,
        attempts: crate::row::read(row, attempts, table, "attempts")?,
        created_at: crate::row::read(row, created_at, table, "created_at")?,
        event: O::from_row(row)?,
    })
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
