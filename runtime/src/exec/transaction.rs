//! Transactions that compose: a closure runs in a transaction, and inside it
//! the same helper opens a savepoint.

use std::future::Future;
use std::ops::{Deref, DerefMut};

use tokio_postgres::Client;

use super::cache::StatementCache;
use super::connection::Connection;
use crate::error::Result;

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
}

impl Transactional for Connection {
    fn begin(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send {
        let (client, cache) = self.parts();
        async move { Ok(Transaction::new(client.transaction().await?, Some(cache))) }
    }
}

impl Transactional for Transaction<'_> {
    fn begin(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send {
        let cache = self.cache;
        async move { Ok(Transaction::new(self.inner.transaction().await?, cache)) }
    }
}

impl Transactional for Client {
    async fn begin(&mut self) -> Result<Transaction<'_>, tokio_postgres::Error> {
        Ok(Transaction::new(self.transaction().await?, None))
    }
}

impl Transactional for tokio_postgres::Transaction<'_> {
    async fn begin(&mut self) -> Result<Transaction<'_>, tokio_postgres::Error> {
        Ok(Transaction::new(self.transaction().await?, None))
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
/// use ordinance::repo::{transaction, Repo};
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
    let mut tx = conn.begin().await?;
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
