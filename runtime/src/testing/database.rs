//! A database of its own for each test, cloned from a template built once
//! per process.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_postgres::Config;

use crate::error::Result;
use crate::exec::Connection;

use super::server::{connect, TestServer};

/// A database of its own for one test (or one example run).
///
/// On the throwaway server it disappears with the server. On a `DATABASE_URL`
/// server it is dropped when this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    config: Config,
    server: &'static TestServer,
    /// The application role, once made ([`TestDatabase::app_role`]).
    pub(super) app: tokio::sync::OnceCell<String>,
}

/// Templates already built in this process, by name.
static TEMPLATES: tokio::sync::Mutex<Option<HashSet<String>>> = tokio::sync::Mutex::const_new(None);

impl TestDatabase {
    /// A new, empty database.
    pub async fn create() -> Result<Self> {
        Self::create_from(None).await
    }

    /// A new database holding what `setup_sql` creates. On the throwaway
    /// server, the SQL runs once per process into a template database that
    /// every later call clones.
    pub async fn with_schema(setup_sql: &str) -> Result<Self> {
        let key = crate::fnv::Fnv64::of(setup_sql.as_bytes());
        Self::from_template(key, async |conn: &mut Connection| {
            Ok(conn.batch_execute(setup_sql).await?)
        })
        .await
    }

    /// A new database holding the tables of `schemas`, created by their DDL
    /// ([`SchemaDdl`](crate::ddl::SchemaDdl)): for a crate without a
    /// migrations folder.
    pub async fn with_entities(schemas: &[&'static crate::TableSchema]) -> Result<Self> {
        let ddl = crate::ddl::SchemaDdl::new(schemas)?;
        Self::with_schema(&ddl.up()).await
    }

    /// A new database built once per process by `build` (keyed by `key`)
    /// and cloned for every later call; on a server the kit does not own,
    /// built afresh each time, so nothing is left behind there.
    pub(crate) async fn from_template(
        key: u64,
        build: impl AsyncFnOnce(&mut Connection) -> Result<()>,
    ) -> Result<Self> {
        let server = TestServer::global()?;
        if !server.is_embedded() {
            let db = Self::create_from(None).await?;
            build(&mut db.connect().await?).await?;
            return Ok(db);
        }
        let template = format!("ordinance_tpl_{key:016x}");
        {
            let mut built = TEMPLATES.lock().await;
            let built = built.get_or_insert_with(HashSet::new);
            if !built.contains(&template) {
                let admin = server.admin().await?;
                admin
                    .batch_execute(&format!("CREATE DATABASE \"{template}\""))
                    .await?;
                let mut conn = connect(&server.config_for(&template)).await?;
                build(&mut conn).await?;
                drop(conn);
                built.insert(template.clone());
            }
        }
        Self::create_from(Some(&template)).await
    }

    async fn create_from(template: Option<&str>) -> Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let server = TestServer::global()?;
        let name = format!(
            "ordinance_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = server.admin().await?;
        let sql = match template {
            Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\" STRATEGY FILE_COPY"),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        admin.batch_execute(&sql).await?;
        Ok(TestDatabase {
            config: server.config_for(&name),
            name,
            server,
            app: tokio::sync::OnceCell::new(),
        })
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connection settings for this database.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Opens a new connection to this database, driven on the current runtime.
    pub async fn connect(&self) -> Result<Connection> {
        connect(&self.config).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.server.is_embedded() {
            return;
        }
        // A server we do not own keeps nothing of ours. Drop runs outside any
        // async context guarantee, so use a private runtime on a thread.
        let server = self.server;
        let mut statements = vec![format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        )];
        // Roles belong to the server, not the database: the application
        // role goes too, once the database (and its grants) is gone.
        if let Some(role) = self.app.get() {
            statements.push(format!("DROP ROLE IF EXISTS \"{role}\""));
        }
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = server.admin().await.ok()?;
                for sql in &statements {
                    admin.batch_execute(sql).await.ok()?;
                }
                Some(())
            })
        })
        .join();
    }
}
