//! Upsert: `INSERT ... ON CONFLICT (a declared unique key) DO UPDATE`, with
//! the conventions of an update on the conflict path.

use sea_query::{Alias, Expr, Func, InsertStatement, OnConflict};
use tokio_postgres::types::Type;

use super::{all_columns, column_list, insert, insert_source, stamp_list, stamps};
use crate::ddl::{index_key, index_predicate, quote_ident, table_ident};
use crate::entity::{Entity, NewEntity, UniqueKey};
use crate::error::{Error, Result};
use crate::schema::{setting_uuid, ColumnDefault, Index, IndexFunction, TableSchema};

/// The fixed text of an upsert on one unique index.
///
/// The conflict target names the index's keys and its predicate, so
/// PostgreSQL infers exactly that index: for a partial index on live rows
/// (`WHERE deleted_at IS NULL`), a soft-deleted row with the same key never
/// conflicts, and the new row is inserted beside it. On conflict the
/// business columns take the new values, `updated_at = now()` and `version
/// + 1`; `id`, `created_at` and `deleted_at` stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertStatements {
    /// `INSERT ... ON CONFLICT (...) WHERE ... DO UPDATE SET ... RETURNING`:
    /// parameters as [`Statements::insert`](super::Statements::insert).
    pub sql: String,
    /// `sql` whose update only happens when the existing row is at the
    /// version given as the last parameter; otherwise it returns no row.
    /// Absent for tables without `version`.
    pub guarded: Option<String>,
    /// `SELECT id, version` of the live row holding a key: how a guarded
    /// upsert that returned nothing tells which row was stale.
    pub probe: String,
    /// For each probe parameter, the insert parameter holding its value.
    pub probe_parameters: Vec<usize>,
    /// Types of `probe`'s parameters.
    pub probe_types: Vec<Type>,
    /// Types of `guarded`'s parameters: the insert's, then the version.
    pub guarded_types: Vec<Type>,
}

impl UpsertStatements {
    /// Renders the upsert on `index`; `None` when one of its keys is not
    /// a column an insert writes (a unique index on an audit column).
    pub fn new(schema: &'static TableSchema, index: &Index) -> Option<UpsertStatements> {
        let insert_columns: Vec<&str> = schema.insert_columns().map(|c| c.name).collect();
        // Each key's value: a column the insert binds, or one the database
        // fills from a transaction-local setting (a tenant's `tenant_id`,
        // which leads its unique keys), compared with that same setting.
        let key_values: Vec<KeyValue> = index
            .columns
            .iter()
            .map(
                |c| match insert_columns.iter().position(|name| *name == c.name) {
                    Some(at) => Some(KeyValue::Bound(at)),
                    None => match schema.column(c.name)?.default? {
                        ColumnDefault::Setting(name) => Some(KeyValue::Setting(setting_uuid(name))),
                        _ => None,
                    },
                },
            )
            .collect::<Option<_>>()?;
        let probe_parameters: Vec<usize> = key_values
            .iter()
            .filter_map(|v| match v {
                KeyValue::Bound(at) => Some(*at),
                KeyValue::Setting(_) => None,
            })
            .collect();
        let t = table_ident(schema);
        let columns = column_list(schema);
        let placeholders: Vec<String> = (1..=insert_columns.len())
            .map(|i| format!("${i}"))
            .collect();
        let keys: Vec<String> = index.columns.iter().map(index_key).collect();
        let target_where = index_predicate(index)
            .map(|p| format!(" WHERE {p}"))
            .unwrap_or_default();
        let mut sets: Vec<String> = schema
            .business_columns()
            .map(|c| {
                let c = quote_ident(c.name);
                format!("{c} = EXCLUDED.{c}")
            })
            .collect();
        sets.push(stamp_list(schema));
        if schema.versioned() {
            sets.push("\"version\" = \"existing\".\"version\" + 1".into());
        }
        let head = format!(
            "INSERT INTO {t} AS \"existing\" ({}) {} ON CONFLICT ({}){target_where} DO UPDATE SET {}",
            insert_columns
                .iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", "),
            insert_source(schema, &placeholders),
            keys.join(", "),
            sets.join(", "),
        );
        let returning = format!(" RETURNING {columns}");
        let guarded = schema.versioned().then(|| {
            format!(
                "{head} WHERE \"existing\".\"version\" = ${}{returning}",
                insert_columns.len() + 1
            )
        });
        let insert_types: Vec<Type> = schema
            .insert_columns()
            .map(|c| c.sql_type.wire_type())
            .collect();
        let mut guarded_types = insert_types.clone();
        guarded_types.push(Type::INT4);
        let mut bound = 0;
        let matches: Vec<String> = index
            .columns
            .iter()
            .zip(&key_values)
            .map(|(c, value)| {
                let value = match value {
                    KeyValue::Setting(sql) => return format!("{} = {sql}", index_key(c)),
                    KeyValue::Bound(_) => {
                        bound += 1;
                        format!("${bound}")
                    }
                };
                match c.function {
                    Some(IndexFunction::Lower) => format!("{} = lower({value})", index_key(c)),
                    // The same field of the JSON document being upserted.
                    Some(IndexFunction::JsonField { path, as_type }) => format!(
                        "{} = {}",
                        index_key(c),
                        crate::ddl::json_field_of(format!("{value}::jsonb"), path, as_type)
                    ),
                    None => format!("{} = {value}", index_key(c)),
                }
            })
            .chain(index_predicate(index))
            .collect();
        let probe = format!(
            "SELECT \"id\", {} FROM {t} WHERE {}",
            if schema.versioned() {
                "\"version\""
            } else {
                "0"
            },
            matches.join(" AND ")
        );
        Some(UpsertStatements {
            sql: format!("{head}{returning}"),
            guarded,
            probe,
            probe_types: probe_parameters
                .iter()
                .map(|i| insert_types[*i].clone())
                .collect(),
            probe_parameters,
            guarded_types,
        })
    }
}

/// Where an upsert key's value comes from.
enum KeyValue {
    /// The insert's parameter at this position.
    Bound(usize),
    /// The database fills it from a setting: this expression.
    Setting(String),
}

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
