//! Versioned migrations: files an application checks in, generated from its
//! entities, checked against them in `cargo test`, and applied safely.
//!
//! A migration is a pair of files in one folder:
//! `<version>_<name>.up.sql` and (optionally) `<version>_<name>.down.sql`,
//! where the version is a UTC timestamp `YYYYMMDDHHMMSS`. A file whose first
//! line is `-- ordinance:no-transaction` runs outside a transaction (needed
//! by `CREATE INDEX CONCURRENTLY`); every other migration runs in a
//! transaction of its own.
//!
//! [`Migrations::up`] applies what is pending under a PostgreSQL advisory
//! lock, so concurrent runners (several instances of a service starting at
//! once) apply each migration exactly once. Runners wait for the lock
//! between tries (`pg_try_advisory_lock`), never inside a statement, so a
//! pending `CREATE INDEX CONCURRENTLY` does not deadlock with them. It records version, name,
//! checksum, time and duration in `schema_migrations`, and refuses to run
//! when an applied migration's file changed or disappeared. Use a direct
//! connection: the advisory lock is a session lock, which PgBouncer's
//! transaction pooling does not keep.
//!
//! ```no_run
//! # async fn demo(client: &mut ordinance::deps::tokio_postgres::Client) -> ordinance::Result<()> {
//! let migrations = ordinance::migrate::Migrations::load("migrations")?;
//! for pending in migrations.pending(client).await? {
//!     println!("will apply {} {}", pending.version, pending.name);
//! }
//! let applied = migrations.up(client).await?;
//! # let _ = applied;
//! # Ok(()) }
//! ```
//!
//! With the `testing` feature, [`assert_up_to_date`] is the one-line drift
//! check for an application's test suite, and [`generate`] writes the next
//! migration from the entities.

mod alter;
mod catalog;
mod convert;
mod diagnose;
mod diff;
mod files;
#[cfg(any(feature = "testing", doc))]
mod generate;
mod lint;
pub mod plan;
mod row_security;
mod run;
mod split;
#[cfg(any(feature = "testing", doc))]
mod test_database;

use std::time::Duration;

pub use alter::BACKFILL_BATCH;
pub use catalog::{Catalog, Column, Constraint, Table, MIGRATIONS_TABLE};
pub use diff::{diff, Permissions, Phase, Step};
#[cfg(any(feature = "testing", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub use generate::{
    assert_up_to_date, assert_up_to_date_with, check_drift, generate, live_drift, pending_steps,
    render_steps, Drift,
};

pub use files::{LockRetries, Migration, Migrations, Progress};
pub use lint::{lint, Lint, LintRule};
pub use run::{Applied, ROWS_LEFT};
#[cfg(feature = "tools")]
pub(crate) use run::{Observer, Seen};

/// The statement catalog's file, beside the migrations: every statement
/// the entities send, written by bless, proven against by
/// [`proof::verify`](crate::proof::verify).
pub const CATALOG_FILE: &str = "statements.catalog";

/// A first line, followed by a reason, that lets a migration hold an
/// `ACCESS EXCLUSIVE` lock long or rewrite a table in a rehearsal
/// (`-- ordinance:allow-lock the table is small in production`).
pub const ALLOW_LOCK: &str = "-- ordinance:allow-lock";

/// A first line that makes a migration run outside a transaction.
pub const NO_TRANSACTION: &str = "-- ordinance:no-transaction";
/// A first line that makes a migration part of the contract phase: applied
/// only by [`Migrations::contract`], once no instance of the previous
/// application version runs.
pub const CONTRACT: &str = "-- ordinance:contract";
/// A first line that makes a migration a backfill: each statement that
/// takes `$1` runs in batches, one transaction each, until it reports no
/// batch left (see [`Migration::backfill`]).
pub const BACKFILL: &str = "-- ordinance:backfill";
/// A mark left where a generated migration needs a value only a person can
/// give; the runner refuses a file holding it
/// ([`Error::MigrationNeedsFilling`](crate::Error::MigrationNeedsFilling)).
pub const FILL_IN: &str = "ordinance:fill-in";

/// How long a backfill pauses between batches unless told otherwise, so
/// other writers get the rows and the WAL keeps up.
pub const BACKFILL_PAUSE: Duration = Duration::from_millis(10);
