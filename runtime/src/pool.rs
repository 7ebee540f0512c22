//! A connection pool (deadpool) with the settings a service needs: minimum
//! and maximum size, how long to wait for a connection, a statement timeout,
//! and a graceful close. Its connections are [`Connection`]s: each keeps
//! the statements it prepared.
//!
//! ```no_run
//! # async fn demo(config: ordinance::deps::tokio_postgres::Config) -> ordinance::Result<()> {
//! use std::time::Duration;
//! use ordinance::pool::{Pool, PoolOptions};
//!
//! let pool = Pool::connect(config, PoolOptions {
//!     min_size: 2,
//!     max_size: 16,
//!     acquire_timeout: Duration::from_secs(2),
//!     statement_timeout: Some(Duration::from_secs(5)),
//!     name: Some("primary".into()),
//! }).await?;
//! let conn = pool.get().await?;
//! let repo = ordinance::repo::Repo::new(&*conn);
//! # let _ = repo;
//! pool.close();
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{Metrics, PoolError, RecycleError, RecycleResult, TimeoutType};
use deadpool::Runtime;
use futures_util::future::BoxFuture;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Config, NoTls, Socket};

use crate::error::{Error, Result};
use crate::exec::{Connection, Transaction, Transactional};
use crate::telemetry;

/// How a [`Pool`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Connections opened when the pool is created, so the first requests
    /// do not pay for connecting.
    pub min_size: usize,
    /// The most connections open at once.
    pub max_size: usize,
    /// How long [`Pool::get`] waits for a free connection before failing
    /// with [`Error::PoolTimeout`].
    pub acquire_timeout: Duration,
    /// Server-side `statement_timeout` of every connection; a statement
    /// running longer fails with [`Error::Cancelled`]. Set through the
    /// connection's startup options, so not for use behind PgBouncer.
    pub statement_timeout: Option<Duration>,
    /// The pool's name in metrics and [`status`](Pool::status)
    /// (`db.client.connection.pool.name`); `None` names it after the
    /// database. A [`Cluster`](crate::cluster::Cluster) names its pools
    /// `primary` and `replica-N` unless named here.
    pub name: Option<String>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            min_size: 0,
            max_size: 16,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: None,
            name: None,
        }
    }
}

impl PoolOptions {
    /// Refuses settings that cannot work, instead of quietly meaning
    /// something else: no connections at all, more kept open than allowed,
    /// or a statement timeout PostgreSQL would read as "no timeout".
    pub fn validate(&self) -> Result<()> {
        if self.max_size == 0 {
            return Err(Error::InvalidSetting {
                setting: "PoolOptions::max_size",
                reason: "a pool of 0 connections can serve nothing; give 1 or more".into(),
            });
        }
        if self.min_size > self.max_size {
            return Err(Error::InvalidSetting {
                setting: "PoolOptions::min_size",
                reason: format!(
                    "{} connections kept open is more than the {} allowed (max_size)",
                    self.min_size, self.max_size
                ),
            });
        }
        if let Some(t) = self.statement_timeout {
            // PostgreSQL takes whole milliseconds, and 0 means no timeout.
            if t < Duration::from_millis(1) {
                return Err(Error::InvalidSetting {
                    setting: "PoolOptions::statement_timeout",
                    reason: format!(
                        "{t:?} is under PostgreSQL's 1 ms resolution and would mean no timeout at all; \
                         give at least 1 ms, or None for no timeout"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// A pool of connections to one database.
#[derive(Debug, Clone)]
pub struct Pool {
    inner: deadpool::managed::Pool<ConnectionManager>,
    options: PoolOptions,
    name: Arc<str>,
    /// Its metrics, registered once they are first recorded.
    gauges: Arc<std::sync::OnceLock<Gauges>>,
}

/// A pool's metric handles.
#[derive(Debug)]
struct Gauges {
    idle: metrics::Gauge,
    used: metrics::Gauge,
    max: metrics::Gauge,
    pending: metrics::Gauge,
    wait: metrics::Histogram,
    use_time: metrics::Histogram,
    timeouts: metrics::Counter,
}

impl Gauges {
    fn new(name: &str) -> Gauges {
        let pool = || (telemetry::POOL_NAME, name.to_owned());
        let state = "db.client.connection.state";
        Gauges {
            idle: metrics::gauge!(
                telemetry::CONNECTION_COUNT,
                &[pool(), (state, "idle".to_owned())]
            ),
            used: metrics::gauge!(
                telemetry::CONNECTION_COUNT,
                &[pool(), (state, "used".to_owned())]
            ),
            max: metrics::gauge!(telemetry::CONNECTION_MAX, &[pool()]),
            pending: metrics::gauge!(telemetry::CONNECTION_PENDING, &[pool()]),
            wait: metrics::histogram!(telemetry::CONNECTION_WAIT_TIME, &[pool()]),
            use_time: metrics::histogram!(telemetry::CONNECTION_USE_TIME, &[pool()]),
            timeouts: metrics::counter!(telemetry::CONNECTION_TIMEOUTS, &[pool()]),
        }
    }
}

/// A pool's state at one instant: what a health endpoint reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct PoolStatus {
    /// The pool's name (`db.client.connection.pool.name`).
    pub name: String,
    /// The most connections it opens.
    pub max: usize,
    /// Connections open, idle or in use.
    pub open: usize,
    /// Open and free.
    pub idle: usize,
    /// Open and lent out.
    pub in_use: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

/// A connection borrowed from a [`Pool`]; it goes back when dropped, its
/// prepared statements with it. Dereference it (`&*conn`) to reach the
/// [`Connection`], and through it the `tokio_postgres::Client`. With
/// metrics on, how long it was lent is recorded as it goes back
/// (`db.client.connection.use_time`).
pub struct PooledConnection {
    inner: deadpool::managed::Object<ConnectionManager>,
    /// When it was lent, and where its use time goes (metrics on).
    lent: Option<(std::time::Instant, metrics::Histogram)>,
}

impl std::fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PooledConnection")
            .field(&*self.inner)
            .finish()
    }
}

impl std::ops::Deref for PooledConnection {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.inner
    }
}

impl std::ops::DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.inner
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        if let Some((lent, use_time)) = self.lent.take() {
            use_time.record(lent.elapsed().as_secs_f64());
        }
    }
}

type Connect =
    dyn Fn(&Config) -> BoxFuture<'static, Result<Connection, tokio_postgres::Error>> + Send + Sync;

/// How a [`Pool`] opens and checks its connections.
pub struct ConnectionManager {
    config: Config,
    connect: Box<Connect>,
    /// The pool's name, for the creation time's label (a cluster names
    /// its pools after they are made).
    name: std::sync::RwLock<Arc<str>>,
}

impl std::fmt::Debug for ConnectionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionManager").finish_non_exhaustive()
    }
}

