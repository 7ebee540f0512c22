//! Bulk update, soft delete and restore.

use sea_query::{Alias, Condition, Expr, UpdateStatement};

use super::{Bulk, Progress};
use crate::entity::{Entity, Patch};
use crate::error::{Error, Result};
use crate::exec::Executor;
use crate::query::{caller_sets, patch_sets, table_ref, touch, Visibility};

impl<E: Entity> Bulk<E> {
    /// Sets `sets` on every live row matching the filter, chunk by chunk,
    /// with `updated_at = now()` and `version + 1`. Each set takes a value
    /// as written (`[(PostColumn::Status, PostStatus::Archived)]`) or an
    /// expression (`Expr::col(..).add(1)`; mix them as `Expr`s). The kit's
    /// own columns cannot be set ([`Error::InvalidSetting`]). For typed
    /// values checked before sending, [`patch`](Self::patch).
    pub async fn update<X: Executor, V: Into<Expr>>(
        self,
        executor: &X,
        sets: impl IntoIterator<Item = (E::Column, V)>,
    ) -> Result<Progress> {
        let sets = caller_sets(
            E::SCHEMA,
            sets.into_iter().map(|(c, v)| (c, v.into())).collect(),
        )?;
        if sets.is_empty() {
            return Err(Error::InvalidSetting {
                setting: "bulk update",
                reason: "nothing to set".into(),
            });
        }
        self.walk(
            executor,
            "bulk_update",
            Visibility::Live,
            Condition::all(),
            |range| Ok(change::<E>(sets.clone(), range)),
        )
        .await
    }

    /// Writes the columns `patch` sets on every live row matching the
    /// filter, chunk by chunk, with `updated_at = now()` and `version + 1`:
    /// [`update`](Self::update) with the entity's typed partial update, its
    /// values checked first ([`Error::Invalid`], every column at once). No
    /// version is compared: each row is changed as it is. A patch that
    /// sets nothing is [`Error::InvalidSetting`].
    pub async fn patch<X: Executor, P: Patch<Entity = E>>(
        self,
        executor: &X,
        patch: &P,
    ) -> Result<Progress> {
        patch.check_values()?;
        let sets = patch_sets(patch)?;
        if sets.is_empty() {
            return Err(Error::InvalidSetting {
                setting: "bulk patch",
                reason: "the patch sets no column".into(),
            });
        }
        self.walk(
            executor,
            "bulk_patch",
            Visibility::Live,
            Condition::all(),
            |range| Ok(change::<E>(sets.clone(), range)),
        )
        .await
    }

    /// Soft-deletes every live row matching the filter (`deleted_at =
    /// now()`), chunk by chunk.
    pub async fn soft_delete<X: Executor>(self, executor: &X) -> Result<Progress> {
        self.mark(executor, "bulk_soft_delete", Visibility::Live, true)
            .await
    }

    /// Restores every soft-deleted row matching the filter, chunk by chunk.
    pub async fn restore<X: Executor>(self, executor: &X) -> Result<Progress> {
        self.mark(executor, "bulk_restore", Visibility::OnlyDeleted, false)
            .await
    }

    async fn mark<X: Executor>(
        self,
        executor: &X,
        operation: &'static str,
        scope: Visibility,
        delete: bool,
    ) -> Result<Progress> {
        if !E::SCHEMA.soft_deletes() {
            return Err(Error::NoSoftDelete {
                table: E::SCHEMA.name,
            });
        }
        let sets = crate::query::deletion_sets(E::SCHEMA, delete);
        self.walk(executor, operation, scope, Condition::all(), |range| {
            Ok(change::<E>(sets.clone(), range))
        })
        .await
    }
}

/// `UPDATE ... SET sets, updated_at, version WHERE range RETURNING id`.
fn change<E: Entity>(sets: Vec<(Alias, Expr)>, range: Condition) -> UpdateStatement {
    let schema = E::SCHEMA;
    let mut q = sea_query::Query::update();
    q.table(table_ref(schema)).values(sets);
    touch(schema, &mut q);
    q.cond_where(range)
        .returning(sea_query::Query::returning().column(Alias::new("id")));
    q
}
