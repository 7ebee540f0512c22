//! A live database's tables as the rule book sees them, read from
//! `pg_catalog`: columns with their types, keys with their columns,
//! indexes with their validity and how often they served a read,
//! row-level security and its policies. The
//! audit ([`crate::audit`]) judges it; the entity writer ([`crate::adopt`])
//! turns it into structs.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use crate::ddl::quote_ident;
use crate::error::{Error, Result};
use crate::row::read;
use crate::sql::MIGRATIONS_TABLE;

/// The tables of a database's own schemas, sorted by schema and name
/// (the migration runner's bookkeeping left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Database {
    /// Every table.
    pub tables: Vec<Table>,
    /// Every native enum type (`CREATE TYPE … AS ENUM`), sorted by schema
    /// and name.
    pub enums: Vec<Enum>,
    /// Every function of the database's own (not an extension's), sorted
    /// by signature.
    pub functions: Vec<Function>,
}

/// A function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Function {
    /// Its signature as `regprocedure` writes it (`posts_history_write()`,
    /// schema-qualified outside the search path).
    pub signature: String,
    /// `CREATE OR REPLACE FUNCTION …`, as `pg_get_functiondef` writes it.
    pub definition: String,
}

/// A trigger on a table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trigger {
    /// Its name.
    pub name: String,
    /// `CREATE TRIGGER …`, as `pg_get_triggerdef` writes it.
    pub definition: String,
}

/// A native enum type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enum {
    /// Its PostgreSQL schema (`public`, ...).
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Its values, in sort order.
    pub values: Vec<String>,
}

impl Enum {
    /// `name`, or `schema.name` outside `public`: as `format_type` names
    /// it where its schema is not on the search path.
    pub fn qualified_name(&self) -> String {
        if self.schema == "public" {
            self.name.clone()
        } else {
            format!("{}.{}", self.schema, self.name)
        }
    }
}

/// One table (a partitioned table's partitions are not listed: they are
/// its storage).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// How it is partitioned (`RANGE (id)`), when it is.
    pub partition_key: Option<String>,
    /// Its PostgreSQL schema (`public`, ...).
    pub schema: String,
    /// Its name.
    pub name: String,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
    /// Columns in position order.
    pub columns: Vec<Column>,
    /// The primary key, if there is one.
    pub primary_key: Option<Key>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Check constraints.
    pub checks: Vec<Key>,
    /// Unique, exclusion and trigger constraints, with their kind (`u`,
    /// `x`, `t`).
    pub other_constraints: Vec<(char, Key)>,
    /// Every index, the ones backing constraints included.
    pub indexes: Vec<Index>,
    /// Reads of the table since statistics were reset (sequential and
    /// index scans).
    pub reads: i64,
    /// Whether row-level security is on, and binds the owner too.
    pub row_security: RowSecurity,
    /// Row-level security policies, by name.
    pub policies: Vec<Policy>,
    /// Triggers the table's owner made (not the ones constraints make).
    pub triggers: Vec<Trigger>,
}

/// Row-level security as a table has it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowSecurity {
    /// `ENABLE ROW LEVEL SECURITY`.
    pub enabled: bool,
    /// `FORCE ROW LEVEL SECURITY`: the owner is held to the policies too.
    pub forced: bool,
}

/// A row-level security policy, its expressions as the server normalised
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its name.
    pub name: String,
    /// `PERMISSIVE` (false: `RESTRICTIVE`).
    pub permissive: bool,
    /// The command it applies to: `ALL`, `SELECT`, `INSERT`, `UPDATE` or
    /// `DELETE`.
    pub command: String,
    /// The roles it applies to, as SQL writes them (`public` for all),
    /// sorted.
    pub roles: Vec<String>,
    /// `USING`: which rows are visible.
    pub using: Option<String>,
    /// `WITH CHECK`: which rows may be written.
    pub with_check: Option<String>,
}

impl Policy {
    /// The `CREATE POLICY` statement that makes it on `table` (as SQL
    /// writes the table).
    pub fn create(&self, table: &str) -> String {
        let mut sql = format!("CREATE POLICY {} ON {table}", quote_ident(&self.name));
        if !self.permissive {
            sql.push_str(" AS RESTRICTIVE");
        }
        if self.command != "ALL" {
            sql.push_str(" FOR ");
            sql.push_str(&self.command);
        }
        if self.roles.iter().any(|r| r != "public") {
            sql.push_str(" TO ");
            sql.push_str(&self.roles.join(", "));
        }
        if let Some(using) = &self.using {
            sql.push_str(&format!(" USING ({using})"));
        }
        if let Some(check) = &self.with_check {
            sql.push_str(&format!(" WITH CHECK ({check})"));
        }
        sql
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its number in the table (`attnum`; dropped columns leave gaps).
    pub position: i16,
    /// The type as `format_type` writes it: `numeric(12,2)`,
    /// `timestamp with time zone`, `text[]`.
    pub sql_type: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// The default expression, as the server normalised it.
    pub default: Option<String>,
    /// `COMMENT ON COLUMN`.
    pub comment: Option<String>,
    /// `GENERATED ... AS IDENTITY`.
    pub identity: bool,
}

/// A named constraint over columns: a primary key or a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The constraint's name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// As `pg_get_constraintdef` writes it.
    pub definition: String,
}

