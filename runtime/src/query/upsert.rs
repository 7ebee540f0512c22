//! Upsert: `INSERT ... ON CONFLICT (a declared unique key) DO UPDATE`, with
//! the conventions of an update on the conflict path.

use sea_query::{Alias, Expr, Func, InsertStatement, OnConflict};

use super::{all_columns, insert, stamps};
use crate::ddl::{index_key, index_predicate, quote_ident};
use crate::entity::{Entity, NewEntity, UniqueKey};
use crate::error::{Error, Result};
use crate::schema::{Index, IndexFunction, TableSchema};
use crate::sql::UpsertStatements;

/// The unique index a key stands for.
pub(crate) fn key_index<K: UniqueKey>(schema: &'static TableSchema, key: K) -> &'static Index {
    &schema.indexes[key.index_position()]
}

/// The upsert statements of `key`, or [`Error::InvalidSetting`] for a key
/// an insert cannot write.
pub(crate) fn upsert_statements<E: Entity>(key: E::Key) -> Result<&'static UpsertStatements> {
    E::statements().upserts[key.index_position()]
        .as_ref()
        .ok_or_else(|| Error::InvalidSetting {
            setting: "upsert key",
            reason: format!(
                "index \"{}\" of \"{}\" keys on a column the kit maintains; an upsert needs business columns",
                key_index(E::SCHEMA, key).name,
                E::SCHEMA.name
            ),
        })
}

/// [`insert`] of rows with the given ids, as an upsert on `key`: on
/// conflict with a live row holding the same key, that row takes the
/// business columns, `updated_at = now()` and `version + 1`, keeping its
/// id and `created_at`. Two rows of one statement with the same key are
/// refused by PostgreSQL (`ON CONFLICT DO UPDATE command cannot affect row
/// a second time`); [`batch::upsert_many`](crate::batch::upsert_many)
/// applies them in order instead.
///
/// ```
/// # use ordinance::prelude::*;
/// # #[derive(Entity)] pub struct Tag { pub id: Uuid, #[column(max_len = 40, unique)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// use ordinance::deps::sea_query::PostgresQueryBuilder;
///
/// let new = NewTag { name: "rust".into() };
/// let upsert = ordinance::query::upsert([(Uuid::now_v7(), &new)], TagKey::Name)?;
/// let (sql, _) = upsert.build(PostgresQueryBuilder);
/// assert_eq!(
///     sql,
///     r#"INSERT INTO "tags" ("id", "name") VALUES ($1, $2) ON CONFLICT ("name") WHERE "deleted_at" IS NULL DO UPDATE SET "name" = "excluded"."name", "updated_at" = now(), "version" = "tags"."version" + 1 RETURNING "id", "name", "created_at", "updated_at", "deleted_at", "version""#
/// );
/// # Ok::<(), ordinance::Error>(())
/// ```
pub fn upsert<'n, N: NewEntity + 'n>(
    rows: impl IntoIterator<Item = (uuid::Uuid, &'n N)>,
    key: <N::Entity as Entity>::Key,
) -> Result<InsertStatement> {
    let schema = N::Entity::SCHEMA;
    let index = key_index(schema, key);
    let mut q = insert(rows)?;
    let mut on_conflict = OnConflict::new();
    on_conflict.exprs(index.columns.iter().map(|c| match c.function {
        Some(IndexFunction::Lower) => Func::lower(Expr::col(Alias::new(c.name))).into(),
        Some(IndexFunction::JsonField { .. }) => Expr::cust(index_key(c)),
        None => Expr::col(Alias::new(c.name)),
    }));
    if let Some(predicate) = index_predicate(index) {
        // Constants of the compile-time schema, never a caller's value:
        // PostgreSQL infers a partial index only from literal predicates.
        on_conflict.target_and_where(Expr::cust(predicate));
    }
    on_conflict.update_columns(schema.business_columns().map(|c| Alias::new(c.name)));
    for (column, value) in stamps(schema) {
        on_conflict.value(Alias::new(column), Expr::cust(value));
    }
    if schema.versioned() {
        on_conflict.value(
            Alias::new("version"),
            Expr::cust(format!("{}.\"version\" + 1", quote_ident(schema.name))),
        );
    }
    q.on_conflict(on_conflict)
        .returning(sea_query::Query::returning().columns(all_columns(schema)));
    Ok(q)
}
