//! Repository operations for any entity, over a connection or a transaction.
//!
//! Every statement is the entity's fixed SQL text with bound parameters.
//! Reads see live rows only. Writes that name a row (`update`,
//! `soft_delete`, `restore`) match `id` and `version` together; when nothing
//! matches, a follow-up read tells "gone" ([`Error::NotFound`]) from
//! "changed meanwhile" ([`Error::StaleVersion`]), so zero rows is never a
//! silent success.
//!
//! ```no_run
//! # use ordinance::prelude::*;
//! # #[derive(Entity, Debug)] pub struct User { pub id: Uuid, #[column(max_len = 320)] pub email: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! # async fn demo(client: &ordinance::deps::tokio_postgres::Client) -> ordinance::Result<()> {
//! use ordinance::repo::Repo;
//!
//! let repo = Repo::new(client);
//! let mut user = repo.insert(&NewUser { email: "ada@example.com".into() }).await?;
//! user.email = "ada@example.org".into();
//! let user = repo.update(&user).await?;          // version 1 -> 2
//! let user = repo.soft_delete(&user).await?;     // invisible to reads
//! assert!(repo.find::<User>(user.id).await?.is_none());
//! let user = repo.restore(&user).await?;         // visible again
//! # Ok(()) }
//! ```

mod lock;
mod upsert;

use std::future::Future;
use std::time::Duration;

use tokio_postgres::types::Type;
use tokio_postgres::Row;

use futures_util::{StreamExt as _, TryStreamExt as _};

use crate::query::ID_TYPES;
use uuid::Uuid;

use crate::entity::{Entity, NewEntity, Patch};
use crate::error::{classify, Error, Result};
use crate::exec::run::{RowCount, RowSink};
use crate::exec::{Access, Sql};
use crate::page::{Page, Pager, Start};
use crate::params::{ColumnSet, Params};
use crate::schema::TableSchema;
use crate::sql::{patch_statement, Patched, Statements};

use crate::exec::Executor;

/// What a guarded write that matched no row was trying to do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// The row must be live (update, soft delete).
    Live,
    /// The row must be soft-deleted (restore).
    Deleted,
}

/// A version-checked write: its statement and what its parameters are.
struct Write<'s> {
    operation: &'static str,
    sql: Sql<'s>,
    types: &'s [Type],
    parameters: &'s [&'static str],
}

pub use crate::exec::run::DEFAULT_SLOW_STATEMENT;

/// Entity operations over one executor.
///
/// Every statement runs in a `tracing` span named `ordinance.statement` with
/// the table, the operation, the rows returned or affected and the duration;
/// bound values are never recorded. A statement slower than the threshold
/// also emits a warning naming the entity, the table, the operation and the
/// statement's [`Fingerprint`](crate::query::Fingerprint) (the one
/// [`stats::statement_stats`](crate::stats::statement_stats) reports), and
/// never a value.
#[derive(Debug)]
pub struct Repo<'e, X> {
    executor: &'e X,
    slow: Duration,
}

impl<X> Clone for Repo<'_, X> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<X> Copy for Repo<'_, X> {}

/// Runs one statement returning at most one row inside its span and
/// evaluates to `Result<Option<Row>, Failure>`. A macro rather than an
/// `async fn` so a public method's future holds the statement's future
/// itself: awaiting one future inside another copies the inner one's whole
/// state on every call, and a get's is 1.5 kB.
macro_rules! one_row {
    ($repo:expr, $schema:expr, $operation:expr, $access:expr, $sql:expr, $params:expr, $types:expr) => {{
        let sql: Sql<'_> = $sql;
        $repo
            .traced(
                $schema,
                $operation,
                sql.text(),
                std::pin::pin!($repo.executor.query_opt($access, sql, $params, $types)),
            )
            .await
    }};
}

/// [`one_row!`] for one of the entity's fixed statements whose only
/// parameter is the id: its row, if any (returning the error).
macro_rules! by_id {
    ($repo:expr, $schema:expr, $operation:expr, $access:expr, $sql:expr, $id:expr) => {{
        let (schema, sql): (&'static TableSchema, &'static str) = ($schema, $sql);
        one_row!(
            $repo,
            schema,
            $operation,
            $access,
            Sql::Fixed(sql),
            &[&$id],
            ID_TYPES
        )
        .map_err(|e| Error::from_db(e, schema))?
    }};
}

