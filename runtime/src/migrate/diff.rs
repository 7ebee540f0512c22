//! The difference between two catalogs as migration steps, split for
//! rolling deploys: the expand phase the previous application version
//! survives, and the contract phase for once it is gone.

use super::alter::alter_table;
use super::catalog::{Catalog, Column, Table};
use super::row_security::row_security_switches;
use crate::ddl::{self, quote_ident, quote_literal, SchemaDdl};
use crate::error::{Error, Result};
use crate::inspect::RowSecurity;
use crate::schema::TableSchema;

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
pub(super) struct Steps {
    /// Values added to native enum types, committed before anything uses
    /// them (PostgreSQL refuses a value added in the same transaction).
    pub(super) types: Step,
    /// New tables and columns, relaxed constraints, renames, comments.
    pub(super) expand: Step,
    /// New non-unique indexes, built concurrently.
    pub(super) index: Step,
    /// Rows given a value a NOT NULL column needs, in batches.
    pub(super) backfill: Step,
    /// New checks and foreign keys `NOT VALID`, drops.
    pub(super) contract: Step,
    /// `VALIDATE CONSTRAINT` and `SET NOT NULL`, in a later transaction so
    /// no scan runs under the lock the constraint took.
    pub(super) validate: Step,
    /// Unique and changed indexes built, old ones dropped, concurrently.
    pub(super) contract_index: Step,
}

impl Steps {
    pub(super) fn new() -> Self {
        let step = |label, transactional, phase, backfill| Step {
            label,
            transactional,
            phase,
            backfill,
            ..Step::default()
        };
        Steps {
            types: step("types", true, Phase::Expand, false),
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
    enum_types(current, desired, &mut steps, &mut refusals);

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
            Some(new) if new.partitioned_by.is_some() && old.partitioned_by.is_none() => {
                let referencing = referencing(current, name);
                super::convert::to_partitioned(
                    name,
                    old,
                    new,
                    schema_of(schemas, name),
                    &referencing,
                    &mut steps,
                    &mut refusals,
                );
            }
            Some(new) if new.partitioned_by != old.partitioned_by => {
                refusals.by_hand.push(format!(
                    "\"{name}\" is partitioned by {} in the entity and by {} in the database: \
                     PostgreSQL cannot change how a table is partitioned in place. Create the new \
                     table beside the old one under another name, make the application write both, \
                     copy the old rows over in batches, then swap the names in one transaction",
                    new.partitioned_by.as_deref().unwrap_or("nothing"),
                    old.partitioned_by.as_deref().unwrap_or("nothing"),
                ));
            }
            Some(new) => alter_table(
                name,
                old,
                new,
                schema_of(schemas, name),
                history_of(schemas, name),
                &mut steps,
                &mut refusals,
            ),
        }
    }
    let dropped_functions = functions_and_triggers(current, desired, &mut steps);
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
        // Types last: after the tables and columns that used them.
        for (name, values) in &current.enums {
            if !desired.enums.contains_key(name) {
                steps
                    .contract
                    .up
                    .push(format!("DROP TYPE {}", table_ident(name)));
                steps.contract.down.push(create_enum(name, values));
            }
        }
    }
    // Functions after the tables whose triggers called them.
    for (signature, definition) in &dropped_functions {
        steps.contract.up.push(format!("DROP FUNCTION {signature}"));
        steps.contract.down.push(definition.trim_end().to_owned());
    }
    let mut all = [
        steps.types,
        steps.expand,
        steps.index,
        steps.backfill,
        steps.contract,
        steps.validate,
        steps.contract_index,
    ];
    // Downs undo in reverse order.
    for step in &mut all {
        step.down.reverse();
    }
    Ok(all.into_iter().filter(|s| !s.up.is_empty()).collect())
}

