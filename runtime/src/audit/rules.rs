//! One function per part of a table; each pushes the findings it makes.

use ordinance_naming as naming;

use super::{AuditOptions, Finding, Rule};
use crate::ddl::{self, quote_ident};
use crate::inspect::{Column, Index, Table};
use crate::schema::split_waivers;

/// The kit's required columns: name, type as `format_type` writes it,
/// whether NOT NULL, the default, and the column's definition for a fix.
const REQUIRED: &[(&str, &str, bool, Option<&str>, &str)] = &[
    (
        "created_at",
        "timestamp with time zone",
        true,
        Some("now()"),
        "timestamptz NOT NULL DEFAULT now()",
    ),
    (
        "updated_at",
        "timestamp with time zone",
        true,
        Some("now()"),
        "timestamptz NOT NULL DEFAULT now()",
    ),
    (
        "deleted_at",
        "timestamp with time zone",
        false,
        None,
        "timestamptz",
    ),
    (
        "version",
        "integer",
        true,
        Some("1"),
        "integer NOT NULL DEFAULT 1 CHECK (version >= 1)",
    ),
];

struct Out<'a> {
    table: &'a Table,
    ident: String,
    /// Rules the table's comment records as waived.
    waived: Vec<String>,
    /// The team stores bounded text as `VARCHAR(n)`.
    varchar: bool,
    findings: &'a mut Vec<Finding>,
}

/// The rules a comment records as waived (see [`WAIVER_LINE`](crate::schema::WAIVER_LINE)).
fn waived(comment: Option<&String>) -> Vec<String> {
    comment
        .map(|c| {
            split_waivers(c)
                .1
                .into_iter()
                .map(|(rule, _)| rule)
                .collect()
        })
        .unwrap_or_default()
}

impl Out<'_> {
    fn table_waives(&self, rule: &str) -> bool {
        self.waived.iter().any(|w| w == rule)
    }

    fn push(&mut self, object: Option<&str>, rule: Rule, problem: String, fix: String) {
        self.findings.push(Finding {
            table: self.table.qualified_name(),
            object: object.map(str::to_owned),
            rule,
            problem,
            fix,
        });
    }
}

pub(super) fn table(table: &Table, options: &AuditOptions, findings: &mut Vec<Finding>) {
    let mut out = Out {
        table,
        ident: table.ident(),
        waived: waived(table.comment.as_ref()),
        varchar: options.conventions.bounded_text == crate::schema::BoundedText::Varchar,
        findings,
    };
    names(&mut out);
    primary_key(&mut out);
    required_columns(&mut out);
    for column in &table.columns {
        self::column(&mut out, column);
    }
    foreign_keys(&mut out);
    for index in &table.indexes {
        self::index(&mut out, index, options);
    }
    tenant_isolation(&mut out);
}

/// A table with `tenant_id` has row-level security on, forced on its owner
/// (who would otherwise see every tenant's rows), and a policy (without
/// one, nobody sees a row).
fn tenant_isolation(out: &mut Out<'_>) {
    let table = out.table;
    if table.column("tenant_id").is_none() {
        return;
    }
    let t = &out.ident;
    let mut missing = Vec::new();
    let mut fix = Vec::new();
    if table.policies.is_empty() {
        missing.push("no policy");
        fix.push(ddl::tenant_policy_on(t));
    }
    if !table.row_security.enabled {
        missing.push("row-level security is off");
        fix.push(ddl::enable_row_security(t, true));
    }
    if !table.row_security.forced {
        missing.push("its owner bypasses row-level security");
        fix.push(ddl::force_row_security(t, true));
    }
    if missing.is_empty() {
        return;
    }
    out.push(
        None,
        Rule::TenantIsolation,
        format!(
            "rows carry tenant_id but tenants are not kept apart: {}",
            missing.join(", ")
        ),
        format!(
            "{}; then the application sets app.tenant_id per transaction \
             (or, in an entity, `#[entity(tenant)]` generates all of it)",
            fix.join("; ")
        ),
    );
}

