//! Changes to every row matching a filter, in short transactions: bulk
//! update, soft delete and restore ([`Bulk`]), and the retention purge of
//! rows soft-deleted long ago ([`retention`]).
//!
//! One statement over a million rows holds a million row locks until it
//! commits, blocks every writer of those rows meanwhile, and loses all its
//! work if it fails at the end. A [`Bulk`] walks the matching rows in id
//! order instead (UUIDv7 ids: creation order, the primary key's index), a
//! chunk at a time: it finds the id that ends the next chunk, then changes
//! the matching rows of that id range in one statement, which commits on
//! its own — its locks last one chunk. Every changed row gets
//! `updated_at = now()` and `version + 1`, as on any write, so a concurrent
//! optimistic update either lands before the chunk (and the chunk keeps
//! it) or is told [`Error::StaleVersion`]: nothing is lost.
//!
//! Progress (rows so far, chunks, the last id done) goes to an optional
//! callback and to `tracing` after each chunk. A run that fails stops with
//! [`Error::Interrupted`], which says how far it got; a new `Bulk` with
//! [`Bulk::resume_after`] that id carries on where it stopped.
//!
//! ```no_run
//! # use ordinance::prelude::*;
//! # #[derive(Entity)] pub struct Post { pub id: Uuid, pub is_pinned: bool, #[column(min = 0)] pub score: i32, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! # async fn demo(conn: &ordinance::exec::Connection) -> ordinance::Result<()> {
//! use std::time::Duration;
//! use ordinance::bulk::Bulk;
//! use ordinance::deps::sea_query::{Expr, ExprTrait};
//!
//! let done = Bulk::<Post>::new()
//!     .filter(Expr::col(PostColumn::Score).lt(0))
//!     .chunk(5_000)
//!     .pause(Duration::from_millis(50))
//!     .on_progress(|p| eprintln!("{} rows so far", p.rows))
//!     .update(conn, vec![(PostColumn::IsPinned, Expr::val(false))])
//!     .await?;
//! println!("{} rows unpinned in {} chunks", done.rows, done.chunks);
//! # Ok(()) }
//! ```

mod change;
pub mod retention;

use std::marker::PhantomData;
use std::time::Duration;

use sea_query::{Alias, Condition, Expr, ExprTrait, IntoCondition, Order};
use uuid::Uuid;

use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::exec::run::{rows_of, DEFAULT_SLOW_STATEMENT};
use crate::exec::{Access, Executor};
use crate::query::{scope_condition, select_schema, Visibility};
use crate::schema::TableSchema;

/// Rows per chunk unless [`Bulk::chunk`] says otherwise.
pub const DEFAULT_CHUNK: u64 = 1_000;

/// How far a bulk change has got.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The table.
    pub table: &'static str,
    /// What is being done: `bulk_update`, `bulk_patch`, `bulk_soft_delete`,
    /// `bulk_restore`, `purge_deleted`.
    pub operation: &'static str,
    /// Rows changed so far.
    pub rows: u64,
    /// Chunks committed so far.
    pub chunks: u64,
    /// The last id of the last committed chunk: where a resumed run starts
    /// ([`Bulk::resume_after`]).
    pub resume_after: Option<Uuid>,
}

/// A progress report callback.
type Callback = Box<dyn FnMut(&Progress) + Send>;

/// How a chunked walk goes: rows per chunk, the pause between chunks, and
/// who hears of each chunk. Shared by [`Bulk`] and
/// [`Retention`](retention::Retention).
pub(crate) struct Pace {
    chunk: u64,
    pause: Duration,
    progress: Option<Callback>,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            chunk: DEFAULT_CHUNK,
            pause: Duration::ZERO,
            progress: None,
        }
    }
}

impl Pace {
    pub(crate) fn chunk(&mut self, rows: u64) {
        self.chunk = Ord::max(rows, 1);
    }

    pub(crate) fn pause(&mut self, pause: Duration) {
        self.pause = pause;
    }

