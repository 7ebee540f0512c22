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
    /// An error reported by PostgreSQL or the driver.
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
}

/// `Result` with the kit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