impl Key {
    /// The values a check of the form `CHECK (col IN ('a', 'b'))` allows
    /// its one column (as the server normalises it: `col = ANY
    /// (ARRAY['a'::text, ...])`, the column read as text when it is a
    /// `VARCHAR(n)`); `None` for any other constraint.
    pub fn allowed_values(&self) -> Option<Vec<String>> {
        let [column] = self.columns.as_slice() else {
            return None;
        };
        let column = quote_ident_if_needed(column);
        let body = self
            .definition
            .strip_prefix("CHECK ((")?
            .strip_suffix("))")?
            .replace(&format!("({column})::text"), &column);
        let list = body
            .strip_prefix(&format!("{column} = ANY (ARRAY["))?
            .strip_suffix("])")?;
        list.split(", ")
            .map(|v| {
                v.strip_suffix("::text")
                    .and_then(|v| v.strip_prefix('\''))
                    .and_then(|v| v.strip_suffix('\''))
                    .map(|v| v.replace("''", "'"))
            })
            .collect()
    }
}

/// A column as the server writes it in a definition: bare when it is a
/// plain lower-case name, else quoted.
fn quote_ident_if_needed(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_owned()
    } else {
        quote_ident(name)
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The constraint's name.
    pub name: String,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table's schema.
    pub references_schema: String,
    /// The referenced table.
    pub references: String,
    /// The referenced columns.
    pub references_columns: Vec<String>,
    /// `a` no action, `r` restrict, `c` cascade, `n` set null, `d` set default.
    pub on_delete: char,
    /// As `pg_get_constraintdef` writes it.
    pub definition: String,
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its key columns in order; `None` for an expression.
    pub columns: Vec<Option<String>>,
    /// `UNIQUE`.
    pub unique: bool,
    /// It backs the primary key, a unique or an exclusion constraint.
    pub backs_constraint: bool,
    /// Usable by queries (a failed `CREATE INDEX CONCURRENTLY` leaves an
    /// invalid one).
    pub valid: bool,
    /// The `WHERE` of a partial index.
    pub predicate: Option<String>,
    /// `pg_get_indexdef`.
    pub definition: String,
    /// Index scans since statistics were reset.
    pub scans: i64,
}

impl Table {
    /// Whether the kit keeps this table as another's row history
    /// (`#[entity(history)]`): its comment says whose.
    pub fn is_history(&self) -> bool {
        self.comment
            .as_deref()
            .is_some_and(|c| c.starts_with(crate::sql::history::HISTORY_COMMENT))
    }

    /// The name messages use: `users`, or `auth.users` outside `public`.
    pub fn qualified_name(&self) -> String {
        if self.schema == "public" {
            self.name.clone()
        } else {
            format!("{}.{}", self.schema, self.name)
        }
    }

    /// An object of the table's schema as SQL writes it: `"users"` in
    /// `public`, `"auth"."sessions"` elsewhere.
    pub fn sql_name(&self, name: &str) -> String {
        if self.schema == "public" {
            quote_ident(name)
        } else {
            format!("{}.{}", quote_ident(&self.schema), quote_ident(name))
        }
    }

