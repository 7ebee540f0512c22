//! Every statement an entity can send, gathered from its static schema —
//! the same renderers the runtime uses, so the catalog is what runs — and
//! described by PostgreSQL: the types of its parameters and columns.

use tokio_postgres::types::Type;
use tokio_postgres::Client;

use super::catalog::{Entry, StatementCatalog};
use crate::ddl::{quote_ident, table_ident};
use crate::error::{Error, Result};
use crate::query::Visibility;
use crate::schema::TableSchema;
use crate::sql::{Statements, DROP_STAGE_IF_EXISTS, ID_TYPES};

/// Every type the kit declares when it prepares a statement: how a
/// catalog's `declared` names turn back into types.
const DECLARABLE: &[Type] = &[
    Type::UUID,
    Type::TEXT,
    Type::BOOL,
    Type::INT2,
    Type::INT4,
    Type::INT8,
    Type::NUMERIC,
    Type::FLOAT4,
    Type::FLOAT8,
    Type::TIMESTAMPTZ,
    Type::DATE,
    Type::JSONB,
    Type::BYTEA,
    Type::UUID_ARRAY,
    Type::TEXT_ARRAY,
    Type::BOOL_ARRAY,
    Type::INT2_ARRAY,
    Type::INT4_ARRAY,
    Type::INT8_ARRAY,
    Type::NUMERIC_ARRAY,
    Type::FLOAT4_ARRAY,
    Type::FLOAT8_ARRAY,
    Type::TIMESTAMPTZ_ARRAY,
    Type::DATE_ARRAY,
    Type::JSONB_ARRAY,
    Type::BYTEA_ARRAY,
];

/// The types a catalog's `declared` line names.
pub(super) fn declared_types(names: &[String]) -> Result<Vec<Type>> {
    names
        .iter()
        .map(|n| {
            DECLARABLE
                .iter()
                .find(|t| t.name() == n)
                .cloned()
                .ok_or_else(|| Error::InvalidSetting {
                    setting: "statement catalog",
                    reason: format!("`{n}` is not a type the kit declares"),
                })
        })
        .collect()
}

fn names(types: &[Type]) -> Vec<String> {
    types.iter().map(|t| t.name().to_owned()).collect()
}

/// The statements of one entity, undescribed: text, declared types and
/// the columns inserts write.
fn entries(schema: &'static TableSchema) -> Vec<Entry> {
    let s = Statements::new(schema);
    let table = schema.qualified_name();
    let writes: Vec<String> = schema.insert_columns().map(|c| c.name.to_owned()).collect();
    let mut out = Vec::new();
    let mut push = |operation: &str, sql: &str, declared: &[Type], writes: &[String]| {
        out.push(Entry {
            table: table.clone(),
            entity: schema.struct_name.to_owned(),
            operation: operation.to_owned(),
            sql: sql.to_owned(),
            declared: names(declared),
            writes: writes.to_vec(),
            ..Entry::default()
        });
    };
    push("get", &s.get, ID_TYPES, &[]);
    if let Some(locked) = s.get_locked.first() {
        push("get_locked", locked, ID_TYPES, &[]);
    }
    push("insert", &s.insert, &s.insert_types, &writes);
    push("update", &s.update, &s.update_types, &[]);
    if let Some(sql) = &s.soft_delete {
        push("soft_delete", sql, &s.guard_types, &[]);
    }
    if let Some(sql) = &s.restore {
        push("restore", sql, &s.guard_types, &[]);
    }
    let every = {
        let mut set = crate::params::ColumnSet::new();
        for k in 0..schema.business_columns().count() {
            set.insert(k);
        }
        set
    };
    let patch = crate::sql::render_patch(schema, &every);
    push("patch", &patch.sql, &patch.types, &[]);
    push("purge", &s.purge, ID_TYPES, &[]);
    push("probe", &s.probe, ID_TYPES, &[]);
    push("count", &s.count, &[], &[]);
    push("id_range", &s.id_range, &[Type::UUID, Type::UUID], &[]);
    push("copy_in", &s.copy_in, &[], &writes);
    push("stage", &s.staged.create, &[], &[]);
    push("insert_many", &s.staged.insert, &[], &writes);
    for upsert in s.upserts.iter().flatten() {
        push("upsert", &upsert.sql, &s.insert_types, &writes);
        if let Some(guarded) = &upsert.guarded {
            push("upsert", guarded, &upsert.guarded_types, &writes);
        }
        push("upsert_probe", &upsert.probe, &upsert.probe_types, &[]);
    }
    push(
        "load_by_id",
        &crate::relation::sql::render_by_id(schema, Visibility::Live),
        crate::relation::sql::by_id_types(schema),
        &[],
    );
    // Built at run time around a caller's filter: their fixed parts, the
    // page after a cursor in each declared order, a claim.
    fn built((sql, values): (String, sea_query::Values)) -> Option<(String, Vec<Type>)> {
        let bound = crate::exec::bind::bind_values(values).ok()?;
        Some((sql, bound.into_iter().map(|(_, t)| t).collect()))
    }
    for keyset in schema.keysets {
        if let Some((sql, types)) = crate::page::catalog_statement(schema, keyset)
            .and_then(|q| built(q.build(sea_query::PostgresQueryBuilder)))
        {
            push("page", &sql, &types, &[]);
        }
    }
    let claim =
        crate::query::claim_statement(schema, 100, sea_query::Condition::all(), &[], Vec::new());
    if let Some((sql, types)) = built(claim.build(sea_query::PostgresQueryBuilder)) {
        push("claim", &sql, &types, &[]);
    }
    if schema.history {
        push(
            "history",
            &crate::sql::history::versions(schema),
            &[Type::UUID],
            &[],
        );
        push(
            "as_of",
            &crate::sql::history::as_of(schema),
            &[Type::UUID, Type::TIMESTAMPTZ],
            &[],
        );
    }
    if schema.outbox {
        for (operation, sql, types) in crate::sql::outbox::OutboxSql::new(schema).all() {
            push(operation, sql, types, &[]);
        }
    }
    for fk in schema.foreign_keys {
        push(
            "load_children",
            &crate::relation::sql::render_children(schema, fk.column, Visibility::Live),
            &[Type::UUID_ARRAY],
            &[],
        );
    }
    out
}

