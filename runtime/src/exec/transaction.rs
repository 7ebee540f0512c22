//! Transactions that compose: a closure runs in a transaction, and inside it
//! the same helper opens a savepoint. [`transaction_with`] adds an isolation
//! level, read-only and deferrable modes, and reruns the closure when
//! PostgreSQL reports a serialization failure or a deadlock.

use std::future::Future;
use std::ops::{Deref, DerefMut};

use tokio_postgres::Client;

use super::cache::StatementCache;
use super::connection::Connection;
use super::retry::Retry;
use crate::error::{Error, Result};

/// An open transaction (or savepoint) that shares its connection's
/// statement cache, so the kit's statements inside it are prepared once per
/// connection, not once per transaction. Rolled back when dropped without
/// [`commit`](Self::commit). It dereferences to the `tokio_postgres`
/// transaction for everything else.
pub struct Transaction<'c> {
    inner: tokio_postgres::Transaction<'c>,
    cache: Option<&'c StatementCache>,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl<'c> Transaction<'c> {
    /// Wraps a `tokio_postgres` transaction with the cache of the
    /// connection it runs on (`None`: statements run unnamed).
    pub fn new(inner: tokio_postgres::Transaction<'c>, cache: Option<&'c StatementCache>) -> Self {
        Transaction { inner, cache }
    }

    /// Commits (or releases the savepoint).
    pub async fn commit(self) -> Result<(), tokio_postgres::Error> {
        self.inner.commit().await
    }

    /// Rolls back (to the savepoint).
    pub async fn rollback(self) -> Result<(), tokio_postgres::Error> {
        self.inner.rollback().await
    }

    /// The connection's statement cache, if it has one.
    pub fn statement_cache(&self) -> Option<&'c StatementCache> {
        self.cache
    }
}

impl<'c> Deref for Transaction<'c> {
    type Target = tokio_postgres::Transaction<'c>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// A connection or transaction that can open a (nested) transaction: a
/// [`Connection`], a pooled connection, an open [`Transaction`] (which
/// opens a savepoint), or a bare `tokio_postgres` `Client` or
/// `Transaction` (whose transactions run statements unnamed, having no
/// cache to share).
pub trait Transactional: Send {
    /// Opens a transaction, or a savepoint inside an open one.
    fn begin(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send;

    /// Opens a transaction with `options` (its isolation level and modes;
    /// the retry policy is [`transaction_with`]'s). A savepoint inherits its
    /// transaction's modes, so inside an open transaction any option but
    /// the defaults is [`Error::InvalidSetting`].
    fn begin_with(
        &mut self,
        options: &TxOptions,
    ) -> impl Future<Output = Result<Transaction<'_>>> + Send;
}

/// `BEGIN` with the options' modes, on a client.
async fn begin_on_client<'c>(
    client: &'c mut Client,
    cache: Option<&'c StatementCache>,
    options: &TxOptions,
) -> Result<Transaction<'c>> {
    let mut builder = client
        .build_transaction()
        .read_only(options.read_only)
        .deferrable(options.deferrable);
    if let Some(level) = options.isolation {
        builder = builder.isolation_level(level.driver());
    }
    Ok(Transaction::new(builder.start().await?, cache))
}

/// A savepoint inside `open`, once `options` are known to be ones a
/// savepoint can have.
fn begin_savepoint<'t, T: Transactional>(
    open: &'t mut T,
    options: &TxOptions,
) -> impl Future<Output = Result<Transaction<'t>>> + Send + 't {
    let refused = savepoint_options(options);
    async move {
        refused?;
        Ok(open.begin().await?)
    }
}

/// Refuses modes a savepoint cannot have.
fn savepoint_options(options: &TxOptions) -> Result<()> {
    if options.isolation.is_some() || options.read_only || options.deferrable {
        return Err(Error::InvalidSetting {
            setting: "transaction options",
            reason: "a savepoint runs with its enclosing transaction's isolation level and modes; \
                     set them where the outermost transaction begins"
                .into(),
        });
    }
    Ok(())
}

impl Transactional for Connection {
    fn begin(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send {
        let (client, cache) = self.parts();
        async move { Ok(Transaction::new(client.transaction().await?, Some(cache))) }
    }

    fn begin_with(
        &mut self,
        options: &TxOptions,
    ) -> impl Future<Output = Result<Transaction<'_>>> + Send {
        let (client, cache) = self.parts();
        begin_on_client(client, Some(cache), options)
    }
}

impl Transactional for Transaction<'_> {
    fn begin(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send {
        let cache = self.cache;
        async move { Ok(Transaction::new(self.inner.transaction().await?, cache)) }
    }

    fn begin_with(
        &mut self,
        options: &TxOptions,
    ) -> impl Future<Output = Result<Transaction<'_>>> + Send {
        begin_savepoint(self, options)
    }
}

impl Transactional for Client {
    async fn begin(&mut self) -> Result<Transaction<'_>, tokio_postgres::Error> {
        Ok(Transaction::new(self.transaction().await?, None))
    }

    fn begin_with(
        &mut self,
        options: &TxOptions,
    ) -> impl Future<Output = Result<Transaction<'_>>> + Send {
        begin_on_client(self, None, options)
    }
}

