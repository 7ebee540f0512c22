//! Row history: with `#[entity(history)]` every version of every row is
//! kept in `{table}_history`, written by a trigger on every change — the
//! kit's statements, bulk changes, hand-written SQL and `psql` alike —
//! soft deletes, restores and purges included. [`Repo::history`] reads a
//! row's versions in order and [`Repo::as_of`] the row as it was at an
//! instant, both through the history's `(id, history_id)` index.
//!
//! ```
//! use ordinance::prelude::*;
//!
//! /// Kept with every version.
//! #[derive(Entity, Debug, Clone)]
//! #[entity(history)]
//! pub struct Contract {
//!     pub id: Uuid,
//!     #[column(max_len = 200)]
//!     pub title: String,
//!     pub created_at: DateTime<Utc>,
//!     pub updated_at: DateTime<Utc>,
//!     pub deleted_at: Option<DateTime<Utc>>,
//!     pub version: i32,
//! }
//!
//! let ddl = ordinance::ddl::create_table(Contract::SCHEMA);
//! let up = ordinance::ddl::SchemaDdl::new(&[Contract::SCHEMA]).unwrap().up();
//! assert!(up.contains("CREATE TABLE \"contracts_history\""));
//! assert!(up.contains("CREATE TRIGGER \"contracts_history\" AFTER INSERT OR UPDATE OR DELETE"));
//! # let _ = ddl;
//! ```
//!
//! The history's table follows the conventions and the team's naming
//! policy; the application's role may read it, never write it (its
//! trigger function runs as the table's owner); a tenant table's history is
//! kept apart by tenant as the table is.

use chrono::{DateTime, Utc};
use tokio_postgres::types::Type;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::exec::{Access, Executor, Sql};
use crate::repo::Repo;
use crate::schema::TableSchema;

pub use crate::sql::history::{history_ident, history_name, HISTORY_COMMENT};

/// What made a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// The row was inserted.
    Insert,
    /// The row was updated.
    Update,
    /// The row was soft-deleted (`deleted_at` set).
    SoftDelete,
    /// The row was restored (`deleted_at` cleared).
    Restore,
    /// The row was deleted for good: its last version, as it was.
    Delete,
}

impl Operation {
    fn parse(text: &str) -> Option<Operation> {
        Some(match text {
            "insert" => Operation::Insert,
            "update" => Operation::Update,
            "soft_delete" => Operation::SoftDelete,
            "restore" => Operation::Restore,
            "delete" => Operation::Delete,
            _ => return None,
        })
    }
}

/// One version of a row.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Version<E> {
    /// The row as this version left it (as it was, for a
    /// [`Delete`](Operation::Delete)).
    pub row: E,
    /// What made it.
    pub operation: Operation,
    /// When it became the row's state.
    pub valid_from: DateTime<Utc>,
    /// When the next version replaced it; `None` while it is current.
    pub valid_to: Option<DateTime<Utc>>,
    /// The transaction's actor (`app.actor_id`), if one was set.
    pub actor_id: Option<Uuid>,
    /// The transaction that made it (`txid_current()`).
    pub transaction_id: i64,
    /// Its place in the history: later versions have larger ones.
    pub history_id: i64,
}

/// The two statements of one entity's history, rendered once.
struct Statements {
    versions: String,
    as_of: String,
}

fn statements(schema: &'static TableSchema) -> &'static Statements {
    crate::sql::rendered(schema, |schema| {
        let mut s = Statements {
            versions: crate::sql::history::versions(schema),
            as_of: crate::sql::history::as_of(schema),
        };
        crate::telemetry::commented(schema, "history", &mut s.versions);
        crate::telemetry::commented(schema, "as_of", &mut s.as_of);
        s
    })
}

/// A version from a history row: the entity's columns, then the
/// history's own.
fn version<E: Entity>(row: &Row) -> Result<Version<E>> {
    let schema = E::SCHEMA;
    let n = schema.columns.len();
    let table = schema.name;
    let operation: String = crate::row::read(row, n + 3, table, "operation")?;
    Ok(Version {
        row: E::from_row(row)?,
        history_id: crate::row::read(row, n, table, "history_id")?,
        valid_from: crate::row::read(row, n + 1, table, "valid")?,
        valid_to: crate::row::read(row, n + 2, table, "valid")?,
        operation: Operation::parse(&operation).ok_or_else(|| {
            Error::UnsupportedValue(format!(
                "an operation \"{operation}\" in the history of \"{table}\""
            ))
        })?,
        actor_id: crate::row::read(row, n + 4, table, "actor_id")?,
        transaction_id: crate::row::read(row, n + 5, table, "transaction_id")?,
    })
}

/// Refuses, for `setting`, an entity that keeps no history.
pub(crate) fn require_history(schema: &TableSchema, setting: &'static str) -> Result<()> {
    if schema.history {
        Ok(())
    } else {
        Err(Error::InvalidSetting {
            setting,
            reason: format!(
                "\"{}\" keeps no history: add #[entity(history)] to {}",
                schema.name, schema.struct_name
            ),
        })
    }
}

impl<X: Executor> Repo<'_, X> {
    /// Every version of the row `id`, oldest first (empty when it never
    /// existed): inserts, updates, soft deletes, restores and a purge,
    /// each with when, who and in which transaction. Soft-deleted and
    /// purged rows keep their history. [`Error::InvalidSetting`] for an
    /// entity without `#[entity(history)]`.
    pub async fn history<E: Entity>(&self, id: Uuid) -> Result<Vec<Version<E>>> {
        require_history(E::SCHEMA, "history")?;
        let sql = statements(E::SCHEMA).versions.as_str();
        let rows = self
            .traced(
                E::SCHEMA,
                "history",
                sql,
                std::pin::pin!(self.executor().query(
                    Access::Read,
                    Sql::Fixed(sql),
                    &[&id],
                    &[Type::UUID]
                )),
            )
            .await
            .map_err(|e| Error::from_db(e, E::SCHEMA))?;
        rows.iter().map(version::<E>).collect()
    }

    /// The row `id` as it was at `at`: its version current then, or `None`
    /// when it did not exist yet or had been purged. A soft-deleted row is
    /// returned as it was (its `deleted_at` set).
    pub async fn as_of<E: Entity>(&self, id: Uuid, at: DateTime<Utc>) -> Result<Option<E>> {
        require_history(E::SCHEMA, "history")?;
        let sql = statements(E::SCHEMA).as_of.as_str();
        let rows = self
            .traced(
                E::SCHEMA,
                "as_of",
                sql,
                std::pin::pin!(self.executor().query(
                    Access::Read,
                    Sql::Fixed(sql),
                    &[&id as crate::params::SqlParam<'_>, &at],
                    &[Type::UUID, Type::TIMESTAMPTZ]
                )),
            )
            .await
            .map_err(|e| Error::from_db(e, E::SCHEMA))?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let v = version::<E>(row)?;
        let current = v.valid_to.is_none_or(|to| at < to);
        Ok((v.operation != Operation::Delete && current).then_some(v.row))
    }
}
