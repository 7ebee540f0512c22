//! One handle for a service: a primary pool and any number of replica
//! pools, routing each statement, and scoping each transaction to a tenant
//! and an actor.
//!
//! A [`Cluster`] is an [`Executor`]: `Repo::new(&cluster)` (or
//! [`cluster.repo()`](Cluster::repo)) runs every statement on a connection
//! borrowed for that statement. Reads — get, find, list, count, pages,
//! relation loads, joins, streams — go to a replica that is up, lags at
//! most [`ClusterOptions::max_lag`], and has replayed the handle's own last
//! write; everything else (writes, `fetch` of a write builder, bulk
//! changes, transactions, locking reads, which need a transaction) goes to
//! the primary, as does every statement of a handle from
//! [`on_primary`](Cluster::on_primary).
//!
//! **Read-your-writes.** After a write, the handle reads the primary's WAL
//! insert position (`pg_current_wal_insert_lsn()`, one round trip on the writing
//! connection), and its reads go to the primary until a replica has
//! replayed that far (`pg_last_wal_replay_lsn()`) or
//! [`ClusterOptions::read_your_writes`] has passed. Clones of a handle
//! share what they wrote; [`session`](Cluster::session) makes a handle that
//! tracks its own (one per request, or per user).
//!
//! **Replica health.** Whether a replica answers, how far its replay is
//! behind and what it replayed are read with one query, cached for
//! [`ClusterOptions::health_interval`], refreshed by one caller at a time.
//! A replica that is down, or lags more than the bound, is skipped. A read
//! whose replica goes away is marked down and runs again elsewhere: before
//! its first row always, and at any point when its result is taken whole
//! (get, find, list, count, pages, relation loads, joins), as nothing was
//! handed out yet; a [`stream`](crate::repo::Repo::stream) that has
//! yielded rows fails with [`Error::Unavailable`]. When
//! no replica can serve a read, [`WhenBehind`] says whether to use the
//! primary at once, or to wait a while for a replica to catch up.
//!
//! **Tenants and actors.** [`for_tenant`](Cluster::for_tenant) and
//! [`as_actor`](Cluster::as_actor) give a handle whose every transaction
//! sets `app.tenant_id` and `app.actor_id` with `set_config(…, true)`
//! (transaction-local, so safe behind PgBouncer's transaction pooling).
//! Outside [`transaction`](Cluster::transaction), each statement of a
//! scoped handle runs in a transaction of its own: `BEGIN`, the settings
//! and the statement are sent together (one round trip), and a `COMMIT`
//! follows once its rows are read.
//!
//! ```no_run
//! # use ordinance::prelude::*;
//! # #[derive(Entity, Debug)] pub struct User { pub id: Uuid, #[column(max_len = 320)] pub email: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! # async fn demo(primary: ordinance::pool::Pool, replica: ordinance::pool::Pool) -> ordinance::Result<()> {
//! use ordinance::cluster::{Cluster, ClusterOptions};
//!
//! let cluster = Cluster::new(primary, vec![replica], ClusterOptions::default())?;
//! let db = cluster.session();                    // read-your-writes per request
//! let user = db.repo().insert(&NewUser { email: "ada@example.com".into() }).await?;
//! let again = db.repo().get::<User>(user.id).await?; // the primary, until a replica has it
//! # let _ = again;
//! # Ok(()) }
//! ```

mod health;
mod rows;
mod track;
mod whole;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join3;
use tokio_postgres::types::Type;
use uuid::Uuid;

use crate::error::{is_unavailable, Error, Failure, Result};
use crate::exec::{
    transaction_with, Access, Executor, Scope, Sql, Transaction, TxOptions, Unnamed, SET_SCOPE,
    SET_SCOPE_TYPES,
};
use crate::params::SqlParam;
use crate::pool::Pool;
use crate::repo::Repo;

pub use health::Health;
pub use rows::Rows;

use health::{Replica, Written};
use rows::Finish;
use track::Tracker;

/// What a read does when no replica can serve it (all lag too far, or none
/// has replayed the handle's last write yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenBehind {
    /// Read from the primary at once.
    Primary,
    /// Wait up to this long for a replica to catch up (checking every few
    /// milliseconds), then read from the primary. Replicas that are down
    /// are not waited for.
    Wait(Duration),
}

