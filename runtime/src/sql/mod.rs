//! SQL text rendered from the static schema, below the entities: the fixed
//! statements every entity runs, its upserts, its staged batch inserts and
//! its row locks. Nothing here knows an entity type, a connection or a
//! value: it reads a [`TableSchema`](crate::TableSchema) and writes text,
//! once per entity, kept for the life of the process.

pub(crate) mod aggregate;
pub(crate) mod history;
mod lock;
pub(crate) mod outbox;
mod patch;
mod stage;
mod statements;
mod upsert;

pub use lock::{LockStrength, LockWait, RowLock};
#[cfg(any(feature = "tools", feature = "testing"))]
pub(crate) use patch::render as render_patch;
pub(crate) use patch::{patch_statement, Patched};
#[cfg(any(feature = "tools", feature = "testing"))]
pub(crate) use stage::DROP_STAGE_IF_EXISTS;
pub use stage::{StagedInsert, DROP_STAGE};
pub(crate) use statements::{deletion_marks, stamps};
pub use statements::{Statements, ID_TYPES, MAX_PARAMETERS};
pub use upsert::UpsertStatements;

/// The table migration runners keep their bookkeeping in.
pub const MIGRATIONS_TABLE: &str = "schema_migrations";

/// What `render` makes of `schema`, made once per schema and kind and
/// kept for the life of the process like the entity's own statements.
/// Keyed by the schema's address, so two versions of one table in a
/// process (a migration's test) each get their own.
pub(crate) fn rendered<T: Send + Sync + 'static>(
    schema: &'static crate::TableSchema,
    render: fn(&'static crate::TableSchema) -> T,
) -> &'static T {
    use std::any::{Any, TypeId};
    use std::collections::HashMap;
    use std::sync::{OnceLock, PoisonError, RwLock};

    type Cache = HashMap<(TypeId, usize), &'static (dyn Any + Send + Sync)>;
    static CACHE: OnceLock<RwLock<Cache>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (TypeId::of::<T>(), std::ptr::from_ref(schema) as usize);
    let found = cache
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .copied();
    let any = match found {
        Some(any) => any,
        None => *cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_insert_with(|| Box::leak(Box::new(render(schema)))),
    };
    // The key holds `T`'s type id: the value is a `T`.
    any.downcast_ref::<T>()
        .unwrap_or_else(|| unreachable!("a rendered value of another type"))
}
