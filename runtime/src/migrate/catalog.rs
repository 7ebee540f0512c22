//! The schema of a live database, read from `pg_catalog`, and the
//! difference between two of them as migration steps.
//!
//! Both sides of a comparison are read from PostgreSQL itself — one database
//! built by the migrations, one by the entities' DDL — so types, defaults and
//! constraint definitions are compared in the server's own normal form.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use crate::ddl::{self, quote_ident, quote_literal, SchemaDdl};
use crate::error::{Error, Result};
use crate::inspect::{Database, Policy, RowSecurity};
use crate::schema::TableSchema;

/// The tables of a database's own schemas (without the migration
/// bookkeeping).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Tables by name: `users` in `public`, `auth.sessions` in another
    /// schema.
    pub tables: BTreeMap<String, Table>,
}

/// One table as the database has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Columns by name.
    pub columns: BTreeMap<String, Column>,
    /// Constraints (primary key, foreign keys, checks) by name.
    pub constraints: BTreeMap<String, Constraint>,
    /// Indexes that back no constraint, by name: their `CREATE INDEX`.
    pub indexes: BTreeMap<String, String>,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
    /// Whether row-level security is on, and binds the owner too.
    pub row_security: RowSecurity,
    /// Row-level security policies by name.
    pub policies: BTreeMap<String, Policy>,
}

/// One column as the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Position, for creating tables in field order.
    pub position: i16,
    /// The type as `format_type` writes it, e.g. `numeric(12,2)`.
    pub sql_type: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// The default expression, as the server normalised it.
    pub default: Option<String>,
    /// `COMMENT ON COLUMN`.
    pub comment: Option<String>,
}

/// One constraint as the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// `p`, `f`, `c` or `u`.
    pub kind: char,
    /// As `pg_get_constraintdef` writes it, e.g. `CHECK ((version >= 1))`.
    pub definition: String,
}

pub use crate::sql::MIGRATIONS_TABLE;

impl Catalog {
    /// Reads the tables of every schema but PostgreSQL's own of the
    /// database `client` is connected to.
    pub async fn read(client: &Client) -> Result<Catalog> {
        Ok(Catalog::from(&Database::read(client).await?))
    }
}

impl From<&Database> for Catalog {
    /// The parts of a database's tables a migration compares.
    fn from(database: &Database) -> Catalog {
        let mut catalog = Catalog::default();
        for t in &database.tables {
            let columns = t
                .columns
                .iter()
                .map(|c| {
                    let column = Column {
                        position: c.position,
                        sql_type: c.sql_type.clone(),
                        not_null: c.not_null,
                        default: c.default.clone(),
                        comment: c.comment.clone(),
                    };
                    (c.name.clone(), column)
                })
                .collect();
            let keys = t.primary_key.iter().map(|k| ('p', k));
            let checks = t.checks.iter().map(|k| ('c', k));
            let others = t.other_constraints.iter().map(|(kind, k)| (*kind, k));
            let mut constraints: BTreeMap<String, Constraint> = keys
                .chain(checks)
                .chain(others)
                .map(|(kind, k)| {
                    let definition = k.definition.clone();
                    (k.name.clone(), Constraint { kind, definition })
                })
                .collect();
            for fk in &t.foreign_keys {
                let definition = fk.definition.clone();
                constraints.insert(
                    fk.name.clone(),
                    Constraint {
                        kind: 'f',
                        definition,
                    },
                );
            }
            // Everything lives in `public`; unqualified, a definition reads
            // like the rest of the migration.
            let indexes = t
                .indexes
                .iter()
                .filter(|i| !i.backs_constraint)
                .map(|i| {
                    (
                        i.name.clone(),
                        i.definition.replacen(" ON public.", " ON ", 1),
                    )
                })
                .collect();
            let table = Table {
                columns,
                constraints,
                indexes,
                comment: t.comment.clone(),
                row_security: t.row_security,
                policies: t
                    .policies
                    .iter()
                    .map(|p| (p.name.clone(), p.clone()))
                    .collect(),
            };
            catalog.tables.insert(t.qualified_name(), table);
        }
        catalog
    }
}

/// What may a generated migration do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Drop tables and columns the entities no longer have. Off by default:
    /// without it, such a difference is [`Error::DestructiveChange`].
    pub allow_destructive: bool,
}

/// When a migration may run in a rolling deploy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Phase {
    /// Safe while the previous application version still runs: applied by
    /// [`Migrations::up`](super::Migrations::up), before the new version
    /// rolls out.
    #[default]
    Expand,
    /// Only once no instance of the previous version runs (backfills,
    /// validations, `SET NOT NULL`, drops): applied by
    /// [`Migrations::contract`](super::Migrations::contract).
    Contract,
}

