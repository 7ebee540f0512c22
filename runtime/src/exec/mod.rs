//! Where statements run: executors, transactions, and the redaction of the
//! values they carry.
//!
//! An [`Executor`] is anything statements can run on: a [`Connection`]
//! (what the pool and [`Connection::connect`] hand out), a [`Transaction`],
//! a bare tokio-postgres `Client` or `Transaction`, or [`Unnamed`] for
//! PgBouncer's transaction pooling. Connections keep the statements they
//! prepared in a [`StatementCache`]. Every executor binds values through
//! [`redact::Redacted`], so the driver's debug log never shows them.

pub(crate) mod bind;
mod cache;
mod connection;
pub mod redact;
mod retry;
pub(crate) mod run;
mod scope;
mod transaction;

use std::future::Future;
use std::sync::Arc;

use futures_util::{pin_mut, Stream, TryStreamExt as _};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row, RowStream, Statement};

use crate::error::{is_unavailable, Failure};
use crate::params::SqlParam;
use redact::{redacted, Redacted};

pub(crate) use bind::{bind_values, Bound};
pub use cache::{Sql, StatementCache, BARE_CLIENTS, BUILT_CAPACITY};
pub use connection::Connection;
pub use retry::Retry;
pub use scope::{set_scope, Scope};
pub(crate) use scope::{unless_tenant_missing, SET_SCOPE, SET_SCOPE_TYPES, TENANT_IS_SET};
pub use transaction::{
    transaction, transaction_with, Isolation, Transaction, Transactional, TxOptions,
};

/// Something statements can run on: a [`Connection`] (or a pooled one), a
/// [`Transaction`], [`Unnamed`] for PgBouncer's transaction pooling, or a
/// bare `tokio_postgres` `Client` or `Transaction`.
///
/// Each call carries the parameters' PostgreSQL types, taken from the
/// entity's schema; executors that let the server infer them ignore them.
/// The futures are `Send`, so repository calls can run inside spawned tasks.
///
/// | executor | statements |
/// |---|---|
/// | [`Connection`], pooled connection, [`Transaction`] begun on either | prepared once per connection, then one round trip |
/// | bare `Client` | the same, its statements kept in a process-wide registry by the client's address (see below) |
/// | [`Unnamed`], bare `tokio_postgres::Transaction`, [`Transaction`] begun on a bare `Client` | one unnamed round trip, parsed and planned every time |
///
/// A bare `Client` has no room for a cache, so the kit keeps one for it,
/// found by the client's address, for at most [`BARE_CLIENTS`] clients. A
/// client dropped and replaced by a new one at the same address leaves its
/// statements behind; the new session answers "no such statement" (their
/// names are unique in the process, so never the wrong one), and the kit
/// prepares again and retries. Since a failed statement aborts a
/// transaction, transactions on a bare client run unnamed. (A transaction
/// opened with SQL, `batch_execute("BEGIN")`, is invisible to the kit: on a
/// bare client it could meet that "no such statement" and abort; use
/// tokio-postgres's or the kit's transactions.) Wrap the client in a
/// [`Connection`] to keep statements in its transactions too.
pub trait Executor: Sync {
    /// The rows of a statement, read as they arrive.
    type Rows: Stream<Item = Result<Row, tokio_postgres::Error>> + Send;

    /// Runs a statement; its rows are read as they arrive, the server held
    /// back by the socket while the caller does not read (backpressure).
    /// `access` says whether the statement only reads, so an executor over
    /// several servers ([`Cluster`](crate::cluster::Cluster)) may send it
    /// to a replica; one connection ignores it.
    fn rows<'a>(
        &'a self,
        access: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> impl Future<Output = Result<Self::Rows, Failure>> + Send + 'a;

    /// Whether statements run inside a transaction the kit can see (a
    /// [`Transaction`] or a `tokio_postgres::Transaction`), where row locks
    /// last until it ends.
    fn in_transaction(&self) -> bool;

    /// Whether a read whose server went away before its last row may run
    /// once more: an executor over several servers says yes, as the next
    /// run goes to another server. One connection says no (the default).
    ///
    /// The kit asks only for reads whose result is taken whole — a get, a
    /// list, a page, a count, a relation load — where no row was handed
    /// out yet; a [`stream`](crate::repo::Repo::stream) that fails half-way
    /// fails.
    fn reads_again(&self) -> bool {
        false
    }

