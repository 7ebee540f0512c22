//! Applying and reverting migrations under the runners' advisory lock,
//! with their bookkeeping in `schema_migrations`.

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::error::{Error, Result};

use super::files::{directives, Migration, Migrations};
use super::{diagnose, plan, split, BACKFILL_PAUSE, MIGRATIONS_TABLE, NO_TRANSACTION};

/// The advisory-lock key runners share: the ASCII bytes of `ordimigr`.
const LOCK_KEY: i64 = 0x6f72_6469_6d69_6772;
/// A migration that ran, and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// How long its statements took.
    pub duration: Duration,
}

/// Which migrations a run applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Through {
    /// Pending migrations up to the first contract one.
    Expand,
    /// Every pending migration.
    Contract,
    /// Every pending migration, backfills recorded without running (an
    /// empty scratch database has no rows to fill), unfilled ones included.
    Schema,
    /// Pending migrations up to and including this version, contract ones
    /// included.
    Version(i64),
}

impl Migrations {
    /// The migrations not yet applied to the database, in the order
    /// [`up`](Self::up) would run them — the dry run. Checks applied ones
    /// as `up` does; changes nothing.
    pub async fn pending(&self, client: &Client) -> Result<Vec<&Migration>> {
        let applied = applied(client).await?;
        self.verify(&applied)?;
        Ok(self
            .list
            .iter()
            .filter(|m| !applied.iter().any(|a| a.0 == m.version))
            .collect())
    }

    /// What each pending migration's statements will do to the running
    /// application: the table lock each takes, whether it rewrites or scans
    /// the table, and whether it runs in a transaction (see [`plan`]).
    pub async fn plan(&self, client: &Client) -> Result<Vec<plan::MigrationPlan>> {
        Ok(plan::plan(&self.pending(client).await?))
    }

    /// What [`up`](Self::up) would run, as text: each pending migration and
    /// its statements.
    pub async fn dry_run(&self, client: &Client) -> Result<String> {
        let mut out = String::new();
        let pending = self.pending(client).await?;
        if pending.is_empty() {
            out.push_str("nothing to apply\n");
        }
        for m in pending {
            out.push_str(&format!(
                "-- would apply {}_{}{}\n",
                m.version,
                m.name,
                if m.transactional {
                    ""
                } else {
                    " (outside a transaction)"
                }
            ));
            for s in m.statements() {
                out.push_str(s);
                out.push_str(";\n");
            }
        }
        Ok(out)
    }

    /// The expand phase: applies pending migrations, oldest first, up to
    /// the first contract migration (`-- ordinance:contract`), each in its
    /// own transaction unless marked otherwise, under an advisory lock. Run
    /// it before the new application version rolls out; the previous
    /// version keeps working. Refuses with [`Error::MigrationChanged`] /
    /// [`Error::MigrationMissing`] before running anything when an applied
    /// migration's file was edited or removed, and with
    /// [`Error::MigrationNeedsFilling`] when one it would run still holds a
    /// [`FILL_IN`](super::FILL_IN) mark. A failing statement is [`Error::MigrationFailed`],
    /// naming it; its transaction leaves nothing behind.
    pub async fn up(&self, client: &mut Client) -> Result<Vec<Applied>> {
        self.apply(client, Through::Expand).await
    }

    /// The contract phase: applies every pending migration, contract ones
    /// (backfills, validations, `SET NOT NULL`, drops) included, as
    /// [`up`](Self::up) does. Run it once no instance of the previous
    /// application version is left.
    pub async fn contract(&self, client: &mut Client) -> Result<Vec<Applied>> {
        self.apply(client, Through::Contract).await
    }

    /// Applies pending migrations up to and including `version`, contract
    /// ones included, as [`contract`](Self::contract) does: one step of a
    /// deploy at a time (how [`proof::verify`](crate::proof::verify)
    /// walks the phases).
    pub async fn up_to(&self, client: &mut Client, version: i64) -> Result<Vec<Applied>> {
        self.apply(client, Through::Version(version)).await
    }

    /// Every pending migration's schema, on a database without rows: how
    /// the generator builds the schema the migrations produce.
    #[cfg(any(feature = "testing", doc))]
    pub(crate) async fn apply_schema(&self, client: &mut Client) -> Result<Vec<Applied>> {
        self.apply(client, Through::Schema).await
    }

