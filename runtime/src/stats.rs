//! Which of the kit's statements cost the most, from PostgreSQL's own
//! statistics (`pg_stat_statements`), mapped back to entity and operation.
//!
//! The extension ships with PostgreSQL (Debian's `postgresql-contrib`); it
//! needs `shared_preload_libraries = 'pg_stat_statements'` in the server's
//! configuration and `CREATE EXTENSION pg_stat_statements` in the
//! database. The throwaway test server preloads it when the library is
//! installed.
//!
//! ```no_run
//! # use ordinance::prelude::*;
//! # #[derive(Entity)] pub struct Tag { pub id: Uuid, #[column(max_len = 40)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! # async fn demo(client: &ordinance::deps::tokio_postgres::Client) -> ordinance::Result<()> {
//! for s in ordinance::stats::statement_stats(client, &[Tag::SCHEMA]).await?.iter().take(10) {
//!     println!(
//!         "{:>10.1} ms {:>8} calls  {}.{}  {}",
//!         s.total_ms, s.calls, s.entity, s.operation, s.fingerprint
//!     );
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;

use crate::ddl::table_ident;
use crate::error::{classify, Error, Result};
use crate::query::{Fingerprint, Statements, Visibility};
use crate::relation::sql as relation_sql;
use crate::schema::TableSchema;

/// One of the kit's statements, as `pg_stat_statements` counted it in the
/// current database.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementStats {
    /// The entity whose table the statement works on (`User`).
    pub entity: &'static str,
    /// Its table (`users`, or `auth.users`).
    pub table: String,
    /// The kit's operation: `get`, `insert`, `update`, `soft_delete`,
    /// `restore`, `purge`, `probe`, `count`, `get_locked`, `upsert`,
    /// `copy_in`, `load_children`, `load_parents`, `load_related`; for
    /// statements built per call (lists, pages, streams, joins, batches,
    /// bulk changes, builders), their kind: `select`, `insert`, `update`,
    /// `delete`.
    pub operation: &'static str,
    /// The statement's shape, as the slow-statement warning names it.
    pub fingerprint: Fingerprint,
    /// Times it ran.
    pub calls: i64,
    /// Time spent running it, in milliseconds, over all calls.
    pub total_ms: f64,
    /// Average time per call, in milliseconds.
    pub mean_ms: f64,
    /// Rows returned or affected, over all calls.
    pub rows: i64,
    /// The statement as `pg_stat_statements` keeps it: constants replaced
    /// by `$n`, so it holds no value.
    pub query: String,
}

