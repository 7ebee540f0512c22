//! The kit's one error type, and how driver errors map onto it: the table
//! is on [`Error`].

use std::path::PathBuf;

use tokio_postgres::error::SqlState;

mod classify;

pub use classify::Failure;
pub(crate) use classify::{classify, is_unavailable};

use crate::checks::Violation;
use crate::pg_error::PgError;
use crate::schema::TableSchema;

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// Longer than any cursor of this pager can be.
    #[error("the cursor is {len} characters long; at most {max} are accepted")]
    #[non_exhaustive]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not URL-safe base64.
    #[error("the cursor is not URL-safe base64")]
    NotBase64,
    /// Ends before all of its parts.
    #[error("the cursor is truncated")]
    Truncated,
    /// Made by an incompatible version of the kit, or not a cursor at all.
    #[error("the cursor has an unknown format version {0}")]
    UnknownVersion(u8),
    /// The signature does not match: the cursor was altered, or signed with
    /// another key.
    #[error("the cursor's signature does not match: it was altered or signed with another key")]
    BadSignature,
    /// A signing key is configured and the cursor carries no signature.
    #[error("the cursor is not signed, and this pager requires signed cursors")]
    Unsigned,
    /// Signed, but this pager has no key to check it with.
    #[error("the cursor is signed, and this pager has no signing key to check it")]
    UnexpectedSignature,
    /// Made for another entity.
    #[error("the cursor belongs to another entity")]
    OtherEntity,
    /// Made for another order of this entity.
    #[error("the cursor belongs to another order")]
    OtherOrder,
    /// Made for another filter or scope.
    #[error("the cursor belongs to another filter")]
    OtherFilter,
    /// The right shape, with contents no cursor has: among them values
    /// PostgreSQL would refuse (a timestamp or date outside its range, a NUL
    /// byte in text, text longer than the column allows).
    #[error("the cursor is malformed: {0}")]
    Malformed(&'static str),
}

