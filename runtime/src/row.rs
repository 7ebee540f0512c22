//! Reading values out of database rows without panicking.
//!
//! A column whose type drifted from what the kit expects (a `version` column
//! widened to `BIGINT` by hand, a bookkeeping table created by another tool)
//! is an [`Error::Decode`] naming the table and column, never a panic.

use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use crate::error::{Error, Result};
use crate::pg_error::PgError;

/// Column `position` of `row`, which belongs to `table`'s column `column`.
#[inline]
pub(crate) fn read<'r, T: FromSql<'r>>(
    row: &'r Row,
    position: usize,
    table: &'static str,
    column: &'static str,
) -> Result<T> {
    row.try_get(position)
        .map_err(|source| decode_error(source, table, column))
}

/// [`Error::Decode`] of a value the driver could not read.
#[cold]
pub(crate) fn decode_error(
    source: tokio_postgres::Error,
    table: &'static str,
    column: &'static str,
) -> Error {
    // The driver's own message only says which position failed.
    let reason = std::error::Error::source(&source)
        .map_or_else(|| source.to_string(), |cause| cause.to_string());
    Error::Decode {
        table,
        column,
        reason,
        source: PgError::new(source),
    }
}
