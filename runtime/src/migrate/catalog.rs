//! The schema of a live database as the migration generator compares it:
//! tables, columns, constraints, indexes, comments and row-level security,
//! read from `pg_catalog` (through [`inspect`](crate::inspect)).
//!
//! Both sides of a comparison are read from PostgreSQL itself — one database
//! built by the migrations, one by the entities' DDL — so types, defaults and
//! constraint definitions are compared in the server's own normal form.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use crate::error::Result;
use crate::inspect::{Database, Policy, RowSecurity};

/// The tables of a database's own schemas (without the migration
/// bookkeeping).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Tables by name: `users` in `public`, `auth.sessions` in another
    /// schema.
    pub tables: BTreeMap<String, Table>,
    /// Native enum types by name (qualified like tables outside
    /// `public`): their values in sort order.
    pub enums: BTreeMap<String, Vec<String>>,
    /// Functions by signature (`posts_history_write()`): their `CREATE OR
    /// REPLACE FUNCTION`.
    pub functions: BTreeMap<String, String>,
}

/// One table as the database has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// How it is partitioned (`RANGE (id)`), when it is.
    pub partitioned_by: Option<String>,
    /// Columns by name.
    pub columns: BTreeMap<String, Column>,
    /// Constraints (primary key, foreign keys, checks) by name.
    pub constraints: BTreeMap<String, Constraint>,
    /// Indexes that back no constraint, by name: their `CREATE INDEX`.
    pub indexes: BTreeMap<String, String>,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
    /// Whether row-level security is on, and binds the owner too.
    pub row_security: RowSecurity,
    /// Row-level security policies by name.
    pub policies: BTreeMap<String, Policy>,
    /// Triggers by name: their `CREATE TRIGGER`.
    pub triggers: BTreeMap<String, String>,
}

/// One column as the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Position, for creating tables in field order.
    pub position: i16,
    /// The type as `format_type` writes it, e.g. `numeric(12,2)`.
    pub sql_type: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// The default expression, as the server normalised it.
    pub default: Option<String>,
    /// `COMMENT ON COLUMN`.
    pub comment: Option<String>,
    /// `GENERATED ALWAYS AS IDENTITY` (a history's `history_id`).
    pub identity: bool,
}

/// One constraint as the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// `p`, `f`, `c` or `u`.
    pub kind: char,
    /// As `pg_get_constraintdef` writes it, e.g. `CHECK ((version >= 1))`.
    pub definition: String,
}

pub use crate::sql::MIGRATIONS_TABLE;

impl Catalog {
    /// Reads the tables of every schema but PostgreSQL's own of the
    /// database `client` is connected to.
    pub async fn read(client: &Client) -> Result<Catalog> {
        Ok(Catalog::from(&Database::read(client).await?))
    }
}

impl From<&Database> for Catalog {
    /// The parts of a database's tables a migration compares.
    fn from(database: &Database) -> Catalog {
        let mut catalog = Catalog::default();
        for t in &database.tables {
            let columns = t
                .columns
                .iter()
                .map(|c| {
                    let column = Column {
                        position: c.position,
                        sql_type: c.sql_type.clone(),
                        not_null: c.not_null,
                        default: c.default.clone(),
                        comment: c.comment.clone(),
                        identity: c.identity,
                    };
                    (c.name.clone(), column)
                })
                .collect();
            let keys = t.primary_key.iter().map(|k| ('p', k));
            let checks = t.checks.iter().map(|k| ('c', k));
            let others = t.other_constraints.iter().map(|(kind, k)| (*kind, k));
            let mut constraints: BTreeMap<String, Constraint> = keys
                .chain(checks)
                .chain(others)
                .map(|(kind, k)| {
                    let definition = k.definition.clone();
                    (k.name.clone(), Constraint { kind, definition })
                })
                .collect();
            for fk in &t.foreign_keys {
                let definition = fk.definition.clone();
                constraints.insert(
                    fk.name.clone(),
                    Constraint {
                        kind: 'f',
                        definition,
                    },
                );
            }
            // Everything lives in `public`; unqualified, a definition reads
            // like the rest of the migration.
            let indexes = t
                .indexes
                .iter()
                .filter(|i| !i.backs_constraint)
                .map(|i| {
                    (
                        i.name.clone(),
                        i.definition.replacen(" ON public.", " ON ", 1),
                    )
                })
                .collect();
            let table = Table {
                partitioned_by: t.partition_key.clone(),
                columns,
                constraints,
                indexes,
                comment: t.comment.clone(),
                row_security: t.row_security,
                policies: t
                    .policies
                    .iter()
                    .map(|p| (p.name.clone(), p.clone()))
                    .collect(),
                triggers: t
                    .triggers
                    .iter()
                    .map(|tr| (tr.name.clone(), tr.definition.clone()))
                    .collect(),
            };
            catalog.tables.insert(t.qualified_name(), table);
        }
        for e in &database.enums {
            catalog.enums.insert(e.qualified_name(), e.values.clone());
        }
        for f in &database.functions {
            catalog
                .functions
                .insert(f.signature.clone(), f.definition.clone());
        }
        catalog
    }
}