    async fn apply(&self, client: &mut Client, through: Through) -> Result<Vec<Applied>> {
        self.locked(client, async |client: &mut Client, this: &Migrations| {
            let applied = applied(client).await?;
            this.verify(&applied)?;
            let to_run: Vec<&Migration> = this
                .list
                .iter()
                .filter(|m| !applied.iter().any(|a| a.0 == m.version))
                .take_while(|m| match through {
                    Through::Expand => !m.contract,
                    Through::Version(v) => m.version <= v,
                    _ => true,
                })
                .collect();
            let needs_filling = to_run.iter().find(|m| m.needs_filling);
            if let (Some(m), false) = (needs_filling, through == Through::Schema) {
                return Err(Error::MigrationNeedsFilling {
                    version: m.version,
                    name: m.name.clone(),
                });
            }
            let mut done = Vec::new();
            for m in to_run {
                let span = tracing::info_span!(
                    "ordinance.migration",
                    version = m.version,
                    name = m.name.as_str(),
                    backfill = m.backfill,
                );
                let ran = tracing::Instrument::instrument(this.apply_one(client, m, through), span)
                    .await?;
                this.report(&format!(
                    "applied {}_{} in {} ms",
                    m.version,
                    m.name,
                    ran.duration.as_millis()
                ));
                done.push(ran);
            }
            Ok(done)
        })
        .await
    }

    /// Runs one migration `apply` chose.
    async fn apply_one(
        &self,
        client: &mut Client,
        m: &Migration,
        through: Through,
    ) -> Result<Applied> {
        if m.backfill && through == Through::Schema {
            run(self, client, m, &[], false, Record::Insert).await
        } else if m.backfill {
            self.backfill(client, m).await
        } else {
            run(
                self,
                client,
                m,
                &m.statements(),
                m.transactional,
                Record::Insert,
            )
            .await
        }
    }

    /// Runs a backfill migration: statements taking `$1` in batches, one
    /// transaction each, pausing between batches; others once.
    async fn backfill(&self, client: &mut Client, m: &Migration) -> Result<Applied> {
        let started = Instant::now();
        let pause = self.backfill_pause.unwrap_or(BACKFILL_PAUSE);
        record_started(client, m).await?;
        let mut filled: i64 = 0;
        for (i, statement) in m.statements().into_iter().enumerate() {
            let failed = |source| m.failed(i, statement, source);
            if !statement.contains("$1") {
                // A check (`SELECT count(*) AS rows_left ...`) says how many
                // rows the batches before it left without a value.
                let left = rows_left(&client.simple_query(statement).await.map_err(failed)?);
                if let Some(left) = left {
                    self.report(&format!(
                        "backfill {}_{} statement {}: {filled} rows filled, {left} left",
                        m.version, m.name, i
                    ));
                    if left > 0 {
                        return Err(Error::BackfillIncomplete {
                            version: m.version,
                            name: m.name.clone(),
                            statement: i,
                            filled,
                            left,
                        });
                    }
                }
                continue;
            }
            let mut last = uuid::Uuid::nil();
            let mut total: i64 = 0;
            loop {
                let batch = tracing::info_span!(
                    "ordinance.backfill.batch",
                    version = m.version,
                    statement = i + 1,
                    rows = tracing::field::Empty,
                );
                let row = tracing::Instrument::instrument(
                    client.query_one(statement, &[&last]),
                    batch.clone(),
                )
                .await
                .map_err(failed)?;
                let batch_end: Option<uuid::Uuid> =
                    crate::row::read(&row, 0, "backfill", "last id")?;
                let changed: Option<i64> = crate::row::read(&row, 1, "backfill", "rows changed")?;
                batch.record("rows", changed.unwrap_or(0));
                let Some(end) = batch_end else { break };
                let changed = changed.unwrap_or(0);
                total += changed;
                last = end;
                self.report(&format!(
                    "backfill {}_{} statement {}: {total} rows so far",
                    m.version,
                    m.name,
                    i + 1
                ));
                tokio::time::sleep(pause).await;
            }
            filled = total;
        }
        let elapsed = finish_outside_transaction(client, m, started, Record::Insert).await?;
        Ok(Applied {
            version: m.version,
            name: m.name.clone(),
            duration: elapsed,
        })
    }

