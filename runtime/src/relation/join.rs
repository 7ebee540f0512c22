//! Joins that keep the conventions: a related entity joined into a scoped
//! select through a relation, with the joined side's scope in the `ON`
//! clause (so a `LEFT JOIN` keeps parents whose children are all
//! soft-deleted), decoded into tuples of entities.
//!
//! ```
//! # use ordinance::prelude::*;
//! # #[derive(Entity, Debug)] pub struct User { pub id: Uuid, #[column(max_len = 20)] pub hair_color: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! # #[derive(Entity, Debug)] pub struct Post { pub id: Uuid, #[column(references = User)] pub author_id: Uuid, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! use ordinance::deps::sea_query::{Expr, ExprTrait, PostgresQueryBuilder};
//! use ordinance::relation::left_join_children;
//!
//! let mut q = left_join_children(Post::AUTHOR);  // JoinSelect<User, Option<Post>>
//! q.and_where(Expr::col(UserColumn::HairColor).eq("black"));
//! let (sql, _) = q.build(PostgresQueryBuilder);
//! assert!(sql.contains(r#"LEFT JOIN "posts" ON "posts"."author_id" = "users"."id" AND "posts"."deleted_at" IS NULL"#));
//! assert!(sql.contains(r#"WHERE "users"."deleted_at" IS NULL AND "hair_color" = $1"#));
//! // repo.list_joined(&q).await? is a Vec<(User, Option<Post>)>
//! ```

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use sea_query::{Alias, Expr, ExprTrait, JoinType, SelectStatement};
use tokio_postgres::Row;
use uuid::Uuid;

use super::Relation;
use crate::entity::Entity;
use crate::error::Result;
use crate::exec::Executor;
use crate::query::Scope;
use crate::repo::Repo;

/// The alias of the joined table when an entity is joined to itself (a
/// self-reference such as `Comment::PARENT`): conditions on the joined side
/// name it as `Expr::col((Alias::new(JOINED), CommentColumn::Body))`.
pub const JOINED: &str = "joined";

/// A select of `L` with a related entity joined: `R` is the joined entity
/// (an inner join) or `Option` of it (a left join). Add conditions, order
/// and limits through `Deref` to the `SelectStatement`; run it with
/// [`Repo::list_joined`].
pub struct JoinSelect<L, R> {
    select: SelectStatement,
    marker: PhantomData<fn() -> (L, R)>,
}

impl<L, R> Clone for JoinSelect<L, R> {
    fn clone(&self) -> Self {
        JoinSelect {
            select: self.select.clone(),
            marker: PhantomData,
        }
    }
}

impl<L, R> std::fmt::Debug for JoinSelect<L, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinSelect")
            .field("left", &std::any::type_name::<L>())
            .field("right", &std::any::type_name::<R>())
            .finish()
    }
}

impl<L, R> Deref for JoinSelect<L, R> {
    type Target = SelectStatement;
    fn deref(&self) -> &SelectStatement {
        &self.select
    }
}

impl<L, R> DerefMut for JoinSelect<L, R> {
    fn deref_mut(&mut self) -> &mut SelectStatement {
        &mut self.select
    }
}

/// One side of a joined row: an entity, or `Option` of one (NULL when a
/// left join found no match).
pub trait Joined: Sized {
    /// The entity's schema.
    fn schema() -> &'static crate::TableSchema;
    /// Decodes this side from the row's columns starting at `offset`.
    fn decode_at(row: &Row, offset: usize) -> Result<Self>;
}

impl<E: Entity> Joined for E {
    fn schema() -> &'static crate::TableSchema {
        E::SCHEMA
    }
    fn decode_at(row: &Row, offset: usize) -> Result<Self> {
        E::from_row_at(row, offset)
    }
}

impl<E: Entity> Joined for Option<E> {
    fn schema() -> &'static crate::TableSchema {
        E::SCHEMA
    }
    fn decode_at(row: &Row, offset: usize) -> Result<Self> {
        let id_at = E::SCHEMA
            .columns
            .iter()
            .position(|c| c.name == "id")
            .unwrap_or(0);
        let id: Option<Uuid> = crate::row::read(row, offset + id_at, E::SCHEMA.name, "id")?;
        match id {
            None => Ok(None),
            Some(_) => E::from_row_at(row, offset).map(Some),
        }
    }
}

