//! Row history (`#[entity(history)]`): the `{table}_history` table that
//! keeps every version of every row, the trigger function that writes it
//! on every change — the kit's statements, bulk changes, hand-written SQL,
//! `psql` alike — and the statements that read it back.
//!
//! A version holds the row's columns as they were, then `history_id` (its
//! order), `valid` (a `tstzrange` from the change that made it to the one
//! that replaced it, open while it is the row's current state),
//! `operation` (`insert`, `update`, `soft_delete`, `restore`, `delete`),
//! `actor_id` (the transaction's actor, `app.actor_id`) and
//! `transaction_id`. A purge leaves a last version whose `valid` is the
//! instant of the delete.

use crate::ddl::{qualified, quote_ident, quote_literal, table_ident};
use crate::schema::{setting_uuid, TableSchema, ACTOR_SETTING};

/// The operations a version records.
pub(crate) const OPERATIONS: [&str; 5] = ["insert", "update", "soft_delete", "restore", "delete"];

/// The start of a history table's comment: how the audit and `adopt` know
/// a table the kit keeps for another.
pub const HISTORY_COMMENT: &str = "ordinance history of ";

/// `{table}_history`: the history table's name.
pub fn history_name(schema: &TableSchema) -> String {
    format!("{}_history", schema.name)
}

/// The history table as SQL writes it (`"posts_history"`,
/// `"auth"."sessions_history"`).
pub fn history_ident(schema: &TableSchema) -> String {
    qualified(schema.schema, &history_name(schema))
}

/// The trigger function's name: `{table}_history_write`.
fn function_ident(schema: &TableSchema) -> String {
    qualified(schema.schema, &format!("{}_history_write", schema.name))
}

/// The history table named with its schema, `public` included: the
/// trigger function's search path holds only `pg_catalog`.
fn history_in_function(schema: &TableSchema) -> String {
    qualified(
        Some(schema.schema.unwrap_or("public")),
        &history_name(schema),
    )
}

/// Everything that keeps `schema`'s history, in order: the table (the
/// entity's columns, every one nullable, then the history's own), its
/// primary key and index, its comment, row-level security for a tenant
/// table, the trigger function and the trigger. Empty without
/// `#[entity(history)]`.
pub(crate) fn create_history(schema: &TableSchema) -> Vec<String> {
    if !schema.history {
        return Vec::new();
    }
    let name = history_name(schema);
    let h = history_ident(schema);
    let naming = &schema.conventions.naming;
    let mut columns: Vec<String> = schema
        .columns
        .iter()
        .map(|c| format!("{} {}", quote_ident(c.name), schema.column_type(c)))
        .collect();
    let operations: Vec<String> = OPERATIONS.iter().map(|o| quote_literal(o)).collect();
    columns.extend([
        "\"history_id\" BIGINT GENERATED ALWAYS AS IDENTITY".to_owned(),
        "\"valid\" TSTZRANGE NOT NULL".to_owned(),
        format!(
            "\"operation\" TEXT NOT NULL CONSTRAINT {} CHECK (\"operation\" IN ({}))",
            quote_ident(&naming.check(&name, "operation", "valid")),
            operations.join(", ")
        ),
        "\"actor_id\" UUID".to_owned(),
        "\"transaction_id\" BIGINT NOT NULL".to_owned(),
        format!(
            "CONSTRAINT {} PRIMARY KEY (\"history_id\")",
            quote_ident(&naming.primary_key(&name))
        ),
    ]);
    let mut out = vec![
        format!("CREATE TABLE {h} (\n    {}\n)", columns.join(",\n    ")),
        format!(
            "CREATE INDEX {} ON {h} (\"id\", \"history_id\")",
            quote_ident(&naming.index(&name, &["id", "history_id"], false))
        ),
        // The one current version of each row: what each change closes,
        // found at once however long the row's history.
        format!(
            "CREATE UNIQUE INDEX {} ON {h} (\"id\") WHERE upper_inf(\"valid\")",
            quote_ident(&naming.index(&name, &["id"], true))
        ),
        format!(
            "COMMENT ON TABLE {h} IS {}",
            quote_literal(&format!(
                "{HISTORY_COMMENT}{}: every version of every row, written by a trigger.",
                schema.qualified_name()
            ))
        ),
    ];
    if schema.tenant {
        out.extend([
            crate::ddl::enable_row_security(&h, true),
            crate::ddl::force_row_security(&h, true),
            crate::ddl::tenant_policy_on(&h),
        ]);
    }
    out.push(write_function(schema));
    out.push(format!(
        "CREATE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {} FOR EACH ROW EXECUTE FUNCTION {}()",
        quote_ident(&name),
        table_ident(schema),
        function_ident(schema)
    ));
    out
}