    /// The table as SQL writes it (see [`sql_name`](Self::sql_name)).
    pub fn ident(&self) -> String {
        self.sql_name(&self.name)
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl Database {
    /// Reads every table of every schema but PostgreSQL's own.
    pub async fn read(client: &Client) -> Result<Database> {
        let db = Error::from;
        let mut tables: BTreeMap<u32, Table> = BTreeMap::new();
        let mut names: BTreeMap<u32, BTreeMap<i16, String>> = BTreeMap::new();
        const C: &str = "pg_class";
        for row in client
            .query(
                "SELECT c.oid, n.nspname::text, c.relname::text, obj_description(c.oid, 'pg_class'), \
                        coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0), c.relrowsecurity, \
                        c.relforcerowsecurity, pg_get_partkeydef(c.oid) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
                   AND n.nspname NOT LIKE 'pg\\_%' AND c.relkind IN ('r', 'p') \
                   AND NOT c.relispartition \
                   AND NOT (n.nspname = 'public' AND c.relname = $1)",
                &[&MIGRATIONS_TABLE],
            )
            .await
            .map_err(db)?
        {
            let oid: u32 = read(&row, 0, C, "oid")?;
            tables.insert(
                oid,
                Table {
                    schema: read(&row, 1, C, "nspname")?,
                    name: read(&row, 2, C, "relname")?,
                    comment: read(&row, 3, C, "obj_description")?,
                    reads: read(&row, 4, C, "scans")?,
                    row_security: RowSecurity {
                        enabled: read(&row, 5, C, "relrowsecurity")?,
                        forced: read(&row, 6, C, "relforcerowsecurity")?,
                    },
                    partition_key: read(&row, 7, C, "partkeydef")?,
                    ..Table::default()
                },
            );
        }
        let oids: Vec<u32> = tables.keys().copied().collect();

        const A: &str = "pg_attribute";
        for row in client
            .query(
                "SELECT a.attrelid, a.attnum, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                        a.attnotnull, pg_get_expr(d.adbin, d.adrelid), \
                        col_description(a.attrelid, a.attnum), a.attidentity <> '' \
                 FROM pg_attribute a \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attrelid, a.attnum",
                &[&oids],
            )
            .await
            .map_err(db)?
        {
            let oid: u32 = read(&row, 0, A, "attrelid")?;
            let name: String = read(&row, 2, A, "attname")?;
            let position: i16 = read(&row, 1, A, "attnum")?;
            names.entry(oid).or_default().insert(position, name.clone());
            if let Some(table) = tables.get_mut(&oid) {
                table.columns.push(Column {
                    name,
                    position,
                    sql_type: read(&row, 3, A, "format_type")?,
                    not_null: read(&row, 4, A, "attnotnull")?,
                    default: read(&row, 5, A, "pg_get_expr")?,
                    comment: read(&row, 6, A, "col_description")?,
                    identity: read(&row, 7, A, "attidentity")?,
                });
            }
        }
        let column_names = |oid: u32, nums: &[i16]| -> Vec<String> {
            nums.iter()
                .map(|n| {
                    names
                        .get(&oid)
                        .and_then(|m| m.get(n))
                        .cloned()
                        .unwrap_or_else(|| format!("#{n}"))
                })
                .collect()
        };

        const K: &str = "pg_constraint";
        for row in client
            .query(
                "SELECT k.conrelid, k.conname::text, k.contype::text, coalesce(k.conkey, '{}'), \
                        pg_get_constraintdef(k.oid), k.confrelid, coalesce(k.confkey, '{}'), \
                        k.confdeltype::text, fn.nspname::text, f.relname::text \
                 FROM pg_constraint k \
                 LEFT JOIN pg_class f ON f.oid = k.confrelid \
                 LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace \
                 WHERE k.conrelid = ANY($1) ORDER BY k.conrelid, k.conname",
                &[&oids],
            )
            .await
            .map_err(db)?
        {
            let oid: u32 = read(&row, 0, K, "conrelid")?;
            let kind: String = read(&row, 2, K, "contype")?;
            let key = Key {
                name: read(&row, 1, K, "conname")?,
                columns: column_names(oid, &read::<Vec<i16>>(&row, 3, K, "conkey")?),
                definition: read(&row, 4, K, "pg_get_constraintdef")?,
            };
            let Some(table) = tables.get_mut(&oid) else {
                continue;
            };
            match kind.as_str() {
                "p" => table.primary_key = Some(key),
                "c" => table.checks.push(key),
                "f" => {
                    let foreign: u32 = read(&row, 5, K, "confrelid")?;
                    let on_delete: String = read(&row, 7, K, "confdeltype")?;
                    table.foreign_keys.push(ForeignKey {
                        name: key.name,
                        columns: key.columns,
                        references_schema: read::<Option<String>>(&row, 8, K, "nspname")?
                            .unwrap_or_default(),
                        references: read::<Option<String>>(&row, 9, K, "relname")?
                            .unwrap_or_default(),
                        references_columns: column_names(
                            foreign,
                            &read::<Vec<i16>>(&row, 6, K, "confkey")?,
                        ),
                        on_delete: on_delete.chars().next().unwrap_or('a'),
                        definition: key.definition,
                    });
                }
                other => table
                    .other_constraints
                    .push((other.chars().next().unwrap_or('?'), key)),
            }
        }

        const I: &str = "pg_index";
        for row in client
            .query(
                "SELECT x.indrelid, ic.relname::text, x.indkey::int2[], x.indisunique, \
                        EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid \
                                AND k.conrelid = x.indrelid), \
                        x.indisvalid, pg_get_expr(x.indpred, x.indrelid), \
                        pg_get_indexdef(x.indexrelid), coalesce(s.idx_scan, 0) \
                 FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid \
                 LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid \
                 WHERE x.indrelid = ANY($1) ORDER BY x.indrelid, ic.relname",
                &[&oids],
            )
            .await
            .map_err(db)?
        {
            let oid: u32 = read(&row, 0, I, "indrelid")?;
            let keys: Vec<i16> = read(&row, 2, I, "indkey")?;
            let columns = keys
                .iter()
                .map(|&n| (n != 0).then(|| column_names(oid, &[n]).remove(0)))
                .collect();
            let index = Index {
                name: read(&row, 1, I, "relname")?,
                columns,
                unique: read(&row, 3, I, "indisunique")?,
                backs_constraint: read(&row, 4, I, "conindid")?,
                valid: read(&row, 5, I, "indisvalid")?,
                predicate: read(&row, 6, I, "indpred")?,
                definition: read(&row, 7, I, "pg_get_indexdef")?,
                scans: read(&row, 8, I, "idx_scan")?,
            };
            if let Some(table) = tables.get_mut(&oid) {
                table.indexes.push(index);
            }
        }

        const P: &str = "pg_policy";
        for row in client
            .query(
                "SELECT p.polrelid, p.polname::text, p.polpermissive, \
                        CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' \
                             WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END, \
                        ARRAY(SELECT CASE WHEN r = 0 THEN 'public' \
                                          ELSE quote_ident(pg_get_userbyid(r)::text) END \
                              FROM unnest(p.polroles) AS r ORDER BY 1), \
                        pg_get_expr(p.polqual, p.polrelid), \
                        pg_get_expr(p.polwithcheck, p.polrelid) \
                 FROM pg_policy p WHERE p.polrelid = ANY($1) ORDER BY p.polrelid, p.polname",
                &[&oids],
            )
            .await
            .map_err(db)?
        {
            let oid: u32 = read(&row, 0, P, "polrelid")?;
            let policy = Policy {
                name: read(&row, 1, P, "polname")?,
                permissive: read(&row, 2, P, "polpermissive")?,
                command: read(&row, 3, P, "polcmd")?,
                roles: read(&row, 4, P, "polroles")?,
                using: read(&row, 5, P, "polqual")?,
                with_check: read(&row, 6, P, "polwithcheck")?,
            };
            if let Some(table) = tables.get_mut(&oid) {
                table.policies.push(policy);
            }
        }

        const T: &str = "pg_trigger";
        for row in client
            .query(
                "SELECT t.tgrelid, t.tgname::text, pg_get_triggerdef(t.oid) FROM pg_trigger t \
                 WHERE NOT t.tgisinternal AND t.tgrelid = ANY($1) ORDER BY 2",
                &[&oids],
            )
            .await
            .map_err(db)?
        {
            let oid: u32 = read(&row, 0, T, "tgrelid")?;
            let trigger = Trigger {
                name: read(&row, 1, T, "tgname")?,
                definition: read(&row, 2, T, "pg_get_triggerdef")?,
            };
            if let Some(table) = tables.get_mut(&oid) {
                table.triggers.push(trigger);
            }
        }

        let mut tables: Vec<Table> = tables.into_values().collect();
        tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));

        const F: &str = "pg_proc";
        let mut functions = Vec::new();
        for row in client
            .query(
                "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) \
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
                   AND n.nspname NOT LIKE 'pg\\_%' AND p.prokind = 'f' \
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d \
                                   WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid \
                                     AND d.deptype = 'e') \
                 ORDER BY 1",
                &[],
            )
            .await
            .map_err(db)?
        {
            functions.push(Function {
                signature: read(&row, 0, F, "regprocedure")?,
                definition: read(&row, 1, F, "pg_get_functiondef")?,
            });
        }

        const E: &str = "pg_enum";
        let mut enums = Vec::new();
        for row in client
            .query(
                "SELECT n.nspname::text, t.typname::text, \
                        array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
                 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 JOIN pg_enum e ON e.enumtypid = t.oid \
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
                   AND n.nspname NOT LIKE 'pg\\_%' \
                 GROUP BY 1, 2 ORDER BY 1, 2",
                &[],
            )
            .await
            .map_err(db)?
        {
            enums.push(Enum {
                schema: read(&row, 0, E, "nspname")?,
                name: read(&row, 1, E, "typname")?,
                values: read(&row, 2, E, "enumlabel")?,
            });
        }
        Ok(Database {
            tables,
            enums,
            functions,
        })
    }
}
