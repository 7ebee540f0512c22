//! The schema as a Markdown document (a `DATABASE.md`), written from the
//! entities so it never goes stale.
//!
//! Each table gets its comment, its markers (soft delete, optimistic
//! locking, tenant), its columns (type, nullability, default, checks,
//! comments, personal data, waived rules and why), its primary and foreign
//! keys with their `ON DELETE`, its relations both ways (one-to-one,
//! one-to-many, and many-to-many through join entities), its indexes (with
//! partial predicates and what each serves: a keyset order, a foreign key,
//! a unique key) and its keyset orders. The Mermaid ER diagram of
//! [`diagram`](crate::diagram) comes first. Tables are sorted by name and
//! nothing depends on the clock, so the document can be checked in; with
//! the `testing` feature, [`assert_up_to_date`] is the drift test that
//! fails when it is stale.
//!
//! ```
//! use ordinance::prelude::*;
//!
//! /// A person who writes.
//! #[derive(Entity)]
//! pub struct Author { pub id: Uuid, #[column(max_len = 80)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//!
//! let markdown = ordinance::document::markdown(&[Author::SCHEMA]);
//! assert!(markdown.contains("### `authors`"));
//! assert!(markdown.contains("A person who writes."));
//! ```

use std::fmt::Write as _;

use crate::ddl;
use crate::schema::{Column, ForeignKey, Index, IndexMethod, TableSchema};

/// The first line of every document: tools (and people) can tell it is
/// generated.
pub const GENERATED: &str =
    "<!-- Generated from the entities by ordinance; do not edit by hand. -->";

/// The entities as one Markdown document.
pub fn markdown(schemas: &[&TableSchema]) -> String {
    let tables = crate::diagram::sorted(schemas);
    let mut out = String::new();
    let _ = writeln!(out, "{GENERATED}\n\n# Database schema\n");
    let _ = writeln!(
        out,
        "{} tables. Every table has a UUID primary key `id` and `created_at` / \
         `updated_at` set by the database clock; names are snake_case, tables plural.\n",
        tables.len()
    );
    conventions(&mut out, &tables);
    out.push_str("| Table | Entity | Markers | Description |\n|---|---|---|---|\n");
    for t in &tables {
        let _ = writeln!(
            out,
            "| [`{name}`](#{anchor}) | `{entity}` | {markers} | {doc} |",
            name = t.qualified_name(),
            anchor = anchor(t),
            entity = t.struct_name,
            markers = crate::diagram::markers(t).join(", "),
            doc = cell(&summary(t.comment)),
        );
    }
    out.push_str("\n## Diagram\n\n```mermaid\n");
    out.push_str(&crate::diagram::mermaid(&tables));
    out.push_str("```\n\n## Tables\n");
    for t in &tables {
        table(&mut out, t, &tables);
    }
    out
}

/// The team's conventions the tables were generated under, when they are
/// not the kit's own: how objects are named, how ids are made, how bounded
/// text and enums are stored (one paragraph per set of conventions in use).
fn conventions(out: &mut String, tables: &[&TableSchema]) {
    let mut seen: Vec<&crate::schema::Conventions> = Vec::new();
    for t in tables {
        if !seen.contains(&t.conventions) {
            seen.push(t.conventions);
        }
    }
    if seen
        .iter()
        .all(|c| **c == crate::schema::Conventions::DEFAULT)
    {
        return;
    }
    for c in seen {
        let n = &c.naming;
        let _ = writeln!(
            out,
            "Names: primary keys `{}`, indexes `{}`, unique indexes `{}`, checks `{}`, \
             foreign keys `{}`. Ids: {}. Bounded text: {}. Enums: {}.\n",
            n.primary_key,
            n.index,
            n.unique,
            n.check,
            n.foreign_key,
            match c.ids {
                crate::schema::IdGeneration::V4 => "UUIDv4 (random)",
                _ => "UUIDv7 (time-ordered)",
            },
            match c.bounded_text {
                crate::schema::BoundedText::Varchar => "`VARCHAR(n)`",
                _ => "`TEXT` with a length check",
            },
            match c.enums {
                crate::schema::EnumStorage::Native => "native enum types",
                _ => "`TEXT` with a check of the values",
            },
        );
    }
}

/// How a checked-in document compares with the entities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentDrift {
    /// The file is the document the entities write now.
    UpToDate,
    /// The file was (re)written.
    Written,
    /// The file is missing or differs; the first differing line, numbered
    /// from 1, as the file has it and as the entities write it.
    Stale {
        /// The first line that differs.
        line: usize,
        /// That line in the file (`None` past its end).
        checked_in: Option<String>,
        /// That line as the entities write it (`None` past its end).
        expected: Option<String>,
    },
}

