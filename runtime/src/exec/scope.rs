//! Who a transaction works for: its tenant and its actor, set as
//! transaction-local settings so they end with the transaction (and so are
//! safe behind PgBouncer's transaction pooling).

use tokio_postgres::types::Type;
use uuid::Uuid;

use super::{Access, Executor, Sql};
use crate::error::{Error, Failure, Result};

/// The tenant and the actor of a transaction. Row-level security on tenant
/// tables shows and accepts only the tenant's rows (none when no tenant is
/// set); `created_by` / `updated_by` record the actor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The tenant whose rows the transaction sees and writes.
    pub tenant: Option<Uuid>,
    /// Who makes the changes.
    pub actor: Option<Uuid>,
}

impl Scope {
    /// A scope for `tenant`.
    pub fn tenant(tenant: Uuid) -> Self {
        Scope {
            tenant: Some(tenant),
            actor: None,
        }
    }

    /// The same scope with `actor` as the one making changes.
    pub fn with_actor(self, actor: Uuid) -> Self {
        Scope {
            actor: Some(actor),
            ..self
        }
    }

    /// Whether anything is set.
    pub fn is_empty(&self) -> bool {
        self.tenant.is_none() && self.actor.is_none()
    }

    /// The settings' values, as `set_config` takes them (empty: not set).
    pub(crate) fn values(&self) -> [String; 2] {
        let text = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
        [text(self.tenant), text(self.actor)]
    }
}

/// Sets both settings for the rest of the transaction; an unset one is
/// emptied, so nothing of an earlier scope survives.
/// (Literal, for a `'static` text of fixed identity; a test checks the
/// names against the constants.)
pub(crate) static SET_SCOPE: &str =
    "SELECT set_config('app.tenant_id', $1, true), set_config('app.actor_id', $2, true)";

/// Whether the transaction has a tenant ([`crate::schema::tenant_is_set`]):
/// asked only after a write to a tenant table matched nothing, to tell
/// "no tenant" from "no such row".
pub(crate) static TENANT_IS_SET: &str =
    "SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid IS NOT NULL";

/// Whether a write to `schema`'s table that matched nothing did so because
/// no tenant is set: then [`Error::TenantNotSet`], else `otherwise`.
/// Tables that are not tenant tables get `otherwise` without a question.
pub(crate) async fn unless_tenant_missing(
    executor: &impl Executor,
    schema: &'static crate::schema::TableSchema,
    otherwise: Error,
) -> Error {
    if !schema.tenant {
        return otherwise;
    }
    let set = executor
        .query_opt(Access::Write, Sql::Fixed(TENANT_IS_SET), &[], &[])
        .await
        .map_err(|e| Error::from_db(e, schema))
        .and_then(|row| match row {
            Some(row) => crate::row::read::<bool>(&row, 0, schema.name, "tenant"),
            None => Ok(true),
        });
    match set {
        Ok(false) => Error::TenantNotSet { table: schema.name },
        Ok(true) => otherwise,
        Err(e) => e,
    }
}

/// The parameter types of [`SET_SCOPE`].
pub(crate) const SET_SCOPE_TYPES: &[Type] = &[Type::TEXT, Type::TEXT];

/// Scopes the open transaction `executor` runs in to `scope`, until it
/// ends. Use it in transactions of your own; a
/// [`Cluster`](crate::cluster::Cluster) does it for each of its
/// transactions and statements. Outside a transaction the settings would
/// end with this very statement, so that is [`Error::NotInTransaction`].
pub async fn set_scope(executor: &impl Executor, scope: Scope) -> Result<()> {
    if !executor.in_transaction() {
        return Err(Error::NotInTransaction {
            table: "(scope)",
            operation: "set_scope",
        });
    }
    let [tenant, actor] = scope.values();
    executor
        .query(
            Access::Write,
            Sql::Fixed(SET_SCOPE),
            &[&tenant, &actor],
            SET_SCOPE_TYPES,
        )
        .await
        .map_err(|e: Failure| Error::from(e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ACTOR_SETTING, TENANT_SETTING};

    #[test]
    fn the_statement_names_the_settings() {
        assert!(SET_SCOPE.contains(&format!("'{TENANT_SETTING}', $1")));
        assert!(SET_SCOPE.contains(&format!("'{ACTOR_SETTING}', $2")));
        assert_eq!(
            TENANT_IS_SET,
            format!("SELECT {}", crate::schema::tenant_is_set())
        );
    }
}