/// The kit's statements on the tables of `schemas` that
/// `pg_stat_statements` counted in the current database, most total time
/// first. Statements on other tables, and statements the kit does not
/// write, are left out. [`Error::ExtensionMissing`] when the extension is
/// not loaded or not created.
pub async fn statement_stats(
    client: &tokio_postgres::Client,
    schemas: &[&'static TableSchema],
) -> Result<Vec<StatementStats>> {
    let rows = client
        .query(
            "SELECT query, calls, total_exec_time, rows FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND query IS NOT NULL",
            &[],
        )
        .await
        .map_err(missing_extension)?;
    let known = known_shapes(schemas);
    let mut merged: HashMap<(Fingerprint, &'static str, &'static str), StatementStats> =
        HashMap::new();
    for row in &rows {
        let query: String = crate::row::read(row, 0, "pg_stat_statements", "query")?;
        let calls: i64 = crate::row::read(row, 1, "pg_stat_statements", "calls")?;
        let total_ms: f64 = crate::row::read(row, 2, "pg_stat_statements", "total_exec_time")?;
        let affected: i64 = crate::row::read(row, 3, "pg_stat_statements", "rows")?;
        let fingerprint = Fingerprint::of(&query);
        let Some((table, operation)) = known
            .get(&fingerprint)
            .copied()
            .or_else(|| built(&query, schemas))
        else {
            continue;
        };
        let entry = merged
            .entry((fingerprint, table.struct_name, operation))
            .or_insert_with(|| StatementStats {
                entity: table.struct_name,
                table: table.qualified_name(),
                operation,
                fingerprint,
                calls: 0,
                total_ms: 0.0,
                mean_ms: 0.0,
                rows: 0,
                query: query.clone(),
            });
        entry.calls += calls;
        entry.total_ms += total_ms;
        entry.rows += affected;
    }
    let mut out: Vec<StatementStats> = merged.into_values().collect();
    for s in &mut out {
        s.mean_ms = if s.calls > 0 {
            s.total_ms / s.calls as f64
        } else {
            0.0
        };
    }
    out.sort_by(|a, b| {
        b.total_ms
            .total_cmp(&a.total_ms)
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    Ok(out)
}

fn missing_extension(e: tokio_postgres::Error) -> Error {
    use tokio_postgres::error::SqlState;
    let hint = match e.code() {
        Some(c) if *c == SqlState::UNDEFINED_TABLE => {
            "run `CREATE EXTENSION pg_stat_statements` in this database \
             (the server must also preload it)"
        }
        Some(c) if *c == SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE => {
            "add `pg_stat_statements` to the server's `shared_preload_libraries` and restart it"
        }
        _ => return classify(e, None, &[]),
    };
    Error::ExtensionMissing {
        extension: "pg_stat_statements",
        hint,
        source: e.into(),
    }
}

/// The fixed statements the kit renders for `schemas`, by fingerprint.
fn known_shapes(
    schemas: &[&'static TableSchema],
) -> HashMap<Fingerprint, (&'static TableSchema, &'static str)> {
    let mut known = HashMap::new();
    let mut add = |sql: &str, table: &'static TableSchema, operation: &'static str| {
        known
            .entry(Fingerprint::of(sql))
            .or_insert((table, operation));
    };
    const SCOPES: [Visibility; 3] = [
        Visibility::Live,
        Visibility::WithDeleted,
        Visibility::OnlyDeleted,
    ];
    for &table in schemas {
        for (operation, sql) in Statements::new(table).by_operation() {
            add(sql, table, operation);
        }
        for scope in SCOPES {
            add(relation_sql::by_id(table, scope), table, "load_parents");
            for fk in table.foreign_keys {
                add(
                    relation_sql::children(table, fk.column, scope),
                    table,
                    "load_children",
                );
            }
        }
        // A join entity's two foreign keys load each side from the other.
        for from in table.foreign_keys {
            for to in table
                .foreign_keys
                .iter()
                .filter(|t| t.column != from.column)
            {
                let Some(&target) = schemas
                    .iter()
                    .find(|s| s.key() == (to.references_schema, to.references))
                else {
                    continue;
                };
                for scope in SCOPES {
                    add(
                        relation_sql::related(table, from.column, to.column, target, scope),
                        target,
                        "load_related",
                    );
                }
            }
        }
    }
    known
}

/// A statement built per call on one of `schemas`' tables, by its verb
/// and the first table it names after `FROM`, `INTO`, `UPDATE` or `COPY`.
fn built(
    query: &str,
    schemas: &[&'static TableSchema],
) -> Option<(&'static TableSchema, &'static str)> {
    let body = query.trim_start();
    let verb = body.split_whitespace().next()?.to_ascii_uppercase();
    let operation = match verb.as_str() {
        "SELECT" | "WITH" => "select",
        "INSERT" => "insert",
        "UPDATE" => "update",
        "DELETE" => "delete",
        _ => return None,
    };
    let mut best: Option<(usize, &'static TableSchema)> = None;
    for &table in schemas {
        let ident = table_ident(table);
        for keyword in ["FROM ", "INTO ", "UPDATE "] {
            let needle = format!("{keyword}{ident}");
            if let Some(at) = body.find(&needle) {
                // The identifier must end there (`"users"` is not `"users_x"`).
                let after = body[at + needle.len()..].chars().next();
                let ends = after.is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != '"');
                if ends && best.is_none_or(|(b, _)| at < b) {
                    best = Some((at, table));
                }
            }
        }
    }
    best.map(|(_, table)| (table, operation))
}
