//! The proof of a deploy: the pending migrations applied one at a time to
//! a scratch database, and after each, every statement of the release
//! that runs at that point prepared there — the previous release's until
//! the contract phase begins, the new release's from the end of the
//! expand phase on — its parameter and column types compared with the
//! ones the release binds and reads, and each insert's columns checked
//! against the table's `NOT NULL` columns without a default.

use std::collections::BTreeMap;
use std::fmt;

use tokio_postgres::Client;

use super::catalog::{Entry, StatementCatalog};
use super::collect::{copy_probe, declared_types};
use crate::error::{Error, Result};
use crate::migrate::Migrations;
use crate::sql::DROP_STAGE_IF_EXISTS;

/// Which release a statement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Release {
    /// The one running while the expand phase is applied.
    Previous,
    /// The one that rolls out after the expand phase.
    New,
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Release::Previous => "previous release",
            Release::New => "new release",
        })
    }
}

/// A statement that would fail at a point of the deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Whose statement it is.
    pub release: Release,
    /// The entity (`Post`).
    pub entity: String,
    /// Its table (`posts`).
    pub table: String,
    /// The operation that sends it (`insert`).
    pub operation: String,
    /// The point of the deploy: the migration just applied
    /// (`20261207041551_rename_title`), or `before` for the previous
    /// release's own schema.
    pub phase: String,
    /// What goes wrong: PostgreSQL's error, a type the release cannot
    /// bind or read, or a column an insert leaves without a value.
    pub problem: String,
    /// The statement.
    pub sql: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {} ({}) {}: {}\n    {}",
            self.release,
            self.entity,
            self.operation,
            self.table,
            point(&self.phase),
            self.problem,
            self.sql
        )
    }
}

/// A point of the deploy in words: `before the pending migrations`, or
/// `after 20261207041551_rename`.
fn point(phase: &str) -> String {
    if phase == BEFORE {
        "before the pending migrations".to_owned()
    } else {
        format!("after {phase}")
    }
}

/// The name of the point before any pending migration.
const BEFORE: &str = "before";

/// What the proof checked, point by point, and what failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proof {
    /// Each point of the deploy: its name, and how many statements of the
    /// previous and of the new release were proven there.
    pub phases: Vec<(String, usize, usize)>,
    /// Every statement that would fail, in order.
    pub failures: Vec<Failure>,
}

impl Proof {
    /// Whether every statement works at every point.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for Proof {
    /// The report: each point with its counts, then each failure.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (phase, previous, new) in &self.phases {
            let failed = self.failures.iter().filter(|x| &x.phase == phase).count();
            writeln!(
                f,
                "{}: {previous} statements of the previous release, {new} of the new{}",
                point(phase),
                if failed == 0 {
                    ": ok".to_owned()
                } else {
                    format!(": {failed} FAILED")
                }
            )?;
        }
        for failure in &self.failures {
            writeln!(f, "{failure}")?;
        }
        match self.failures.len() {
            0 => writeln!(
                f,
                "the deploy is proven: every statement works at every step"
            ),
            n => writeln!(f, "{n} statements would fail"),
        }
    }
}

/// Proves the deploy of `migrations` between the release whose catalog is
/// `previous` and the one whose catalog is `new`, on the empty scratch
/// database `client` is connected to (its owner: the migrations run
/// there).
///
/// The migrations up to `previous.schema` build the previous release's
/// schema, where its statements are proven first; then each pending
/// migration is applied in turn. After each migration of the expand phase
/// (those [`Migrations::up`] applies) the previous release's statements
/// are proven again; from the end of the expand phase on, the new
/// release's. A catalog whose `schema` is not the newest migration is a
/// failure of its own (bless it again).
pub async fn verify(
    client: &mut Client,
    migrations: &Migrations,
    previous: &StatementCatalog,
    new: &StatementCatalog,
) -> Result<Proof> {
    let mut proof = Proof::default();
    let list = migrations.list();
    let newest = list.last().map(|m| m.version);
    if new.schema != newest {
        proof.failures.push(Failure {
            release: Release::New,
            entity: String::new(),
            table: String::new(),
            operation: "catalog".into(),
            phase: BEFORE.into(),
            problem: format!(
                "the catalog was written against migration {} but the newest is {}: bless it again",
                version(new.schema),
                version(newest)
            ),
            sql: String::new(),
        });
    }
    if let Some(v) = previous.schema {
        if !list.iter().any(|m| m.version == v) {
            return Err(Error::InvalidSetting {
                setting: "previous release's catalog",
                reason: format!("it was written against migration {v}, which is not in the folder"),
            });
        }
        migrations.up_to(client, v).await?;
    }
    let pending: Vec<_> = list
        .iter()
        .filter(|m| previous.schema.is_none_or(|v| m.version > v))
        .collect();
    // The new release rolls out once `up` has run: after the last pending
    // migration before the first contract one.
    let rollout = pending.iter().take_while(|m| !m.contract).count();
    let mut points: Vec<(String, Option<i64>, bool, bool)> =
        vec![(BEFORE.to_owned(), None, true, rollout == 0)];
    for (i, m) in pending.iter().enumerate() {
        points.push((
            format!("{}_{}", m.version, m.name),
            Some(m.version),
            i < rollout,
            i + 1 >= rollout,
        ));
    }
    for (phase, upto, check_previous, check_new) in points {
        if let Some(v) = upto {
            migrations.up_to(client, v).await?;
        }
        let defaults = required_columns(client).await?;
        let mut counts = (0, 0);
        for (release, catalog, check, count) in [
            (Release::Previous, previous, check_previous, &mut counts.0),
            (Release::New, new, check_new, &mut counts.1),
        ] {
            if !check {
                continue;
            }
            client.batch_execute(DROP_STAGE_IF_EXISTS).await?;
            for entry in &catalog.entries {
                *count += 1;
                if let Some(problem) = prove(client, entry, &defaults).await? {
                    proof.failures.push(Failure {
                        release,
                        entity: entry.entity.clone(),
                        table: entry.table.clone(),
                        operation: entry.operation.clone(),
                        phase: phase.clone(),
                        problem,
                        sql: entry.sql.clone(),
                    });
                }
            }
            client.batch_execute(DROP_STAGE_IF_EXISTS).await?;
        }
        proof.phases.push((phase, counts.0, counts.1));
    }
    Ok(proof)
}