/// `select` (of the `from` entity, scoped) with `joined` joined on
/// `on_left = on_right`, the joined side restricted to `scope` in the `ON`
/// clause, and its columns selected after the first entity's.
fn join<L, R>(
    from: &'static crate::TableSchema,
    joined: &'static crate::TableSchema,
    kind: JoinType,
    on: (&'static str, &'static str),
    scope: Scope,
) -> JoinSelect<L, R> {
    let mut select = crate::query::select_schema(from, Scope::Live);
    let alias = if from.name == joined.name {
        JOINED
    } else {
        joined.name
    };
    let table = || Alias::new(alias);
    select.columns(joined.columns.iter().map(|c| (table(), Alias::new(c.name))));
    let (left_column, right_column) = on;
    let mut condition = Expr::col((table(), Alias::new(right_column)))
        .equals((Alias::new(from.name), Alias::new(left_column)));
    if joined.soft_deletes() {
        let deleted_at = Expr::col((table(), Alias::new("deleted_at")));
        match scope {
            Scope::Live => condition = condition.and(deleted_at.is_null()),
            Scope::OnlyDeleted => condition = condition.and(deleted_at.is_not_null()),
            Scope::WithDeleted => {}
        }
    } else if scope == Scope::OnlyDeleted {
        condition = condition.and(Expr::val(false));
    }
    if alias == joined.name {
        select.join(kind, Alias::new(joined.name), condition);
    } else {
        select.join_as(kind, Alias::new(joined.name), table(), condition);
    }
    JoinSelect {
        select,
        marker: PhantomData,
    }
}

/// Live parents with their children through `via`, inner join: a parent
/// with no live child is left out. Rows decode as `(P, C)`.
pub fn join_children<C: Entity, P: Entity, K>(via: Relation<C, P, K>) -> JoinSelect<P, C> {
    join(
        P::SCHEMA,
        C::SCHEMA,
        JoinType::InnerJoin,
        ("id", via.column),
        via.scope,
    )
}

/// Live parents with their children through `via`, left join: a parent
/// with no child in scope comes once, with `None`. Rows decode as
/// `(P, Option<C>)`.
pub fn left_join_children<C: Entity, P: Entity, K>(
    via: Relation<C, P, K>,
) -> JoinSelect<P, Option<C>> {
    join(
        P::SCHEMA,
        C::SCHEMA,
        JoinType::LeftJoin,
        ("id", via.column),
        via.scope,
    )
}

/// Live children with their parent through `via`, inner join: a child
/// whose parent is out of scope is left out. Rows decode as `(C, P)`.
pub fn join_parent<C: Entity, P: Entity, K>(via: Relation<C, P, K>) -> JoinSelect<C, P> {
    join(
        C::SCHEMA,
        P::SCHEMA,
        JoinType::InnerJoin,
        (via.column, "id"),
        via.scope,
    )
}

/// Live children with their parent through `via`, left join. Rows decode
/// as `(C, Option<P>)`.
pub fn left_join_parent<C: Entity, P: Entity, K>(
    via: Relation<C, P, K>,
) -> JoinSelect<C, Option<P>> {
    join(
        C::SCHEMA,
        P::SCHEMA,
        JoinType::LeftJoin,
        (via.column, "id"),
        via.scope,
    )
}

impl<X: Executor> Repo<'_, X> {
    /// Runs a join built with [`join_children`], [`left_join_children`],
    /// [`join_parent`] or [`left_join_parent`] (after the caller's
    /// conditions) and decodes each row into a pair of entities.
    pub async fn list_joined<L, R>(&self, select: &JoinSelect<L, R>) -> Result<Vec<(L, R)>>
    where
        L: Entity,
        R: Joined,
    {
        let rows = self.rows_of::<L>(&select.select, "list_joined").await?;
        let offset = L::SCHEMA.columns.len();
        rows.iter()
            .map(|row| Ok((L::from_row_at(row, 0)?, R::decode_at(row, offset)?)))
            .collect()
    }
}
