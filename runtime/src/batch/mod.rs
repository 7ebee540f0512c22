//! Inserting many rows at once, atomically, at the speed of `COPY`.
//!
//! Every batch streams its rows with binary `COPY ... FROM STDIN`: one
//! statement whatever the number of rows, so PostgreSQL's limit of 65,535
//! bind parameters per statement never comes into play, and each value is
//! encoded by its own `ToSql` at its column's type, exactly as single-row
//! inserts encode it. Ids are new UUIDv7s; `created_at`, `updated_at`
//! (the database clock), `version` (1) and `deleted_at` (NULL) take their
//! column defaults, as in a single insert.
//!
//! - [`insert_many`] returns the rows as stored, in the caller's order;
//! - [`insert_many_count`] returns the number of rows;
//! - [`copy_in`] is the copy alone, on a client or inside the caller's
//!   transaction;
//! - [`upsert_many`] upserts on a unique key, pipelined, in one transaction.
//!
//! The first two run in a transaction of their own (a savepoint when given a
//! transaction; see [`Transactional`]): all rows land, or none, and a failure
//! is the same typed error a single insert gets (a check, a unique key, a
//! lost connection).
//!
//! **Tenant tables.** PostgreSQL refuses `COPY` into a table under
//! row-level security for a role its policies apply to (the application's).
//! Batches into a tenant table (`#[entity(tenant)]`) copy into a temporary
//! staging table instead, then move the rows with one `INSERT … SELECT`,
//! which the policy checks: all or nothing, at close to `COPY`'s speed,
//! through PgBouncer's transaction pooling too. Run them in the tenant's
//! transaction (`cluster.for_tenant(id).transaction(async |tx| insert_many(tx,
//! &rows).await)`); with no tenant set every batch path is
//! [`Error::TenantNotSet`], and nothing lands.
//! The staging table is the session's own temporary table, so the role
//! needs PostgreSQL's `TEMPORARY` privilege on the database (every role has
//! it unless it was revoked from `PUBLIC`).

mod copy;
mod stage;

use std::collections::HashMap;
use std::pin::pin;

use futures_util::stream::FuturesOrdered;
use futures_util::{StreamExt as _, TryStreamExt as _};
use tokio_postgres::types::Type;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::entity::{Entity, NewEntity};
use crate::error::{Error, Result};
use crate::exec::{Access, Executor as _, Sql, Transactional};
use crate::repo::Repo;
use copy::copy_rows;

/// Inserts every row with a new UUIDv7 id, in one transaction, and returns
/// them as stored, in the order given. Any failure (a check, a unique key, a
/// lost connection) leaves none of them.
pub async fn insert_many<N, C>(conn: &mut C, rows: &[N]) -> Result<Vec<N::Entity>>
where
    N: NewEntity + Sync,
    C: Transactional + ?Sized,
{
    let span = batch_span(N::Entity::SCHEMA, "insert_many", rows.len());
    tracing::Instrument::instrument(insert_many_in(conn, rows), span).await
}

async fn insert_many_in<N, C>(conn: &mut C, rows: &[N]) -> Result<Vec<N::Entity>>
where
    N: NewEntity + Sync,
    C: Transactional + ?Sized,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let schema = N::Entity::SCHEMA;
    let db = |e: tokio_postgres::Error| Error::from_db(e, schema);
    let make = schema.conventions.ids;
    let ids: Vec<Uuid> = rows.iter().map(|_| make.new_id()).collect();
    let tx = conn.begin().await.map_err(db)?;
    let stored = if schema.tenant {
        let insert = stage::insert_returning::<N::Entity>(tx.client(), &ids);
        stage::staged(tx.client(), rows, ids.iter().copied(), insert).await?
    } else {
        copy_rows(
            tx.client(),
            &N::Entity::statements().copy_in,
            rows,
            ids.iter().copied(),
        )
        .await?;
        read_back::<N::Entity>(&tx, &ids).await?
    };
    tx.commit().await.map_err(db)?;
    Ok(stored)
}

/// The rows just copied with `ids`, in their order: the new ids span one
/// key range (UUIDv7s are time-ordered), read in one index range scan;
/// rows other writers put inside it are skipped.
async fn read_back<E: Entity>(tx: &crate::exec::Transaction<'_>, ids: &[Uuid]) -> Result<Vec<E>> {
    let schema = E::SCHEMA;
    let low = ids.iter().min().copied().unwrap_or_default();
    let high = ids.iter().max().copied().unwrap_or_default();
    let range = tx
        .rows(
            Access::Write,
            Sql::Fixed(&E::statements().id_range),
            &[&low, &high],
            &[Type::UUID, Type::UUID],
        )
        .await
        .map_err(|e| Error::from_db(e, schema))?;
    in_order(range, ids, |id| Error::NotFound {
        table: schema.name,
        id,
    })
    .await
}

/// The entities among `rows` whose ids are `ids`, in the order of `ids`,
/// each decoded as it arrives (its buffer freed); others are skipped. An
/// id no row had is `missing(id)`.
async fn in_order<E: Entity>(
    rows: impl futures_util::Stream<
        Item = std::result::Result<tokio_postgres::Row, tokio_postgres::Error>,
    >,
    ids: &[Uuid],
    missing: impl Fn(Uuid) -> Error,
) -> Result<Vec<E>> {
    let position: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut stored: Vec<Option<E>> = (0..ids.len()).map(|_| None).collect();
    let mut rows = pin!(rows);
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(|e| Error::from_db(e, E::SCHEMA))?
    {
        let entity = E::from_row(&row)?;
        if let Some(&i) = position.get(&entity.id()) {
            stored[i] = Some(entity);
        }
    }
    stored
        .into_iter()
        .zip(ids)
        .map(|(entity, id)| entity.ok_or_else(|| missing(*id)))
        .collect()
}

