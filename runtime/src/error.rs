//! The kit's one error type.

use std::path::PathBuf;

/// Everything that can go wrong, as cases a caller can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A set of entities references each other in a cycle, so no creation
    /// order exists.
    #[error("foreign keys form a cycle: {}", .tables.join(" -> "))]
    ReferenceCycle {
        /// The tables of the cycle, the first repeated at the end.
        tables: Vec<&'static str>,
    },
    /// An entity references a table that is not in the set being rendered.
    #[error(
        "table \"{table}\" references \"{references}\", which is not among the entities given"
    )]
    MissingReference {
        /// The referencing table.
        table: &'static str,
        /// The referenced table that is missing.
        references: &'static str,
    },
    /// Two entities of one set produce the same table, index or constraint name.
    #[error("the name \"{name}\" is used by both \"{first}\" and \"{second}\"")]
    DuplicateName {
        /// The clashing name.
        name: &'static str,
        /// The table of the first object.
        first: &'static str,
        /// The table of the second object.
        second: &'static str,
    },
    /// No PostgreSQL server binaries were found for the throwaway server.
    #[error(
        "no PostgreSQL server binaries found (looked for `initdb` and `postgres` on PATH, via `pg_config --bindir`, \
         and in /usr/lib/postgresql/*/bin); install them (Debian: `apt-get install postgresql`) \
         or set DATABASE_URL to a server you own"
    )]
    NoServerBinaries,
    /// The throwaway server could not be set up or started.
    #[error("throwaway PostgreSQL server: {step} failed: {detail}")]
    ServerSetup {
        /// What was being done.
        step: &'static str,
        /// What went wrong, including the server's own output where there is some.
        detail: String,
    },
    /// A file-system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path being worked on.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No live row has this id (it never existed, was purged, or is soft-deleted).
    #[error("no live row in \"{table}\" with id {id}")]
    NotFound {
        /// The table searched.
        table: &'static str,
        /// The id asked for.
        id: uuid::Uuid,
    },
    /// The row exists but at another version: someone else changed it since
    /// it was read. Re-read it and retry.
    #[error("\"{table}\" row {id} is at version {actual}, not the expected {expected}: it was changed concurrently")]
    StaleVersion {
        /// The table.
        table: &'static str,
        /// The row's id.
        id: uuid::Uuid,
        /// The version the caller held.
        expected: i32,
        /// The version in the database.
        actual: i32,
    },
    /// `restore` was asked for a row that is not soft-deleted.
    #[error("\"{table}\" row {id} is not soft-deleted: there is nothing to restore")]
    NotSoftDeleted {
        /// The table.
        table: &'static str,
        /// The row's id.
        id: uuid::Uuid,
    },
    /// Soft delete or restore was asked of an entity that waived soft delete.
    #[error("\"{table}\" does not soft-delete (its `soft_delete` rule is waived): use purge")]
    NoSoftDelete {
        /// The table.
        table: &'static str,
    },
    /// A unique index or constraint rejected the row (SQLSTATE 23505).
    #[error("unique violation on \"{constraint}\" of \"{table}\"{}", column_suffix(.column))]
    UniqueViolation {
        /// The table.
        table: String,
        /// The index or constraint name.
        constraint: String,
        /// The entity's column it guards, when it guards exactly one.
        column: Option<&'static str>,
    },
    /// A foreign key rejected the write (SQLSTATE 23503).
    #[error("foreign key violation on \"{constraint}\" of \"{table}\"{}", column_suffix(.column))]
    ForeignKeyViolation {
        /// The table.
        table: String,
        /// The constraint name.
        constraint: String,
        /// The referencing column.
        column: Option<&'static str>,
    },
    /// A check constraint rejected the row (SQLSTATE 23514).
    #[error("check violation on \"{constraint}\" of \"{table}\"{}", column_suffix(.column))]
    CheckViolation {
        /// The table.
        table: String,
        /// The constraint name.
        constraint: String,
        /// The checked column.
        column: Option<&'static str>,
    },
    /// A NOT NULL column was given NULL (SQLSTATE 23502).
    #[error("column \"{column}\" of \"{table}\" cannot be NULL")]
    NotNullViolation {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column's value could not be decoded into the field's Rust type.
    #[error("cannot decode column \"{column}\" of \"{table}\": {reason}")]
    Decode {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// Why, from the innermost cause the driver reports.
        reason: String,
        /// What the driver said.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A value in a caller's query has no exact PostgreSQL parameter type.
    #[error("cannot bind {0} as a query parameter")]
    UnsupportedValue(String),
    /// No pooled connection became free within the acquire timeout.
    #[error("no database connection free after waiting {waited:?}: the pool is exhausted")]
    PoolTimeout {
        /// How long the caller waited.
        waited: std::time::Duration,
    },
    /// The pool was closed.
    #[error("the connection pool is closed")]
    PoolClosed,
    /// The pool could not be built.
    #[error("connection pool: {0}")]
    PoolSetup(String),
    /// The entity declares no keyset order (or not that many) to page by.
    #[error("`{table}` declares no such keyset order; add #[entity(keyset(created_at desc, id desc))] or pick a declared one")]
    NoKeyset {
        /// The table.
        table: &'static str,
    },
    /// A page size of 0 or above the pager's maximum.
    #[error("page size {requested} is not allowed: ask for 1 to {max} rows")]
    PageSize {
        /// The size asked for.
        requested: usize,
        /// The largest size allowed.
        max: usize,
    },
    /// A cursor that this pager cannot use; the reason says why.
    #[error("invalid cursor: {0}")]
    InvalidCursor(#[from] crate::page::CursorError),
    /// A file in the migrations folder that is not a well-formed migration.
    #[error("migration file {}: {reason}", path.display())]
    MigrationFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An applied migration's up file was edited since it ran.
    #[error("migration {version}_{name} was applied, and its file has changed since (checksum differs): restore the file and put the change in a new migration")]
    MigrationChanged {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
    },
    /// An applied migration's file is gone.
    #[error("migration {version}_{name} was applied, and its file is missing from the migrations folder: restore it")]
    MigrationMissing {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
    },
    /// A statement of a migration failed; a transactional migration left
    /// nothing behind.
    #[error("migration {version}_{name} failed at statement {statement}: {source}\n  {sql}")]
    MigrationFailed {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
        /// Which statement, counting from 1.
        statement: usize,
        /// The statement's text.
        sql: String,
        /// The server's error.
        source: tokio_postgres::Error,
    },
    /// Reverting needs a down file the migration does not have.
    #[error("migration {version}_{name} has no .down.sql file, so it cannot be reverted")]
    NoDownMigration {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
    },
    /// The entities drop tables or columns, and the migration generator was
    /// not allowed to write destructive changes.
    #[error("the entities would drop data: {}; allow destructive changes explicitly (Permissions {{ allow_destructive: true }}, or ORDINANCE_ALLOW_DESTRUCTIVE=1 when blessing) or restore the fields", .0.join("; "))]
    DestructiveChange(Vec<String>),
    /// A difference the generator does not write, such as a column's type.
    #[error("write this migration by hand: {}", .0.join("; "))]
    ManualMigration(Vec<String>),
    /// A statement would carry more bind parameters than PostgreSQL accepts;
    /// split the rows, or use [`crate::batch`], which never hits the limit.
    #[error("{parameters} bind parameters in one statement; PostgreSQL accepts at most {max} (use ordinance::batch for large batches)")]
    TooManyParameters {
        /// Parameters the statement would carry.
        parameters: usize,
        /// PostgreSQL's limit.
        max: usize,
    },
    /// The TLS configuration is unusable: no certificate in the PEM, a
    /// malformed certificate, or no usable protocol version.
    #[error("TLS setup: {0}")]
    TlsSetup(String),
    /// The statement ran past the server's `statement_timeout` and was cancelled
    /// (SQLSTATE 57014).
    #[error("statement cancelled: it ran past the statement timeout")]
    StatementTimeout(#[source] tokio_postgres::Error),
    /// The connection to the server was lost (closed, reset, or shut down).
    #[error("connection to PostgreSQL lost: {0}")]
    ConnectionLost(#[source] tokio_postgres::Error),
    /// Any other error reported by PostgreSQL or the driver.
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
}

fn column_suffix(column: &Option<&'static str>) -> String {
    column
        .map(|c| format!(" (column \"{c}\")"))
        .unwrap_or_default()
}

impl Error {
    /// Maps a driver error to a typed case by its SQLSTATE, naming the
    /// entity column behind the constraint when the schema knows it.
    pub fn from_db(err: tokio_postgres::Error, schema: &'static crate::TableSchema) -> Self {
        use tokio_postgres::error::SqlState;
        if err.is_closed() {
            return Error::ConnectionLost(err);
        }
        let Some(db) = err.as_db_error() else {
            return Error::Postgres(err);
        };
        let code = db.code();
        let table = db.table().unwrap_or(schema.name).to_owned();
        let constraint = db.constraint().unwrap_or_default().to_owned();
        let column = schema.column_of_constraint(&constraint);
        if *code == SqlState::UNIQUE_VIOLATION {
            Error::UniqueViolation {
                table,
                constraint,
                column,
            }
        } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
            Error::ForeignKeyViolation {
                table,
                constraint,
                column,
            }
        } else if *code == SqlState::CHECK_VIOLATION {
            Error::CheckViolation {
                table,
                constraint,
                column,
            }
        } else if *code == SqlState::NOT_NULL_VIOLATION {
            let column = db.column().unwrap_or_default().to_owned();
            Error::NotNullViolation { table, column }
        } else if *code == SqlState::QUERY_CANCELED {
            Error::StatementTimeout(err)
        } else if *code == SqlState::ADMIN_SHUTDOWN
            || *code == SqlState::CRASH_SHUTDOWN
            || code.code().starts_with("08")
        {
            Error::ConnectionLost(err)
        } else {
            Error::Postgres(err)
        }
    }
}

/// `Result` with the kit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
