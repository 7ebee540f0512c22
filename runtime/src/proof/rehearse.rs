//! A rehearsal of a deploy: the running release's schema built in a
//! scratch database and filled with rows, then each pending migration
//! applied while a reader and a writer try every table, and reported: the
//! table locks each statement left its session holding and for how long,
//! how long readers and writers of each table waited, and which tables
//! were rewritten.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, Config};

use crate::error::Result;
use crate::migrate::Migrations;
use crate::schema::TableSchema;

/// What a rehearsal fills and what it refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RehearsalOptions {
    /// Rows generated in each of the entities' tables before the pending
    /// migrations run.
    pub rows: u32,
    /// The longest a statement may hold an `ACCESS EXCLUSIVE` lock on a
    /// table with rows (every read and write of it waits meanwhile).
    pub max_exclusive: Duration,
}

impl Default for RehearsalOptions {
    /// 10,000 rows a table; an exclusive lock of up to a second.
    fn default() -> Self {
        RehearsalOptions {
            rows: 10_000,
            max_exclusive: Duration::from_secs(1),
        }
    }
}

/// A lock a migration's session held on a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHeld {
    /// The table.
    pub table: String,
    /// The lock mode (`AccessExclusiveLock`, `ShareUpdateExclusiveLock`, ...).
    pub mode: String,
    /// From the statement that took it to the end of the migration's
    /// transaction (or of the statement, outside one).
    pub held: Duration,
    /// The statement that took it.
    pub statement: String,
}

/// How long a concurrent reader and writer of a table waited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waits {
    /// The table.
    pub table: String,
    /// The longest a reader (`ACCESS SHARE`, what a `SELECT` takes) waited.
    pub reader: Duration,
    /// The longest a writer (`ROW EXCLUSIVE`, what `INSERT` / `UPDATE` /
    /// `DELETE` take) waited.
    pub writer: Duration,
}

/// One pending migration, rehearsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rehearsed {
    /// `20261207041551_add_note`.
    pub migration: String,
    /// How long it took.
    pub duration: Duration,
    /// The strongest lock its statements took on each table that was there
    /// before it, longest held first.
    pub locks: Vec<LockHeld>,
    /// Readers and writers that waited at all, by table.
    pub waits: Vec<Waits>,
    /// Tables it created (their locks keep nobody waiting).
    pub created: Vec<String>,
    /// Tables whose storage it replaced (a rewrite: every row copied under
    /// the lock).
    pub rewritten: Vec<String>,
    /// The reason its `-- ordinance:allow-lock` line gives, if it has one.
    pub waiver: Option<String>,
    /// What it must not do and did (an exclusive lock held too long on a
    /// table with rows, a rewrite), unless waived.
    pub problems: Vec<String>,
}

/// The rehearsal of every pending migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rehearsal {
    /// The tables filled, with their rows.
    pub filled: Vec<(String, i64)>,
    /// Each pending migration, in order.
    pub migrations: Vec<Rehearsed>,
}

impl Rehearsal {
    /// Whether no migration did what it must not (or each that did carries
    /// a waiver).
    pub fn passed(&self) -> bool {
        self.migrations
            .iter()
            .all(|m| m.problems.is_empty() || m.waiver.is_some())
    }
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

impl fmt::Display for Rehearsal {
    /// The lock report.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let filled: Vec<String> = self
            .filled
            .iter()
            .map(|(t, n)| format!("{t} ({n} rows)"))
            .collect();
        if filled.is_empty() {
            writeln!(f, "filled: no table yet")?;
        } else {
            writeln!(f, "filled: {}", filled.join(", "))?;
        }
        if self.migrations.is_empty() {
            writeln!(f, "nothing pending")?;
        }
        for m in &self.migrations {
            writeln!(f, "{}: {}", m.migration, ms(m.duration))?;
            if !m.created.is_empty() {
                writeln!(f, "  created {}", m.created.join(", "))?;
            }
            for l in &m.locks {
                writeln!(
                    f,
                    "  {} {} held {} by {}",
                    l.table,
                    l.mode,
                    ms(l.held),
                    l.statement
                )?;
            }
            for w in &m.waits {
                writeln!(
                    f,
                    "  {}: readers waited {}, writers {}",
                    w.table,
                    ms(w.reader),
                    ms(w.writer)
                )?;
            }
            for t in &m.rewritten {
                writeln!(f, "  {t}: rewritten")?;
            }
            for p in &m.problems {
                match &m.waiver {
                    Some(why) => writeln!(f, "  waived ({why}): {p}")?,
                    None => writeln!(f, "  REFUSED: {p}")?,
                }
            }
        }
        if self.passed() {
            writeln!(f, "the rehearsal passed")
        } else {
            writeln!(
                f,
                "the rehearsal failed: waive a migration with `-- ordinance:allow-lock <reason>` \
                 at its top only when the table is small where it runs"
            )
        }
    }
}

