//! A real PostgreSQL for tests and examples, with no set-up.
//!
//! *Requires the `testing` feature* (in `[dev-dependencies]`:
//! `ordinance = { version = "…", features = ["testing"] }`).
//!
//! When `DATABASE_URL` is set, that server is used as given. Otherwise the
//! first call starts a throwaway server from the PostgreSQL binaries on the
//! machine (`initdb` and `postgres`, found on `PATH`, through
//! `pg_config --bindir`, or under `/usr/lib/postgresql/*/bin`), in a fresh
//! temporary directory, listening on a Unix socket only. `initdb` refuses to
//! run as root, so as root the server runs as the `postgres` system user.
//!
//! A watchdog process (a small `sh` script holding a pipe to this process)
//! stops the server and removes its directory as soon as this process exits,
//! however it exits, so nothing is left running or on disk.
//!
//! The throwaway server preloads `pg_stat_statements` when the library is
//! installed, so a test can `CREATE EXTENSION pg_stat_statements` and read
//! [`stats::statement_stats`](crate::stats::statement_stats).
//!
//! Each [`TestDatabase`] is a database of its own. Databases created from the
//! same setup SQL are cloned from a template that is built once per process,
//! so each test starts in milliseconds.
//!
//! ```no_run
//! # async fn demo() -> ordinance::Result<()> {
//! let db = ordinance::testing::TestDatabase::with_schema("CREATE TABLE t (x int)").await?;
//! let client = db.connect().await?;
//! client.execute("INSERT INTO t VALUES (1)", &[]).await?;
//! # Ok(()) }
//! ```

mod database;
mod explain;
pub(crate) mod fixture;
mod plan;
mod roles;
mod server;

pub use crate::fill::fill;
pub use database::TestDatabase;
pub use explain::{Explain, PLANNER_SETTINGS};
pub use fixture::{for_tenant, Fixture, ForTenant, Template, TestHandle};
#[doc(hidden)]
pub use plan::{Expect, Plan, PlanNode, Violation};
pub use server::{connect, ServerTls, TestServer};
