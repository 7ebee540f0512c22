//! The conventions, one function per rule. Each records every violation it
//! finds (never only the first) at the span of the thing to change, with a
//! `help:` that says what to write instead.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::ast::{Container, Field};
use crate::attr::Value;
use crate::ctxt::Ctxt;
use crate::naming;
use crate::pg_type::Kind;
use crate::plan::{CheckKind, Plan};
use crate::policy::Policy;
use crate::symbol::*;
use ordinance_naming::NameKind;

pub(crate) fn check(cx: &Ctxt, cont: &Container<'_>, plan: &Plan, policy: &Policy) {
    check_table_name(cx, cont);
    check_schema_name(cx, cont);
    check_column_names(cx, cont);
    check_boolean_predicates(cx, cont);
    check_required_columns(cx, cont);
    check_tenant_and_actor(cx, cont, policy);
    check_types(cx, cont);
    check_foreign_keys(cx, cont);
    check_attribute_fit(cx, cont);
    check_keysets(cx, cont);
    check_index_shapes(cx, cont);
    check_join_entity(cx, cont);
    check_renames(cx, cont);
    check_aggregates(cx, cont);
    check_outbox(cx, cont);
    check_partitioning(cx, cont, plan, policy);
    crate::value::check(cx, cont);
    check_generated_names(cx, cont, plan, policy);
}

/// `aggregate` marks a reference, and an aggregate root carries the
/// `version` and `updated_at` its children's writes bump.
fn check_aggregates(cx: &Ctxt, cont: &Container<'_>) {
    for f in &cont.fields {
        if let (Some(aggregate), None) = (&f.attrs.aggregate, &f.attrs.references) {
            cx.error_with_help(
                &aggregate.tokens,
                format_args!(
                    "`aggregate` on \"{}\" marks a reference to an aggregate root, but it references nothing",
                    f.column
                ),
                "write `#[column(references = Root, aggregate)]`, `Root` carrying `#[entity(aggregate_root)]`",
            );
        }
    }
    if let Some(root) = &cont.attrs.aggregate_root {
        for required in ["version", "updated_at"] {
            if !cont.fields.iter().any(|f| f.column == required) {
                cx.error_with_help(
                    &root.tokens,
                    format_args!(
                        "an aggregate root has `{required}`: every write to one of its children bumps it"
                    ),
                    if required == "version" {
                        "add `pub version: i32`, or drop `aggregate_root`"
                    } else {
                        "add `pub updated_at: DateTime<Utc>`, or drop `aggregate_root`"
                    },
                );
            }
        }
    }
}

/// The columns a transactional outbox's relay reads and writes, with the
/// field to declare for each.
const OUTBOX_COLUMNS: &[(&str, Kind, bool, &str)] = &[
    ("topic", Kind::Text, false, "pub topic: String"),
    ("key", Kind::Text, false, "pub key: String"),
    // `payload` is JSONB: its type is asked at compile time (expand/schema.rs).
    ("attempts", Kind::Integer, false, "pub attempts: i32"),
    (
        "available_at",
        Kind::Timestamptz,
        false,
        "pub available_at: DateTime<Utc>",
    ),
    (
        "last_error",
        Kind::Text,
        true,
        "pub last_error: Option<String>",
    ),
];

