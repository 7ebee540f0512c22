//! The attribute keys the derives understand, in one place.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// One attribute key, comparable with the `Path` and `Ident` syn hands out.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Symbol(pub(crate) &'static str);

// Attribute names.
pub(crate) const ENTITY: Symbol = Symbol("entity");
pub(crate) const COLUMN: Symbol = Symbol("column");
pub(crate) const DOC: Symbol = Symbol("doc");

// #[entity(...)]
pub(crate) const TABLE: Symbol = Symbol("table");
pub(crate) const SCHEMA: Symbol = Symbol("schema");
pub(crate) const INDEX: Symbol = Symbol("index");
pub(crate) const UNIQUE: Symbol = Symbol("unique");
pub(crate) const KEYSET: Symbol = Symbol("keyset");
pub(crate) const EXEMPT: Symbol = Symbol("exempt");
pub(crate) const TENANT: Symbol = Symbol("tenant");
pub(crate) const HISTORY: Symbol = Symbol("history");
pub(crate) const AGGREGATE_ROOT: Symbol = Symbol("aggregate_root");
pub(crate) const OUTBOX: Symbol = Symbol("outbox");
pub(crate) const PARTITIONED: Symbol = Symbol("partitioned");
pub(crate) const INTERVAL: Symbol = Symbol("interval");
pub(crate) const KEEP: Symbol = Symbol("keep");
pub(crate) const AGGREGATE: Symbol = Symbol("aggregate");
pub(crate) const DERIVE_NEW: Symbol = Symbol("derive_new");
pub(crate) const DERIVE_PATCH: Symbol = Symbol("derive_patch");

// #[column(...)]
pub(crate) const NAME: Symbol = Symbol("name");
pub(crate) const MIN_LEN: Symbol = Symbol("min_len");
pub(crate) const MAX_LEN: Symbol = Symbol("max_len");
pub(crate) const MIN: Symbol = Symbol("min");
pub(crate) const MAX: Symbol = Symbol("max");
pub(crate) const INDEX_NAME: Symbol = Symbol("index_name");
pub(crate) const REFERENCES: Symbol = Symbol("references");
pub(crate) const ON_DELETE: Symbol = Symbol("on_delete");
pub(crate) const PRECISION: Symbol = Symbol("precision");
pub(crate) const SCALE: Symbol = Symbol("scale");
pub(crate) const RENAMED_FROM: Symbol = Symbol("renamed_from");
pub(crate) const DEFAULT: Symbol = Symbol("default");
pub(crate) const BACKFILL: Symbol = Symbol("backfill");
pub(crate) const SENSITIVE: Symbol = Symbol("sensitive");
// inside index(...)
pub(crate) const USING: Symbol = Symbol("using");
pub(crate) const WHERE: Symbol = Symbol("where");

// exempt(...) rules, on the entity
pub(crate) const SOFT_DELETE: Symbol = Symbol("soft_delete");
pub(crate) const VERSION: Symbol = Symbol("version");
pub(crate) const PLURAL: Symbol = Symbol("plural");
pub(crate) const JOIN_NAME: Symbol = Symbol("join_name");
pub(crate) const ACTOR_COLUMNS: Symbol = Symbol("actor_columns");
// exempt(...) rules, on a field
pub(crate) const FLOAT: Symbol = Symbol("float");
pub(crate) const FOREIGN_KEY: Symbol = Symbol("foreign_key");
pub(crate) const BOOLEAN_NAME: Symbol = Symbol("boolean_name");
pub(crate) const TENANT_REFERENCE: Symbol = Symbol("tenant_reference");

/// Every key `#[entity(...)]` takes, in the order error messages list them.
pub(crate) const ENTITY_KEYS: &[Symbol] = &[
    TABLE,
    SCHEMA,
    INDEX,
    UNIQUE,
    KEYSET,
    EXEMPT,
    TENANT,
    HISTORY,
    AGGREGATE_ROOT,
    OUTBOX,
    PARTITIONED,
    DERIVE_NEW,
    DERIVE_PATCH,
];

/// Every key `#[column(...)]` takes, in the order error messages list them.
pub(crate) const COLUMN_KEYS: &[Symbol] = &[
    NAME,
    MIN_LEN,
    MAX_LEN,
    MIN,
    MAX,
    UNIQUE,
    INDEX,
    INDEX_NAME,
    REFERENCES,
    ON_DELETE,
    AGGREGATE,
    PRECISION,
    SCALE,
    RENAMED_FROM,
    DEFAULT,
    BACKFILL,
    SENSITIVE,
    EXEMPT,
];

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
