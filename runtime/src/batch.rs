//! Inserting many rows at once, atomically.
//!
//! PostgreSQL accepts at most 65,535 bind parameters per statement, so
//! [`insert_many`] splits the rows into chunks of whole rows that fit and runs
//! them in one transaction (a savepoint when given a transaction; see [`Transactional`]): all rows
//! land, or none. Chunks have a fixed size, so at most two statement shapes
//! are ever prepared. [`copy_in`] streams rows with binary `COPY`, one
//! statement, for the largest batches.

use std::pin::pin;

use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::ddl::quote_ident;
use crate::entity::{Entity, NewEntity, SqlParam};
use crate::error::{Error, Result};
use crate::query::Statements;
use crate::repo::Transactional;
use crate::schema::TableSchema;

/// The most bind parameters one PostgreSQL statement can carry.
pub const MAX_PARAMETERS: usize = 65_535;

/// Rows per statement for a table: as many whole rows as fit in the limit.
pub fn rows_per_statement(schema: &TableSchema) -> usize {
    MAX_PARAMETERS / (1 + schema.business_columns().count())
}

/// `INSERT ... VALUES (...), (...) RETURNING ...` for `rows` rows of `width` values.
fn insert_sql(schema: &TableSchema, statements: &Statements, rows: usize, width: usize) -> String {
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        quote_ident(schema.name),
        statements.insert_columns
    );
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(r * width + c + 1).to_string());
        }
        sql.push(')');
    }
    sql.push_str(" RETURNING ");
    sql.push_str(&statements.columns);
    sql
}

/// Inserts every row with new UUIDv7 ids, in one transaction, and returns
/// them as stored, in order. Any failure (a check, a unique key, a lost
/// connection) leaves none of them.
pub async fn insert_many<N, C>(conn: &mut C, rows: &[N]) -> Result<Vec<N::Entity>>
where
    N: NewEntity + Sync,
    C: Transactional,
{
    let schema = N::Entity::SCHEMA;
    let db = |e| Error::from_db(e, schema);
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let per_statement = rows_per_statement(schema);
    let statements = N::Entity::statements();
    let width = statements.insert_types.len();
    let full_sql =
        (rows.len() >= per_statement).then(|| insert_sql(schema, statements, per_statement, width));
    let tx = conn.begin().await.map_err(db)?;
    let mut out = Vec::with_capacity(rows.len());
    for (chunk, chunk_ids) in rows.chunks(per_statement).zip(ids.chunks(per_statement)) {
        let partial;
        let sql = match &full_sql {
            Some(sql) if chunk.len() == per_statement => sql,
            _ => {
                partial = insert_sql(schema, statements, chunk.len(), width);
                &partial
            }
        };
        let mut params: Vec<SqlParam<'_>> = Vec::with_capacity(chunk.len() * width);
        for (row, id) in chunk.iter().zip(chunk_ids) {
            params.push(id);
            params.extend(row.business_values());
        }
        let stored = tx.query(sql, &params).await.map_err(db)?;
        for row in &stored {
            out.push(N::Entity::from_row(row)?);
        }
    }
    tx.commit().await.map_err(db)?;
    Ok(out)
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
        quote_ident(schema.name),
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
