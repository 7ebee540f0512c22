//! SQL text rendered from the static schema, below the entities: the fixed
//! statements every entity runs, its upserts, its staged batch inserts and
//! its row locks. Nothing here knows an entity type, a connection or a
//! value: it reads a [`TableSchema`](crate::TableSchema) and writes text,
//! once per entity, kept for the life of the process.

pub(crate) mod aggregate;
pub(crate) mod history;
mod lock;
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
