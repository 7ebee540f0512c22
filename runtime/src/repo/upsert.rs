//! Upsert by a declared unique key.

use uuid::Uuid;

use super::Repo;
use crate::entity::{Entity, NewEntity};
use crate::error::{Error, Result};
use crate::exec::{Access, Executor, Sql};
use crate::params::Params;
use crate::query::upsert_statements;

impl<X: Executor> Repo<'_, X> {
    /// Inserts the row, or — when a live row already holds the same `key` —
    /// updates that row instead, in one statement: its business columns
    /// take the new values, `updated_at = now()`, `version + 1`, and its id
    /// and `created_at` stay. Returns the row as stored: an inserted row
    /// has version 1, an updated one its bumped version. A soft-deleted row
    /// never conflicts (the key's index covers live rows), so the new row
    /// is inserted beside it. `key` is a variant of the generated
    /// `{Entity}Key` enum, one per unique index, so a key that is not one
    /// does not compile.
    ///
    /// ```no_run
    /// # use ordinance::prelude::*;
    /// # #[derive(Entity)] pub struct Tag { pub id: Uuid, #[column(max_len = 40, unique)] pub name: String, pub uses: i32, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
    /// # async fn demo(conn: &ordinance::exec::Connection) -> ordinance::Result<()> {
    /// use ordinance::repo::Repo;
    ///
    /// let repo = Repo::new(conn);
    /// let tag = repo.upsert(&NewTag { name: "rust".into(), uses: 1 }, TagKey::Name).await?;
    /// assert_eq!(tag.version, 1); // inserted
    /// let again = repo.upsert(&NewTag { name: "rust".into(), uses: 2 }, TagKey::Name).await?;
    /// assert_eq!((again.id, again.version, again.uses), (tag.id, 2, 2)); // updated
    /// # Ok(()) }
    /// ```
    pub async fn upsert<N: NewEntity>(
        &self,
        new: &N,
        key: <N::Entity as Entity>::Key,
    ) -> Result<N::Entity> {
        let id = N::Entity::SCHEMA.conventions.ids.new_id();
        self.upsert_with_id(id, new, key).await
    }

    /// [`upsert`](Self::upsert) whose insert uses the caller's id.
    pub async fn upsert_with_id<N: NewEntity>(
        &self,
        id: Uuid,
        new: &N,
        key: <N::Entity as Entity>::Key,
    ) -> Result<N::Entity> {
        let upsert = upsert_statements::<N::Entity>(key)?;
        self.insert_as(&upsert.sql, "upsert", id, new).await
    }

    /// [`upsert`](Self::upsert), updating the existing row only if it is
    /// still at `expected` version: a row at another version is
    /// [`Error::StaleVersion`] and nothing is written. With no live row
    /// holding the key, the row is inserted. For tables without `version`,
    /// [`Error::InvalidSetting`].
    pub async fn upsert_if_version<N: NewEntity>(
        &self,
        new: &N,
        key: <N::Entity as Entity>::Key,
        expected: i32,
    ) -> Result<N::Entity> {
        let schema = N::Entity::SCHEMA;
        let upsert = upsert_statements::<N::Entity>(key)?;
        let guarded = upsert.guarded.as_deref().ok_or(Error::InvalidSetting {
            setting: "upsert_if_version",
            reason: format!("\"{}\" has no version column to compare", schema.name),
        })?;
        new.check_values()?;
        let id = schema.conventions.ids.new_id();
        let mut params = Params::new();
        params.push(&id);
        new.bind_business(&mut params);
        params.push(&expected);
        let row = self
            .insert_row(
                schema,
                N::Entity::statements(),
                guarded,
                &upsert.guarded_types,
                "upsert",
                &params,
            )
            .await?;
        if let Some(row) = row {
            return N::Entity::from_row(&row);
        }
        // The key's row is at another version: which row, and which version.
        let mut probe = Params::new();
        for i in &upsert.probe_parameters {
            probe.push(params[*i]);
        }
        let found = self
            .traced(
                schema,
                "probe",
                &upsert.probe,
                std::pin::pin!(self.executor.query_opt(
                    Access::Write,
                    Sql::Fixed(&upsert.probe),
                    &probe,
                    &upsert.probe_types,
                )),
            )
            .await
            .map_err(|e| Error::from_db(e, schema))?;
        let Some(found) = found else {
            // The row went away between the two statements, or no tenant
            // is set (the insert's condition held the row back).
            let gone = Error::NotFound {
                table: schema.name,
                id,
            };
            return Err(crate::exec::unless_tenant_missing(self.executor, schema, gone).await);
        };
        Err(Error::StaleVersion {
            table: schema.name,
            id: crate::row::read(&found, 0, schema.name, "id")?,
            expected,
            actual: crate::row::read(&found, 1, schema.name, "version")?,
        })
    }
}
