//! What a pending statement will do to the running application: the table
//! lock it takes, whether it rewrites or scans the table, and whether it
//! runs in a transaction — read from the statement's text before it runs.
//!
//! The rules follow PostgreSQL's documentation of each command's lock
//! level (`ALTER TABLE`, `CREATE INDEX`, ...). They cover every statement
//! the generator writes; a hand-written statement they do not recognise is
//! reported as such, to review by hand.

use std::fmt;

use super::{split, Migration};

/// A table-level lock mode, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LockLevel {
    /// Taken by `UPDATE`, `INSERT`, `DELETE`: blocks only schema changes.
    RowExclusive,
    /// `VALIDATE CONSTRAINT`, `CREATE INDEX CONCURRENTLY`, `COMMENT ON`,
    /// `ALTER INDEX ... RENAME`: reads and writes go on.
    ShareUpdateExclusive,
    /// `CREATE INDEX`: reads go on, writes wait.
    Share,
    /// `ADD FOREIGN KEY` (on both tables): reads go on, writes wait.
    ShareRowExclusive,
    /// Most `ALTER TABLE` forms, `DROP`: everything waits, even reads.
    AccessExclusive,
}

impl fmt::Display for LockLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LockLevel::RowExclusive => "ROW EXCLUSIVE",
            LockLevel::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockLevel::Share => "SHARE",
            LockLevel::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockLevel::AccessExclusive => "ACCESS EXCLUSIVE",
        })
    }
}

/// What one statement does to its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementPlan {
    /// The statement, as the migration holds it.
    pub sql: String,
    /// The strongest table lock it takes; `None` for statements that lock
    /// no existing table (`SET`, `CREATE SCHEMA`, a new table).
    pub lock: Option<LockLevel>,
    /// It rewrites every row (the table is copied under its lock).
    pub rewrites: bool,
    /// It reads the whole table (an index build, a validation).
    pub scans: bool,
    /// What to know besides, e.g. "unrecognised: review by hand".
    pub note: Option<&'static str>,
}

/// One pending migration and its statements' plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationPlan {
    /// The migration's version.
    pub version: i64,
    /// The migration's name.
    pub name: String,
    /// Runs in one transaction (else statement by statement).
    pub transactional: bool,
    /// A backfill: each statement runs in batches, one transaction each.
    pub backfill: bool,
    /// Part of the contract phase.
    pub contract: bool,
    /// Its statements, in order.
    pub statements: Vec<StatementPlan>,
}

/// Plans every statement of `pending`, in order.
pub fn plan(pending: &[&Migration]) -> Vec<MigrationPlan> {
    let mut earlier: Vec<String> = Vec::new();
    pending
        .iter()
        .map(|m| {
            let statements = split::statements(&m.up)
                .into_iter()
                .map(|sql| {
                    let mut p = plan_statement(sql, &earlier);
                    if m.backfill && p.lock == Some(LockLevel::RowExclusive) {
                        p.note = Some("in batches of rows, one short transaction each");
                        p.scans = false;
                    }
                    earlier.push(normalize(sql));
                    p
                })
                .collect();
            MigrationPlan {
                version: m.version,
                name: m.name.clone(),
                transactional: m.transactional,
                backfill: m.backfill,
                contract: m.contract,
                statements,
            }
        })
        .collect()
}

/// Upper-case text without comments, whitespace collapsed, literals kept.
pub(super) fn normalize(sql: &str) -> String {
    let code: Vec<&str> = sql
        .lines()
        .map(|l| l.trim())
        .filter(|l| !l.starts_with("--") && !l.is_empty())
        .collect();
    code.join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase()
}

