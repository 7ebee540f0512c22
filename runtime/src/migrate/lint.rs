//! The kit's migration rules, for migrations written by hand: what the
//! generator does by construction (the rules squawk and strong_migrations
//! check that apply to PostgreSQL), each broken one reported with its fix.
//! Generated migrations pass them; tables created in the same migration
//! are exempt (nothing waits for a table nobody has seen).

use std::fmt;

use super::files::Migration;
use super::plan::normalize;

/// A rule a migration breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LintRule {
    /// An index built on an existing table without `CONCURRENTLY`: writes
    /// wait for the whole build.
    ConcurrentIndex,
    /// `CREATE INDEX CONCURRENTLY` (or `DROP INDEX CONCURRENTLY`) in a
    /// migration that runs in a transaction, which PostgreSQL refuses.
    ConcurrentInTransaction,
    /// A check or foreign key added to an existing table without `NOT
    /// VALID`: the whole table is scanned under the lock.
    NotValid,
    /// A column added with a volatile default: every row is rewritten
    /// under an `ACCESS EXCLUSIVE` lock.
    VolatileDefault,
    /// `SET NOT NULL` with no validated `CHECK (col IS NOT NULL)` before
    /// it: the table is scanned under an `ACCESS EXCLUSIVE` lock.
    SetNotNull,
    /// A column's type changed: most changes rewrite the table under an
    /// `ACCESS EXCLUSIVE` lock.
    ColumnType,
    /// A migration that locks an existing table without a `lock_timeout`:
    /// queued behind a long transaction, it stalls every query after it.
    LockTimeout,
}

impl LintRule {
    /// A short, stable name (`concurrent-index`).
    pub fn name(self) -> &'static str {
        match self {
            LintRule::ConcurrentIndex => "concurrent-index",
            LintRule::ConcurrentInTransaction => "concurrent-in-transaction",
            LintRule::NotValid => "not-valid",
            LintRule::VolatileDefault => "volatile-default",
            LintRule::SetNotNull => "set-not-null",
            LintRule::ColumnType => "column-type",
            LintRule::LockTimeout => "lock-timeout",
        }
    }
}

impl fmt::Display for LintRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One statement breaking one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    /// `20261207041551_add_index`.
    pub migration: String,
    /// The statement's position, from 1 (0: the migration as a whole).
    pub statement: usize,
    /// The rule.
    pub rule: LintRule,
    /// What goes wrong while it runs.
    pub problem: String,
    /// What to write instead.
    pub fix: String,
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.statement == 0 {
            write!(f, "{}", self.migration)?;
        } else {
            write!(f, "{} statement {}", self.migration, self.statement)?;
        }
        write!(
            f,
            ": {} [{}]\n    fix: {}",
            self.problem, self.rule, self.fix
        )
    }
}