/// Compares the document at `path` with what `schemas` write now; with
/// `write` set, writes it instead when it differs.
pub fn check(
    schemas: &[&TableSchema],
    path: impl AsRef<std::path::Path>,
    write: bool,
) -> std::io::Result<DocumentDrift> {
    let path = path.as_ref();
    let expected = markdown(schemas);
    let checked_in = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    if checked_in == expected {
        return Ok(DocumentDrift::UpToDate);
    }
    if write {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &expected)?;
        return Ok(DocumentDrift::Written);
    }
    let (mut old, mut new) = (checked_in.lines(), expected.lines());
    let mut line = 1;
    loop {
        match (old.next(), new.next()) {
            (a, b) if a == b && a.is_some() => line += 1,
            (a, b) => {
                return Ok(DocumentDrift::Stale {
                    line,
                    checked_in: a.map(str::to_owned),
                    expected: b.map(str::to_owned),
                })
            }
        }
    }
}

/// The drift test of a checked-in schema document: passes when the file at
/// `path` (relative to the package being tested) is what `schemas` write
/// now; otherwise fails with the first differing line and the command that
/// rewrites it. With `ORDINANCE_BLESS` set, it rewrites the file instead
/// and passes, printing a `wrote ...` line.
///
/// ```no_run
/// # use ordinance::prelude::*;
/// # #[derive(Entity)] pub struct Tag { pub id: Uuid, #[column(max_len = 40)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// #[test]
/// fn the_schema_document_is_current() {
///     ordinance::document::assert_up_to_date(&[Tag::SCHEMA], "DATABASE.md");
/// }
/// ```
///
/// *Requires the `testing` feature.*
#[cfg(any(feature = "testing", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub fn assert_up_to_date(schemas: &[&TableSchema], path: impl AsRef<std::path::Path>) {
    let path = path.as_ref();
    let write = std::env::var_os("ORDINANCE_BLESS").is_some_and(|v| v != "0");
    match check(schemas, path, write) {
        Ok(DocumentDrift::UpToDate) => {}
        Ok(DocumentDrift::Written) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr().lock(), "ordinance: wrote {}", path.display());
        }
        Ok(DocumentDrift::Stale {
            line,
            checked_in,
            expected,
        }) => panic!(
            "{} is not the schema document the entities write now; first difference at line \
             {line}:\n    checked in: {}\n    expected:   {}\n\
             Rewrite it with:\n    {}\n\
             (or with the application's migrate command: `migrate document {}`), then review and commit it.",
            path.display(),
            checked_in.as_deref().unwrap_or("(end of file)"),
            expected.as_deref().unwrap_or("(end of file)"),
            crate::rerun::rerun_command("ORDINANCE_BLESS=1"),
            path.display(),
        ),
        Err(e) => panic!("ordinance: could not read or write {}: {e}", path.display()),
    }
}

fn table(out: &mut String, t: &TableSchema, all: &[&TableSchema]) {
    let _ = writeln!(out, "\n### `{}`\n", t.qualified_name());
    if let Some(doc) = t.comment {
        let _ = writeln!(out, "{}\n", doc.trim());
    }
    let _ = writeln!(out, "Entity `{}`.", t.struct_name);
    for line in table_markers(t) {
        let _ = writeln!(out, "{line}");
    }
    for w in t.waivers {
        let _ = writeln!(out, "Convention waived: `{}` — {}.", w.rule, w.reason);
    }

    out.push_str(
        "\n#### Columns\n\n| Column | Type | Null | Default | Description | Rules |\n\
         |---|---|---|---|---|---|\n",
    );
    for c in t.columns {
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {} | {} |",
            c.name,
            t.column_type(c),
            if c.nullable { "yes" } else { "no" },
            c.default
                .map(|d| format!("`{}`", d.sql()))
                .unwrap_or_default(),
            cell(c.comment.unwrap_or("").trim()),
            cell(&column_rules(t, c).join("; ")),
        );
    }

    out.push_str("\n#### Keys and constraints\n\n");
    let _ = writeln!(out, "- Primary key `{}` on `id`.", t.primary_key);
    for fk in t.foreign_keys {
        let _ = writeln!(
            out,
            "- Foreign key `{}`: `{}` → `{}`.`id`, `ON DELETE {}`.",
            fk.name,
            fk.column,
            referenced(fk),
            fk.on_delete.sql()
        );
    }
    for check in t.rendered_checks() {
        let _ = writeln!(
            out,
            "- Check `{}`: `{}`.",
            check.name,
            ddl::check_definition(check)
        );
    }

    let relations = relations(t, all);
    if !relations.is_empty() {
        out.push_str("\n#### Relations\n\n");
        for r in relations {
            let _ = writeln!(out, "- {r}");
        }
    }

    if !t.indexes.is_empty() {
        out.push_str("\n#### Indexes\n\n| Index | Definition | Serves |\n|---|---|---|\n");
        for index in t.indexes {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} |",
                index.name,
                cell(&index_definition(index)),
                cell(&serves(t, index).join("; ")),
            );
        }
    }

    if !t.keysets.is_empty() {
        out.push_str("\n#### Keyset orders (pages)\n\n");
        for (i, keyset) in t.keysets.iter().enumerate() {
            let order: Vec<String> = keyset.iter().map(key_column).collect();
            let index = match t.keyset_index(keyset) {
                Some(index) => format!("index `{}`", index.name),
                None => "no index serves it".to_owned(),
            };
            let _ = writeln!(
                out,
                "- `{}` (`Pager::order({i})`) — {index}.",
                order.join(", ")
            );
        }
    }
}

