//! Writing the next migration from the entities, and the drift check
//! (feature `testing`: both compare real databases on the throwaway server).

use std::path::{Path, PathBuf};

use crate::ddl::SchemaDdl;
use crate::error::{Error, Result};
use crate::schema::TableSchema;
use crate::testing::TestDatabase;

use super::catalog::Catalog;
use super::diff::{diff, Permissions, Phase, Step};
use super::{split, Migrations, NO_TRANSACTION};
use crate::proof::StatementCatalog;

/// The steps that would bring the schema the migrations in `dir` produce to
/// the one `schemas` imply; empty when they agree.
///
/// Both schemas are real: the migrations are applied to one scratch
/// database, the entities' DDL to another, and both are read back from
/// `pg_catalog`. With no migrations yet, the one step is the whole schema in
/// dependency order.
///
/// *Requires the `testing` feature.*
pub async fn pending_steps(
    schemas: &[&'static TableSchema],
    dir: impl AsRef<Path>,
    permissions: Permissions,
) -> Result<Vec<Step>> {
    let ddl = SchemaDdl::new(schemas)?;
    let migrations = Migrations::load(dir)?;
    if migrations.list().is_empty() {
        return Ok(vec![Step {
            up: split::statements(&ddl.up())
                .into_iter()
                .map(str::to_owned)
                .collect(),
            down: split::statements(&ddl.down())
                .into_iter()
                .map(str::to_owned)
                .collect(),
            transactional: true,
            label: "create",
            ..Step::default()
        }]);
    }
    let current_db = TestDatabase::create().await?;
    let mut client = current_db.connect().await?;
    migrations.apply_schema(&mut client).await?;
    let current = Catalog::read(&client).await?;
    let desired_db = TestDatabase::with_schema(&ddl.up()).await?;
    let desired = Catalog::read(&*desired_db.connect().await?).await?;
    diff(&current, &desired, schemas, permissions)
}

/// The steps that would bring the live database `client` is connected to
/// to the schema `schemas` imply; empty when they agree. The entities' DDL
/// is built in a scratch database on the test server and both are read
/// back from `pg_catalog`. Tables the entities do not have show as drops:
/// this compares the whole database (for entities written by
/// [`adopt`](crate::adopt), the round trip).
///
/// *Requires the `testing` feature.*
pub async fn live_drift(
    client: &tokio_postgres::Client,
    schemas: &[&'static TableSchema],
) -> Result<Vec<Step>> {
    let ddl = SchemaDdl::new(schemas)?;
    let current = Catalog::read(client).await?;
    let desired_db = TestDatabase::with_schema(&ddl.up()).await?;
    let desired = Catalog::read(&*desired_db.connect().await?).await?;
    let permissions = Permissions {
        allow_destructive: true,
    };
    diff(&current, &desired, schemas, permissions)
}

/// Steps as the SQL they would write, for messages and dry runs.
///
/// *Requires the `testing` feature.*
pub fn render_steps(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        out.push_str(&format!(
            "-- {} migration{}\n",
            step.label,
            if step.transactional {
                ""
            } else {
                " (outside a transaction)"
            }
        ));
        for s in &step.up {
            out.push_str(s);
            out.push_str(";\n");
        }
    }
    out
}

/// Writes the next migration(s) for `schemas` into `dir` (created if
/// missing), and the statement catalog
/// ([`CATALOG_FILE`](super::CATALOG_FILE)) when it is not
/// the entities' statements, and returns the files written; none when
/// both already match. Destructive changes need
/// `permissions.allow_destructive`.
///
/// Each step is a file `<version>_<name>[_<step>].{up,down}.sql`: the
/// expand phase first (the plain name, then `_index`), then the contract
/// phase (`_backfill`, `_contract`, `_validate`, `_contract_index`), marked
/// `-- ordinance:contract` so [`Migrations::up`] stops before them and
/// [`Migrations::contract`] applies them once the previous application
/// version is gone. A backfill the generator cannot write holds a
/// `FILL_IN` the runner refuses until someone writes the value.
///
/// *Requires the `testing` feature.*
pub async fn generate(
    schemas: &[&'static TableSchema],
    dir: impl AsRef<Path>,
    name: &str,
    permissions: Permissions,
) -> Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    let steps = pending_steps(schemas, dir, permissions).await?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let latest = Migrations::load(dir)?
        .list()
        .last()
        .map_or(0, |m| m.version);
    let mut version = next_version(latest);
    let name = sanitize(name);
    let mut written = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let stem = if i == 0 && matches!(step.label, "create" | "expand") {
            format!("{version}_{name}")
        } else {
            format!("{version}_{name}_{}", step.label)
        };
        for (suffix, statements) in [("up", &step.up), ("down", &step.down)] {
            let path = dir.join(format!("{stem}.{suffix}.sql"));
            std::fs::write(&path, file_text(step, statements)).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        version = next_version(version);
    }
    // The statement catalog, as the schema the migrations now build
    // describes it.
    let (described, on_disk, path) = catalogs(schemas, dir).await?;
    if on_disk.as_ref() != Some(&described) {
        std::fs::write(&path, described.to_string()).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// The statement catalog of `schemas` (described on their schema, against
/// the newest migration in `dir`), the one in `dir` if any, and its path.
async fn catalogs(
    schemas: &[&'static TableSchema],
    dir: &Path,
) -> Result<(StatementCatalog, Option<StatementCatalog>, PathBuf)> {
    let newest = Migrations::load(dir)?.list().last().map(|m| m.version);
    let database = TestDatabase::with_schema(&SchemaDdl::new(schemas)?.up()).await?;
    let described = crate::proof::describe(&*database.connect().await?, schemas, newest).await?;
    let path = dir.join(super::CATALOG_FILE);
    let on_disk = match std::fs::read_to_string(&path) {
        Ok(text) => Some(StatementCatalog::parse(&text)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(Error::Io { path, source }),
    };
    Ok((described, on_disk, path))
}

fn file_text(step: &Step, statements: &[String]) -> String {
    let mut text = String::new();
    if !step.transactional {
        text.push_str(NO_TRANSACTION);
        text.push('\n');
    }
    if step.phase == Phase::Contract {
        text.push_str(super::CONTRACT);
        text.push('\n');
    }
    if step.backfill {
        text.push_str(super::BACKFILL);
        text.push('\n');
    }
    text.push_str("-- Generated by ordinance from the entities.\n");
    if step.phase == Phase::Contract {
        text.push_str("-- Contract phase: `up` stops before it; `contract` applies it once no instance of\n-- the previous application version runs.\n");
    }
    match step.label {
        "types" => text.push_str("-- Values added to enum types, committed before the next migration uses them.\n-- PostgreSQL cannot remove a value: the down leaves them in place.\n"),
        "validate" => text.push_str("-- Runs after the previous migration committed: constraints added NOT VALID are\n-- validated here, without blocking writes for the whole scan.\n"),
        "backfill" => text.push_str(&format!("-- Each statement runs in batches of {} rows in primary-key order, each batch its\n-- own transaction, until no row is left.\n", super::BACKFILL_BATCH)),
        "index" | "contract_index" => text.push_str(
            "-- CONCURRENTLY cannot run in a transaction. A failed build leaves an invalid index,\n-- so each is dropped if present before it is built: a re-run starts clean.\n",
        ),
        _ => {}
    }
    // Give up rather than queue every other query behind a lock we wait for.
    // Scans (validation, concurrent index builds) block no writes, so they
    // may take as long as the table needs; quick DDL gets a bound.
    let scope = if step.transactional {
        "SET LOCAL"
    } else {
        "SET"
    };
    let statement_timeout = if matches!(
        step.label,
        "create" | "types" | "expand" | "contract" | "backfill"
    ) {
        "'1min'"
    } else {
        "0"
    };
    text.push_str(&format!(
        "\n{scope} lock_timeout = '5s';\n{scope} statement_timeout = {statement_timeout};\n"
    ));
    for s in statements {
        text.push('\n');
        text.push_str(s);
        text.push_str(";\n");
    }
    text
}

/// A version after `after`: now (UTC, `YYYYMMDDHHMMSS`), or `after + 1`
/// when the clock is not past it.
fn next_version(after: i64) -> i64 {
    let now: i64 = chrono::Utc::now()
        .format("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .unwrap_or(0);
    now.max(after + 1)
}

fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('_').to_owned();
    if cleaned.is_empty() {
        "update".to_owned()
    } else {
        cleaned
    }
}

/// What [`check_drift`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
///
/// *Requires the `testing` feature.*
pub enum Drift {
    /// The migrations produce exactly the entities' schema, and the
    /// statement catalog holds exactly their statements.
    UpToDate,
    /// They did not; the missing migration (or the statement catalog) was
    /// written to these files.
    Blessed(Vec<PathBuf>),
    /// The migrations are up to date but the statement catalog
    /// ([`CATALOG_FILE`](super::CATALOG_FILE)) is missing or
    /// holds other statements than the entities send.
    StaleCatalog {
        /// What differs, entry by entry (`+` only the entities have, `-`
        /// only the file, `~` changed).
        differences: Vec<String>,
        /// The command that writes it.
        bless_command: String,
    },
    /// They do not.
    Missing {
        /// The SQL of the missing migration, step by step.
        sql: String,
        /// The command that writes it, as far as the environment tells
        /// (package, test binary and test):
        /// `ORDINANCE_BLESS=<name> cargo test -p app --test migrations migrations_match`.
        bless_command: String,
    },
}

/// Compares the migrations in `dir` with `schemas`; with `bless` set, writes
/// the missing migration under that name instead of reporting it (the
/// library form of `ORDINANCE_BLESS`, for a test or tool that decides for
/// itself).
///
/// *Requires the `testing` feature.*
pub async fn check_drift(
    schemas: &[&'static TableSchema],
    dir: impl AsRef<Path>,
    bless: Option<&str>,
    permissions: Permissions,
) -> Result<Drift> {
    let dir = dir.as_ref();
    if let Some(name) = bless {
        let written = generate(schemas, dir, name, permissions).await?;
        return Ok(if written.is_empty() {
            Drift::UpToDate
        } else {
            Drift::Blessed(written)
        });
    }
    let steps = pending_steps(schemas, dir, permissions).await?;
    if !steps.is_empty() {
        return Ok(Drift::Missing {
            sql: render_steps(&steps),
            bless_command: bless_command(permissions),
        });
    }
    let (described, on_disk, path) = catalogs(schemas, dir).await?;
    if on_disk.as_ref() != Some(&described) {
        let differences = match &on_disk {
            Some(old) => described.differences(old),
            None => vec![format!("{} is missing", path.display())],
        };
        return Ok(Drift::StaleCatalog {
            differences,
            bless_command: bless_command(permissions),
        });
    }
    Ok(Drift::UpToDate)
}

/// The drift check for an application's test suite: passes when the
/// migrations in `dir` (relative to the package being tested) produce
/// exactly the schema of `schemas` and the statement catalog beside them
/// ([`CATALOG_FILE`](super::CATALOG_FILE)) holds exactly
/// their statements; otherwise fails printing the SQL of the missing
/// migration (or what differs in the catalog) and the command that writes
/// it.
///
/// With `ORDINANCE_BLESS=<name>` set, it writes the missing migration as
/// `<name>` instead (with `ORDINANCE_ALLOW_DESTRUCTIVE=1`, also when it drops
/// tables or columns) and passes, printing a `wrote ...` line per file that
/// shows even though the test passed. [`assert_up_to_date_with`] takes
/// both settings as arguments instead.
///
/// ```no_run
/// # use ordinance::prelude::*;
/// # #[derive(Entity)] pub struct Tag { pub id: Uuid, #[column(max_len = 40)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// #[tokio::test]
/// async fn migrations_match_the_entities() {
///     ordinance::migrate::assert_up_to_date(&[Tag::SCHEMA], "migrations").await;
/// }
/// ```
///
/// *Requires the `testing` feature.*
pub async fn assert_up_to_date(schemas: &[&'static TableSchema], dir: impl AsRef<Path>) {
    let permissions = Permissions {
        allow_destructive: std::env::var_os("ORDINANCE_ALLOW_DESTRUCTIVE")
            .is_some_and(|v| v != "0" && !v.is_empty()),
    };
    let bless = std::env::var("ORDINANCE_BLESS").ok().map(|name| {
        if name == "1" || name.is_empty() {
            "update".to_owned()
        } else {
            name
        }
    });
    assert_up_to_date_with(schemas, dir, bless.as_deref(), permissions).await;
}

/// [`assert_up_to_date`] with its settings as arguments rather than
/// environment variables: `bless` writes the missing migration under that
/// name; `permissions` may allow it to drop tables or columns.
///
/// *Requires the `testing` feature.*
pub async fn assert_up_to_date_with(
    schemas: &[&'static TableSchema],
    dir: impl AsRef<Path>,
    bless: Option<&str>,
    permissions: Permissions,
) {
    let dir = dir.as_ref();
    match check_drift(schemas, dir, bless, permissions).await {
        Ok(Drift::UpToDate) => {}
        Ok(Drift::Blessed(written)) => {
            // Straight to the process's stderr: the test harness captures
            // `eprintln!` of a passing test, and these lines must show.
            use std::io::Write as _;
            let mut stderr = std::io::stderr().lock();
            for path in written {
                let _ = writeln!(stderr, "ordinance: wrote {}", path.display());
            }
        }
        Ok(Drift::Missing { sql, bless_command }) => panic!(
            "the entities and the migrations in {} disagree; the missing migration is:\n\n{sql}\n\
             Write it with:\n    {bless_command}\n\
             then review the new files and commit them.",
            dir.display(),
        ),
        Ok(Drift::StaleCatalog {
            differences,
            bless_command,
        }) => panic!(
            "the statement catalog in {} is not the entities' statements:\n  {}\n\
             Write it with:\n    {bless_command}\n\
             then review it and commit it: `migrate verify` proves the next deploy against it.",
            dir.display(),
            differences.join("\n  "),
        ),
        Err(e @ Error::DestructiveChange(_)) => panic!(
            "the entities and the migrations in {} disagree, and the fix drops data: {e}\n\
             To write it anyway:\n    {}",
            dir.display(),
            bless_command(Permissions {
                allow_destructive: true
            })
        ),
        Err(e) => panic!("ordinance: could not compare the migrations with the entities: {e}"),
    }
}

/// The command that re-runs this check with blessing on.
fn bless_command(permissions: Permissions) -> String {
    let env = if permissions.allow_destructive {
        "ORDINANCE_BLESS=<name> ORDINANCE_ALLOW_DESTRUCTIVE=1"
    } else {
        "ORDINANCE_BLESS=<name>"
    };
    crate::rerun::rerun_command(env)
}
