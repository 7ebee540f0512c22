//! The entities as a picture: a Mermaid `erDiagram` (GitHub and most
//! Markdown viewers draw it) and Graphviz DOT (`dot -Tsvg` draws it).
//!
//! Both come from the static schema alone: tables with their columns and
//! types, primary, foreign and unique keys, each foreign key as a
//! relationship with its cardinality (one-to-many, or one-to-one when the
//! column is unique; the parent optional when the column is nullable), and
//! the table's markers (soft delete, optimistic locking, tenant). Tables are
//! sorted by name and columns keep field order, so the output is stable
//! enough to check in.
//!
//! ```
//! use ordinance::prelude::*;
//!
//! #[derive(Entity)]
//! pub struct Author { pub id: Uuid, #[column(max_len = 80)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//!
//! #[derive(Entity)]
//! pub struct Book {
//!     pub id: Uuid,
//!     #[column(references = Author)]
//!     pub author_id: Uuid,
//!     #[column(max_len = 200)]
//!     pub title: String,
//!     pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32,
//! }
//!
//! let mermaid = ordinance::diagram::mermaid(&[Book::SCHEMA, Author::SCHEMA]);
//! assert!(mermaid.contains("authors ||--o{ books : author_id"));
//! let dot = ordinance::diagram::dot(&[Book::SCHEMA, Author::SCHEMA]);
//! assert!(dot.starts_with("digraph schema {"));
//! ```

use std::fmt::Write as _;

use crate::schema::{Column, ForeignKey, OnDelete, SqlType, TableSchema};

/// How a foreign key's two ends count.
struct Cardinality {
    /// The child row may have no parent (the column is nullable).
    parent_optional: bool,
    /// A parent has at most one child (the column is unique on its own).
    one_to_one: bool,
}

fn cardinality(table: &TableSchema, fk: &ForeignKey) -> Cardinality {
    Cardinality {
        parent_optional: table.column(fk.column).is_some_and(|c| c.nullable),
        one_to_one: table.is_unique_alone(fk.column),
    }
}

/// The key markers of a column: `PK`, `FK`, `UK`.
fn keys(table: &TableSchema, column: &Column) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if column.name == "id" {
        keys.push("PK");
    }
    if table.foreign_keys.iter().any(|f| f.column == column.name) {
        keys.push("FK");
    }
    if table.is_unique_alone(column.name) {
        keys.push("UK");
    }
    keys
}

/// What a column means beyond its type, for its note.
fn notes(table: &TableSchema, column: &Column) -> Vec<&'static str> {
    let mut notes = Vec::new();
    if column.nullable {
        notes.push("nullable");
    }
    match column.name {
        "deleted_at" => notes.push("soft delete"),
        "version" => notes.push("optimistic lock"),
        "tenant_id" if table.tenant => notes.push("tenant, row-level security"),
        _ => {}
    }
    if column.sensitive {
        notes.push("sensitive");
    }
    notes
}

/// The table's markers: soft delete, version, tenant, history, outbox,
/// partitioned.
pub(crate) fn markers(table: &TableSchema) -> Vec<&'static str> {
    let mut markers = Vec::new();
    if table.soft_deletes() {
        markers.push("soft delete");
    }
    if table.versioned() {
        markers.push("versioned");
    }
    if table.tenant {
        markers.push("tenant");
    }
    if table.history {
        markers.push("history");
    }
    if table.outbox {
        markers.push("outbox");
    }
    if table.partitioned.is_some() {
        markers.push("partitioned");
    }
    markers
}

pub(crate) fn sorted<'a>(schemas: &[&'a TableSchema]) -> Vec<&'a TableSchema> {
    let mut tables = schemas.to_vec();
    tables.sort_by_key(|t| t.qualified_name());
    tables.dedup_by_key(|t| t.qualified_name());
    tables
}

/// A name Mermaid and DOT take as one word: `auth.users` becomes
/// `auth__users` (the label keeps the real name).
fn node_id(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(s) => format!("{s}__{name}"),
        None => name.to_owned(),
    }
}

/// A column type as one Mermaid word: `numeric(12,2)` becomes
/// `numeric(12-2)`, `double precision` becomes `double_precision`.
fn mermaid_type(sql_type: &SqlType) -> String {
    sql_type
        .sql()
        .to_lowercase()
        .replace('"', "")
        .replace(' ', "_")
        .replace(',', "-")
}