/// One migration file to write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// Statements of the `.up.sql` file.
    pub up: Vec<String>,
    /// Statements of the `.down.sql` file, in the order they run.
    pub down: Vec<String>,
    /// Runs outside a transaction (`CREATE INDEX CONCURRENTLY`, backfills).
    pub transactional: bool,
    /// When it may run.
    pub phase: Phase,
    /// A backfill: each statement runs in batches, one transaction each.
    pub backfill: bool,
    /// What the step does, for its file name.
    pub label: &'static str,
}

/// The steps of one change, in the order they run. `expand` and `index`
/// are safe while the previous application version runs; the rest wait for
/// [`Phase::Contract`].
struct Steps {
    /// New tables and columns, relaxed constraints, renames, comments.
    expand: Step,
    /// New non-unique indexes, built concurrently.
    index: Step,
    /// Rows given a value a NOT NULL column needs, in batches.
    backfill: Step,
    /// New checks and foreign keys `NOT VALID`, drops.
    contract: Step,
    /// `VALIDATE CONSTRAINT` and `SET NOT NULL`, in a later transaction so
    /// no scan runs under the lock the constraint took.
    validate: Step,
    /// Unique and changed indexes built, old ones dropped, concurrently.
    contract_index: Step,
}

impl Steps {
    fn new() -> Self {
        let step = |label, transactional, phase, backfill| Step {
            label,
            transactional,
            phase,
            backfill,
            ..Step::default()
        };
        Steps {
            expand: step("expand", true, Phase::Expand, false),
            index: step("index", false, Phase::Expand, false),
            backfill: step("backfill", false, Phase::Contract, true),
            contract: step("contract", true, Phase::Contract, false),
            validate: step("validate", true, Phase::Contract, false),
            contract_index: step("contract_index", false, Phase::Contract, false),
        }
    }
}

