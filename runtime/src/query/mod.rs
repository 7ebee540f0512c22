//! Statements for an entity, built from its static schema.
//!
//! The hot statements (insert, get by id, update, soft delete, restore,
//! purge) are fixed SQL text, rendered once per entity and kept for the life
//! of the process, so each call only binds values. Every value travels as a
//! `$n` parameter; identifiers come only from the compile-time schema.
//!
//! Reads through sea-query start from a scope named at the call site:
//! [`live`] (the default: soft-deleted rows excluded), [`with_deleted`] and
//! [`only_deleted`]. The writes are sea-query builders too — [`insert`],
//! [`update`], [`soft_delete`], [`restore`], [`purge`] — carrying the same
//! conventions as the fixed text (version check, `updated_at = now()`, live
//! rows only), for callers who add conditions or `ON CONFLICT`; run them
//! with [`Repo::fetch`](crate::repo::Repo::fetch).
//!
//! ```
//! use ordinance::prelude::*;
//! use ordinance::deps::sea_query::{Expr, ExprTrait, PostgresQueryBuilder};
//!
//! #[derive(Entity)]
//! struct Note {
//!     id: Uuid,
//!     #[column(max_len = 100)]
//!     title: String,
//!     created_at: DateTime<Utc>,
//!     updated_at: DateTime<Utc>,
//!     deleted_at: Option<DateTime<Utc>>,
//!     version: i32,
//! }
//!
//! let (sql, values) = ordinance::query::live::<Note>()
//!     .and_where(Expr::col(NoteColumn::Title).eq("it's"))
//!     .build(PostgresQueryBuilder);
//! assert_eq!(
//!     sql,
//!     r#"SELECT "notes"."id", "notes"."title", "notes"."created_at", "notes"."updated_at", "notes"."deleted_at", "notes"."version" FROM "notes" WHERE "notes"."deleted_at" IS NULL AND "title" = $1"#
//! );
//! assert_eq!(values.0.len(), 1);
//!
//! let s = ordinance::query::Statements::new(Note::SCHEMA);
//! assert_eq!(
//!     s.update,
//!     r#"UPDATE "notes" SET "title" = $3, "updated_at" = now(), "version" = "version" + 1 WHERE "id" = $1 AND "version" = $2 AND "deleted_at" IS NULL RETURNING "id", "title", "created_at", "updated_at", "deleted_at", "version""#
//! );
//! ```

pub mod array;
mod claim;
mod fingerprint;
pub mod json;
mod upsert;

use sea_query::{Alias, Expr, ExprTrait, SelectStatement};
use tokio_postgres::types::Type;

pub use crate::exec::bind::{bind_values, BoxedParam};
pub(crate) use crate::sql::stamps;
pub use crate::sql::{
    LockStrength, LockWait, RowLock, StagedInsert, Statements, UpsertStatements, DROP_STAGE,
    ID_TYPES, MAX_PARAMETERS,
};
#[cfg(any(feature = "tools", feature = "testing"))]
pub(crate) use claim::claim_statement;
pub use claim::Claim;
pub use fingerprint::Fingerprint;
pub use upsert::upsert;
pub(crate) use upsert::upsert_statements;

use crate::entity::{Entity, NewEntity};
use crate::params::SqlParam;
use crate::schema::{SqlType, TableSchema};

/// Which rows a read sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Live rows only: the default everywhere.
    Live,
    /// Live and soft-deleted rows.
    WithDeleted,
    /// Soft-deleted rows only.
    OnlyDeleted,
}

/// `SELECT` of every column of `E`, restricted to `scope`, ready for the
/// caller's conditions, ordering and joins.
pub fn select<E: Entity>(scope: Visibility) -> SelectStatement {
    select_schema(E::SCHEMA, scope)
}

/// The table as sea-query names it in `FROM`, `INTO` and `UPDATE`:
/// schema-qualified outside `public`. Columns are qualified by the bare
/// table name, which PostgreSQL accepts for a qualified table too.
pub fn table_ref(schema: &'static TableSchema) -> sea_query::TableRef {
    use sea_query::IntoTableRef as _;
    match schema.schema {
        Some(s) => (Alias::new(s), Alias::new(schema.name)).into_table_ref(),
        None => Alias::new(schema.name).into_table_ref(),
    }
}

