//! Loading related rows for a slice of entities: one statement per level.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;

use tokio_postgres::types::Type;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{sql, ChildrenOf, JoinEntity, One, ParentOf, Relation, IDS_PER_STATEMENT};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::exec::{Access, Executor, Sql};
use crate::params::SqlParam;
use crate::repo::Repo;

/// The children of a set of parents, grouped by parent id, each group in the
/// child's order. Take them out by parent ([`take`](Self::take)), or pair
/// them with the parents ([`attach`](Self::attach)).
#[derive(Debug)]
pub struct Children<P, C> {
    groups: HashMap<Uuid, Vec<C>>,
    parent: PhantomData<fn() -> P>,
}

impl<P: Entity, C> Children<P, C> {
    fn new() -> Self {
        Children {
            groups: HashMap::new(),
            parent: PhantomData,
        }
    }

    fn push(&mut self, parent: Uuid, child: C) {
        self.groups.entry(parent).or_default().push(child);
    }

    /// The children of the parent with this id.
    pub fn get(&self, parent: Uuid) -> &[C] {
        self.groups.get(&parent).map_or(&[], Vec::as_slice)
    }

    /// Takes the children of the parent with this id out (empty when it has
    /// none, or they were taken already).
    pub fn take(&mut self, parent: Uuid) -> Vec<C> {
        self.groups.remove(&parent).unwrap_or_default()
    }

    /// Every child loaded, of every parent: what the next level loads for.
    pub fn all(&self) -> impl Iterator<Item = &C> + Send + '_
    where
        C: Sync,
    {
        self.groups.values().flatten()
    }

    /// How many children were loaded in all.
    pub fn len(&self) -> usize {
        self.groups.values().map(Vec::len).sum()
    }

    /// Whether no child was loaded.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Each parent with its children, in the parents' order. A parent
    /// listed twice gets its children twice.
    pub fn attach(self, parents: Vec<P>) -> Vec<(P, Vec<C>)>
    where
        C: Clone,
    {
        self.attach_with(parents, |child| child)
    }

    /// Each parent with its children mapped by `f` — how a further level is
    /// attached: `posts.attach_with(users, |post| (post, comments.take(post.id)))`.
    /// `f` runs once per child; a parent listed twice gets copies of its
    /// mapped children the second time.
    pub fn attach_with<T>(mut self, parents: Vec<P>, mut f: impl FnMut(C) -> T) -> Vec<(P, Vec<T>)>
    where
        T: Clone,
    {
        // How many more times each parent comes: all but its last
        // occurrence keep a copy of its group for the next one.
        let mut left: HashMap<Uuid, usize> = HashMap::with_capacity(parents.len());
        for p in &parents {
            *left.entry(p.id()).or_default() += 1;
        }
        let mut kept: HashMap<Uuid, Vec<T>> = HashMap::new();
        parents
            .into_iter()
            .map(|p| {
                let id = p.id();
                let group = match kept.remove(&id) {
                    Some(group) => group,
                    None => self.take(id).into_iter().map(&mut f).collect(),
                };
                if let Some(n) = left.get_mut(&id) {
                    *n -= 1;
                    if *n > 0 {
                        kept.insert(id, group.clone());
                    }
                }
                (p, group)
            })
            .collect()
    }

    /// Each parent with its one child, if any (a has-one relation). A parent
    /// listed twice gets its child twice.
    pub fn attach_one(self, parents: Vec<P>) -> Vec<(P, Option<C>)>
    where
        C: Clone,
    {
        self.attach_with(parents, |child| child)
            .into_iter()
            .map(|(p, children)| (p, children.into_iter().next()))
            .collect()
    }
}

/// Parents loaded for a set of children, by id.
#[derive(Debug)]
pub struct Parents<P> {
    by_id: HashMap<Uuid, P>,
}

impl<P> Parents<P> {
    /// The parent with this id, if it was loaded (it exists and is in the
    /// relation's scope).
    pub fn get(&self, id: Uuid) -> Option<&P> {
        self.by_id.get(&id)
    }

