//! Entity structs for a schema the kit did not create, so a team can start
//! on a legacy database: each table becomes a `#[derive(Entity)]` struct
//! with the attributes and waivers it needs to compile and to describe the
//! table as it is (types, nullability, defaults, checks, enums, keys,
//! indexes, comments, and `tenant` for a table whose tenants row-level
//! security keeps apart as the kit's DDL does).
//!
//! A table the rule book cannot describe — no `id uuid` primary key, no
//! `created_at` / `updated_at`, a type the kit does not store, a name that
//! is not snake_case — is left out with the reason (the audit,
//! [`crate::audit`], says how to fix it); what cannot be said exactly
//! (a constraint under another name, an index the attributes cannot
//! express) is written as a `// adopt:` note above the struct, and the
//! drift check shows it as a difference.
//!
//! ```no_run
//! # async fn demo(client: &tokio_postgres::Client) -> ordinance::Result<()> {
//! let adopted = ordinance::adopt::adopt(client).await?;
//! std::fs::write("src/entities.rs", &adopted.code).expect("write");
//! for (table, why) in &adopted.skipped {
//!     eprintln!("left out {table}: {why}");
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use ordinance_naming as naming;
use tokio_postgres::Client;

use crate::ddl::{comment_text, quote_ident, quote_literal};
use crate::error::Result;
use crate::inspect::{Column, Database, Index, Key, RowSecurity, Table};
use crate::schema::{split_waivers, BoundedText, Conventions, EnumStorage, Naming};

/// What [`adopt`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adopted {
    /// A Rust module: `use` lines, the enums the checks imply, one entity
    /// per table, and `schemas()` listing them.
    pub code: String,
    /// The `COMMENT` statements that record, in the database, the waivers
    /// the entities carry and the comments do not yet say: run them, and
    /// the database documents its own deviations as the kit's DDL would.
    pub sql: String,
    /// Tables left out, with the reason.
    pub skipped: Vec<(String, String)>,
    /// What the entities do not say exactly, table by table.
    pub notes: Vec<(String, String)>,
}

/// Reads the database `client` is connected to and writes its entities,
/// expecting the kit's default names ([`Naming::POSTGRES`]).
pub async fn adopt(client: &Client) -> Result<Adopted> {
    adopt_under(client, &Conventions::DEFAULT).await
}

/// [`adopt`] for a team whose conventions are `conventions`: names that
/// follow its naming need no `index_name` / `name` attribute and no note.
pub async fn adopt_under(client: &Client, conventions: &Conventions) -> Result<Adopted> {
    Ok(entities_under(&Database::read(client).await?, conventions))
}

/// The Rust type for a column type as `format_type` writes it, and the
/// column attributes the type needs.
fn rust_type(sql_type: &str, types: &Types<'_>) -> Option<(String, String)> {
    if let Some(element) = sql_type.strip_suffix("[]") {
        // Arrays of the scalar types, elements not NULL (`Vec<Option<T>>`
        // is the hand edit when the data holds NULL elements).
        let plain = Types {
            varchar: false,
            enums: &BTreeMap::new(),
        };
        let (inner, attrs) = rust_type(element, &plain)?;
        let storable = !element.ends_with("[]")
            && !matches!(element, "bytea" | "jsonb" | "real" | "double precision");
        return storable.then(|| (format!("Vec<{inner}>"), attrs));
    }
    let simple = match sql_type {
        "uuid" => "Uuid",
        "text" => "String",
        "boolean" => "bool",
        "smallint" => "i16",
        "integer" => "i32",
        "bigint" => "i64",
        "numeric" => "Decimal",
        "real" => "f32",
        "double precision" => "f64",
        "timestamp with time zone" => "DateTime<Utc>",
        "date" => "NaiveDate",
        "jsonb" => "ordinance::deps::serde_json::Value",
        "bytea" => "Vec<u8>",
        _ => "",
    };
    if !simple.is_empty() {
        return Some((simple.to_owned(), String::new()));
    }
    // A native enum type whose values a `DbEnum` stores as they are.
    if let Some(values) = types.enums.get(sql_type) {
        let round_trips = values
            .iter()
            .all(|v| naming::snake_case(&naming::pascal_case(v)) == *v);
        return round_trips.then(|| (naming::pascal_case(sql_type), String::new()));
    }
    // Under a team's `varchar` policy, how it stores bounded text.
    if let Some(n) = sql_type
        .strip_prefix("character varying(")
        .and_then(|rest| rest.strip_suffix(')'))
        .filter(|_| types.varchar)
    {
        return Some(("String".to_owned(), format!("max_len = {n}")));
    }
    let inner = sql_type.strip_prefix("numeric(")?.strip_suffix(')')?;
    let attrs = match inner.split_once(',') {
        Some((p, s)) => format!("precision = {p}, scale = {s}"),
        None => format!("precision = {inner}"),
    };
    Some(("Decimal".to_owned(), attrs))
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "priv", "pub", "ref", "return", "static", "struct", "trait", "true", "try",
    "type", "unsafe", "use", "where", "while", "yield",
];