/// The migration steps that turn `current` into `desired`, in the order
/// they must run, split for rolling deploys: an expand phase the previous
/// application version survives (new tables, nullable or defaulted columns,
/// relaxed constraints, concurrent index builds) and a contract phase for
/// once it is gone (backfills in batches, constraints added `NOT VALID` then
/// validated in a later transaction, `SET NOT NULL`, drops). Each phase has
/// at most a transactional step and a non-transactional index step; empty
/// steps are left out. `schemas` supplies what the catalogs cannot:
/// `renamed_from`.
pub fn diff(
    current: &Catalog,
    desired: &Catalog,
    schemas: &[&'static TableSchema],
    permissions: Permissions,
) -> Result<Vec<Step>> {
    let mut steps = Steps::new();
    let mut refusals = Refusals::default();

    // New tables: columns first, then every constraint, so the order of
    // creation does not matter; on an empty table nothing needs NOT VALID.
    let new_tables: Vec<(&String, &Table)> = desired
        .tables
        .iter()
        .filter(|(name, _)| !current.tables.contains_key(*name))
        .collect();
    if !new_tables.is_empty() {
        steps
            .expand
            .up
            .extend(create_new_tables(&new_tables, schemas));
        steps.expand.down.push(drop_tables(&new_tables));
    }

    for (name, old) in &current.tables {
        match desired.tables.get(name) {
            None => refusals.destructive.push(format!("drop table \"{name}\"")),
            Some(new) => alter_table(
                name,
                old,
                new,
                schema_of(schemas, name),
                &mut steps,
                &mut refusals,
            ),
        }
    }
    let dropped_tables: Vec<&String> = current
        .tables
        .keys()
        .filter(|n| !desired.tables.contains_key(*n))
        .collect();
    let Refusals {
        destructive,
        by_hand,
        needs_value,
    } = refusals;
    if !by_hand.is_empty() {
        return Err(Error::ManualMigration(by_hand));
    }
    if !needs_value.is_empty() {
        return Err(Error::NotNullWithoutValue(needs_value));
    }
    if !destructive.is_empty() {
        if !permissions.allow_destructive {
            return Err(Error::DestructiveChange(destructive));
        }
        let dropped: Vec<(&String, &Table)> = dropped_tables
            .iter()
            .map(|name| (*name, &current.tables[*name]))
            .collect();
        if !dropped.is_empty() {
            steps.contract.up.push(drop_tables(&dropped));
            // The down re-creates the tables empty: their rows are gone.
            // Downs are reversed below; keep this group in its own order.
            steps
                .contract
                .down
                .extend(create_tables(&dropped).into_iter().rev());
        }
    }
    let Steps {
        expand,
        index,
        backfill,
        contract,
        validate,
        contract_index,
    } = steps;
    let mut all = [expand, index, backfill, contract, validate, contract_index];
    // Downs undo in reverse order.
    for step in &mut all {
        step.down.reverse();
    }
    Ok(all.into_iter().filter(|s| !s.up.is_empty()).collect())
}

/// The entity whose table a catalog names `name` (`users`, `auth.sessions`).
fn schema_of(schemas: &[&'static TableSchema], name: &str) -> Option<&'static TableSchema> {
    schemas.iter().copied().find(|s| s.qualified_name() == name)
}

/// A catalog's table name as statements write it: `"users"`,
/// `"auth"."sessions"`.
fn table_ident(name: &str) -> String {
    match name.split_once('.') {
        Some((schema, table)) => ddl::qualified(Some(schema), table),
        None => quote_ident(name),
    }
}

/// An index of the catalog's table `table`, qualified with the table's
/// schema (an index lives beside its table).
fn index_ident(table: &str, index: &str) -> String {
    ddl::qualified(table.split_once('.').map(|(s, _)| s), index)
}

/// Creates the new tables the way the first migration does, from the
/// entities (their schemas first, referenced tables before referencing
/// ones); from the catalog only for a table no entity describes.
fn create_new_tables(
    tables: &[(&String, &Table)],
    schemas: &[&'static TableSchema],
) -> Vec<String> {
    let entities: Option<Vec<&'static TableSchema>> = tables
        .iter()
        .map(|(name, _)| schema_of(schemas, name))
        .collect();
    let ordered = entities.and_then(|new| {
        let all = SchemaDdl::new(schemas).ok()?;
        let tables: Vec<&'static TableSchema> = all
            .tables()
            .iter()
            .copied()
            .filter(|t| new.iter().any(|n| n.key() == t.key()))
            .collect();
        Some(tables)
    });
    match ordered {
        Some(tables) if !tables.is_empty() => {
            let mut out = Vec::new();
            let mut created: Vec<&str> = Vec::new();
            for t in &tables {
                if let Some(s) = t.schema.filter(|s| !created.contains(s)) {
                    created.push(s);
                    out.push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(s)));
                }
            }
            for t in tables {
                out.extend(
                    super::split::statements(&ddl::create_table(t))
                        .into_iter()
                        .map(str::to_owned),
                );
            }
            out
        }
        _ => create_tables(tables),
    }
}

/// Creates `tables` from the catalog (a down restoring dropped tables):
/// every table first, then their constraints, indexes and comments, so
/// foreign keys between them need no particular order.
fn create_tables(tables: &[(&String, &Table)]) -> Vec<String> {
    let mut out: Vec<String> = tables.iter().map(|(n, t)| create_table(n, t)).collect();
    for (name, table) in tables {
        for (cname, c) in &table.constraints {
            if c.kind != 'p' {
                out.push(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} {}",
                    table_ident(name),
                    quote_ident(cname),
                    c.definition
                ));
            }
        }
        out.extend(table.indexes.values().cloned());
        out.extend(comments(name, table));
        let t = table_ident(name);
        out.extend(table.policies.values().map(|p| p.create(&t)));
        out.extend(row_security_switches(
            &t,
            RowSecurity::default(),
            table.row_security,
        ));
    }
    out
}

/// The `ALTER TABLE`s that turn row-level security from `from` to `to`.
fn row_security_switches(t: &str, from: RowSecurity, to: RowSecurity) -> Vec<String> {
    let mut out = Vec::new();
    if from.enabled != to.enabled {
        out.push(ddl::enable_row_security(t, to.enabled));
    }
    if from.forced != to.forced {
        out.push(ddl::force_row_security(t, to.forced));
    }
    out
}

/// Row-level security and its policies, for rolling deploys:
/// - a new policy is added in the expand phase when it binds no one yet
///   (row-level security is off) or only lets more rows through (it is
///   permissive); otherwise, and when changed or dropped (dropped and
///   created again in one transaction), in the contract phase;
/// - turning row-level security on, or forcing it on the owner, binds the
///   previous version, which may not set what the policies read: contract
///   phase, after the policies exist. Turning it off relaxes: expand phase.
///
/// A new policy is written as the entity renders it when the entity has it,
/// else as the server normalised it.
fn alter_row_security(
    t: &str,
    old: &Table,
    new: &Table,
    schema: Option<&'static TableSchema>,
    change: &mut Step,
    contract: &mut Step,
) {
    let drop = |name: &str| format!("DROP POLICY {} ON {t}", quote_ident(name));
    let create = |name: &str, policy: &Policy| {
        schema
            .filter(|_| name == ddl::TENANT_POLICY)
            .and_then(ddl::tenant_policy)
            .unwrap_or_else(|| policy.create(t))
    };
    for (name, policy) in &new.policies {
        match old.policies.get(name) {
            None => {
                let step = if !old.row_security.enabled || policy.permissive {
                    &mut *change
                } else {
                    &mut *contract
                };
                step.up.push(create(name, policy));
                step.down.push(drop(name));
            }
            Some(prev) if prev != policy => {
                contract.up.push(drop(name));
                contract.up.push(create(name, policy));
                // Downs run reversed: drop the new one, then create the old.
                contract.down.push(prev.create(t));
                contract.down.push(drop(name));
            }
            Some(_) => {}
        }
    }
    for (name, prev) in &old.policies {
        if !new.policies.contains_key(name) {
            contract.up.push(drop(name));
            contract.down.push(prev.create(t));
        }
    }
    // Relaxing (a switch turned off) in the expand phase, tightening (a
    // switch turned on) in the contract phase; each down undoes its own.
    let (from, to) = (old.row_security, new.row_security);
    let relaxed = RowSecurity {
        enabled: from.enabled && to.enabled,
        forced: from.forced && to.forced,
    };
    change.up.extend(row_security_switches(t, from, relaxed));
    change.down.extend(row_security_switches(t, relaxed, from));
    contract.up.extend(row_security_switches(t, relaxed, to));
    contract.down.extend(row_security_switches(t, to, relaxed));
}

