//! Joins that keep the conventions: a related entity joined into a scoped
//! select through a relation, with the joined side's scope in the `ON`
//! clause (so a `LEFT JOIN` keeps parents whose children are all
//! soft-deleted), decoded into tuples of entities.
//!
//! The fixed part of a join — both entities' columns, `FROM`, `JOIN ... ON`
//! and the scopes — is SQL text rendered once per relation; only the
//! caller's conditions, order and limit are rendered per call (with
//! sea-query, values bound).
//!
//! ```
//! # use ordinance::prelude::*;
//! # #[derive(Entity, Debug)] pub struct User { pub id: Uuid, #[column(max_len = 20)] pub hair_color: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! # #[derive(Entity, Debug)] pub struct Post { pub id: Uuid, #[column(references = User)] pub author_id: Uuid, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! use ordinance::deps::sea_query::{Expr, ExprTrait, Order};
//! use ordinance::relation::left_join_children;
//!
//! let q = left_join_children(Post::AUTHOR)            // JoinSelect<User, Option<Post>>
//!     .filter(Expr::col(UserColumn::HairColor).eq("black"))
//!     .order_by(Expr::col((User::TABLE, UserColumn::Id)), Order::Asc);
//! let (sql, values) = q.build()?;
//! assert_eq!(
//!     sql,
//!     r#"SELECT "users"."id", "users"."hair_color", "users"."created_at", "users"."updated_at", "users"."deleted_at", "users"."version", "posts"."id", "posts"."author_id", "posts"."created_at", "posts"."updated_at", "posts"."deleted_at", "posts"."version" FROM "users" LEFT JOIN "posts" ON "posts"."author_id" = "users"."id" AND "posts"."deleted_at" IS NULL WHERE "users"."deleted_at" IS NULL AND "hair_color" = $1 ORDER BY "users"."id" ASC"#
//! );
//! assert_eq!(values.0.len(), 1);
//! // repo.list_joined(&q).await? is a Vec<(User, Option<Post>)>
//! # Ok::<(), ordinance::Error>(())
//! ```

use std::marker::PhantomData;

use sea_query::{Condition, Expr, IntoCondition, Order, PostgresQueryBuilder, QueryBuilder as _};
use tokio_postgres::Row;
use uuid::Uuid;

use super::sql::{self, JoinKind};
use super::Relation;
use crate::entity::Entity;
use crate::error::Result;
use crate::exec::{Access, Executor};
use crate::repo::Repo;

/// The alias of the joined table when both sides have one table name: an
/// entity joined to itself (a self-reference such as `Comment::PARENT`), or
/// namesakes in two PostgreSQL schemas (`auth.users` and `users`).
/// Conditions on the joined side name it as
/// `Expr::col((JOINED, CommentColumn::Body))`.
pub const JOINED: &str = "joined";

/// A select of `L` with a related entity joined: `R` is the joined entity
/// (an inner join) or `Option` of it (a left join). Narrow it with
/// [`filter`](Self::filter), sort it with [`order_by`](Self::order_by),
/// cap it with [`limit`](Self::limit), and run it with
/// [`Repo::list_joined`]. Columns of either side are named through their
/// column enums; qualify them with the table (`(User::TABLE,
/// UserColumn::Id)`) where both sides have the column.
pub struct JoinSelect<L, R> {
    fixed: &'static str,
    filter: Option<Condition>,
    order: Vec<(Expr, Order)>,
    limit: Option<u64>,
    marker: PhantomData<fn() -> (L, R)>,
}

impl<L, R> Clone for JoinSelect<L, R> {
    fn clone(&self) -> Self {
        JoinSelect {
            fixed: self.fixed,
            filter: self.filter.clone(),
            order: self.order.clone(),
            limit: self.limit,
            marker: PhantomData,
        }
    }
}

impl<L, R> std::fmt::Debug for JoinSelect<L, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinSelect")
            .field("left", &std::any::type_name::<L>())
            .field("right", &std::any::type_name::<R>())
            .field("filtered", &self.filter.is_some())
            .field("ordered", &!self.order.is_empty())
            .field("limit", &self.limit)
            .finish()
    }
}