/// Drops what [`create_history`] made, once the table is gone (its
/// trigger goes with it).
pub(crate) fn drop_history(schema: &TableSchema) -> Vec<String> {
    if !schema.history {
        return Vec::new();
    }
    vec![
        format!("DROP TABLE {}", history_ident(schema)),
        format!("DROP FUNCTION {}()", function_ident(schema)),
    ]
}

/// The trigger function: closes the current version's `valid`, then
/// records the new one. `SECURITY DEFINER`, so the application's role
/// needs no right to write the history, only to read it; its search path
/// pinned, as every such function's must be.
fn write_function(schema: &TableSchema) -> String {
    let h = history_in_function(schema);
    let names: Vec<String> = schema
        .columns
        .iter()
        .map(|c| quote_ident(c.name))
        .chain(
            ["valid", "operation", "actor_id", "transaction_id"]
                .iter()
                .map(|c| quote_ident(c)),
        )
        .collect();
    let values = |row: &str, valid: &str| -> String {
        let mut v: Vec<String> = schema
            .columns
            .iter()
            .map(|c| format!("{row}.{}", quote_ident(c.name)))
            .collect();
        v.extend([
            valid.to_owned(),
            "op".to_owned(),
            setting_uuid(ACTOR_SETTING),
            "txid_current()".to_owned(),
        ]);
        v.join(", ")
    };
    let deletion = if schema.soft_deletes() {
        "    ELSIF OLD.\"deleted_at\" IS NULL AND NEW.\"deleted_at\" IS NOT NULL THEN\n        \
         op := 'soft_delete';\n    \
         ELSIF OLD.\"deleted_at\" IS NOT NULL AND NEW.\"deleted_at\" IS NULL THEN\n        \
         op := 'restore';\n"
    } else {
        ""
    };
    let columns = names.join(", ");
    format!(
        "CREATE OR REPLACE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER \
         SET search_path = pg_catalog, pg_temp AS $history$\n\
         DECLARE\n    op text;\n\
         BEGIN\n    \
         IF TG_OP = 'INSERT' THEN\n        op := 'insert';\n    \
         ELSIF TG_OP = 'DELETE' THEN\n        op := 'delete';\n\
         {deletion}    \
         ELSE\n        op := 'update';\n    \
         END IF;\n    \
         IF TG_OP <> 'INSERT' THEN\n        \
         UPDATE {h} SET \"valid\" = tstzrange(lower(\"valid\"), now()) \
         WHERE \"id\" = OLD.\"id\" AND upper_inf(\"valid\");\n    \
         END IF;\n    \
         IF TG_OP = 'DELETE' THEN\n        \
         INSERT INTO {h} ({columns}) VALUES ({old});\n        \
         RETURN OLD;\n    \
         END IF;\n    \
         INSERT INTO {h} ({columns}) VALUES ({new});\n    \
         RETURN NEW;\n\
         END\n$history$",
        f = function_ident(schema),
        old = values("OLD", "tstzrange(now(), now(), '[]')"),
        new = values("NEW", "tstzrange(now(), NULL)"),
    )
}

/// The history's own columns as a select list after the entity's:
/// `history_id`, the bounds of `valid`, `operation`, `actor_id`,
/// `transaction_id`.
const META: &str = "\"history_id\", lower(\"valid\"), upper(\"valid\"), \"operation\", \
                    \"actor_id\", \"transaction_id\"";

/// Every version of row `$1`, oldest first.
pub(crate) fn versions(schema: &'static TableSchema) -> String {
    format!(
        "SELECT {}, {META} FROM {} WHERE \"id\" = $1 ORDER BY \"history_id\"",
        super::statements::column_list(schema),
        history_ident(schema)
    )
}

/// The version of row `$1` current at `$2`: the newest one that began at
/// or before it (a purge's last version ends the row).
pub(crate) fn as_of(schema: &'static TableSchema) -> String {
    format!(
        "SELECT {}, {META} FROM {} WHERE \"id\" = $1 AND lower(\"valid\") <= $2 \
         ORDER BY \"history_id\" DESC LIMIT 1",
        super::statements::column_list(schema),
        history_ident(schema)
    )
}
