//! What the cluster knows about each replica: whether it answers, how far
//! its replay is behind, and up to which WAL position it has replayed —
//! checked with one cheap query, and cached.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
///
/// The health is kept in atomics, read on every routed read without a
/// lock: the fields first, the time of the check last (release), read in
/// the other order (acquire). Two checks finishing at once may leave a
/// reader one field from each — both real observations of the last
/// moments, and a standby's replay position only grows.
#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) pool: Pool,
    up: AtomicBool,
    /// The lag in nanoseconds; `u64::MAX` when unknown.
    lag: AtomicU64,
    /// The replayed WAL position; 0 (never a real position) when unknown.
    replayed: AtomicU64,
    /// When it was checked, in coarse-clock ticks; 0 before the first.
    checked_at: AtomicU64,
    checking: AtomicBool,
}

impl Replica {
    pub(crate) fn new(pool: Pool) -> Self {
        Replica {
            pool,
            up: AtomicBool::new(false),
            lag: AtomicU64::new(u64::MAX),
            replayed: AtomicU64::new(0),
            checked_at: AtomicU64::new(0),
            checking: AtomicBool::new(false),
        }
    }

    /// The cached health when younger than `max_age`; otherwise checked
    /// now, by one caller at a time (the others take the cached value),
    /// within `timeout`.
    pub(crate) async fn health(&self, max_age: Duration, timeout: Duration) -> Health {
        if let Some(health) = self.fresh_health(max_age) {
            return health;
        }
        if self.checking.swap(true, Ordering::AcqRel) {
            return self.cached();
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
        let at = self.checked_at.load(Ordering::Acquire);
        if at == 0 {
            return None;
        }
        let age = super::coarse_since(coarsetime::Instant::from_u64(at));
        (age < max_age).then(|| self.fields())
    }

    /// The health as last checked.
    pub(crate) fn cached(&self) -> Health {
        // Pairs with `mark`'s release: the fields of that check are seen.
        let _checked = self.checked_at.load(Ordering::Acquire);
        self.fields()
    }

    fn fields(&self) -> Health {
        let lag = self.lag.load(Ordering::Relaxed);
        let replayed = self.replayed.load(Ordering::Relaxed);
        Health {
            up: self.up.load(Ordering::Relaxed),
            lag: (lag != u64::MAX).then(|| Duration::from_nanos(lag)),
            replayed: (replayed != 0).then(|| PgLsn::from(replayed)),
        }
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
        let lag = health.lag.map_or(u64::MAX, |lag| {
            u64::try_from(lag.as_nanos()).unwrap_or(u64::MAX - 1)
        });
        self.up.store(health.up, Ordering::Relaxed);
        self.lag.store(lag, Ordering::Relaxed);
        self.replayed
            .store(health.replayed.map_or(0, u64::from), Ordering::Relaxed);
        // Never 0, which means "not checked".
        let now = super::coarse_now().as_u64().max(1);
        self.checked_at.store(now, Ordering::Release);
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