/// Plans one statement; `earlier` holds the normalized statements that run
/// before it (a validated `IS NOT NULL` check spares `SET NOT NULL` its scan).
pub fn plan_statement(sql: &str, earlier: &[String]) -> StatementPlan {
    use LockLevel::*;
    let s = normalize(sql);
    let has = |needle: &str| s.contains(needle);
    let starts = |prefix: &str| s.starts_with(prefix);
    let (lock, rewrites, scans, note): (Option<LockLevel>, bool, bool, Option<&'static str>) =
        if starts("SET ") || starts("RESET ") || starts("CREATE SCHEMA") {
            (None, false, false, None)
        } else if starts("CREATE OR REPLACE FUNCTION")
            || starts("CREATE FUNCTION")
            || starts("DROP FUNCTION")
        {
            (
                None,
                false,
                false,
                Some("a function: no table waits for it"),
            )
        } else if starts("CREATE TRIGGER") {
            (
                Some(ShareRowExclusive),
                false,
                false,
                Some("brief: writes wait while the trigger is added"),
            )
        } else if starts("DROP TRIGGER") {
            (Some(AccessExclusive), false, false, Some("brief"))
        } else if starts("CREATE TYPE") {
            (None, false, false, Some("a new type: nothing waits for it"))
        } else if starts("ALTER TYPE") && has(" ADD VALUE ") {
            (
                None,
                false,
                false,
                Some("locks the type only; the value is usable once committed"),
            )
        } else if starts("DROP TYPE") {
            (
                None,
                false,
                false,
                Some("fails while a column still uses it"),
            )
        } else if starts("CREATE TABLE") {
            (
                None,
                false,
                false,
                Some("a new table: nothing waits for it"),
            )
        } else if starts("CREATE UNIQUE INDEX CONCURRENTLY") || starts("CREATE INDEX CONCURRENTLY")
        {
            (
                Some(ShareUpdateExclusive),
                false,
                true,
                Some("builds without blocking writes; must run outside a transaction"),
            )
        } else if starts("CREATE UNIQUE INDEX") || starts("CREATE INDEX") {
            (
                Some(Share),
                false,
                true,
                Some("writes wait for the whole build"),
            )
        } else if starts("DROP INDEX CONCURRENTLY") {
            (Some(ShareUpdateExclusive), false, false, None)
        } else if starts("DROP INDEX") || starts("DROP TABLE") {
            (Some(AccessExclusive), false, false, None)
        } else if (starts("ALTER INDEX") && has(" RENAME TO ")) || starts("COMMENT ON") {
            (Some(ShareUpdateExclusive), false, false, None)
        } else if starts("ALTER TABLE") {
            alter_table(&s, earlier)
        } else if starts("CREATE POLICY") || starts("DROP POLICY") || starts("ALTER POLICY") {
            (Some(AccessExclusive), false, false, Some("brief"))
        } else if starts("UPDATE") || starts("INSERT") || starts("DELETE") || starts("WITH") {
            (
                Some(RowExclusive),
                false,
                has(" UPDATE ") || starts("UPDATE"),
                None,
            )
        } else {
            (
                None,
                false,
                false,
                Some("not recognised: review its locks by hand"),
            )
        };
    StatementPlan {
        sql: sql.trim().to_owned(),
        lock,
        rewrites,
        scans,
        note,
    }
}

type Plan = (Option<LockLevel>, bool, bool, Option<&'static str>);

fn alter_table(s: &str, earlier: &[String]) -> Plan {
    use LockLevel::*;
    let has = |needle: &str| s.contains(needle);
    if has(" VALIDATE CONSTRAINT ") {
        return (
            Some(ShareUpdateExclusive),
            false,
            true,
            Some("scans while reads and writes go on"),
        );
    }
    if has(" ADD CONSTRAINT ") {
        let not_valid = s.ends_with(" NOT VALID");
        if has(" FOREIGN KEY ") {
            return (
                Some(ShareRowExclusive),
                false,
                !not_valid,
                Some("on this table and the referenced one"),
            );
        }
        if has(" UNIQUE ") || has(" PRIMARY KEY ") {
            return (Some(AccessExclusive), false, true, Some("builds an index"));
        }
        return (Some(AccessExclusive), false, !not_valid, None);
    }
    if has(" SET NOT NULL") {
        // SET NOT NULL trusts a valid CHECK (col IS NOT NULL) instead of
        // scanning: the generated steps validate one just before.
        let proven = not_null_proven(s, earlier);
        return (
            Some(AccessExclusive),
            false,
            !proven,
            if proven {
                Some("a validated CHECK (... IS NOT NULL) proves it")
            } else {
                None
            },
        );
    }
    if has(" ALTER COLUMN ") && (has(" TYPE ") || has(" SET DATA TYPE ")) {
        return (
            Some(AccessExclusive),
            true,
            true,
            Some("most type changes rewrite the table"),
        );
    }
    if has(" ADD COLUMN ") {
        let volatile = has("RANDOM") || has("CLOCK_") || has("NEXTVAL") || has("GEN_RANDOM");
        return (
            Some(AccessExclusive),
            volatile,
            volatile,
            if volatile {
                Some("a volatile default is computed for every row")
            } else {
                Some("brief: a constant default is stored once")
            },
        );
    }
    (Some(AccessExclusive), false, false, Some("brief"))
}

/// The column of a normalized `ALTER TABLE … ALTER COLUMN c …`, unquoted
/// (empty when there is none).
pub(super) fn altered_column(s: &str) -> &str {
    s.split(" ALTER COLUMN ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or("")
        .trim_matches('"')
}

/// Whether the normalized `SET NOT NULL` statement `s` follows the
/// validation of a `CHECK (col IS NOT NULL)` among `earlier` (named
/// `..._{col}_not_null`, as the generator names it), which PostgreSQL
/// trusts instead of scanning the table.
pub(super) fn not_null_proven(s: &str, earlier: &[String]) -> bool {
    let column = altered_column(s);
    !column.is_empty()
        && earlier.iter().any(|e| {
            e.contains(" VALIDATE CONSTRAINT ") && e.contains(&format!("{column}_NOT_NULL"))
        })
}

/// The plans as the `plan` command prints them.
pub fn render(plans: &[MigrationPlan]) -> String {
    let mut out = String::new();
    for m in plans {
        let mode = if m.backfill {
            "batched backfill, outside a transaction"
        } else if m.transactional {
            "in one transaction"
        } else {
            "outside a transaction, statement by statement"
        };
        let phase = if m.contract { "contract" } else { "expand" };
        out.push_str(&format!("{}_{} ({phase}, {mode})\n", m.version, m.name));
        for p in &m.statements {
            let first = p.sql.lines().find(|l| !l.trim_start().starts_with("--"));
            out.push_str(&format!("  {}\n", first.unwrap_or("").trim()));
            let lock = p
                .lock
                .map_or("no lock on an existing table".to_owned(), |l| {
                    format!("{l} lock")
                });
            let mut line = format!(
                "      {lock}; {}; {}",
                if p.rewrites {
                    "REWRITES the table"
                } else {
                    "no rewrite"
                },
                if p.scans {
                    "scans the table"
                } else {
                    "no scan"
                },
            );
            if let Some(note) = p.note {
                line.push_str("; ");
                line.push_str(note);
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(sql: &str) -> (Option<LockLevel>, bool, bool) {
        let p = plan_statement(sql, &[]);
        (p.lock, p.rewrites, p.scans)
    }

    #[test]
    fn each_generated_shape_has_its_lock() {
        use LockLevel::*;
        let cases = [
            ("SET LOCAL lock_timeout = '5s'", (None, false, false)),
            ("CREATE TABLE \"t\" (\"id\" UUID)", (None, false, false)),
            ("ALTER TABLE \"t\" ADD COLUMN \"a\" INTEGER DEFAULT 0 NOT NULL", (Some(AccessExclusive), false, false)),
            ("ALTER TABLE \"t\" ADD COLUMN \"a\" UUID DEFAULT gen_random_uuid()", (Some(AccessExclusive), true, true)),
            ("ALTER TABLE \"t\" ADD CONSTRAINT \"c\" CHECK (\"a\" >= 0) NOT VALID", (Some(AccessExclusive), false, false)),
            ("ALTER TABLE \"t\" ADD CONSTRAINT \"c\" CHECK (\"a\" >= 0)", (Some(AccessExclusive), false, true)),
            ("ALTER TABLE \"t\" ADD CONSTRAINT \"f\" FOREIGN KEY (\"u\") REFERENCES \"u\" (\"id\") NOT VALID", (Some(ShareRowExclusive), false, false)),
            ("ALTER TABLE \"t\" VALIDATE CONSTRAINT \"c\"", (Some(ShareUpdateExclusive), false, true)),
            ("ALTER TABLE \"t\" ALTER COLUMN \"a\" SET NOT NULL", (Some(AccessExclusive), false, true)),
            ("ALTER TABLE \"t\" ALTER COLUMN \"a\" TYPE BIGINT", (Some(AccessExclusive), true, true)),
            ("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"i\" ON \"t\" (\"a\")", (Some(ShareUpdateExclusive), false, true)),
            ("CREATE INDEX \"i\" ON \"t\" (\"a\")", (Some(Share), false, true)),
            ("DROP INDEX CONCURRENTLY IF EXISTS \"i\"", (Some(ShareUpdateExclusive), false, false)),
            ("ALTER INDEX \"i\" RENAME TO \"j\"", (Some(ShareUpdateExclusive), false, false)),
            ("DROP TABLE \"t\"", (Some(AccessExclusive), false, false)),
            ("CREATE POLICY \"p\" ON \"t\" USING (true)", (Some(AccessExclusive), false, false)),
            ("DROP POLICY \"p\" ON \"t\"", (Some(AccessExclusive), false, false)),
            ("ALTER TABLE \"t\" FORCE ROW LEVEL SECURITY", (Some(AccessExclusive), false, false)),
        ];
        for (sql, expected) in cases {
            assert_eq!(level(sql), expected, "{sql}");
        }
    }

    #[test]
    fn a_validated_check_spares_set_not_null_its_scan() {
        let earlier = [normalize(
            "ALTER TABLE \"t\" VALIDATE CONSTRAINT \"t_a_not_null\"",
        )];
        let p = plan_statement(
            "ALTER TABLE \"t\" ALTER COLUMN \"a\" SET NOT NULL",
            &earlier,
        );
        assert!(!p.scans);
    }
}