impl Transactional for tokio_postgres::Transaction<'_> {
    async fn begin(&mut self) -> Result<Transaction<'_>, tokio_postgres::Error> {
        Ok(Transaction::new(self.transaction().await?, None))
    }

    fn begin_with(
        &mut self,
        options: &TxOptions,
    ) -> impl Future<Output = Result<Transaction<'_>>> + Send {
        begin_savepoint(self, options)
    }
}

/// A transaction's isolation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isolation {
    /// Each statement sees what was committed before it began (PostgreSQL's
    /// default).
    ReadCommitted,
    /// Every statement sees one snapshot, taken at the first; a write to a
    /// row changed since fails with a serialization failure.
    RepeatableRead,
    /// As if the transactions ran one after another; PostgreSQL aborts one
    /// of any set that could not have (SQLSTATE 40001), so an invariant
    /// checked by reading holds. Pair it with a [`Retry`].
    Serializable,
}

impl Isolation {
    fn driver(self) -> tokio_postgres::IsolationLevel {
        match self {
            Isolation::ReadCommitted => tokio_postgres::IsolationLevel::ReadCommitted,
            Isolation::RepeatableRead => tokio_postgres::IsolationLevel::RepeatableRead,
            Isolation::Serializable => tokio_postgres::IsolationLevel::Serializable,
        }
    }
}

/// How [`transaction_with`] runs its closure: isolation level, read-only
/// and deferrable modes, and the [`Retry`] policy for serialization failures
/// and deadlocks. The default is the server's isolation level, read-write,
/// run once.
///
/// ```
/// use ordinance::exec::{Isolation, Retry, TxOptions};
///
/// let critical = TxOptions::new()
///     .isolation(Isolation::Serializable)
///     .retry(Retry::attempts(10));
/// let report = TxOptions::new()
///     .isolation(Isolation::Serializable)
///     .read_only()
///     .deferrable(); // waits for a safe snapshot, then can never fail to serialize
/// # let _ = (critical, report);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxOptions {
    isolation: Option<Isolation>,
    read_only: bool,
    deferrable: bool,
    retry: Retry,
}

impl Default for TxOptions {
    fn default() -> Self {
        TxOptions::new()
    }
}

impl TxOptions {
    /// The server's isolation level, read-write, run once.
    pub const fn new() -> TxOptions {
        TxOptions {
            isolation: None,
            read_only: false,
            deferrable: false,
            retry: Retry::NEVER,
        }
    }

    /// Whether the transaction is read only.
    pub const fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Sets the isolation level.
    pub const fn isolation(mut self, level: Isolation) -> TxOptions {
        self.isolation = Some(level);
        self
    }

    /// `READ ONLY`: any write fails (SQLSTATE 25006).
    pub const fn read_only(mut self) -> TxOptions {
        self.read_only = true;
        self
    }

    /// `DEFERRABLE`: with serializable and read-only, waits until it can
    /// run on a snapshot no concurrent transaction can invalidate, then
    /// runs without any risk of a serialization failure (long reports).
    pub const fn deferrable(mut self) -> TxOptions {
        self.deferrable = true;
        self
    }

    /// Reruns the whole closure after a serialization failure (40001) or a
    /// deadlock (40P01), as `retry` says.
    pub const fn retry(mut self, retry: Retry) -> TxOptions {
        self.retry = retry;
        self
    }
}