    /// Reverts applied migrations newer than `target` (0 reverts them all),
    /// newest first, with their down files. [`Error::NoDownMigration`] before
    /// anything runs if one of them has none.
    pub async fn down_to(&self, client: &mut Client, target: i64) -> Result<Vec<Applied>> {
        self.locked(client, async |client: &mut Client, this: &Migrations| {
            let applied = applied(client).await?;
            this.verify(&applied)?;
            // Applied ones, and ones that stopped part-way outside a
            // transaction: their down files (every generated statement of
            // which can run whatever is there) revert what they did.
            let unfinished = unfinished(client).await?;
            let revert: Vec<&Migration> = this
                .list
                .iter()
                .rev()
                .filter(|m| {
                    m.version > target
                        && (applied.iter().any(|a| a.0 == m.version)
                            || unfinished.iter().any(|u| u.0 == m.version))
                })
                .collect();
            for m in &revert {
                if m.down.is_none() {
                    return Err(Error::NoDownMigration {
                        version: m.version,
                        name: m.name.clone(),
                    });
                }
            }
            let mut done = Vec::new();
            for m in revert {
                let down = m.down.as_deref().unwrap_or_default();
                let statements = split::statements(down);
                let transactional = !directives(down).contains(&NO_TRANSACTION);
                done.push(run(this, client, m, &statements, transactional, Record::Delete).await?);
            }
            Ok(done)
        })
        .await
    }

    /// Every applied migration must still have its file, unchanged.
    fn verify(&self, applied: &[(i64, String, String)]) -> Result<()> {
        for (version, name, checksum) in applied {
            match self.list.iter().find(|m| m.version == *version) {
                None => {
                    return Err(Error::MigrationMissing {
                        version: *version,
                        name: name.clone(),
                    })
                }
                Some(m) if &m.checksum != checksum => {
                    return Err(Error::MigrationChanged {
                        version: *version,
                        name: name.clone(),
                    })
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Runs `work` holding the runners' advisory lock, with the bookkeeping
    /// table in place; the lock is released whatever `work` returns.
    async fn locked<T>(
        &self,
        client: &mut Client,
        work: impl AsyncFnOnce(&mut Client, &Migrations) -> Result<T>,
    ) -> Result<T> {
        take_lock(client).await?;
        let result = async {
            client
                .batch_execute(&format!(
                    "CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (\n\
                     version BIGINT PRIMARY KEY,\n\
                     name TEXT NOT NULL,\n\
                     checksum TEXT NOT NULL,\n\
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n\
                     execution_ms BIGINT NOT NULL,\n\
                     finished BOOLEAN NOT NULL DEFAULT true\n)"
                ))
                .await?;
            add_finished_column(client).await?;
            // A migration sees every row or fails: with row-level security
            // off, a statement the policies would filter for this role is
            // refused (42501) instead of changing fewer rows than exist —
            // a backfill that fills nothing never reports success.
            client.batch_execute("SET row_security = off").await?;
            match work(client, self).await {
                Err(e) => Err(diagnose::explain(client, e).await),
                done => done,
            }
        }
        .await;
        let reset = client.batch_execute("RESET row_security").await;
        let unlocked = client
            .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
            .await;
        let value = result?;
        reset?;
        unlocked?;
        Ok(value)
    }
}

/// Takes the runners' advisory lock, waiting for it between tries rather
/// than inside `pg_advisory_lock`: a runner blocked in that statement is a
/// running transaction, whose snapshot a concurrent index build of the
/// runner holding the lock waits for — a deadlock (40P01) when several
/// instances start at once. Between tries this runner holds no snapshot.
async fn take_lock(client: &Client) -> Result<()> {
    let mut pause = Duration::from_millis(5);
    loop {
        let row = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
            .await?;
        if crate::row::read::<bool>(&row, 0, "pg_try_advisory_lock", "locked")? {
            return Ok(());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// `(version, name, checksum)` of every applied migration; none when the
/// bookkeeping table does not exist yet.
async fn applied(client: &Client) -> Result<Vec<(i64, String, String)>> {
    Ok(recorded(client)
        .await?
        .into_iter()
        .filter(|r| r.3)
        .map(|(version, name, checksum, _)| (version, name, checksum))
        .collect())
}

/// `(version, name)` of every migration that ran outside a transaction and
/// stopped part-way: started, never finished. `up` and `contract` run them
/// again from the start (every generated statement outside a transaction
/// can run twice); `down_to` reverts them with their down files.
async fn unfinished(client: &Client) -> Result<Vec<(i64, String)>> {
    Ok(recorded(client)
        .await?
        .into_iter()
        .filter(|r| !r.3)
        .map(|(version, name, _, _)| (version, name))
        .collect())
}

/// `(version, name, checksum, finished)` of every migration on record, in
/// version order; none when the bookkeeping table does not exist yet.
async fn recorded(client: &Client) -> Result<Vec<(i64, String, String, bool)>> {
    use crate::row::read;
    let exists = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&format!("public.{MIGRATIONS_TABLE}")],
        )
        .await?;
    if !read::<bool>(&exists, 0, MIGRATIONS_TABLE, "to_regclass")? {
        return Ok(Vec::new());
    }
    // A table made before `finished` existed holds finished migrations only.
    let finished = if has_finished_column(client).await? {
        "finished"
    } else {
        "true"
    };
    // A bookkeeping table made by another tool may have other column types:
    // that is a typed error naming the column, not a panic.
    client
        .query(
            &format!(
                "SELECT version, name, checksum, {finished} FROM {MIGRATIONS_TABLE} ORDER BY version"
            ),
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                read(r, 0, MIGRATIONS_TABLE, "version")?,
                read(r, 1, MIGRATIONS_TABLE, "name")?,
                read(r, 2, MIGRATIONS_TABLE, "checksum")?,
                read(r, 3, MIGRATIONS_TABLE, "finished")?,
            ))
        })
        .collect()
}

/// Whether the bookkeeping table has `finished` (tables made before it
/// was added have not, until a runner adds it).
async fn has_finished_column(client: &Client) -> Result<bool> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass($1) \
             AND attname = 'finished' AND NOT attisdropped)",
            &[&format!("public.{MIGRATIONS_TABLE}")],
        )
        .await?;
    crate::row::read(&row, 0, MIGRATIONS_TABLE, "finished")
}

