//! Retention: rows soft-deleted longer ago than a given interval are
//! deleted for good, in chunks, without breaking foreign keys.
//!
//! A soft-deleted row that a `RESTRICT` foreign key still references (from
//! any entity linked into the program, live or deleted) is kept — deleting
//! it would fail — and counted in the log; [`Retention::purge_all`] purges
//! the dependants first, so a parent whose children went in the same run
//! goes too, and a table that references itself (a tree) is purged leaves
//! first, level by level, so a whole expired tree goes in one run. `CASCADE` and `SET NULL` references are the database's to
//! follow, as declared.
//!
//! Run it on a schedule: from the application (a `tokio` interval in one
//! instance, or under an advisory lock), or from `pg_cron` (see the
//! README).
//!
//! A time-partitioned entity (`#[entity(partitioned(...))]`) loses its
//! expired rows a whole partition at a time, by
//! [`partition::maintain`](crate::partition::maintain), never row by row;
//! this purge still removes its soft-deleted rows from the partitions it
//! keeps.
//!
//! ```no_run
//! # use ordinance::prelude::*;
//! # #[derive(Entity)] pub struct Post { pub id: Uuid, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! # async fn demo(conn: &ordinance::exec::Connection) -> ordinance::Result<()> {
//! use std::time::Duration;
//! use ordinance::bulk::retention::Retention;
//!
//! let ninety_days = Duration::from_secs(90 * 24 * 3600);
//! let purged = Retention::new(ninety_days).chunk(5_000).purge::<Post>(conn).await?;
//! println!("{} posts purged", purged.rows);
//! // Or every entity linked into the program, dependants first:
//! for table in Retention::new(ninety_days)
//!     .purge_all(conn, &ordinance::registered_schemas())
//!     .await?
//! {
//!     println!("{}: {} rows purged", table.table, table.rows);
//! }
//! # Ok(()) }
//! ```

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_query::{Alias, Condition, Expr, ExprTrait};
use tokio_postgres::types::Type;

use super::{Pace, Progress, Walk};
use crate::ddl::SchemaDdl;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::exec::{Access, Executor, Sql};
use crate::query::{table_ref, Visibility};
use crate::schema::{OnDelete, TableSchema};

/// The database clock's `now()` minus `$1` seconds: the cutoff of a purge.
const CUTOFF: &str = "SELECT now() - make_interval(secs => $1)";

/// How a retention purge runs: rows soft-deleted more than `older_than`
/// ago (by the database clock), [`DEFAULT_CHUNK`](super::DEFAULT_CHUNK) rows per chunk unless
/// told otherwise, each chunk its own transaction.
pub struct Retention {
    older_than: Duration,
    pace: Pace,
}

impl std::fmt::Debug for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retention")
            .field("older_than", &self.older_than)
            .field("pace", &self.pace)
            .finish()
    }
}

impl Retention {
    /// Purges rows whose `deleted_at` is more than `older_than` ago.
    pub fn new(older_than: Duration) -> Retention {
        Retention {
            older_than,
            pace: Pace::default(),
        }
    }

    /// Rows per chunk (at least 1).
    pub fn chunk(mut self, rows: u64) -> Self {
        self.pace.chunk(rows);
        self
    }

    /// Waits this long between chunks.
    pub fn pause(mut self, pause: Duration) -> Self {
        self.pace.pause(pause);
        self
    }

    /// Calls `report` after each committed chunk, of every table.
    pub fn on_progress(mut self, report: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.pace.on_progress(report);
        self
    }

    /// Purges `E`'s expired rows; [`Error::NoSoftDelete`] for an entity
    /// without soft delete.
    pub async fn purge<E: Entity>(mut self, executor: &impl Executor) -> Result<Progress> {
        if !E::SCHEMA.soft_deletes() {
            return Err(Error::NoSoftDelete {
                table: E::SCHEMA.name,
            });
        }
        let cutoff = cutoff(executor, self.older_than).await?;
        let dependants = crate::registered_schemas();
        self.purge_table(executor, E::SCHEMA, cutoff, &dependants)
            .await
    }