/// Everything that can go wrong, as cases a caller can act on.
///
/// Every error from PostgreSQL or the driver is classified once, by its
/// SQLSTATE (or, for errors that never reached the server, by what failed),
/// whichever path it took: a repository call, a `?` on a raw driver call,
/// the `COMMIT` of [`transaction`](crate::exec::transaction):
///
/// | SQLSTATE / condition | variant | retryable |
/// |---|---|---|
/// | connection refused, reset or closed; I/O error mid-statement; class `08`; `57P01` admin shutdown, `57P02` crash shutdown, `57P03` cannot connect now; `53300` too many connections; `25P03` / `57P05` idle timeouts | [`Unavailable`](Error::Unavailable) | yes |
/// | `40001` serialization failure | [`SerializationFailure`](Error::SerializationFailure) | yes |
/// | `40P01` deadlock detected | [`Deadlock`](Error::Deadlock) | yes |
/// | `55P03` lock not available (`NOWAIT`, `lock_timeout`) | [`LockNotAvailable`](Error::LockNotAvailable) | yes |
/// | no pooled connection free in time | [`PoolTimeout`](Error::PoolTimeout) | yes |
/// | `57014` query cancelled (`statement_timeout`, a cancel request) | [`Cancelled`](Error::Cancelled) | no |
/// | class `22` data exception (`22021` NUL byte in text, `22003` numeric overflow, `22008` datetime out of range, `22P02` invalid text representation, ...) | [`InvalidValue`](Error::InvalidValue) | no |
/// | `23505` / `23503` / `23514` / `23502` | [`UniqueViolation`](Error::UniqueViolation) / [`ForeignKeyViolation`](Error::ForeignKeyViolation) / [`CheckViolation`](Error::CheckViolation) / [`NotNullViolation`](Error::NotNullViolation), each with its constraint and the entity's column | no |
/// | `42501` insufficient privilege (a role without the right, a write row-level security refuses) | [`PermissionDenied`](Error::PermissionDenied) | no |
/// | a write to a tenant table with no tenant set | [`TenantNotSet`](Error::TenantNotSet) | no |
/// | a column whose type drifted from the entity (a `version` widened to `BIGINT` by hand) | [`Decode`](Error::Decode) — never a panic | no |
/// | values that break their columns' `min_len` / `max_len`, `min` / `max` or `NUMERIC(p,s)` (which PostgreSQL would round) — refused before anything is sent | [`Invalid`](Error::Invalid): every bad column of the row at once, each with its rule and limit, never the value | no |
/// | a locking read outside a transaction | [`NotInTransaction`](Error::NotInTransaction) | no |
/// | `transaction_with` ran out of attempts | [`RetriesExhausted`](Error::RetriesExhausted) | no |
/// | a bulk change or purge failed part-way | [`Interrupted`](Error::Interrupted) | as its source |
/// | a guarded write that matched nothing | [`NotFound`](Error::NotFound) (missing or soft-deleted, whatever the version), [`StaleVersion`](Error::StaleVersion) (live, another version), [`NotSoftDeleted`](Error::NotSoftDeleted) (restore of a live row) — checked in that order | no |
/// | anything else from the server | [`Postgres`](Error::Postgres) | no |
///
/// Each case from the server carries a [`PgError`], whose `Display` is the
/// server's report: SQLSTATE, message, detail, hint, table, column and
/// constraint, with the values a statement carried redacted.
///
/// The enum and each of its variants with fields are `#[non_exhaustive]`:
/// a later release may add a case, or a field to a case, without breaking
/// your code — so match the fields you use and end with `..`, and keep a
/// `_` arm:
///
/// ```
/// use ordinance::Error;
///
/// fn status(err: &Error) -> u16 {
///     match err {
///         Error::NotFound { .. } | Error::TenantNotSet { .. } => 404,
///         Error::StaleVersion { expected, actual, .. } if actual > expected => 412,
///         Error::UniqueViolation { column: Some(_), .. } => 409,
///         Error::Invalid { .. } | Error::CheckViolation { .. } => 422,
///         e if e.is_retryable() => 503,
///         _ => 500,
///     }
/// }
/// # let _ = status;
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A set of entities references each other in a cycle, so no creation
    /// order exists.
    #[error("foreign keys form a cycle: {}", .tables.join(" -> "))]
    #[non_exhaustive]
    ReferenceCycle {
        /// The tables of the cycle, the first repeated at the end.
        tables: Vec<&'static str>,
    },
    /// An entity references a table that is not in the set being rendered.
    #[error(
        "table \"{table}\" references \"{references}\", which is not among the entities given"
    )]
    #[non_exhaustive]
    MissingReference {
        /// The referencing table.
        table: &'static str,
        /// The referenced table that is missing.
        references: &'static str,
    },
    /// Two entities of one set produce the same table, index or constraint name.
    #[error("the name \"{name}\" is used by both \"{first}\" and \"{second}\"")]
    #[non_exhaustive]
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
    #[non_exhaustive]
    ServerSetup {
        /// What was being done.
        step: &'static str,
        /// What went wrong, including the server's own output where there is some.
        detail: String,
    },
    /// A PostgreSQL extension the call needs is not available in this
    /// database.
    #[error("the `{extension}` extension is not available: {hint}; PostgreSQL said: {source}")]
    #[non_exhaustive]
    ExtensionMissing {
        /// The extension.
        extension: &'static str,
        /// How to make it available.
        hint: &'static str,
        /// What the server said.
        source: PgError,
    },
    /// A file-system operation failed.
    #[error("{path}: {source}")]
    #[non_exhaustive]
    Io {
        /// The path being worked on.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No live row has this id (it never existed, was purged, or is soft-deleted).
    #[error("no live row in \"{table}\" with id {id}")]
    #[non_exhaustive]
    NotFound {
        /// The table searched.
        table: &'static str,
        /// The id asked for.
        id: uuid::Uuid,
    },
    /// The row exists but at another version: someone else changed it since
    /// it was read. Re-read it and retry.
    #[error("\"{table}\" row {id} is at version {actual}, not the expected {expected}: it was changed concurrently")]
    #[non_exhaustive]
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
    #[non_exhaustive]
    NotSoftDeleted {
        /// The table.
        table: &'static str,
        /// The row's id.
        id: uuid::Uuid,
    },
    /// Soft delete or restore was asked of an entity that waived soft delete.
    #[error("\"{table}\" does not soft-delete (its `soft_delete` rule is waived): use purge")]
    #[non_exhaustive]
    NoSoftDelete {
        /// The table.
        table: &'static str,
    },
    /// A unique index or constraint rejected the row (SQLSTATE 23505).
    #[error("unique violation{}{}: {source}", subject(.constraint, .table), column_suffix(.column))]
    #[non_exhaustive]
    UniqueViolation {
        /// The table.
        table: String,
        /// The index or constraint name.
        constraint: String,
        /// The entity's column it guards, when it guards exactly one.
        column: Option<&'static str>,
        /// The server's report.
        source: PgError,
    },
    /// A foreign key rejected the write (SQLSTATE 23503).
    #[error("foreign key violation{}{}: {source}", subject(.constraint, .table), column_suffix(.column))]
    #[non_exhaustive]
    ForeignKeyViolation {
        /// The table.
        table: String,
        /// The constraint name.
        constraint: String,
        /// The referencing column.
        column: Option<&'static str>,
        /// The server's report.
        source: PgError,
    },
    /// A check constraint rejected the row (SQLSTATE 23514).
    #[error("check violation{}{}: {source}", subject(.constraint, .table), column_suffix(.column))]
    #[non_exhaustive]
    CheckViolation {
        /// The table.
        table: String,
        /// The constraint name.
        constraint: String,
        /// The checked column.
        column: Option<&'static str>,
        /// The server's report.
        source: PgError,
    },
    /// The role may not do this (SQLSTATE 42501): it lacks the privilege
    /// (DDL as the application role, a write as the read-only one), or
    /// row-level security refused the row (a write for another tenant, or
    /// with no tenant set).
    #[error("permission denied{}: {source}", .table.as_ref().map(|t| format!(" on \"{t}\"")).unwrap_or_default())]
    #[non_exhaustive]
    PermissionDenied {
        /// The table, when known.
        table: Option<String>,
        /// The server's report.
        source: PgError,
    },
    /// A write to a tenant table (`#[entity(tenant)]`) ran with no tenant
    /// set, so it would belong to no one: refused before any row was
    /// written. Run it through a handle from `Cluster::for_tenant`, or call
    /// [`exec::set_scope`](crate::exec::set_scope) in the transaction first.
    #[error(
        "no tenant is set for this write to tenant table \"{table}\": use a handle from \
         `for_tenant(..)`, or call `set_scope(tx, Scope::tenant(..))` in the transaction first"
    )]
    #[non_exhaustive]
    TenantNotSet {
        /// The tenant table.
        table: &'static str,
    },
    /// A NOT NULL column was given NULL (SQLSTATE 23502).
    #[error("{}cannot be NULL: {source}", null_subject(.column, .table))]
    #[non_exhaustive]
    NotNullViolation {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The server's report.
        source: PgError,
    },
    /// The server refused a value: a NUL byte in text (SQLSTATE 22021), a
    /// number out of its column's range (22003), a date or time out of range
    /// (22008), a value that does not parse as its type (22P02), or any other
    /// data exception (class 22). Fix the value; retrying does not help.
    #[error("invalid value{}{}: {source}", column_suffix(.column), table_suffix(.table))]
    #[non_exhaustive]
    InvalidValue {
        /// The table written or read (the entity's, where the kit knows it).
        table: Option<String>,
        /// The column the value was for, when the server or the statement
        /// says which.
        column: Option<&'static str>,
        /// The server's report.
        source: PgError,
    },
    /// A column's value could not be decoded into the field's Rust type:
    /// the column's type drifted from the entity (a `version` widened to
    /// `BIGINT` by hand, say), or it holds a value the type cannot.
    #[error("cannot decode column \"{column}\" of \"{table}\": {reason}")]
    #[non_exhaustive]
    Decode {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// Why, from the innermost cause the driver reports.
        reason: String,
        /// What the driver said.
        source: PgError,
    },
    /// Values that break their columns' rules, refused before anything was
    /// sent: text outside `min_len` / `max_len`, a number outside `min` /
    /// `max`, a `Decimal` with more digits than the column's `NUMERIC(p,s)`
    /// keeps (PostgreSQL would silently round it). Every bad column of the
    /// row is listed, each with the rule and its limit and never the value:
    /// ready to become a 422 response listing each field.
    #[error("invalid values for \"{table}\"{}: {}", row_suffix(.row), list_violations(.violations))]
    #[non_exhaustive]
    Invalid {
        /// The table.
        table: &'static str,
        /// In a batch, the position (from 0) of the first row with a bad
        /// value; the whole batch was refused. `None` for a single row.
        row: Option<usize>,
        /// Each bad column, in column order.
        violations: Vec<Violation>,
    },
    /// A value in a caller's query has no exact PostgreSQL parameter type.
    #[error("cannot bind {0} as a query parameter")]
    UnsupportedValue(String),
    /// No pooled connection became free within the acquire timeout.
    #[error("no database connection free after waiting {waited:?}: the pool is exhausted")]
    #[non_exhaustive]
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
    /// The entity declares no keyset order to page by.
    #[error("`{table}` declares no keyset order to page by; add #[entity(keyset(newest = (created_at desc)))]")]
    #[non_exhaustive]
    NoKeyset {
        /// The table.
        table: &'static str,
    },
    /// A page size of 0 or above the pager's maximum.
    #[error("page size {requested} is not allowed: ask for 1 to {max} rows")]
    #[non_exhaustive]
    PageSize {
        /// The size asked for.
        requested: usize,
        /// The largest size allowed.
        max: usize,
    },
    /// A cursor that this pager cannot use; the reason says why.
    #[error("invalid cursor: {0}")]
    InvalidCursor(#[from] CursorError),
    /// A file in the migrations folder that is not a well-formed migration.
    #[error("migration file {}: {reason}", path.display())]
    #[non_exhaustive]
    MigrationFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An applied migration's up file was edited since it ran.
    #[error("migration {version}_{name} was applied, and its file has changed since (checksum differs): restore the file and put the change in a new migration")]
    #[non_exhaustive]
    MigrationChanged {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
    },
    /// A migration still holds a mark where a person must write something
    /// (a backfill's value); nothing was applied.
    #[error("migration {version}_{name} is not filled in: replace FILL_IN with the value and delete the `ordinance:fill-in` line, then run again")]
    #[non_exhaustive]
    MigrationNeedsFilling {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
    },
    /// An applied migration's file is gone.
    #[error("migration {version}_{name} was applied, and its file is missing from the migrations folder: restore it")]
    #[non_exhaustive]
    MigrationMissing {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
    },
    /// A statement of a migration failed; a transactional migration left
    /// nothing behind.
    #[error("migration {version}_{name} failed at statement {statement}: {source}\n  {sql}")]
    #[non_exhaustive]
    MigrationFailed {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
        /// Which statement, counting from 1.
        statement: usize,
        /// The statement's text.
        sql: String,
        /// The server's error, classified like any other.
        source: Box<Error>,
    },
    /// A migration that must see every row of a table (a backfill, an
    /// `UPDATE`) ran as a role row-level security holds to some rows. The
    /// runner turns row-level security off for its session
    /// (`row_security = off`), so PostgreSQL refuses such a statement
    /// instead of letting it change fewer rows than exist.
    #[error(
        "migration {version}_{name} must see every row, but row-level security holds role \"{role}\" \
         to some rows of {}: run migrations as a role that bypasses it (as a superuser: \
         ALTER ROLE \"{role}\" BYPASSRLS), or as a superuser; {source}",
        .tables.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(", ")
    )]
    #[non_exhaustive]
    MigrationRowSecurity {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
        /// The role the migrations ran as.
        role: String,
        /// The tables under row-level security that hold the role to a
        /// policy (forced on their owner, or not its own).
        tables: Vec<String>,
        /// The statement's failure.
        source: Box<Error>,
    },
    /// A backfill left rows without a value: written since by the previous
    /// release (which does not set the column), or its value is NULL for
    /// them. The migration is not recorded; run it again once nothing
    /// writes such rows.
    #[error(
        "backfill {version}_{name} statement {statement} filled {filled} rows and left {left} without a value: \
         rows written meanwhile by the previous release, or a value that is NULL for them; give the column \
         a default (or stop the previous release) and run it again"
    )]
    #[non_exhaustive]
    BackfillIncomplete {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
        /// Which statement, counting from 1.
        statement: usize,
        /// Rows it gave a value.
        filled: i64,
        /// Rows still without one.
        left: i64,
    },
    /// A constraint failed its validation in a migration: rows break it.
    #[error(
        "migration {version}_{name}: {violating} rows of \"{table}\" break \"{constraint}\" — rows a backfill \
         did not fill (written since by the previous release, or hidden from it by row-level security), or \
         rows that never met the rule; fix them and run it again; {source}"
    )]
    #[non_exhaustive]
    MigrationValidationFailed {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
        /// The table.
        table: String,
        /// The constraint being validated.
        constraint: String,
        /// How many rows break it.
        violating: i64,
        /// The statement's failure.
        source: Box<Error>,
    },
    /// Reverting needs a down file the migration does not have.
    #[error("migration {version}_{name} has no .down.sql file, so it cannot be reverted")]
    #[non_exhaustive]
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
    /// New NOT NULL columns with no value for the rows already there and
    /// for the previous release's inserts: the release rolling out would
    /// read NULL from them and fail. Refused when blessing, with the ways
    /// to give them one.
    #[error(
        "new NOT NULL column{} {} {} no value for the rows already there or for the previous release's \
         inserts, so the new release would read NULL from them: give each `#[column(default = ...)]` (kept), \
         or `#[column(backfill = ...)]` (the value stands in as the column's default from the expand phase \
         and is dropped in the contract phase), or ship it as `Option<T>` first and make it NOT NULL in a \
         later release",
        if .0.len() == 1 { "" } else { "s" },
        .0.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "),
        if .0.len() == 1 { "has" } else { "have" }
    )]
    NotNullWithoutValue(Vec<String>),
    /// A difference the generator does not write, such as a column's type.
    #[error("write this migration by hand: {}", .0.join("; "))]
    ManualMigration(Vec<String>),
    /// A statement would carry more bind parameters than PostgreSQL accepts;
    /// split the rows, or use [`crate::batch`], which never hits the limit.
    #[error("{parameters} bind parameters in one statement; PostgreSQL accepts at most {max} (use ordinance::batch for large batches)")]
    #[non_exhaustive]
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
    /// The server cannot be reached or went away: the connection was
    /// refused, reset or closed, an I/O error cut a statement short, the
    /// server is starting up or shutting down (SQLSTATE 57P03, 57P01,
    /// 57P02), the backend was terminated, or it has no connection slot free
    /// (53300). **Retryable**: the same work can succeed on a new connection
    /// once the server is back. A write whose outcome is unknown (the
    /// connection dropped during `COMMIT`) may or may not have landed, so
    /// make retried writes idempotent (a fixed id, a version check).
    #[error("PostgreSQL unavailable (retryable): {0}")]
    Unavailable(PgError),
    /// The transaction could not be serialized with concurrent ones
    /// (SQLSTATE 40001). **Retryable**: run the whole transaction again.
    #[error("serialization failure (retry the transaction): {0}")]
    SerializationFailure(PgError),
    /// The transaction was chosen as a deadlock victim (SQLSTATE 40P01).
    /// **Retryable**: run the whole transaction again.
    #[error("deadlock detected (retry the transaction): {0}")]
    Deadlock(PgError),
    /// A row or table lock could not be taken: `NOWAIT`, or `lock_timeout`
    /// ran out (SQLSTATE 55P03). **Retryable** once the holder is done.
    #[error("lock not available: {0}")]
    LockNotAvailable(PgError),
    /// The statement was cancelled (SQLSTATE 57014): it ran past
    /// `statement_timeout`, or someone cancelled it. The message says which.
    #[error("statement cancelled: {0}")]
    Cancelled(PgError),
    /// [`transaction_with`](crate::exec::transaction_with) ran its closure
    /// as many times as its [`Retry`](crate::exec::Retry) allows, and each
    /// run lost a serialization conflict or a deadlock; `source` is the
    /// last failure. The contention did not clear: retry later, or make the
    /// transactions touch fewer shared rows.
    #[error(
        "the transaction failed {attempts} times, the retries ran out; the last failure: {source}"
    )]
    #[non_exhaustive]
    RetriesExhausted {
        /// How many times the closure ran.
        attempts: u32,
        /// The last run's failure.
        source: Box<Error>,
    },
    /// A bulk change or purge stopped part-way: the chunks before
    /// `resume_after` are committed, the failing one left nothing. Run it
    /// again with [`Bulk::resume_after`](crate::bulk::Bulk::resume_after)
    /// that id to carry on.
    #[error("{operation} of \"{table}\" stopped after {rows} rows{}: {source}", resume_suffix(.resume_after))]
    #[non_exhaustive]
    Interrupted {
        /// The table.
        table: &'static str,
        /// The bulk operation.
        operation: &'static str,
        /// Rows changed by the committed chunks.
        rows: u64,
        /// The last id of the last committed chunk, if any.
        resume_after: Option<uuid::Uuid>,
        /// Why it stopped.
        source: Box<Error>,
    },
    /// A locking read was asked for outside a transaction, where its lock
    /// would end with the statement; nothing ran.
    #[error("{operation} on \"{table}\" locks rows until the transaction ends, and runs outside one: call it inside exec::transaction")]
    #[non_exhaustive]
    NotInTransaction {
        /// The table.
        table: &'static str,
        /// The operation asked for.
        operation: &'static str,
    },
    /// A setting that cannot work, refused when it is set.
    #[error("invalid setting `{setting}`: {reason}")]
    #[non_exhaustive]
    InvalidSetting {
        /// The setting.
        setting: &'static str,
        /// Why it cannot work.
        reason: String,
    },
    /// Any other error reported by PostgreSQL or the driver.
    #[error("{0}")]
    Postgres(PgError),
    /// The work of a transaction gave up with an error of its own (a
    /// domain rule, a failed call elsewhere): the transaction was rolled
    /// back. Made with [`Error::rollback`]; the caller's error is the
    /// [`source`](std::error::Error::source), to downcast.
    #[error("rolled back: {0}")]
    Rollback(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

fn row_suffix(row: &Option<usize>) -> String {
    row.map(|row| format!(" in row {row} of the batch"))
        .unwrap_or_default()
}

fn list_violations(violations: &[Violation]) -> String {
    let items: Vec<String> = violations.iter().map(Violation::to_string).collect();
    items.join("; ")
}

fn resume_suffix(after: &Option<uuid::Uuid>) -> String {
    after
        .map(|id| format!(" (resume after id {id})"))
        .unwrap_or_default()
}

fn table_suffix(table: &Option<String>) -> String {
    table
        .as_ref()
        .map(|t| format!(" of \"{t}\""))
        .unwrap_or_default()
}

/// ` on "constraint" of "table"`, leaving out what the server did not name
/// (an error raised by a function or a trigger names neither).
fn subject(constraint: &str, table: &str) -> String {
    match (constraint.is_empty(), table.is_empty()) {
        (false, false) => format!(" on \"{constraint}\" of \"{table}\""),
        (false, true) => format!(" on \"{constraint}\""),
        (true, false) => format!(" on \"{table}\""),
        (true, true) => String::new(),
    }
}

/// `column "c" of "t" ` for a not-null violation, leaving out what the
/// server did not name.
fn null_subject(column: &str, table: &str) -> String {
    match (column.is_empty(), table.is_empty()) {
        (false, false) => format!("column \"{column}\" of \"{table}\" "),
        (false, true) => format!("column \"{column}\" "),
        (true, false) => format!("a column of \"{table}\" "),
        (true, true) => "a value ".to_owned(),
    }
}

fn column_suffix(column: &Option<&'static str>) -> String {
    column
        .map(|c| format!(" (column \"{c}\")"))
        .unwrap_or_default()
}

impl Error {
    /// Maps a driver error to a typed case (see the module's table), naming
    /// the entity column behind a constraint when the schema knows it.
    pub fn from_db(err: impl Into<Failure>, schema: &'static TableSchema) -> Self {
        classify(err, Some(schema), &[])
    }

    /// An error of the caller's own, to end a transaction's work with: the
    /// transaction rolls back, and the error comes back as
    /// [`Error::Rollback`].
    ///
    /// ```no_run
    /// # async fn demo(conn: &mut ordinance::exec::Connection) {
    /// use ordinance::exec::transaction;
    /// use ordinance::Error;
    ///
    /// let out: ordinance::Result<()> = transaction(conn, async |_tx| {
    ///     Err(Error::rollback("the order is already shipped"))
    /// })
    /// .await;
    /// assert!(matches!(out, Err(Error::Rollback(_))));
    /// # }
    /// ```
    pub fn rollback(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Error::Rollback(error.into())
    }

    /// Whether running the same work again (on a new connection, in a new
    /// transaction) can succeed: [`Unavailable`](Error::Unavailable),
    /// [`SerializationFailure`](Error::SerializationFailure),
    /// [`Deadlock`](Error::Deadlock), [`LockNotAvailable`](Error::LockNotAvailable)
    /// and [`PoolTimeout`](Error::PoolTimeout). A failed migration is
    /// retryable when its cause is.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Unavailable(_)
            | Error::SerializationFailure(_)
            | Error::Deadlock(_)
            | Error::LockNotAvailable(_)
            | Error::PoolTimeout { .. } => true,
            Error::MigrationFailed { source, .. }
            | Error::MigrationValidationFailed { source, .. }
            | Error::MigrationRowSecurity { source, .. }
            | Error::Interrupted { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// The SQLSTATE the server reported, if this error came from the server.
    pub fn sqlstate(&self) -> Option<&SqlState> {
        self.pg_error().and_then(PgError::code)
    }

    /// The driver error behind this one, if any.
    pub fn pg_error(&self) -> Option<&PgError> {
        match self {
            Error::UniqueViolation { source, .. }
            | Error::ForeignKeyViolation { source, .. }
            | Error::CheckViolation { source, .. }
            | Error::NotNullViolation { source, .. }
            | Error::PermissionDenied { source, .. }
            | Error::InvalidValue { source, .. }
            | Error::Decode { source, .. }
            | Error::ExtensionMissing { source, .. } => Some(source),
            Error::Unavailable(e)
            | Error::SerializationFailure(e)
            | Error::Deadlock(e)
            | Error::LockNotAvailable(e)
            | Error::Cancelled(e)
            | Error::Postgres(e) => Some(e),
            Error::MigrationFailed { source, .. }
            | Error::MigrationValidationFailed { source, .. }
            | Error::MigrationRowSecurity { source, .. }
            | Error::RetriesExhausted { source, .. }
            | Error::Interrupted { source, .. } => source.pg_error(),
            _ => None,
        }
    }
}

/// `Result` with the kit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