/// [`select`] from a schema rather than an entity type.
pub(crate) fn select_schema(schema: &'static TableSchema, scope: Visibility) -> SelectStatement {
    let table = || Alias::new(schema.name);
    let mut q = sea_query::Query::select();
    // Qualified by the table, so a join with another entity (which has its
    // own `id`, `created_at`, ...) stays unambiguous.
    q.columns(schema.columns.iter().map(|c| (table(), Alias::new(c.name))))
        .from(table_ref(schema));
    if let Some(condition) = scope_condition(schema, scope) {
        q.and_where(condition);
    }
    q
}

/// The condition rows of `scope` meet, qualified by the table name; `None`
/// when every row is in scope.
pub(crate) fn scope_condition(schema: &'static TableSchema, scope: Visibility) -> Option<Expr> {
    if schema.soft_deletes() {
        let deleted_at = Expr::col((Alias::new(schema.name), Alias::new("deleted_at")));
        match scope {
            Visibility::Live => Some(deleted_at.is_null()),
            Visibility::OnlyDeleted => Some(deleted_at.is_not_null()),
            Visibility::WithDeleted => None,
        }
    } else if scope == Visibility::OnlyDeleted {
        // Nothing is ever soft-deleted in a table without `deleted_at`.
        Some(Expr::val(false))
    } else {
        None
    }
}

/// Live rows of `E` (soft-deleted rows excluded).
pub fn live<E: Entity>() -> SelectStatement {
    select::<E>(Visibility::Live)
}

/// Every row of `E`, soft-deleted ones included.
pub fn with_deleted<E: Entity>() -> SelectStatement {
    select::<E>(Visibility::WithDeleted)
}

/// Only the soft-deleted rows of `E`.
pub fn only_deleted<E: Entity>() -> SelectStatement {
    select::<E>(Visibility::OnlyDeleted)
}

/// An array column's value, read back as a sea-query array of its
/// element type.
fn query_array(
    element: &SqlType,
    wire: &Type,
    raw: Option<&[u8]>,
) -> crate::Result<sea_query::Value> {
    use sea_query::{ArrayType as A, Value as V};
    use tokio_postgres::types::FromSql;
    fn read<'a, T: FromSql<'a>>(
        wire: &Type,
        raw: Option<&'a [u8]>,
    ) -> crate::Result<Option<Vec<Option<T>>>> {
        raw.map(|raw| Vec::<Option<T>>::from_sql(wire, raw))
            .transpose()
            .map_err(|e| crate::Error::UnsupportedValue(format!("a {wire} value: {e}")))
    }
    macro_rules! array {
        ($t:ty, $array:ident, $variant:ident) => {
            V::Array(
                A::$array,
                read::<$t>(wire, raw)?
                    .map(|items| Box::new(items.into_iter().map(V::$variant).collect())),
            )
        };
    }
    Ok(match element {
        SqlType::Text => array!(String, String, String),
        SqlType::Boolean => array!(bool, Bool, Bool),
        SqlType::SmallInt => array!(i16, SmallInt, SmallInt),
        SqlType::Integer => array!(i32, Int, Int),
        SqlType::BigInt => array!(i64, BigInt, BigInt),
        SqlType::Uuid => array!(uuid::Uuid, Uuid, Uuid),
        SqlType::Numeric { .. } => array!(rust_decimal::Decimal, Decimal, Decimal),
        SqlType::Date => array!(chrono::NaiveDate, ChronoDate, ChronoDate),
        SqlType::Timestamptz => array!(
            chrono::DateTime<chrono::Utc>,
            ChronoDateTimeUtc,
            ChronoDateTimeUtc
        ),
        other => {
            return Err(crate::Error::UnsupportedValue(format!(
                "an array of {other} in a builder"
            )))
        }
    })
}