/// Adds `finished` to a bookkeeping table made before it existed: its
/// rows were all finished.
async fn add_finished_column(client: &Client) -> Result<()> {
    if !has_finished_column(client).await? {
        client
            .batch_execute(&format!(
                "ALTER TABLE {MIGRATIONS_TABLE} ADD COLUMN finished BOOLEAN NOT NULL DEFAULT true"
            ))
            .await?;
    }
    Ok(())
}

/// Records that `m`, which runs outside a transaction, has started: until
/// it finishes, a failure or a kill leaves it marked unfinished.
async fn record_started(client: &Client, m: &Migration) -> Result<()> {
    let sql = format!(
        "INSERT INTO {MIGRATIONS_TABLE} (version, name, checksum, execution_ms, finished) \
         VALUES ($1, $2, $3, 0, false) \
         ON CONFLICT (version) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()"
    );
    client
        .execute(&sql, &[&m.version, &m.name, &m.checksum])
        .await?;
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Record {
    Insert,
    Delete,
}

/// Runs a migration's statements one by one (in a transaction when
/// `transactional`) and records it applied or reverted. A statement that
/// gave up waiting for a lock (`lock_timeout`) runs the migration again
/// from its start, after a wait that doubles each time, as
/// [`LockRetries`](super::LockRetries) says, each wait reported: its
/// transaction left nothing, and a migration outside a transaction is
/// written to run again from the start.
async fn run(
    this: &Migrations,
    client: &mut Client,
    m: &Migration,
    statements: &[&str],
    transactional: bool,
    record: Record,
) -> Result<Applied> {
    let retries = this.lock_retries;
    let mut attempt = 1;
    let duration = loop {
        let observer = this.observer.as_ref();
        match run_statements(client, m, statements, transactional, record, observer).await {
            Err(e) if attempt < retries.attempts && waited_for_lock(&e) => {
                let wait = retries.first_wait * 2u32.saturating_pow(attempt - 1);
                this.report(&format!(
                    "{}_{}: a statement gave up waiting for a lock ({}); running it again in {} ms \
                     (attempt {} of {})",
                    m.version,
                    m.name,
                    e,
                    wait.as_millis(),
                    attempt + 1,
                    retries.attempts
                ));
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            other => break other?,
        }
    };
    Ok(Applied {
        version: m.version,
        name: m.name.clone(),
        duration,
    })
}

/// What a rehearsal learns of each statement the runner ran: when it ran,
/// and the table locks its session held right after it.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "tools"), allow(dead_code))]
pub(crate) struct Seen {
    pub(crate) version: i64,
    pub(crate) sql: String,
    pub(crate) started: Instant,
    pub(crate) finished: Instant,
    pub(crate) in_transaction: bool,
    /// `(table, lock mode)` held by the runner's session after it.
    pub(crate) locks: Vec<(String, String)>,
}

/// Where the runner writes what it saw.
pub(crate) type Observer = std::sync::Arc<std::sync::Mutex<Vec<Seen>>>;

/// The table locks the session holds (a rehearsal's view, after each
/// statement).
const HELD_LOCKS: &str = "SELECT CASE WHEN n.nspname = 'public' THEN c.relname::text \
     ELSE n.nspname || '.' || c.relname END, l.mode \
     FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted \
       AND c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
       AND c.relname <> 'schema_migrations'";

/// Records a statement of `m` for the observer, with the locks held.
async fn observe(
    observer: Option<&Observer>,
    client: &impl tokio_postgres::GenericClient,
    m: &Migration,
    sql: &str,
    started: Instant,
    in_transaction: bool,
) -> Result<()> {
    let Some(observer) = observer else {
        return Ok(());
    };
    let finished = Instant::now();
    let mut locks = Vec::new();
    for row in client.query(HELD_LOCKS, &[]).await? {
        locks.push((
            crate::row::read(&row, 0, "pg_locks", "relname")?,
            crate::row::read(&row, 1, "pg_locks", "mode")?,
        ));
    }
    observer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Seen {
            version: m.version,
            sql: sql.to_owned(),
            started,
            finished,
            in_transaction,
            locks,
        });
    Ok(())
}

/// Whether a migration failed because a statement waited longer than
/// `lock_timeout` for its lock.
fn waited_for_lock(e: &Error) -> bool {
    match e {
        Error::MigrationFailed { source, .. } => {
            source.sqlstate() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE)
        }
        _ => false,
    }
}

