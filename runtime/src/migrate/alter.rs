//! One table's change, from the catalog the migrations build to the one
//! the entities build: renames, columns added or changed (defaults, NOT
//! NULL through a validated check), constraints and indexes, comments.

use std::collections::BTreeMap;

use super::catalog::{Column, Constraint, Table};
use super::diff::{index_ident, table_ident, Refusals, Step, Steps};
use super::row_security::alter_row_security;
use crate::ddl::{self, quote_ident, quote_literal};
use crate::schema::TableSchema;

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

/// The steps that turn table `name` from `old` (what the migrations built)
/// into `new` (what the entities build), one change at a time, in the order
/// they must run.
pub(super) fn alter_table(
    name: &str,
    old: &Table,
    new: &Table,
    schema: Option<&'static TableSchema>,
    history_of: Option<&'static TableSchema>,
    steps: &mut Steps,
    refusals: &mut Refusals,
) {
    let mut table = Alter {
        name,
        t: table_ident(name),
        old,
        new,
        schema,
        history_of,
        renamed: BTreeMap::new(),
        renamed_objects: Vec::new(),
        tightened: Vec::new(),
    };
    table.rename_columns(&mut steps.expand);
    table.tighten_foreign_keys(steps);
    table.rename_or_drop_constraints(&mut steps.expand);
    table.rename_or_drop_indexes(steps);
    table.columns(steps, refusals);
    table.dropped_columns(steps, refusals);
    table.new_constraints(steps);
    table.new_indexes(steps);
    table.comment(&mut steps.expand);
    alter_row_security(
        &table.t,
        old,
        new,
        schema,
        &mut steps.expand,
        &mut steps.contract,
    );
}

/// One table being changed, and what the changes before learnt.
struct Alter<'a> {
    /// The catalog's name of the table (`users`, `auth.sessions`).
    name: &'a str,
    /// The table as statements write it.
    t: String,
    old: &'a Table,
    new: &'a Table,
    /// The entity, when one describes the table: it renders what is added.
    schema: Option<&'static TableSchema>,
    /// The entity whose row history the table is: its renames are the
    /// history's too.
    history_of: Option<&'static TableSchema>,
    /// Columns renamed with `renamed_from`: old name -> new name.
    renamed: BTreeMap<&'static str, &'static str>,
    /// Constraints and indexes renamed rather than rebuilt.
    renamed_objects: Vec<&'a str>,
    /// Foreign keys made composite within a tenant.
    tightened: Vec<&'a str>,
}