/// The columns a `COPY` lists, as a `SELECT` that PostgreSQL can prepare:
/// what proves them (`COPY` itself cannot be prepared).
pub(super) fn copy_probe(entry: &Entry, schema_table: &str) -> String {
    let columns: Vec<String> = entry.writes.iter().map(|c| quote_ident(c)).collect();
    format!(
        "SELECT {} FROM {schema_table} WHERE false",
        columns.join(", ")
    )
}

/// The catalog of `schemas` as the database `client` is connected to
/// describes it: each statement prepared there, its parameter and column
/// types read back. `schema` is the version of the newest migration the
/// database was built by.
pub async fn describe(
    client: &Client,
    schemas: &[&'static TableSchema],
    schema: Option<i64>,
) -> Result<StatementCatalog> {
    let mut sorted = schemas.to_vec();
    sorted.sort_by_key(|s| s.qualified_name());
    let mut catalog = StatementCatalog {
        schema,
        entries: Vec::new(),
    };
    for table in sorted {
        for mut entry in entries(table) {
            match entry.operation.as_str() {
                // Each entity's batch stages its own columns.
                "stage" => client
                    .batch_execute(&format!("{DROP_STAGE_IF_EXISTS}; {}", entry.sql))
                    .await
                    .map_err(|e| Error::from_db(e, table))?,
                _ if entry.is_copy() => {
                    let probe = copy_probe(&entry, &table_ident(table));
                    let statement = client
                        .prepare(&probe)
                        .await
                        .map_err(|e| Error::from_db(e, table))?;
                    entry.returns = statement
                        .columns()
                        .iter()
                        .map(|c| c.type_().name().to_owned())
                        .collect();
                }
                _ => {
                    let declared = declared_types(&entry.declared)?;
                    let statement = client
                        .prepare_typed(&entry.sql, &declared)
                        .await
                        .map_err(|e| Error::from_db(e, table))?;
                    entry.params = names(statement.params());
                    entry.returns = statement
                        .columns()
                        .iter()
                        .map(|c| c.type_().name().to_owned())
                        .collect();
                }
            }
            catalog.entries.push(entry);
        }
    }
    client
        .batch_execute(DROP_STAGE_IF_EXISTS)
        .await
        .map_err(Error::from)?;
    Ok(catalog)
}