impl<L, R> JoinSelect<L, R> {
    fn new(fixed: &'static str) -> Self {
        JoinSelect {
            fixed,
            filter: None,
            order: Vec::new(),
            limit: None,
            marker: PhantomData,
        }
    }

    /// Only rows matching `condition` (ANDed with any earlier one and with
    /// the scopes).
    pub fn filter(mut self, condition: impl IntoCondition) -> Self {
        let condition = condition.into_condition();
        self.filter = Some(match self.filter.take() {
            Some(earlier) => earlier.add(condition),
            None => Condition::all().add(condition),
        });
        self
    }

    /// Sorts by `expr` (after any earlier order).
    pub fn order_by(mut self, expr: impl Into<Expr>, order: Order) -> Self {
        self.order.push((expr.into(), order));
        self
    }

    /// At most `rows` rows (bound as a parameter).
    pub fn limit(mut self, rows: u64) -> Self {
        self.limit = Some(rows);
        self
    }

    /// The statement's text and the values it binds.
    pub fn build(&self) -> Result<(String, sea_query::Values)> {
        use std::fmt::Write as _;
        let mut sql = sea_query::SqlWriterValues::new("$", true);
        let unwritable = |_| crate::Error::UnsupportedValue("a join condition".into());
        sql.write_str(self.fixed).map_err(unwritable)?;
        if let Some(filter) = &self.filter {
            sql.write_str(" AND ").map_err(unwritable)?;
            PostgresQueryBuilder.prepare_expr(&Expr::from(filter.clone()), &mut sql);
        }
        for (i, (expr, order)) in self.order.iter().enumerate() {
            sql.write_str(if i == 0 { " ORDER BY " } else { ", " })
                .map_err(unwritable)?;
            PostgresQueryBuilder.prepare_expr(expr, &mut sql);
            sql.write_str(match order {
                Order::Desc => " DESC",
                _ => " ASC",
            })
            .map_err(unwritable)?;
        }
        if let Some(limit) = self.limit {
            sql.write_str(" LIMIT ").map_err(unwritable)?;
            PostgresQueryBuilder.prepare_expr(&Expr::val(limit), &mut sql);
        }
        Ok(sql.into_parts())
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

/// Live parents with their children through `via`, inner join: a parent
/// with no child in scope is left out. Rows decode as `(P, C)`.
pub fn join_children<C: Entity, P: Entity, K>(via: Relation<C, P, K>) -> JoinSelect<P, C> {
    let kind = JoinKind::Children { left: false };
    JoinSelect::new(sql::join(P::SCHEMA, C::SCHEMA, via.column, kind, via.scope))
}

/// Live parents with their children through `via`, left join: a parent
/// with no child in scope comes once, with `None`. Rows decode as
/// `(P, Option<C>)`.
pub fn left_join_children<C: Entity, P: Entity, K>(
    via: Relation<C, P, K>,
) -> JoinSelect<P, Option<C>> {
    let kind = JoinKind::Children { left: true };
    JoinSelect::new(sql::join(P::SCHEMA, C::SCHEMA, via.column, kind, via.scope))
}

/// Live children with their parent through `via`, inner join: a child
/// whose parent is out of scope is left out. Rows decode as `(C, P)`.
pub fn join_parent<C: Entity, P: Entity, K>(via: Relation<C, P, K>) -> JoinSelect<C, P> {
    let kind = JoinKind::Parent { left: false };
    JoinSelect::new(sql::join(C::SCHEMA, P::SCHEMA, via.column, kind, via.scope))
}

/// Live children with their parent through `via`, left join. Rows decode
/// as `(C, Option<P>)`.
pub fn left_join_parent<C: Entity, P: Entity, K>(
    via: Relation<C, P, K>,
) -> JoinSelect<C, Option<P>> {
    let kind = JoinKind::Parent { left: true };
    JoinSelect::new(sql::join(C::SCHEMA, P::SCHEMA, via.column, kind, via.scope))
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
        let (sql, values) = select.build()?;
        let rows = self
            .rows_of_built(L::SCHEMA, &sql, values, Access::Read, "list_joined")
            .await?;
        let offset = L::SCHEMA.columns.len();
        rows.iter()
            .map(|row| Ok((L::from_row_at(row, 0)?, R::decode_at(row, offset)?)))
            .collect()
    }
}