    /// How many parents were loaded.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no parent was loaded.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Every parent loaded, in no particular order.
    pub fn into_values(self) -> impl Iterator<Item = P> {
        self.by_id.into_values()
    }
}

/// The distinct ids, in first-seen order.
fn distinct(ids: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

const ID_ARRAY: &[Type] = &[Type::UUID_ARRAY];

impl<X: Executor> Repo<'_, X> {
    /// Runs `sql` (whose `$1` is a `UUID[]`, and, when `types` says so,
    /// `$2` and `$3` the least and greatest of it) for `ids`, a chunk of
    /// [`IDS_PER_STATEMENT`] at a time, and hands each row to `row`.
    async fn rows_for_ids(
        &self,
        schema: &'static crate::TableSchema,
        operation: &'static str,
        (sql, types): (&'static str, &'static [Type]),
        ids: &[Uuid],
        mut row: impl FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        let sql = crate::telemetry::commented_static(schema, operation, sql);
        let span = tracing::info_span!(
            "ordinance.relation",
            "db.collection.name" = schema.name,
            operation,
            ids = ids.len(),
        );
        let run = async {
            for chunk in ids.chunks(IDS_PER_STATEMENT) {
                // The bounds a load by id of a partitioned table takes
                // (`sql::render_by_id`), so only their partitions are read.
                let least = chunk.iter().min().copied().unwrap_or_default();
                let greatest = chunk.iter().max().copied().unwrap_or_default();
                let all: [SqlParam<'_>; 3] = [&chunk, &least, &greatest];
                let params = &all[..types.len().min(3)];
                let rows = self
                    .traced(
                        schema,
                        operation,
                        sql,
                        std::pin::pin!(self.executor().query(
                            Access::Read,
                            Sql::Fixed(sql),
                            params,
                            types
                        )),
                    )
                    .await
                    .map_err(|e| Error::from_db(e, schema))?;
                for r in &rows {
                    row(r)?;
                }
            }
            Ok(())
        };
        tracing::Instrument::instrument(run, span).await
    }

    /// The children of `parents` through `via` (has-many, or has-one for a
    /// unique foreign key), in one statement: `Comment::POST` loads the
    /// comments of posts. Group them with the result's
    /// [`attach`](Children::attach), or load a further level for
    /// [`Children::all`].
    pub async fn children<'p, P, R>(
        &self,
        parents: impl IntoIterator<Item = &'p P>,
        via: R,
    ) -> Result<Children<P, R::Child>>
    where
        P: Entity,
        R: ChildrenOf<P>,
        R::Child: Entity,
    {
        let via = via.relation();
        let ids = distinct(parents.into_iter().map(Entity::id));
        let mut out = Children::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let schema = <R::Child as Entity>::SCHEMA;
        let sql = sql::children(schema, via.column(), via.current_scope());
        self.rows_for_ids(schema, "load_children", (sql, ID_ARRAY), &ids, |row| {
            let child = <R::Child as Entity>::from_row(row)?;
            if let Some(parent) = via.key_of(&child) {
                out.push(parent, child);
            }
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Each parent with its children through `via`, in the parents' order:
    /// `repo.with_children(posts, Comment::POST)` is a
    /// `Vec<(Post, Vec<Comment>)>`. One statement.
    pub async fn with_children<P, R>(
        &self,
        parents: Vec<P>,
        via: R,
    ) -> Result<Vec<(P, Vec<R::Child>)>>
    where
        P: Entity + Sync,
        R: ChildrenOf<P>,
        R::Child: Entity + Clone,
    {
        Ok(self.children(&parents, via).await?.attach(parents))
    }

    /// Each parent with its one child through a unique foreign key (1:1):
    /// `repo.with_child(users, Profile::USER)` is a
    /// `Vec<(User, Option<Profile>)>`. One statement.
    pub async fn with_child<P, R>(
        &self,
        parents: Vec<P>,
        via: R,
    ) -> Result<Vec<(P, Option<R::Child>)>>
    where
        P: Entity + Sync,
        R: ChildrenOf<P, Kind = One>,
        R::Child: Entity + Clone,
    {
        Ok(self.children(&parents, via).await?.attach_one(parents))
    }

    /// The parents `children` reference through `via` (belongs-to), in one
    /// statement: `Comment::POST` loads the post of each comment. A parent
    /// outside the relation's scope (soft-deleted, by default) is not loaded.
    pub async fn parents<'c, C, R>(
        &self,
        children: impl IntoIterator<Item = &'c C>,
        via: R,
    ) -> Result<Parents<R::Parent>>
    where
        C: Entity,
        R: ParentOf<C>,
        R::Parent: Entity,
    {
        let via = via.relation();
        let ids = distinct(children.into_iter().filter_map(|c| via.key_of(c)));
        let mut by_id = HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(Parents { by_id });
        }
        let schema = <R::Parent as Entity>::SCHEMA;
        let sql = sql::by_id(schema, via.current_scope());
        self.rows_for_ids(
            schema,
            "load_parents",
            (sql, sql::by_id_types(schema)),
            &ids,
            |row| {
                let parent = <R::Parent as Entity>::from_row(row)?;
                by_id.insert(parent.id(), parent);
                Ok(())
            },
        )
        .await?;
        Ok(Parents { by_id })
    }

    /// Each child with its parent through `via`, in the children's order:
    /// `repo.with_parent(comments, Comment::POST)` is a
    /// `Vec<(Comment, Option<Post>)>` (`None` for a NULL foreign key or a
    /// parent outside the scope). One statement.
    pub async fn with_parent<C, R>(
        &self,
        children: Vec<C>,
        via: R,
    ) -> Result<Vec<(C, Option<R::Parent>)>>
    where
        C: Entity + Sync,
        R: ParentOf<C>,
        R::Parent: Entity + Clone,
    {
        let relation = via.relation();
        let parents = self.parents(&children, via).await?;
        Ok(children
            .into_iter()
            .map(|c| {
                let parent = relation.key_of(&c).and_then(|id| parents.get(id)).cloned();
                (c, parent)
            })
            .collect())
    }

    /// The far side of a many-to-many for each parent, through join entity
    /// `J`'s two relations: `repo.related(&posts, PostTag::POST, PostTag::TAG)`
    /// loads the tags of each post in one statement, through live join rows
    /// only.
    pub async fn related<'p, P, J, T, K1, K2>(
        &self,
        parents: impl IntoIterator<Item = &'p P>,
        from: Relation<J, P, K1>,
        to: Relation<J, T, K2>,
    ) -> Result<Children<P, T>>
    where
        P: Entity,
        J: Entity + JoinEntity,
        T: Entity,
    {
        let ids = distinct(parents.into_iter().map(Entity::id));
        let mut out = Children::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let target = T::SCHEMA;
        let sql = sql::related(
            J::SCHEMA,
            from.column(),
            to.column(),
            target,
            to.current_scope(),
        );
        let parent_at = target.columns.len();
        self.rows_for_ids(target, "load_related", (sql, ID_ARRAY), &ids, |row| {
            let item = T::from_row(row)?;
            let parent: Uuid = crate::row::read(row, parent_at, J::SCHEMA.name, from.column())?;
            out.push(parent, item);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Each parent with the far side of a many-to-many, in the parents'
    /// order: `repo.with_related(posts, PostTag::POST, PostTag::TAG)` is a
    /// `Vec<(Post, Vec<Tag>)>`. One statement.
    pub async fn with_related<P, J, T, K1, K2>(
        &self,
        parents: Vec<P>,
        from: Relation<J, P, K1>,
        to: Relation<J, T, K2>,
    ) -> Result<Vec<(P, Vec<T>)>>
    where
        P: Entity + Sync,
        J: Entity + JoinEntity,
        T: Entity + Clone,
    {
        Ok(self.related(&parents, from, to).await?.attach(parents))
    }
}