/// One try of a probe: which table, which kind, when it started, how long
/// it waited.
#[derive(Debug, Clone)]
struct Try {
    table: String,
    writer: bool,
    started: Instant,
    waited: Duration,
}

/// Rehearses the deploy of `migrations` from the release whose schema is
/// migration `previous` (the running release's catalog's
/// [`schema`](super::StatementCatalog::schema); `None` for an empty
/// database) in the empty scratch database `config` points at:
/// the migrations up to `previous` build it, `schemas` (the new
/// release's entities) fill the tables it has with
/// [`rows`](RehearsalOptions::rows) rows each, then each pending migration
/// runs while a reader and a writer lock every filled table in turn.
pub async fn rehearse(
    config: &Config,
    migrations: Migrations,
    previous: Option<i64>,
    schemas: &[&'static TableSchema],
    options: &RehearsalOptions,
) -> Result<Rehearsal> {
    let mut client = super::scratch::connect(config).await?;
    let observer: crate::migrate::Observer = Arc::default();
    let mut migrations = migrations;
    migrations.observer = Some(observer.clone());
    if let Some(v) = previous {
        migrations.up_to(&mut client, v).await?;
    }
    let mut rehearsal = Rehearsal::default();
    for table in crate::fill::fill_live(&client, schemas, options.rows).await? {
        let count = client
            .query_one(
                &format!("SELECT count(*) FROM {}", crate::ddl::catalog_ident(&table)),
                &[],
            )
            .await?;
        rehearsal
            .filled
            .push((table, crate::row::read(&count, 0, "count", "count")?));
    }
    let tables: Vec<String> = rehearsal.filled.iter().map(|(t, _)| t.clone()).collect();

    // A reader and a writer, each locking every table in turn as a SELECT
    // and an UPDATE would, timing each wait.
    let stop = Arc::new(AtomicBool::new(false));
    let tries: Arc<Mutex<Vec<Try>>> = Arc::default();
    let mut probes = Vec::new();
    for writer in [false, true] {
        let probe = super::scratch::connect(config).await?;
        let (stop, tries, tables) = (stop.clone(), tries.clone(), tables.clone());
        probes.push(tokio::spawn(async move {
            let mode = if writer {
                "ROW EXCLUSIVE"
            } else {
                "ACCESS SHARE"
            };
            while !stop.load(Ordering::Relaxed) && !tables.is_empty() {
                for table in &tables {
                    let started = Instant::now();
                    let locked = probe
                        .batch_execute(&format!(
                            "BEGIN; LOCK TABLE {} IN {mode} MODE; ROLLBACK",
                            crate::ddl::catalog_ident(table)
                        ))
                        .await;
                    if locked.is_err() {
                        // A table the migration dropped or renamed.
                        let _ = probe.batch_execute("ROLLBACK").await;
                        continue;
                    }
                    tries
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(Try {
                            table: table.clone(),
                            writer,
                            started,
                            waited: started.elapsed(),
                        });
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }

    let pending: Vec<(i64, String, Option<String>)> = migrations
        .pending(&client)
        .await?
        .iter()
        .map(|m| {
            (
                m.version,
                format!("{}_{}", m.version, m.name),
                m.lock_waiver().map(str::to_owned),
            )
        })
        .collect();
    let rows: BTreeMap<&str, i64> = rehearsal
        .filled
        .iter()
        .map(|(t, n)| (t.as_str(), *n))
        .collect();
    let mut outcome = Ok(());
    for (version, migration, waiver) in pending {
        let before = filenodes(&client).await?;
        let started = Instant::now();
        if let Err(e) = migrations.up_to(&mut client, version).await {
            outcome = Err(e);
            break;
        }
        let finished = Instant::now();
        let after = filenodes(&client).await?;
        let seen: Vec<_> = observer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|s| s.version == version)
            .cloned()
            .collect();
        let existed = |l: &LockHeld| before.contains_key(&l.table);
        let mut rehearsed = Rehearsed {
            migration,
            duration: finished - started,
            locks: locks(&seen, finished).into_iter().filter(existed).collect(),
            waits: Vec::new(),
            created: after
                .keys()
                .filter(|t| !before.contains_key(*t))
                .cloned()
                .collect(),
            rewritten: before
                .iter()
                .filter(|(t, node)| after.get(*t).is_some_and(|n| n != *node))
                .map(|(t, _)| t.clone())
                .collect(),
            waiver,
            problems: Vec::new(),
        };
        // Waits of tries that overlapped the migration.
        let tries = tries.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut waits: BTreeMap<String, (Duration, Duration)> = BTreeMap::new();
        for t in tries
            .iter()
            .filter(|t| t.started < finished && t.started + t.waited > started)
        {
            let entry = waits.entry(t.table.clone()).or_default();
            let slot = if t.writer { &mut entry.1 } else { &mut entry.0 };
            *slot = (*slot).max(t.waited);
        }
        // A lock taken in a few milliseconds is no wait worth reporting.
        let worth = Duration::from_millis(5);
        rehearsed.waits = waits
            .into_iter()
            .filter(|(_, (r, w))| *r >= worth || *w >= worth)
            .map(|(table, (reader, writer))| Waits {
                table,
                reader,
                writer,
            })
            .collect();
        for l in &rehearsed.locks {
            let has_rows = rows.get(l.table.as_str()).is_some_and(|n| *n > 0);
            if l.mode == "AccessExclusiveLock" && has_rows && l.held > options.max_exclusive {
                rehearsed.problems.push(format!(
                    "{} held ACCESS EXCLUSIVE for {} (more than {}): every read and write of it waited",
                    l.table,
                    ms(l.held),
                    ms(options.max_exclusive)
                ));
            }
        }
        for t in &rehearsed.rewritten {
            if rows.get(t.as_str()).is_some_and(|n| *n > 0) {
                rehearsed.problems.push(format!(
                    "{t} was rewritten: every row copied under its lock"
                ));
            }
        }
        rehearsal.migrations.push(rehearsed);
    }
    stop.store(true, Ordering::Relaxed);
    for probe in probes {
        let _ = probe.await;
    }
    outcome?;
    Ok(rehearsal)
}

/// [`rehearse`] in a scratch database it creates on the server `config`
/// points at, dropped afterwards: what `migrate rehearse` runs.
pub async fn rehearse_on(
    config: &Config,
    migrations: Migrations,
    previous: Option<i64>,
    schemas: &[&'static TableSchema],
    options: &RehearsalOptions,
) -> Result<Rehearsal> {
    super::scratch::in_scratch_database(config, "rehearse", async |scratch: Config| {
        rehearse(&scratch, migrations, previous, schemas, options).await
    })
    .await
}

/// Each table's storage file, to tell a rewrite (a partitioned table has
/// none of its own: 0, never rewritten; its partitions are its storage).
async fn filenodes(client: &Client) -> Result<BTreeMap<String, u32>> {
    let rows = client
        .query(
            "SELECT CASE WHEN n.nspname = 'public' THEN c.relname::text \
                         ELSE n.nspname || '.' || c.relname END, c.relfilenode \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg\\_%' \
               AND NOT (n.nspname = 'public' AND c.relname = $1)",
            &[&crate::migrate::MIGRATIONS_TABLE],
        )
        .await?;
    let mut out = BTreeMap::new();
    for row in rows {
        let table: String = crate::row::read(&row, 0, "pg_class", "relname")?;
        let node: u32 = crate::row::read(&row, 1, "pg_class", "relfilenode")?;
        out.insert(table, node);
    }
    Ok(out)
}

/// The locks the statements of one migration left held, with how long:
/// inside a transaction, from the statement that took each to the end of
/// the migration; outside one, the statement's own time (its locks end
/// with it, so the mode is the one it is known to take).
fn locks(seen: &[crate::migrate::Seen], finished: Instant) -> Vec<LockHeld> {
    let mut out: Vec<LockHeld> = Vec::new();
    for s in seen {
        if s.in_transaction {
            for (table, mode) in &s.locks {
                if out.iter().any(|l| &l.table == table && &l.mode == mode) {
                    continue;
                }
                out.push(LockHeld {
                    table: table.clone(),
                    mode: mode.clone(),
                    held: finished.saturating_duration_since(s.started),
                    statement: first_line(&s.sql),
                });
            }
        } else {
            let plan = crate::migrate::plan::plan_statement(&s.sql, &[]);
            if let (Some(lock), Some(table)) = (plan.lock, table_of(&s.sql)) {
                out.push(LockHeld {
                    table,
                    mode: mode_name(lock),
                    held: s.finished.saturating_duration_since(s.started),
                    statement: first_line(&s.sql),
                });
            }
        }
    }
    // The strongest mode on each table: what others wait for.
    out.sort_by_key(|l| (l.table.clone(), std::cmp::Reverse(strength(&l.mode))));
    out.dedup_by(|later, first| later.table == first.table);
    out.sort_by_key(|l| std::cmp::Reverse(l.held));
    out
}

/// How many lock modes a mode conflicts with, in `pg_locks`' names: its
/// strength.
fn strength(mode: &str) -> u8 {
    match mode {
        "AccessShareLock" => 1,
        "RowShareLock" => 2,
        "RowExclusiveLock" => 3,
        "ShareUpdateExclusiveLock" => 4,
        "ShareLock" => 5,
        "ShareRowExclusiveLock" => 6,
        "ExclusiveLock" => 7,
        "AccessExclusiveLock" => 8,
        _ => 0,
    }
}

/// `pg_locks`' name of a lock level.
fn mode_name(lock: crate::migrate::plan::LockLevel) -> String {
    use crate::migrate::plan::LockLevel::*;
    match lock {
        RowExclusive => "RowExclusiveLock",
        ShareUpdateExclusive => "ShareUpdateExclusiveLock",
        Share => "ShareLock",
        ShareRowExclusive => "ShareRowExclusiveLock",
        AccessExclusive => "AccessExclusiveLock",
    }
    .to_owned()
}

/// The table a statement outside a transaction works on: `CREATE INDEX
/// CONCURRENTLY ... ON "t"`, `UPDATE "t"`.
fn table_of(sql: &str) -> Option<String> {
    let code: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ");
    let after = code
        .split(" ON ")
        .nth(1)
        .or_else(|| code.trim_start().strip_prefix("UPDATE "))?;
    let name = after.split_whitespace().next()?;
    let name = name.trim_matches('"').replace("\".\"", ".");
    (!name.is_empty()).then_some(name)
}

/// A statement's first line, for the report.
fn first_line(sql: &str) -> String {
    let line = sql
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or_default();
    if line.chars().count() > 100 {
        format!("{}…", line.chars().take(100).collect::<String>())
    } else {
        line.to_owned()
    }
}