/// [`verify`] in a scratch database of its own on the server `config`
/// points at (its role needs `CREATEDB`), dropped afterwards: what `migrate
/// verify` runs against `DATABASE_URL`.
pub async fn verify_on(
    config: &tokio_postgres::Config,
    migrations: &Migrations,
    previous: &StatementCatalog,
    new: &StatementCatalog,
) -> Result<Proof> {
    super::scratch::in_scratch_database(
        config,
        "verify",
        async |scratch: tokio_postgres::Config| {
            let mut client = super::scratch::connect(&scratch).await?;
            verify(&mut client, migrations, previous, new).await
        },
    )
    .await
}

fn version(v: Option<i64>) -> String {
    v.map_or("none".into(), |v| v.to_string())
}

/// Each table's columns that an insert must give a value: `NOT NULL`,
/// without a default, not generated.
async fn required_columns(client: &Client) -> Result<BTreeMap<String, Vec<String>>> {
    let rows = client
        .query(
            "SELECT CASE WHEN n.nspname = 'public' THEN c.relname::text \
                         ELSE n.nspname || '.' || c.relname END, a.attname::text \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
               AND a.attnotnull AND d.adbin IS NULL AND a.attidentity = '' AND a.attgenerated = '' \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg\\_%'",
            &[],
        )
        .await?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        let table: String = crate::row::read(&row, 0, "pg_attribute", "relname")?;
        let column: String = crate::row::read(&row, 1, "pg_attribute", "attname")?;
        out.entry(table).or_default().push(column);
    }
    Ok(out)
}

/// What fails about one statement on the database as it is now, if
/// anything.
async fn prove(
    client: &Client,
    entry: &Entry,
    required: &BTreeMap<String, Vec<String>>,
) -> Result<Option<String>> {
    if entry.operation == "stage" {
        // Each entity's batch stages its own columns.
        client.batch_execute(DROP_STAGE_IF_EXISTS).await?;
        return Ok(client
            .batch_execute(&entry.sql)
            .await
            .err()
            .map(|e| crate::pg_error::PgError::from(e).to_string()));
    }
    let (sql, declared) = if entry.is_copy() {
        (
            copy_probe(entry, &crate::ddl::catalog_ident(&entry.table)),
            Vec::new(),
        )
    } else {
        (entry.sql.clone(), declared_types(&entry.declared)?)
    };
    let statement = match client.prepare_typed(&sql, &declared).await {
        Ok(statement) => statement,
        Err(e) => return Ok(Some(crate::pg_error::PgError::from(e).to_string())),
    };
    if !entry.is_copy() {
        let params: Vec<&str> = statement.params().iter().map(|t| t.name()).collect();
        if let Some(problem) = compare("parameter", &entry.params, &params) {
            return Ok(Some(problem));
        }
    }
    let returns: Vec<&str> = statement
        .columns()
        .iter()
        .map(|c| c.type_().name())
        .collect();
    if let Some(problem) = compare("column", &entry.returns, &returns) {
        return Ok(Some(problem));
    }
    if !entry.writes.is_empty() {
        let missing: Vec<&String> = required
            .get(&entry.table)
            .into_iter()
            .flatten()
            .filter(|c| !entry.writes.contains(c))
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|c| format!("\"{c}\"")).collect();
            return Ok(Some(format!(
                "writes no value to {}, NOT NULL without a default: the insert fails",
                list.join(", ")
            )));
        }
    }
    Ok(None)
}

/// The first type the release expects that the database no longer gives.
fn compare(what: &str, expected: &[String], actual: &[&str]) -> Option<String> {
    if expected.len() != actual.len() {
        return Some(format!(
            "{} {what}s now, the release has {}",
            actual.len(),
            expected.len()
        ));
    }
    expected
        .iter()
        .zip(actual)
        .enumerate()
        .find(|(_, (e, a))| !compatible(e, a))
        .map(|(i, (e, a))| {
            let place = if what == "parameter" {
                format!("parameter ${}", i + 1)
            } else {
                format!("column {}", i + 1)
            };
            format!(
                "{place} is {a} now; the release {} {e}",
                if what == "parameter" {
                    "binds"
                } else {
                    "reads"
                }
            )
        })
}

/// Whether a value the release binds or reads as `expected` travels as
/// `actual`: the same type, or two text types (a `String` takes both).
fn compatible(expected: &str, actual: &str) -> bool {
    const TEXT: &[&str] = &["text", "varchar", "bpchar", "name"];
    expected == actual || (TEXT.contains(&expected) && TEXT.contains(&actual))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_are_one_and_others_are_not() {
        assert!(compatible("text", "varchar"));
        assert!(!compatible("int4", "int8"));
        assert_eq!(
            compare("column", &["uuid".into(), "int4".into()], &["uuid", "int8"]),
            Some("column 2 is int8 now; the release reads int4".into())
        );
        assert_eq!(
            compare("parameter", &["uuid".into()], &["uuid", "text"]),
            Some("2 parameters now, the release has 1".into())
        );
    }
}
