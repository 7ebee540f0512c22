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
use crate::schema::{
    setting_uuid, Check, CheckKind, Column, EnumType, ForeignKey, Index, IndexColumn,
    IndexFunction, IndexMethod, OnDelete, SqlType, TableSchema, TENANT_SETTING, WAIVER_LINE,
};

/// A double-quoted SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted SQL string literal (standard-conforming: only `'` is doubled).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A table's name as statements write it: `"users"`, or `"auth"."users"`
/// for a table in another PostgreSQL schema.
pub fn table_ident(schema: &TableSchema) -> String {
    qualified(schema.schema, schema.name)
}

/// `"name"`, or `"schema"."name"` when `schema` is given.
pub fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(name)),
        None => quote_ident(name),
    }
}

/// `CREATE TABLE`, its indexes and comments, for one entity.
pub fn create_table(schema: &TableSchema) -> String {
    let mut out = String::new();
    let t = table_ident(schema);
    let _ = writeln!(out, "CREATE TABLE {t} (");
    let mut lines: Vec<String> = schema
        .columns
        .iter()
        .map(|c| column_definition(schema, c))
        .collect();
    // A tenant table referencing itself references its own `(tenant_id,
    // id)` index, which exists only once the table does: that key is added
    // after the indexes.
    let (inline, after): (Vec<_>, Vec<_>) =
        constraints(schema).into_iter().partition(|(name, _)| {
            !schema.foreign_keys.iter().any(|fk| {
                fk.name == *name
                    && fk.within_tenant
                    && (fk.references_schema, fk.references) == schema.key()
            })
        });
    for (name, definition) in inline {
        lines.push(format!("CONSTRAINT {} {definition}", quote_ident(name)));
    }
    // A time-partitioned table's partitions are made ahead by
    // `partition::maintain`; the table itself holds no rows.
    let partitioned = if schema.partitioned.is_some() {
        " PARTITION BY RANGE (\"id\")"
    } else {
        ""
    };
    let _ = writeln!(out, "    {}\n){partitioned};", lines.join(",\n    "));
    for index in schema.indexes {
        out.push_str(&create_index(schema, index));
        out.push_str(";\n");
    }
    for (name, definition) in after {
        let _ = writeln!(
            out,
            "ALTER TABLE {t} ADD CONSTRAINT {} {definition};",
            quote_ident(name)
        );
    }
    if let Some(comment) = table_comment(schema) {
        let _ = writeln!(out, "{comment};");
    }
    for c in schema.columns {
        if let Some(comment) = column_comment(schema, c) {
            let _ = writeln!(out, "{comment};");
        }
    }
    for statement in row_security(schema) {
        let _ = writeln!(out, "{statement};");
    }
    out
}

/// The name of a tenant table's row-level security policy.
pub const TENANT_POLICY: &str = "tenant_isolation";

/// The condition a tenant table's policy puts on every row read and
/// written: its `tenant_id` is the transaction's tenant. With no tenant
/// set the right side is NULL, so no row matches and no row may be
/// written: the table fails closed.
pub fn tenant_condition() -> String {
    format!("\"tenant_id\" = {}", setting_uuid(TENANT_SETTING))
}

/// For a tenant table: `ENABLE` and `FORCE ROW LEVEL SECURITY` (so the
/// table's owner is held to it too) and the policy comparing `tenant_id`
/// with the transaction's tenant, for reads (`USING`) and writes (`WITH
/// CHECK`). Nothing for other tables. Roles with `BYPASSRLS` and
/// superusers are not subject to it: the application must use neither.
pub fn row_security(schema: &TableSchema) -> Vec<String> {
    let Some(policy) = tenant_policy(schema) else {
        return Vec::new();
    };
    let t = table_ident(schema);
    vec![
        enable_row_security(&t, true),
        force_row_security(&t, true),
        policy,
    ]
}

