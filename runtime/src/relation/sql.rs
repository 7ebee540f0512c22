//! The fixed statement text of relation loads, rendered once per relation
//! and scope from the static schemas and kept for the life of the process.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use crate::ddl::{quote_ident, table_ident};
use crate::query::Visibility;
use crate::schema::TableSchema;

/// What a statement loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    /// Rows of `table` whose `column` is one of `$1`.
    Children,
    /// Rows of `table` whose `id` is one of `$1`.
    ById,
    /// Rows of `target` linked through join table `table`: its `column` is
    /// one of `$1`, its `other` references the target.
    Related,
    /// Live rows of `table` joined with rows of `target` (`other` says
    /// which kind of join and which side holds `column`).
    Join,
}

/// A table by its place: PostgreSQL schema and name.
type Table = (Option<&'static str>, &'static str);

/// No second table.
const NONE: Table = (None, "");

type Key = (Shape, Table, &'static str, &'static str, Table, Visibility);

fn cached(key: Key, render: impl FnOnce() -> String) -> &'static str {
    static CACHE: OnceLock<RwLock<HashMap<Key, &'static str>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(sql) = cache.read().ok().and_then(|c| c.get(&key).copied()) {
        return sql;
    }
    let mut cache = match cache.write() {
        Ok(cache) => cache,
        Err(poisoned) => poisoned.into_inner(),
    };
    // One string per relation, shape and scope: a bounded set, kept for
    // the life of the process like the entities' own statements.
    cache
        .entry(key)
        .or_insert_with(|| Box::leak(render().into_boxed_str()))
}

/// The table named `alias` in a `FROM` or `JOIN`: `"users"`, or
/// `"auth"."users" AS "users"`.
fn aliased(schema: &TableSchema, alias: &str) -> String {
    match table_ident(schema) {
        t if t == alias => t,
        t => format!("{t} AS {alias}"),
    }
}

/// `AND` condition restricting `alias` (a table of `schema`) to `scope`.
fn scope_condition(schema: &TableSchema, alias: &str, scope: Visibility) -> String {
    match (schema.soft_deletes(), scope) {
        (true, Visibility::Live) => format!(" AND {alias}.\"deleted_at\" IS NULL"),
        (true, Visibility::OnlyDeleted) => format!(" AND {alias}.\"deleted_at\" IS NOT NULL"),
        (false, Visibility::OnlyDeleted) => " AND false".to_owned(),
        _ => String::new(),
    }
}

/// `AND a."tenant_id" = b."tenant_id"` when both tables are tenant tables:
/// what the composite key between them says, so a join pairs rows of one
/// tenant even for a role row-level security does not bind (an owner's
/// maintenance job), and the planner can use the tenant-led indexes.
fn same_tenant(a: &TableSchema, a_alias: &str, b: &TableSchema, b_alias: &str) -> String {
    if a.tenant && b.tenant {
        format!(" AND {a_alias}.\"tenant_id\" = {b_alias}.\"tenant_id\"")
    } else {
        String::new()
    }
}

