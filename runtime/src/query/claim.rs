//! Claiming rows from a table used as a work queue: one `UPDATE` marks up
//! to N matching rows, skipping rows other workers hold.

use std::marker::PhantomData;

use sea_query::{
    Alias, Condition, Expr, ExprTrait, Func, IntoCondition, Order, SubQueryStatement,
    UpdateStatement,
};

use super::{all_columns, caller_sets, select_schema, table_ref, touch, RowLock, Visibility};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::schema::TableSchema;

/// Up to `limit` live rows matching a filter, taken by one worker: the
/// rows are locked with `FOR UPDATE SKIP LOCKED` (so concurrent workers
/// take disjoint rows and never wait for each other) and marked with the
/// claim's `SET` list in the same statement, with `updated_at = now()` and
/// `version + 1` as on every write. Once the statement commits, the marks
/// (a status, a worker id) keep the rows out of the next claim's filter.
/// Run it with [`Repo::claim`](crate::repo::Repo::claim).
///
/// ```
/// # use ordinance::prelude::*;
/// # #[derive(Entity)] pub struct Job { pub id: Uuid, #[column(max_len = 20)] pub state: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// use ordinance::deps::sea_query::{Expr, ExprTrait, PostgresQueryBuilder};
/// use ordinance::query::Claim;
///
/// let claim = Claim::<Job>::new(100)
///     .filter(Expr::col(JobColumn::State).eq("queued"))
///     .set(JobColumn::State, "running");
/// let (sql, _) = claim.statement()?.build(PostgresQueryBuilder);
/// assert!(sql.starts_with(r#"UPDATE "jobs" SET "state" = $1, "updated_at" = now(), "version" = "version" + 1 WHERE "id" = ANY(ARRAY((SELECT "jobs"."id" FROM "jobs" WHERE "jobs"."deleted_at" IS NULL AND "state" = $2 ORDER BY "id" ASC LIMIT $3 FOR UPDATE SKIP LOCKED)))"#), "{sql}");
/// # Ok::<(), ordinance::Error>(())
/// ```
pub struct Claim<E: Entity> {
    limit: u64,
    filter: Condition,
    order: Vec<(E::Column, Order)>,
    sets: Vec<(E::Column, Expr)>,
    entity: PhantomData<fn() -> E>,
}

impl<E: Entity> Clone for Claim<E> {
    fn clone(&self) -> Self {
        Claim {
            limit: self.limit,
            filter: self.filter.clone(),
            order: self.order.clone(),
            sets: self.sets.clone(),
            entity: PhantomData,
        }
    }
}

impl<E: Entity> std::fmt::Debug for Claim<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The filter and values may carry personal data: counts only.
        f.debug_struct("Claim")
            .field("table", &E::SCHEMA.name)
            .field("limit", &self.limit)
            .field("sets", &self.sets.len())
            .finish_non_exhaustive()
    }
}

impl<E: Entity> Claim<E> {
    /// Claims at most `limit` rows, oldest id first (UUIDv7 ids are in
    /// creation order), of every live row until [`filter`](Self::filter)
    /// narrows it.
    pub fn new(limit: u64) -> Self {
        Claim {
            limit,
            filter: Condition::all(),
            order: Vec::new(),
            sets: Vec::new(),
            entity: PhantomData,
        }
    }

    /// Only rows meeting `condition` (ANDed with earlier filters).
    pub fn filter(mut self, condition: impl IntoCondition) -> Self {
        self.filter = self.filter.add(condition);
        self
    }

    /// Takes rows in this column's order first (then by id): a priority,
    /// a due time.
    pub fn order_by(mut self, column: E::Column, order: Order) -> Self {
        self.order.push((column, order));
        self
    }

    /// Marks each claimed row: `column = value`. A business column; the
    /// kit's own columns are refused.
    pub fn set(mut self, column: E::Column, value: impl Into<Expr>) -> Self {
        self.sets.push((column, value.into()));
        self
    }

    /// The `UPDATE ... WHERE id = ANY(ARRAY((SELECT id ... FOR UPDATE SKIP
    /// LOCKED))) RETURNING *` statement. The subquery runs exactly once (an
    /// array is built from it), so its `LIMIT` is never re-evaluated.
    ///
    /// [`Error::InvalidSetting`] when nothing is set (the rows would still
    /// match the filter, and the next claim would take them again), or a
    /// kit-maintained column is.
    pub fn statement(&self) -> Result<UpdateStatement> {
        let schema = E::SCHEMA;
        if self.sets.is_empty() {
            return Err(Error::InvalidSetting {
                setting: "Claim::set",
                reason: "a claim must mark the rows it takes (a status, a worker id), or they \
                         still match the filter and the next claim takes them again"
                    .into(),
            });
        }
        let order: Vec<(Alias, Order)> = self
            .order
            .iter()
            .map(|(column, order)| {
                (
                    Alias::new(sea_query::Iden::to_string(column)),
                    order.clone(),
                )
            })
            .collect();
        Ok(claim_statement(
            schema,
            self.limit,
            self.filter.clone(),
            &order,
            caller_sets(schema, self.sets.clone())?,
        ))
    }
}

/// A claim's statement on `schema`: what [`Claim::statement`] renders,
/// and (with no filter, order or sets) the fixed part the statement
/// catalog proves.
pub(crate) fn claim_statement(
    schema: &'static TableSchema,
    limit: u64,
    filter: Condition,
    order: &[(Alias, Order)],
    sets: Vec<(Alias, Expr)>,
) -> UpdateStatement {
    let mut pick = select_schema(schema, Visibility::Live);
    pick.clear_selects();
    pick.column((Alias::new(schema.name), Alias::new("id")))
        .cond_where(filter);
    for (column, order) in order {
        pick.order_by(column.clone(), order.clone());
    }
    pick.order_by(Alias::new("id"), Order::Asc).limit(limit);
    RowLock::UPDATE.skip_locked().apply(&mut pick);
    let ids = Func::cust("ARRAY").arg(Expr::SubQuery(
        None,
        Box::new(SubQueryStatement::SelectStatement(pick)),
    ));
    let mut q = sea_query::Query::update();
    q.table(table_ref(schema)).values(sets);
    touch(schema, &mut q);
    q.and_where(Expr::col(Alias::new("id")).eq(Func::cust("ANY").arg(ids)))
        .returning(sea_query::Query::returning().columns(all_columns(schema)));
    q
}