    pub(crate) fn on_progress(&mut self, report: impl FnMut(&Progress) + Send + 'static) {
        self.progress = Some(Box::new(report));
    }
}

impl std::fmt::Debug for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pace")
            .field("chunk", &self.chunk)
            .field("pause", &self.pause)
            .field("reports", &self.progress.is_some())
            .finish()
    }
}

/// A change to every row of `E` matching a filter, in chunks: see the
/// [module docs](self).
pub struct Bulk<E: Entity> {
    filter: Condition,
    after: Option<Uuid>,
    pace: Pace,
    entity: PhantomData<fn() -> E>,
}

impl<E: Entity> std::fmt::Debug for Bulk<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The filter may carry personal data: never shown.
        f.debug_struct("Bulk")
            .field("table", &E::SCHEMA.name)
            .field("pace", &self.pace)
            .field("resume_after", &self.after)
            .finish_non_exhaustive()
    }
}

impl<E: Entity> Default for Bulk<E> {
    fn default() -> Self {
        Bulk::new()
    }
}

impl<E: Entity> Bulk<E> {
    /// Every row (of the operation's scope), [`DEFAULT_CHUNK`] rows per
    /// chunk, no pause.
    pub fn new() -> Self {
        Bulk {
            filter: Condition::all(),
            after: None,
            pace: Pace::default(),
            entity: PhantomData,
        }
    }

    /// Only rows meeting `condition` (ANDed with earlier filters). It is
    /// checked again as each chunk is changed, so a row that stopped
    /// matching meanwhile is left alone.
    pub fn filter(mut self, condition: impl IntoCondition) -> Self {
        self.filter = self.filter.add(condition);
        self
    }

    /// Rows per chunk (at least 1): the most row locks one transaction
    /// holds.
    pub fn chunk(mut self, rows: u64) -> Self {
        self.pace.chunk(rows);
        self
    }

    /// Waits this long between chunks, leaving room for other writers and
    /// for replicas to keep up.
    pub fn pause(mut self, pause: Duration) -> Self {
        self.pace.pause(pause);
        self
    }

    /// Starts after this id: the [`Progress::resume_after`] of an
    /// interrupted run.
    pub fn resume_after(mut self, id: Uuid) -> Self {
        self.after = Some(id);
        self
    }

    /// Calls `report` after each committed chunk.
    pub fn on_progress(mut self, report: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.pace.on_progress(report);
        self
    }

    /// Runs `operation` over the rows of `scope` matching the filter (and
    /// `extra`), chunk by chunk.
    pub(crate) async fn walk<X, S>(
        mut self,
        executor: &X,
        operation: &'static str,
        scope: Visibility,
        extra: Condition,
        change: impl Fn(Condition) -> Result<S>,
    ) -> Result<Progress>
    where
        X: Executor,
        S: sea_query::QueryStatementWriter,
    {
        let walk = Walk {
            schema: E::SCHEMA,
            operation,
            scope,
            filter: self.filter.add(extra),
            after: self.after,
            so_far: None,
            pace: &mut self.pace,
        };
        walk.run(executor, change).await
    }
}

/// One chunked walk over a table.
pub(crate) struct Walk<'p> {
    pub(crate) schema: &'static TableSchema,
    pub(crate) operation: &'static str,
    pub(crate) scope: Visibility,
    pub(crate) filter: Condition,
    pub(crate) after: Option<Uuid>,
    /// What earlier walks of the same run did: its rows and chunks are
    /// counted on from there.
    pub(crate) so_far: Option<Progress>,
    pub(crate) pace: &'p mut Pace,
}