/// How a [`Cluster`] routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterOptions {
    /// A replica whose replay is further behind than this is skipped.
    pub max_lag: Duration,
    /// After a write, how long the handle's reads may wait for a replica
    /// to replay it before they stop caring (by then any healthy replica
    /// has it); until then they go where the write is visible.
    pub read_your_writes: Duration,
    /// What a read does when no replica can serve it.
    pub when_behind: WhenBehind,
    /// How long a replica's health is trusted before it is checked again.
    pub health_interval: Duration,
    /// How long a health check may take before the replica counts as down.
    pub health_timeout: Duration,
    /// Run every statement unnamed (see [`Unnamed`]): for pools that reach
    /// the servers through PgBouncer in transaction pooling mode, where a
    /// statement prepared on one server connection is unknown on the next.
    pub unnamed_statements: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            max_lag: Duration::from_secs(1),
            read_your_writes: Duration::from_secs(10),
            when_behind: WhenBehind::Primary,
            health_interval: Duration::from_millis(500),
            health_timeout: Duration::from_secs(1),
            unnamed_statements: false,
        }
    }
}

impl ClusterOptions {
    /// Refuses settings that cannot mean what they say.
    pub fn validate(&self) -> Result<()> {
        if self.health_timeout.is_zero() {
            return Err(Error::InvalidSetting {
                setting: "ClusterOptions::health_timeout",
                reason: "a check given no time always fails, so no replica would ever serve; \
                         give it some milliseconds"
                    .into(),
            });
        }
        Ok(())
    }
}

/// What [`Cluster::health`] reports.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ClusterHealth {
    /// The primary's pool.
    pub primary: crate::pool::PoolStatus,
    /// Each replica, in the order given.
    pub replicas: Vec<ReplicaHealth>,
}

/// One replica in [`ClusterHealth`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ReplicaHealth {
    /// Its pool.
    pub pool: crate::pool::PoolStatus,
    /// Whether it answered its last check.
    pub up: bool,
    /// How far its replay is behind, in seconds (`None` when unknown).
    pub lag_seconds: Option<f64>,
    /// Whether reads go to it now: up and within `max_lag`.
    pub routable: bool,
}

/// A primary pool, replica pools, routing, read-your-writes, and the
/// tenant and actor of its work: see the [module docs](self). Cheap to
/// clone; clones share the pools, the replicas' health and what was
/// written.
#[derive(Debug, Clone)]
pub struct Cluster {
    shared: Arc<Shared>,
    tracker: Arc<Tracker>,
    scope: Scope,
    primary_only: bool,
}

#[derive(Debug)]
struct Shared {
    primary: Pool,
    replicas: Vec<Arc<Replica>>,
    options: ClusterOptions,
    /// Spreads reads over the replicas.
    next: AtomicUsize,
}

/// Where a statement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Primary,
    Replica(usize),
}

impl Cluster {
    /// A handle over `primary` and `replicas` (none is fine: everything
    /// then runs on the primary).
    pub fn new(primary: Pool, replicas: Vec<Pool>, options: ClusterOptions) -> Result<Cluster> {
        options.validate()?;
        // Each pool by its part in metrics and health, unless named.
        let named = |pool: Pool, name: String| {
            if pool.has_given_name() {
                pool
            } else {
                pool.renamed(&name)
            }
        };
        Ok(Cluster {
            shared: Arc::new(Shared {
                primary: named(primary, "primary".into()),
                replicas: replicas
                    .into_iter()
                    .enumerate()
                    .map(|(i, pool)| Arc::new(Replica::new(named(pool, format!("replica-{i}")))))
                    .collect(),
                options,
                next: AtomicUsize::new(0),
            }),
            tracker: Arc::default(),
            scope: Scope::default(),
            primary_only: false,
        })
    }