fn names(out: &mut Out<'_>) {
    let name = out.table.name.as_str();
    let snake = naming::snake_case(name);
    if !naming::is_snake_ident(name) {
        let fix = format!(
            "ALTER TABLE {} RENAME TO {};",
            out.ident,
            quote_ident(&naming::pluralize(&snake))
        );
        out.push(
            None,
            Rule::TableName,
            format!("table name {name:?} is not snake_case"),
            fix,
        );
    } else if !naming::is_plural(name) && !out.table_waives("plural") {
        let plural = naming::suggest_plural(name);
        out.push(
            None,
            Rule::PluralTable,
            format!("table name {name:?} is not plural: did you mean {plural:?}?"),
            format!(
                "ALTER TABLE {} RENAME TO {};",
                out.ident,
                quote_ident(&plural)
            ),
        );
    }
    if let Some(prefix) = naming::hungarian_prefix(name) {
        let bare = &name[prefix.len() + 1..];
        out.push(
            None,
            Rule::TypePrefix,
            format!("table name {name:?} carries the type prefix `{prefix}_`"),
            format!("ALTER TABLE {} RENAME TO {};", out.ident, quote_ident(bare)),
        );
    }
}

fn primary_key(out: &mut Out<'_>) {
    let table = out.table;
    match &table.primary_key {
        None => {
            let fix = if table.column("id").is_some() {
                format!("ALTER TABLE {} ADD PRIMARY KEY (id);", out.ident)
            } else {
                format!(
                    "ALTER TABLE {} ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY;",
                    out.ident
                )
            };
            out.push(
                None,
                Rule::PrimaryKey,
                "the table has no primary key".into(),
                fix,
            );
        }
        Some(key) => {
            let uuid_id =
                key.columns == ["id"] && table.column("id").is_some_and(|c| c.sql_type == "uuid");
            if !uuid_id {
                let what = match table.column("id") {
                    Some(c) if key.columns == ["id"] => format!("an {} id", c.sql_type),
                    _ => format!("on ({})", key.columns.join(", ")),
                };
                out.push(
                    Some(&key.name),
                    Rule::UuidId,
                    format!("the primary key is {what}, not `id uuid`"),
                    "use UUID ids: add `id uuid NOT NULL DEFAULT gen_random_uuid()`, \
                     move the primary key and the foreign keys that point here onto it, \
                     then drop the old key column"
                        .into(),
                );
            }
        }
    }
}

fn required_columns(out: &mut Out<'_>) {
    for &(name, sql_type, not_null, default, definition) in REQUIRED {
        let waiver = match name {
            "deleted_at" => "soft_delete",
            "version" => "version",
            _ => "",
        };
        if out.table_waives(waiver) {
            continue;
        }
        let Some(column) = out.table.column(name) else {
            let what = match name {
                "deleted_at" => {
                    " (soft delete; waive with `exempt(soft_delete = \"why\")` \
                                 when rows are really never removed)"
                }
                "version" => " (optimistic locking)",
                _ => "",
            };
            let fix = format!("ALTER TABLE {} ADD COLUMN {name} {definition};", out.ident);
            out.push(
                None,
                Rule::RequiredColumn,
                format!("missing `{name}`{what}"),
                fix,
            );
            continue;
        };
        let mut wrong = Vec::new();
        if column.sql_type != sql_type {
            wrong.push(format!("is {}, not {sql_type}", column.sql_type));
        }
        if column.not_null != not_null {
            wrong.push(
                if not_null {
                    "allows NULL"
                } else {
                    "is NOT NULL"
                }
                .to_owned(),
            );
        }
        if default.is_some() && column.default.as_deref() != default {
            wrong.push(format!("has no DEFAULT {}", default.unwrap_or_default()));
        }
        let check_missing = name == "version"
            && !out
                .table
                .checks
                .iter()
                .any(|k| k.columns == ["version"] && k.definition.contains("version >= 1"));
        if check_missing {
            wrong.push("has no CHECK (version >= 1)".to_owned());
        }
        if wrong.is_empty() {
            continue;
        }
        let mut fix = Vec::new();
        if column.sql_type != sql_type {
            fix.push(format!("ALTER COLUMN {name} TYPE {sql_type}"));
        }
        if column.not_null != not_null {
            fix.push(format!(
                "ALTER COLUMN {name} {} NOT NULL",
                if not_null { "SET" } else { "DROP" }
            ));
        }
        if let Some(d) = default {
            if column.default.as_deref() != Some(d) {
                fix.push(format!("ALTER COLUMN {name} SET DEFAULT {d}"));
            }
        }
        if check_missing {
            fix.push(format!(
                "ADD CONSTRAINT {} CHECK (version >= 1)",
                quote_ident(&naming::check_name(&out.table.name, "version", "min"))
            ));
        }
        let fix = format!("ALTER TABLE {} {};", out.ident, fix.join(", "));
        out.push(
            Some(name),
            Rule::RequiredColumnType,
            format!("`{name}` {}", wrong.join(", ")),
            fix,
        );
    }
}