    /// Runs a statement returning rows, and collects them. A read the
    /// executor [`reads_again`](Self::reads_again) runs once more when its
    /// server went away before the last row.
    fn query<'a>(
        &'a self,
        access: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> impl Future<Output = Result<Vec<Row>, Failure>> + Send + 'a {
        async move {
            match all_rows(self.rows(access, sql, params, types).await?).await {
                // Boxed: the rare second run's state stays out of every
                // call's future.
                Err(e) if is_unavailable(&e) && may_read_again(self, access) => {
                    Box::pin(async move {
                        Ok(all_rows(self.rows(access, sql, params, types).await?).await?)
                    })
                    .await
                }
                rows => Ok(rows?),
            }
        }
    }

    /// Runs a statement returning at most one row (the first, if it
    /// returns more); run once more as [`query`](Self::query) is.
    fn query_opt<'a>(
        &'a self,
        access: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> impl Future<Output = Result<Option<Row>, Failure>> + Send + 'a {
        async move {
            match first_row(self.rows(access, sql, params, types).await?).await {
                Err(e) if is_unavailable(&e) && may_read_again(self, access) => {
                    Box::pin(async move {
                        Ok(first_row(self.rows(access, sql, params, types).await?).await?)
                    })
                    .await
                }
                row => Ok(row?),
            }
        }
    }
}

/// What a statement does, for executors that choose a server per
/// statement: reads may go to a replica, everything else to the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Reads only, and may see a replica's (slightly older) data: gets,
    /// lists, counts, pages, relation loads, streams.
    Read,
    /// Writes, locks, or must see the primary's latest data.
    Write,
}

/// Whether a statement of `access` runs once more when its server went
/// away: a read, on an executor that [`reads_again`](Executor::reads_again).
pub(crate) fn may_read_again<X: Executor + ?Sized>(executor: &X, access: Access) -> bool {
    access == Access::Read && executor.reads_again()
}

/// Every row of a result.
async fn all_rows<S>(rows: S) -> Result<Vec<Row>, tokio_postgres::Error>
where
    S: Stream<Item = Result<Row, tokio_postgres::Error>>,
{
    rows.try_collect().await
}

/// The first row of a result; the rest, if any, are read and dropped so the
/// connection is ready for the next statement.
async fn first_row<S>(rows: S) -> Result<Option<Row>, tokio_postgres::Error>
where
    S: Stream<Item = Result<Row, tokio_postgres::Error>>,
{
    pin_mut!(rows);
    let first = rows.try_next().await?;
    // A finished stream must not be polled again (the driver answers
    // "connection closed"), so drain only when there was a row.
    if first.is_some() {
        while rows.try_next().await?.is_some() {}
    }
    Ok(first)
}

/// The two things of tokio-postgres statements run on: a `Client`, or a
/// `Transaction` (whose statements see its snapshot).
trait Driver: Sync {
    /// Whether a failed statement aborts the surrounding transaction, so it
    /// must not be retried.
    const IN_TRANSACTION: bool;
    fn prepare_typed(
        &self,
        sql: &str,
        types: &[Type],
    ) -> impl Future<Output = Result<Statement, tokio_postgres::Error>> + Send;
    fn query_prepared<'a>(
        &'a self,
        statement: &'a Statement,
        params: &'a [SqlParam<'a>],
    ) -> impl Future<Output = Result<RowStream, tokio_postgres::Error>> + Send + 'a;
    fn query_unnamed<'a>(
        &'a self,
        sql: &'a str,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> impl Future<Output = Result<RowStream, tokio_postgres::Error>> + Send + 'a;
}

macro_rules! driver {
    ($($ty:ty => $in_transaction:expr),*) => {$(
        impl Driver for $ty {
            const IN_TRANSACTION: bool = $in_transaction;
            fn prepare_typed(
                &self,
                sql: &str,
                types: &[Type],
            ) -> impl Future<Output = Result<Statement, tokio_postgres::Error>> + Send {
                <$ty>::prepare_typed(self, sql, types)
            }
            fn query_prepared<'a>(
                &'a self,
                statement: &'a Statement,
                params: &'a [SqlParam<'a>],
            ) -> impl Future<Output = Result<RowStream, tokio_postgres::Error>> + Send + 'a {
                self.query_raw(statement, redacted(params))
            }
            fn query_unnamed<'a>(
                &'a self,
                sql: &'a str,
                params: &'a [SqlParam<'a>],
                types: &'a [Type],
            ) -> impl Future<Output = Result<RowStream, tokio_postgres::Error>> + Send + 'a {
                self.query_typed_raw(sql, typed(params, types))
            }
        }
    )*};
}