/// [`one_row!`] for an `INSERT ... RETURNING` taking the insert's
/// parameters (the id, then the business columns of `$new`): the entity as
/// stored, or the error — a refused value reported with its column.
macro_rules! inserted {
    ($repo:expr, $n:ty, $sql:expr, $operation:expr, $id:expr, $new:expr) => {{
        let (sql, id, new): (&'static str, Uuid, &$n) = ($sql, $id, $new);
        let schema = <<$n as NewEntity>::Entity as Entity>::SCHEMA;
        let statements = <<$n as NewEntity>::Entity as Entity>::statements();
        new.check_values()?;
        let mut params = Params::new();
        params.push(&id);
        new.bind_business(&mut params);
        let types = &statements.insert_types;
        let row = one_row!(
            $repo,
            schema,
            $operation,
            Access::Write,
            Sql::Fixed(sql),
            &params,
            types
        )
        .map_err(|e| classify(e, Some(schema), &statements.insert_parameters))?;
        // INSERT ... RETURNING (upserts too) always yields a row, but into
        // a tenant table with no tenant set, whose condition holds it back.
        match row {
            Some(row) => <<$n as NewEntity>::Entity as Entity>::from_row(&row),
            None if schema.tenant => Err(Error::TenantNotSet { table: schema.name }),
            None => Err(Error::NotFound {
                table: schema.name,
                id,
            }),
        }
    }};
}

/// [`one_row!`] for a write matching `id` (and `version`) that returns the
/// row: the row, or (returning) the error, a refused value reported with
/// its column and a miss explained.
macro_rules! matched {
    ($repo:expr, $schema:expr, $statements:expr, $write:expr, $params:expr, $id:expr, $version:expr, $guard:expr) => {{
        let (schema, write): (&'static TableSchema, Write<'_>) = ($schema, $write);
        let row = one_row!(
            $repo,
            schema,
            write.operation,
            Access::Write,
            write.sql,
            $params,
            write.types
        )
        .map_err(|e| classify(e, Some(schema), write.parameters))?;
        match row {
            Some(row) => row,
            // Boxed: the rare path's state stays out of every write's
            // future.
            None => {
                let miss = $repo.explain_miss(schema, $statements, $id, $version, $guard);
                return Err(Box::pin(miss).await);
            }
        }
    }};
}

/// Runs a write of entity `$entity` (type `$e`) matching its id (and
/// version) and evaluates to the entity as stored, or returns the error;
/// `$business` binds the business columns after the id and version.
macro_rules! guarded {
    ($repo:expr, $e:ty, $entity:expr, $write:expr, $business:expr, $guard:expr) => {{
        let entity: &$e = $entity;
        let id = entity.id();
        let version = entity.version();
        let mut params = Params::new();
        params.push(&id);
        if let Some(v) = &version {
            params.push(v);
        }
        if $business {
            entity.check_values()?;
            entity.bind_business(&mut params);
        }
        let statements = <$e as Entity>::statements();
        let row = matched!(
            $repo,
            <$e as Entity>::SCHEMA,
            statements,
            $write,
            &params,
            id,
            version,
            $guard
        );
        <$e as Entity>::from_row(&row)
    }};
}

/// The write setting or clearing the soft-delete marker with `sql`;
/// [`Error::NoSoftDelete`] when the table has none.
fn mark<E: Entity>(operation: &'static str, sql: Option<&'static str>) -> Result<Write<'static>> {
    let sql = sql.ok_or(Error::NoSoftDelete {
        table: E::SCHEMA.name,
    })?;
    Ok(Write {
        operation,
        sql: Sql::Fixed(sql),
        types: &E::statements().guard_types,
        parameters: &[],
    })
}

impl<'e, X: Executor> Repo<'e, X> {
    /// Operations on `executor`: a connection or an open transaction.
    pub fn new(executor: &'e X) -> Self {
        Repo {
            executor,
            slow: DEFAULT_SLOW_STATEMENT,
        }
    }

    /// Sets the duration past which a statement logs a warning.
    pub fn with_slow_statement_threshold(mut self, threshold: Duration) -> Self {
        self.slow = threshold;
        self
    }

