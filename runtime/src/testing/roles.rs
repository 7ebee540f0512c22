//! The application's role on a test database: tests run as the application
//! does, with row-level security applying to them.
//!
//! A superuser, or a table's owner when row-level security is not forced,
//! sees every tenant's rows: a suite run as either passes where the
//! application fails. So a test database has a login role of its own,
//! `{database}_app`, made as the README makes the application's role (no
//! superuser, no `BYPASSRLS`, owning nothing) and given exactly the kit's
//! generated grants ([`ddl::grants`](crate::ddl::grants)) on the entities
//! whose tables the database holds.

use tokio_postgres::Config;

use super::TestDatabase;
use crate::ddl::{grants, quote_ident, Roles};
use crate::error::{Error, Result};
use crate::exec::Connection;

impl TestDatabase {
    /// The application role's name, making the role the first time it is
    /// asked for: a login role that is no superuser, cannot bypass
    /// row-level security and owns nothing, holding the kit's generated
    /// grants on every entity linked into the program
    /// ([`registered_schemas`](crate::registered_schemas)) whose table the
    /// database has.
    pub async fn app_role(&self) -> Result<&str> {
        self.app
            .get_or_try_init(|| async {
                let role = format!("{}_app", self.name());
                let owner = self.connect().await?;
                owner
                    .batch_execute(&format!(
                        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS",
                        quote_ident(&role)
                    ))
                    .await?;
                let mut present = Vec::new();
                for schema in crate::registered_schemas() {
                    let row = owner
                        .query_one(
                            "SELECT to_regclass($1) IS NOT NULL",
                            &[&crate::ddl::table_ident(schema)],
                        )
                        .await?;
                    if crate::row::read::<bool>(&row, 0, schema.name, "to_regclass")? {
                        present.push(schema);
                    }
                }
                let roles = Roles {
                    app: &role,
                    read_only: None,
                };
                for grant in grants(&present, &roles) {
                    owner.batch_execute(&grant).await?;
                }
                Ok::<_, Error>(role)
            })
            .await
            .map(String::as_str)
    }

    /// Connection settings for this database as its application role
    /// ([`app_role`](Self::app_role)).
    pub async fn app_config(&self) -> Result<Config> {
        let role = self.app_role().await?;
        let mut config = self.config().clone();
        config.user(role);
        Ok(config)
    }

    /// A connection to this database as its application role: what
    /// `#[ordinance::test]` hands a test.
    pub async fn connect_as_app(&self) -> Result<Connection> {
        super::connect(&self.app_config().await?).await
    }
}