/// The entities as a Mermaid `erDiagram`.
pub fn mermaid(schemas: &[&TableSchema]) -> String {
    let tables = sorted(schemas);
    let mut out = String::from("erDiagram\n");
    for table in &tables {
        let id = node_id(table.schema, table.name);
        let markers = markers(table);
        let label = if markers.is_empty() {
            table.qualified_name()
        } else {
            format!("{} ({})", table.qualified_name(), markers.join(", "))
        };
        let _ = writeln!(out, "    {id}[\"{label}\"] {{");
        for column in table.columns {
            let _ = write!(
                out,
                "        {} {}",
                mermaid_type(&column.sql_type),
                column.name
            );
            let keys = keys(table, column);
            if !keys.is_empty() {
                let _ = write!(out, " {}", keys.join(", "));
            }
            let notes = notes(table, column);
            if !notes.is_empty() {
                let _ = write!(out, " \"{}\"", notes.join(", "));
            }
            out.push('\n');
        }
        out.push_str("    }\n");
    }
    for table in &tables {
        for fk in table.foreign_keys {
            let c = cardinality(table, fk);
            let parent = if c.parent_optional { "|o" } else { "||" };
            let child = if c.one_to_one { "o|" } else { "o{" };
            let _ = writeln!(
                out,
                "    {} {parent}--{child} {} : {}",
                node_id(fk.references_schema, fk.references),
                node_id(table.schema, table.name),
                fk.column
            );
        }
    }
    out
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The entities as a Graphviz `digraph`: one table-shaped node per table,
/// one edge per foreign key from the column to the referenced `id`, drawn
/// with crow's feet (`dot -Tsvg schema.dot > schema.svg`).
pub fn dot(schemas: &[&TableSchema]) -> String {
    let tables = sorted(schemas);
    let mut out = String::from(
        "digraph schema {\n    \
         graph [rankdir=LR, fontname=\"Helvetica\", nodesep=0.4, ranksep=1.0];\n    \
         node [shape=plaintext, fontname=\"Helvetica\", fontsize=11];\n    \
         edge [fontname=\"Helvetica\", fontsize=9, dir=both, color=\"#555555\"];\n",
    );
    for table in &tables {
        let id = node_id(table.schema, table.name);
        let _ = writeln!(
            out,
            "    \"{id}\" [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"4\">"
        );
        let _ = writeln!(
            out,
            "        <tr><td colspan=\"3\" bgcolor=\"#d9e4f0\"><b>{}</b></td></tr>",
            html(&table.qualified_name())
        );
        let markers = markers(table);
        if !markers.is_empty() {
            let _ = writeln!(
                out,
                "        <tr><td colspan=\"3\" bgcolor=\"#f2f2f2\"><i>{}</i></td></tr>",
                html(&markers.join(" · "))
            );
        }
        for column in table.columns {
            let mut about: Vec<&str> = keys(table, column);
            about.extend(notes(table, column));
            let name = if column.name == "id" {
                format!("<u>{}</u>", html(column.name))
            } else {
                html(column.name)
            };
            let _ = writeln!(
                out,
                "        <tr><td port=\"{port}\" align=\"left\">{name}</td><td align=\"left\">{ty}</td><td align=\"left\">{about}</td></tr>",
                port = html(column.name),
                ty = html(&table.column_type(column).to_lowercase()),
                about = html(&about.join(", ")),
            );
        }
        out.push_str("    </table>>];\n");
    }
    for table in &tables {
        for fk in table.foreign_keys {
            let c = cardinality(table, fk);
            // Parent to child, so parents sit left of their children.
            let head = if c.one_to_one { "teeodot" } else { "crowodot" };
            let tail = if c.parent_optional {
                "teeodot"
            } else {
                "teetee"
            };
            let label = match fk.on_delete {
                OnDelete::Restrict => "",
                OnDelete::Cascade => "on delete cascade",
                OnDelete::SetNull => "on delete set null",
            };
            let _ = writeln!(
                out,
                "    \"{}\":\"id\":e -> \"{}\":\"{}\":w [arrowtail={tail}, arrowhead={head}, label=\"{label}\"];",
                node_id(fk.references_schema, fk.references),
                node_id(table.schema, table.name),
                html(fk.column),
            );
        }
    }
    out.push_str("}\n");
    out
}