/// Every rule `migration` breaks, statement by statement.
pub fn lint(migration: &Migration) -> Vec<Lint> {
    let name = format!("{}_{}", migration.version, migration.name);
    let statements = migration.statements();
    let normalized: Vec<String> = statements.iter().map(|s| normalize(s)).collect();
    // Tables this migration creates: nothing waits for them.
    let created: Vec<String> = normalized
        .iter()
        .filter_map(|s| s.strip_prefix("CREATE TABLE "))
        .filter_map(|rest| {
            let rest = rest.strip_prefix("IF NOT EXISTS ").unwrap_or(rest);
            rest.split([' ', '(']).next().map(bare)
        })
        .collect();
    let existing = |table: Option<String>| table.is_some_and(|t| !created.contains(&bare(&t)));
    let mut out = Vec::new();
    let mut push = |statement: usize, rule: LintRule, problem: &str, fix: String| {
        out.push(Lint {
            migration: name.clone(),
            statement,
            rule,
            problem: problem.to_owned(),
            fix,
        });
    };
    let mut locks_existing = false;
    for (i, s) in normalized.iter().enumerate() {
        let n = i + 1;
        let has = |needle: &str| s.contains(needle);
        let concurrent_index = (s.starts_with("CREATE INDEX CONCURRENTLY")
            || s.starts_with("CREATE UNIQUE INDEX CONCURRENTLY")
            || s.starts_with("DROP INDEX CONCURRENTLY"))
            && migration.transactional;
        if concurrent_index {
            push(
                n,
                LintRule::ConcurrentInTransaction,
                "CONCURRENTLY cannot run in a transaction: the migration fails",
                format!(
                    "put it in a migration of its own whose first line is `{}`",
                    super::NO_TRANSACTION
                ),
            );
        }
        if (s.starts_with("CREATE INDEX ") || s.starts_with("CREATE UNIQUE INDEX "))
            && !has(" CONCURRENTLY ")
            && existing(index_table(s))
        {
            locks_existing = true;
            push(
                n,
                LintRule::ConcurrentIndex,
                "builds the index under a SHARE lock: every write to the table waits for the whole build",
                format!(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS ..., after DROP INDEX CONCURRENTLY IF EXISTS of \
                     the same name, in a migration whose first line is `{}`",
                    super::NO_TRANSACTION
                ),
            );
        }
        if !s.starts_with("ALTER TABLE ") || !existing(altered_table(s)) {
            continue;
        }
        locks_existing = true;
        if has(" ADD CONSTRAINT ")
            && (has(" CHECK ") || has(" FOREIGN KEY "))
            && !s.ends_with(" NOT VALID")
        {
            push(
                n,
                LintRule::NotValid,
                "checks every row under the lock it takes (ACCESS EXCLUSIVE for a check, SHARE ROW \
                 EXCLUSIVE for a foreign key on both tables)",
                "add it `NOT VALID` (new rows are checked at once), then `VALIDATE CONSTRAINT` in a \
                 later migration: the scan runs under a lock that lets reads and writes go on"
                    .to_owned(),
            );
        }
        if has(" ADD COLUMN ")
            && has(" DEFAULT ")
            && [
                "RANDOM",
                "CLOCK_",
                "NEXTVAL",
                "GEN_RANDOM",
                "UUID_GENERATE",
                "TIMEOFDAY",
            ]
            .iter()
            .any(|f| has(f))
        {
            push(
                n,
                LintRule::VolatileDefault,
                "a volatile default is computed for every row: the table is rewritten under ACCESS EXCLUSIVE",
                "add the column without a default, fill it in batches (a backfill migration), then \
                 `ALTER COLUMN ... SET DEFAULT` for new rows"
                    .to_owned(),
            );
        }
        if has(" SET NOT NULL") {
            let column = super::plan::altered_column(s).to_lowercase();
            let proven = super::plan::not_null_proven(s, &normalized[..i]);
            if !proven {
                push(
                    n,
                    LintRule::SetNotNull,
                    "scans the whole table under ACCESS EXCLUSIVE to prove no row is NULL",
                    format!(
                        "first `ADD CONSTRAINT {c}_not_null CHECK ({c} IS NOT NULL) NOT VALID`, then \
                         `VALIDATE CONSTRAINT` in a later transaction; `SET NOT NULL` then trusts it \
                         (no scan) and the check can go",
                        c = column
                    ),
                );
            }
        }
        if has(" ALTER COLUMN ") && (has(" TYPE ") || has(" SET DATA TYPE ")) {
            push(
                n,
                LintRule::ColumnType,
                "most type changes rewrite the table under ACCESS EXCLUSIVE",
                "add a column of the new type, write both while the old release runs, fill it in \
                 batches, switch reads, then drop the old one; or, when the table is small where it \
                 runs, say so at the top: `-- ordinance:allow-lock <reason>`"
                    .to_owned(),
            );
        }
    }
    if locks_existing && !normalized.iter().any(|s| s.contains("LOCK_TIMEOUT")) {
        push(
            0,
            LintRule::LockTimeout,
            "locks an existing table with no lock_timeout: queued behind a long transaction, it \
             stalls every query of the table after it",
            if migration.transactional {
                "begin it with `SET LOCAL lock_timeout = '5s';` (the runner retries a migration that \
                 gave up on a lock)"
                    .to_owned()
            } else {
                "begin it with `SET lock_timeout = '5s';` (the runner retries a migration that gave up \
                 on a lock)"
                    .to_owned()
            },
        );
    }
    out
}