/// One `DROP TABLE` for all of `tables`, whatever references whatever.
fn drop_tables(tables: &[(&String, &Table)]) -> String {
    let names: Vec<String> = tables.iter().map(|(n, _)| table_ident(n)).collect();
    format!("DROP TABLE {}", names.join(", "))
}

fn create_table(name: &str, table: &Table) -> String {
    let mut columns: Vec<(&String, &Column)> = table.columns.iter().collect();
    columns.sort_by_key(|(_, c)| c.position);
    let mut lines: Vec<String> = columns
        .iter()
        .map(|(cname, c)| column_definition(cname, c))
        .collect();
    for (cname, c) in &table.constraints {
        if c.kind == 'p' {
            lines.push(format!(
                "CONSTRAINT {} {}",
                quote_ident(cname),
                c.definition
            ));
        }
    }
    format!(
        "CREATE TABLE {} (\n    {}\n)",
        table_ident(name),
        lines.join(",\n    ")
    )
}

fn column_definition(name: &str, c: &Column) -> String {
    let mut def = format!("{} {}", quote_ident(name), c.sql_type);
    if c.not_null {
        def.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        def.push_str(" DEFAULT ");
        def.push_str(d);
    }
    def
}

fn comments(name: &str, table: &Table) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = &table.comment {
        out.push(format!(
            "COMMENT ON TABLE {} IS {}",
            table_ident(name),
            quote_literal(c)
        ));
    }
    for (cname, col) in &table.columns {
        if let Some(c) = &col.comment {
            out.push(format!(
                "COMMENT ON COLUMN {}.{} IS {}",
                table_ident(name),
                quote_ident(cname),
                quote_literal(c)
            ));
        }
    }
    out
}

/// A column's default as the entity renders it (`DEFAULT` in
/// `CREATE TABLE`), else as the catalog has it.
fn rendered_default(entity: Option<&crate::schema::Column>, col: &Column) -> Option<String> {
    match entity {
        Some(c) => c.default.map(|d| d.sql().into_owned()),
        None => col.default.clone(),
    }
}

/// Whether a default can be added with a column without rewriting the
/// table: constants and `now()` (stable) are fine; volatile functions are not.
fn cheap_default(default: &str) -> bool {
    !default.contains("random") && !default.contains("nextval") && !default.contains("clock_")
}

/// What [`alter_table`] found it must not write: drops without
/// permission, changes to write by hand, NOT NULL columns with no value.
#[derive(Default)]
struct Refusals {
    destructive: Vec<String>,
    by_hand: Vec<String>,
    needs_value: Vec<String>,
}

