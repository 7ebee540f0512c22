//! Statements whose result is taken whole — a get, a find, a list, a count,
//! a write's returned row: run on the borrowed connection and read to the
//! end inside the statement's own future. No stream is handed out, so
//! nothing is boxed per statement and the connection goes back to its pool
//! as the future ends. (Streams go through [`Rows`](super::Rows).)

use std::future::Future;
use std::sync::Arc;

use tokio_postgres::types::Type;
use tokio_postgres::Row;

use super::health::Replica;
use super::track::Tracker;
use super::{begun_in_scope, went_away, Cluster};
use crate::error::Failure;
use crate::exec::{may_read_again, Access, Connection, Executor, Sql, Unnamed};
use crate::params::SqlParam;

/// A result read whole from an executor: every row, or the first.
pub(super) trait Whole: Sized + Send {
    fn read<'a, X: Executor>(
        executor: &'a X,
        access: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> impl Future<Output = Result<Self, Failure>> + Send + 'a;
}

impl Whole for Vec<Row> {
    fn read<'a, X: Executor>(
        executor: &'a X,
        access: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> impl Future<Output = Result<Self, Failure>> + Send + 'a {
        executor.query(access, sql, params, types)
    }
}

impl Whole for Option<Row> {
    fn read<'a, X: Executor>(
        executor: &'a X,
        access: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> impl Future<Output = Result<Self, Failure>> + Send + 'a {
        executor.query_opt(access, sql, params, types)
    }
}

/// A write whose position is not known yet: dropped armed (the future was
/// cancelled after the statement went out, or the server went away), the
/// handle reads from the primary for the rest of its window.
struct Unsure<'a>(Option<&'a Tracker>);

impl Drop for Unsure<'_> {
    fn drop(&mut self) {
        if let Some(tracker) = self.0.take() {
            tracker.wrote_unknown();
        }
    }
}

/// Runs the statement on `conn`, named or unnamed as the cluster's options
/// say.
async fn read<T: Whole>(
    conn: &Connection,
    unnamed: bool,
    access: Access,
    sql: Sql<'_>,
    params: &[SqlParam<'_>],
    types: &[Type],
) -> Result<T, Failure> {
    if unnamed {
        T::read(&Unnamed(conn), access, sql, params, types).await
    } else {
        T::read(conn, access, sql, params, types).await
    }
}

impl Cluster {
    /// Runs a statement whose result is taken whole: a read on the
    /// replica it is routed to, anything else on the primary. A read whose
    /// server went away runs once more: a replica that went away was
    /// marked down, so the second run goes to another one or the primary.
    pub(super) async fn whole<T: Whole>(
        &self,
        access: Access,
        sql: Sql<'_>,
        params: &[SqlParam<'_>],
        types: &[Type],
    ) -> Result<T, Failure> {
        // `replica_for` and `whole_on` written out: on every call, two
        // futures fewer to poll (measured: 1.031x -> 1.027x a pool's get).
        let replica = match self.replica_at_once(access) {
            Some(replica) => replica,
            None => self.replica_waiting().await,
        };
        let pool = replica.map_or(&self.shared.primary, |r| &r.pool);
        let result = match pool.get().await {
            Ok(conn) => {
                self.whole_with::<T>(&conn, access, sql, params, types)
                    .await
            }
            Err(e) => Err(e.into()),
        };
        let failure = match result {
            Err(failure) if went_away(&failure) && may_read_again(self, access) => failure,
            result => return result,
        };
        drop(failure);
        if let Some(replica) = replica {
            replica.mark_down();
        }
        // Boxed: the rare second run's state stays out of every call's
        // future.
        Box::pin(async {
            let replica = self.replica_for(access).await;
            self.whole_on::<T>(replica, access, sql, params, types)
                .await
        })
        .await
    }

    /// Runs the statement on a connection from the primary's pool or
    /// `replica`'s, in a transaction of its own when the handle has a
    /// scope (`BEGIN`, the settings and the statement sent together, then
    /// `COMMIT`); after a write, reads the primary's position for
    /// read-your-writes.
    async fn whole_on<T: Whole>(
        &self,
        replica: Option<&Arc<Replica>>,
        access: Access,
        sql: Sql<'_>,
        params: &[SqlParam<'_>],
        types: &[Type],
    ) -> Result<T, Failure> {
        let pool = replica.map_or(&self.shared.primary, |r| &r.pool);
        let conn = pool.get().await?;
        // The connection lives across this one await only, so its 400
        // bytes share the future's room with the pool's checkout.
        self.whole_with::<T>(&conn, access, sql, params, types)
            .await
    }

    /// [`whole_on`](Self::whole_on) once the connection is borrowed.
    async fn whole_with<T: Whole>(
        &self,
        conn: &Connection,
        access: Access,
        sql: Sql<'_>,
        params: &[SqlParam<'_>],
        types: &[Type],
    ) -> Result<T, Failure> {
        let tracked =
            (access == Access::Write && !self.shared.replicas.is_empty()).then_some(&*self.tracker);
        let mut unsure = Unsure(tracked);
        let unnamed = self.shared.options.unnamed_statements;
        // The statement's future is made where it is awaited: made before
        // and moved there, its 1.4 kB would be copied on every call.
        let result = if self.scope.is_empty() {
            // `read` written out: one future fewer to poll.
            if unnamed {
                T::read(&Unnamed(conn), access, sql, params, types).await
            } else {
                T::read(conn, access, sql, params, types).await
            }
        } else {
            // Boxed: three statements' state, kept out of the futures of
            // handles without a scope.
            let statement = read::<T>(conn, unnamed, access, sql, params, types);
            Box::pin(self.in_scope(conn, statement)).await
        };
        match &result {
            Ok(_) => {
                if let Some(tracker) = unsure.0.take() {
                    tracker.record_after_write(conn).await;
                }
            }
            // The server refused the statement: nothing was written. A
            // server that went away may have committed it: unsure stays
            // armed.
            Err(failure) if !went_away(failure) => unsure.0 = None,
            Err(_) => {}
        }
        result
    }

    /// The statement in a transaction of its own, scoped to the handle's
    /// tenant and actor: `BEGIN`, the settings and the statement sent
    /// together, then `COMMIT`. A connection that fails half-way comes home
    /// in doubt, and the pool rolls its transaction back.
    async fn in_scope<T>(
        &self,
        conn: &Connection,
        statement: impl Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        let out = begun_in_scope(conn, self.scope, statement).await?;
        conn.batch_execute("COMMIT").await?;
        conn.set_in_doubt(false);
        Ok(out)
    }
}
