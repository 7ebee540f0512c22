//! What `#[ordinance::test]` expands to: a database of the test's own,
//! the handle the test asked for, and its fixtures inserted before the body
//! runs.

use std::future::Future;
use std::path::Path;

use super::TestDatabase;
use crate::entity::{Entity as _, NewEntity};
use crate::error::Result;
use crate::exec::Connection;
use crate::pool::{Pool, PoolOptions};
use crate::repo::Repo;

/// A value a test inserts before its body runs: a `New…` value of an
/// entity (the test receives the row as stored) or a `Vec` of them
/// (inserted in one batch, returned in order).
///
/// ```no_run
/// # use ordinance::prelude::*;
/// # #[derive(Entity, Debug)] pub struct Tag { pub id: Uuid, #[column(max_len = 40)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// use ordinance::exec::Connection;
///
/// fn rust() -> NewTag {
///     NewTag { name: "rust".into() }
/// }
///
/// #[ordinance::test(entities)]
/// async fn a_tag_is_there(conn: Connection, #[fixture(rust())] tag: Tag) {
///     assert_eq!(tag.version, 1);
/// }
/// ```
pub trait Fixture: Send + Sync {
    /// What the test receives: the row(s) as stored.
    type Stored;

    /// Inserts the value through `conn`.
    fn insert(&self, conn: &mut Connection) -> impl Future<Output = Result<Self::Stored>> + Send;
}

impl<N> Fixture for N
where
    N: NewEntity + Send + Sync,
    N::Entity: Send,
{
    type Stored = N::Entity;

    async fn insert(&self, conn: &mut Connection) -> Result<N::Entity> {
        needs_no_tenant(N::Entity::SCHEMA)?;
        Repo::new(&*conn).insert(self).await
    }
}

impl<N> Fixture for Vec<N>
where
    N: NewEntity + Send + Sync,
    N::Entity: Send,
{
    type Stored = Vec<N::Entity>;

    async fn insert(&self, conn: &mut Connection) -> Result<Vec<N::Entity>> {
        needs_no_tenant(N::Entity::SCHEMA)?;
        crate::batch::insert_many(conn, self).await
    }
}

/// A fixture of a tenant table says whose it is: [`for_tenant`].
fn needs_no_tenant(schema: &'static crate::TableSchema) -> Result<()> {
    if schema.tenant {
        return Err(crate::Error::InvalidSetting {
            setting: "fixture",
            reason: format!(
                "\"{}\" is a tenant table: say whose the row is, \
                 #[fixture(ordinance::testing::for_tenant(tenant_id, ...))]",
                schema.name
            ),
        });
    }
    Ok(())
}

/// A fixture of a tenant table, inserted for `tenant` (and the rows of a
/// `Vec` all for it): what `#[fixture(...)]` takes for a tenant entity.
///
/// ```no_run
/// # use ordinance::prelude::*;
/// # #[derive(Entity, Debug)] #[entity(tenant)] pub struct Note { pub id: Uuid, pub tenant_id: Uuid, #[column(max_len = 40)] pub title: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// use ordinance::exec::Connection;
/// use ordinance::testing::for_tenant;
///
/// const ACME: Uuid = Uuid::from_u128(1);
///
/// #[ordinance::test(entities)]
/// async fn acme_sees_its_note(
///     conn: Connection,
///     #[fixture(for_tenant(ACME, NewNote { title: "plan".into() }))] note: Note,
/// ) {
///     assert_eq!(note.tenant_id, ACME);
/// }
/// ```
pub fn for_tenant<F>(tenant: uuid::Uuid, fixture: F) -> ForTenant<F> {
    ForTenant { tenant, fixture }
}

/// A fixture inserted for a tenant: see [`for_tenant`].
#[derive(Debug, Clone)]
pub struct ForTenant<F> {
    tenant: uuid::Uuid,
    fixture: F,
}

impl<N> Fixture for ForTenant<N>
where
    N: NewEntity + Send + Sync,
    N::Entity: Send,
{
    type Stored = N::Entity;

    async fn insert(&self, conn: &mut Connection) -> Result<N::Entity> {
        let tenant = self.tenant;
        crate::exec::transaction(conn, async |tx| {
            crate::exec::set_scope(&*tx, crate::exec::Scope::tenant(tenant)).await?;
            Repo::new(&*tx).insert(&self.fixture).await
        })
        .await
    }
}

