//! An executor that explains statements instead of running them, so a
//! test can check the plans of the kit's own reads — scoped selects,
//! pages, relation loads, joins — exactly as the kit builds them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use futures_util::stream;
use tokio_postgres::types::Type;
use tokio_postgres::Row;

use super::plan::Plan;
use crate::ddl::quote_ident;
use crate::error::{Error, Failure, Result};
use crate::exec::{Access, Connection, Executor, Sql};
use crate::params::SqlParam;

/// The planner settings an [`Explain`] sets on its connection.
///
/// A test table holds a handful of rows, and for a handful of rows a
/// sequential scan is the cheapest plan, so a plan taken as it is would
/// say nothing about the table at production size. PostgreSQL documents
/// `enable_seqscan = off` for exactly this: the planner then takes a
/// sequential scan only when nothing else can answer the statement (no
/// index fits), so a plan that still reads a table in full points at a
/// missing index, whatever the table's size. Sorts are left enabled: a
/// plan without a sort shows that an index gives the order.
///
/// The plan checked is the generic one (`plan_cache_mode =
/// force_generic_plan`): the plan a prepared statement settles on after a
/// few runs, made without looking at the values. So it holds for any
/// values, and no value reaches the plan's text or a failure message.
pub const PLANNER_SETTINGS: &[(&str, &str)] = &[
    ("enable_seqscan", "off"),
    ("plan_cache_mode", "force_generic_plan"),
];

/// Runs every statement given to it as `EXPLAIN (FORMAT JSON) …` on its own
/// connection, keeps the plans, and answers with no rows. Hand it to the
/// operation whose plan matters, then check the plan:
///
/// ```no_run
/// # use ordinance::prelude::*;
/// # #[derive(Entity, Debug)] #[entity(keyset(created_at desc, id desc))] pub struct Post { pub id: Uuid, #[column(max_len = 200)] pub title: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// # async fn demo(db: &ordinance::testing::TestDatabase) -> ordinance::Result<()> {
/// use ordinance::page::Pager;
/// use ordinance::repo::Repo;
/// use ordinance::testing::{Expect, Explain};
///
/// let explain = Explain::new(db.connect().await?).await?;
/// Repo::new(&explain).first_page(&Pager::<Post>::new()?).await?;
/// explain.last().expect("one statement").assert(&[
///     Expect::Index("idx_posts_created_at_id"),
///     Expect::NoSort,
///     Expect::NoFullScan("posts"),
/// ]);
/// # Ok(()) }
/// ```
///
/// The values the operation binds are not sent: the plan is the generic
/// one (see [`PLANNER_SETTINGS`]). Nothing runs, writes included
/// (`EXPLAIN` without `ANALYZE` only plans); an operation that needs a row back (a `get`)
/// fails with [`Error::NotFound`](crate::Error::NotFound) after its plan
/// was kept.
pub struct Explain {
    connection: Connection,
    plans: Mutex<Vec<Plan>>,
    next: AtomicU64,
}

impl std::fmt::Debug for Explain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Explain")
            .field("plans", &self.plans().len())
            .finish()
    }
}

impl Explain {
    /// Explains on `connection`, after applying [`PLANNER_SETTINGS`] to
    /// it for the rest of its session (so give it a connection of its own).
    pub async fn new(connection: Connection) -> Result<Explain> {
        let client: &tokio_postgres::Client = &connection;
        for (name, value) in PLANNER_SETTINGS {
            client
                .query("SELECT set_config($1, $2, false)", &[name, value])
                .await
                .map_err(|e| crate::error::classify(e, None, &[]))?;
        }
        Ok(Explain {
            connection,
            plans: Mutex::new(Vec::new()),
            next: AtomicU64::new(0),
        })
    }

    /// The plans so far, oldest first.
    pub fn plans(&self) -> Vec<Plan> {
        self.lock().clone()
    }

    /// The plans so far, forgetting them.
    pub fn take(&self) -> Vec<Plan> {
        std::mem::take(&mut *self.lock())
    }

    /// The newest plan, forgetting it.
    pub fn last(&self) -> Option<Plan> {
        self.lock().pop()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Plan>> {
        self.plans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Explain {
    /// The generic plan of `sql`: prepared by name under
    /// `plan_cache_mode = force_generic_plan`, explained with NULL for
    /// every parameter (the generic plan does not look at them), then
    /// deallocated.
    async fn explain(&self, sql: &str, params: usize, types: &[Type]) -> Result<Plan> {
        let client: &tokio_postgres::Client = &self.connection;
        let name = format!(
            "ordinance_explain_{}",
            self.next.fetch_add(1, Ordering::Relaxed)
        );
        let declared = if types.len() == params && params > 0 {
            let names: Vec<String> = types
                .iter()
                .map(|t| format!("{}.{}", quote_ident(t.schema()), quote_ident(t.name())))
                .collect();
            format!("({})", names.join(", "))
        } else {
            String::new()
        };
        let nulls = vec!["NULL"; params].join(", ");
        let failed = |e| crate::error::classify(e, None, &[]);
        client
            .batch_execute(&format!("PREPARE {name}{declared} AS {sql}"))
            .await
            .map_err(failed)?;
        let explained = client
            .query_opt(
                &format!(
                    "EXPLAIN (FORMAT JSON) EXECUTE {name}{}",
                    if params > 0 {
                        format!("({nulls})")
                    } else {
                        String::new()
                    }
                ),
                &[],
            )
            .await;
        client
            .batch_execute(&format!("DEALLOCATE {name}"))
            .await
            .map_err(failed)?;
        let json: serde_json::Value = match &explained.map_err(failed)? {
            Some(row) => crate::row::read(row, 0, "explain", "QUERY PLAN")?,
            None => serde_json::Value::Null,
        };
        Plan::from_json(sql, &json).ok_or_else(|| Error::ServerSetup {
            step: "explain",
            detail: format!("EXPLAIN (FORMAT JSON) returned no plan but {json}"),
        })
    }
}

impl Executor for Explain {
    type Rows = stream::Empty<std::result::Result<Row, tokio_postgres::Error>>;

    async fn rows<'a>(
        &'a self,
        _: Access,
        sql: Sql<'a>,
        params: &'a [SqlParam<'a>],
        types: &'a [Type],
    ) -> std::result::Result<Self::Rows, Failure> {
        let plan = self.explain(sql.text(), params.len(), types).await?;
        self.lock().push(plan);
        Ok(stream::empty())
    }

    fn in_transaction(&self) -> bool {
        false
    }
}