impl deadpool::managed::Manager for ConnectionManager {
    type Type = Connection;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<Connection, tokio_postgres::Error> {
        let started = std::time::Instant::now();
        let made = (self.connect)(&self.config).await;
        if telemetry::metrics_enabled() && made.is_ok() {
            let name = self
                .name
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .to_string();
            metrics::histogram!(telemetry::CONNECTION_CREATE_TIME, telemetry::POOL_NAME => name)
                .record(started.elapsed().as_secs_f64());
        }
        made
    }

    /// A broken connection is detected by the next statement on it
    /// (Error::ConnectionLost); checking each one on checkout would add a
    /// round trip to every request.
    /// A connection left inside a transaction is rolled back first.
    async fn recycle(
        &self,
        conn: &mut Connection,
        _: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        if conn.is_closed() {
            return Err(RecycleError::message("the connection is closed"));
        }
        // Work dropped half-way through a transaction the kit began by
        // hand (a tenant-scoped statement whose rows were not all read)
        // leaves it open: end it before anyone else uses the connection.
        if conn.take_in_doubt() {
            conn.batch_execute("ROLLBACK")
                .await
                .map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

impl Transactional for PooledConnection {
    fn begin(
        &mut self,
    ) -> impl std::future::Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send
    {
        Connection::begin(&mut *self)
    }

    fn begin_with(
        &mut self,
        options: &crate::exec::TxOptions,
    ) -> impl std::future::Future<Output = Result<Transaction<'_>>> + Send {
        Connection::begin_with(&mut *self, options)
    }
}

impl Pool {
    /// Creates the pool, without TLS, and opens `min_size` connections.
    pub async fn connect(config: tokio_postgres::Config, options: PoolOptions) -> Result<Pool> {
        Pool::connect_with_tls(config, options, NoTls).await
    }

    /// Creates the pool with a TLS connector, e.g.
    /// [`tls::connector_from_pem`](crate::tls) (feature
    /// `tls`) or any other `tokio_postgres` TLS implementation. Whether TLS
    /// is required is the config's `sslmode` (`ssl_mode`): use `require` so a
    /// server without TLS is refused rather than used in the clear.
    pub async fn connect_with_tls<T>(
        mut config: tokio_postgres::Config,
        options: PoolOptions,
        tls: T,
    ) -> Result<Pool>
    where
        T: MakeTlsConnect<Socket> + Clone + Sync + Send + 'static,
        T::Stream: Sync + Send + 'static,
        T::TlsConnect: Sync + Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        options.validate()?;
        if let Some(t) = options.statement_timeout {
            let mut startup = config.get_options().unwrap_or_default().to_owned();
            if !startup.is_empty() {
                startup.push(' ');
            }
            startup.push_str(&format!("-c statement_timeout={}", t.as_millis()));
            config.options(&startup);
        }
        let name: Arc<str> = match &options.name {
            Some(name) => name.as_str().into(),
            None => config.get_dbname().unwrap_or("postgres").into(),
        };
        let manager = ConnectionManager {
            name: std::sync::RwLock::new(name.clone()),
            config,
            connect: Box::new(move |config: &Config| {
                let (config, tls) = (config.clone(), tls.clone());
                Box::pin(async move { Connection::connect_with_tls(&config, tls).await })
            }),
        };
        let inner = deadpool::managed::Pool::builder(manager)
            .max_size(options.max_size)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.acquire_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::PoolSetup(e.to_string()))?;
        let pool = Pool {
            inner,
            options,
            name,
            gauges: Arc::default(),
        };
        let mut warm = Vec::with_capacity(pool.options.min_size);
        for _ in 0..pool.options.min_size {
            warm.push(pool.get().await?);
        }
        Ok(pool)
    }