impl<N> Fixture for ForTenant<Vec<N>>
where
    N: NewEntity + Send + Sync,
    N::Entity: Send,
{
    type Stored = Vec<N::Entity>;

    async fn insert(&self, conn: &mut Connection) -> Result<Vec<N::Entity>> {
        let tenant = self.tenant;
        crate::exec::transaction(conn, async |tx| {
            crate::exec::set_scope(&*tx, crate::exec::Scope::tenant(tenant)).await?;
            crate::batch::insert_many(tx, &self.fixture).await
        })
        .await
    }
}

/// What a test function's first argument can be: a handle to its database.
pub trait TestHandle: Sized {
    /// Opens the handle on `db`.
    fn open(db: &TestDatabase) -> impl Future<Output = Result<Self>> + Send;
}

/// A connection as the application's role
/// ([`TestDatabase::connect_as_app`]): row-level security applies, and
/// only the generated grants. Take `&TestDatabase` instead for the owner
/// (`db.connect()`), to set things up the application cannot.
impl TestHandle for Connection {
    async fn open(db: &TestDatabase) -> Result<Self> {
        db.connect_as_app().await
    }
}

impl TestHandle for Pool {
    /// A pool of up to 4 connections, as the application's role.
    async fn open(db: &TestDatabase) -> Result<Self> {
        let options = PoolOptions {
            max_size: 4,
            ..PoolOptions::default()
        };
        Pool::connect(db.app_config().await?, options).await
    }
}

impl TestHandle for tokio_postgres::Config {
    /// Connection settings as the application's role.
    async fn open(db: &TestDatabase) -> Result<Self> {
        db.app_config().await
    }
}

/// Where a test's database gets its tables.
#[derive(Debug, Clone, Copy)]
pub enum Template {
    /// The migrations in this folder (relative to the crate's manifest).
    Migrations(&'static str),
    /// Every entity linked into the test binary
    /// ([`registered_schemas`](crate::registered_schemas)), by their DDL.
    Entities,
    /// `migrations/` when the crate has that folder, else the entities.
    Auto,
}

impl Template {
    /// A new database from this template, for the crate at `manifest_dir`.
    pub async fn database(self, manifest_dir: &str) -> Result<TestDatabase> {
        let folder = match self {
            Template::Migrations(folder) => Some(folder),
            Template::Entities => None,
            Template::Auto => {
                Some("migrations").filter(|folder| Path::new(manifest_dir).join(folder).is_dir())
            }
        };
        match folder {
            Some(folder) => TestDatabase::migrated(Path::new(manifest_dir).join(folder)).await,
            None => TestDatabase::with_entities(&crate::registered_schemas()).await,
        }
    }
}

/// Runs one `#[ordinance::test]`: a runtime, the test's database, then
/// `test` (which opens the handle, inserts the fixtures and runs the body).
/// Setup failures panic with what went wrong: they fail the test.
#[doc(hidden)]
pub fn run<T>(
    template: Template,
    manifest_dir: &str,
    test: impl AsyncFnOnce(&TestDatabase) -> T,
) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("ordinance::test: cannot start a runtime: {e}"));
    runtime.block_on(async {
        let db = template
            .database(manifest_dir)
            .await
            .unwrap_or_else(|e| panic!("ordinance::test: cannot create the test database: {e}"));
        test(&db).await
    })
}

/// Opens the test's handle; a failure fails the test.
#[doc(hidden)]
pub async fn open<H: TestHandle>(db: &TestDatabase) -> H {
    H::open(db)
        .await
        .unwrap_or_else(|e| panic!("ordinance::test: cannot open the test's handle: {e}"))
}

/// A connection for inserting fixtures.
#[doc(hidden)]
pub async fn seeder(db: &TestDatabase) -> Connection {
    db.connect()
        .await
        .unwrap_or_else(|e| panic!("ordinance::test: cannot connect to insert fixtures: {e}"))
}

/// Inserts one fixture; a failure fails the test, naming the argument.
#[doc(hidden)]
pub async fn seed<F: Fixture>(conn: &mut Connection, name: &str, fixture: F) -> F::Stored {
    fixture
        .insert(conn)
        .await
        .unwrap_or_else(|e| panic!("ordinance::test: fixture `{name}` could not be inserted: {e}"))
}