/// Runs `work` in a transaction (a savepoint when `conn` is already one):
/// committed when it returns `Ok`, rolled back when it returns `Err`, and
/// rolled back too if it panics or the future is dropped. `conn` is a
/// [`Connection`], a pooled connection, or the transaction of an enclosing call,
/// so calls nest:
///
/// ```no_run
/// # use ordinance::prelude::*;
/// # #[derive(Entity)] pub struct Tag { pub id: Uuid, #[column(max_len = 40)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// # async fn demo(pool: &ordinance::pool::Pool) -> ordinance::Result<()> {
/// use ordinance::exec::transaction;
/// use ordinance::repo::Repo;
///
/// let mut conn = pool.get().await?;
/// let (a, b) = transaction(&mut conn, async |tx| {
///     let a = Repo::new(&*tx).insert(&NewTag { name: "a".into() }).await?;
///     // A savepoint: its failure can be handled without losing `a`.
///     let b = transaction(tx, async |sp| {
///         Repo::new(&*sp).insert(&NewTag { name: "b".into() }).await
///     })
///     .await
///     .ok();
///     Ok((a.id, b.map(|b| b.id)))
/// })
/// .await?;
/// # Ok(()) }
/// ```
///
/// Errors of `BEGIN`, `COMMIT` and `ROLLBACK` are classified like any other
/// (a connection lost at `COMMIT` is [`Error::Unavailable`](crate::Error::Unavailable)).
pub async fn transaction<C, T, F>(conn: &mut C, work: F) -> Result<T>
where
    C: Transactional + ?Sized,
    F: AsyncFnOnce(&mut Transaction<'_>) -> Result<T>,
{
    let tx = conn.begin().await?;
    finish(tx, work).await
}

/// Runs `work` in a transaction with `options`, like [`transaction`], and
/// when it fails with a serialization failure ([`Error::SerializationFailure`],
/// SQLSTATE 40001) or a deadlock ([`Error::Deadlock`], 40P01) — from a
/// statement or from `COMMIT` — rolls back, waits as the options' [`Retry`]
/// says, and runs the whole closure again in a new transaction. When the
/// attempts run out, [`Error::RetriesExhausted`] carries the last failure.
/// Any other error ends it at once.
///
/// The closure may run several times, each run on a fresh clone of it (so
/// it is `Clone`: it captures shared references, `Arc`s, copies — not
/// `&mut` state). Everything it does outside the database (sending mail)
/// must be safe to repeat, or wait until this returns.
///
/// ```no_run
/// # use ordinance::prelude::*;
/// # #[derive(Entity)] pub struct Account { pub id: Uuid, #[column(min = 0)] pub balance: i64, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// # async fn demo(conn: &mut ordinance::exec::Connection, from: Uuid, to: Uuid) -> ordinance::Result<()> {
/// use ordinance::exec::{transaction_with, Isolation, Retry, TxOptions};
/// use ordinance::repo::Repo;
///
/// let options = TxOptions::new()
///     .isolation(Isolation::Serializable)
///     .retry(Retry::attempts(10));
/// transaction_with(conn, options, async |tx| {
///     let repo = Repo::new(&*tx);
///     let mut a: Account = repo.get(from).await?;
///     let mut b: Account = repo.get(to).await?;
///     a.balance -= 10;
///     b.balance += 10;
///     repo.update(&a).await?;
///     repo.update(&b).await?;
///     Ok(())
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn transaction_with<C, T, F>(conn: &mut C, options: TxOptions, work: F) -> Result<T>
where
    C: Transactional + ?Sized,
    F: AsyncFnOnce(&mut Transaction<'_>) -> Result<T> + Clone,
{
    let most = options.retry.max_attempts();
    let span = tracing::info_span!(
        "ordinance.transaction",
        "otel.kind" = "internal",
        attempts = tracing::field::Empty
    );
    let run = async {
        let mut attempt = 1;
        let outcome = attempts(conn, &options, work, most, &mut attempt).await;
        tracing::Span::current().record("attempts", attempt);
        outcome
    };
    tracing::Instrument::instrument(run, span).await
}

/// The runs of [`transaction_with`], each in its attempt's span.
async fn attempts<C, T, F>(
    conn: &mut C,
    options: &TxOptions,
    work: F,
    most: u32,
    attempt: &mut u32,
) -> Result<T>
where
    C: Transactional + ?Sized,
    F: AsyncFnOnce(&mut Transaction<'_>) -> Result<T> + Clone,
{
    loop {
        let attempt_span = tracing::info_span!("ordinance.transaction.attempt", attempt = *attempt);
        // Each run gets a fresh copy of the closure, called once: its
        // future owns what it captured, so it is `Send` whenever they are.
        // (A closure called by `&mut` lends its captures to each future,
        // and rustc cannot prove such futures `Send` in a spawned task.)
        let run = async {
            match conn.begin_with(options).await {
                Ok(tx) => finish(tx, work.clone()).await,
                Err(e) => Err(e),
            }
        };
        let outcome = tracing::Instrument::instrument(run, attempt_span).await;
        let attempt_no = *attempt;
        let err = match outcome {
            Err(err @ (Error::SerializationFailure(_) | Error::Deadlock(_))) => err,
            other => return other,
        };
        if most <= 1 {
            return Err(err);
        }
        if attempt_no >= most {
            return Err(Error::RetriesExhausted {
                attempts: attempt_no,
                source: Box::new(err),
            });
        }
        let delay = options.retry.delay(attempt_no);
        if crate::telemetry::metrics_enabled() {
            let code = err.sqlstate().map_or("", |c| c.code()).to_owned();
            metrics::counter!(crate::telemetry::RETRIES, "error.type" => code).increment(1);
        }
        tracing::debug!(
            attempt = attempt_no,
            sqlstate = err.sqlstate().map(|c| c.code()).unwrap_or_default(),
            delay_us = delay.as_micros() as u64,
            "ordinance.retry: transaction runs again"
        );
        tokio::time::sleep(delay).await;
        *attempt += 1;
    }
}

/// Runs `work` in the open `tx`, and commits or rolls back by its outcome.
async fn finish<T, F>(mut tx: Transaction<'_>, work: F) -> Result<T>
where
    F: AsyncFnOnce(&mut Transaction<'_>) -> Result<T>,
{
    match work(&mut tx).await {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(err) => {
            // The work's error is the one to report; a failed rollback means
            // the connection is gone, and the server rolls back by itself.
            let _ = tx.rollback().await;
            Err(err)
        }
    }
}