fn alter_table(
    name: &str,
    old: &Table,
    new: &Table,
    schema: Option<&'static TableSchema>,
    steps: &mut Steps,
    refusals: &mut Refusals,
) {
    let Refusals {
        destructive,
        by_hand,
        needs_value,
    } = refusals;
    let Steps {
        expand: change,
        index,
        backfill,
        contract,
        validate,
        contract_index,
    } = steps;
    let t = table_ident(name);
    // Renames declared with `renamed_from`.
    let mut renamed: BTreeMap<&str, &str> = BTreeMap::new(); // old -> new
    if let Some(schema) = schema {
        for c in schema.columns {
            if let Some(from) = c.renamed_from {
                if old.columns.contains_key(from)
                    && !old.columns.contains_key(c.name)
                    && new.columns.contains_key(c.name)
                {
                    renamed.insert(from, c.name);
                    change.up.push(format!(
                        "ALTER TABLE {t} RENAME COLUMN {} TO {}",
                        quote_ident(from),
                        quote_ident(c.name)
                    ));
                    change.down.push(format!(
                        "ALTER TABLE {t} RENAME COLUMN {} TO {}",
                        quote_ident(c.name),
                        quote_ident(from)
                    ));
                }
            }
        }
    }
    let old_column = |name: &str| -> Option<&Column> {
        let from = renamed
            .iter()
            .find(|(_, to)| **to == name)
            .map_or(name, |(from, _)| *from);
        old.columns.get(from)
    };

    // Constraints and indexes whose definitions match a new one's but for
    // renamed columns and their own name are renamed (no rebuild, no
    // scan); the rest that go away or change are dropped first, so the
    // column changes below never trip over them.
    let mut renamed_objects: Vec<&str> = Vec::new();
    // Foreign keys that become composite within a tenant: the new key
    // implies the old one, so the old one stays until the new one is
    // validated (no window without a key), then gives it its name.
    let tightened: Vec<&str> = old
        .constraints
        .iter()
        .filter(|(cname, c)| {
            c.kind == 'f'
                && new
                    .constraints
                    .get(*cname)
                    .is_some_and(|n| n.kind == 'f' && n != *c)
                && schema.is_some_and(|s| {
                    s.foreign_keys
                        .iter()
                        .any(|fk| fk.name == cname.as_str() && fk.within_tenant)
                })
                && !c.definition.contains("tenant_id")
        })
        .map(|(cname, _)| cname.as_str())
        .collect();
    for cname in &tightened {
        tighten_foreign_key(
            &t,
            cname,
            &old.constraints[*cname],
            schema,
            contract,
            validate,
        );
    }
    for (cname, c) in &old.constraints {
        if new.constraints.get(cname) == Some(c) || tightened.contains(&cname.as_str()) {
            continue;
        }
        let successor = new.constraints.iter().find(|(n, nc)| {
            !old.constraints.contains_key(*n)
                && nc.kind == c.kind
                && same_after_renames(&c.definition, &nc.definition, &renamed)
        });
        if let Some((nname, _)) = successor {
            change.up.push(format!(
                "ALTER TABLE {t} RENAME CONSTRAINT {} TO {}",
                quote_ident(cname),
                quote_ident(nname)
            ));
            change.down.push(format!(
                "ALTER TABLE {t} RENAME CONSTRAINT {} TO {}",
                quote_ident(nname),
                quote_ident(cname)
            ));
            renamed_objects.push(nname);
            continue;
        }
        change.up.push(format!(
            "ALTER TABLE {t} DROP CONSTRAINT {}",
            quote_ident(cname)
        ));
        change.down.push(format!(
            "ALTER TABLE {t} ADD CONSTRAINT {} {}",
            quote_ident(cname),
            c.definition
        ));
    }
    for (iname, def) in &old.indexes {
        if new.indexes.get(iname) == Some(def) {
            continue;
        }
        let successor = new.indexes.iter().find(|(n, ndef)| {
            let mut names = renamed.clone();
            names.insert(iname.as_str(), n.as_str());
            !old.indexes.contains_key(*n) && same_after_renames(def, ndef, &names)
        });
        if let Some((nname, _)) = successor {
            change.up.push(format!(
                "ALTER INDEX {} RENAME TO {}",
                index_ident(name, iname),
                quote_ident(nname)
            ));
            change.down.push(format!(
                "ALTER INDEX {} RENAME TO {}",
                index_ident(name, nname),
                quote_ident(iname)
            ));
            renamed_objects.push(nname);
            continue;
        }
        // The previous version may lean on it: dropped in the contract.
        contract_index.up.push(format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}",
            index_ident(name, iname)
        ));
        contract_index.down.push(concurrently(def));
    }

    for (cname, col) in &new.columns {
        let q = quote_ident(cname);
        // The entity's column renders what is added or changed.
        let entity = schema.and_then(|s| s.column(cname));
        match old_column(cname) {
            None => {
                // A new column: added nullable (no table rewrite, no scan);
                // NOT NULL comes after, in steps.
                let sql_type =
                    entity.map_or(col.sql_type.clone(), |c| c.sql_type.sql().into_owned());
                let mut def = format!("{q} {sql_type}");
                let default = rendered_default(entity, col);
                // A default read from the session (`tenant_id`) leaves the
                // rows already there NULL: they need a backfill.
                let filled = match entity {
                    Some(c) => c.default.is_some_and(|d| d.fills_existing_rows()),
                    None => default.as_deref().is_some_and(cheap_default),
                };
                // A NOT NULL column no default of its own fills: its typed
                // backfill value stands in as its default from the expand
                // phase. A constant default fills every row at once, with
                // no rewrite since PostgreSQL 11, so NOT NULL holds at once
                // too: the rows already there and the previous release's
                // inserts get the value, and the release rolling out never
                // reads NULL. The contract phase gives the column its own
                // default back (or none).
                let stand_in = entity
                    .and_then(|c| c.backfill)
                    .filter(|b| col.not_null && !filled && b.fills_existing_rows())
                    .map(|b| b.sql().into_owned());
                if let Some(value) = &stand_in {
                    def.push_str(&format!(" DEFAULT {value} NOT NULL"));
                    contract.up.push(match &default {
                        Some(d) => format!("ALTER TABLE {t} ALTER COLUMN {q} SET DEFAULT {d}"),
                        None => format!("ALTER TABLE {t} ALTER COLUMN {q} DROP DEFAULT"),
                    });
                    contract.down.push(format!(
                        "ALTER TABLE {t} ALTER COLUMN {q} SET DEFAULT {value}"
                    ));
                } else if let Some(d) = default.as_ref().filter(|d| cheap_default(d)) {
                    def.push_str(" DEFAULT ");
                    def.push_str(d);
                    if col.not_null && filled {
                        def.push_str(" NOT NULL");
                    }
                }
                change.up.push(format!("ALTER TABLE {t} ADD COLUMN {def}"));
                change.down.push(format!("ALTER TABLE {t} DROP COLUMN {q}"));
                if col.not_null && !filled && stand_in.is_none() {
                    if entity.is_some_and(|c| c.backfill.is_none()) && default.is_none() {
                        // Nothing would give the rows a value before the
                        // new release reads them.
                        needs_value.push(format!("{name}.{cname}"));
                    } else {
                        set_not_null(&t, name, cname, entity, backfill, contract, validate);
                    }
                }
                if let Some(c) = &col.comment {
                    change
                        .up
                        .push(format!("COMMENT ON COLUMN {t}.{q} IS {}", quote_literal(c)));
                }
            }
            Some(prev) => {
                if prev.sql_type != col.sql_type {
                    by_hand.push(format!(
                        "change the type of \"{name}\".\"{cname}\" from {} to {} (rewrites the table: write it by hand)",
                        prev.sql_type, col.sql_type
                    ));
                }
                if prev.default != col.default {
                    let set = |default: Option<&str>| match default {
                        Some(d) => format!("ALTER TABLE {t} ALTER COLUMN {q} SET DEFAULT {d}"),
                        None => format!("ALTER TABLE {t} ALTER COLUMN {q} DROP DEFAULT"),
                    };
                    change
                        .up
                        .push(set(rendered_default(entity, col).as_deref()));
                    change.down.push(set(prev.default.as_deref()));
                }
                if prev.not_null && !col.not_null {
                    change
                        .up
                        .push(format!("ALTER TABLE {t} ALTER COLUMN {q} DROP NOT NULL"));
                    change
                        .down
                        .push(format!("ALTER TABLE {t} ALTER COLUMN {q} SET NOT NULL"));
                } else if !prev.not_null && col.not_null {
                    set_not_null(&t, name, cname, entity, backfill, contract, validate);
                }
                if prev.comment != col.comment {
                    change.up.push(format!(
                        "COMMENT ON COLUMN {t}.{q} IS {}",
                        comment_text(&col.comment)
                    ));
                    change.down.push(format!(
                        "COMMENT ON COLUMN {t}.{q} IS {}",
                        comment_text(&prev.comment)
                    ));
                }
            }
        }
    }
    for cname in old.columns.keys() {
        if !new.columns.contains_key(cname) && !renamed.contains_key(cname.as_str()) {
            destructive.push(format!("drop column \"{name}\".\"{cname}\""));
            let col = &old.columns[cname];
            let q = quote_ident(cname);
            if col.not_null && col.default.is_none() {
                // The new version inserts without it: it must take NULLs
                // while the old version still reads it. No down: once the
                // contract dropped it, it comes back empty, so nullable.
                change
                    .up
                    .push(format!("ALTER TABLE {t} ALTER COLUMN {q} DROP NOT NULL"));
            }
            contract
                .up
                .push(format!("ALTER TABLE {t} DROP COLUMN IF EXISTS {q}"));
            // The down brings the column back empty (nullable: its values
            // are gone).
            contract
                .down
                .push(format!("ALTER TABLE {t} ADD COLUMN {q} {}", col.sql_type));
        }
    }

    // Constraints that are new or changed: added NOT VALID (no scan under
    // the lock), validated in the next step.
    for (cname, c) in &new.constraints {
        if old.constraints.get(cname) == Some(c)
            || renamed_objects.contains(&cname.as_str())
            || tightened.contains(&cname.as_str())
        {
            continue;
        }
        // New rules bind writers: added once the previous version, which
        // may break them, is gone.
        let q = quote_ident(cname);
        let definition = schema
            .and_then(|s| ddl::constraints(s).into_iter().find(|(n, _)| n == cname))
            .map_or_else(|| c.definition.clone(), |(_, d)| d);
        match c.kind {
            'c' | 'f' => {
                contract.up.push(format!(
                    "ALTER TABLE {t} ADD CONSTRAINT {q} {definition} NOT VALID"
                ));
                validate
                    .up
                    .push(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {q}"));
            }
            _ => contract
                .up
                .push(format!("ALTER TABLE {t} ADD CONSTRAINT {q} {definition}")),
        }
        contract
            .down
            .push(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {q}"));
    }
    for (iname, def) in &new.indexes {
        if old.indexes.get(iname) != Some(def) && !renamed_objects.contains(&iname.as_str()) {
            // A new plain index only helps the previous version, and so
            // does a unique one holding `id` (no row can break it: a
            // tenant's `(tenant_id, id)`, which composite keys need before
            // the contract adds them); another unique one, or a changed
            // one (dropped above), waits for the contract.
            let holds_id = schema
                .and_then(|s| s.indexes.iter().find(|i| i.name == iname))
                .is_some_and(|i| {
                    i.columns
                        .iter()
                        .any(|c| c.name == "id" && c.function.is_none())
                });
            let harmless = def.starts_with("CREATE INDEX") || holds_id;
            let step = if harmless && !old.indexes.contains_key(iname) {
                &mut *index
            } else {
                &mut *contract_index
            };
            if !old.indexes.contains_key(iname) {
                // A failed concurrent build leaves an invalid index behind
                // under this name; dropping it first makes a re-run rebuild.
                step.up.push(format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {}",
                    index_ident(name, iname)
                ));
            }
            let rendered = schema
                .and_then(|s| {
                    let index = s.indexes.iter().find(|i| i.name == iname)?;
                    Some(ddl::create_index(s, index))
                })
                .unwrap_or_else(|| def.clone());
            step.up.push(concurrently(&rendered));
            step.down.push(format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {}",
                index_ident(name, iname)
            ));
        }
    }
    if old.comment != new.comment {
        change.up.push(format!(
            "COMMENT ON TABLE {t} IS {}",
            comment_text(&new.comment)
        ));
        change.down.push(format!(
            "COMMENT ON TABLE {t} IS {}",
            comment_text(&old.comment)
        ));
    }
    alter_row_security(&t, old, new, schema, change, contract);
}