    /// The executor statements run on.
    pub(crate) fn executor(&self) -> &'e X {
        self.executor
    }

    /// Runs one statement inside its span, recording rows and duration,
    /// and warning when it is slower than this repository's threshold.
    #[inline(always)]
    pub(crate) fn traced<'s, T, Er, F>(
        &self,
        schema: &'static crate::TableSchema,
        operation: &'static str,
        sql: &'s str,
        run: F,
    ) -> crate::exec::run::Traced<'s, F>
    where
        F: Future<Output = Result<T, Er>>,
        T: RowCount,
        Er: crate::exec::run::Outcome,
    {
        crate::exec::run::traced(schema, operation, sql, self.slow, run)
    }

    /// Inserts a row with a new id — UUIDv7 (time-ordered, so
    /// index-friendly) unless the team's policy says v4
    /// ([`IdGeneration`](crate::schema::IdGeneration)) — and returns it as
    /// stored: timestamps from the database clock, version 1, not deleted.
    pub async fn insert<N: NewEntity>(&self, new: &N) -> Result<N::Entity> {
        let id = N::Entity::SCHEMA.conventions.ids.new_id();
        let sql = &N::Entity::statements().insert;
        inserted!(self, N, sql, "insert", id, new)
    }

    /// Inserts a row with the caller's id.
    pub async fn insert_with_id<N: NewEntity>(&self, id: Uuid, new: &N) -> Result<N::Entity> {
        let sql = &N::Entity::statements().insert;
        inserted!(self, N, sql, "insert", id, new)
    }

    /// Runs an `INSERT ... RETURNING` taking the insert's parameters (the
    /// id, then the business columns): the insert, or an upsert.
    pub(crate) async fn insert_as<N: NewEntity>(
        &self,
        sql: &'static str,
        operation: &'static str,
        id: Uuid,
        new: &N,
    ) -> Result<N::Entity> {
        inserted!(self, N, sql, operation, id, new)
    }

    /// Runs an `INSERT` whose first parameters are the insert's (the id,
    /// then the business columns), reporting a refused value with its
    /// column; its row, if it returned one.
    pub(crate) async fn insert_row(
        &self,
        schema: &'static TableSchema,
        statements: &'static Statements,
        sql: &'static str,
        types: &[Type],
        operation: &'static str,
        params: &Params<'_>,
    ) -> Result<Option<Row>> {
        one_row!(
            self,
            schema,
            operation,
            Access::Write,
            Sql::Fixed(sql),
            params,
            types
        )
        .map_err(|e| classify(e, Some(schema), &statements.insert_parameters))
    }

    /// The live row with this id, or [`Error::NotFound`].
    pub async fn get<E: Entity>(&self, id: Uuid) -> Result<E> {
        let sql = &E::statements().get;
        match by_id!(self, E::SCHEMA, "get", Access::Read, sql, id) {
            Some(row) => E::from_row(&row),
            None => Err(Error::NotFound {
                table: E::SCHEMA.name,
                id,
            }),
        }
    }

    /// The live row with this id, if any.
    pub async fn find<E: Entity>(&self, id: Uuid) -> Result<Option<E>> {
        let sql = &E::statements().get;
        let row = by_id!(self, E::SCHEMA, "get", Access::Read, sql, id);
        row.as_ref().map(E::from_row).transpose()
    }

    /// Runs one of the entity's fixed statements whose only parameter is
    /// the id, inside its span; its row, if any.
    pub(crate) async fn by_id(
        &self,
        schema: &'static TableSchema,
        operation: &'static str,
        access: Access,
        sql: &'static str,
        id: Uuid,
    ) -> Result<Option<Row>> {
        Ok(by_id!(self, schema, operation, access, sql, id))
    }

    /// Whether a live row has this id.
    pub async fn exists<E: Entity>(&self, id: Uuid) -> Result<bool> {
        Ok(self.find::<E>(id).await?.is_some())
    }

    /// The rows a select returns, decoded. Start the select from a scope —
    /// [`query::live`](crate::query::live), [`with_deleted`](crate::query::with_deleted)
    /// or [`only_deleted`](crate::query::only_deleted) — so it selects every
    /// column in order, then add conditions, ordering and limits; its values
    /// are bound as parameters.
    pub async fn list<E: Entity>(&self, select: &sea_query::SelectStatement) -> Result<Vec<E>> {
        self.fetch_as::<E>(select, Access::Read, "list").await
    }

    /// Runs any sea-query statement that returns every column of `E` in
    /// order — a scoped select, or one of the write builders
    /// ([`query::insert`](crate::query::insert), [`query::update`](crate::query::update),
    /// [`query::soft_delete`](crate::query::soft_delete),
    /// [`query::restore`](crate::query::restore), [`query::purge`](crate::query::purge))
    /// after the caller added to it — and decodes the rows. Values are bound
    /// as parameters at their exact types. A guarded write that matched
    /// nothing returns no rows; it is the caller's condition, so no
    /// [`Error::StaleVersion`] is inferred.
    pub async fn fetch<E: Entity>(
        &self,
        statement: &impl sea_query::QueryStatementWriter,
    ) -> Result<Vec<E>> {
        self.fetch_as::<E>(statement, Access::Write, "fetch").await
    }

    async fn fetch_as<E: Entity>(
        &self,
        statement: &impl sea_query::QueryStatementWriter,
        access: Access,
        operation: &'static str,
    ) -> Result<Vec<E>> {
        let (sql, values) = statement.build(sea_query::PostgresQueryBuilder);
        let mut out = Decoded::<E>(Vec::new());
        self.rows_into(E::SCHEMA, &sql, values, access, operation, &mut out)
            .await?;
        Ok(out.0)
    }

    /// Runs a built statement, handing each row to `sink` as it arrives.
    async fn rows_into(
        &self,
        schema: &'static TableSchema,
        sql: &str,
        values: sea_query::Values,
        access: Access,
        operation: &'static str,
        sink: &mut dyn RowSink,
    ) -> Result<()> {
        self.built(schema, sql, access, operation)
            .run_into(self.executor, values, sink)
            .await
    }

    /// The rows of a select, decoded one by one as they arrive, for results
    /// too large to hold: the server is held back while the caller does not
    /// read (the socket's buffers fill, and PostgreSQL waits), so memory
    /// stays flat however many rows there are. Takes the same scoped
    /// selects as [`list`](Self::list). The connection is busy until the
    /// stream ends or is dropped; inside a transaction the whole read sees
    /// one snapshot.
    ///
    /// ```no_run
    /// # use ordinance::prelude::*;
    /// # #[derive(Entity, Debug)] pub struct User { pub id: Uuid, #[column(max_len = 320)] pub email: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
    /// # async fn demo(conn: &ordinance::exec::Connection) -> ordinance::Result<()> {
    /// use ordinance::deps::futures_util::TryStreamExt as _;
    /// use ordinance::repo::Repo;
    ///
    /// let repo = Repo::new(conn);
    /// let users = repo.stream::<User>(&ordinance::query::live::<User>());
    /// let mut users = std::pin::pin!(users);
    /// while let Some(user) = users.try_next().await? {
    ///     println!("{}", user.email);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream<E: Entity>(
        &self,
        select: &sea_query::SelectStatement,
    ) -> impl futures_util::Stream<Item = Result<E>> + Send + 'e {
        futures_util::stream::once(self.open_rows(E::SCHEMA, select))
            .try_flatten()
            .map(|row| row.and_then(|row| E::from_row(&row)))
    }

    /// The rows of a select, not read yet: what [`stream`](Self::stream)
    /// decodes.
    fn open_rows(
        &self,
        schema: &'static TableSchema,
        select: &sea_query::SelectStatement,
    ) -> impl Future<Output = Result<impl futures_util::Stream<Item = Result<Row>> + Send + 'e>>
           + Send
           + 'e {
        let (sql, values) = select.build(sea_query::PostgresQueryBuilder);
        let repo = *self;
        async move {
            let built = repo.built(schema, &sql, Access::Read, "stream");
            let rows = built.open(repo.executor, values).await?;
            Ok(rows.map_err(move |e| Error::from_db(e, schema)))
        }
    }

    /// The first page in the pager's order.
    pub async fn first_page<E: Entity>(&self, pager: &Pager<E>) -> Result<Page<E>> {
        self.page(pager, Start::First).await
    }

    /// The last page in the pager's order (rows still in display order):
    /// where a walk backward from the end starts.
    pub async fn last_page<E: Entity>(&self, pager: &Pager<E>) -> Result<Page<E>> {
        self.page(pager, Start::Last).await
    }

    /// The page a cursor points to: the page after the row it was taken
    /// from (a `next` cursor) or before it (a `previous` cursor). A cursor
    /// this pager cannot use is [`Error::InvalidCursor`], before anything runs.
    pub async fn page_at<E: Entity>(&self, pager: &Pager<E>, cursor: &str) -> Result<Page<E>> {
        self.page(pager, Start::Cursor(cursor)).await
    }

    async fn page<E: Entity>(&self, pager: &Pager<E>, start: Start<'_>) -> Result<Page<E>> {
        let plan = pager.plan(start)?;
        let rows = self
            .rows_of_schema(E::SCHEMA, &plan.statement, Access::Read, "page")
            .await?;
        pager.page(plan, rows)
    }

    /// The rows of a statement on `schema`'s table.
    pub(crate) async fn rows_of_schema(
        &self,
        schema: &'static crate::TableSchema,
        statement: &impl sea_query::QueryStatementWriter,
        access: Access,
        operation: &'static str,
    ) -> Result<Vec<Row>> {
        crate::exec::run::rows_of(
            self.executor,
            self.slow,
            schema,
            statement,
            access,
            operation,
        )
        .await
    }

    /// Runs SQL text with the values sea-query collected for it.
    pub(crate) async fn rows_of_built(
        &self,
        schema: &'static TableSchema,
        sql: &str,
        values: sea_query::Values,
        access: Access,
        operation: &'static str,
    ) -> Result<Vec<Row>> {
        self.built(schema, sql, access, operation)
            .rows(self.executor, values)
            .await
    }

    /// A statement built for this call, run on this repository's
    /// threshold.
    fn built<'s>(
        &self,
        schema: &'static TableSchema,
        sql: &'s str,
        access: Access,
        operation: &'static str,
    ) -> crate::exec::run::Built<'s> {
        crate::exec::run::Built {
            schema,
            sql,
            access,
            operation,
            slow: self.slow,
        }
    }

    /// The number of live rows.
    pub async fn count<E: Entity>(&self) -> Result<i64> {
        self.count_live(E::SCHEMA, E::statements()).await
    }

    async fn count_live(
        &self,
        schema: &'static TableSchema,
        statements: &'static Statements,
    ) -> Result<i64> {
        let sql = &statements.count;
        let rows = self
            .traced(
                schema,
                "count",
                sql,
                std::pin::pin!(self.executor.query(Access::Read, Sql::Fixed(sql), &[], &[])),
            )
            .await
            .map_err(|e| Error::from_db(e, schema))?;
        Ok(first_value(&rows, schema.name, "count")?.unwrap_or(0))
    }

    /// The number of rows a select returns: start it from a scope —
    /// [`query::live`](crate::query::live) (what [`count`](Self::count)
    /// counts), [`with_deleted`](crate::query::with_deleted) or
    /// [`only_deleted`](crate::query::only_deleted) — and add conditions
    /// (and joins, or a `LIMIT` to stop counting early). Run as one
    /// `SELECT count(*) FROM (…)`, values bound; on a tenant table only the
    /// current tenant's rows are seen, as with every read.
    ///
    /// ```no_run
    /// # use ordinance::prelude::*;
    /// # #[derive(Entity, Debug)] pub struct User { pub id: Uuid, pub is_admin: bool, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
    /// # async fn demo(conn: &ordinance::exec::Connection) -> ordinance::Result<()> {
    /// use ordinance::deps::sea_query::{Expr, ExprTrait};
    /// use ordinance::{query, repo::Repo};
    ///
    /// let repo = Repo::new(conn);
    /// let admins = query::live::<User>()
    ///     .and_where(Expr::col(UserColumn::IsAdmin).eq(true))
    ///     .to_owned();
    /// let how_many: i64 = repo.count_matching::<User>(&admins).await?;
    /// let any: bool = repo.exists_matching::<User>(&admins).await?;
    /// # Ok(()) }
    /// ```
    pub async fn count_matching<E: Entity>(
        &self,
        select: &sea_query::SelectStatement,
    ) -> Result<i64> {
        let count =
            self.scalar::<E, i64>(select, "SELECT count(*) FROM (", ") AS matching", "count");
        Ok(count.await?.unwrap_or(0))
    }

    /// Whether a select returns any row (`SELECT EXISTS (…)`, which stops
    /// at the first): scoped and bound as in
    /// [`count_matching`](Self::count_matching).
    pub async fn exists_matching<E: Entity>(
        &self,
        select: &sea_query::SelectStatement,
    ) -> Result<bool> {
        let exists = self.scalar::<E, bool>(select, "SELECT EXISTS (", ")", "exists");
        Ok(exists.await?.unwrap_or(false))
    }

    /// The one value of `before select after`, read at `E`'s table.
    async fn scalar<E: Entity, T>(
        &self,
        select: &sea_query::SelectStatement,
        before: &str,
        after: &str,
        operation: &'static str,
    ) -> Result<Option<T>>
    where
        T: for<'r> tokio_postgres::types::FromSql<'r>,
    {
        let (inner, values) = select.build(sea_query::PostgresQueryBuilder);
        let sql = format!("{before}{inner}{after}");
        let rows = self
            .rows_of_built(E::SCHEMA, &sql, values, Access::Read, operation)
            .await?;
        first_value(&rows, E::SCHEMA.name, operation)
    }

    /// Writes the entity's business columns, bumping `version` and setting
    /// `updated_at`, if the row is live and still at `entity`'s version.
    pub async fn update<E: Entity>(&self, entity: &E) -> Result<E> {
        let s = E::statements();
        let write = Write {
            operation: "update",
            sql: Sql::Fixed(&s.update),
            types: &s.update_types,
            parameters: &s.update_parameters,
        };
        guarded!(self, E, entity, write, true, Guard::Live)
    }

    /// Marks the row deleted (`deleted_at = now()`), version-checked.
    /// Entities without soft delete have no such call: use [`purge`](Self::purge).
    pub async fn soft_delete<E: Entity>(&self, entity: &E) -> Result<E> {
        let sql = E::statements().soft_delete.as_deref();
        let write = mark::<E>("soft_delete", sql)?;
        guarded!(self, E, entity, write, false, Guard::Live)
    }

    /// Brings a soft-deleted row back, version-checked. Fails with a unique
    /// violation naming the index if its unique key was reused meanwhile.
    pub async fn restore<E: Entity>(&self, entity: &E) -> Result<E> {
        let sql = E::statements().restore.as_deref();
        let write = mark::<E>("restore", sql)?;
        guarded!(self, E, entity, write, false, Guard::Deleted)
    }

    /// Removes the row for good, live or soft-deleted. Returns whether a row
    /// was removed.
    pub async fn purge<E: Entity>(&self, id: Uuid) -> Result<bool> {
        let sql = &E::statements().purge;
        let removed = self
            .by_id(E::SCHEMA, "purge", Access::Write, sql, id)
            .await?;
        Ok(removed.is_some())
    }

    /// Writes the columns `patch` sets on the live row `id`, if it is still
    /// at `version` — the version the caller last saw (an HTTP client's
    /// `If-Match`, a form's hidden field), never one just read — stamping
    /// `updated_at` (and `updated_by`) and bumping `version`; the row as
    /// stored after. A miss is [`Error::NotFound`] (gone or soft-deleted)
    /// or [`Error::StaleVersion`] (changed meanwhile), exactly as
    /// [`update`](Self::update) reports it; bad values are
    /// [`Error::Invalid`], every column at once, before anything is sent.
    ///
    /// Only the set columns are written, so two patches of different
    /// columns never undo each other (each still needs the version it saw).
    /// A patch that sets nothing writes nothing: it reads the row, still
    /// checking `version`. On a table whose `version` rule is waived,
    /// `version` is not compared (there is nothing to compare it with).
    ///
    /// ```no_run
    /// # use ordinance::prelude::*;
    /// # #[derive(Entity, Debug)] pub struct Issue { pub id: Uuid, #[column(max_len = 200)] pub title: String, pub closed_at: Option<DateTime<Utc>>, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
    /// # async fn demo(conn: &ordinance::exec::Connection, id: Uuid, if_match: i32) -> ordinance::Result<()> {
    /// use ordinance::repo::Repo;
    ///
    /// let patch = IssuePatch {
    ///     title: Some("Crash on start".into()), // set
    ///     closed_at: Some(None),                // set to NULL
    /// };
    /// let issue = Repo::new(conn).patch(id, if_match, &patch).await?;
    /// assert_eq!(issue.version, if_match + 1);
    /// # Ok(()) }
    /// ```
    pub async fn patch<P: Patch>(&self, id: Uuid, version: i32, patch: &P) -> Result<P::Entity> {
        patch.check_values()?;
        let schema = <P::Entity as Entity>::SCHEMA;
        let versioned = schema.versioned();
        let mut params = Params::new();
        params.push(&id);
        if versioned {
            params.push(&version);
        }
        let mut set = ColumnSet::new();
        patch.bind_set(&mut set, &mut params);
        let statements = P::Entity::statements();
        let version = versioned.then_some(version);
        let patched = patch_statement(schema, statements, &set);
        let statement = patched.statement();
        let write = Write {
            operation: if statement.writes { "patch" } else { "get" },
            sql: match &patched {
                Patched::Kept(kept) => Sql::Fixed(kept.sql.as_str()),
                Patched::Rendered(rendered) => Sql::Built(rendered.sql.as_str()),
            },
            types: &statement.types,
            parameters: &statement.parameters,
        };
        let row = matched!(
            self,
            schema,
            statements,
            write,
            &params,
            id,
            version,
            Guard::Live
        );
        P::Entity::from_row(&row)
    }

    /// Tells why a guarded write matched no row, from the row as it is
    /// now. The checks, in order:
    ///
    /// 1. no row with the id: [`Error::NotFound`];
    /// 2. the row is soft-deleted and the write needs it live (update, soft
    ///    delete): [`Error::NotFound`], whatever its version — re-reading
    ///    would find nothing, so "stale, retry" would mislead;
    /// 3. the row is live and the write needs it soft-deleted (restore):
    ///    [`Error::NotSoftDeleted`];
    /// 4. the row is at another version: [`Error::StaleVersion`];
    /// 5. otherwise (it changed and changed back between the write and this
    ///    read, which a version bump on every write rules out for versioned
    ///    tables): [`Error::NotFound`].
    async fn explain_miss(
        &self,
        schema: &'static TableSchema,
        statements: &'static Statements,
        id: Uuid,
        expected: Option<i32>,
        guard: Guard,
    ) -> Error {
        let table = schema.name;
        let sql = &statements.probe;
        let row = match self.by_id(schema, "probe", Access::Write, sql, id).await {
            Ok(Some(row)) => row,
            Ok(None) => {
                let gone = Error::NotFound { table, id };
                return crate::exec::unless_tenant_missing(self.executor, schema, gone).await;
            }
            Err(e) => return e,
        };
        let state = crate::row::read::<i32>(&row, 0, table, "version").and_then(|actual| {
            Ok((
                actual,
                crate::row::read::<bool>(&row, 1, table, "deleted_at")?,
            ))
        });
        let (actual, deleted) = match state {
            Ok(state) => state,
            Err(e) => return e,
        };
        match guard {
            Guard::Live if deleted => return Error::NotFound { table, id },
            Guard::Deleted if !deleted => return Error::NotSoftDeleted { table, id },
            _ => {}
        }
        match expected {
            Some(expected) if expected != actual => {
                if crate::telemetry::metrics_enabled() {
                    metrics::counter!(crate::telemetry::STALE_VERSIONS, "db.collection.name" => table)
                        .increment(1);
                }
                Error::StaleVersion {
                    table,
                    id,
                    expected,
                    actual,
                }
            }
            _ => Error::NotFound { table, id },
        }
    }
}

/// Rows decoded into entities.
struct Decoded<E>(Vec<E>);

impl<E: Entity> RowSink for Decoded<E> {
    fn clear(&mut self) {
        self.0.clear();
    }

    fn take(&mut self, row: Row) -> Result<()> {
        self.0.push(E::from_row(&row)?);
        Ok(())
    }
}

/// The first column of the first row, as `what` of `table`; `None` when no
/// row came back (an aggregate always returns one, so only in theory).
fn first_value<T>(rows: &[Row], table: &'static str, what: &'static str) -> Result<Option<T>>
where
    T: for<'r> tokio_postgres::types::FromSql<'r>,
{
    rows.first()
        .map(|row| crate::row::read(row, 0, table, what))
        .transpose()
}
