//! Transactions that compose: a closure runs in a transaction, and inside it
//! the same helper opens a savepoint.

use std::future::Future;

use tokio_postgres::{Client, Transaction};

use crate::error::Result;

/// A connection or transaction that can open a (nested) transaction: a
/// [`Client`], a pooled connection, or an open [`Transaction`] (which opens
/// a savepoint).
pub trait Transactional: Send {
    /// Opens a transaction, or a savepoint inside an open one.
    fn begin(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send;
}

impl Transactional for Client {
    fn begin(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send {
        self.transaction()
    }
}

impl Transactional for Transaction<'_> {
    fn begin(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send {
        self.transaction()
    }
}

impl Transactional for deadpool_postgres::ClientWrapper {
    fn begin(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send {
        Client::transaction(self)
    }
}

impl Transactional for deadpool_postgres::Object {
    fn begin(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, tokio_postgres::Error>> + Send {
        Client::transaction(self)
    }
}

/// Runs `work` in a transaction (a savepoint when `conn` is already one):
/// committed when it returns `Ok`, rolled back when it returns `Err`, and
/// rolled back too if it panics or the future is dropped. `conn` is a
/// `Client`, a pooled connection, or the transaction of an enclosing call,
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