/// Native enum types: new ones created first in the expand phase, values
/// added in a step of their own before it (in their sort position);
/// removed or reordered values refused (PostgreSQL cannot), and dropped
/// types are destructive.
fn enum_types(current: &Catalog, desired: &Catalog, steps: &mut Steps, refusals: &mut Refusals) {
    for (name, values) in &desired.enums {
        let Some(old) = current.enums.get(name) else {
            steps.expand.up.push(create_enum(name, values));
            // Downs run reversed: this drop comes after the tables'.
            steps
                .expand
                .down
                .push(format!("DROP TYPE {}", table_ident(name)));
            continue;
        };
        if old == values {
            continue;
        }
        let kept: Vec<&String> = values.iter().filter(|v| old.contains(v)).collect();
        if kept.len() != old.len() || !kept.iter().zip(old).all(|(a, b)| *a == b) {
            refusals.by_hand.push(format!(
                "change the values of enum type \"{name}\" from ({}) to ({}): PostgreSQL cannot remove or \
                 reorder an enum's values (write it by hand: create the new type, move each column with \
                 ALTER COLUMN ... TYPE new_type USING column::text::new_type, drop the old type and rename the new)",
                old.join(", "),
                values.join(", ")
            ));
            continue;
        }
        for (i, value) in values.iter().enumerate() {
            if old.contains(value) {
                continue;
            }
            // Left to right, the value before is there already; a value
            // added first goes before the first old one.
            let place = match i.checked_sub(1).map(|p| &values[p]) {
                Some(before) => format!("AFTER {}", quote_literal(before)),
                None => format!("BEFORE {}", quote_literal(&old[0])),
            };
            steps.types.up.push(format!(
                "ALTER TYPE {} ADD VALUE IF NOT EXISTS {} {place}",
                table_ident(name),
                quote_literal(value)
            ));
        }
    }
    for name in current.enums.keys() {
        if !desired.enums.contains_key(name) {
            refusals.destructive.push(format!("drop type \"{name}\""));
        }
    }
}

/// Functions and triggers (a history's): new and changed functions
/// replaced in the expand phase, then new and changed triggers made (a
/// changed one dropped first), triggers gone dropped — all in the expand
/// phase, once their tables and columns are there. Returns the functions
/// gone, which the contract phase drops after the tables (and triggers)
/// that called them.
fn functions_and_triggers<'c>(
    current: &'c Catalog,
    desired: &Catalog,
    steps: &mut Steps,
) -> Vec<(&'c String, &'c String)> {
    for (signature, definition) in &desired.functions {
        match current.functions.get(signature) {
            Some(old) if old == definition => {}
            old => {
                steps.expand.up.push(definition.trim_end().to_owned());
                // Downs run reversed: put back the old body, or drop it
                // once its triggers are gone.
                steps.expand.down.push(match old {
                    Some(old) => old.trim_end().to_owned(),
                    None => format!("DROP FUNCTION {signature}"),
                });
            }
        }
    }
    for (name, table) in &desired.tables {
        let old = current.tables.get(name);
        for (trigger, definition) in &table.triggers {
            let before = old.and_then(|t| t.triggers.get(trigger));
            if before == Some(definition) {
                continue;
            }
            let drop = format!(
                "DROP TRIGGER {} ON {}",
                quote_ident(trigger),
                table_ident(name)
            );
            if let Some(before) = before {
                steps.expand.up.push(drop.clone());
                steps.expand.up.push(definition.clone());
                steps.expand.down.push(before.clone());
                steps.expand.down.push(drop);
            } else {
                steps.expand.up.push(definition.clone());
                steps.expand.down.push(drop);
            }
        }
    }
    for (name, table) in &current.tables {
        let Some(new) = desired.tables.get(name) else {
            continue;
        };
        for (trigger, definition) in &table.triggers {
            if !new.triggers.contains_key(trigger) {
                steps.expand.up.push(format!(
                    "DROP TRIGGER {} ON {}",
                    quote_ident(trigger),
                    table_ident(name)
                ));
                steps.expand.down.push(definition.clone());
            }
        }
    }
    current
        .functions
        .iter()
        .filter(|(signature, _)| !desired.functions.contains_key(*signature))
        .collect()
}

/// `CREATE TYPE` of a catalog's enum type.
fn create_enum(name: &str, values: &[String]) -> String {
    ddl::create_enum_sql(&table_ident(name), values)
}