/// `ALTER TABLE … ENABLE` (or `DISABLE`) `ROW LEVEL SECURITY` on `table`
/// (as SQL writes it).
pub(crate) fn enable_row_security(table: &str, on: bool) -> String {
    let verb = if on { "ENABLE" } else { "DISABLE" };
    format!("ALTER TABLE {table} {verb} ROW LEVEL SECURITY")
}

/// `ALTER TABLE … FORCE` (or `NO FORCE`) `ROW LEVEL SECURITY` on `table`:
/// whether the owner is held to the policies too.
pub(crate) fn force_row_security(table: &str, on: bool) -> String {
    let verb = if on { "FORCE" } else { "NO FORCE" };
    format!("ALTER TABLE {table} {verb} ROW LEVEL SECURITY")
}

/// A tenant table's [`TENANT_POLICY`]: `CREATE POLICY` comparing
/// `tenant_id` with the transaction's tenant for reads (`USING`) and writes
/// (`WITH CHECK`). `None` for other tables.
pub fn tenant_policy(schema: &TableSchema) -> Option<String> {
    schema
        .tenant
        .then(|| tenant_policy_on(&table_ident(schema)))
}

/// [`tenant_policy`] on `table` as SQL writes it, for a table known only
/// by name (the audit's fix for a live table).
pub(crate) fn tenant_policy_on(table: &str) -> String {
    let condition = tenant_condition();
    format!(
        "CREATE POLICY {} ON {table} USING ({condition}) WITH CHECK ({condition})",
        quote_ident(TENANT_POLICY)
    )
}

/// The roles [`grants`] gives rights to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles<'a> {
    /// The application's role: reads and writes rows of the entities'
    /// tables, nothing else (no DDL, no other tables).
    pub app: &'a str,
    /// A role that only reads them (reports, a read replica's users).
    pub read_only: Option<&'a str>,
}

/// `GRANT`s for least privilege: `USAGE` on each schema the tables live in,
/// `SELECT, INSERT, UPDATE, DELETE` on each table for the application role,
/// `SELECT` for the read-only role, one statement per table and role (in
/// table name order). Run them as the tables' owner (the
/// role migrations run as), after the migrations. Neither role may own the
/// tables, be a superuser, or have `BYPASSRLS`: each would bypass row-level
/// security.
pub fn grants(schemas: &[&TableSchema], roles: &Roles<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut namespaces: Vec<&str> = schemas
        .iter()
        .map(|s| s.schema.unwrap_or("public"))
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let mut tables: Vec<String> = schemas.iter().map(|s| table_ident(s)).collect();
    tables.sort_unstable();
    tables.dedup();
    // History is read, never written, by the roles: its trigger writes it.
    let mut histories: Vec<String> = schemas
        .iter()
        .filter(|s| s.history)
        .map(|s| crate::sql::history::history_ident(s))
        .collect();
    histories.sort_unstable();
    histories.dedup();
    let grantees: Vec<(&str, &str)> =
        std::iter::once((roles.app, "SELECT, INSERT, UPDATE, DELETE"))
            .chain(roles.read_only.map(|r| (r, "SELECT")))
            .collect();
    for (role, rights) in grantees {
        let role = quote_ident(role);
        for ns in &namespaces {
            out.push(format!(
                "GRANT USAGE ON SCHEMA {} TO {role}",
                quote_ident(ns)
            ));
        }
        // One statement per table: a diff shows the table that gained or
        // lost a right, and a missing table fails its own line only.
        for table in &tables {
            out.push(format!("GRANT {rights} ON TABLE {table} TO {role}"));
        }
        for history in &histories {
            out.push(format!("GRANT SELECT ON TABLE {history} TO {role}"));
        }
    }
    out
}

/// `COMMENT ON TABLE ...`, when the entity has a doc comment or waivers.
pub fn table_comment(schema: &TableSchema) -> Option<String> {
    let text = comment_text(
        schema.comment,
        schema.waivers.iter().map(|w| (w.rule, w.reason)),
    )?;
    Some(format!(
        "COMMENT ON TABLE {} IS {}",
        table_ident(schema),
        quote_literal(&text)
    ))
}