fn field_ident(column: &str) -> String {
    if KEYWORDS.contains(&column) {
        format!("r#{column}")
    } else {
        column.to_owned()
    }
}

fn struct_name(table: &str) -> String {
    naming::pascal_case(&naming::singularize(table))
}

fn rust_string(text: &str) -> String {
    format!("{text:?}")
}

/// What the team stores besides the kit's own types.
struct Types<'a> {
    /// Bounded text as `VARCHAR(n)`.
    varchar: bool,
    /// The database's native enum types on the search path, by name.
    enums: &'a BTreeMap<String, Vec<String>>,
}

/// Why the rule book cannot describe this table, if it cannot.
fn unadoptable(table: &Table, types: &Types<'_>) -> Option<String> {
    if !naming::is_snake_ident(&table.name) {
        return Some("its name is not snake_case".into());
    }
    let uuid_id = table
        .primary_key
        .as_ref()
        .is_some_and(|k| k.columns == ["id"])
        && table.column("id").is_some_and(|c| c.sql_type == "uuid");
    if !uuid_id {
        return Some("its primary key is not `id uuid`".into());
    }
    for required in ["created_at", "updated_at"] {
        match table.column(required) {
            Some(c) if c.sql_type == "timestamp with time zone" && c.not_null => {}
            _ => return Some(format!("it has no `{required} timestamptz NOT NULL`")),
        }
    }
    for column in &table.columns {
        if !naming::is_snake_ident(&column.name) {
            return Some(format!("column {:?} is not snake_case", column.name));
        }
        if rust_type(&column.sql_type, types).is_none() {
            return Some(format!(
                "column {:?} is {}, which the kit does not store",
                column.name, column.sql_type
            ));
        }
    }
    None
}

/// A column check the attributes can express, from its definition.
enum ColumnCheck {
    MinLen(String),
    MaxLen(String),
    Min(String),
    Max(String),
    OneOf(Vec<String>),
    /// `array_position(col, NULL) IS NULL`: no NULL element (`Vec<T>`
    /// rather than `Vec<Option<T>>`).
    NoNullElements,
}

fn parse_check(column: &str, check: &Key) -> Option<(ColumnCheck, &'static str)> {
    if let Some(values) = check.allowed_values() {
        return Some((ColumnCheck::OneOf(values), "valid"));
    }
    let body = check
        .definition
        .strip_prefix("CHECK ((")?
        .strip_suffix("))")?;
    // A VARCHAR(n) column's checks read it as text.
    let body = &body.replace(&format!("({column})::text"), column);
    if body.starts_with(&format!("array_position({column}, NULL")) && body.ends_with(") IS NULL") {
        return Some((ColumnCheck::NoNullElements, "no_nulls"));
    }
    let length = format!("char_length({column}) ");
    if let Some(rest) = body.strip_prefix(&length) {
        if let Some(n) = rest.strip_prefix(">= ") {
            return Some((ColumnCheck::MinLen(n.into()), "min_length"));
        }
        if let Some(n) = rest.strip_prefix("<= ") {
            return Some((ColumnCheck::MaxLen(n.into()), "max_length"));
        }
    }
    if let Some(rest) = body.strip_prefix(&format!("{column} ")) {
        if let Some(n) = rest.strip_prefix(">= ") {
            return Some((ColumnCheck::Min(n.into()), "min"));
        }
        if let Some(n) = rest.strip_prefix("<= ") {
            return Some((ColumnCheck::Max(n.into()), "max"));
        }
    }
    None
}