/// The tables of `catalog` with a foreign key to the table `name` (itself
/// included).
fn referencing<'c>(catalog: &'c Catalog, name: &str) -> Vec<&'c str> {
    let bare = name.rsplit('.').next().unwrap_or(name);
    let targets = [
        format!("REFERENCES {name}("),
        format!("REFERENCES {}(", quote_ident(bare)),
        format!("REFERENCES {bare}("),
    ];
    catalog
        .tables
        .iter()
        .filter(|(_, t)| {
            t.constraints
                .values()
                .any(|c| c.kind == 'f' && targets.iter().any(|r| c.definition.contains(r.as_str())))
        })
        .map(|(other, _)| other.as_str())
        .collect()
}

/// The entity whose table a catalog names `name` (`users`, `auth.sessions`).
fn schema_of(schemas: &[&'static TableSchema], name: &str) -> Option<&'static TableSchema> {
    schemas.iter().copied().find(|s| s.qualified_name() == name)
}

/// The entity whose row history the catalog's table `name` is.
fn history_of(schemas: &[&'static TableSchema], name: &str) -> Option<&'static TableSchema> {
    schemas.iter().copied().find(|s| {
        s.history
            && match s.schema {
                Some(schema) => {
                    name == format!("{schema}.{}", crate::sql::history::history_name(s))
                }
                None => name == crate::sql::history::history_name(s),
            }
    })
}

/// A catalog's table name as statements write it: `"users"`,
/// `"auth"."sessions"`.
pub(super) use crate::ddl::catalog_ident as table_ident;

/// An index of the catalog's table `table`, qualified with the table's
/// schema (an index lives beside its table).
pub(super) fn index_ident(table: &str, index: &str) -> String {
    ddl::qualified(table.split_once('.').map(|(s, _)| s), index)
}

/// Creates the new tables the way the first migration does: the entities'
/// from the entities (their schemas first, referenced tables before
/// referencing ones), then the others (a history's table) from the
/// catalog.
fn create_new_tables(
    tables: &[(&String, &Table)],
    schemas: &[&'static TableSchema],
) -> Vec<String> {
    let (with_entity, without): (Vec<_>, Vec<_>) = tables
        .iter()
        .copied()
        .partition(|(name, _)| schema_of(schemas, name).is_some());
    let ordered = SchemaDdl::new(schemas).ok().map(|all| {
        all.tables()
            .iter()
            .copied()
            .filter(|t| {
                with_entity
                    .iter()
                    .any(|(name, _)| t.qualified_name() == **name)
            })
            .collect::<Vec<&'static TableSchema>>()
    });
    let mut out = Vec::new();
    match ordered {
        Some(ordered) if ordered.len() == with_entity.len() => {
            let mut created: Vec<&str> = Vec::new();
            for t in &ordered {
                if let Some(s) = t.schema.filter(|s| !created.contains(s)) {
                    created.push(s);
                    out.push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(s)));
                }
            }
            for t in ordered {
                out.extend(
                    super::split::statements(&ddl::create_table(t))
                        .into_iter()
                        .map(str::to_owned),
                );
            }
        }
        _ => out.extend(create_tables(&with_entity)),
    }
    out.extend(create_tables(&without));
    out
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

pub(super) fn column_definition(name: &str, c: &Column) -> String {
    let mut def = format!("{} {}", quote_ident(name), c.sql_type);
    if c.identity {
        def.push_str(" GENERATED ALWAYS AS IDENTITY");
    }
    if c.not_null {
        def.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        def.push_str(" DEFAULT ");
        def.push_str(d);
    }
    def
}

/// `COMMENT ON` the table `name` (as the catalog names it) and its columns.
pub(super) fn comments(name: &str, table: &Table) -> Vec<String> {
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

/// What [`alter_table`] found it must not write: drops without
/// permission, changes to write by hand, NOT NULL columns with no value.
#[derive(Default)]
pub(super) struct Refusals {
    pub(super) destructive: Vec<String>,
    pub(super) by_hand: Vec<String>,
    pub(super) needs_value: Vec<String>,
}