/// `COMMENT ON COLUMN ...`, when the field has a doc comment or waivers.
pub fn column_comment(schema: &TableSchema, c: &Column) -> Option<String> {
    let mut text = comment_text(c.comment, c.waivers.iter().map(|w| (w.rule, w.reason)));
    if c.sensitive {
        let mark = SENSITIVE_COMMENT.to_owned();
        text = Some(match text {
            Some(t) => format!("{t}\n{mark}"),
            None => mark,
        });
    }
    let text = text?;
    Some(format!(
        "COMMENT ON COLUMN {}.{} IS {}",
        table_ident(schema),
        quote_ident(c.name),
        quote_literal(&text)
    ))
}

/// What the comment of a `#[column(sensitive)]` column records.
pub const SENSITIVE_COMMENT: &str =
    "Sensitive: personal data, kept out of logs, errors and Debug output.";

/// A column of `schema` as `CREATE TABLE` writes it: `"name" TYPE [NOT
/// NULL] [DEFAULT ...]`, its type as the table stores it
/// ([`TableSchema::column_type`]).
pub fn column_definition(schema: &TableSchema, c: &Column) -> String {
    let mut line = format!("{} {}", quote_ident(c.name), schema.column_type(c));
    if !c.nullable {
        line.push_str(" NOT NULL");
    }
    if let Some(default) = &c.default {
        line.push_str(" DEFAULT ");
        line.push_str(&default.sql());
    }
    line
}

/// Every named constraint of a table with its definition, primary key
/// first: `("users_pkey", "PRIMARY KEY (\"id\")")`. `CREATE TABLE` and the
/// migration generator's `ADD CONSTRAINT` both write these.
pub fn constraints(schema: &TableSchema) -> Vec<(&'static str, String)> {
    let mut out = vec![(schema.primary_key, "PRIMARY KEY (\"id\")".to_owned())];
    for check in schema.rendered_checks() {
        out.push((check.name, check_definition(check)));
    }
    for fk in schema.foreign_keys {
        out.push((fk.name, foreign_key_definition(fk)));
    }
    out
}

/// `FOREIGN KEY (...) REFERENCES ... ON DELETE ...` for one foreign key.
/// Between two tenant tables it is `("tenant_id", col) REFERENCES t
/// ("tenant_id", "id")`, backed by the referenced table's unique
/// `(tenant_id, id)`: PostgreSQL checks foreign keys without row-level
/// security, so only the composite key stops a row from referencing — or a
/// delete from cascading into — another tenant's rows. `SET NULL` then
/// names the column it empties (PostgreSQL 15), so the row keeps its
/// tenant.
pub fn foreign_key_definition(fk: &ForeignKey) -> String {
    let column = quote_ident(fk.column);
    let target = qualified(fk.references_schema, fk.references);
    if !fk.within_tenant {
        return format!(
            "FOREIGN KEY ({column}) REFERENCES {target} (\"id\") ON DELETE {}",
            fk.on_delete.sql()
        );
    }
    let on_delete = match fk.on_delete {
        OnDelete::SetNull => format!("SET NULL ({column})"),
        other => other.sql().to_owned(),
    };
    format!(
        "FOREIGN KEY (\"tenant_id\", {column}) REFERENCES {target} (\"tenant_id\", \"id\") ON DELETE {on_delete}"
    )
}

/// `CHECK (...)` for one check constraint.
pub fn check_definition(check: &Check) -> String {
    format!("CHECK ({})", check_predicate(check))
}

/// What a check constraint tests: `char_length("title") <= 200`.
pub(crate) fn check_predicate(check: &Check) -> String {
    let col = quote_ident(check.column);
    match check.kind {
        CheckKind::MinLength(n) => format!("char_length({col}) >= {n}"),
        CheckKind::MaxLength(n) => format!("char_length({col}) <= {n}"),
        CheckKind::Min(n) => format!("{col} >= {n}"),
        CheckKind::Max(n) => format!("{col} <= {n}"),
        CheckKind::OneOf(values) => {
            let list: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
            format!("{col} IN ({})", list.join(", "))
        }
        CheckKind::NoNullElements => format!("array_position({col}, NULL) IS NULL"),
    }
}

