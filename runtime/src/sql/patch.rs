//! The statement of a partial update: `UPDATE … SET` the patch's columns,
//! the stamps and the version bump, `WHERE id = $1 AND version = $2` on a
//! live row. One text per set of columns, rendered the first time that set
//! is written and kept, so a patch binds values and nothing else.
//!
//! Texts are kept for the life of the process (a connection recognises a
//! kept text by its address, as it does the entity's fixed statements), up
//! to [`KEPT_PATCHES`] sets of columns over all entities: an API that lets
//! clients choose which fields to send could otherwise make a text for
//! every subset. Past that, a set's text is rendered per call and each
//! connection keeps it among its statements built per call.

use std::sync::{OnceLock, PoisonError, RwLock};

use rustc_hash::FxHashMap;
use tokio_postgres::types::Type;

use super::statements::{column_list, stamp_list};
use super::Statements;
use crate::ddl::{quote_ident, table_ident};
use crate::params::ColumnSet;
use crate::schema::TableSchema;

/// The most sets of columns whose patch texts the process keeps.
pub(crate) const KEPT_PATCHES: usize = 1024;

/// A patch's statement: `$1` the id, `$2` the expected version (absent
/// without `version`), then the set columns' values in schema order. With
/// no column set, a version-checked read of the live row instead: a patch
/// that changes nothing writes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatchStatement {
    /// The statement text.
    pub(crate) sql: String,
    /// Its parameters' types.
    pub(crate) types: Vec<Type>,
    /// The column each parameter is for, `$1` first: how a value the
    /// server refuses is reported with its column.
    pub(crate) parameters: Vec<&'static str>,
    /// Whether it writes (`UPDATE`) or only reads (the empty patch).
    pub(crate) writes: bool,
}

/// A patch statement, kept for the process or rendered for this call.
#[derive(Debug)]
pub(crate) enum Patched {
    /// Kept for the life of the process: its text's address identifies it.
    Kept(&'static PatchStatement),
    /// Rendered for this call, past [`KEPT_PATCHES`].
    Rendered(PatchStatement),
}

impl Patched {
    /// The statement.
    pub(crate) fn statement(&self) -> &PatchStatement {
        match self {
            Patched::Kept(s) => s,
            Patched::Rendered(s) => s,
        }
    }
}

/// Per entity (by the address of its fixed statements), per set of
/// columns: found without copying the set.
type Kept = FxHashMap<usize, FxHashMap<ColumnSet, &'static PatchStatement>>;

fn kept() -> &'static RwLock<Kept> {
    static KEPT: OnceLock<RwLock<Kept>> = OnceLock::new();
    KEPT.get_or_init(Default::default)
}

/// The statement patching `set` of `schema`'s business columns, whose
/// fixed statements are `statements` (their address tells entities apart).
pub(crate) fn patch_statement(
    schema: &'static TableSchema,
    statements: &'static Statements,
    set: &ColumnSet,
) -> Patched {
    let entity = std::ptr::from_ref(statements) as usize;
    let last = LAST.with_borrow(|last| {
        last.as_ref()
            .filter(|(e, s, _)| *e == entity && s == set)
            .map(|&(_, _, found)| found)
    });
    if let Some(found) = last {
        return Patched::Kept(found);
    }
    let found = kept()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&entity)
        .and_then(|sets| sets.get(set).copied());
    let patched = match found {
        Some(found) => Patched::Kept(found),
        None => keep(schema, entity, set),
    };
    if let Patched::Kept(found) = patched {
        LAST.set(Some((entity, set.clone(), found)));
    }
    patched
}