    /// A connection, waiting at most `acquire_timeout` for one to be free.
    pub async fn get(&self) -> Result<PooledConnection> {
        if !telemetry::metrics_enabled() {
            return match self.inner.get().await {
                Ok(inner) => Ok(PooledConnection { inner, lent: None }),
                Err(e) => Err(self.pool_error(e)),
            };
        }
        let started = std::time::Instant::now();
        let got = self.inner.get().await;
        let gauges = self.gauges();
        gauges.wait.record(started.elapsed().as_secs_f64());
        if let Err(PoolError::Timeout(_)) = &got {
            gauges.timeouts.increment(1);
        }
        self.record_metrics();
        match got {
            Ok(inner) => Ok(PooledConnection {
                inner,
                lent: Some((std::time::Instant::now(), gauges.use_time.clone())),
            }),
            Err(e) => Err(self.pool_error(e)),
        }
    }

    fn gauges(&self) -> &Gauges {
        self.gauges.get_or_init(|| Gauges::new(&self.name))
    }

    fn pool_error(&self, e: PoolError<tokio_postgres::Error>) -> Error {
        match e {
            // Opening a new connection timed out: the server is not
            // answering, which is the connection variant, not a full pool.
            PoolError::Timeout(TimeoutType::Create) => Error::Unavailable(
                crate::PgError::connect_timeout(self.options.acquire_timeout),
            ),
            PoolError::Timeout(_) => Error::PoolTimeout {
                waited: self.options.acquire_timeout,
            },
            PoolError::Closed => Error::PoolClosed,
            PoolError::Backend(e) => Error::from(e),
            other => Error::PoolSetup(other.to_string()),
        }
    }

    /// The pool's name in metrics and status.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether its options named it.
    pub(crate) fn has_given_name(&self) -> bool {
        self.options.name.is_some()
    }

    /// This pool under another name (the same connections).
    pub(crate) fn renamed(&self, name: &str) -> Pool {
        let mut pool = self.clone();
        pool.name = name.into();
        pool.gauges = Arc::default();
        *self
            .inner
            .manager()
            .name
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = pool.name.clone();
        pool
    }

    /// Its state now: open, idle and lent connections, waiting requests.
    pub fn status(&self) -> PoolStatus {
        let s = self.inner.status();
        PoolStatus {
            name: self.name.to_string(),
            max: s.max_size,
            open: s.size,
            idle: s.available,
            in_use: s.size.saturating_sub(s.available),
            waiting: s.waiting,
        }
    }

    /// Sets the pool's gauges (`db.client.connection.count` by state,
    /// `.max`, `.pending_requests`) from its [`status`](Self::status),
    /// when metrics are [enabled](telemetry::enable_metrics).
    pub fn record_metrics(&self) {
        if !telemetry::metrics_enabled() {
            return;
        }
        let s = self.inner.status();
        let gauges = self.gauges();
        gauges.idle.set(s.available as f64);
        gauges.used.set(s.size.saturating_sub(s.available) as f64);
        gauges.max.set(s.max_size as f64);
        gauges.pending.set(s.waiting as f64);
    }

    /// Connections open now, busy or idle.
    pub fn size(&self) -> usize {
        self.inner.status().size
    }

    /// Closes the pool: idle connections are closed now, busy ones when they
    /// come back, and every later [`get`](Self::get) fails with [`Error::PoolClosed`].
    pub fn close(&self) {
        self.inner.close();
    }
}