fn column(out: &mut Out<'_>, column: &Column) {
    let name = column.name.as_str();
    let table_ident = out.ident.clone();
    let rename = |to: &str| {
        format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {};",
            table_ident,
            quote_ident(name),
            quote_ident(to)
        )
    };
    if !naming::is_snake_ident(name) {
        let to = naming::snake_case(name);
        let fix = rename(&to);
        out.push(
            Some(name),
            Rule::ColumnName,
            format!("column name {name:?} is not snake_case"),
            fix,
        );
    } else if let Some(prefix) = naming::hungarian_prefix(name) {
        let fix = rename(&name[prefix.len() + 1..]);
        out.push(
            Some(name),
            Rule::TypePrefix,
            format!("column name {name:?} carries the type prefix `{prefix}_`"),
            fix,
        );
    }
    let retype = |to: &str| {
        format!(
            "ALTER TABLE {} ALTER COLUMN {} TYPE {to};",
            table_ident,
            quote_ident(name)
        )
    };
    let ty = column.sql_type.as_str();
    if REQUIRED.iter().any(|r| r.0 == name) {
        // Judged with its exact type by `required_columns`.
        return;
    }
    let column_waives = waived(column.comment.as_ref());
    let waives = |rule: &str| column_waives.iter().any(|w| w == rule);
    if ty == "boolean"
        && !waives("boolean_name")
        && !naming::BOOLEAN_PREFIXES.iter().any(|p| name.starts_with(p))
        && naming::is_snake_ident(name)
    {
        let fix = rename(&naming::suggest_boolean_name(name));
        out.push(
            Some(name),
            Rule::BooleanName,
            format!("boolean {name:?} does not read as a predicate (is_, has_, can_, should_)"),
            fix,
        );
    }
    if (ty == "real" || ty == "double precision" || ty == "money") && !waives("float") {
        let fix = retype("numeric");
        out.push(
            Some(name),
            Rule::Float,
            format!("{ty} loses exactness; money and quantities are NUMERIC"),
            format!("{fix} (or NUMERIC(p,s) with the precision the values need)"),
        );
    }
    if ty.starts_with("timestamp") && ty.ends_with("without time zone") {
        let fix = retype(&format!(
            "timestamptz USING {} AT TIME ZONE 'UTC'",
            quote_ident(name)
        ));
        out.push(
            Some(name),
            Rule::TimestampWithoutTimeZone,
            "timestamp without time zone: the instant depends on the server's zone".into(),
            format!("{fix} (with the zone the values were written in)"),
        );
    }
    let varchar = ty.strip_prefix("character varying(");
    if let Some(limit) = varchar
        .filter(|_| !out.varchar)
        .or_else(|| ty.strip_prefix("character("))
        .and_then(|rest| rest.strip_suffix(')'))
    {
        let fix = format!(
            "ALTER TABLE {t} ALTER COLUMN {c} TYPE text, \
             ADD CONSTRAINT {k} CHECK (char_length({c}) <= {limit});",
            t = out.ident,
            c = quote_ident(name),
            k = quote_ident(&naming::check_name(&out.table.name, name, "max_length")),
        );
        out.push(
            Some(name),
            Rule::LimitedText,
            format!("{ty}: a length limit in the type makes changing it a table rewrite"),
            fix,
        );
    }
    if ty == "json" {
        let fix = retype("jsonb");
        out.push(
            Some(name),
            Rule::Json,
            "json keeps text; jsonb can be indexed and compared".into(),
            fix,
        );
    }
    let is_reference = out
        .table
        .foreign_keys
        .iter()
        .any(|f| f.columns.len() == 1 && f.columns[0] == name);
    if ty == "uuid"
        && name.ends_with("_id")
        && !is_reference
        && !waives("foreign_key")
        && !(name == "tenant_id" && out.table.row_security.enabled)
    {
        let target = naming::pluralize(name.trim_end_matches("_id"));
        let fix = format!(
            "ALTER TABLE {t} ADD CONSTRAINT {k} FOREIGN KEY ({c}) REFERENCES {r} (id) NOT VALID; \
             then VALIDATE CONSTRAINT {k} (or, in an entity, waive with \
             `exempt(foreign_key = \"why\")` when it points outside this database)",
            t = out.ident,
            c = quote_ident(name),
            k = quote_ident(&naming::foreign_key_name(&out.table.name, name)),
            r = quote_ident(&target),
        );
        out.push(
            Some(name),
            Rule::UndeclaredReference,
            format!("{name:?} looks like a reference but has no foreign key"),
            fix,
        );
    }
}

