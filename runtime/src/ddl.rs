//! DDL rendered from static schemas: `CREATE TABLE` with named constraints,
//! partial indexes, comments, and the `DROP` that undoes it.
//!
//! Every identifier is double-quoted, so reserved words (`order`, `user`,
//! `group`) work as names everywhere. DDL carries no runtime values: names come
//! from the entity definition, checked at compile time, and the only literals
//! are compile-time comments and enum values, escaped as SQL strings.
//!
//! ```
//! use ordinance::prelude::*;
//!
//! /// Things on the shelf.
//! #[derive(Entity)]
//! struct Widget {
//!     id: Uuid,
//!     #[column(max_len = 80, unique)]
//!     name: String,
//!     created_at: DateTime<Utc>,
//!     updated_at: DateTime<Utc>,
//!     deleted_at: Option<DateTime<Utc>>,
//!     version: i32,
//! }
//!
//! let sql = ordinance::ddl::create_table(Widget::SCHEMA);
//! assert!(sql.starts_with("CREATE TABLE \"widgets\" (\n    \"id\" UUID NOT NULL DEFAULT gen_random_uuid(),"));
//! assert!(sql.contains("CONSTRAINT \"widgets_name_max_length\" CHECK (char_length(\"name\") <= 80)"));
//! assert!(sql.contains(
//!     "CREATE UNIQUE INDEX \"idx_widgets_name_unique\" ON \"widgets\" (\"name\") WHERE \"deleted_at\" IS NULL;"
//! ));
//! assert!(sql.contains("COMMENT ON TABLE \"widgets\" IS 'Things on the shelf.';"));
//! assert_eq!(ordinance::ddl::drop_table(Widget::SCHEMA), "DROP TABLE \"widgets\";\n");
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::schema::{CheckKind, Column, Index, TableSchema, Waiver};

/// A double-quoted SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted SQL string literal (standard-conforming: only `'` is doubled).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `CREATE TABLE`, its indexes and comments, for one entity.
pub fn create_table(schema: &TableSchema) -> String {
    let mut out = String::new();
    let t = quote_ident(schema.name);
    let _ = writeln!(out, "CREATE TABLE {t} (");
    let mut lines: Vec<String> = schema.columns.iter().map(column_line).collect();
    lines.push(format!(
        "CONSTRAINT {} PRIMARY KEY (\"id\")",
        quote_ident(schema.primary_key)
    ));
    for check in schema.checks.iter().filter(|c| c.is_rendered()) {
        let col = quote_ident(check.column);
        let predicate = match check.kind {
            CheckKind::MinLength(n) => format!("char_length({col}) >= {n}"),
            CheckKind::MaxLength(n) => format!("char_length({col}) <= {n}"),
            CheckKind::Min(n) => format!("{col} >= {n}"),
            CheckKind::Max(n) => format!("{col} <= {n}"),
            CheckKind::OneOf(values) => {
                let list: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
                format!("{col} IN ({})", list.join(", "))
            }
        };
        lines.push(format!(
            "CONSTRAINT {} CHECK ({predicate})",
            quote_ident(check.name)
        ));
    }
    for fk in schema.foreign_keys {
        lines.push(format!(
            "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} (\"id\") ON DELETE {}",
            quote_ident(fk.name),
            quote_ident(fk.column),
            quote_ident(fk.references),
            fk.on_delete.sql()
        ));
    }
    let _ = writeln!(out, "    {}\n);", lines.join(",\n    "));
    for index in schema.indexes {
        out.push_str(&create_index(schema, index));
        out.push('\n');
    }
    if let Some(comment) = comment_text(schema.comment, schema.waivers) {
        let _ = writeln!(out, "COMMENT ON TABLE {t} IS {};", quote_literal(&comment));
    }
    for c in schema.columns {
        if let Some(comment) = comment_text(c.comment, c.waivers) {
            let _ = writeln!(
                out,
                "COMMENT ON COLUMN {t}.{} IS {};",
                quote_ident(c.name),
                quote_literal(&comment)
            );
        }
    }
    out
}

fn column_line(c: &Column) -> String {
    let mut line = format!("{} {}", quote_ident(c.name), c.sql_type.sql());
    if !c.nullable {
        line.push_str(" NOT NULL");
    }
    if let Some(default) = &c.default {
        line.push_str(" DEFAULT ");
        line.push_str(&default.sql());
    }
    line
}

/// `CREATE [UNIQUE] INDEX ... [WHERE "deleted_at" IS NULL];` for one index of a table.
pub fn create_index(schema: &TableSchema, index: &Index) -> String {
    let cols: Vec<String> = index
        .columns
        .iter()
        .map(|c| {
            let mut s = quote_ident(c.name);
            if c.descending {
                s.push_str(" DESC");
            }
            s
        })
        .collect();
    format!(
        "CREATE {}INDEX {} ON {} ({}){};",
        if index.unique { "UNIQUE " } else { "" },
        quote_ident(index.name),
        quote_ident(schema.name),
        cols.join(", "),
        if index.live_only {
            " WHERE \"deleted_at\" IS NULL"
        } else {
            ""
        }
    )
}

