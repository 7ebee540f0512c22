//! The fixed text of an upsert on one unique index: `INSERT ... ON CONFLICT
//! (the key) DO UPDATE` with the conventions of an update on the conflict
//! path, and the probe that tells a stale version from a missing row.

use tokio_postgres::types::Type;

use super::statements::{column_list, insert_source, stamp_list};
use crate::ddl::{index_key, index_predicate, quote_ident, table_ident};
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
        let placeholders: Vec<String> = schema
            .insert_columns()
            .enumerate()
            .map(|(i, c)| c.sql_type.param(i + 1))
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
                        match schema.column(c.name) {
                            Some(column) => column.sql_type.param(bound),
                            None => format!("${bound}"),
                        }
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
