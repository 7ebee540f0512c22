//! Aggregates (`#[entity(aggregate_root)]`, `#[column(references = Root,
//! aggregate)]`): a trigger on the child table bumps the root's `version`
//! and `updated_at` on every write to a child — the kit's statements, bulk
//! changes, hand-written SQL alike — in the writer's transaction, so
//! optimistic locking on the root covers the whole aggregate. It runs as
//! the writer (row-level security on the root applies), and a row moved
//! to another root bumps both.

use crate::ddl::{qualified, quote_ident, table_ident};
use crate::schema::{ForeignKey, TableSchema};

/// The trigger's and its function's name: `{table}_{column}_aggregate`.
fn name(schema: &TableSchema, fk: &ForeignKey) -> String {
    format!("{}_{}_aggregate", schema.name, fk.column)
}

fn function_ident(schema: &TableSchema, fk: &ForeignKey) -> String {
    qualified(schema.schema, &name(schema, fk))
}

/// For each `aggregate` foreign key of `schema`: the function bumping
/// the root, and the trigger calling it after each row written.
pub(crate) fn create_aggregate(schema: &TableSchema) -> Vec<String> {
    let mut out = Vec::new();
    for fk in schema.foreign_keys.iter().filter(|fk| fk.aggregate) {
        let root = qualified(
            Some(fk.references_schema.unwrap_or("public")),
            fk.references,
        );
        let c = quote_ident(fk.column);
        let bump = |row: &str| {
            format!(
                "UPDATE {root} SET \"version\" = \"version\" + 1, \"updated_at\" = now() \
                 WHERE \"id\" = {row}.{c};"
            )
        };
        out.push(format!(
            "CREATE OR REPLACE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql \
             SET search_path = pg_catalog, pg_temp AS $aggregate$\n\
             BEGIN\n    \
             IF TG_OP <> 'DELETE' THEN\n        {new}\n    END IF;\n    \
             IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.{c} IS DISTINCT FROM NEW.{c}) THEN\n        \
             {old}\n    END IF;\n    \
             RETURN NULL;\n\
             END\n$aggregate$",
            f = function_ident(schema, fk),
            new = bump("NEW"),
            old = bump("OLD"),
        ));
        out.push(format!(
            "CREATE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {} FOR EACH ROW EXECUTE FUNCTION {}()",
            quote_ident(&name(schema, fk)),
            table_ident(schema),
            function_ident(schema, fk)
        ));
    }
    out
}

/// Drops the functions [`create_aggregate`] made, once the table (and its
/// triggers) is gone.
pub(crate) fn drop_aggregate(schema: &TableSchema) -> Vec<String> {
    schema
        .foreign_keys
        .iter()
        .filter(|fk| fk.aggregate)
        .map(|fk| format!("DROP FUNCTION {}()", function_ident(schema, fk)))
        .collect()
}
