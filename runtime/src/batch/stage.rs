//! Batches through a staging table: the rows are copied (binary `COPY`)
//! into a temporary table, then moved into the table with one
//! `INSERT … SELECT`. PostgreSQL refuses `COPY` into a table under
//! row-level security for a role the policies apply to, and checks an
//! `INSERT` row by row against them, so this is how batches reach tenant
//! tables; the `INSERT … RETURNING` also hands the rows back as stored
//! (defaults, normalised decimals, triggers) without a second read.
//!
//! Every statement is unnamed (one round trip, nothing prepared): the
//! staging table is new each time, so a prepared plan would be planned
//! again anyway, and an unnamed statement is what PgBouncer's transaction
//! pooling accepts.

use std::future::Future;
use std::pin::pin;

use futures_util::TryStreamExt as _;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, RowStream};
use uuid::Uuid;

use super::copy::copy_rows;
use crate::entity::{Entity, NewEntity};
use crate::error::{Error, Result};
use crate::exec::TENANT_IS_SET;
use crate::query::DROP_STAGE;
use crate::schema::TableSchema;

/// Stages `rows` (with `ids`) and runs `insert` — which moves them into
/// the table — then drops the staging table, on every path: a failed step
/// inside a transaction leaves it to the rollback, outside one it is
/// dropped here, so the session's next batch starts afresh.
pub(super) async fn staged<N, T>(
    client: &Client,
    rows: &[N],
    ids: impl Iterator<Item = Uuid>,
    insert: impl Future<Output = Result<T>>,
) -> Result<T>
where
    N: NewEntity + Sync,
{
    let schema = N::Entity::SCHEMA;
    let staged = &N::Entity::statements().staged;
    if schema.tenant {
        // No tenant (always the case outside a transaction): refused before
        // anything is staged, so nothing of the session's changes.
        let set = unnamed(client, TENANT_IS_SET)
            .await
            .map_err(|e| Error::from_db(e, schema))?;
        let set = pin!(set)
            .try_next()
            .await
            .map_err(|e| Error::from_db(e, schema))?;
        let set = match set {
            Some(row) => crate::row::read::<bool>(&row, 0, schema.name, "tenant")?,
            None => false,
        };
        if !set {
            return Err(Error::TenantNotSet { table: schema.name });
        }
    }
    create(client, schema, &staged.create).await?;
    let moved = async {
        copy_rows(client, &staged.copy_in, rows, ids).await?;
        insert.await
    }
    .await;
    let dropped = client.batch_execute(DROP_STAGE).await;
    let out = moved?;
    dropped.map_err(|e| Error::from_db(e, schema))?;
    Ok(out)
}

/// Creates the staging table. One left behind on this session (a batch
/// cancelled between its statements, outside a transaction) is dropped
/// and created again.
async fn create(client: &Client, schema: &'static TableSchema, sql: &str) -> Result<()> {
    match client.batch_execute(sql).await {
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_TABLE) => {
            client
                .batch_execute(DROP_STAGE)
                .await
                .map_err(|e| Error::from_db(e, schema))?;
            client
                .batch_execute(sql)
                .await
                .map_err(|e| Error::from_db(e, schema))
        }
        result => result.map_err(|e| Error::from_db(e, schema)),
    }
}

/// Runs `sql` unnamed, with no parameters.
async fn unnamed(
    client: &Client,
    sql: &str,
) -> std::result::Result<RowStream, tokio_postgres::Error> {
    client
        .query_typed_raw(sql, std::iter::empty::<(&(dyn ToSql + Sync), Type)>())
        .await
}

/// Moves the staged rows into the table and returns them as stored, in
/// the order of `ids`. A row the insert did not return is
/// [`Error::TenantNotSet`] on a tenant table (its condition held no row
/// back otherwise).
pub(super) async fn insert_returning<E: Entity>(client: &Client, ids: &[Uuid]) -> Result<Vec<E>> {
    let schema = E::SCHEMA;
    let rows = unnamed(client, &E::statements().staged.insert)
        .await
        .map_err(|e| Error::from_db(e, schema))?;
    super::in_order(rows, ids, |id| missing(schema, id)).await
}

/// Moves the staged rows into the table; how many. Fewer than `expected`
/// is [`Error::TenantNotSet`] on a tenant table.
pub(super) async fn insert_count<E: Entity>(client: &Client, expected: u64) -> Result<u64> {
    let schema = E::SCHEMA;
    let db = |e: tokio_postgres::Error| Error::from_db(e, schema);
    let rows = unnamed(client, &E::statements().staged.insert_count)
        .await
        .map_err(db)?;
    let mut rows = pin!(rows);
    while rows.try_next().await.map_err(db)?.is_some() {}
    let written = rows.rows_affected().unwrap_or(0);
    if written < expected {
        return Err(missing(schema, Uuid::nil()));
    }
    Ok(written)
}

/// Why a staged row did not land: the tenant condition of a tenant table
/// held it back; anything else the server would have said in an error.
fn missing(schema: &'static TableSchema, id: Uuid) -> Error {
    if schema.tenant {
        Error::TenantNotSet { table: schema.name }
    } else {
        Error::NotFound {
            table: schema.name,
            id,
        }
    }
}