/// A default the `default = ...` attribute can say, when it can.
fn default_attr(column: &Column, enum_values: Option<&[String]>) -> Option<String> {
    let default = column.default.as_deref()?;
    if default == "now()" {
        return Some("now".into());
    }
    if default == "true" || default == "false" {
        return Some(default.into());
    }
    if default.parse::<i64>().is_ok() || default.parse::<f64>().is_ok() {
        return Some(default.into());
    }
    // `'open'::text`, or `'open'::ticket_status` of a native enum.
    let cast = match enum_values {
        Some(_) => default.rsplit_once("::").map(|(value, _)| value),
        None => default.strip_suffix("::text"),
    };
    if let Some(text) = cast
        .and_then(|d| d.strip_prefix('\''))
        .and_then(|d| d.strip_suffix('\''))
    {
        let text = text.replace("''", "'");
        if enum_values.is_none_or(|values| values.contains(&text)) {
            return Some(rust_string(&text));
        }
    }
    match default {
        "'{}'::jsonb" => Some("{}".into()),
        "'[]'::jsonb" => Some("[]".into()),
        // An empty array of any element type: `'{}'::integer[]`.
        d if d.starts_with("'{}'::") && d.ends_with("[]") => Some("[]".into()),
        _ => None,
    }
}

/// Turns the tables of `database` into entity code, expecting the kit's
/// default names.
pub fn entities(database: &Database) -> Adopted {
    entities_under(database, &Conventions::DEFAULT)
}

/// [`entities`] under the team's `conventions`.
pub fn entities_under(database: &Database, conventions: &Conventions) -> Adopted {
    let naming = &conventions.naming;
    let native: BTreeMap<String, Vec<String>> = database
        .enums
        .iter()
        .filter(|e| e.schema == "public")
        .map(|e| (e.name.clone(), e.values.clone()))
        .collect();
    let types = Types {
        varchar: conventions.bounded_text == BoundedText::Varchar,
        enums: &native,
    };
    let mut adopted = Adopted::default();
    let mut tables: Vec<&Table> = Vec::new();
    // A history table comes back with `#[entity(history)]` on its table.
    for table in database.tables.iter().filter(|t| !t.is_history()) {
        match unadoptable(table, &types) {
            Some(why) => adopted.skipped.push((table.qualified_name(), why)),
            None => tables.push(table),
        }
    }
    let structs: BTreeMap<(String, String), String> = tables
        .iter()
        .map(|t| ((t.schema.clone(), t.name.clone()), struct_name(&t.name)))
        .collect();

    let mut enums = String::new();
    // Each native enum type the tables use, once.
    let mut used: Vec<&String> = tables
        .iter()
        .flat_map(|t| &t.columns)
        .filter_map(|c| native.get_key_value(&c.sql_type).map(|(name, _)| name))
        .collect();
    used.sort();
    used.dedup();
    for name in used {
        let _ = writeln!(
            enums,
            "/// The native enum type `{name}`{}.\n\
             #[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]\n\
             pub enum {} {{",
            if conventions.enums == EnumStorage::Native {
                ""
            } else {
                " (kept native only under `types.enums = \"native\"` in the team's policy)"
            },
            naming::pascal_case(name)
        );
        for v in &native[name] {
            let _ = writeln!(enums, "    {},", naming::pascal_case(v));
        }
        enums.push_str("}\n\n");
    }
    let mut bodies = String::new();
    for table in &tables {
        let (body, enum_code, notes) = entity(table, &structs, naming, &types, &mut adopted.sql);
        enums.push_str(&enum_code);
        bodies.push_str(&body);
        for note in notes {
            adopted.notes.push((table.qualified_name(), note));
        }
    }

    let mut code = String::from(
        "//! Entities adopted from an existing database (`ordinance::adopt`).\n\
         //! Review them, then check the database against them with the drift\n\
         //! check; `// adopt:` notes say what they do not describe exactly.\n\n\
         use ordinance::prelude::*;\n\n",
    );
    code.push_str(&enums);
    code.push_str(&bodies);
    code.push_str("/// Every adopted table, for DDL, migrations and the drift check.\n");
    let list: Vec<String> = tables
        .iter()
        .map(|t| format!("{}::SCHEMA", structs[&(t.schema.clone(), t.name.clone())]))
        .collect();
    let _ = writeln!(
        code,
        "pub fn schemas() -> Vec<&'static ordinance::TableSchema> {{\n    vec![{}]\n}}",
        list.join(", ")
    );
    for (table, why) in &adopted.skipped {
        let _ = writeln!(code, "\n// adopt: left out {table}: {why}");
    }
    adopted.code = code;
    adopted
}

