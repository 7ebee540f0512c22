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
//! - [`insert_many`] returns the rows as stored, in the caller's order: the
//!   copy, then one read of the new ids' key range, in one transaction;
//! - [`insert_many_count`] returns the number of rows, in one transaction;
//! - [`copy_in`] is the copy alone, on a client or inside the caller's
//!   transaction;
//! - [`upsert_many`] upserts on a unique key, pipelined, in one transaction.
//!
//! The first two run in a transaction of their own (a savepoint when given a
//! transaction; see [`Transactional`]): all rows land, or none, and a failure
//! is the same typed error a single insert gets (a check, a unique key, a
//! lost connection).

use std::collections::HashMap;
use std::pin::pin;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt as _, StreamExt as _, TryStreamExt as _};
use tokio_postgres::types::{IsNull, Type};
use tokio_postgres::{Client, CopyInSink};
use uuid::Uuid;

use crate::entity::{Entity, NewEntity, Params};
use crate::error::{Error, Result};
use crate::exec::{Access, Executor as _, Sql, Transactional};
use crate::repo::Repo;

pub use crate::query::MAX_PARAMETERS;

/// Encoded rows are sent to the server in messages of about this size.
const SEND_AT: usize = 64 * 1024;

/// Inserts every row with a new UUIDv7 id, in one transaction, and returns
/// them as stored, in the order given. Any failure (a check, a unique key, a
/// lost connection) leaves none of them.
pub async fn insert_many<N, C>(conn: &mut C, rows: &[N]) -> Result<Vec<N::Entity>>
where
    N: NewEntity + Sync,
    C: Transactional + ?Sized,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let schema = N::Entity::SCHEMA;
    let db = |e: tokio_postgres::Error| Error::from_db(e, schema);
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let tx = conn.begin().await.map_err(db)?;
    copy_rows(tx.client(), rows, ids.iter().copied()).await?;
    // The new ids span one key range (UUIDv7s are time-ordered), read in
    // one index range scan; rows other writers put inside it are skipped.
    let low = ids.iter().min().copied().unwrap_or_default();
    let high = ids.iter().max().copied().unwrap_or_default();
    let position: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut stored: Vec<Option<N::Entity>> = (0..rows.len()).map(|_| None).collect();
    let range = tx
        .rows(
            Access::Write,
            Sql::Fixed(&N::Entity::statements().id_range),
            &[&low, &high],
            &[Type::UUID, Type::UUID],
        )
        .await
        .map_err(|e| Error::from_db(e, schema))?;
    let mut range = pin!(range);
    while let Some(row) = range.try_next().await.map_err(db)? {
        let entity = N::Entity::from_row(&row)?;
        if let Some(&i) = position.get(&entity.id()) {
            stored[i] = Some(entity);
        }
    }
    tx.commit().await.map_err(db)?;
    stored
        .into_iter()
        .zip(&ids)
        .map(|(entity, id)| {
            entity.ok_or(Error::NotFound {
                table: schema.name,
                id: *id,
            })
        })
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
    let Some((first, rest)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    let schema = N::Entity::SCHEMA;
    // Each upsert checks its row's values before sending it; a refused
    // row ends the transaction, so none of the rows before it land.
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
    if rows.is_empty() {
        return Ok(0);
    }
    let schema = N::Entity::SCHEMA;
    let tx = conn.begin().await.map_err(|e| Error::from_db(e, schema))?;
    let written = copy_rows(tx.client(), rows, std::iter::repeat_with(Uuid::now_v7)).await?;
    tx.commit().await.map_err(|e| Error::from_db(e, schema))?;
    Ok(written)
}

/// Streams every row into the table with binary `COPY ... FROM STDIN`, with
/// new UUIDv7 ids; timestamps, version and `deleted_at` take their defaults.
/// One statement: all rows land or none. Returns the number of rows written.
/// Inside a transaction, pass its client (`tx.client()`): the copy is part
/// of the transaction.
pub async fn copy_in<N: NewEntity>(client: &Client, rows: &[N]) -> Result<u64> {
    copy_rows(client, rows, std::iter::repeat_with(Uuid::now_v7)).await
}

/// The binary `COPY` of `rows` with `ids`, encoded straight into one
/// buffer: no allocation per row.
async fn copy_rows<N: NewEntity>(
    client: &Client,
    rows: &[N],
    ids: impl Iterator<Item = Uuid>,
) -> Result<u64> {
    let schema = N::Entity::SCHEMA;
    let db = |e: tokio_postgres::Error| Error::from_db(e, schema);
    // Every row fits its columns before the copy starts: a refused value
    // leaves nothing half-sent.
    for row in rows {
        row.check_values()?;
    }
    let statements = N::Entity::statements();
    let sink: CopyInSink<Bytes> = client
        .copy_in(statements.copy_in.as_str())
        .await
        .map_err(db)?;
    let mut sink = pin!(sink);
    let types = &statements.insert_types;
    let fields = i16::try_from(types.len())
        .map_err(|_| Error::UnsupportedValue("too many columns for COPY".into()))?;
    let mut buf = BytesMut::with_capacity(SEND_AT + 4096);
    // Signature, flags, header extension length.
    buf.put_slice(b"PGCOPY\n\xff\r\n\0");
    buf.put_i32(0);
    buf.put_i32(0);
    // Reused for every row: nothing allocated per row.
    let mut params = Params::new();
    for (row, id) in rows.iter().zip(ids) {
        buf.put_i16(fields);
        // The id is 16 bytes on the wire, written directly.
        buf.put_i32(16);
        buf.put_slice(id.as_bytes());
        params.clear();
        row.bind_business(&mut params);
        for (position, (value, ty)) in params.iter().zip(&types[1..]).enumerate() {
            let at = buf.len();
            buf.put_i32(0);
            let size = match value.to_sql_checked(ty, &mut buf) {
                Ok(IsNull::Yes) => Ok(-1),
                Ok(IsNull::No) => i32::try_from(buf.len() - at - 4)
                    .map_err(|_| "the value is larger than PostgreSQL accepts".to_owned()),
                Err(e) => Err(e.to_string()),
            }
            .map_err(|reason| {
                let column = schema
                    .business_columns()
                    .nth(position)
                    .map_or("?", |c| c.name);
                Error::UnsupportedValue(format!(
                    "column \"{column}\" of \"{}\": {reason}",
                    schema.name
                ))
            })?;
            buf[at..at + 4].copy_from_slice(&size.to_be_bytes());
        }
        if buf.len() >= SEND_AT {
            sink.send(buf.split().freeze()).await.map_err(db)?;
        }
    }
    buf.put_i16(-1);
    sink.send(buf.split().freeze()).await.map_err(db)?;
    sink.as_mut().finish().await.map_err(db)
}