    /// Entity operations, routed statement by statement.
    pub fn repo(&self) -> Repo<'_, Cluster> {
        Repo::new(self)
    }

    /// The same pools and scope, tracking its own writes for
    /// read-your-writes: one per request (or per user), so one request's
    /// write does not send every other request's reads to the primary.
    pub fn session(&self) -> Cluster {
        Cluster {
            tracker: Arc::default(),
            ..self.clone()
        }
    }

    /// A handle running everything on the primary: for reads that must see
    /// the latest data whatever a replica has.
    pub fn on_primary(&self) -> Cluster {
        Cluster {
            primary_only: true,
            ..self.clone()
        }
    }

    /// A handle whose work is for `tenant`: tenant tables show and accept
    /// only that tenant's rows.
    pub fn for_tenant(&self, tenant: Uuid) -> Cluster {
        self.scoped(Scope {
            tenant: Some(tenant),
            ..self.scope
        })
    }

    /// A handle whose changes are made by `actor`: `created_by` and
    /// `updated_by` record it.
    pub fn as_actor(&self, actor: Uuid) -> Cluster {
        self.scoped(Scope {
            actor: Some(actor),
            ..self.scope
        })
    }

    /// A handle with exactly `scope` (an empty one clears it).
    pub fn scoped(&self, scope: Scope) -> Cluster {
        Cluster {
            scope,
            ..self.clone()
        }
    }

    /// The handle's tenant and actor.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The primary's pool, for what needs a connection of its own (`COPY`,
    /// batch inserts, [`migrate`](crate::migrate)). Writes made on it are
    /// not tracked for read-your-writes: read them through
    /// [`on_primary`](Self::on_primary).
    pub fn primary(&self) -> &Pool {
        &self.shared.primary
    }

    /// The cluster's state for a health endpoint: each pool's
    /// [`status`](Pool::status), and each replica's health — checked now
    /// when older than the health interval — lag, and whether a read may
    /// go to it. `Serialize` with the `serde` feature.
    pub async fn health(&self) -> ClusterHealth {
        let options = &self.shared.options;
        let mut replicas = Vec::with_capacity(self.shared.replicas.len());
        for replica in &self.shared.replicas {
            let health = replica
                .health(options.health_interval, options.health_timeout)
                .await;
            replicas.push(ReplicaHealth {
                pool: replica.pool.status(),
                up: health.up,
                lag_seconds: health.lag.map(|l| l.as_secs_f64()),
                routable: health.serves(options.max_lag, None),
            });
        }
        ClusterHealth {
            primary: self.shared.primary.status(),
            replicas,
        }
    }

    /// Each replica's health as last checked (without checking).
    pub fn replica_health(&self) -> Vec<Health> {
        self.shared.replicas.iter().map(|r| r.cached()).collect()
    }

    /// Runs `work` in a transaction on the primary, scoped to the handle's
    /// tenant and actor; see [`transaction_with`](Self::transaction_with).
    pub async fn transaction<T, F>(&self, work: F) -> Result<T>
    where
        F: AsyncFnOnce(&mut Transaction<'_>) -> Result<T> + Clone,
    {
        self.transaction_with(TxOptions::new(), work).await
    }

    /// Runs `work` in a transaction with `options` on the primary (retried
    /// as they say, see [`exec::transaction_with`](crate::exec::transaction_with)),
    /// its tenant and actor set first. Batch inserts and `COPY` run inside
    /// it: `insert_many(tx, …)`. Reads after it see what it wrote.
    pub async fn transaction_with<T, F>(&self, options: TxOptions, work: F) -> Result<T>
    where
        F: AsyncFnOnce(&mut Transaction<'_>) -> Result<T> + Clone,
    {
        let mut conn = self.shared.primary.get().await?;
        let scope = self.scope;
        let work = async move |tx: &mut Transaction<'_>| {
            if !scope.is_empty() {
                crate::exec::set_scope(&*tx, scope).await?;
            }
            work(tx).await
        };
        let out = if self.shared.options.unnamed_statements {
            // A bare client's transactions keep no statements.
            let client: &mut tokio_postgres::Client = &mut conn;
            transaction_with(client, options, work).await
        } else {
            transaction_with(&mut *conn, options, work).await
        };
        if !options.is_read_only() && !self.shared.replicas.is_empty() {
            match &out {
                Ok(_) => self.tracker.record_after_write(&conn).await,
                // The connection went away: the COMMIT may have landed.
                Err(Error::Unavailable(_)) => self.tracker.wrote_unknown(),
                // Rolled back: nothing was written.
                Err(_) => {}
            }
        }
        out
    }

    /// Closes every pool.
    pub fn close(&self) {
        self.shared.primary.close();
        for replica in &self.shared.replicas {
            replica.pool.close();
        }
    }

    /// Whether reads may go to a replica at all.
    fn may_use_replicas(&self) -> bool {
        !self.primary_only && !self.shared.replicas.is_empty()
    }

    /// The replica a statement goes to: `None` for the primary.
    async fn replica_for(&self, access: Access) -> Option<&Arc<Replica>> {
        match self.replica_at_once(access) {
            Some(replica) => replica,
            None => self.replica_waiting().await,
        }
    }

    /// [`replica_for`](Self::replica_for) when it is known at once, as for
    /// nearly every statement: writes, a handle without replicas, a read
    /// whose replicas' health is fresh ([`route_at_once`](Self::route_at_once)).
    /// `None` when a health check is due or the read may wait.
    fn replica_at_once(&self, access: Access) -> Option<Option<&Arc<Replica>>> {
        if access == Access::Write || !self.may_use_replicas() {
            return Some(None);
        }
        self.route_at_once().map(|target| self.replica_at(target))
    }

    /// [`replica_for`](Self::replica_for) the long way: a replica's health
    /// checked first, or a wait for one to catch up. Boxed: its state stays
    /// out of every statement's future.
    async fn replica_waiting(&self) -> Option<&Arc<Replica>> {
        self.replica_at(Box::pin(self.route_waiting()).await)
    }

    /// The replica `target` names: `None` for the primary.
    fn replica_at(&self, target: Target) -> Option<&Arc<Replica>> {
        match target {
            Target::Replica(i) => Some(&self.shared.replicas[i]),
            Target::Primary => None,
        }
    }

    /// Where a read goes when every replica's health is fresh and a
    /// replica serves it, or none does and it goes to the primary at once;
    /// `None` when a health check is due or the read may wait (see
    /// [`route_waiting`](Self::route_waiting)). No future, no clock but
    /// the coarse one: what almost every read takes.
    fn route_at_once(&self) -> Option<Target> {
        let shared = &*self.shared;
        let options = &shared.options;
        let written = self.tracker.pending(options.read_your_writes);
        let n = shared.replicas.len();
        let start = shared.next.fetch_add(1, Ordering::Relaxed);
        let mut served = None;
        for k in 0..n {
            let i = (start + k) % n;
            let health = shared.replicas[i].fresh_health(options.health_interval)?;
            if health.serves(options.max_lag, written) {
                served = Some((k, Target::Replica(i)));
                break;
            }
        }
        let (skipped, target) = match served {
            Some(found) => found,
            None if options.when_behind == WhenBehind::Primary => (n, Target::Primary),
            None => return None,
        };
        if crate::telemetry::metrics_enabled() {
            for k in 0..skipped {
                self.skipped(&shared.replicas[(start + k) % n]);
            }
        }
        Some(target)
    }

    /// Counts a replica a read passed over.
    fn skipped(&self, replica: &Replica) {
        metrics::counter!(
            crate::telemetry::REPLICA_SKIPS,
            crate::telemetry::POOL_NAME => replica.pool.name().to_owned()
        )
        .increment(1);
    }

    /// [`replica_for`](Self::replica_for) when a replica's health must be
    /// checked first, or the read may wait for a replica to catch up.
    async fn route_waiting(&self) -> Target {
        let shared = &*self.shared;
        let options = &shared.options;
        let deadline = match options.when_behind {
            WhenBehind::Primary => None,
            WhenBehind::Wait(longest) => Some(Instant::now() + longest),
        };
        let mut max_age = options.health_interval;
        loop {
            let written = self.tracker.pending(options.read_your_writes);
            let start = shared.next.fetch_add(1, Ordering::Relaxed);
            let mut any_up = false;
            for k in 0..shared.replicas.len() {
                let i = (start + k) % shared.replicas.len();
                let health = shared.replicas[i]
                    .health(max_age, options.health_timeout)
                    .await;
                if health.serves(options.max_lag, written) {
                    return Target::Replica(i);
                }
                if crate::telemetry::metrics_enabled() {
                    self.skipped(&shared.replicas[i]);
                }
                any_up |= health.up;
            }
            // Waiting helps only a replica that answers, and only a wait
            // that may end: an unknown write position never resolves.
            let wait_for = match deadline {
                Some(deadline) if any_up && written != Some(Written::Unknown) => {
                    deadline.checked_duration_since(Instant::now())
                }
                _ => None,
            };
            match wait_for {
                Some(left) if !left.is_zero() => {
                    tokio::time::sleep(left.min(WAIT_STEP)).await;
                    max_age = WAIT_STEP;
                }
                _ => return Target::Primary,
            }
        }
    }

    /// Runs one statement on a connection from the primary's pool or
    /// `replica`'s, scoped when the handle has a scope; the rows keep the
    /// connection, and mark the replica down if it goes away while they
    /// are read.
    async fn run_on(
        &self,
        replica: Option<&Arc<Replica>>,
        access: Access,
        sql: Sql<'_>,
        params: &[SqlParam<'_>],
        types: &[Type],
    ) -> Result<Rows, Failure> {
        let pool = replica.map_or(&self.shared.primary, |r| &r.pool);
        let conn = pool.get().await?;
        let source = replica.map(Arc::clone);
        let track = (access == Access::Write && !self.shared.replicas.is_empty())
            .then(|| Arc::clone(&self.tracker));
        let unnamed = self.shared.options.unnamed_statements;
        let run = async |conn: &crate::exec::Connection| {
            if unnamed {
                Unnamed(conn).rows(access, sql, params, types).await
            } else {
                conn.rows(access, sql, params, types).await
            }
        };
        if self.scope.is_empty() {
            let rows = run(&conn).await?;
            let finish = Finish {
                conn,
                commit: false,
                track,
                source,
            };
            return Ok(Rows::new(rows, finish));
        }
        let rows = begun_in_scope(&conn, self.scope, run(&conn)).await?;
        let finish = Finish {
            conn,
            commit: true,
            track,
            source,
        };
        Ok(Rows::new(rows, finish))
    }
}

/// Runs `statement` on `conn` in a transaction begun for it, scoped to
/// `scope`: `BEGIN`, the settings (unnamed, so sent at once even on a new
/// connection) and the statement go out together, each sent when first
/// polled, in this order. The connection is left in doubt: unless the
/// caller commits, the pool rolls the transaction back when it comes home.
async fn begun_in_scope<T>(
    conn: &crate::exec::Connection,
    scope: Scope,
    statement: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    conn.set_in_doubt(true);
    let [tenant, actor] = scope.values();
    let settings: [SqlParam<'_>; 2] = [&tenant, &actor];
    let (begun, set, out) = join3(
        conn.batch_execute("BEGIN"),
        Unnamed(conn).query(
            Access::Write,
            Sql::Fixed(SET_SCOPE),
            &settings,
            SET_SCOPE_TYPES,
        ),
        statement,
    )
    .await;
    begun?;
    set?;
    out
}

/// Now on the coarse monotonic clock: a few milliseconds' resolution, and
/// far cheaper to read than `Instant::now` — enough for health intervals
/// and read-your-writes windows, which every routed read consults.
fn coarse_now() -> coarsetime::Instant {
    coarsetime::Instant::now_without_cache_update()
}

/// How long ago `at` was, on the coarse clock.
fn coarse_since(at: coarsetime::Instant) -> Duration {
    (coarse_now() - at).into()
}

/// How often a waiting read looks at the replicas again.
const WAIT_STEP: Duration = Duration::from_millis(20);

/// Whether a failure means the server went away (so a read can go elsewhere).
fn went_away(failure: &Failure) -> bool {
    match failure {
        Failure::Driver(e) => is_unavailable(e),
        Failure::Kit(e) => matches!(**e, Error::Unavailable(_)),
    }
}

impl Executor for Cluster {
    type Rows = Rows;

    async fn rows<'a>(
        &'a self,
        access: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> Result<Rows, Failure> {
        if let Some(replica) = self.replica_for(access).await {
            match self.run_on(Some(replica), access, sql, params, types).await {
                // A standby shutting down may end a statement it accepted
                // before its first row: that read, too, goes elsewhere (the
                // rows marked the replica down). After the first row, a read
                // taken whole runs again (`reads_again`); a stream's caller
                // sees the failure.
                Ok(mut rows) => match rows.peek().await {
                    Some(Err(e)) if is_unavailable(e) => {}
                    _ => return Ok(rows),
                },
                Err(failure) if went_away(&failure) => replica.mark_down(),
                Err(failure) => return Err(failure),
            }
        }
        self.run_on(None, access, sql, params, types).await
    }

    /// Runs the statement and reads every row inside this future, the
    /// connection given back as it ends: no stream is handed out, so
    /// nothing is boxed. A read whose server went away runs once more, on
    /// another replica or the primary.
    fn query<'a>(
        &'a self,
        access: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> impl Future<Output = Result<Vec<tokio_postgres::Row>, Failure>> + Send + 'a {
        self.whole(access, sql, params, types)
    }

    /// [`query`](Self::query), for at most one row.
    fn query_opt<'a>(
        &'a self,
        access: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> impl Future<Output = Result<Option<tokio_postgres::Row>, Failure>> + Send + 'a {
        self.whole(access, sql, params, types)
    }

    /// A read whose replica went away is sent elsewhere: the replica is
    /// marked down when it fails, so the next run goes to another replica
    /// or the primary.
    fn reads_again(&self) -> bool {
        self.may_use_replicas()
    }

    /// Each statement is a transaction of its own.
    fn in_transaction(&self) -> bool {
        false
    }
}