fn doc_lines(out: &mut String, indent: &str, doc: &str) {
    for line in doc.lines() {
        if line.is_empty() {
            let _ = writeln!(out, "{indent}///");
        } else {
            let _ = writeln!(out, "{indent}/// {line}");
        }
    }
}

fn exempt(waivers: &[(String, String)]) -> Option<String> {
    (!waivers.is_empty()).then(|| {
        let list: Vec<String> = waivers
            .iter()
            .map(|(rule, why)| format!("{rule} = {}", rust_string(why)))
            .collect();
        format!("exempt({})", list.join(", "))
    })
}

fn plain_columns(index: &Index) -> Option<Vec<&str>> {
    index.columns.iter().map(|c| c.as_deref()).collect()
}

/// Adds a waiver unless the rule is already waived.
fn waive(waivers: &mut Vec<(String, String)>, rule: &str, why: &str) {
    if !waivers.iter().any(|(r, _)| r == rule) {
        waivers.push((rule.to_owned(), why.to_owned()));
    }
}

/// What one table's entity is written from, filled part by part.
struct Writer<'a> {
    table: &'a Table,
    /// The naming policy names are compared with.
    naming: &'a Naming,
    /// What the team stores besides the kit's own types.
    types: &'a Types<'a>,
    structs: &'a BTreeMap<(String, String), String>,
    /// The struct's name.
    name: &'a str,
    /// `COMMENT` statements for waivers the database does not record yet.
    sql: &'a mut String,
    notes: Vec<String>,
    /// The `DbEnum`s the table's status checks imply.
    enums: String,
    /// Column attributes the keys and indexes imply, by column.
    column_attrs: BTreeMap<&'a str, Vec<String>>,
    /// Attributes of `#[entity(...)]`.
    entity_attrs: Vec<String>,
    /// The table keeps tenants apart as `#[entity(tenant)]` does.
    tenant: bool,
}

/// Whether `table` keeps tenants apart as `#[entity(tenant)]` does: a
/// `tenant_id uuid NOT NULL`, row-level security on and forced on the
/// owner, and a policy of the kit's name.
fn is_tenant(table: &Table) -> bool {
    table
        .column("tenant_id")
        .is_some_and(|c| c.sql_type == "uuid" && c.not_null)
        && table.row_security
            == RowSecurity {
                enabled: true,
                forced: true,
            }
        && table
            .policies
            .iter()
            .any(|p| p.name == crate::ddl::TENANT_POLICY)
}

/// One table's struct, the enums its checks imply, and its notes.
fn entity<'a>(
    table: &'a Table,
    structs: &'a BTreeMap<(String, String), String>,
    naming: &Naming,
    types: &'a Types<'a>,
    sql: &mut String,
) -> (String, String, Vec<String>) {
    let mut w = Writer {
        table,
        naming,
        types,
        structs,
        name: &structs[&(table.schema.clone(), table.name.clone())],
        sql,
        notes: Vec::new(),
        enums: String::new(),
        column_attrs: BTreeMap::new(),
        entity_attrs: Vec::new(),
        tenant: is_tenant(table),
    };
    if w.tenant {
        w.tenant_notes();
    }
    let explained = w.foreign_keys();
    w.indexes(&explained);
    let mut fields = String::new();
    for column in &table.columns {
        w.field(column, &mut fields);
    }
    let out = w.finish(&fields);
    (out, w.enums, w.notes)
}