/// Whether definition `old` (as the server printed it) reads as `new` once
/// each identifier in `renames` (old name -> new name) is renamed; quoting
/// is ignored, as the server quotes only the names that need it.
fn same_after_renames(old: &str, new: &str, renames: &BTreeMap<&str, &str>) -> bool {
    let unquoted = |text: &str| text.replace('"', "");
    let mut renamed = String::with_capacity(old.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(renames.get(word.as_str()).copied().unwrap_or(word));
        word.clear();
    };
    let mut in_literal = false;
    for ch in unquoted(old).chars() {
        if in_literal || ch == '\'' {
            // String literals are values, not names: copied as they are.
            flush(&mut word, &mut renamed);
            renamed.push(ch);
            if ch == '\'' {
                in_literal = !in_literal;
            }
        } else if ch.is_ascii_alphanumeric() || ch == '_' {
            word.push(ch);
        } else {
            flush(&mut word, &mut renamed);
            renamed.push(ch);
        }
    }
    flush(&mut word, &mut renamed);
    renamed == unquoted(new)
}

/// A comment as a literal, or `NULL` to remove it.
fn comment_text(comment: &Option<String>) -> String {
    comment.as_deref().map_or("NULL".to_owned(), quote_literal)
}

/// A foreign key made composite within a tenant (`(tenant_id, col)
/// REFERENCES t (tenant_id, id)`), with no moment without a key: the new
/// one is added `NOT VALID` beside the old under a name of its own, then
/// validated, the old one dropped and the new one renamed to the old name.
/// Each step can run again: the add first drops a leftover of an earlier
/// try.
fn tighten_foreign_key(
    t: &str,
    name: &str,
    old: &Constraint,
    schema: Option<&'static TableSchema>,
    contract: &mut Step,
    validate: &mut Step,
) {
    let Some(definition) = schema
        .and_then(|s| ddl::constraints(s).into_iter().find(|(n, _)| *n == name))
        .map(|(_, d)| d)
    else {
        return;
    };
    let next = short_name(&format!("{name}_next"));
    let (q, qn) = (quote_ident(name), quote_ident(&next));
    contract
        .up
        .push(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {qn}"));
    contract.up.push(format!(
        "ALTER TABLE {t} ADD CONSTRAINT {qn} {definition} NOT VALID"
    ));
    contract
        .down
        .push(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {qn}"));
    validate
        .up
        .push(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {qn}"));
    validate
        .up
        .push(format!("ALTER TABLE {t} DROP CONSTRAINT {q}"));
    validate
        .up
        .push(format!("ALTER TABLE {t} RENAME CONSTRAINT {qn} TO {q}"));
    // Down (its statements run in reverse): the new key back under its own
    // name, for the contract's down to drop, and the old key back under
    // its name.
    validate.down.push(format!(
        "ALTER TABLE {t} ADD CONSTRAINT {q} {}",
        old.definition
    ));
    validate
        .down
        .push(format!("ALTER TABLE {t} RENAME CONSTRAINT {q} TO {qn}"));
}

/// A generated name cut to PostgreSQL's 63 bytes.
fn short_name(name: &str) -> String {
    let mut name = name.to_owned();
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// `SET NOT NULL` without a long lock: a `CHECK (col IS NOT NULL) NOT VALID`
/// now, then (next step) validate it, set NOT NULL (which trusts the valid
/// check instead of scanning) and drop the check.
#[allow(clippy::too_many_arguments)]
fn set_not_null(
    t: &str,
    table: &str,
    column: &str,
    entity: Option<&crate::schema::Column>,
    backfill: &mut Step,
    contract: &mut Step,
    validate: &mut Step,
) {
    let q = quote_ident(column);
    let check = quote_ident(&short_name(&format!("{table}_{column}_not_null")));
    let value = entity.and_then(|c| c.backfill).map(|b| b.sql());
    backfill
        .up
        .push(backfill_statement(t, table, column, value.as_deref()));
    // How many rows the batches left without a value: the runner reports
    // it, and refuses to record the backfill while any are left.
    backfill.up.push(format!(
        "SELECT count(*) AS {} FROM {t} WHERE {q} IS NULL",
        super::ROWS_LEFT
    ));
    contract.up.push(format!(
        "ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({q} IS NOT NULL) NOT VALID"
    ));
    // Reverting the contract alone (to the expanded schema) takes the
    // check away too, new column or not, so the contract can run again.
    contract
        .down
        .push(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check}"));
    validate
        .up
        .push(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {check}"));
    validate
        .up
        .push(format!("ALTER TABLE {t} ALTER COLUMN {q} SET NOT NULL"));
    validate
        .up
        .push(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check}"));
    validate
        .down
        .push(format!("ALTER TABLE {t} ALTER COLUMN {q} DROP NOT NULL"));
}

/// Rows per backfill batch, each batch its own transaction.
pub const BACKFILL_BATCH: usize = 5000;

/// The batched backfill of `column`: with the entity's `backfill = ...`
/// value, ready to run; without, to be filled in: the runner refuses a
/// migration holding [`FILL_IN`](super::FILL_IN) until someone writes the
/// value. Its `$1` is the last id done; it returns the last id of its batch
/// (NULL when none is left) and how many rows it changed.
fn backfill_statement(t: &str, table: &str, column: &str, value: Option<&str>) -> String {
    let q = quote_ident(column);
    let (note, value) = match value {
        Some(v) => (
            format!("-- \"{table}\".\"{column}\" takes the entity's backfill value where it is NULL.\n"),
            v,
        ),
        None => (
            format!(
                "-- {fill}: write the value (or expression) \"{table}\".\"{column}\" takes where it is NULL in place\n\
                 -- of FILL_IN below, then delete this line. The runner refuses the file until then.\n\
                 -- Or give the field `#[column(backfill = ...)]` and generate again.\n",
                fill = super::FILL_IN
            ),
            "FILL_IN",
        ),
    };
    format!(
        "{note}\
         WITH batch AS (SELECT \"id\" FROM {t} WHERE \"id\" > $1 ORDER BY \"id\" LIMIT {BACKFILL_BATCH}),\n\
         \x20    filled AS (UPDATE {t} SET {q} = {value} WHERE \"id\" IN (SELECT \"id\" FROM batch) AND {q} IS NULL RETURNING 1)\n\
         SELECT (SELECT \"id\" FROM batch ORDER BY \"id\" DESC LIMIT 1), (SELECT count(*) FROM filled)"
    )
}

/// `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS ...` from an index
/// definition as `pg_get_indexdef` writes it.
fn concurrently(def: &str) -> String {
    if let Some(rest) = def.strip_prefix("CREATE UNIQUE INDEX ") {
        format!("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {rest}")
    } else if let Some(rest) = def.strip_prefix("CREATE INDEX ") {
        format!("CREATE INDEX CONCURRENTLY IF NOT EXISTS {rest}")
    } else {
        def.to_owned()
    }
}
