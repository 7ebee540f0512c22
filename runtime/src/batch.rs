//! Inserting many rows at once, atomically.
//!
//! [`insert_many`] binds one array per column and inserts
//! `SELECT ... FROM UNNEST($1::UUID[], $2::TEXT[], ...)`: the statement text
//! and its parameter count are the same whatever the number of rows, so
//! PostgreSQL's limit of 65,535 bind parameters per statement never comes
//! into play, and the statement is prepared once. Rows go in chunks of
//! [`ROWS_PER_STATEMENT`], all inside one transaction (a savepoint when given
//! a transaction; see [`Transactional`]): all rows land, or none.
//! [`copy_in`] streams rows with binary `COPY` for the largest batches, when
//! the stored rows are not needed back.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::pin::pin;

use bytes::{BufMut, BytesMut};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, Kind, ToSql, Type};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::ddl::table_ident;
use crate::entity::{Entity, NewEntity, SqlParam};
use crate::error::{Error, Result};
use crate::exec::Transactional;
use crate::schema::SqlType;

pub use crate::query::MAX_PARAMETERS;

/// Rows per batch statement. Larger batches run as several statements in one
/// transaction, which keeps each message to the server a few megabytes.
pub const ROWS_PER_STATEMENT: usize = 20_000;

/// One column of a chunk of rows, bound as a single PostgreSQL array.
///
/// Each element is written with its own `ToSql` implementation at the
/// column's type, so values are checked exactly as single-row inserts check
/// them. `TEXT[]` columns are sent as array literals (`{"a","b"}`) because a
/// column of arrays of different lengths is no PostgreSQL array.
struct ColumnArray<'a> {
    values: Vec<SqlParam<'a>>,
    sql_type: SqlType,
}

impl std::fmt::Debug for ColumnArray<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnArray")
            .field("sql_type", &self.sql_type)
            .field("len", &self.values.len())
            .finish()
    }
}

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for ColumnArray<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let element = match ty.kind() {
            Kind::Array(element) => element.clone(),
            _ => return Err(format!("a column array cannot be sent as {ty}").into()),
        };
        let len = i32::try_from(self.values.len()).map_err(|_| "too many rows for one array")?;
        // Binary array: dimensions, has-nulls flag, element type, then the
        // one dimension's length and lower bound.
        out.put_i32(1);
        let flags_at = out.len();
        out.put_i32(0);
        out.put_u32(element.oid());
        out.put_i32(len);
        out.put_i32(1);
        let mut has_nulls = false;
        let mut scratch = BytesMut::new();
        for value in &self.values {
            let at = out.len();
            out.put_i32(0);
            let written = if self.sql_type == SqlType::TextArray {
                scratch.clear();
                match value.to_sql_checked(&Type::TEXT_ARRAY, &mut scratch)? {
                    IsNull::Yes => IsNull::Yes,
                    IsNull::No => {
                        let items = Vec::<Option<String>>::from_sql(&Type::TEXT_ARRAY, &scratch)?;
                        write_array_literal(&items, out);
                        IsNull::No
                    }
                }
            } else {
                value.to_sql_checked(&element, out)?
            };
            let size = match written {
                IsNull::Yes => {
                    has_nulls = true;
                    -1
                }
                IsNull::No => i32::try_from(out.len() - at - 4)
                    .map_err(|_| "a value is larger than PostgreSQL accepts")?,
            };
            out[at..at + 4].copy_from_slice(&size.to_be_bytes());
        }
        out[flags_at..flags_at + 4].copy_from_slice(&i32::from(has_nulls).to_be_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Array(_))
    }

    to_sql_checked!();
}

/// Writes `items` as a PostgreSQL array literal: every element quoted, with
/// `"` and `\` escaped, so no element can end the literal early.
fn write_array_literal(items: &[Option<String>], out: &mut BytesMut) {
    out.put_u8(b'{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        match item {
            None => out.put_slice(b"NULL"),
            Some(text) => {
                out.put_u8(b'"');
                for byte in text.bytes() {
                    if byte == b'"' || byte == b'\\' {
                        out.put_u8(b'\\');
                    }
                    out.put_u8(byte);
                }
                out.put_u8(b'"');
            }
        }
    }
    out.put_u8(b'}');
}