impl<'a> Alter<'a> {
    /// The column `name` had before this change (under its old name, when
    /// it was renamed).
    fn old_column(&self, name: &str) -> Option<&'a Column> {
        let from = self
            .renamed
            .iter()
            .find(|(_, to)| **to == name)
            .map_or(name, |(from, _)| *from);
        self.old.columns.get(from)
    }

    /// Renames declared with `renamed_from`.
    fn rename_columns(&mut self, change: &mut Step) {
        let (t, old, new) = (&self.t, self.old, self.new);
        let Some(schema) = self.schema.or(self.history_of) else {
            return;
        };
        for c in schema.columns {
            let Some(from) = c.renamed_from else { continue };
            if old.columns.contains_key(from)
                && !old.columns.contains_key(c.name)
                && new.columns.contains_key(c.name)
            {
                self.renamed.insert(from, c.name);
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

    /// Foreign keys that become composite within a tenant: the new key
    /// implies the old one, so the old one stays until the new one is
    /// validated (no window without a key), then gives it its name.
    fn tighten_foreign_keys(&mut self, steps: &mut Steps) {
        let (old, new, schema) = (self.old, self.new, self.schema);
        self.tightened = old
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
        for cname in &self.tightened {
            tighten_foreign_key(
                &self.t,
                cname,
                &old.constraints[*cname],
                schema,
                &mut steps.contract,
                &mut steps.validate,
            );
        }
    }

    /// Constraints whose definitions match a new one's but for renamed
    /// columns and their own name are renamed (no scan); the rest that go
    /// away or change are dropped first, so the column changes after them
    /// never trip over them.
    fn rename_or_drop_constraints(&mut self, change: &mut Step) {
        let (t, old, new) = (&self.t, self.old, self.new);
        for (cname, c) in &old.constraints {
            if new.constraints.get(cname) == Some(c) || self.tightened.contains(&cname.as_str()) {
                continue;
            }
            let successor = new.constraints.iter().find(|(n, nc)| {
                !old.constraints.contains_key(*n)
                    && nc.kind == c.kind
                    && same_after_renames(&c.definition, &nc.definition, &self.renamed)
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
                self.renamed_objects.push(nname);
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
    }

    /// Indexes renamed the same way (no rebuild); the rest that go away or
    /// change are dropped in the contract phase (the previous version may
    /// lean on them).
    fn rename_or_drop_indexes(&mut self, steps: &mut Steps) {
        let (name, old, new) = (self.name, self.old, self.new);
        for (iname, def) in &old.indexes {
            if new.indexes.get(iname) == Some(def) {
                continue;
            }
            let successor = new.indexes.iter().find(|(n, ndef)| {
                let mut names: BTreeMap<&str, &str> =
                    self.renamed.iter().map(|(a, b)| (*a, *b)).collect();
                names.insert(iname.as_str(), n.as_str());
                !old.indexes.contains_key(*n) && same_after_renames(def, ndef, &names)
            });
            if let Some((nname, _)) = successor {
                steps.expand.up.push(format!(
                    "ALTER INDEX {} RENAME TO {}",
                    index_ident(name, iname),
                    quote_ident(nname)
                ));
                steps.expand.down.push(format!(
                    "ALTER INDEX {} RENAME TO {}",
                    index_ident(name, nname),
                    quote_ident(iname)
                ));
                self.renamed_objects.push(nname);
                continue;
            }
            steps
                .contract_index
                .up
                .push(self.drop_index(&index_ident(name, iname)));
            steps.contract_index.down.push(self.build_index(def));
        }
    }

    /// Each column of the new table: added, or changed.
    fn columns(&self, steps: &mut Steps, refusals: &mut Refusals) {
        for (cname, col) in &self.new.columns {
            // The entity's column renders what is added or changed.
            let entity = self.schema.and_then(|s| s.column(cname));
            match self.old_column(cname) {
                None => self.added_column(cname, col, entity, steps, refusals),
                Some(prev) => self.changed_column(cname, prev, col, entity, steps, refusals),
            }
        }
    }

    /// A new column: added nullable (no table rewrite, no scan), or NOT
    /// NULL at once when a constant default — its own, or its backfill
    /// value standing in — fills every row; otherwise NOT NULL comes after,
    /// in steps, or the column is refused when nothing would fill it.
    fn added_column(
        &self,
        cname: &str,
        col: &Column,
        entity: Option<&'static crate::schema::Column>,
        steps: &mut Steps,
        refusals: &mut Refusals,
    ) {
        let (t, name) = (&self.t, self.name);
        let q = quote_ident(cname);
        let sql_type = match (self.schema, entity) {
            (Some(schema), Some(c)) => schema.column_type(c).into_owned(),
            _ => col.sql_type.clone(),
        };
        let mut def = format!("{q} {sql_type}");
        let default = rendered_default(entity, col);
        // A default read from the session (`tenant_id`) leaves the rows
        // already there NULL: they need a backfill.
        let filled = match entity {
            Some(c) => c.default.is_some_and(|d| d.fills_existing_rows()),
            None => default.as_deref().is_some_and(cheap_default),
        };
        // A NOT NULL column no default of its own fills: its typed
        // backfill value stands in as its default from the expand phase. A
        // constant default fills every row at once, with no rewrite since
        // PostgreSQL 11, so NOT NULL holds at once too: the rows already
        // there and the previous release's inserts get the value, and the
        // release rolling out never reads NULL. The contract phase gives
        // the column its own default back (or none).
        let stand_in = entity
            .and_then(|c| c.backfill)
            .filter(|b| col.not_null && !filled && b.fills_existing_rows())
            .map(|b| b.sql().into_owned());
        if let Some(value) = &stand_in {
            def.push_str(&format!(" DEFAULT {value} NOT NULL"));
            steps.contract.up.push(match &default {
                Some(d) => format!("ALTER TABLE {t} ALTER COLUMN {q} SET DEFAULT {d}"),
                None => format!("ALTER TABLE {t} ALTER COLUMN {q} DROP DEFAULT"),
            });
            steps.contract.down.push(format!(
                "ALTER TABLE {t} ALTER COLUMN {q} SET DEFAULT {value}"
            ));
        } else if let Some(d) = default.as_ref().filter(|d| cheap_default(d)) {
            def.push_str(" DEFAULT ");
            def.push_str(d);
            if col.not_null && filled {
                def.push_str(" NOT NULL");
            }
        }
        steps
            .expand
            .up
            .push(format!("ALTER TABLE {t} ADD COLUMN {def}"));
        steps
            .expand
            .down
            .push(format!("ALTER TABLE {t} DROP COLUMN {q}"));
        if col.not_null && !filled && stand_in.is_none() {
            if entity.is_some_and(|c| c.backfill.is_none()) && default.is_none() {
                // Nothing would give the rows a value before the new
                // release reads them.
                refusals.needs_value.push(format!("{name}.{cname}"));
            } else {
                set_not_null(t, name, cname, entity, steps);
            }
        }
        if let Some(c) = &col.comment {
            steps
                .expand
                .up
                .push(format!("COMMENT ON COLUMN {t}.{q} IS {}", quote_literal(c)));
        }
    }

    /// A column that was there: its type (refused: a rewrite), default,
    /// nullability and comment.
    fn changed_column(
        &self,
        cname: &str,
        prev: &Column,
        col: &Column,
        entity: Option<&'static crate::schema::Column>,
        steps: &mut Steps,
        refusals: &mut Refusals,
    ) {
        let (t, name) = (&self.t, self.name);
        let q = quote_ident(cname);
        if prev.sql_type != col.sql_type {
            refusals.by_hand.push(format!(
                "change the type of \"{name}\".\"{cname}\" from {} to {} (rewrites the table: write it by hand)",
                prev.sql_type, col.sql_type
            ));
        }
        if prev.default != col.default {
            let set = |default: Option<&str>| match default {
                Some(d) => format!("ALTER TABLE {t} ALTER COLUMN {q} SET DEFAULT {d}"),
                None => format!("ALTER TABLE {t} ALTER COLUMN {q} DROP DEFAULT"),
            };
            steps
                .expand
                .up
                .push(set(rendered_default(entity, col).as_deref()));
            steps.expand.down.push(set(prev.default.as_deref()));
        }
        if prev.not_null && !col.not_null {
            steps
                .expand
                .up
                .push(format!("ALTER TABLE {t} ALTER COLUMN {q} DROP NOT NULL"));
            steps
                .expand
                .down
                .push(format!("ALTER TABLE {t} ALTER COLUMN {q} SET NOT NULL"));
        } else if !prev.not_null && col.not_null {
            set_not_null(t, name, cname, entity, steps);
        }
        if prev.comment != col.comment {
            steps.expand.up.push(format!(
                "COMMENT ON COLUMN {t}.{q} IS {}",
                comment_text(&col.comment)
            ));
            steps.expand.down.push(format!(
                "COMMENT ON COLUMN {t}.{q} IS {}",
                comment_text(&prev.comment)
            ));
        }
    }

    /// Columns the entities no longer have: dropped in the contract phase,
    /// with permission only.
    fn dropped_columns(&self, steps: &mut Steps, refusals: &mut Refusals) {
        let (t, name) = (&self.t, self.name);
        for (cname, col) in &self.old.columns {
            if self.new.columns.contains_key(cname) || self.renamed.contains_key(cname.as_str()) {
                continue;
            }
            refusals
                .destructive
                .push(format!("drop column \"{name}\".\"{cname}\""));
            let q = quote_ident(cname);
            if col.not_null && col.default.is_none() {
                // The new version inserts without it: it must take NULLs
                // while the old version still reads it. No down: once the
                // contract dropped it, it comes back empty, so nullable.
                steps
                    .expand
                    .up
                    .push(format!("ALTER TABLE {t} ALTER COLUMN {q} DROP NOT NULL"));
            }
            steps
                .contract
                .up
                .push(format!("ALTER TABLE {t} DROP COLUMN IF EXISTS {q}"));
            // The down brings the column back empty (nullable: its values
            // are gone).
            steps
                .contract
                .down
                .push(format!("ALTER TABLE {t} ADD COLUMN {q} {}", col.sql_type));
        }
    }

    /// Constraints that are new or changed: added `NOT VALID` (no scan
    /// under the lock) once the previous version, which may break them,
    /// is gone, and validated in the next step.
    fn new_constraints(&self, steps: &mut Steps) {
        let t = &self.t;
        for (cname, c) in &self.new.constraints {
            if self.old.constraints.get(cname) == Some(c)
                || self.renamed_objects.contains(&cname.as_str())
                || self.tightened.contains(&cname.as_str())
            {
                continue;
            }
            let q = quote_ident(cname);
            let definition = self
                .schema
                .and_then(|s| ddl::constraints(s).into_iter().find(|(n, _)| n == cname))
                .map_or_else(|| c.definition.clone(), |(_, d)| d);
            match c.kind {
                'c' | 'f' => {
                    steps.contract.up.push(format!(
                        "ALTER TABLE {t} ADD CONSTRAINT {q} {definition} NOT VALID"
                    ));
                    steps
                        .validate
                        .up
                        .push(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {q}"));
                }
                _ => steps
                    .contract
                    .up
                    .push(format!("ALTER TABLE {t} ADD CONSTRAINT {q} {definition}")),
            }
            steps
                .contract
                .down
                .push(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {q}"));
        }
    }

    /// Indexes that are new or changed, built concurrently: a new plain
    /// index only helps the previous version, and so does a unique one
    /// holding `id` (no row can break it: a tenant's `(tenant_id, id)`,
    /// which composite keys need before the contract adds them), so both go
    /// in the expand phase; another unique one, or a changed one (dropped
    /// before), waits for the contract.
    fn new_indexes(&self, steps: &mut Steps) {
        let (name, old, schema) = (self.name, self.old, self.schema);
        for (iname, def) in &self.new.indexes {
            if old.indexes.get(iname) == Some(def) || self.renamed_objects.contains(&iname.as_str())
            {
                continue;
            }
            let holds_id = schema
                .and_then(|s| s.indexes.iter().find(|i| i.name == iname))
                .is_some_and(|i| {
                    i.columns
                        .iter()
                        .any(|c| c.name == "id" && c.function.is_none())
                });
            let harmless = def.starts_with("CREATE INDEX") || holds_id;
            let step = if harmless && !old.indexes.contains_key(iname) {
                &mut steps.index
            } else {
                &mut steps.contract_index
            };
            if !old.indexes.contains_key(iname) {
                // A failed concurrent build leaves an invalid index behind
                // under this name; dropping it first makes a re-run rebuild.
                step.up.push(self.drop_index(&index_ident(name, iname)));
            }
            let rendered = schema
                .and_then(|s| {
                    let index = s.indexes.iter().find(|i| i.name == iname)?;
                    Some(ddl::create_index(s, index))
                })
                .unwrap_or_else(|| def.clone());
            step.up.push(self.build_index(&rendered));
            step.down.push(self.drop_index(&index_ident(name, iname)));
        }
    }

    /// Builds an index as `pg_get_indexdef` writes it: concurrently, or —
    /// on a partitioned table, where PostgreSQL cannot — in one statement
    /// that builds it on every partition (holding off writes meanwhile).
    fn build_index(&self, def: &str) -> String {
        if self.new.partitioned_by.is_some() {
            // `pg_get_indexdef` writes a partitioned index `ON ONLY` the
            // parent; built so, it would cover no partition.
            def.replacen(" ON ONLY ", " ON ", 1)
                .replacen(
                    "CREATE UNIQUE INDEX ",
                    "CREATE UNIQUE INDEX IF NOT EXISTS ",
                    1,
                )
                .replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
        } else {
            concurrently(def)
        }
    }

    /// Drops an index: concurrently, unless the table is partitioned.
    fn drop_index(&self, index: &str) -> String {
        if self.new.partitioned_by.is_some() {
            format!("DROP INDEX IF EXISTS {index}")
        } else {
            format!("DROP INDEX CONCURRENTLY IF EXISTS {index}")
        }
    }

    /// The table's comment.
    fn comment(&self, change: &mut Step) {
        let t = &self.t;
        if self.old.comment != self.new.comment {
            change.up.push(format!(
                "COMMENT ON TABLE {t} IS {}",
                comment_text(&self.new.comment)
            ));
            change.down.push(format!(
                "COMMENT ON TABLE {t} IS {}",
                comment_text(&self.old.comment)
            ));
        }
    }
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
pub(super) fn short_name(name: &str) -> String {
    let mut name = name.to_owned();
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// `SET NOT NULL` without a long lock: a `CHECK (col IS NOT NULL) NOT VALID`
/// now, then (next step) validate it, set NOT NULL (which trusts the valid
/// check instead of scanning) and drop the check.
fn set_not_null(
    t: &str,
    table: &str,
    column: &str,
    entity: Option<&crate::schema::Column>,
    steps: &mut Steps,
) {
    let Steps {
        backfill,
        contract,
        validate,
        ..
    } = steps;
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