/// The documentation comment plus one line per waived rule, so the database
/// documents its own deviations from the conventions.
fn comment_text(doc: Option<&str>, waivers: &[Waiver]) -> Option<String> {
    let mut parts: Vec<String> = doc.map(str::to_owned).into_iter().collect();
    for w in waivers {
        parts.push(format!("Convention waived: {} ({})", w.rule, w.reason));
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// `DROP TABLE` for one entity (its indexes and constraints go with it).
pub fn drop_table(schema: &TableSchema) -> String {
    format!("DROP TABLE {};\n", quote_ident(schema.name))
}

/// The DDL of a set of entities, in dependency order.
///
/// ```
/// # use ordinance::prelude::*;
/// # #[derive(Entity)] struct User { id: Uuid, created_at: DateTime<Utc>, updated_at: DateTime<Utc>, deleted_at: Option<DateTime<Utc>>, version: i32 }
/// # #[derive(Entity)] struct Post { id: Uuid, #[column(references = User)] author_id: Uuid, created_at: DateTime<Utc>, updated_at: DateTime<Utc>, deleted_at: Option<DateTime<Utc>>, version: i32 }
/// // Given in any order, rendered referenced-first.
/// let ddl = ordinance::ddl::SchemaDdl::new(&[Post::SCHEMA, User::SCHEMA]).unwrap();
/// assert_eq!(ddl.tables().iter().map(|t| t.name).collect::<Vec<_>>(), ["users", "posts"]);
/// assert!(ddl.up().find("\"users\" (").unwrap() < ddl.up().find("\"posts\" (").unwrap());
/// assert_eq!(ddl.down(), "DROP TABLE \"posts\";\nDROP TABLE \"users\";\n");
/// ```
#[derive(Debug, Clone)]
pub struct SchemaDdl {
    tables: Vec<&'static TableSchema>,
}

impl SchemaDdl {
    /// Orders the entities so that every referenced table comes before the
    /// tables referencing it (a table may reference itself). Fails when the
    /// references form a cycle (the error names it), when a referenced table
    /// is missing from the set, or when two entities clash on a name.
    pub fn new(schemas: &[&'static TableSchema]) -> Result<Self> {
        check_names(schemas)?;
        let by_name: HashMap<&str, &'static TableSchema> =
            schemas.iter().map(|s| (s.name, *s)).collect();
        for s in schemas {
            if let Some(missing) = s.references().find(|r| !by_name.contains_key(r)) {
                return Err(Error::MissingReference {
                    table: s.name,
                    references: missing,
                });
            }
        }
        // Depth-first post-order over the input order: deterministic, and the
        // path on the stack names the cycle when there is one.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        fn visit(
            s: &'static TableSchema,
            by_name: &HashMap<&str, &'static TableSchema>,
            marks: &mut HashMap<&'static str, Mark>,
            stack: &mut Vec<&'static str>,
            out: &mut Vec<&'static TableSchema>,
        ) -> Result<()> {
            match marks.get(s.name).copied().unwrap_or(Mark::New) {
                Mark::Done => return Ok(()),
                Mark::Active => {
                    let start = stack.iter().position(|t| *t == s.name).unwrap_or(0);
                    let mut tables = stack[start..].to_vec();
                    tables.push(s.name);
                    return Err(Error::ReferenceCycle { tables });
                }
                Mark::New => {}
            }
            marks.insert(s.name, Mark::Active);
            stack.push(s.name);
            for r in s.references() {
                visit(by_name[r], by_name, marks, stack, out)?;
            }
            stack.pop();
            marks.insert(s.name, Mark::Done);
            out.push(s);
            Ok(())
        }
        let mut marks = HashMap::new();
        let mut stack = Vec::new();
        let mut tables = Vec::with_capacity(schemas.len());
        for s in schemas {
            visit(s, &by_name, &mut marks, &mut stack, &mut tables)?;
        }
        Ok(SchemaDdl { tables })
    }

    /// The tables in creation order.
    pub fn tables(&self) -> &[&'static TableSchema] {
        &self.tables
    }

    /// Everything needed to create the schema, referenced tables first.
    pub fn up(&self) -> String {
        self.tables
            .iter()
            .map(|t| create_table(t))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Drops every table, referencing tables first: the inverse of [`up`](Self::up).
    pub fn down(&self) -> String {
        self.tables.iter().rev().map(|t| drop_table(t)).collect()
    }
}

/// Tables, indexes and primary keys share one namespace per schema in
/// PostgreSQL; two entities must not generate the same name.
fn check_names(schemas: &[&'static TableSchema]) -> Result<()> {
    let mut seen: HashMap<&'static str, &'static str> = HashMap::new();
    for s in schemas {
        let names = std::iter::once(s.name)
            .chain(std::iter::once(s.primary_key))
            .chain(s.indexes.iter().map(|i| i.name));
        for name in names {
            if let Some(first) = seen.insert(name, s.name) {
                return Err(Error::DuplicateName {
                    name,
                    first,
                    second: s.name,
                });
            }
        }
    }
    Ok(())
}