/// Inserts every row with new UUIDv7 ids, in one transaction, and returns
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
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let tx = conn.begin().await.map_err(|e| Error::from_db(e, schema))?;
    let statement = prepare::<N>(&tx, &N::Entity::statements().insert_many).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (chunk, chunk_ids) in chunks(rows, &ids) {
        let columns = column_arrays::<N>(chunk, chunk_ids);
        let stored = tx
            .query(&statement, &params(&columns))
            .await
            .map_err(|e| Error::from_db(e, schema))?;
        // RETURNING promises no order: put the rows back in the caller's.
        let position: HashMap<Uuid, usize> = chunk_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i))
            .collect();
        let mut decoded: Vec<Option<N::Entity>> = (0..chunk_ids.len()).map(|_| None).collect();
        for row in &stored {
            let entity = N::Entity::from_row(row)?;
            if let Some(&i) = position.get(&entity.id()) {
                decoded[i] = Some(entity);
            }
        }
        out.extend(decoded.into_iter().flatten());
    }
    finish::<N>(tx, statement).await?;
    Ok(out)
}

/// Like [`insert_many`], all or nothing, but returns only the number of rows
/// written, without sending the rows back: the fastest atomic batch that
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
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let tx = conn.begin().await.map_err(|e| Error::from_db(e, schema))?;
    let statement = prepare::<N>(&tx, &N::Entity::statements().insert_many_count).await?;
    let mut written = 0;
    for (chunk, chunk_ids) in chunks(rows, &ids) {
        let columns = column_arrays::<N>(chunk, chunk_ids);
        written += tx
            .execute(&statement, &params(&columns))
            .await
            .map_err(|e| Error::from_db(e, schema))?;
    }
    finish::<N>(tx, statement).await?;
    Ok(written)
}

/// The rows with their ids, [`ROWS_PER_STATEMENT`] at a time.
fn chunks<'r, N>(rows: &'r [N], ids: &'r [Uuid]) -> impl Iterator<Item = (&'r [N], &'r [Uuid])> {
    rows.chunks(ROWS_PER_STATEMENT)
        .zip(ids.chunks(ROWS_PER_STATEMENT))
}

/// Prepares a batch statement (one array parameter per insert column).
async fn prepare<N: NewEntity>(
    tx: &tokio_postgres::Transaction<'_>,
    sql: &str,
) -> Result<tokio_postgres::Statement> {
    tx.prepare_typed(sql, &N::Entity::statements().insert_many_types)
        .await
        .map_err(|e| Error::from_db(e, N::Entity::SCHEMA))
}

/// One array per insert column of a chunk: the ids, then each business
/// column.
fn column_arrays<'r, N: NewEntity>(chunk: &'r [N], ids: &'r [Uuid]) -> Vec<ColumnArray<'r>> {
    let mut columns: Vec<ColumnArray<'_>> = N::Entity::statements()
        .insert_sql_types
        .iter()
        .map(|&sql_type| ColumnArray {
            values: Vec::with_capacity(chunk.len()),
            sql_type,
        })
        .collect();
    for (row, id) in chunk.iter().zip(ids) {
        columns[0].values.push(id);
        for (column, value) in columns[1..].iter_mut().zip(row.business_values()) {
            column.values.push(value);
        }
    }
    columns
}

fn params<'c>(columns: &'c [ColumnArray<'_>]) -> Vec<SqlParam<'c>> {
    columns.iter().map(|c| c as SqlParam<'_>).collect()
}

/// Closes the statement, then commits.
async fn finish<N: NewEntity>(
    tx: tokio_postgres::Transaction<'_>,
    statement: tokio_postgres::Statement,
) -> Result<()> {
    // Closed inside the transaction: behind PgBouncer's transaction pooling
    // the server connection is only ours until COMMIT.
    drop(statement);
    tx.commit()
        .await
        .map_err(|e| Error::from_db(e, N::Entity::SCHEMA))
}

/// Streams every row into the table with binary `COPY ... FROM STDIN`, with
/// new UUIDv7 ids; timestamps, version and `deleted_at` take their defaults.
/// One statement: all rows land or none. Returns the number of rows written.
pub async fn copy_in<N: NewEntity>(client: &Client, rows: &[N]) -> Result<u64> {
    let schema = N::Entity::SCHEMA;
    let db = |e| Error::from_db(e, schema);
    let statements = N::Entity::statements();
    let types = &statements.insert_types;
    let sql = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        table_ident(schema),
        statements.insert_columns
    );
    let sink = client.copy_in(&sql).await.map_err(db)?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, types));
    for row in rows {
        let id = Uuid::now_v7();
        let mut values: Vec<SqlParam<'_>> = vec![&id];
        values.extend(row.business_values());
        writer.as_mut().write(&values).await.map_err(db)?;
    }
    writer.finish().await.map_err(db)
}
