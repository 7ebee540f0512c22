//! The rule book applied to a live database the kit may not have created:
//! each table, column, index and constraint that breaks a convention, with
//! the fix.
//!
//! ```no_run
//! # async fn demo(client: &tokio_postgres::Client) -> ordinance::Result<()> {
//! let findings = ordinance::audit::audit(client, &ordinance::audit::AuditOptions::default()).await?;
//! print!("{}", ordinance::audit::render(&findings));
//! # Ok(()) }
//! ```
//!
//! From the command line, `migrate audit` prints the same report and exits
//! with status 1 when there is any finding, so CI can run it against a
//! staging database.

mod enums;
mod names;
mod rules;

use std::fmt;

use tokio_postgres::Client;

use crate::error::Result;
use crate::inspect::Database;

/// What the audit looks at beyond the rule book's fixed rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditOptions {
    /// An index counts as unused when it never served a scan although its
    /// table was read at least this many times since statistics were reset
    /// (a fresh database reads nothing and reports nothing). `None` skips
    /// the check.
    pub unused_after_reads: Option<i64>,
    /// The team's conventions the database is checked against: names
    /// (rule `object-name`), bounded text as `VARCHAR(n)` or `TEXT` with a
    /// check (rule `limited-text`). The kit's own
    /// ([`Conventions::DEFAULT`](crate::schema::Conventions::DEFAULT))
    /// unless told otherwise; the `migrate audit` command uses those the
    /// application's entities were compiled under.
    pub conventions: &'static crate::schema::Conventions,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            unused_after_reads: Some(1_000),
            conventions: &crate::schema::Conventions::DEFAULT,
        }
    }
}

/// Which rule a finding breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// Table names are snake_case.
    TableName,
    /// Table names are plural.
    PluralTable,
    /// No type prefixes (`tbl_`, `str_`, ...) on tables or columns.
    TypePrefix,
    /// Column names are snake_case.
    ColumnName,
    /// A table has a primary key.
    PrimaryKey,
    /// The primary key is one `id UUID` column.
    UuidId,
    /// A required column (`created_at`, `updated_at`, `deleted_at`,
    /// `version`) is missing.
    RequiredColumn,
    /// A required column has the wrong type, nullability or default.
    RequiredColumnType,
    /// Booleans read as predicates (`is_`, `has_`, `can_`, `should_`).
    BooleanName,
    /// Floating point where money or quantities need `NUMERIC`.
    Float,
    /// `timestamp` without time zone.
    TimestampWithoutTimeZone,
    /// `varchar(n)` / `char(n)` instead of `TEXT` with a length check.
    LimitedText,
    /// `json` instead of `jsonb`.
    Json,
    /// A foreign-key column is named `…_id`.
    ForeignKeyName,
    /// A `UUID` column named `…_id` without a foreign key.
    UndeclaredReference,
    /// Every foreign key has an index leading with its column.
    ForeignKeyIndex,
    /// An index that a failed concurrent build left invalid.
    InvalidIndex,
    /// An index that never served a read of a busy table.
    UnusedIndex,
    /// A unique index on a soft-deleting table that counts deleted rows.
    UniqueOnDeletedRows,
    /// A table with `tenant_id` keeps tenants apart with row-level
    /// security, forced on the owner too, and a policy.
    TenantIsolation,
    /// A primary key, foreign key, check or index is named as the naming
    /// policy says (the fix renames it in place).
    ObjectName,
    /// Enum-like values are stored as the policy says: `TEXT` with a
    /// `CHECK (col IN (...))`, or a native enum type (`types.enums`).
    EnumStorage,
}

impl Rule {
    /// A short, stable name for the rule (`foreign-key-index`).
    pub fn name(self) -> &'static str {
        match self {
            Rule::TableName => "table-name",
            Rule::PluralTable => "plural-table",
            Rule::TypePrefix => "type-prefix",
            Rule::ColumnName => "column-name",
            Rule::PrimaryKey => "primary-key",
            Rule::UuidId => "uuid-id",
            Rule::RequiredColumn => "required-column",
            Rule::RequiredColumnType => "required-column-type",
            Rule::BooleanName => "boolean-name",
            Rule::Float => "float",
            Rule::TimestampWithoutTimeZone => "timestamp-without-time-zone",
            Rule::LimitedText => "limited-text",
            Rule::Json => "json",
            Rule::ForeignKeyName => "foreign-key-name",
            Rule::UndeclaredReference => "undeclared-reference",
            Rule::ForeignKeyIndex => "foreign-key-index",
            Rule::InvalidIndex => "invalid-index",
            Rule::UnusedIndex => "unused-index",
            Rule::UniqueOnDeletedRows => "unique-on-deleted-rows",
            Rule::TenantIsolation => "tenant-isolation",
            Rule::ObjectName => "object-name",
            Rule::EnumStorage => "enum-storage",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One thing that breaks the rule book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The table it is on (`users`, `auth.sessions`).
    pub table: String,
    /// The column, index or constraint, when it is not the table itself.
    pub object: Option<String>,
    /// The rule it breaks.
    pub rule: Rule,
    /// What is wrong.
    pub problem: String,
    /// How to fix it: SQL to run (or to put in a migration), or what to do.
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.object {
            Some(object) => write!(f, "{}.{object}", self.table)?,
            None => write!(f, "{}", self.table)?,
        }
        write!(
            f,
            ": {} [{}]\n    fix: {}",
            self.problem, self.rule, self.fix
        )
    }
}

/// Reads the database `client` is connected to and returns every finding,
/// table by table.
pub async fn audit(client: &Client, options: &AuditOptions) -> Result<Vec<Finding>> {
    let database = Database::read(client).await?;
    Ok(check(&database, options))
}

/// The findings for a database already read.
pub fn check(database: &Database, options: &AuditOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    // A history table is the kit's, judged with the table it keeps.
    for table in database.tables.iter().filter(|t| !t.is_history()) {
        rules::table(table, options, &mut findings);
        names::check(table, &options.conventions.naming, &mut findings);
        enums::check(
            table,
            &database.enums,
            options.conventions.enums,
            &options.conventions.naming,
            &mut findings,
        );
    }
    findings
}

/// The report: one paragraph per finding, then a count.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for finding in findings {
        out.push_str(&finding.to_string());
        out.push('\n');
    }
    match findings.len() {
        0 => out.push_str("no findings: the database follows the rule book\n"),
        1 => out.push_str("1 finding\n"),
        n => out.push_str(&format!("{n} findings\n")),
    }
    out
}