driver!(Client => false, tokio_postgres::Transaction<'_> => true);

/// An executor as the kit sees it: the driver statements run on, and the
/// connection's statement cache when there is one.
trait Session: Sync {
    type Driver: Driver;
    fn driver(&self) -> &Self::Driver;
    fn cache(&self) -> Option<CacheRef<'_>>;
}

/// A connection's statement cache: its own, or a bare client's from the
/// process-wide registry.
enum CacheRef<'a> {
    Borrowed(&'a StatementCache),
    Shared(Arc<StatementCache>),
}

impl std::ops::Deref for CacheRef<'_> {
    type Target = StatementCache;
    fn deref(&self) -> &StatementCache {
        match self {
            CacheRef::Borrowed(cache) => cache,
            CacheRef::Shared(cache) => cache,
        }
    }
}

impl<S: Session> Executor for S {
    type Rows = RowStream;

    async fn rows<'a>(
        &'a self,
        _: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> Result<RowStream, Failure> {
        Ok(open(self, sql, params, types).await?)
    }

    // A session reads from one server, so a read never runs again: the
    // statement's stream is read in the future that opened it, with no
    // `rows` or `first_row` future moved into it (each move of a large
    // future is a `memcpy` on every call).
    async fn query<'a>(
        &'a self,
        _: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> Result<Vec<Row>, Failure> {
        let rows = open(self, sql, params, types).await?;
        Ok(rows.try_collect().await?)
    }

    async fn query_opt<'a>(
        &'a self,
        _: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> Result<Option<Row>, Failure> {
        let rows = open(self, sql, params, types).await?;
        pin_mut!(rows);
        let first = rows.try_next().await?;
        // A finished stream must not be polled again (the driver answers
        // "connection closed"), so drain only when there was a row.
        if first.is_some() {
            while rows.try_next().await?.is_some() {}
        }
        Ok(first)
    }

    fn in_transaction(&self) -> bool {
        <S::Driver as Driver>::IN_TRANSACTION
    }
}

/// Runs `sql` on a session: as the connection's prepared statement when it
/// has a cache (prepared on first use), otherwise unnamed. Only the
/// prepared statement's run is part of this future; the first use, the
/// unnamed run and the retry below are boxed, so their state is not
/// carried by every call.
///
/// A statement the server no longer knows (a connection reset behind the
/// kit's back) or whose plan no longer fits its table (`cached plan must
/// not change result type` after a schema change) is forgotten, and,
/// outside a transaction, prepared again and retried once.
async fn open<'a, S: Session>(
    session: &'a S,
    sql: Sql<'a>,
    params: &'a [SqlParam<'a>],
    types: &'a [Type],
) -> Result<RowStream, tokio_postgres::Error> {
    let driver = session.driver();
    let Some(cache) = session.cache() else {
        return unnamed(driver, sql, params, types).await;
    };
    if let Some(server) = cache.server() {
        record_server(server);
    }
    let Some(statement) = cache.get(sql, types) else {
        return Box::pin(first_use(driver, &cache, sql, params, types)).await;
    };
    let stale = match driver.query_prepared(&statement, params).await {
        Err(e) if is_stale(&e) => e,
        result => return result,
    };
    cache.remove(sql, types);
    if S::Driver::IN_TRANSACTION {
        return Err(stale);
    }
    drop(stale);
    Box::pin(first_use(driver, &cache, sql, params, types)).await
}

/// Runs `sql` unnamed, parsed afresh; the trace's context may go in its
/// comment without preparing anything per call.
fn unnamed<'a, D: Driver>(
    driver: &'a D,
    sql: Sql<'a>,
    params: &'a [SqlParam<'a>],
    types: &'a [Type],
) -> std::pin::Pin<Box<dyn Future<Output = Result<RowStream, tokio_postgres::Error>> + Send + 'a>> {
    Box::pin(async move {
        let traced = crate::telemetry::with_traceparent(sql.text());
        let text = traced.as_deref().unwrap_or(sql.text());
        driver.query_unnamed(text, params, types).await
    })
}

