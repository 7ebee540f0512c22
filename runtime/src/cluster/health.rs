//! What the cluster knows about each replica: whether it answers, how far
//! its replay is behind, and up to which WAL position it has replayed —
//! checked with one cheap query, and cached.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio_postgres::types::PgLsn;

use crate::pool::Pool;

/// One replica's state as last checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    /// Whether the last check got an answer.
    pub up: bool,
    /// How far its replay is behind: zero when it has replayed all it
    /// received; `None` when unknown (it never replayed a transaction, or
    /// is not streaming).
    pub lag: Option<Duration>,
    /// The WAL position it has replayed up to (`None` when down, or not a
    /// standby).
    pub replayed: Option<PgLsn>,
}

impl Health {
    const DOWN: Health = Health {
        up: false,
        lag: None,
        replayed: None,
    };

    /// Whether it may serve a read: up, lagging at most `max_lag`, and,
    /// when the reader wrote at `written`, replayed past that point.
    pub(crate) fn serves(&self, max_lag: Duration, written: Option<Written>) -> bool {
        if !self.up || self.lag.is_none_or(|lag| lag > max_lag) {
            return false;
        }
        match written {
            None => true,
            Some(Written::At(lsn)) => self.replayed.is_some_and(|r| r >= lsn),
            Some(Written::Unknown) => false,
        }
    }
}

/// What a reader wrote last: the primary's WAL position after it, or only
/// that it wrote (its position was not read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    At(PgLsn),
    Unknown,
}

/// Its lag is zero when it replayed everything it received; otherwise the
/// age of the last transaction it replayed.
const CHECK: &str = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), \
     CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() \
     THEN 0::float8 \
     ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END";

/// A replica's pool and its cached health.
#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) pool: Pool,
    state: Mutex<Checked>,
    checking: AtomicBool,
}

#[derive(Debug, Clone, Copy)]
struct Checked {
    health: Health,
    at: Option<coarsetime::Instant>,
}

impl Replica {
    pub(crate) fn new(pool: Pool) -> Self {
        Replica {
            pool,
            state: Mutex::new(Checked {
                health: Health::DOWN,
                at: None,
            }),
            checking: AtomicBool::new(false),
        }
    }

    /// The cached health when younger than `max_age`; otherwise checked
    /// now, by one caller at a time (the others take the cached value),
    /// within `timeout`.
    pub(crate) async fn health(&self, max_age: Duration, timeout: Duration) -> Health {
        let cached = *self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if cached
            .at
            .is_some_and(|at| super::coarse_since(at) < max_age)
        {
            return cached.health;
        }
        if self.checking.swap(true, Ordering::AcqRel) {
            return cached.health;
        }
        // Cleared however this future ends, dropped half-way included.
        struct Release<'a>(&'a AtomicBool);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _release = Release(&self.checking);
        // Boxed: a check's state stays out of every read's future.
        let health = Box::pin(tokio::time::timeout(timeout, self.check()))
            .await
            .unwrap_or(Health::DOWN);
        self.mark(health);
        health
    }

    /// The cached health when younger than `max_age`.
    pub(crate) fn fresh_health(&self, max_age: Duration) -> Option<Health> {
        let cached = *self.state.lock().unwrap_or_else(PoisonError::into_inner);
        cached
            .at
            .is_some_and(|at| super::coarse_since(at) < max_age)
            .then_some(cached.health)
    }

    /// The health as last checked.
    pub(crate) fn cached(&self) -> Health {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .health
    }

    /// Records what a check (or a failed read) found.
    pub(crate) fn mark(&self, health: Health) {
        if crate::telemetry::metrics_enabled() {
            if let Some(lag) = health.lag {
                metrics::gauge!(
                    crate::telemetry::REPLICA_LAG,
                    crate::telemetry::POOL_NAME => self.pool.name().to_owned()
                )
                .set(lag.as_secs_f64());
            }
        }
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = Checked {
            health,
            at: Some(super::coarse_now()),
        };
    }

    /// Records that the replica did not answer.
    pub(crate) fn mark_down(&self) {
        self.mark(Health::DOWN);
    }

    async fn check(&self) -> Health {
        let Ok(conn) = self.pool.get().await else {
            return Health::DOWN;
        };
        let Ok(row) = conn
            .query_typed(CHECK, &[])
            .await
            .map(|rows| rows.into_iter().next())
        else {
            return Health::DOWN;
        };
        let Some(row) = row else {
            return Health::DOWN;
        };
        let standby: Option<bool> = row.try_get(0).ok().flatten();
        let replayed: Option<PgLsn> = row.try_get(1).ok().flatten();
        let seconds: Option<f64> = row.try_get(2).ok().flatten();
        Health {
            up: standby.is_some(),
            lag: seconds
                .filter(|s| s.is_finite())
                .map(|s| Duration::from_secs_f64(s.max(0.0))),
            replayed,
        }
    }
}
