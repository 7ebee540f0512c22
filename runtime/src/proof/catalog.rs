//! The statement catalog: every statement a release's entities can send,
//! with the parameter types it binds and the column types it reads, as a
//! checked-in text file beside the migrations (`statements.catalog`).
//!
//! ```text
//! # ordinance statement catalog ...
//! schema 20261207041551
//!
//! entry posts Post insert
//! declared uuid uuid text
//! params uuid uuid text
//! returns uuid uuid text timestamptz
//! writes id author_id title
//! sql INSERT INTO "posts" ("id", "author_id", "title") VALUES ($1, $2, $3) RETURNING ...
//! ```
//!
//! `declared` are the types the kit names when it prepares the statement
//! (the rest PostgreSQL infers); `params` every parameter's type as the
//! release binds it; `returns` the type of each column it reads; `writes`
//! the columns an insert fills. Values never appear: only statement text
//! and type names.

use std::fmt;

use crate::error::{Error, Result};

/// Every statement a release's entities can send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementCatalog {
    /// The version of the newest migration when it was written: the schema
    /// the release runs against. `None` before the first migration.
    pub schema: Option<i64>,
    /// The statements, entity by entity.
    pub entries: Vec<Entry>,
}

/// One statement of the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The table it is on (`posts`, `auth.sessions`).
    pub table: String,
    /// The entity's struct (`Post`).
    pub entity: String,
    /// The operation that sends it (`insert`, `get`, `load_children`, ...).
    pub operation: String,
    /// The statement text, with placeholders (`COPY` for a batch's column
    /// list: proven by its columns, since `COPY` cannot be prepared).
    pub sql: String,
    /// The parameter types the kit declares when it prepares the statement.
    pub declared: Vec<String>,
    /// Every parameter's type, as the release binds it.
    pub params: Vec<String>,
    /// Every column's type, as the release reads it.
    pub returns: Vec<String>,
    /// The columns an insert writes: every other column must take a default.
    pub writes: Vec<String>,
}

impl Entry {
    /// Whether it is a `COPY`, which PostgreSQL cannot prepare.
    pub fn is_copy(&self) -> bool {
        self.sql.starts_with("COPY ")
    }

    /// `Post insert (posts)`: how a report names it.
    pub fn label(&self) -> String {
        format!("{} {} ({})", self.entity, self.operation, self.table)
    }
}

const HEADER: &str = "# ordinance statement catalog: every statement the entities send, the types\n\
                      # they bind (params) and read (returns), the columns inserts write.\n\
                      # Written by bless (ORDINANCE_BLESS); checked by the migrations' drift test;\n\
                      # `migrate verify --previous` proves a deploy against a release's catalog.\n";

impl fmt::Display for StatementCatalog {
    /// The file's text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(HEADER)?;
        match self.schema {
            Some(v) => writeln!(f, "schema {v}")?,
            None => writeln!(f, "schema none")?,
        }
        for e in &self.entries {
            writeln!(f, "\nentry {} {} {}", e.table, e.entity, e.operation)?;
            for (key, list) in [
                ("declared", &e.declared),
                ("params", &e.params),
                ("returns", &e.returns),
                ("writes", &e.writes),
            ] {
                if !list.is_empty() {
                    writeln!(f, "{key} {}", list.join(" "))?;
                }
            }
            writeln!(f, "sql {}", e.sql)?;
        }
        Ok(())
    }
}