impl Walk<'_> {
    /// Walks the rows of `scope` matching `filter` in id order; for each
    /// chunk's id range, runs the statement `change` makes from the range's
    /// condition, in a transaction of its own, counting the rows it
    /// returns.
    pub(crate) async fn run<X, S>(
        self,
        executor: &X,
        change: impl Fn(Condition) -> Result<S>,
    ) -> Result<Progress>
    where
        X: Executor,
        S: sea_query::QueryStatementWriter,
    {
        let span = tracing::info_span!(
            "ordinance.bulk",
            "db.collection.name" = self.schema.name,
            operation = self.operation,
        );
        tracing::Instrument::instrument(self.chunks(executor, change), span).await
    }

    /// [`run`](Self::run)'s chunks, each in its span.
    async fn chunks<X, S>(
        self,
        executor: &X,
        change: impl Fn(Condition) -> Result<S>,
    ) -> Result<Progress>
    where
        X: Executor,
        S: sea_query::QueryStatementWriter,
    {
        let (schema, operation) = (self.schema, self.operation);
        let slow = DEFAULT_SLOW_STATEMENT;
        if executor.in_transaction() {
            return Err(Error::InvalidSetting {
                setting: "bulk",
                reason: format!(
                    "{operation} commits each chunk on its own, so its locks last one chunk; \
                     run it on a connection, not inside a transaction"
                ),
            });
        }
        let id = || Expr::col((Alias::new(schema.name), Alias::new("id")));
        let mut progress = Progress {
            table: schema.name,
            operation,
            rows: 0,
            chunks: 0,
            resume_after: self.after,
        };
        if let Some(earlier) = &self.so_far {
            progress.rows = earlier.rows;
            progress.chunks = earlier.chunks;
        }
        let mut matching = Condition::all().add(self.filter.clone());
        if let Some(scoped) = scope_condition(schema, self.scope) {
            matching = matching.add(scoped);
        }
        loop {
            let mut after = Condition::all();
            if let Some(last) = progress.resume_after {
                after = after.add(id().gt(last));
            }
            // The id that ends the next chunk.
            let mut chunk = select_schema(schema, Visibility::WithDeleted);
            chunk
                .clear_selects()
                .expr_as(id(), Alias::new("id"))
                .cond_where(matching.clone())
                .cond_where(after.clone())
                .order_by_expr(id(), Order::Asc)
                .limit(self.pace.chunk);
            // (PostgreSQL has no max(uuid): the last of the chunk instead.)
            let mut end = sea_query::Query::select();
            end.column(Alias::new("id"))
                .from_subquery(chunk, Alias::new("chunk"))
                .order_by(Alias::new("id"), Order::Desc)
                .limit(1);
            let step = async {
                let rows = rows_of(executor, slow, schema, &end, Access::Write, operation).await?;
                let upper: Option<Uuid> = match rows.first() {
                    Some(row) => crate::row::read(row, 0, schema.name, "id")?,
                    None => None,
                };
                let Some(upper) = upper else {
                    return Ok(None);
                };
                let range = Condition::all()
                    .add(matching.clone())
                    .add(after.clone())
                    .add(id().lte(upper));
                let changed = rows_of(
                    executor,
                    slow,
                    schema,
                    &change(range)?,
                    Access::Write,
                    operation,
                )
                .await?;
                Ok(Some((upper, changed.len() as u64)))
            };
            let chunk_span =
                tracing::info_span!("ordinance.bulk.chunk", chunk = progress.chunks + 1);
            match tracing::Instrument::instrument(step, chunk_span).await {
                Ok(Some((upper, changed))) => {
                    progress.rows += changed;
                    progress.chunks += 1;
                    progress.resume_after = Some(upper);
                    tracing::info!(
                        table = schema.name,
                        operation,
                        rows = progress.rows,
                        chunks = progress.chunks,
                        "ordinance.bulk: chunk committed"
                    );
                    if let Some(report) = self.pace.progress.as_mut() {
                        report(&progress);
                    }
                    if !self.pace.pause.is_zero() {
                        tokio::time::sleep(self.pace.pause).await;
                    }
                }
                Ok(None) => return Ok(progress),
                Err(source) => {
                    return Err(Error::Interrupted {
                        table: schema.name,
                        operation,
                        rows: progress.rows,
                        resume_after: progress.resume_after,
                        source: Box::new(source),
                    })
                }
            }
        }
    }
}