async fn run_statements(
    client: &mut Client,
    m: &Migration,
    statements: &[&str],
    transactional: bool,
    record: Record,
    observer: Option<&Observer>,
) -> Result<Duration> {
    let started = Instant::now();
    if transactional {
        let tx = client.transaction().await?;
        for (i, s) in statements.iter().enumerate() {
            let at = Instant::now();
            tx.batch_execute(s).await.map_err(|e| m.failed(i, s, e))?;
            observe(observer, &tx, m, s, at, true).await?;
        }
        let elapsed = started.elapsed();
        record_row(&tx, m, elapsed, record).await?;
        tx.commit().await?;
        Ok(elapsed)
    } else {
        if record == Record::Insert {
            record_started(client, m).await?;
        }
        for (i, s) in statements.iter().enumerate() {
            let at = Instant::now();
            client
                .batch_execute(s)
                .await
                .map_err(|e| m.failed(i, s, e))?;
            observe(observer, &*client, m, s, at, false).await?;
        }
        finish_outside_transaction(client, m, started, record).await
    }
}

/// The column a backfill's check names its count by.
pub const ROWS_LEFT: &str = "rows_left";

/// The count of a check statement's one row (`SELECT count(*) AS
/// rows_left ...`), if the statement was one.
fn rows_left(messages: &[tokio_postgres::SimpleQueryMessage]) -> Option<i64> {
    messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row)
            if row.columns().first().map(|c| c.name()) == Some(ROWS_LEFT) =>
        {
            row.try_get(0).ok().flatten().and_then(|n| n.parse().ok())
        }
        _ => None,
    })
}

/// Ends a migration that ran outside a transaction: its session settings
/// end with it, then it is recorded. Returns how long it took.
async fn finish_outside_transaction(
    client: &Client,
    m: &Migration,
    started: Instant,
    record: Record,
) -> Result<Duration> {
    client
        .batch_execute("RESET lock_timeout; RESET statement_timeout")
        .await?;
    let elapsed = started.elapsed();
    record_row(client, m, elapsed, record).await?;
    Ok(elapsed)
}

/// Records `m` applied (with its duration) or reverted in the bookkeeping
/// table.
async fn record_row(
    client: &impl tokio_postgres::GenericClient,
    m: &Migration,
    elapsed: Duration,
    record: Record,
) -> Result<()> {
    match record {
        Record::Insert => {
            let ms = elapsed.as_millis() as i64;
            let sql = format!(
                "INSERT INTO {MIGRATIONS_TABLE} (version, name, checksum, execution_ms, finished) \
                 VALUES ($1, $2, $3, $4, true) \
                 ON CONFLICT (version) DO UPDATE SET finished = true, applied_at = now(), \
                 checksum = EXCLUDED.checksum, execution_ms = EXCLUDED.execution_ms"
            );
            client
                .execute(&sql, &[&m.version, &m.name, &m.checksum, &ms])
                .await?
        }
        Record::Delete => {
            let sql = format!("DELETE FROM {MIGRATIONS_TABLE} WHERE version = $1");
            client.execute(&sql, &[&m.version]).await?
        }
    };
    Ok(())
}