/// The value of one column as sea-query holds it: the parameter is encoded
/// at the column's wire type and read back as the matching Rust type, so any
/// storable type (a `DbEnum`, `Json<T>`, a newtype) becomes a plain value.
fn query_value(value: SqlParam<'_>, sql_type: SqlType) -> crate::Result<sea_query::Value> {
    use sea_query::Value as V;
    use tokio_postgres::types::{FromSql, IsNull};

    let wire = sql_type.wire_type();
    let mut buf = bytes::BytesMut::new();
    let is_null = value
        .to_sql_checked(&wire, &mut buf)
        .map_err(|e| crate::Error::UnsupportedValue(format!("a {sql_type} value: {e}")))?;
    let raw = match is_null {
        IsNull::Yes => None,
        IsNull::No => Some(&buf[..]),
    };
    fn read<'a, T: FromSql<'a>>(wire: &Type, raw: Option<&'a [u8]>) -> crate::Result<Option<T>> {
        raw.map(|raw| T::from_sql(wire, raw))
            .transpose()
            .map_err(|e| crate::Error::UnsupportedValue(format!("a {wire} value: {e}")))
    }
    Ok(match sql_type {
        SqlType::Uuid => V::Uuid(read(&wire, raw)?),
        SqlType::Text => V::String(read(&wire, raw)?),
        SqlType::Boolean => V::Bool(read(&wire, raw)?),
        SqlType::SmallInt => V::SmallInt(read(&wire, raw)?),
        SqlType::Integer => V::Int(read(&wire, raw)?),
        SqlType::BigInt => V::BigInt(read(&wire, raw)?),
        SqlType::Numeric { .. } => V::Decimal(read(&wire, raw)?),
        SqlType::Real => V::Float(read(&wire, raw)?),
        SqlType::DoublePrecision => V::Double(read(&wire, raw)?),
        SqlType::Timestamptz => V::ChronoDateTimeUtc(read(&wire, raw)?),
        SqlType::Date => V::ChronoDate(read(&wire, raw)?),
        SqlType::Jsonb => V::Json(read::<serde_json::Value>(&wire, raw)?.map(Box::new)),
        SqlType::Bytea => V::Bytes(read(&wire, raw)?),
        SqlType::Array(element) => query_array(element, &wire, raw)?,
        SqlType::Enum(e) => crate::column_type::enum_label(e.name, read(&wire, raw)?),
    })
}

/// The caller's `SET` list for a write of many rows, refusing the columns
/// the kit maintains (`id`, `created_at`, `updated_at`, `deleted_at`,
/// `version`): those follow the conventions on every write path.
pub(crate) fn caller_sets<C: sea_query::Iden>(
    schema: &'static TableSchema,
    sets: Vec<(C, Expr)>,
) -> crate::Result<Vec<(Alias, Expr)>> {
    sets.into_iter()
        .map(|(column, value)| {
            let name = column.to_string();
            if schema.is_maintained(&name) {
                return Err(crate::Error::InvalidSetting {
                    setting: "set",
                    reason: format!(
                        "\"{name}\" of \"{}\" is maintained by the kit on every write; set business columns only",
                        schema.name
                    ),
                });
            }
            if let (Expr::Value(value), Some(position)) = (
                &value,
                schema.columns.iter().position(|c| c.name == name),
            ) {
                check_query_value(schema, position, value)?;
            }
            Ok((Alias::new(name), value))
        })
        .collect()
}

/// `left <operator> right`, for PostgreSQL operators sea-query has no
/// variant of (`?`, `?|`, `-` on JSONB): the operator is a constant of the
/// kit, the operands expressions (values stay bound).
pub(crate) fn operator(left: Expr, operator: &'static str, right: Expr) -> Expr {
    Expr::cust_with_exprs(format!("$1 {operator} $2"), [left, right])
}