impl StatementCatalog {
    /// Reads a catalog's text; a line it does not understand is
    /// [`Error::InvalidSetting`] naming the line.
    pub fn parse(text: &str) -> Result<StatementCatalog> {
        let bad = |n: usize, what: &str| Error::InvalidSetting {
            setting: "statement catalog",
            reason: format!("line {}: {what}", n + 1),
        };
        let mut catalog = StatementCatalog::default();
        let mut entry: Option<Entry> = None;
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            let words = || rest.split(' ').map(str::to_owned).collect::<Vec<_>>();
            match key {
                "schema" => {
                    catalog.schema = match rest {
                        "none" => None,
                        v => Some(
                            v.parse()
                                .map_err(|_| bad(n, "a schema version is a number"))?,
                        ),
                    }
                }
                "entry" => {
                    let [table, entity, operation] = rest.split(' ').collect::<Vec<_>>()[..] else {
                        return Err(bad(n, "an entry is `entry <table> <Entity> <operation>`"));
                    };
                    catalog.entries.extend(entry.take());
                    entry = Some(Entry {
                        table: table.to_owned(),
                        entity: entity.to_owned(),
                        operation: operation.to_owned(),
                        ..Entry::default()
                    });
                }
                "declared" | "params" | "returns" | "writes" | "sql" => {
                    let Some(e) = entry.as_mut() else {
                        return Err(bad(n, "a statement's line before its `entry`"));
                    };
                    match key {
                        "declared" => e.declared = words(),
                        "params" => e.params = words(),
                        "returns" => e.returns = words(),
                        "writes" => e.writes = words(),
                        _ => e.sql = rest.to_owned(),
                    }
                }
                other => return Err(bad(n, &format!("unknown line `{other}`"))),
            }
        }
        catalog.entries.extend(entry);
        Ok(catalog)
    }

    /// Reads the catalog file at `path`.
    pub fn read(path: impl AsRef<std::path::Path>) -> Result<StatementCatalog> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        StatementCatalog::parse(&text)
    }

    /// What differs from `other`, entry by entry, for a drift message:
    /// `+ Post insert (posts)` for an entry only here, `- ...` for one only
    /// there, `~ ...` for one that changed.
    pub fn differences(&self, other: &StatementCatalog) -> Vec<String> {
        let key = |e: &Entry| (e.table.clone(), e.operation.clone(), e.sql.clone());
        let mut out = Vec::new();
        if self.schema != other.schema {
            out.push(format!(
                "~ schema {} (was {})",
                self.schema.map_or("none".into(), |v| v.to_string()),
                other.schema.map_or("none".into(), |v| v.to_string())
            ));
        }
        for e in &self.entries {
            match other.entries.iter().find(|o| key(o) == key(e)) {
                None => out.push(format!("+ {}: {}", e.label(), e.sql)),
                Some(o) if o != e => out.push(format!("~ {}: types or columns changed", e.label())),
                Some(_) => {}
            }
        }
        for o in &other.entries {
            if !self.entries.iter().any(|e| key(e) == key(o)) {
                out.push(format!("- {}: {}", o.label(), o.sql));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_reads_back_as_written() {
        let catalog = StatementCatalog {
            schema: Some(20261207041551),
            entries: vec![
                Entry {
                    table: "posts".into(),
                    entity: "Post".into(),
                    operation: "insert".into(),
                    sql: "INSERT INTO \"posts\" (\"id\") VALUES ($1) RETURNING \"id\"".into(),
                    declared: vec!["uuid".into()],
                    params: vec!["uuid".into()],
                    returns: vec!["uuid".into()],
                    writes: vec!["id".into()],
                },
                Entry {
                    table: "auth.sessions".into(),
                    entity: "Session".into(),
                    operation: "count".into(),
                    sql: "SELECT count(*) FROM \"auth\".\"sessions\"".into(),
                    returns: vec!["int8".into()],
                    ..Entry::default()
                },
            ],
        };
        let text = catalog.to_string();
        assert_eq!(StatementCatalog::parse(&text).unwrap(), catalog);
        assert!(
            text.contains("\nentry posts Post insert\ndeclared uuid\n"),
            "{text}"
        );
        let mut other = catalog.clone();
        other.entries[1].returns = vec!["int4".into()];
        other.entries.remove(0);
        assert_eq!(
            catalog.differences(&other),
            [
                "+ Post insert (posts): INSERT INTO \"posts\" (\"id\") VALUES ($1) RETURNING \"id\"",
                "~ Session count (auth.sessions): types or columns changed"
            ]
        );
    }

    #[test]
    fn a_line_it_does_not_know_is_named() {
        let err = StatementCatalog::parse("schema 1\nentry t T get\nsqll SELECT 1\n").unwrap_err();
        assert!(
            err.to_string().contains("line 3: unknown line `sqll`"),
            "{err}"
        );
        let err = StatementCatalog::parse("params uuid\n").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
