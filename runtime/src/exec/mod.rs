//! Where statements run: executors, transactions, and the redaction of the
//! values they carry.
//!
//! An [`Executor`] is anything statements can run on: a `Client`, a
//! `Transaction`, a pooled connection, or [`Unnamed`] for PgBouncer's
//! transaction pooling. Every executor binds values through
//! [`redact::Redacted`], so the driver's debug log never shows them.

pub mod redact;
mod transaction;

use std::future::Future;

use futures_util::{pin_mut, TryStreamExt as _};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row, RowStream, Statement, Transaction};

use crate::entity::SqlParam;
use redact::{redacted, Redacted};

pub use transaction::{transaction, Transactional};

/// Something statements can run on: a [`Client`], a [`Transaction`], a
/// pooled connection, or [`Unnamed`] for PgBouncer's transaction pooling.
///
/// Each call carries the parameters' PostgreSQL types, taken from the
/// entity's schema; executors that let the server infer them ignore them.
/// The futures are `Send`, so repository calls can run inside spawned tasks.
pub trait Executor: Sync {
    /// Runs a statement returning rows.
    fn query(
        &self,
        sql: &str,
        params: &[SqlParam<'_>],
        types: &[Type],
    ) -> impl Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send;
    /// Runs a statement returning at most one row (the first, if it
    /// returns more).
    fn query_opt(
        &self,
        sql: &str,
        params: &[SqlParam<'_>],
        types: &[Type],
    ) -> impl Future<Output = Result<Option<Row>, tokio_postgres::Error>> + Send;
}

/// Every row of a result.
async fn all_rows(rows: RowStream) -> Result<Vec<Row>, tokio_postgres::Error> {
    rows.try_collect().await
}

/// The first row of a result; the rest, if any, are read and dropped so the
/// connection is ready for the next statement.
async fn first_row(rows: RowStream) -> Result<Option<Row>, tokio_postgres::Error> {
    pin_mut!(rows);
    let first = rows.try_next().await?;
    // A finished stream must not be polled again (the driver answers
    // "connection closed"), so drain only when there was a row.
    if first.is_some() {
        while rows.try_next().await?.is_some() {}
    }
    Ok(first)
}

/// How an executor that prepares statements gets one for a text and runs
/// it: every such executor shares one [`Executor`] implementation.
trait Prepares: Sync {
    /// The prepared statement of `sql`, its parameters typed `types`.
    fn statement(
        &self,
        sql: &str,
        types: &[Type],
    ) -> impl Future<Output = Result<Statement, tokio_postgres::Error>> + Send;
    /// Runs a prepared statement with redacted parameters.
    fn rows<'a>(
        &'a self,
        statement: &'a Statement,
        params: &'a [SqlParam<'a>],
    ) -> impl Future<Output = Result<RowStream, tokio_postgres::Error>> + Send + 'a;
}

impl<T: Prepares> Executor for T {
    async fn query(
        &self,
        sql: &str,
        params: &[SqlParam<'_>],
        types: &[Type],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.statement(sql, types).await?;
        all_rows(self.rows(&statement, params).await?).await
    }
    async fn query_opt(
        &self,
        sql: &str,
        params: &[SqlParam<'_>],
        types: &[Type],
    ) -> Result<Option<Row>, tokio_postgres::Error> {
        let statement = self.statement(sql, types).await?;
        first_row(self.rows(&statement, params).await?).await
    }
}

/// Implements [`Prepares`] with the given method for the statement:
/// `prepare_typed` for `Client` and `Transaction` (prepared each call,
/// closed when dropped, typed so the server takes each value at the type it
/// was bound with: an `i32` compared with a `SMALLINT` column is fine), and
/// `prepare_typed_cached` for a pooled connection (`Repo::new(&*conn)`),
/// which prepares each text once per connection, so a call costs one round
/// trip; the kit's statements have fixed text, so that cache stays small.
macro_rules! prepares {
    ($($ty:ty => $prepare:ident),*) => {$(
        impl Prepares for $ty {
            fn statement(
                &self,
                sql: &str,
                types: &[Type],
            ) -> impl Future<Output = Result<Statement, tokio_postgres::Error>> + Send {
                self.$prepare(sql, types)
            }
            fn rows<'a>(
                &'a self,
                statement: &'a Statement,
                params: &'a [SqlParam<'a>],
            ) -> impl Future<Output = Result<RowStream, tokio_postgres::Error>> + Send + 'a {
                self.query_raw(statement, redacted(params))
            }
        }
    )*};
}

prepares!(
    Client => prepare_typed,
    Transaction<'_> => prepare_typed,
    deadpool_postgres::ClientWrapper => prepare_typed_cached
);

/// Runs every statement as one unnamed, typed statement (Parse, Bind,
/// Execute and Sync in a single round trip), so nothing is ever prepared by
/// name on the server and no statement spans two round trips: the mode for
/// PgBouncer in transaction pooling mode. The types come from the entity's
/// schema. Each call is planned afresh, so on a direct connection a pooled
/// connection's cached statements are faster.
#[derive(Debug, Clone, Copy)]
pub struct Unnamed<'c, C>(pub &'c C);

fn typed<'p>(
    params: &'p [SqlParam<'p>],
    types: &'p [Type],
) -> impl Iterator<Item = (Redacted<'p>, Type)> + 'p {
    redacted(params).zip(types.iter().cloned())
}

macro_rules! unnamed {
    ($($ty:ty),*) => {$(
        impl Executor for Unnamed<'_, $ty> {
            async fn query(
                &self,
                sql: &str,
                params: &[SqlParam<'_>],
                types: &[Type],
            ) -> Result<Vec<Row>, tokio_postgres::Error> {
                all_rows(self.0.query_typed_raw(sql, typed(params, types)).await?).await
            }
            async fn query_opt(
                &self,
                sql: &str,
                params: &[SqlParam<'_>],
                types: &[Type],
            ) -> Result<Option<Row>, tokio_postgres::Error> {
                first_row(self.0.query_typed_raw(sql, typed(params, types)).await?).await
            }
        }
    )*};
}

unnamed!(Client, Transaction<'_>);