/// A caller's value for column `position` against the column's limits
/// (`NUMERIC(p,s)`, `min_len` / `max_len`, `min` / `max`), as an
/// entity's own values are checked.
fn check_query_value(
    schema: &'static TableSchema,
    position: usize,
    value: &sea_query::Value,
) -> crate::Result<()> {
    use crate::checks::{decimal_fits, each_element, invalid, number_fits, text_fits};
    use sea_query::Value as V;
    let Some(limits) = crate::ValueLimits::of(schema, position) else {
        return Ok(());
    };
    let fits = |value: &V, limits: &crate::ValueLimits| {
        let int = |n: i64| number_fits(&n, limits.min, limits.max, |n| n);
        match value {
            V::Decimal(Some(d)) => decimal_fits(d, limits),
            V::String(Some(s)) => text_fits(s, limits),
            V::SmallInt(Some(n)) => int(i64::from(*n)),
            V::Int(Some(n)) => int(i64::from(*n)),
            V::BigInt(Some(n)) => int(*n),
            _ => Ok(()),
        }
    };
    let result = match (value, limits.of_elements()) {
        (V::Array(_, Some(items)), Some(element)) => {
            each_element(items.iter().map(Some), |item| fits(item, &element))
        }
        (value, _) => fits(value, &limits).map_err(|rule| (None, rule)),
    };
    result.map_err(|found| invalid(schema, position, found))
}

/// `updated_at = now()` and, when versioned, `version = version + 1`: what
/// every write of a row adds to its `SET` list.
pub(crate) fn touch(schema: &'static TableSchema, q: &mut sea_query::UpdateStatement) {
    for (column, value) in stamps(schema) {
        q.value(Alias::new(column), Expr::cust(value));
    }
    if schema.versioned() {
        q.value(Alias::new("version"), Expr::cust("\"version\" + 1"));
    }
}

/// `(column, value)` for each business column of a row.
fn business_query_values<'a>(
    schema: &'static TableSchema,
    values: crate::Params<'a>,
) -> crate::Result<Vec<(Alias, Expr)>> {
    schema
        .business_columns()
        .zip(values.iter().copied())
        .map(|(c, v)| Ok((Alias::new(c.name), query_value(v, c.sql_type)?.into())))
        .collect()
}

/// The columns a patch sets, with their values as sea-query holds them:
/// a `SET` list.
pub(crate) fn patch_sets<P: crate::Patch>(patch: &P) -> crate::Result<Vec<(Alias, Expr)>> {
    let schema = <P::Entity as Entity>::SCHEMA;
    let mut set = crate::params::ColumnSet::new();
    let mut values = crate::Params::new();
    patch.bind_set(&mut set, &mut values);
    let business: Vec<_> = schema.business_columns().collect();
    set.iter()
        .zip(values.iter().copied())
        .filter_map(|(k, v)| business.get(k).map(|c| (c, v)))
        .map(|(c, v)| Ok((Alias::new(c.name), query_value(v, c.sql_type)?.into())))
        .collect()
}

fn all_columns(schema: &'static TableSchema) -> impl Iterator<Item = Alias> {
    schema.columns.iter().map(|c| Alias::new(c.name))
}