/// An outbox (`#[entity(outbox)]`) has the columns its relay uses, and
/// neither soft delete nor a version: a delivered event is deleted, and
/// its `attempts` counts the relay's claims. It is not a tenant table
/// (one relay delivers every tenant's events).
fn check_outbox(cx: &Ctxt, cont: &Container<'_>) {
    let Some(outbox) = &cont.attrs.outbox else {
        return;
    };
    let mut absent = Vec::new();
    for (name, kind, nullable, decl) in OUTBOX_COLUMNS {
        match cont.field(name) {
            None => absent.push(*decl),
            Some(f) if !f.col.is(*kind) || f.col.nullable != *nullable => {
                let ty = decl.rsplit(": ").next().unwrap_or(decl);
                wrong_type(cx, f, ty, "a column the outbox's relay uses")
            }
            Some(_) => {}
        }
    }
    if cont.field("payload").is_none() {
        absent.push("pub payload: serde_json::Value");
    }
    if !absent.is_empty() {
        cx.error_with_help(
            &outbox.tokens,
            format_args!(
                "an outbox has the columns its relay uses; `{}` lacks {}",
                cont.ident,
                absent
                    .iter()
                    .map(|d| format!(
                        "`{}`",
                        d.trim_start_matches("pub ").split(':').next().unwrap_or(d)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format_args!(
                "add the fields: {}",
                absent
                    .iter()
                    .map(|d| format!("`{d},`"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        );
    }
    for (name, why) in [
        (
            "deleted_at",
            "a delivered event is deleted, not soft-deleted",
        ),
        ("version", "the relay counts its claims in `attempts`"),
    ] {
        if let Some(f) = cont.field(name) {
            cx.error_with_help(
                f.ident,
                format_args!("an outbox has no `{name}` column: {why}"),
                format_args!("remove the `{}` field", f.ident),
            );
        }
    }
    for (present, what) in [
        (&cont.attrs.tenant, "tenant"),
        (&cont.attrs.history, "history"),
        (&cont.attrs.aggregate_root, "aggregate_root"),
    ] {
        if let Some(flag) = present {
            cx.error_with_help(
                &flag.tokens,
                format_args!("an outbox cannot also be `{what}`"),
                if what == "tenant" {
                    "one relay delivers every tenant's events, so the outbox is shared: remove `tenant` \
                     and put the tenant's id in the event's payload"
                } else {
                    "remove it: an outbox's events are deleted once delivered"
                },
            );
        }
    }
}

/// A time-partitioned table (`partitioned(...)`) is partitioned by range
/// of `id`: its ids must carry their time (UUIDv7), and each unique index
/// must include `id` (PostgreSQL enforces uniqueness only within a
/// partition, so it refuses a unique index without the partition key).
fn check_partitioning(cx: &Ctxt, cont: &Container<'_>, plan: &Plan, policy: &Policy) {
    let Some(partitioned) = &cont.attrs.partitioned else {
        return;
    };
    if policy.ids != "v7" {
        cx.error_with_help(
            &partitioned.tokens,
            "a partitioned table is partitioned by range of `id`, whose UUIDv7 values begin with the \
             time they were made; the team's policy makes v4 ids, which carry no time",
            "set `ids.generate = \"v7\"` in the policy, or leave this table unpartitioned",
        );
    }
    let table = cont.table.as_str();
    check_fits(
        cx,
        partitioned.tokens.clone(),
        "partition name",
        &format!("{table}_p20260101"),
        "partitions are named `{table}_pYYYYMMDD`: choose a shorter `#[entity(table = \"...\")]`",
    );
    let id = cont.fields.iter().position(|f| f.column == "id");
    for ix in plan.indexes.iter().filter(|ix| ix.unique) {
        if id.is_some_and(|id| ix.columns.iter().any(|(i, _)| *i == id)) {
            continue;
        }
        let columns: Vec<&str> = ix
            .columns
            .iter()
            .map(|(i, _)| cont.fields[*i].column.as_str())
            .collect();
        cx.error_with_help(
            &ix.tokens,
            format_args!(
                "a unique index of a partitioned table must include its partition key `id`: PostgreSQL \
                 checks uniqueness within one partition only, so it refuses a unique index on ({})",
                columns.join(", ")
            ),
            "make the index plain (`index`), or keep what must be unique in a table that is not \
             partitioned and reference it",
        );
    }
}

/// A PostgreSQL schema is a snake_case name of its own, not `pg_*` (those
/// belong to the server) and not `public` spelled out.
fn check_schema_name(cx: &Ctxt, cont: &Container<'_>) {
    let Some(schema) = &cont.attrs.schema else {
        return;
    };
    let name = schema.value.as_str();
    if !naming::is_snake_ident(name) {
        cx.error_with_help(
            &schema.tokens,
            format_args!("schema name \"{name}\" is not snake_case: use lower-case ASCII words joined by single underscores"),
            format_args!("did you mean `schema = \"{}\"`?", naming::snake_case(name)),
        );
    } else if name == "public" {
        cx.error_with_help(
            &schema.tokens,
            "tables live in schema \"public\" unless told otherwise",
            "remove `schema = \"public\"`",
        );
    } else if name.starts_with("pg_") || name == "information_schema" {
        cx.error_with_help(
            &schema.tokens,
            format_args!("schema name \"{name}\" is reserved for PostgreSQL's own catalogs"),
            "name the schema for what its tables hold, e.g. `schema = \"auth\"`",
        );
    } else {
        check_fits(
            cx,
            &schema.tokens,
            "schema name",
            name,
            "shorten the schema name",
        );
    }
}

/// Tables are snake_case plurals without type prefixes, within 63 bytes.
fn check_table_name(cx: &Ctxt, cont: &Container<'_>) {
    let table = &cont.table;
    let tokens = cont.table_tokens();
    if !naming::is_snake_ident(table) {
        let fixed = naming::snake_case(table);
        let suggestion = if naming::is_plural(&fixed) {
            fixed
        } else {
            naming::suggest_plural(&fixed)
        };
        cx.error_with_help(
            tokens,
            format_args!(
                "table name \"{table}\" is not snake_case: use lower-case ASCII words joined by single underscores"
            ),
            format_args!("did you mean \"{suggestion}\"? write `#[entity(table = \"{suggestion}\")]`"),
        );
        return;
    }
    if let Some(prefix) = naming::hungarian_prefix(table) {
        let stripped = &table[prefix.len() + 1..];
        cx.error_with_help(
            &tokens,
            format_args!("table name \"{table}\" starts with the type prefix `{prefix}_`"),
            format_args!("name the table for what it holds: did you mean \"{stripped}\"?"),
        );
    }
    let plural = naming::is_plural(table);
    match cont.waiver(PLURAL) {
        Some(w) if plural => cx.error_with_help(
            &w.tokens,
            format_args!("table name \"{table}\" is already plural: there is nothing to waive"),
            "remove `plural = ...` from `exempt(...)`",
        ),
        Some(_) => {}
        None if !plural => {
            let suggestion = naming::suggest_plural(table);
            cx.error_with_help(
                &tokens,
                format_args!("table name \"{table}\" is not plural: tables are named for the set of rows they hold"),
                format_args!(
                    "did you mean \"{suggestion}\"? write `#[entity(table = \"{suggestion}\")]`, \
                     or if the name is right, `#[entity(exempt(plural = \"why\"))]`"
                ),
            );
        }
        None => {}
    }
    check_fits(
        cx,
        tokens.clone(),
        "table name",
        table,
        "choose a shorter `#[entity(table = \"...\")]`",
    );
    if cont.history() {
        // Its history table, and the trigger function named after it.
        check_fits(
            cx,
            tokens,
            "history function name",
            &format!("{table}_history_write"),
            "`#[entity(history)]` keeps `{table}_history` written by `{table}_history_write()`: \
             choose a shorter `#[entity(table = \"...\")]`",
        );
    }
}

/// Columns are snake_case without type prefixes, within 63 bytes, and unique.
fn check_column_names(cx: &Ctxt, cont: &Container<'_>) {
    let mut seen: HashMap<&str, &Field<'_>> = HashMap::new();
    for f in &cont.fields {
        let col = &f.column;
        let tokens = column_tokens(f);
        if !naming::is_snake_ident(col) {
            cx.error_with_help(
                &tokens,
                format_args!("column name \"{col}\" is not snake_case"),
                format_args!(
                    "did you mean \"{}\"? use lower-case ASCII words joined by single underscores",
                    naming::snake_case(col)
                ),
            );
            continue;
        }
        if let Some(prefix) = naming::hungarian_prefix(col) {
            cx.error_with_help(
                &tokens,
                format_args!("column name \"{col}\" starts with the type prefix `{prefix}_`"),
                format_args!(
                    "the column type already says what it is: did you mean \"{}\"?",
                    &col[prefix.len() + 1..]
                ),
            );
        }
        check_fits(
            cx,
            &tokens,
            "column name",
            col,
            "choose a shorter name with `#[column(name = \"...\")]`",
        );
        if let Some(first) = seen.insert(col, f) {
            cx.error_with_help(
                &tokens,
                format_args!(
                    "column \"{col}\" is declared twice (also by field `{}`)",
                    first.ident
                ),
                "give each field its own column name",
            );
        }
    }
}

/// The tokens an error about a column name points at.
fn column_tokens(f: &Field<'_>) -> TokenStream {
    match &f.attrs.name {
        Some(n) => n.tokens.clone(),
        None => f.ident.to_token_stream(),
    }
}

/// Boolean columns read as predicates: `is_active`, not `active`.
fn check_boolean_predicates(cx: &Ctxt, cont: &Container<'_>) {
    for f in &cont.fields {
        let is_predicate = naming::BOOLEAN_PREFIXES
            .iter()
            .any(|p| f.column.starts_with(p));
        match f.waiver(BOOLEAN_NAME) {
            Some(w) if !f.col.is(Kind::Bool) || is_predicate => cx.error_with_help(
                &w.tokens,
                format_args!("column \"{}\" needs no `boolean_name` waiver", f.column),
                "remove `boolean_name = ...` from `exempt(...)`",
            ),
            Some(_) => {}
            None if f.col.is(Kind::Bool) && !is_predicate => {
                let suggestion = naming::suggest_boolean_name(&f.column);
                cx.error_with_help(
                    column_tokens(f),
                    format_args!(
                        "boolean column \"{}\" does not read as a predicate",
                        f.column
                    ),
                    format_args!(
                        "did you mean `{suggestion}`? boolean columns start with `is_`, `has_`, `can_` or `should_`"
                    ),
                );
            }
            None => {}
        }
    }
}

/// The five audit columns exist with their exact types.
fn check_required_columns(cx: &Ctxt, cont: &Container<'_>) {
    let timestamptz = "DateTime<Utc>";
    match cont.field("id") {
        None => missing(
            cx,
            cont,
            "pub id: Uuid",
            "UUID NOT NULL DEFAULT gen_random_uuid(), the primary key",
            None,
        ),
        Some(f) if f.col.is_integer() && !f.col.nullable => cx.error_with_help(
            f.ty,
            "integer ids are not allowed: use UUID ids",
            "declare `id: Uuid`; UUIDs need no global sequence and do not leak row counts",
        ),
        Some(f) if !f.col.is(Kind::Uuid) || f.col.nullable => {
            wrong_type(cx, f, "Uuid", "UUID NOT NULL primary key")
        }
        Some(_) => {}
    }
    for name in ["created_at", "updated_at"] {
        match cont.field(name) {
            None => missing(
                cx,
                cont,
                &format!("pub {name}: DateTime<Utc>"),
                "TIMESTAMPTZ NOT NULL DEFAULT now()",
                None,
            ),
            Some(f) if !f.col.is(Kind::Timestamptz) || f.col.nullable => {
                wrong_type(cx, f, timestamptz, "TIMESTAMPTZ NOT NULL DEFAULT now()")
            }
            Some(_) => {}
        }
    }
    if cont.outbox() {
        // Delivered events are deleted, and the relay's own columns say
        // how far an event has got: `check_outbox`.
        return;
    }
    match (cont.field("deleted_at"), cont.waiver(SOFT_DELETE)) {
        (None, None) => missing(
            cx,
            cont,
            "pub deleted_at: Option<DateTime<Utc>>",
            "",
            Some(("soft_delete", "soft delete")),
        ),
        (Some(f), None) if !f.col.is(Kind::Timestamptz) || !f.col.nullable => wrong_type(
            cx,
            f,
            "Option<DateTime<Utc>>",
            "nullable TIMESTAMPTZ: NULL while the row is live",
        ),
        (Some(_), Some(w)) => waived_but_present(cx, w, "soft_delete", "deleted_at"),
        _ => {}
    }
    match (cont.field("version"), cont.waiver(VERSION)) {
        (None, None) => missing(
            cx,
            cont,
            "pub version: i32",
            "",
            Some(("version", "optimistic locking")),
        ),
        (Some(f), None) if !f.col.is(Kind::Integer) || f.col.nullable => wrong_type(
            cx,
            f,
            "i32",
            "INTEGER NOT NULL DEFAULT 1, bumped by every update",
        ),
        (Some(_), Some(w)) => waived_but_present(cx, w, "version", "version"),
        _ => {}
    }
}

/// A tenant table has `tenant_id: Uuid`; the actor columns hold the id of
/// whoever made the change, from the transaction's actor setting.
fn check_tenant_and_actor(cx: &Ctxt, cont: &Container<'_>, policy: &Policy) {
    if let Some(tenant) = &cont.attrs.tenant {
        match cont.field("tenant_id") {
            None => cx.error_with_help(
                &tenant.tokens,
                format_args!("`{}` is a tenant table but has no `tenant_id` column", cont.ident),
                "add the field `pub tenant_id: Uuid,` (UUID NOT NULL, filled from the transaction's tenant; row-level security shows each tenant only its rows)",
            ),
            Some(f) if !f.col.is(Kind::Uuid) || f.col.nullable => wrong_type(
                cx,
                f,
                "Uuid",
                "UUID NOT NULL: every row belongs to exactly one tenant",
            ),
            Some(_) => {}
        }
    }
    // The team's required actor columns, unless waived with a reason.
    let required: Vec<&String> = policy
        .required_columns
        .iter()
        // Who soft-deleted a row only means something where rows are.
        .filter(|name| *name != "deleted_by" || cont.soft_deletes())
        .collect();
    if let Some(w) = cont.waiver(ACTOR_COLUMNS) {
        if required.is_empty() {
            cx.error_with_help(
                &w.tokens,
                "`actor_columns` is waived, but the team's policy requires no actor column of this entity",
                "remove the waiver",
            );
        } else if required.iter().all(|name| cont.field(name).is_some()) {
            waived_but_present(cx, w, "actor_columns", required[0]);
        }
    }
    let waived = cont.waiver(ACTOR_COLUMNS).is_some();
    for name in required.iter().filter(|_| !waived) {
        if cont.field(name).is_none() {
            cx.error_with_help(
                cont.ident,
                format_args!(
                    "`{}` has no `{name}` column, which the team's policy requires of every entity ({})",
                    cont.ident,
                    policy.required_origin()
                ),
                if name.as_str() == "deleted_by" {
                    "add the field `pub deleted_by: Option<Uuid>,` (who soft-deleted the row, from \
                     the transaction's actor; NULL while the row is live)"
                        .to_owned()
                } else {
                    format!(
                        "add the field `pub {name}: Option<Uuid>,` (who made the change, from the \
                         transaction's actor; `Uuid` to refuse writes without one)"
                    )
                },
            );
        }
    }
    if let Some(f) = cont.field("deleted_by") {
        if !cont.soft_deletes() {
            cx.error_with_help(
                column_tokens(f),
                "`deleted_by` records who soft-deleted a row, but this entity does not soft-delete",
                "remove the field, or let the entity soft-delete: a `deleted_at: Option<DateTime<Utc>>` field (and no `soft_delete` waiver)",
            );
        } else if !f.col.is(Kind::Uuid) || !f.col.nullable {
            wrong_type(
                cx,
                f,
                "Option<Uuid>",
                "UUID, NULL while the row is live, the actor's id once soft-deleted",
            );
        }
    }
    for name in ["created_by", "updated_by", "deleted_by"] {
        if let Some(f) = cont.field(name) {
            if name != "deleted_by" && !f.col.is(Kind::Uuid) {
                cx.error_with_help(
                    f.ty,
                    format_args!("`{name}` records who made the change and must hold their id"),
                    format_args!(
                        "declare `{}: Option<Uuid>` (NULL when no actor is set), or `{}: Uuid` \
                         to refuse writes without one",
                        f.ident, f.ident
                    ),
                );
            }
            for (key, set) in [
                ("default", f.attrs.default.is_some()),
                ("backfill", f.attrs.backfill.is_some()),
            ] {
                if set {
                    cx.error_with_help(
                        column_tokens(f),
                        format_args!("`{name}` is filled from the transaction's actor; it takes no `{key}`"),
                        "remove it, and set the actor where the transaction begins (`Cluster::as_actor`, `exec::set_scope`)",
                    );
                }
            }
        }
    }
}

/// Reports a missing required column on the struct name. `waiver` names the
/// rule and purpose when the column may be waived instead of added.
fn missing(cx: &Ctxt, cont: &Container<'_>, decl: &str, sql: &str, waiver: Option<(&str, &str)>) {
    let name = decl
        .trim_start_matches("pub ")
        .split(':')
        .next()
        .unwrap_or(decl);
    match waiver {
        None => cx.error_with_help(
            cont.ident,
            format_args!("`{}` has no `{name}` column", cont.ident),
            format_args!("add the field `{decl},` ({sql})"),
        ),
        Some((rule, what)) => cx.error_with_help(
            cont.ident,
            format_args!(
                "`{}` has no `{name}` column, required for {what}",
                cont.ident
            ),
            format_args!(
                "add the field `{decl},` or, if this table really must not have it, \
                 `#[entity(exempt({rule} = \"why\"))]`"
            ),
        ),
    }
}

fn wrong_type(cx: &Ctxt, f: &Field<'_>, expected: &str, sql: &str) {
    cx.error_with_help(
        f.ty,
        format_args!("`{}` must have type `{expected}`", f.column),
        format_args!("declare `{}: {expected}` ({sql})", f.ident),
    );
}

fn waived_but_present(cx: &Ctxt, w: &crate::attr::Waiver, rule: &str, column: &str) {
    cx.error_with_help(
        &w.tokens,
        format_args!("`{rule}` is waived but the entity has a `{column}` column"),
        format_args!("remove the waiver, or remove the `{column}` field"),
    );
}

/// Types PostgreSQL cannot hold faithfully are rejected, with the type to use.
fn check_types(cx: &Ctxt, cont: &Container<'_>) {
    for f in &cont.fields {
        let waiver = f.waiver(FLOAT);
        match (&f.col.rejection, waiver) {
            (Some(r), Some(_)) if r.waivable_as == Some("float") => {}
            (Some(r), _) => cx.error_with_help(f.col.inner, &r.message, &r.help),
            (None, Some(w)) => cx.error_with_help(
                &w.tokens,
                format_args!("`{}` is not a float: there is nothing to waive", f.column),
                "remove `float = ...` from `exempt(...)`",
            ),
            (None, None) => {}
        }
    }
}

/// Foreign keys are `..._id: Uuid` columns that say what they reference, and
/// every `..._id` UUID column is a foreign key unless waived.
fn check_foreign_keys(cx: &Ctxt, cont: &Container<'_>) {
    for f in &cont.fields {
        let col = &f.column;
        let ends_in_id = col.ends_with("_id");
        match &f.attrs.references {
            Some(_) => {
                if !ends_in_id {
                    let base = col.strip_suffix("_uuid").unwrap_or(col);
                    cx.error_with_help(
                        column_tokens(f),
                        format_args!("foreign-key column \"{col}\" must end in `_id`"),
                        format_args!("did you mean `{base}_id`?"),
                    );
                }
                if !f.col.is(Kind::Uuid) {
                    cx.error_with_help(
                        f.ty,
                        format_args!("foreign-key column \"{col}\" must be a `Uuid`: it holds the referenced row's id"),
                        "declare it as `Uuid`, or `Option<Uuid>` when the reference is optional",
                    );
                }
                if let Some(w) = f.waiver(FOREIGN_KEY) {
                    cx.error_with_help(
                        &w.tokens,
                        format_args!(
                            "\"{col}\" declares `references` and also waives `foreign_key`"
                        ),
                        "keep one: remove the waiver if the reference is in this database",
                    );
                }
            }
            None => {
                if let Some(w) = f.waiver(TENANT_REFERENCE) {
                    cx.error_with_help(
                        &w.tokens,
                        format_args!("\"{col}\" references nothing: there is no reference into a tenant table to waive"),
                        "remove `tenant_reference = ...` from `exempt(...)`",
                    );
                }
                if let Some(o) = &f.attrs.on_delete {
                    cx.error_with_help(
                        &o.tokens,
                        "`on_delete` without `references`",
                        "say what the column references: `#[column(references = User, on_delete = \"cascade\")]`",
                    );
                }
                // A tenant table's `tenant_id` is its isolation key; it may
                // reference a tenants table, and need not.
                let is_tenant_key = cont.tenant() && col == "tenant_id";
                let is_fk_shaped = ends_in_id
                    && f.col.is(Kind::Uuid)
                    && !f.attrs.references_written
                    && !is_tenant_key;
                match f.waiver(FOREIGN_KEY) {
                    Some(w) if !is_fk_shaped => cx.error_with_help(
                        &w.tokens,
                        format_args!("\"{col}\" is not a `..._id` UUID column: there is no foreign key to waive"),
                        "remove `foreign_key = ...` from `exempt(...)`",
                    ),
                    Some(_) => {}
                    None if is_fk_shaped => cx.error_with_help(
                        column_tokens(f),
                        format_args!("\"{col}\" looks like a foreign key but does not say what it references"),
                        format_args!(
                            "add `#[column(references = Entity)]` naming the referenced entity, or if it points \
                             outside this database, `#[column(exempt(foreign_key = \"lives in another service\"))]`"
                        ),
                    ),
                    None => {}
                }
            }
        }
        if let Some(o) = &f.attrs.on_delete {
            if o.value == crate::attr::OnDelete::SetNull && !f.col.nullable {
                cx.error_with_help(
                    &o.tokens,
                    format_args!("`on_delete = \"set null\"` needs a nullable column, but \"{col}\" is NOT NULL"),
                    "declare the field as `Option<Uuid>`, or use \"restrict\" or \"cascade\"",
                );
            }
        }
    }
}

/// Each column attribute applies to the column's type, and bounds are coherent.
fn check_attribute_fit(cx: &Ctxt, cont: &Container<'_>) {
    for f in &cont.fields {
        let a = &f.attrs;
        let text = f.col.is(Kind::Text);
        let numeric = f.col.is_integer() || f.col.is(Kind::Decimal);
        for (slot, key) in [(&a.min_len, MIN_LEN), (&a.max_len, MAX_LEN)] {
            if let Some(s) = slot {
                if !text {
                    cx.error_with_help(
                        &s.tokens,
                        format_args!(
                            "`{key}` applies to `String` columns, but \"{}\" is not text",
                            f.column
                        ),
                        if numeric {
                            "for numbers use `min = ...` / `max = ...`"
                        } else {
                            "remove it"
                        },
                    );
                }
            }
        }
        for (slot, key) in [(&a.min, MIN), (&a.max, MAX)] {
            if let Some(s) = slot {
                if !numeric {
                    cx.error_with_help(
                        &s.tokens,
                        format_args!("`{key}` applies to integer and `Decimal` columns, but \"{}\" is not a number", f.column),
                        if text {
                            "for text length use `min_len = ...` / `max_len = ...`"
                        } else {
                            "remove it"
                        },
                    );
                }
            }
        }
        if let (Some(lo), Some(hi)) = (&a.min_len, &a.max_len) {
            if lo.value > hi.value {
                cx.error_with_help(
                    &hi.tokens,
                    format_args!("`max_len = {}` is below `min_len = {}`", hi.value, lo.value),
                    "no value could satisfy both: swap or fix the bounds",
                );
            }
        }
        if let Some(hi) = &a.max_len {
            if hi.value == 0 {
                cx.error_with_help(
                    &hi.tokens,
                    "`max_len = 0` allows only the empty string",
                    "use a positive limit",
                );
            }
        }
        if let (Some(lo), Some(hi)) = (&a.min, &a.max) {
            if lo.value > hi.value {
                cx.error_with_help(
                    &hi.tokens,
                    format_args!("`max = {}` is below `min = {}`", hi.value, lo.value),
                    "no value could satisfy both: swap or fix the bounds",
                );
            }
        }
        for (slot, key) in [(&a.precision, PRECISION), (&a.scale, SCALE)] {
            if let Some(s) = slot {
                if !f.col.is(Kind::Decimal) && f.col.element != Some(Kind::Decimal) {
                    cx.error_with_help(
                        &s.tokens,
                        format_args!(
                            "`{key}` applies to `Decimal` columns (and `Vec<Decimal>` arrays) only"
                        ),
                        "remove it, or declare the field as `rust_decimal::Decimal`",
                    );
                }
            }
        }
        match (&a.precision, &a.scale) {
            (None, Some(s)) => cx.error_with_help(
                &s.tokens,
                "`scale` needs a `precision`",
                "write both, e.g. `precision = 12, scale = 2` for NUMERIC(12,2)",
            ),
            (Some(p), s) => {
                if p.value == 0 || p.value > 1000 {
                    cx.error_with_help(
                        &p.tokens,
                        "`precision` must be between 1 and 1000",
                        "e.g. `precision = 12`",
                    );
                }
                if let Some(s) = s {
                    if s.value > p.value {
                        cx.error_with_help(
                            &s.tokens,
                            format_args!("`scale = {}` exceeds `precision = {}`", s.value, p.value),
                            "the scale counts digits after the point and must not exceed the precision",
                        );
                    }
                }
            }
            _ => {}
        }
        if let (Some(u), Some(_)) = (&a.unique, &a.index) {
            cx.error_with_help(
                &u.tokens,
                "`unique` already creates an index",
                "remove `index`",
            );
        }
        if let Some(n) = &a.index_name {
            if a.unique.is_none() && a.index.is_none() && a.references.is_none() {
                cx.error_with_help(
                    &n.tokens,
                    "`index_name` names an index this column does not have",
                    "add `index` or `unique`, or remove `index_name`",
                );
            }
        }
    }
}

/// `renamed_from` names another, snake_case column that no field uses now.
fn check_renames(cx: &Ctxt, cont: &Container<'_>) {
    for f in &cont.fields {
        let Some(from) = &f.attrs.renamed_from else {
            continue;
        };
        if from.value == f.column {
            cx.error_with_help(
                &from.tokens,
                format_args!("`renamed_from` names the column's current name \"{}\"", f.column),
                "give the name the column had before, or remove `renamed_from` once the rename is migrated",
            );
        } else if cont.fields.iter().any(|g| g.column == from.value) {
            cx.error_with_help(
                &from.tokens,
                format_args!("`renamed_from = \"{}\"` names a column another field still uses", from.value),
                "a rename moves a column to a new name: remove the other field, or rename from another column",
            );
        } else if !naming::is_snake_ident(&from.value) {
            cx.error_with_help(
                &from.tokens,
                format_args!(
                    "`renamed_from = \"{}\"` is not a snake_case column name",
                    from.value
                ),
                format_args!(
                    "write it as the column was named: \"{}\"",
                    naming::snake_case(&from.value)
                ),
            );
        }
    }
}

/// The last path segment of a type, e.g. `Value` for `serde_json::Value`.
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Keyset sort columns are NOT NULL (a NULL in a row comparison drops rows)
/// and of a type with a total order a cursor can carry.
fn check_keysets(cx: &Ctxt, cont: &Container<'_>) {
    for spec in cont.attrs.keys.iter().filter(|k| k.kind == KEYSET) {
        // An expression (`lower(...)`, `json(...)`) is refused whole by
        // `check_index_shapes`; judging its column as a plain sort key too
        // would add a second, misleading error.
        for c in spec
            .columns
            .iter()
            .filter(|c| c.lower.is_none() && c.json.is_none())
        {
            if let Some((_, f)) = cont.field_named(&c.ident) {
                let unsortable = match type_name(f.col.inner).as_deref() {
                    Some("Value" | "Json") => Some("JSON has no useful order"),
                    Some("Vec") => Some("arrays and byte strings make poor, unbounded sort keys"),
                    Some("f32" | "f64") => Some("floating point has NaN and inexact equality"),
                    _ => None,
                };
                if let Some(why) = unsortable {
                    cx.error_with_help(
                        &c.ident,
                        format_args!("keyset column \"{}\" cannot be a sort key: {why}", f.column),
                        "page by text, integer, uuid, numeric, date, timestamptz or enum columns",
                    );
                }
                // A cursor carries the boundary row's key values: an unbounded
                // text key makes an unbounded cursor that some page cannot have.
                if type_name(f.col.inner).as_deref() == Some("String") && f.attrs.max_len.is_none()
                {
                    cx.error_with_help(
                        f.ident,
                        format_args!(
                            "text column \"{}\" is a keyset sort key without a length limit: \
                             a cursor carries the key, so its size would have no bound",
                            f.column
                        ),
                        format_args!(
                            "declare the longest value the column holds: `#[column(max_len = 200)]` on `{}`",
                            f.ident
                        ),
                    );
                }
                if f.col.nullable {
                    cx.error_with_help(
                        &c.ident,
                        format_args!(
                            "keyset column \"{}\" is nullable: a NULL in a row comparison silently skips rows",
                            f.column
                        ),
                        "page by NOT NULL columns only: make the field non-`Option`, or choose another column",
                    );
                }
            }
        }
    }
}

/// What `lower(...)`, `using`, `include(...)` and `where(...)` may be
/// applied to: keyset orders are plain columns; `lower` takes text; GIN
/// keys JSONB and arrays, unordered, never unique; a partial index compares
/// an enum or text column with one of its values, or a boolean column.
fn check_index_shapes(cx: &Ctxt, cont: &Container<'_>) {
    for spec in &cont.attrs.keys {
        if spec.kind == KEYSET {
            let extra = spec
                .columns
                .iter()
                .find_map(|c| {
                    c.lower
                        .as_ref()
                        .map(|l| l.to_token_stream())
                        .or_else(|| c.json.as_ref().map(|j| j.tokens.clone()))
                })
                .or_else(|| spec.using.as_ref().map(|u| u.tokens.clone()))
                .or_else(|| spec.include.first().map(|i| i.to_token_stream()))
                .or_else(|| spec.predicate.first().map(|p| p.tokens.clone()));
            if let Some(tokens) = extra {
                cx.error_with_help(
                    tokens,
                    "a keyset order pages over plain columns of every live row",
                    "declare the order with columns only, and a separate `index(...)` for anything else",
                );
            }
            continue;
        }
        let gin = match &spec.using {
            Some(u) if u.value == "gin" => true,
            Some(u) if u.value == "btree" => false,
            Some(u) => {
                cx.error_with_help(
                    &u.tokens,
                    format_args!("unknown index method \"{}\"", u.value),
                    "write `using = \"gin\"` for JSONB and array columns; B-tree is the default",
                );
                false
            }
            None => false,
        };
        for c in &spec.columns {
            let Some((_, f)) = cont.field_named(&c.ident) else {
                continue;
            };
            if let Some(json) = &c.json {
                if !crate::pg_type::is_json(f.col.inner) {
                    cx.error_with_help(
                        &json.tokens,
                        format_args!(
                            "`json(...)` reads a field of a JSONB column, but \"{}\" is not JSON",
                            f.column
                        ),
                        "declare the field as `serde_json::Value` or `Json<T>`, or index the column itself",
                    );
                }
                if gin {
                    cx.error_with_help(
                        &json.tokens,
                        "a GIN index keys on the whole document, not on one field",
                        format_args!("index the field with a B-tree (remove `using = \"gin\"`), or the column with GIN: `{}`", c.ident),
                    );
                }
            }
            if let Some(lower) = &c.lower {
                if !f.col.is(Kind::Text) {
                    cx.error_with_help(
                        lower,
                        format_args!(
                            "`lower(...)` folds text, but \"{}\" is not a text column",
                            f.column
                        ),
                        format_args!("index the column itself: `{}`", c.ident),
                    );
                }
            }
            if gin {
                if !matches!(f.col.kind, Kind::Plain | Kind::Other) {
                    cx.error_with_help(
                        &c.ident,
                        format_args!(
                            "a GIN index keys JSONB and array columns, but \"{}\" is neither",
                            f.column
                        ),
                        format_args!("index it with the default B-tree: write just `{}`", c.ident),
                    );
                }
                if c.descending || c.lower.is_some() {
                    cx.error_with_help(
                        &c.ident,
                        "a GIN index has no order and indexes the column itself",
                        format_args!("write just `{}`", c.ident),
                    );
                }
            }
        }
        if gin && spec.kind == UNIQUE {
            cx.error_with_help(
                &spec.tokens,
                "a GIN index cannot be unique",
                "use `index(..., using = \"gin\")`",
            );
        }
        if gin && !spec.include.is_empty() {
            cx.error_with_help(
                &spec.include[0],
                "a GIN index cannot INCLUDE columns",
                "remove `include(...)`",
            );
        }
        for inc in &spec.include {
            if spec
                .columns
                .iter()
                .any(|c| c.ident == *inc && c.lower.is_none() && c.json.is_none())
            {
                cx.error_with_help(
                    inc,
                    format_args!("`{inc}` is already a key of this index"),
                    "list it once, as a key or in `include(...)`",
                );
            }
        }
        for p in &spec.predicate {
            let Some((_, f)) = cont.field_named(&p.column) else {
                continue;
            };
            let fits = match &p.value {
                None | Some(Value::Bool(_)) => f.col.is(Kind::Bool),
                Some(Value::Str(_)) => matches!(f.col.kind, Kind::Text | Kind::Other),
                Some(_) => false,
            };
            if !fits {
                let help = match f.col.kind {
                    Kind::Bool => {
                        format!("compare it with `true` or `false`: `where({})`", p.column)
                    }
                    Kind::Text | Kind::Other => {
                        format!(
                            "compare it with one of its values: `where({} = \"...\")`",
                            p.column
                        )
                    }
                    _ => "leave this condition out: conditions on other types are not supported"
                        .to_owned(),
                };
                cx.error_with_help(
                    &p.tokens,
                    format_args!(
                        "a partial index compares an enum or text column with a value, or tests a boolean; \"{}\" does not fit this condition",
                        f.column
                    ),
                    help,
                );
            }
        }
    }
}

/// A join entity (two foreign keys declared unique together) is named after
/// both sides, the second one plural in its table (`PostTag` -> `post_tags`),
/// and links only whole pairs: both foreign keys are NOT NULL.
fn check_join_entity(cx: &Ctxt, cont: &Container<'_>) {
    let waiver = cont.waiver(JOIN_NAME);
    let Some((_, a, b)) = cont.join_pair() else {
        if let Some(w) = waiver {
            cx.error_with_help(
                &w.tokens,
                "`join_name` is waived but this is no join entity (two foreign keys declared `unique(a_id, b_id)`)",
                "remove `join_name = ...` from `exempt(...)`",
            );
        }
        return;
    };
    let (fa, fb) = (&cont.fields[a], &cont.fields[b]);
    for f in [fa, fb] {
        if f.col.nullable {
            cx.error_with_help(
                f.ident,
                format_args!(
                    "join entity column \"{}\" is nullable: a link with one side missing links nothing",
                    f.column
                ),
                "make the field non-`Option` (a join row links two rows)",
            );
        }
    }
    let side = |f: &crate::ast::Field<'_>| {
        f.attrs
            .references
            .as_ref()
            .and_then(|r| r.value.segments.last())
            .map(|s| s.ident.to_string())
    };
    let (Some(left), Some(right)) = (side(fa), side(fb)) else {
        return;
    };
    let name = cont.ident.to_string();
    let fits = name == format!("{left}{right}") || name == format!("{right}{left}");
    match (fits, waiver) {
        (true, Some(w)) => cx.error_with_help(
            &w.tokens,
            format_args!("`{name}` is already named after both sides: there is nothing to waive"),
            "remove `join_name = ...` from `exempt(...)`",
        ),
        (false, None) => {
            let table =
                |first: &str, second: &str| naming::table_name_for(&format!("{first}{second}"));
            cx.error_with_help(
                cont.ident,
                format_args!(
                    "join entity `{name}` links `{left}` and `{right}` but is not named after them"
                ),
                format_args!(
                    "name it after both sides, plural last: `{left}{right}` (table \"{}\") or `{right}{left}` \
                     (table \"{}\"); or keep the name with `#[entity(exempt(join_name = \"why\"))]`",
                    table(&left, &right),
                    table(&right, &left)
                ),
            );
        }
        _ => {}
    }
}

/// Every generated name fits in 63 bytes and no two objects share a name;
/// an error names the template the name was rendered from.
fn check_generated_names(cx: &Ctxt, cont: &Container<'_>, plan: &Plan, policy: &Policy) {
    if !naming::fits(&cont.table) {
        // Already reported on the table name; every derived name would repeat it.
        return;
    }
    let constraint_help = |kind: NameKind| {
        format!(
            "shorten the table name (`#[entity(table = \"...\")]`) or the column name \
             (`#[column(name = \"...\")]`); the name is rendered from {}",
            policy.describe(kind)
        )
    };
    check_fits(
        cx,
        cont.table_tokens(),
        "primary key name",
        &plan.primary_key,
        &constraint_help(NameKind::PrimaryKey),
    );
    // Each name, and where it came from: a template, or the entity's own.
    let mut seen: HashMap<String, Option<NameKind>> = HashMap::new();
    seen.insert(plan.primary_key.clone(), Some(NameKind::PrimaryKey));
    let mut unique_name = |name: &str, kind: Option<NameKind>, tokens: &TokenStream| {
        if let Some(first) = seen.insert(name.to_owned(), kind) {
            let from = |k: Option<NameKind>| match k {
                Some(k) => policy.describe(k),
                None => "a name given in the entity".to_owned(),
            };
            let help = if first == kind {
                "remove the duplicate, or give one of them another name".to_owned()
            } else {
                format!(
                    "one comes from {}, the other from {}: make the templates differ \
                     (a prefix of their own), or give one object another name",
                    from(first),
                    from(kind)
                )
            };
            cx.error_with_help(
                tokens,
                format_args!("the generated name \"{name}\" is used by two objects of this table"),
                help,
            );
        }
    };
    for fk in &plan.foreign_keys {
        check_fits(
            cx,
            &fk.tokens,
            "foreign key name",
            &fk.name,
            &constraint_help(NameKind::ForeignKey),
        );
        unique_name(&fk.name, Some(NameKind::ForeignKey), &fk.tokens);
    }
    for c in &plan.checks {
        if !matches!(c.kind, CheckKind::OneOf) {
            check_fits(
                cx,
                &c.tokens,
                "check constraint name",
                &c.name,
                &constraint_help(NameKind::Check),
            );
        }
        unique_name(&c.name, Some(NameKind::Check), &c.tokens);
    }
    for ix in &plan.indexes {
        let kind = if ix.unique {
            NameKind::Unique
        } else {
            NameKind::Index
        };
        let short = policy.naming.index(&cont.table, &["..."], ix.unique);
        let help = if ix.named {
            "choose a shorter name".to_owned()
        } else if ix.in_list {
            format!(
                "give it a shorter name inside the list: `name = \"{short}\"`; the name is rendered from {}",
                policy.describe(kind)
            )
        } else {
            format!(
                "give it a shorter name: `#[column(index_name = \"{short}\")]`; the name is rendered from {}",
                policy.describe(kind)
            )
        };
        if !naming::is_snake_ident(&ix.name) {
            cx.error_with_help(
                &ix.tokens,
                format_args!("index name \"{}\" is not snake_case", ix.name),
                "use lower-case ASCII words joined by single underscores",
            );
        }
        check_fits(cx, &ix.tokens, "index name", &ix.name, &help);
        unique_name(&ix.name, (!ix.named).then_some(kind), &ix.tokens);
    }
}

fn check_fits<T: ToTokens>(cx: &Ctxt, tokens: T, what: &str, name: &str, help: &str) {
    if !naming::fits(name) {
        cx.error_with_help(
            tokens,
            format_args!(
                "{what} \"{name}\" is {} bytes long; PostgreSQL silently truncates identifiers to {} bytes",
                name.len(),
                naming::MAX_IDENT_BYTES
            ),
            help,
        );
    }
}