fn foreign_keys(out: &mut Out<'_>) {
    let table = out.table;
    for fk in &table.foreign_keys {
        if let [column] = fk.columns.as_slice() {
            if !column.ends_with("_id") {
                let fix = format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {};",
                    out.ident,
                    quote_ident(column),
                    quote_ident(&format!("{column}_id"))
                );
                out.push(
                    Some(column),
                    Rule::ForeignKeyName,
                    format!("foreign-key column {column:?} does not end in `_id`"),
                    fix,
                );
            }
        }
        let indexed = table.indexes.iter().any(|i| {
            i.valid
                && i.columns.len() >= fk.columns.len()
                && i.columns
                    .iter()
                    .zip(&fk.columns)
                    .all(|(a, b)| a.as_deref() == Some(b.as_str()))
        });
        if !indexed {
            let columns: Vec<&str> = fk.columns.iter().map(String::as_str).collect();
            let fix = format!(
                "CREATE INDEX CONCURRENTLY {} ON {} ({});",
                quote_ident(&naming::index_name(&table.name, &columns, false)),
                out.ident,
                columns
                    .iter()
                    .map(|c| quote_ident(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            out.push(
                Some(&fk.name),
                Rule::ForeignKeyIndex,
                format!(
                    "no index leads with ({}): each delete from {} scans this table",
                    fk.columns.join(", "),
                    fk.references
                ),
                fix,
            );
        }
    }
}

fn index(out: &mut Out<'_>, index: &Index, options: &AuditOptions) {
    let table = out.table;
    let ident = table.sql_name(&index.name);
    if !index.valid {
        out.push(
            Some(&index.name),
            Rule::InvalidIndex,
            "invalid: a concurrent build failed; queries do not use it, writes still maintain it"
                .into(),
            format!("REINDEX INDEX CONCURRENTLY {ident}; (or DROP INDEX CONCURRENTLY {ident}; and build it again)"),
        );
        return;
    }
    let serves_key = index.unique || index.backs_constraint;
    let backs_foreign_key = table.foreign_keys.iter().any(|fk| {
        fk.columns
            .iter()
            .zip(&index.columns)
            .all(|(a, b)| b.as_deref() == Some(a.as_str()))
    });
    if let Some(threshold) = options.unused_after_reads {
        if !serves_key && !backs_foreign_key && index.scans == 0 && table.reads >= threshold {
            out.push(
                Some(&index.name),
                Rule::UnusedIndex,
                format!(
                    "never used although the table was read {} times; it slows every write",
                    table.reads
                ),
                format!(
                    "DROP INDEX CONCURRENTLY {ident}; (after checking the replicas' \
                     pg_stat_user_indexes too)"
                ),
            );
        }
    }
    let soft_deletes = table.column("deleted_at").is_some();
    // A key that holds `id` is unique anyway: no deleted row can block a
    // new one (a tenant table's `(tenant_id, id)`, which foreign keys need
    // over every row).
    let holds_id = index.columns.iter().any(|c| c.as_deref() == Some("id"));
    if soft_deletes
        && index.unique
        && !index.backs_constraint
        && index.predicate.is_none()
        && !holds_id
    {
        out.push(
            Some(&index.name),
            Rule::UniqueOnDeletedRows,
            "unique over deleted rows too: a soft-deleted row blocks a new one with the same key"
                .into(),
            {
                let columns: Vec<&str> =
                    index.columns.iter().flatten().map(String::as_str).collect();
                let live = options
                    .conventions
                    .naming
                    .index(&table.name, &columns, true);
                let definition = index.definition.replacen(
                    &format!("CREATE UNIQUE INDEX {} ON", index.name),
                    &format!("CREATE UNIQUE INDEX CONCURRENTLY {} ON", quote_ident(&live)),
                    1,
                );
                format!("{definition} WHERE (deleted_at IS NULL); DROP INDEX CONCURRENTLY {ident};")
            },
        );
    }
}