    /// Deletes the versions of `E`'s history (`#[entity(history)]`) that
    /// ended more than `older_than` ago — a row's current version always
    /// stays, so `as_of` answers for any instant still kept — in chunks of
    /// the oldest first, each chunk its own statement. The history is
    /// append-only for the application's role: run it as the tables'
    /// owner (a maintenance job). [`Error::InvalidSetting`] for an entity
    /// without history.
    pub async fn purge_history<E: Entity>(mut self, executor: &impl Executor) -> Result<Progress> {
        let schema = E::SCHEMA;
        crate::history::require_history(schema, "retention")?;
        let cutoff = cutoff(executor, self.older_than).await?;
        let h = crate::sql::history::history_ident(schema);
        // Oldest first, by the history's own order: the cursor only grows.
        let sql = format!(
            "DELETE FROM {h} WHERE \"history_id\" IN (SELECT \"history_id\" FROM {h} \
             WHERE \"history_id\" > $1 AND upper(\"valid\") < $2 \
             ORDER BY \"history_id\" LIMIT $3) RETURNING \"history_id\""
        );
        let mut progress = Progress {
            table: schema.name,
            operation: "purge_history",
            rows: 0,
            chunks: 0,
            resume_after: None,
        };
        let mut after: i64 = 0;
        let chunk = i64::try_from(self.pace.chunk).unwrap_or(i64::MAX);
        loop {
            let rows = executor
                .query(
                    Access::Write,
                    Sql::Built(&sql),
                    &[&after, &cutoff, &chunk],
                    &[Type::INT8, Type::TIMESTAMPTZ, Type::INT8],
                )
                .await
                .map_err(|e| Error::from_db(e, schema))?;
            if rows.is_empty() {
                return Ok(progress);
            }
            for row in &rows {
                let id: i64 = crate::row::read(row, 0, schema.name, "history_id")?;
                after = Ord::max(after, id);
            }
            progress.rows += rows.len() as u64;
            progress.chunks += 1;
            if let Some(report) = self.pace.progress.as_mut() {
                report(&progress);
            }
            if !self.pace.pause.is_zero() {
                tokio::time::sleep(self.pace.pause).await;
            }
        }
    }

    /// Purges the expired rows of every soft-deleting table among
    /// `schemas`, dependants before the tables they reference; one report
    /// per table, in the order purged. One cutoff, taken at the start,
    /// serves every table.
    pub async fn purge_all(
        mut self,
        executor: &impl Executor,
        schemas: &[&'static TableSchema],
    ) -> Result<Vec<Progress>> {
        let order = SchemaDdl::new(schemas)?;
        let cutoff = cutoff(executor, self.older_than).await?;
        let mut dependants = crate::registered_schemas();
        dependants.extend(schemas.iter().copied());
        dependants.sort_by_key(|s| s.key());
        dependants.dedup_by_key(|s| s.key());
        let mut reports = Vec::new();
        for schema in order.tables().iter().rev().filter(|s| s.soft_deletes()) {
            reports.push(
                self.purge_table(executor, schema, cutoff, &dependants)
                    .await?,
            );
        }
        Ok(reports)
    }

    async fn purge_table(
        &mut self,
        executor: &impl Executor,
        schema: &'static TableSchema,
        cutoff: DateTime<Utc>,
        dependants: &[&'static TableSchema],
    ) -> Result<Progress> {
        let table = || Alias::new(schema.name);
        let mut expired =
            Condition::all().add(Expr::col((table(), Alias::new("deleted_at"))).lt(cutoff));
        // Rows a RESTRICT foreign key still points at stay.
        for dependant in dependants {
            for fk in dependant.foreign_keys.iter().filter(|fk| {
                fk.on_delete == OnDelete::Restrict
                    && (fk.references_schema, fk.references) == schema.key()
            }) {
                let mut referencing = sea_query::Query::select();
                referencing
                    .expr(Expr::val(1))
                    .from_as(table_ref(dependant), Alias::new("dependant"))
                    .and_where(
                        Expr::col((Alias::new("dependant"), Alias::new(fk.column)))
                            .equals((table(), Alias::new("id"))),
                    );
                expired = expired.add(Expr::exists(referencing).not());
            }
        }
        // A table that references itself with RESTRICT (a tree) frees its
        // parents only as their children go: each pass takes the rows no
        // row references any more — the leaves — and the next pass their
        // parents, until a pass takes nothing. A whole expired tree goes in
        // one run; a row a live row still references stays.
        let tree = schema.foreign_keys.iter().any(|fk| {
            fk.on_delete == OnDelete::Restrict
                && (fk.references_schema, fk.references) == schema.key()
        });
        let mut so_far: Option<Progress> = None;
        loop {
            let walk = Walk {
                schema,
                operation: "purge_deleted",
                scope: Visibility::OnlyDeleted,
                filter: expired.clone(),
                after: None,
                so_far: so_far.clone(),
                pace: &mut self.pace,
            };
            let before = so_far.as_ref().map_or(0, |p| p.rows);
            let progress = walk
                .run(executor, |range| {
                    let mut q = sea_query::Query::delete();
                    q.from_table(table_ref(schema))
                        .cond_where(range)
                        .returning(sea_query::Query::returning().column(Alias::new("id")));
                    Ok(q)
                })
                .await?;
            if !tree || progress.rows == before {
                return Ok(progress);
            }
            so_far = Some(progress);
        }
    }
}

/// The database clock's `now()` minus `older_than`. (A free function: a
/// `&Retention` held across the query would make the futures `!Send`, its
/// callback being `Send` but not `Sync`.)
async fn cutoff(executor: &impl Executor, older_than: Duration) -> Result<DateTime<Utc>> {
    let seconds = older_than.as_secs_f64();
    let row = executor
        .query_opt(
            Access::Write,
            Sql::Fixed(CUTOFF),
            &[&seconds],
            &[Type::FLOAT8],
        )
        .await?;
    match row {
        Some(row) => crate::row::read(&row, 0, "now()", "cutoff"),
        None => Err(Error::InvalidSetting {
            setting: "retention",
            reason: "the server returned no time".into(),
        }),
    }
}