/// `INSERT` of rows with the given ids, returning every column. For more rows
/// than one statement's 65,535 parameters allow, use [`crate::batch`].
///
/// ```
/// # use ordinance::prelude::*;
/// # #[derive(Entity)] pub struct Tag { pub id: Uuid, #[column(max_len = 40)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// use ordinance::deps::sea_query::{OnConflict, PostgresQueryBuilder};
///
/// let new = NewTag { name: "x'); DROP TABLE tags; --".into() };
/// let mut insert = ordinance::query::insert([(Uuid::now_v7(), &new)])?;
/// insert.on_conflict(OnConflict::new().do_nothing().to_owned());
/// let (sql, values) = insert.build(PostgresQueryBuilder);
/// assert_eq!(
///     sql,
///     r#"INSERT INTO "tags" ("id", "name") VALUES ($1, $2) ON CONFLICT  DO NOTHING RETURNING "id", "name", "created_at", "updated_at", "deleted_at", "version""#
/// );
/// assert_eq!(values.0.len(), 2);
/// # Ok::<(), ordinance::Error>(())
/// ```
pub fn insert<'n, N: NewEntity + 'n>(
    rows: impl IntoIterator<Item = (uuid::Uuid, &'n N)>,
) -> crate::Result<sea_query::InsertStatement> {
    let schema = N::Entity::SCHEMA;
    let mut q = sea_query::Query::insert();
    q.into_table(table_ref(schema))
        .columns(schema.insert_columns().map(|c| Alias::new(c.name)))
        .returning(sea_query::Query::returning().columns(all_columns(schema)));
    let mut width = 0;
    let mut rows_seen = 0;
    for (id, row) in rows {
        crate::checks::check_row(row, rows_seen)?;
        let mut values: Vec<Expr> = vec![sea_query::Value::Uuid(Some(id)).into()];
        values.extend(
            business_query_values(schema, row.business_values())?
                .into_iter()
                .map(|(_, v)| v),
        );
        width = values.len();
        rows_seen += 1;
        q.values(values)
            .map_err(|e| crate::Error::UnsupportedValue(e.to_string()))?;
    }
    let parameters = width * rows_seen;
    if parameters > MAX_PARAMETERS {
        return Err(crate::Error::TooManyParameters {
            parameters,
            max: MAX_PARAMETERS,
        });
    }
    Ok(q)
}

/// `UPDATE ... SET` the entity's business columns, `updated_at = now()`,
/// `version = version + 1`, `WHERE id = .. AND version = .. AND deleted_at IS
/// NULL`, returning every column: [`Statements::update`] as a builder, for
/// adding conditions.
pub fn update<E: Entity>(entity: &E) -> crate::Result<sea_query::UpdateStatement> {
    entity.check_values()?;
    let sets = business_query_values(E::SCHEMA, entity.business_values())?;
    Ok(guarded::<E>(entity, sets, true))
}

/// Soft delete (`deleted_at = now()`), version-checked, as a builder.
/// [`Error::NoSoftDelete`](crate::Error::NoSoftDelete) for tables without it.
pub fn soft_delete<E: Entity>(entity: &E) -> crate::Result<sea_query::UpdateStatement> {
    soft_delete_marker::<E>(entity, true)
}

/// Restore of a soft-deleted row, version-checked, as a builder.
pub fn restore<E: Entity>(entity: &E) -> crate::Result<sea_query::UpdateStatement> {
    soft_delete_marker::<E>(entity, false)
}

fn soft_delete_marker<E: Entity>(
    entity: &E,
    delete: bool,
) -> crate::Result<sea_query::UpdateStatement> {
    if !E::SCHEMA.soft_deletes() {
        return Err(crate::Error::NoSoftDelete {
            table: E::SCHEMA.name,
        });
    }
    let marks = deletion_sets(E::SCHEMA, delete);
    Ok(guarded::<E>(entity, marks, delete))
}

/// [`deletion_marks`](crate::sql::deletion_marks) as sea-query `SET`s: SQL
/// expressions of the clock and the actor setting, no value.
pub(crate) fn deletion_sets(schema: &'static TableSchema, delete: bool) -> Vec<(Alias, Expr)> {
    crate::sql::deletion_marks(schema, delete)
        .map(|(column, sql)| (Alias::new(column), Expr::cust(sql)))
        .collect()
}

/// A version-checked `UPDATE`: sets `sets`, bumps `updated_at` and
/// `version`, matches `id` and `version`, and requires the row to be live
/// (or, with `live` false, soft-deleted).
fn guarded<E: Entity>(
    entity: &E,
    sets: Vec<(Alias, Expr)>,
    live: bool,
) -> sea_query::UpdateStatement {
    let schema = E::SCHEMA;
    let mut q = sea_query::Query::update();
    q.table(table_ref(schema)).values(sets);
    touch(schema, &mut q);
    q.and_where(Expr::col(Alias::new("id")).eq(entity.id()))
        .returning(sea_query::Query::returning().columns(all_columns(schema)));
    if let Some(version) = entity.version() {
        q.and_where(Expr::col(Alias::new("version")).eq(version));
    }
    if schema.soft_deletes() {
        let deleted_at = Expr::col(Alias::new("deleted_at"));
        q.and_where(if live {
            deleted_at.is_null()
        } else {
            deleted_at.is_not_null()
        });
    }
    q
}

/// `DELETE ... WHERE id = ..` (the hard delete, named `purge` everywhere),
/// returning every column of the removed row.
pub fn purge<E: Entity>(id: uuid::Uuid) -> sea_query::DeleteStatement {
    let schema = E::SCHEMA;
    let mut q = sea_query::Query::delete();
    q.from_table(table_ref(schema))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .returning(sea_query::Query::returning().columns(all_columns(schema)));
    q
}