/// Prepares `sql`, keeps it in `cache` and runs it.
async fn first_use<D: Driver>(
    driver: &D,
    cache: &StatementCache,
    sql: Sql<'_>,
    params: &[SqlParam<'_>],
    types: &[Type],
) -> Result<RowStream, tokio_postgres::Error> {
    let statement = prepare(driver, cache, sql, types).await?;
    driver.query_prepared(&statement, params).await
}

/// Records where the statement goes on its span (the current one, entered
/// while the statement runs), when a subscriber keeps it.
#[inline]
fn record_server(server: &cache::Server) {
    // The statement's span is at INFO: below that nobody keeps it, and
    // finding the current span is not free.
    if tracing::level_filters::LevelFilter::current() < tracing::Level::INFO {
        return;
    }
    let span = tracing::Span::current();
    if !span.is_disabled() {
        server.record(&span);
    }
}

async fn prepare<D: Driver>(
    driver: &D,
    cache: &StatementCache,
    sql: Sql<'_>,
    types: &[Type],
) -> Result<Statement, tokio_postgres::Error> {
    let statement = driver.prepare_typed(sql.text(), types).await?;
    cache.insert(sql, types, statement.clone());
    Ok(statement)
}

/// Whether a statement failed because its preparation is out of date.
fn is_stale(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(code) if *code == SqlState::INVALID_SQL_STATEMENT_NAME => true,
        Some(code) if *code == SqlState::FEATURE_NOT_SUPPORTED => e
            .as_db_error()
            .is_some_and(|db| db.message().starts_with("cached plan must not change")),
        _ => false,
    }
}

impl Session for Connection {
    type Driver = Client;
    fn driver(&self) -> &Client {
        self
    }
    fn cache(&self) -> Option<CacheRef<'_>> {
        Some(CacheRef::Borrowed(self.statement_cache()))
    }
}

impl<'c> Session for Transaction<'c> {
    type Driver = tokio_postgres::Transaction<'c>;
    fn driver(&self) -> &tokio_postgres::Transaction<'c> {
        self
    }
    fn cache(&self) -> Option<CacheRef<'_>> {
        self.statement_cache().map(CacheRef::Borrowed)
    }
}

/// The `&mut Transaction` a [`transaction`] closure is given runs
/// statements as the transaction: `Repo::new(&tx)` and `set_scope(&tx,
/// ...)` work as written there, as `&*tx` does.
impl<'c> Session for &mut Transaction<'c> {
    type Driver = tokio_postgres::Transaction<'c>;
    fn driver(&self) -> &tokio_postgres::Transaction<'c> {
        (**self).driver()
    }
    fn cache(&self) -> Option<CacheRef<'_>> {
        (**self).cache()
    }
}

/// A bare client keeps its statements in a process-wide registry, used
/// outside transactions only: see [`cache::for_bare_client`].
impl Session for Client {
    type Driver = Client;
    fn driver(&self) -> &Client {
        self
    }
    fn cache(&self) -> Option<CacheRef<'_>> {
        Some(CacheRef::Shared(cache::for_bare_client(self)))
    }
}

impl<'c> Session for tokio_postgres::Transaction<'c> {
    type Driver = tokio_postgres::Transaction<'c>;
    fn driver(&self) -> &tokio_postgres::Transaction<'c> {
        self
    }
    fn cache(&self) -> Option<CacheRef<'_>> {
        None
    }
}

/// Runs every statement as one unnamed, typed statement (Parse, Bind,
/// Execute and Sync in a single round trip), so nothing is ever prepared by
/// name on the server and no statement spans two round trips: the mode for
/// PgBouncer in transaction pooling mode. The types come from the entity's
/// schema. Each call is parsed and planned afresh, so on a direct
/// connection a [`Connection`]'s cached statements are faster (the README's
/// benchmark table gives the cost).
#[derive(Debug, Clone, Copy)]
pub struct Unnamed<'c, C>(pub &'c C);

#[allow(private_bounds)]
impl<C: Session> Session for Unnamed<'_, C> {
    type Driver = C::Driver;
    fn driver(&self) -> &C::Driver {
        self.0.driver()
    }
    fn cache(&self) -> Option<CacheRef<'_>> {
        None
    }
}

fn typed<'p>(
    params: &'p [SqlParam<'p>],
    types: &'p [Type],
) -> impl Iterator<Item = (Redacted<'p>, Type)> + 'p {
    redacted(params).zip(types.iter().cloned())
}