/// What the markers mean for this table, one sentence each.
fn table_markers(t: &TableSchema) -> Vec<String> {
    let mut lines = Vec::new();
    if t.soft_deletes() {
        lines.push(
            "Soft delete: `deleted_at` marks removed rows; reads and unique keys see live rows only."
                .to_owned(),
        );
    }
    if t.versioned() {
        lines.push("Optimistic locking: every write checks and increments `version`.".to_owned());
    }
    if t.tenant {
        lines.push(format!(
            "Tenant table: row-level security (enabled and forced) shows and accepts only the rows \
             whose `tenant_id` is the transaction's `{}`.",
            crate::schema::TENANT_SETTING
        ));
    }
    if t.history {
        lines.push(format!(
            "History: every version of every row is kept in `{}` (its columns, then `history_id`, \
             `valid` as a `tstzrange`, `operation`, `actor_id`, `transaction_id`), written by a \
             trigger on every change; the application's role may read it, never write it.",
            crate::sql::history::history_name(t)
        ));
    }
    if let Some(part) = t.partitioned {
        let period = |p: crate::schema::Period| {
            let unit = match p.unit {
                crate::schema::PeriodUnit::Day => "day",
                crate::schema::PeriodUnit::Week => "week",
                crate::schema::PeriodUnit::Month => "month",
                _ => "year",
            };
            format!("{} {unit}{}", p.count, if p.count == 1 { "" } else { "s" })
        };
        lines.push(format!(
            "Partitioned by range of `id` (UUIDv7: its creation time), a partition per {}{}; \
             partitions are made ahead and dropped whole by `partition::maintain`.",
            period(part.interval),
            part.keep
                .map(|k| format!(", kept {} after its span ends", period(k)))
                .unwrap_or_default()
        ));
    }
    if t.outbox {
        lines.push(format!(
            "Outbox: events written with the change they announce; an insert notifies the channel \
             `{}` at commit, and relays deliver each key's events in order, deleting each once \
             delivered.",
            crate::sql::outbox::channel(t)
        ));
    }
    lines
}

/// What the kit and the database hold a column to: keys, markers, checks,
/// personal data, waived rules.
fn column_rules(t: &TableSchema, c: &Column) -> Vec<String> {
    let mut notes = Vec::new();
    if c.name == "id" {
        notes.push("primary key".to_owned());
    }
    if let Some(fk) = t.foreign_keys.iter().find(|f| f.column == c.name) {
        notes.push(format!("→ `{}`.`id`", referenced(fk)));
    }
    if t.is_unique_alone(c.name) {
        notes.push("unique".to_owned());
    }
    match c.name {
        "deleted_at" => notes.push("soft delete marker".to_owned()),
        "version" => notes.push("optimistic lock".to_owned()),
        "tenant_id" if t.tenant => notes.push("tenant (row-level security)".to_owned()),
        "created_by" | "updated_by" => notes.push("actor of the change".to_owned()),
        "deleted_by" => notes.push("actor who soft-deleted the row".to_owned()),
        _ => {}
    }
    for check in t.rendered_checks().filter(|k| k.column == c.name) {
        notes.push(format!("`{}`", unquoted(&ddl::check_predicate(check))));
    }
    if let Some(e) = c.sql_type.native_enum() {
        let values: Vec<String> = e.values.iter().map(|v| format!("`{v}`")).collect();
        notes.push(format!("native enum, one of {}", values.join(", ")));
    }
    if c.sensitive {
        notes.push("**sensitive** (personal data: never logged)".to_owned());
    }
    if let Some(old) = c.renamed_from {
        notes.push(format!("renamed from `{old}`"));
    }
    if let Some(b) = c.backfill {
        notes.push(format!("existing rows backfilled with `{}`", b.sql()));
    }
    for w in c.waivers {
        notes.push(format!("convention waived: `{}` — {}", w.rule, w.reason));
    }
    notes
}

