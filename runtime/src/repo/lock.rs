//! Locking reads and work-queue claims.

use uuid::Uuid;

use super::Repo;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::exec::{Access, Executor};
use crate::query::{Claim, RowLock};

impl<'e, X: Executor> Repo<'e, X> {
    /// The live row with this id, locked as `lock` says until the
    /// transaction ends; `None` when there is no such row, or it is locked
    /// and `lock` skips locked rows. With [`RowLock::nowait`], a row locked
    /// by another transaction is [`Error::LockNotAvailable`].
    ///
    /// Only inside a transaction ([`Error::NotInTransaction`] otherwise: the
    /// lock would end with the statement).
    ///
    /// ```no_run
    /// # use ordinance::prelude::*;
    /// # #[derive(Entity)] pub struct Seat { pub id: Uuid, pub is_taken: bool, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
    /// # async fn demo(conn: &mut ordinance::exec::Connection, id: Uuid) -> ordinance::Result<()> {
    /// use ordinance::query::RowLock;
    /// use ordinance::exec::transaction;
    /// use ordinance::repo::Repo;
    ///
    /// transaction(conn, async |tx| {
    ///     let repo = Repo::new(&*tx);
    ///     let mut seat: Seat = repo.get_locked(id, RowLock::NO_KEY_UPDATE).await?;
    ///     seat.is_taken = true; // nobody else can change it meanwhile
    ///     repo.update(&seat).await?;
    ///     Ok(())
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn find_locked<E: Entity>(&self, id: Uuid, lock: RowLock) -> Result<Option<E>> {
        self.require_transaction(E::SCHEMA.name, "find_locked")?;
        let sql = &E::statements().get_locked[lock.position()];
        let row = self
            .by_id(E::SCHEMA, "get_locked", Access::Write, sql, id)
            .await?;
        row.as_ref().map(E::from_row).transpose()
    }

    /// [`find_locked`](Self::find_locked), or [`Error::NotFound`].
    pub async fn get_locked<E: Entity>(&self, id: Uuid, lock: RowLock) -> Result<E> {
        self.find_locked(id, lock).await?.ok_or(Error::NotFound {
            table: E::SCHEMA.name,
            id,
        })
    }

    /// Locks the aggregate root `root` (`#[entity(aggregate_root)]`) until
    /// the transaction ends and checks it is at the version the caller
    /// read: the start of a change to the aggregate's children made from a
    /// copy of the aggregate. Every write to a child bumps the root, so a
    /// second writer holding a copy as stale as the first's waits for the
    /// first to commit, then gets [`Error::StaleVersion`] here — before it
    /// writes anything. Only inside a transaction; [`Error::NotFound`] for
    /// a root gone or soft-deleted.
    ///
    /// ```no_run
    /// # use ordinance::prelude::*;
    /// # #[derive(Entity, Clone)] #[entity(aggregate_root)] pub struct Order { pub id: Uuid, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
    /// # #[derive(Entity, Clone)] pub struct OrderLine { pub id: Uuid, #[column(references = Order, aggregate)] pub order_id: Uuid, pub quantity: i32, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
    /// # async fn demo(conn: &mut ordinance::exec::Connection, order: Order, mut line: OrderLine) -> ordinance::Result<()> {
    /// use ordinance::exec::transaction;
    /// use ordinance::repo::Repo;
    ///
    /// transaction(conn, async |tx| {
    ///     let repo = Repo::new(&*tx);
    ///     repo.lock_aggregate(&order).await?; // StaleVersion if the order changed
    ///     line.quantity += 1;
    ///     repo.update(&line).await?; // bumps the order's version
    ///     Ok(())
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn lock_aggregate<R: Entity>(&self, root: &R) -> Result<R> {
        let schema = R::SCHEMA;
        if !schema.aggregate_root {
            return Err(Error::InvalidSetting {
                setting: "lock_aggregate",
                reason: format!(
                    "\"{}\" is not an aggregate root: add #[entity(aggregate_root)] to {}",
                    schema.name, schema.struct_name
                ),
            });
        }
        let locked: R = self.get_locked(root.id(), RowLock::NO_KEY_UPDATE).await?;
        match (root.version(), locked.version()) {
            (Some(expected), Some(actual)) if expected != actual => Err(Error::StaleVersion {
                table: schema.name,
                id: root.id(),
                expected,
                actual,
            }),
            _ => Ok(locked),
        }
    }

    /// The rows of a scoped select, locked as `lock` says until the
    /// transaction ends. With [`RowLock::skip_locked`], workers sharing a
    /// table each get rows the others do not hold. Only inside a
    /// transaction.
    pub async fn list_locked<E: Entity>(
        &self,
        select: &sea_query::SelectStatement,
        lock: RowLock,
    ) -> Result<Vec<E>> {
        self.require_transaction(E::SCHEMA.name, "list_locked")?;
        let mut select = select.clone();
        lock.apply(&mut select);
        self.fetch_as::<E>(&select, Access::Write, "list_locked")
            .await
    }

    /// Claims up to the claim's limit of matching live rows in one
    /// statement — locked with `SKIP LOCKED`, so concurrent workers take
    /// disjoint rows without waiting — marks them with its `SET` list,
    /// `updated_at = now()` and `version + 1`, and returns them as stored.
    /// Outside a transaction the marks commit at once and each worker then
    /// owns its rows; inside one, the rows stay locked until it ends.
    ///
    /// The claim's order chooses *which* rows are taken; the rows come
    /// back in no particular order (PostgreSQL returns an `UPDATE`'s rows
    /// in the order it updated them, not the subquery's), so sort them
    /// when order matters: `jobs.sort_by_key(|j| j.id)` for oldest first.
    ///
    /// ```no_run
    /// # use ordinance::prelude::*;
    /// # #[derive(Entity)] pub struct Job { pub id: Uuid, #[column(max_len = 20)] pub state: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
    /// # async fn demo(conn: &ordinance::exec::Connection) -> ordinance::Result<()> {
    /// use ordinance::deps::sea_query::{Expr, ExprTrait};
    /// use ordinance::query::Claim;
    /// use ordinance::repo::Repo;
    ///
    /// let next = Claim::<Job>::new(50)
    ///     .filter(Expr::col(JobColumn::State).eq("queued"))
    ///     .set(JobColumn::State, "running");
    /// loop {
    ///     let jobs = Repo::new(conn).claim(&next).await?;
    ///     if jobs.is_empty() {
    ///         break;
    ///     }
    ///     for job in jobs { /* run it, then mark it done */ }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn claim<E: Entity>(&self, claim: &Claim<E>) -> Result<Vec<E>> {
        self.fetch_as::<E>(&claim.statement()?, Access::Write, "claim")
            .await
    }

    fn require_transaction(&self, table: &'static str, operation: &'static str) -> Result<()> {
        if self.executor.in_transaction() {
            Ok(())
        } else {
            Err(Error::NotInTransaction { table, operation })
        }
    }
}
