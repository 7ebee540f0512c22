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
use super::{begun_in_scope, went_away, Cluster, Target};
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
        let replica = if access == Access::Read && self.may_use_replicas() {
            match self.route_at_once() {
                Some(target) => self.replica_at(target),
                None => self.replica_for(access).await,
            }
        } else {
            None
        };
        // `whole_on`, written out: one layer of future less on every call.
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

    /// The replica a statement goes to: `None` for the primary.
    async fn replica_for(&self, access: Access) -> Option<&Arc<Replica>> {
        if access == Access::Write || !self.may_use_replicas() {
            return None;
        }
        self.replica_at(self.route_read().await)
    }

    /// The replica `target` names: `None` for the primary.
    fn replica_at(&self, target: Target) -> Option<&Arc<Replica>> {
        match target {
            Target::Replica(i) => Some(&self.shared.replicas[i]),
            Target::Primary => None,
        }
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
        let result = if self.scope.is_empty() {
            // `read`, written out: one layer of future less.
            if self.shared.options.unnamed_statements {
                T::read(&Unnamed(conn), access, sql, params, types).await
            } else {
                T::read(conn, access, sql, params, types).await
            }
        } else {
            // Boxed: three statements' state, kept out of the futures of
            // handles without a scope.
            Box::pin(self.in_scope::<T>(conn, access, sql, params, types)).await
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
    async fn in_scope<T: Whole>(
        &self,
        conn: &Connection,
        access: Access,
        sql: Sql<'_>,
        params: &[SqlParam<'_>],
        types: &[Type],
    ) -> Result<T, Failure> {
        let unnamed = self.shared.options.unnamed_statements;
        let read = read::<T>(conn, unnamed, access, sql, params, types);
        let out = begun_in_scope(conn, self.scope, read).await?;
        conn.batch_execute("COMMIT").await?;
        conn.set_in_doubt(false);
        Ok(out)
    }
}