/// `CREATE [UNIQUE] INDEX ... [USING gin] (...) [INCLUDE (...)] [WHERE ...]`
/// for one index of a table, without the closing `;`.
pub fn create_index(schema: &TableSchema, index: &Index) -> String {
    format!(
        "CREATE {}INDEX {} ON {}{}",
        if index.unique { "UNIQUE " } else { "" },
        quote_ident(index.name),
        table_ident(schema),
        index_body(index),
    )
}

/// What follows the table in `CREATE INDEX`: `[ USING gin] (...)
/// [INCLUDE (...)] [WHERE ...]`.
pub(crate) fn index_body(index: &Index) -> String {
    let cols: Vec<String> = index.columns.iter().map(index_column).collect();
    let mut sql = format!(
        "{} ({})",
        match index.method {
            IndexMethod::Gin => " USING gin",
            IndexMethod::BTree => "",
        },
        cols.join(", "),
    );
    if !index.include.is_empty() {
        let include: Vec<String> = index.include.iter().map(|c| quote_ident(c)).collect();
        let _ = write!(sql, " INCLUDE ({})", include.join(", "));
    }
    if let Some(predicate) = index_predicate(index) {
        let _ = write!(sql, " WHERE {predicate}");
    }
    sql
}

/// One key of an index or keyset order: `"created_at" DESC`.
pub(crate) fn index_column(c: &IndexColumn) -> String {
    let mut s = index_key(c);
    if c.descending {
        s.push_str(" DESC");
    }
    s
}

/// What one index column keys on: `"email"`, `lower("email")` or a JSONB
/// field (`("settings" ->> 'theme')`).
pub(crate) fn index_key(c: &IndexColumn) -> String {
    match c.function {
        Some(IndexFunction::Lower) => format!("lower({})", quote_ident(c.name)),
        Some(IndexFunction::JsonField { path, as_type }) => json_field(c.name, path, as_type),
        None => quote_ident(c.name),
    }
}

/// A field of a JSONB column as one parenthesised expression: `("settings"
/// ->> 'theme')` as text, `(("settings" -> 'limits' ->> 'max')::INTEGER)`
/// cast. Index declarations and [`query::json`](crate::query::json) both
/// render through it, so a filter on the field is the indexed expression
/// and the planner can use the index. The keys are written into the text
/// (the index needs constants); they come from the program, never from a
/// request, and are quoted as literals.
pub fn json_field(column: &str, path: &[&str], as_type: SqlType) -> String {
    json_field_of(quote_ident(column), path, as_type)
}

/// [`json_field`] of any JSONB expression (a column, a parameter).
pub(crate) fn json_field_of(sql: String, path: &[&str], as_type: SqlType) -> String {
    let sql = json_path(sql, path, true);
    match as_type {
        SqlType::Text => format!("({sql})"),
        other => format!("(({sql})::{})", other.sql()),
    }
}

/// `sql -> 'a' -> 'b'`: the keys of `path` walked from a JSONB expression,
/// the last one read as text (`->>`) when `text_last`.
pub(crate) fn json_path(mut sql: String, path: &[&str], text_last: bool) -> String {
    for (i, key) in path.iter().enumerate() {
        let arrow = if text_last && i + 1 == path.len() {
            "->>"
        } else {
            "->"
        };
        let _ = write!(sql, " {arrow} {}", quote_literal(key));
    }
    sql
}

/// The rows a partial index covers (`"deleted_at" IS NULL AND "status" =
/// 'open'`), or `None` when it covers every row. Its constants come from
/// the compile-time schema.
pub(crate) fn index_predicate(index: &Index) -> Option<String> {
    let mut conditions: Vec<String> = Vec::new();
    if index.live_only {
        conditions.push("\"deleted_at\" IS NULL".to_owned());
    }
    for c in index.predicate {
        conditions.push(format!("{} = {}", quote_ident(c.column), c.value.sql()));
    }
    (!conditions.is_empty()).then(|| conditions.join(" AND "))
}