impl<'a> Writer<'a> {
    /// Records the comment the kit's DDL will write on `on`, when the
    /// database's (`now`) differs.
    fn record(
        &mut self,
        on: String,
        now: Option<&String>,
        doc: Option<&String>,
        waivers: &[(String, String)],
    ) {
        let text = comment_text(
            doc.map(String::as_str),
            waivers.iter().map(|(r, w)| (r.as_str(), w.as_str())),
        );
        if text.as_ref() != now {
            if let Some(text) = text {
                let _ = writeln!(self.sql, "COMMENT ON {on} IS {};", quote_literal(&text));
            }
        }
    }

    /// `references` and `on_delete` for each foreign key; returns the
    /// indexes that back them (the kit creates those itself).
    fn foreign_keys(&mut self) -> BTreeSet<&'a str> {
        let table = self.table;
        let mut explained = BTreeSet::new();
        for fk in &table.foreign_keys {
            let [column] = fk.columns.as_slice() else {
                self.notes
                    .push(format!("foreign key {} spans several columns", fk.name));
                continue;
            };
            let key = (fk.references_schema.clone(), fk.references.clone());
            let Some(target) = self.structs.get(&key) else {
                self.notes.push(format!(
                    "foreign key {} points at {}, which was not adopted",
                    fk.name, fk.references
                ));
                continue;
            };
            let attrs = self.column_attrs.entry(column).or_default();
            attrs.push(format!("references = {target}"));
            match fk.on_delete {
                'c' => attrs.push("on_delete = \"cascade\"".into()),
                'n' => attrs.push("on_delete = \"set null\"".into()),
                'r' => {}
                _ => self.notes.push(format!(
                    "foreign key {} is ON DELETE NO ACTION; the entity says RESTRICT",
                    fk.name
                )),
            }
            if fk.name != self.naming.foreign_key(&table.name, column, &fk.references) {
                self.notes.push(format!(
                    "foreign key {} has another name than the naming policy gives",
                    fk.name
                ));
            }
            let fk_index = self.naming.index(&table.name, &[column], false);
            match table.indexes.iter().find(|i| i.name == fk_index) {
                Some(index) => {
                    if index.predicate.is_some() {
                        self.notes.push(format!(
                            "index {} is partial; the kit's foreign-key index covers every row",
                            index.name
                        ));
                    }
                    explained.insert(index.name.as_str());
                }
                None => self.notes.push(format!(
                    "no index {fk_index} for foreign key {}: the kit creates one",
                    fk.name
                )),
            }
        }
        explained
    }

    /// What a tenant table has that `#[entity(tenant)]` would not write
    /// the same way: other policies, or a policy of the kit's name that
    /// does not read the transaction's tenant.
    fn tenant_notes(&mut self) {
        for policy in &self.table.policies {
            if policy.name != crate::ddl::TENANT_POLICY {
                self.notes.push(format!(
                    "policy {} is not the kit's: the entity does not describe it",
                    policy.name
                ));
            } else if !policy
                .using
                .as_deref()
                .is_some_and(|u| u.contains(crate::schema::TENANT_SETTING))
            {
                self.notes.push(format!(
                    "policy {} does not compare tenant_id with app.tenant_id; the kit's does",
                    policy.name
                ));
            }
        }
    }

    /// `unique` / `index` on a column, or `unique(...)` / `index(...)` on
    /// the entity, for each index the foreign keys do not account for. On
    /// a tenant table the kit makes the `tenant_id` index and the
    /// `(tenant_id, id)` key itself, and leads each unique index with
    /// `tenant_id`: those are read back as the column's own.
    fn indexes(&mut self, explained: &BTreeSet<&str>) {
        let table = self.table;
        let soft = table.column("deleted_at").is_some();
        for index in &table.indexes {
            if index.backs_constraint || explained.contains(index.name.as_str()) {
                continue;
            }
            let Some(mut columns) = plain_columns(index) else {
                self.notes
                    .push(format!("index {} is on an expression", index.name));
                continue;
            };
            if self.tenant && columns.first() == Some(&"tenant_id") {
                // The kit's own: the `tenant_id` index, and the `(tenant_id,
                // id)` key foreign keys from other tenant tables reference.
                let tenant_key =
                    index.unique && index.predicate.is_none() && columns == ["tenant_id", "id"];
                if columns.len() == 1 || tenant_key {
                    continue;
                }
                if index.unique {
                    columns.remove(0);
                }
            } else if self.tenant && index.unique {
                self.notes.push(format!(
                    "unique index {} does not lead with tenant_id; the kit's is unique within a tenant",
                    index.name
                ));
            }
            let live = index.predicate.as_deref() == Some("(deleted_at IS NULL)");
            if index.predicate.is_some() && !live {
                self.notes
                    .push(format!("index {} has its own predicate", index.name));
                continue;
            }
            if live != soft {
                let how = if live { "partial on" } else { "not partial on" };
                self.notes
                    .push(format!("index {} is {how} live rows", index.name));
            }
            if index.definition.contains(" DESC") || !index.definition.contains("USING btree") {
                self.notes.push(format!(
                    "index {} is not a plain ascending B-tree",
                    index.name
                ));
                continue;
            }
            let kind = if index.unique { "unique" } else { "index" };
            let generated = self.naming.index(&table.name, &columns, index.unique);
            let name_attr = (index.name != generated).then(|| rust_string(&index.name));
            if let [column] = columns.as_slice() {
                let attrs = self.column_attrs.entry(column).or_default();
                attrs.push(kind.into());
                attrs.extend(name_attr.map(|n| format!("index_name = {n}")));
            } else {
                let name = name_attr.map_or(String::new(), |n| format!(", name = {n}"));
                self.entity_attrs
                    .push(format!("{kind}({}{name})", columns.join(", ")));
            }
        }
    }

    /// Applies the column's checks to its attributes; returns the enum type
    /// and values a status check implies, and whether an array column's
    /// check keeps NULL elements out.
    fn checks(
        &mut self,
        column: &str,
        attrs: &mut Vec<String>,
    ) -> (Option<(String, Vec<String>)>, bool) {
        let table = self.table;
        let mut implied = None;
        let mut no_nulls = false;
        for check in table.checks.iter().filter(|k| k.columns == [column]) {
            if column == "version" && check.definition == "CHECK ((version >= 1))" {
                continue;
            }
            let Some((parsed, what)) = parse_check(column, check) else {
                self.notes.push(format!(
                    "check {} cannot be said with attributes",
                    check.name
                ));
                continue;
            };
            if check.name != self.naming.check(&table.name, column, what) {
                self.notes.push(format!(
                    "check {} has another name than the naming policy gives",
                    check.name
                ));
            }
            match parsed {
                ColumnCheck::MinLen(n) => attrs.push(format!("min_len = {n}")),
                ColumnCheck::MaxLen(n) => attrs.push(format!("max_len = {n}")),
                ColumnCheck::Min(n) => attrs.push(format!("min = {n}")),
                ColumnCheck::Max(n) => attrs.push(format!("max = {n}")),
                ColumnCheck::NoNullElements => no_nulls = true,
                ColumnCheck::OneOf(values) => {
                    let enum_name = format!("{}{}", self.name, naming::pascal_case(column));
                    let _ = writeln!(
                        self.enums,
                        "/// The values of `{}.{column}`.\n\
                         #[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]\n\
                         pub enum {enum_name} {{",
                        table.name
                    );
                    for v in &values {
                        let _ = writeln!(self.enums, "    {},", naming::pascal_case(v));
                    }
                    self.enums.push_str("}\n\n");
                    implied = Some((enum_name, values));
                }
            }
        }
        (implied, no_nulls)
    }

    /// One field: its doc, attributes and type.
    fn field(&mut self, column: &Column, fields: &mut String) {
        let cname = column.name.as_str();
        let Some((mut ty, type_attrs)) = rust_type(&column.sql_type, self.types) else {
            return;
        };
        let mut attrs = self.column_attrs.remove(cname).unwrap_or_default();
        if !type_attrs.is_empty() {
            attrs.push(type_attrs);
        }
        let (mut implied, no_nulls) = self.checks(cname, &mut attrs);
        if let Some(values) = self.types.enums.get(&column.sql_type) {
            implied = Some((ty.clone(), values.clone()));
        }
        // An array without the kit's check may hold NULL elements.
        if let Some(element) = ty.strip_prefix("Vec<").filter(|_| !no_nulls) {
            if ty != "Vec<u8>" {
                ty = format!("Vec<Option<{element}>");
            }
        }
        let enum_values = implied.as_ref().map(|(_, values)| values.as_slice());
        let fixed = matches!(cname, "id" | "created_at" | "updated_at" | "version")
            || crate::schema::ACTOR_COLUMNS.contains(&cname)
            || (self.tenant && cname == "tenant_id");
        if !fixed {
            if let Some(d) = default_attr(column, enum_values) {
                attrs.push(format!("default = {d}"));
            } else if let Some(d) = &column.default {
                self.notes.push(format!(
                    "column {cname} has a default the attributes cannot say: {d}"
                ));
            }
        }
        let (doc, mut waivers) = column
            .comment
            .as_deref()
            .map(split_waivers)
            .unwrap_or_default();
        if matches!(ty.as_str(), "f32" | "f64") {
            waive(&mut waivers, "float", "adopted: the column's existing type");
        }
        if ty == "bool"
            && !naming::BOOLEAN_PREFIXES
                .iter()
                .any(|p| cname.starts_with(p))
        {
            waive(
                &mut waivers,
                "boolean_name",
                "adopted: the column's existing name",
            );
        }
        let referenced = self.table.foreign_keys.iter().any(|f| f.columns == [cname]);
        if ty == "Uuid" && cname.ends_with("_id") && !referenced && !fixed {
            waive(
                &mut waivers,
                "foreign_key",
                "adopted: no foreign key in the database",
            );
        }
        attrs.extend(exempt(&waivers));
        let on = format!("COLUMN {}.{}", self.table.ident(), quote_ident(cname));
        self.record(on, column.comment.as_ref(), doc.as_ref(), &waivers);

        let mut ty = implied.map_or_else(|| ty.to_owned(), |(name, _)| name);
        if cname == "deleted_at" || !column.not_null {
            ty = format!("Option<{ty}>");
        }
        if let Some(doc) = doc {
            doc_lines(fields, "    ", &doc);
        }
        if !attrs.is_empty() {
            let _ = writeln!(fields, "    #[column({})]", attrs.join(", "));
        }
        let _ = writeln!(fields, "    pub {}: {ty},", field_ident(cname));
    }

    /// The struct around `fields`: notes, doc, `#[entity(...)]` with the
    /// table's name, schema, indexes and waivers.
    fn finish(&mut self, fields: &str) -> String {
        let table = self.table;
        let (doc, mut waivers) = table
            .comment
            .as_deref()
            .map(split_waivers)
            .unwrap_or_default();
        if table.column("deleted_at").is_none() {
            waive(
                &mut waivers,
                "soft_delete",
                "adopted: the table has no deleted_at",
            );
        }
        if table.column("version").is_none() {
            waive(&mut waivers, "version", "adopted: the table has no version");
        }
        if !naming::is_plural(&table.name) {
            waive(&mut waivers, "plural", "adopted: the table's existing name");
        }
        self.record(
            format!("TABLE {}", table.ident()),
            table.comment.as_ref(),
            doc.as_ref(),
            &waivers,
        );

        let mut attrs = Vec::new();
        if self.tenant {
            attrs.push("tenant".to_owned());
        }
        if naming::table_name_for(self.name) != table.name {
            attrs.push(format!("table = {}", rust_string(&table.name)));
        }
        if table.schema != "public" {
            attrs.push(format!("schema = {}", rust_string(&table.schema)));
        }
        attrs.append(&mut self.entity_attrs);
        attrs.extend(exempt(&waivers));

        let mut out = String::new();
        for note in &self.notes {
            let _ = writeln!(out, "// adopt: {note}");
        }
        if let Some(doc) = doc {
            doc_lines(&mut out, "", &doc);
        }
        out.push_str("#[derive(Entity, Debug, Clone)]\n");
        if !attrs.is_empty() {
            let _ = writeln!(out, "#[entity({})]", attrs.join(", "));
        }
        let _ = writeln!(out, "pub struct {} {{\n{fields}}}\n", self.name);
        out
    }
}