/// How many upserts of [`upsert_many`] are in flight on the connection at
/// once: sent without waiting for the previous answers (pipelined), one
/// round trip's latency spread over them.
const UPSERT_PIPELINE: usize = 64;

/// Upserts every row on `key` ([`Repo::upsert`](crate::repo::Repo::upsert)
/// for each), in one transaction: all land, or none. Returns the rows as
/// stored, in the order given (inserted rows at version 1, updated ones
/// bumped). Rows run in order, so two rows with the same key are an insert
/// and then an update of it, as if upserted one by one. The statements are
/// pipelined, so a batch costs far fewer round trips than rows.
pub async fn upsert_many<N, C>(
    conn: &mut C,
    rows: &[N],
    key: <N::Entity as Entity>::Key,
) -> Result<Vec<N::Entity>>
where
    N: NewEntity + Sync,
    C: Transactional + ?Sized,
{
    let span = batch_span(N::Entity::SCHEMA, "upsert_many", rows.len());
    tracing::Instrument::instrument(upsert_many_in(conn, rows, key), span).await
}

async fn upsert_many_in<N, C>(
    conn: &mut C,
    rows: &[N],
    key: <N::Entity as Entity>::Key,
) -> Result<Vec<N::Entity>>
where
    N: NewEntity + Sync,
    C: Transactional + ?Sized,
{
    let Some((first, rest)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    let schema = N::Entity::SCHEMA;
    // Every row is checked before the first is sent: a bad value refuses
    // the batch whole, naming its row.
    crate::checks::check_rows(rows)?;
    let tx = conn.begin().await.map_err(|e| Error::from_db(e, schema))?;
    let mut stored = Vec::with_capacity(rows.len());
    {
        let repo = Repo::new(&tx);
        // The first prepares the statement; the rest reuse it.
        stored.push(repo.upsert(first, key).await?);
        // At most UPSERT_PIPELINE in flight, answers taken in order.
        let mut pending = rest.iter();
        let mut in_flight = FuturesOrdered::new();
        loop {
            while in_flight.len() < UPSERT_PIPELINE {
                match pending.next() {
                    Some(row) => in_flight.push_back(repo.upsert(row, key)),
                    None => break,
                }
            }
            match in_flight.next().await {
                Some(entity) => stored.push(entity?),
                None => break,
            }
        }
    }
    tx.commit().await.map_err(|e| Error::from_db(e, schema))?;
    Ok(stored)
}

/// Like [`insert_many`], all or nothing, but returns only the number of rows
/// written, without reading the rows back: the fastest atomic batch that
/// still reports each failure as a typed error.
pub async fn insert_many_count<N, C>(conn: &mut C, rows: &[N]) -> Result<u64>
where
    N: NewEntity + Sync,
    C: Transactional + ?Sized,
{
    let span = batch_span(N::Entity::SCHEMA, "insert_many_count", rows.len());
    tracing::Instrument::instrument(insert_many_count_in(conn, rows), span).await
}

async fn insert_many_count_in<N, C>(conn: &mut C, rows: &[N]) -> Result<u64>
where
    N: NewEntity + Sync,
    C: Transactional + ?Sized,
{
    if rows.is_empty() {
        return Ok(0);
    }
    let schema = N::Entity::SCHEMA;
    let tx = conn.begin().await.map_err(|e| Error::from_db(e, schema))?;
    let written = copy_in(tx.client(), rows).await?;
    tx.commit().await.map_err(|e| Error::from_db(e, schema))?;
    Ok(written)
}

/// Streams every row into the table with binary `COPY ... FROM STDIN`, with
/// new ids (as [`Repo::insert`](crate::repo::Repo::insert) makes them);
/// timestamps, version and `deleted_at` take their defaults.
/// All rows land or none. Returns the number of rows written. Inside a
/// transaction, pass its client (`tx.client()`): the copy is part of the
/// transaction.
///
/// Into a tenant table the rows go through a staging table (see the
/// [module docs](self)): run it inside the tenant's transaction; outside
/// one no tenant is set, and it is [`Error::TenantNotSet`].
pub async fn copy_in<N: NewEntity + Sync>(client: &Client, rows: &[N]) -> Result<u64> {
    let span = batch_span(N::Entity::SCHEMA, "copy_in", rows.len());
    tracing::Instrument::instrument(copy_in_body(client, rows), span).await
}

async fn copy_in_body<N: NewEntity + Sync>(client: &Client, rows: &[N]) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let make = N::Entity::SCHEMA.conventions.ids;
    let ids = std::iter::repeat_with(move || make.new_id());
    if N::Entity::SCHEMA.tenant {
        let insert = stage::insert_count::<N::Entity>(client, rows.len() as u64);
        stage::staged(client, rows, ids, insert).await
    } else {
        copy_rows(client, &N::Entity::statements().copy_in, rows, ids).await
    }
}

/// A batch's span: the statements it runs nest under it.
fn batch_span(
    schema: &'static crate::TableSchema,
    operation: &'static str,
    rows: usize,
) -> tracing::Span {
    tracing::info_span!(
        "ordinance.batch",
        "db.collection.name" = schema.name,
        "db.operation.batch.size" = rows,
        operation,
    )
}