/// The documentation comment plus one line per waived rule, so the database
/// documents its own deviations from the conventions.
pub(crate) fn comment_text<'a>(
    doc: Option<&str>,
    waivers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<String> {
    let mut parts: Vec<String> = doc.map(str::to_owned).into_iter().collect();
    for (rule, reason) in waivers {
        parts.push(format!("{WAIVER_LINE}{rule} ({reason})"));
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// `DROP TABLE` for one entity (its indexes and constraints go with it).
pub fn drop_table(schema: &TableSchema) -> String {
    format!("DROP TABLE {};\n", table_ident(schema))
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
        check_enum_types(schemas)?;
        type Key = (Option<&'static str>, &'static str);
        let by_key: HashMap<Key, &'static TableSchema> =
            schemas.iter().map(|s| (s.key(), *s)).collect();
        for s in schemas {
            if let Some((_, missing)) = s.references().find(|r| !by_key.contains_key(r)) {
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
            by_key: &HashMap<Key, &'static TableSchema>,
            marks: &mut HashMap<Key, Mark>,
            stack: &mut Vec<&'static TableSchema>,
            out: &mut Vec<&'static TableSchema>,
        ) -> Result<()> {
            match marks.get(&s.key()).copied().unwrap_or(Mark::New) {
                Mark::Done => return Ok(()),
                Mark::Active => {
                    let start = stack.iter().position(|t| t.key() == s.key()).unwrap_or(0);
                    let mut tables: Vec<&'static str> =
                        stack[start..].iter().map(|t| t.name).collect();
                    tables.push(s.name);
                    return Err(Error::ReferenceCycle { tables });
                }
                Mark::New => {}
            }
            marks.insert(s.key(), Mark::Active);
            stack.push(s);
            for r in s.references() {
                visit(by_key[&r], by_key, marks, stack, out)?;
            }
            stack.pop();
            marks.insert(s.key(), Mark::Done);
            out.push(s);
            Ok(())
        }
        let mut marks = HashMap::new();
        let mut stack = Vec::new();
        let mut tables = Vec::with_capacity(schemas.len());
        for s in schemas {
            visit(s, &by_key, &mut marks, &mut stack, &mut tables)?;
        }
        Ok(SchemaDdl { tables })
    }

    /// `CREATE SCHEMA IF NOT EXISTS` for each PostgreSQL schema other than
    /// `public` the tables live in, sorted.
    pub fn create_schemas(&self) -> Vec<String> {
        let mut names: Vec<&str> = self.tables.iter().filter_map(|t| t.schema).collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .map(|n| format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(n)))
            .collect()
    }

    /// The tables in creation order.
    pub fn tables(&self) -> &[&'static TableSchema] {
        &self.tables
    }

    /// The native enum types the tables' columns use, by name.
    pub fn enum_types(&self) -> Vec<&'static EnumType> {
        enum_types(&self.tables)
    }

    /// Everything needed to create the schema, referenced tables first.
    pub fn up(&self) -> String {
        let schemas = self.create_schemas().into_iter().map(|s| s + ";\n");
        let types = self
            .enum_types()
            .into_iter()
            .map(|e| create_type(e) + ";\n");
        schemas
            .chain(types)
            .chain(self.tables.iter().map(|t| {
                let mut table = create_table(t);
                for statement in crate::sql::history::create_history(t)
                    .into_iter()
                    .chain(crate::sql::aggregate::create_aggregate(t))
                    .chain(crate::sql::outbox::create_outbox(t))
                {
                    let _ = writeln!(table, "\n{statement};");
                }
                table
            }))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Drops every table, referencing tables first, then the enum types:
    /// the inverse of [`up`](Self::up).
    pub fn down(&self) -> String {
        let types = self.enum_types();
        let mut out: String = self
            .tables
            .iter()
            .rev()
            .map(|t| {
                // The table first: its history's trigger goes with it, and
                // then nothing uses the history's function.
                let mut drop = drop_table(t);
                for statement in crate::sql::history::drop_history(t)
                    .into_iter()
                    .chain(crate::sql::aggregate::drop_aggregate(t))
                    .chain(crate::sql::outbox::drop_outbox(t))
                {
                    drop.push_str(&statement);
                    drop.push_str(";\n");
                }
                drop
            })
            .collect();
        if !types.is_empty() {
            let names: Vec<String> = types.iter().map(|e| quote_ident(e.name)).collect();
            out.push_str(&format!("DROP TYPE {};\n", names.join(", ")));
        }
        out
    }
}

/// `CREATE TYPE "name" AS ENUM ('a', 'b')`: a native enum type, its values
/// in sort order.
pub fn create_type(e: &EnumType) -> String {
    create_enum_sql(&quote_ident(e.name), e.values)
}

/// `CREATE TYPE <ident> AS ENUM (...)` for a type as SQL writes it (an
/// entity's, a catalog's, the audit's fix).
pub(crate) fn create_enum_sql(ident: &str, values: &[impl AsRef<str>]) -> String {
    let values: Vec<String> = values.iter().map(|v| quote_literal(v.as_ref())).collect();
    format!("CREATE TYPE {ident} AS ENUM ({})", values.join(", "))
}

/// A table or type named as a catalog names it (`users`, `auth.sessions`)
/// as SQL writes it: `"users"`, `"auth"."sessions"`.
pub(crate) fn catalog_ident(name: &str) -> String {
    match name.split_once('.') {
        Some((schema, table)) => qualified(Some(schema), table),
        None => quote_ident(name),
    }
}

/// The native enum types of `schemas`' columns, each once, by name.
fn enum_types(schemas: &[&'static TableSchema]) -> Vec<&'static EnumType> {
    let mut out: Vec<&'static EnumType> = schemas.iter().flat_map(|s| s.enum_types()).collect();
    out.sort_by_key(|e| e.name);
    out.dedup_by_key(|e| e.name);
    out
}

/// Two enums stored as one type name must be one type: the same values in
/// the same order; and a type must not take a table's name (PostgreSQL
/// gives every table a type of its name).
fn check_enum_types(schemas: &[&'static TableSchema]) -> Result<()> {
    let mut seen: HashMap<&'static str, (&'static EnumType, &'static str)> = HashMap::new();
    for s in schemas {
        for e in s.enum_types() {
            match seen.get(e.name) {
                Some((first, table)) if first.values != e.values => {
                    return Err(Error::DuplicateName {
                        name: e.name,
                        first: table,
                        second: s.name,
                    })
                }
                Some(_) => {}
                None => {
                    seen.insert(e.name, (e, s.name));
                }
            }
        }
    }
    for s in schemas.iter().filter(|s| s.schema.is_none()) {
        if let Some((_, table)) = seen.get(s.name) {
            return Err(Error::DuplicateName {
                name: s.name,
                first: table,
                second: s.name,
            });
        }
    }
    Ok(())
}

/// Tables, indexes and primary keys share one namespace per schema in
/// PostgreSQL; two entities must not generate the same name.
fn check_names(schemas: &[&'static TableSchema]) -> Result<()> {
    let mut seen: HashMap<(Option<&'static str>, &'static str), &'static str> = HashMap::new();
    for s in schemas {
        let names = std::iter::once(s.name)
            .chain(std::iter::once(s.primary_key))
            .chain(s.indexes.iter().map(|i| i.name));
        for name in names {
            if let Some(first) = seen.insert((s.schema, name), s.name) {
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

/// The table a plain table's rows move into while a migration makes it
/// partitioned (`events` → `events_partitioned`), renamed to the table's
/// own name when the move is done. `name` is bare (no schema).
pub(crate) fn conversion_table(name: &str) -> String {
    const SUFFIX: &str = "_partitioned";
    let kept: String = name.chars().take(63 - SUFFIX.len()).collect();
    format!("{kept}{SUFFIX}")
}