/// Every column of `schema`, qualified with `alias`.
fn columns(schema: &TableSchema, alias: &str) -> String {
    schema
        .columns
        .iter()
        .map(|c| format!("{alias}.{}", quote_ident(c.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The order children come in: the entity's first declared keyset order,
/// else its id.
fn order(schema: &TableSchema, alias: &str) -> String {
    match schema.keysets.first() {
        Some(keys) => keys
            .iter()
            .map(|k| {
                format!(
                    "{alias}.{}{}",
                    quote_ident(k.name),
                    if k.descending { " DESC" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => format!("{alias}.\"id\""),
    }
}

/// `SELECT` of the rows of `child` whose `column` is in `$1`.
pub(crate) fn children(
    child: &'static TableSchema,
    column: &'static str,
    scope: Visibility,
) -> &'static str {
    cached(
        (Shape::Children, child.key(), column, "", NONE, scope),
        || render_children(child, column, scope),
    )
}

/// [`children`], rendered afresh (the statement catalog's: two versions of
/// one table in a process share the cache's key).
pub(crate) fn render_children(
    child: &'static TableSchema,
    column: &'static str,
    scope: Visibility,
) -> String {
    let t = "\"t\"";
    format!(
        "SELECT {} FROM {} AS {t} WHERE {t}.{} = ANY($1){} ORDER BY {}",
        columns(child, t),
        table_ident(child),
        quote_ident(column),
        scope_condition(child, t, scope),
        order(child, t),
    )
}

/// `SELECT` of the rows of `parent` whose id is in `$1`.
pub(crate) fn by_id(parent: &'static TableSchema, scope: Visibility) -> &'static str {
    cached((Shape::ById, parent.key(), "id", "", NONE, scope), || {
        render_by_id(parent, scope)
    })
}

/// The parameter types of [`by_id`]'s statement: the ids, and for a
/// partitioned table their bounds.
pub(crate) fn by_id_types(parent: &TableSchema) -> &'static [tokio_postgres::types::Type] {
    use tokio_postgres::types::Type;
    if parent.partitioned.is_some() {
        &[Type::UUID_ARRAY, Type::UUID, Type::UUID]
    } else {
        &[Type::UUID_ARRAY]
    }
}

/// [`by_id`], rendered afresh.
///
/// A time-partitioned table's load also bounds the ids (`$2`, `$3`: the
/// least and greatest of `$1`): PostgreSQL prunes partitions by a range
/// of parameters when the statement starts, but not by `= ANY($1)`, so
/// without the bounds a load would read every partition.
pub(crate) fn render_by_id(parent: &'static TableSchema, scope: Visibility) -> String {
    let t = "\"t\"";
    let bounds = if parent.partitioned.is_some() {
        format!(" AND {t}.\"id\" BETWEEN $2 AND $3")
    } else {
        String::new()
    };
    format!(
        "SELECT {} FROM {} AS {t} WHERE {t}.\"id\" = ANY($1){bounds}{}",
        columns(parent, t),
        table_ident(parent),
        scope_condition(parent, t, scope),
    )
}

/// `SELECT` of the rows of `target` linked to the parents in `$1` through
/// the live rows of join table `join` (`from` references the parents, `to`
/// the target), each followed by the parent id it belongs to.
pub(crate) fn related(
    join: &'static TableSchema,
    from: &'static str,
    to: &'static str,
    target: &'static TableSchema,
    scope: Visibility,
) -> &'static str {
    cached(
        (Shape::Related, join.key(), from, to, target.key(), scope),
        || {
            let (t, j) = ("\"t\"", "\"j\"");
            format!(
                "SELECT {}, {j}.{from_q} FROM {} AS {t} JOIN {} AS {j} ON {j}.{} = {t}.\"id\"{}{} \
             WHERE {j}.{from_q} = ANY($1){} ORDER BY {}",
                columns(target, t),
                table_ident(target),
                table_ident(join),
                quote_ident(to),
                same_tenant(join, j, target, t),
                scope_condition(join, j, Visibility::Live),
                scope_condition(target, t, scope),
                order(target, t),
                from_q = quote_ident(from),
            )
        },
    )
}

/// How a join is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinKind {
    /// Parents with their children (the joined side holds the key).
    Children { left: bool },
    /// Children with their parent (the first side holds the key).
    Parent { left: bool },
}

impl JoinKind {
    fn tag(self) -> &'static str {
        match self {
            JoinKind::Children { left: true } => "children left",
            JoinKind::Children { left: false } => "children inner",
            JoinKind::Parent { left: true } => "parent left",
            JoinKind::Parent { left: false } => "parent inner",
        }
    }
}

/// `SELECT` of every column of `from` then of `joined`, `from`'s live rows
/// only, joined through `column` with `joined`'s `scope` in the `ON` clause:
/// the fixed part of a [`JoinSelect`](super::JoinSelect), ending in a
/// `WHERE` the caller's conditions extend with `AND`. The joined table is
/// aliased [`JOINED`](super::JOINED) when it is `from` itself.
pub(crate) fn join(
    from: &'static TableSchema,
    joined: &'static TableSchema,
    column: &'static str,
    kind: JoinKind,
    scope: Visibility,
) -> &'static str {
    cached(
        (
            Shape::Join,
            from.key(),
            column,
            kind.tag(),
            joined.key(),
            scope,
        ),
        || {
            // Each side is named by its bare table name (or JOINED when
            // both have one name: a self-join, or namesakes in two
            // schemas), which the caller's conditions use.
            let f = quote_ident(from.name);
            let j = if from.name == joined.name {
                quote_ident(super::JOINED)
            } else {
                quote_ident(joined.name)
            };
            let from_table = aliased(from, &f);
            let table = aliased(joined, &j);
            let (join, on) = match kind {
                JoinKind::Children { left } => {
                    (left, format!("{j}.{} = {f}.\"id\"", quote_ident(column)))
                }
                JoinKind::Parent { left } => {
                    (left, format!("{j}.\"id\" = {f}.{}", quote_ident(column)))
                }
            };
            // The caller's conditions follow with AND, so WHERE always has one.
            let live = match scope_condition(from, &f, Visibility::Live) {
                c if c.is_empty() => "true".to_owned(),
                c => c.trim_start_matches(" AND ").to_owned(),
            };
            format!(
                "SELECT {}, {} FROM {from_table} {} {table} ON {on}{}{} WHERE {live}",
                columns(from, &f),
                columns(joined, &j),
                if join { "LEFT JOIN" } else { "JOIN" },
                same_tenant(joined, &j, from, &f),
                scope_condition(joined, &j, scope),
            )
        },
    )
}