fn referenced(fk: &ForeignKey) -> String {
    match fk.references_schema {
        Some(s) => format!("{s}.{}", fk.references),
        None => fk.references.to_owned(),
    }
}

/// The relations of `t`, both ways: what it references, what references
/// it, and the many-to-many relations join entities give it.
fn relations(t: &TableSchema, all: &[&TableSchema]) -> Vec<String> {
    let mut out = Vec::new();
    for fk in t.foreign_keys {
        let kind = if t.is_unique_alone(fk.column) {
            "one-to-one"
        } else {
            "many-to-one"
        };
        let optional = t.column(fk.column).is_some_and(|c| c.nullable);
        out.push(format!(
            "belongs to `{}` through `{}` ({kind}{})",
            referenced(fk),
            fk.column,
            if optional { ", optional" } else { "" }
        ));
    }
    for child in all {
        for fk in child.foreign_keys {
            if (fk.references_schema, fk.references) != t.key() {
                continue;
            }
            let kind = if child.is_unique_alone(fk.column) {
                "one-to-one"
            } else {
                "one-to-many"
            };
            out.push(format!(
                "has `{}` through `{}`.`{}` ({kind}, `ON DELETE {}`)",
                child.qualified_name(),
                child.qualified_name(),
                fk.column,
                fk.on_delete.sql()
            ));
        }
        if let Some((near, far)) = join_ends(child) {
            for (mine, other) in [(near, far), (far, near)] {
                if (mine.references_schema, mine.references) == t.key() {
                    out.push(format!(
                        "many-to-many with `{}` through `{}` (`{}`, `{}`)",
                        referenced(other),
                        child.qualified_name(),
                        mine.column,
                        other.column
                    ));
                }
            }
        }
    }
    out
}

/// The two foreign keys of a join entity: two foreign keys whose pair a
/// unique index covers.
fn join_ends(t: &TableSchema) -> Option<(&'static ForeignKey, &'static ForeignKey)> {
    t.indexes.iter().find_map(|i| {
        let [a, b] = i.columns else { return None };
        if !i.unique || a.function.is_some() || b.function.is_some() {
            return None;
        }
        let fk = |name: &str| t.foreign_keys.iter().find(|f| f.column == name);
        Some((fk(a.name)?, fk(b.name)?))
    })
}

/// `created_at DESC`: a key column without identifier quotes.
fn key_column(c: &crate::schema::IndexColumn) -> String {
    unquoted(&ddl::index_column(c))
}

/// An index as a short definition: `UNIQUE (email) WHERE deleted_at IS NULL`.
fn index_definition(index: &Index) -> String {
    let unique = if index.unique { "UNIQUE " } else { "" };
    format!("{unique}{}", unquoted(ddl::index_body(index).trim_start()))
}

/// SQL without identifier quotes, for reading (the kit's names never need them).
fn unquoted(sql: &str) -> String {
    sql.replace('"', "")
}

/// What an index is there for: the keyset orders it backs, the foreign
/// key it leads with, the unique key it enforces.
fn serves(t: &TableSchema, index: &Index) -> Vec<String> {
    let mut serves = Vec::new();
    for (i, keyset) in t.keysets.iter().enumerate() {
        if t.keyset_index(keyset).is_some_and(|k| k.name == index.name) {
            serves.push(format!("keyset order {i}"));
        }
    }
    if let Some(first) = index.columns.first() {
        if first.function.is_none() && index.method == IndexMethod::BTree {
            if let Some(fk) = t.foreign_keys.iter().find(|f| f.column == first.name) {
                serves.push(format!("foreign key `{}`", fk.column));
            }
        }
    }
    if index.unique {
        let what = if index.live_only {
            "unique among live rows"
        } else {
            "unique"
        };
        serves.push(what.to_owned());
    }
    serves
}

/// The first paragraph of a doc comment, on one line.
fn summary(comment: Option<&str>) -> String {
    comment
        .unwrap_or("")
        .trim()
        .split("\n\n")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text made safe for one table cell: pipes escaped, lines joined.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace("\r\n", "\n")
        .replace('\n', "<br>")
}

/// The anchor GitHub gives the table's heading.
fn anchor(t: &TableSchema) -> String {
    t.qualified_name().replace('.', "")
}
