//! Test databases with an application's migrations applied: the part of
//! [`TestDatabase`] that knows migrations, kept here so that the test
//! harness does not import the runner (the drift check above it uses both).

use std::path::Path;

use super::Migrations;
use crate::error::Result;
use crate::exec::Connection;
use crate::testing::TestDatabase;

impl TestDatabase {
    /// A new database with every migration in `dir` applied, the contract
    /// phase included, and recorded as applied (so the application's own
    /// runner finds nothing pending). On the throwaway server the folder is
    /// applied once per process, into a template every later call clones.
    pub async fn migrated(dir: impl AsRef<Path>) -> Result<Self> {
        Self::migrated_from(&Migrations::load(dir)?).await
    }

    /// [`TestDatabase::migrated`] for migrations already loaded (or built
    /// in with `embed_migrations!`).
    pub async fn migrated_from(migrations: &Migrations) -> Result<Self> {
        let mut key = String::new();
        for m in migrations.list() {
            key.push_str(&format!("{}_{}\n{}\n", m.version, m.name, m.up));
        }
        Self::from_template(
            crate::fnv::Fnv64::of(key.as_bytes()),
            async |conn: &mut Connection| migrations.contract(conn).await.map(drop),
        )
        .await
    }
}