thread_local! {
    /// The kept statement this thread patched with last, by entity and set
    /// of columns: a service patches the same few sets again and again,
    /// and finds them here without the lock or two hash lookups.
    static LAST: std::cell::RefCell<Option<(usize, ColumnSet, &'static PatchStatement)>> =
        const { std::cell::RefCell::new(None) };
}

/// The first use of a set of columns: renders its text, and keeps it if
/// the process keeps fewer than [`KEPT_PATCHES`].
#[cold]
fn keep(schema: &'static TableSchema, entity: usize, set: &ColumnSet) -> Patched {
    let mut rendered = render(schema, set);
    crate::telemetry::commented(schema, "patch", &mut rendered.sql);
    let mut map = kept().write().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = map.get(&entity).and_then(|sets| sets.get(set)) {
        return Patched::Kept(found);
    }
    if map.values().map(FxHashMap::len).sum::<usize>() >= KEPT_PATCHES {
        return Patched::Rendered(rendered);
    }
    // Kept for the process, like the entity's fixed statements: at most
    // KEPT_PATCHES of them.
    let kept: &'static PatchStatement = Box::leak(Box::new(rendered));
    map.entry(entity).or_default().insert(set.clone(), kept);
    Patched::Kept(kept)
}

/// Renders the patch of `set` (positions among the business columns).
pub(crate) fn render(schema: &'static TableSchema, set: &ColumnSet) -> PatchStatement {
    let t = table_ident(schema);
    let columns = column_list(schema);
    let versioned = schema.versioned();
    let live = if schema.soft_deletes() {
        " AND \"deleted_at\" IS NULL"
    } else {
        ""
    };
    let mut types = vec![Type::UUID];
    let mut parameters = vec!["id"];
    let mut condition = "\"id\" = $1".to_owned();
    if versioned {
        types.push(Type::INT4);
        parameters.push("version");
        condition.push_str(" AND \"version\" = $2");
    }
    condition.push_str(live);
    let business: Vec<_> = schema.business_columns().collect();
    let mut sets = Vec::new();
    for k in set.iter() {
        let Some(column) = business.get(k) else {
            continue;
        };
        types.push(column.sql_type.wire_type());
        parameters.push(column.name);
        sets.push(format!(
            "{} = {}",
            quote_ident(column.name),
            column.sql_type.param(types.len())
        ));
    }
    if sets.is_empty() {
        return PatchStatement {
            sql: format!("SELECT {columns} FROM {t} WHERE {condition}"),
            types,
            parameters,
            writes: false,
        };
    }
    sets.push(stamp_list(schema));
    if versioned {
        sets.push("\"version\" = \"version\" + 1".to_owned());
    }
    PatchStatement {
        sql: format!(
            "UPDATE {t} SET {} WHERE {condition} RETURNING {columns}",
            sets.join(", ")
        ),
        types,
        parameters,
        writes: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, SqlType};

    const fn column(name: &'static str, sql_type: SqlType, nullable: bool) -> Column {
        Column {
            renamed_from: None,
            name,
            field: name,
            sql_type,
            nullable,
            default: None,
            backfill: None,
            comment: None,
            waivers: &[],
            sensitive: false,
        }
    }

    /// `id`, eleven business columns, the kit's columns.
    static WIDE: TableSchema = TableSchema {
        schema: None,
        name: "wides",
        struct_name: "Wide",
        comment: None,
        columns: &[
            column("id", SqlType::Uuid, false),
            column("c0", SqlType::Text, false),
            column("c1", SqlType::Integer, true),
            column("c2", SqlType::Text, false),
            column("c3", SqlType::Text, false),
            column("c4", SqlType::Text, false),
            column("c5", SqlType::Text, false),
            column("c6", SqlType::Text, false),
            column("c7", SqlType::Text, false),
            column("c8", SqlType::Text, false),
            column("c9", SqlType::Text, false),
            column("c10", SqlType::Boolean, false),
            column("created_at", SqlType::Timestamptz, false),
            column("updated_at", SqlType::Timestamptz, false),
            column("deleted_at", SqlType::Timestamptz, true),
            column("version", SqlType::Integer, false),
        ],
        primary_key: "wides_pkey",
        foreign_keys: &[],
        checks: &[],
        indexes: &[],
        keysets: &[],
        waivers: &[],
        tenant: false,
        history: false,
        aggregate_root: false,
        outbox: false,
        partitioned: None,
        conventions: &crate::schema::Conventions::DEFAULT,
    };

    fn set(columns: &[usize]) -> ColumnSet {
        let mut set = ColumnSet::new();
        for k in columns {
            set.insert(*k);
        }
        set
    }

    #[test]
    fn a_patch_writes_its_columns_after_the_id_and_version() {
        let s = render(&WIDE, &set(&[1, 10]));
        assert_eq!(
            s.sql,
            "UPDATE \"wides\" SET \"c1\" = $3, \"c10\" = $4, \"updated_at\" = now(), \
             \"version\" = \"version\" + 1 WHERE \"id\" = $1 AND \"version\" = $2 \
             AND \"deleted_at\" IS NULL RETURNING \"id\", \"c0\", \"c1\", \"c2\", \"c3\", \
             \"c4\", \"c5\", \"c6\", \"c7\", \"c8\", \"c9\", \"c10\", \"created_at\", \
             \"updated_at\", \"deleted_at\", \"version\""
        );
        assert_eq!(s.types, [Type::UUID, Type::INT4, Type::INT4, Type::BOOL]);
        assert_eq!(s.parameters, ["id", "version", "c1", "c10"]);
        assert!(s.writes);
        let empty = render(&WIDE, &ColumnSet::new());
        assert!(!empty.writes);
        assert!(
            empty.sql.starts_with("SELECT \"id\", ")
                && empty.sql.ends_with(
                    "FROM \"wides\" WHERE \"id\" = $1 AND \"version\" = $2 AND \"deleted_at\" IS NULL"
                ),
            "{}",
            empty.sql
        );
    }

    #[test]
    fn texts_are_kept_once_each_up_to_the_bound() {
        static STATEMENTS: OnceLock<Statements> = OnceLock::new();
        let statements = STATEMENTS.get_or_init(|| Statements::new(&WIDE));
        // Every subset of the eleven columns: 2,048 sets, twice the bound.
        let sets: Vec<ColumnSet> = (0u32..1 << 11)
            .map(|bits| set(&(0..11).filter(|k| bits & (1 << k) != 0).collect::<Vec<_>>()))
            .collect();
        let mut kept = 0;
        for s in &sets {
            match patch_statement(&WIDE, statements, s) {
                Patched::Kept(first) => {
                    kept += 1;
                    // Asked again: the same text, at the same address.
                    match patch_statement(&WIDE, statements, s) {
                        Patched::Kept(again) => assert!(std::ptr::eq(first, again)),
                        Patched::Rendered(_) => panic!("a kept text was forgotten"),
                    }
                    assert_eq!(*first, render(&WIDE, s));
                }
                Patched::Rendered(rendered) => assert_eq!(rendered, render(&WIDE, s)),
            }
        }
        assert!(kept <= KEPT_PATCHES, "{kept}");
        assert!(kept > 0);
        assert!(
            kept_len() <= KEPT_PATCHES,
            "the process keeps at most {KEPT_PATCHES}"
        );
    }

    fn kept_len() -> usize {
        kept()
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(FxHashMap::len)
            .sum()
    }
}