/// A normalized table name without its quotes or `PUBLIC.`: how the
/// generator and the server's own definitions (unquoted) compare.
fn bare(name: &str) -> String {
    let name = name.replace('"', "");
    name.strip_prefix("PUBLIC.").unwrap_or(&name).to_owned()
}

/// The table of `ALTER TABLE [IF EXISTS] [ONLY] t ...`, as normalized.
fn altered_table(s: &str) -> Option<String> {
    let rest = s.strip_prefix("ALTER TABLE ")?;
    let rest = rest.strip_prefix("IF EXISTS ").unwrap_or(rest);
    let rest = rest.strip_prefix("ONLY ").unwrap_or(rest);
    rest.split(' ').next().map(str::to_owned)
}

/// The table of `CREATE [UNIQUE] INDEX ... ON [ONLY] t ...`, as normalized.
fn index_table(s: &str) -> Option<String> {
    let rest = s.split(" ON ").nth(1)?;
    let rest = rest.strip_prefix("ONLY ").unwrap_or(rest);
    rest.split([' ', '(']).next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(text: &str) -> Migration {
        let mut list =
            super::super::Migrations::from_sources(&[("20990101000000_hand.up.sql", text)])
                .expect("a migration")
                .list()
                .to_vec();
        list.remove(0)
    }

    fn rules(text: &str) -> Vec<&'static str> {
        lint(&migration(text))
            .iter()
            .map(|l| l.rule.name())
            .collect()
    }

    #[test]
    fn each_rule_and_what_passes_it() {
        assert_eq!(
            rules("SET LOCAL lock_timeout = '5s';\nCREATE INDEX i ON t (a);"),
            ["concurrent-index"]
        );
        assert_eq!(
            rules("SET LOCAL lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON t (a);"),
            ["concurrent-in-transaction"]
        );
        assert!(rules(
            "-- ordinance:no-transaction\nSET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON t (a);"
        )
        .is_empty());
        assert_eq!(
            rules("SET LOCAL lock_timeout = '5s';\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);"),
            ["not-valid"]
        );
        assert!(rules(
            "SET LOCAL lock_timeout = '5s';\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;"
        )
        .is_empty());
        assert_eq!(
            rules("SET LOCAL lock_timeout = '5s';\nALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();"),
            ["volatile-default"]
        );
        assert!(
            rules("SET LOCAL lock_timeout = '5s';\nALTER TABLE t ADD COLUMN n int DEFAULT 0;")
                .is_empty()
        );
        assert_eq!(
            rules("SET LOCAL lock_timeout = '5s';\nALTER TABLE t ALTER COLUMN a SET NOT NULL;"),
            ["set-not-null"]
        );
        assert!(rules(
            "SET LOCAL lock_timeout = '5s';\nALTER TABLE t VALIDATE CONSTRAINT t_a_not_null;\n\
             ALTER TABLE t ALTER COLUMN a SET NOT NULL;"
        )
        .is_empty());
        assert_eq!(
            rules("SET LOCAL lock_timeout = '5s';\nALTER TABLE t ALTER COLUMN a TYPE bigint;"),
            ["column-type"]
        );
        assert_eq!(rules("ALTER TABLE t ADD COLUMN n int;"), ["lock-timeout"]);
        // A table made in the same migration is nobody's yet, however its
        // name is written.
        assert!(rules(
            "CREATE TABLE \"t\" (id uuid, a int);\nCREATE INDEX i ON public.t USING btree (a);"
        )
        .is_empty());
        assert!(rules(
            "CREATE TABLE t (id uuid, a int);\nCREATE INDEX i ON t (a);\n\
             ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;"
        )
        .is_empty());
    }

    #[test]
    fn a_finding_names_the_statement_and_the_fix() {
        let found = lint(&migration(
            "SET LOCAL lock_timeout = '5s';\nCREATE INDEX i ON t (a);",
        ));
        let shown = found[0].to_string();
        assert!(
            shown.starts_with(
                "20990101000000_hand statement 2: builds the index under a SHARE lock"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("[concurrent-index]\n    fix: CREATE INDEX CONCURRENTLY"),
            "{shown}"
        );
    }
}
