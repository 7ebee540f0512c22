//! Making an existing plain table time-partitioned without downtime, as
//! migration steps: PostgreSQL cannot partition a table in place, so the
//! rows move to a new partitioned table while the application keeps
//! writing the old one.
//!
//! - **expand**: the partitioned table `<name>_partitioned`, built as the
//!   entity describes it (its primary key and indexes under temporary
//!   names, the old table holding theirs), partitions from the oldest id's
//!   period to one period past the newest, and a trigger copying every
//!   insert, update and delete of the old table into it. The old table
//!   stops binding its owner to row-level security, so the owner's
//!   backfill reads every tenant's rows (the application's role stays
//!   bound).
//! - **backfill**: the old rows — up to the newest id when the trigger
//!   took over — copied in batches of ids, each row locked
//!   `FOR KEY SHARE` while its batch copies it, so a delete racing the copy
//!   waits and its trigger removes the copied row; then a check that no
//!   row is missing.
//! - **contract**: in one transaction, the old table's grants copied, the
//!   old table dropped, the new one renamed to its name, its primary key
//!   and indexes renamed to theirs, row-level security switched on. Prepared
//!   statements of running instances re-plan against the new table by
//!   name.
//!
//! A table that other tables reference by foreign key, that has history or
//! triggers, or whose columns change at the same time is refused: those
//! are a conversion to write by hand.

use super::alter::short_name;
use super::catalog::Table;
use super::diff::{column_definition, comments, index_ident, table_ident, Refusals, Steps};
use super::row_security::row_security_switches;
use crate::ddl::{self, quote_ident, quote_literal};
use crate::inspect::RowSecurity;
use crate::schema::{Partitioning, Period, PeriodUnit, TableSchema};

/// More partitions than this for the old rows means their ids do not carry
/// their time (random UUIDv4 ids span every millisecond since 1970).
pub(super) const MAX_PARTITIONS: u32 = 1000;

/// Adds the steps converting the plain table `name` (`old`) into the
/// partitioned `new`, or says why it must be done by hand.
pub(super) fn to_partitioned(
    name: &str,
    old: &Table,
    new: &Table,
    schema: Option<&'static TableSchema>,
    referencing: &[&str],
    steps: &mut Steps,
    refusals: &mut Refusals,
) {
    let by_hand = |why: String| {
        format!(
            "\"{name}\" is partitioned in the entity and not in the database, and {why}: \
             create the partitioned table beside the old one under another name, make the \
             application write both, copy the old rows over in batches, then swap the names \
             in one transaction"
        )
    };
    let Some(part) = schema.and_then(|s| s.partitioned) else {
        refusals
            .by_hand
            .push(by_hand("no entity says how to partition it".into()));
        return;
    };
    if !referencing.is_empty() {
        refusals.by_hand.push(by_hand(format!(
            "{} reference it by foreign key (each would have to be dropped and added again \
             against the new table)",
            referencing.join(", ")
        )));
        return;
    }
    if !old.triggers.is_empty() || !new.triggers.is_empty() {
        refusals
            .by_hand
            .push(by_hand("it has triggers (a history or an outbox)".into()));
        return;
    }
    let same_columns = old.columns.len() == new.columns.len()
        && old.columns.iter().all(|(c, o)| {
            new.columns
                .get(c)
                .is_some_and(|n| n.sql_type == o.sql_type && n.identity == o.identity)
        });
    if !same_columns {
        refusals.by_hand.push(by_hand(
            "its columns change too (convert it with the columns as they are, then change them \
             in a later migration)"
                .into(),
        ));
        return;
    }
    let plan = Conversion::new(name, new, part);
    steps.expand.up.extend(plan.expand(old, new));
    steps.expand.down.extend(plan.expand_down(old));
    steps.backfill.up.extend(plan.backfill());
    steps.contract.up.extend(plan.swap(new));
    steps.contract.down.push(plan.swap_down());
}

/// The names one conversion works with.
struct Conversion<'a> {
    /// The table, as the catalog names it (`events`, `audit.events`).
    name: &'a str,
    /// The table, as SQL writes it.
    t: String,
    /// Its bare name (no schema).
    bare: &'a str,
    /// Its PostgreSQL schema, when not `public`.
    pg_schema: Option<&'a str>,
    /// The new partitioned table, as SQL writes it, and its bare name.
    shadow: String,
    shadow_bare: String,
    /// The copying trigger and its function.
    trigger: String,
    function: String,
    /// The function answering the newest id the backfill copies.
    bound: String,
    /// Columns in the table's order, quoted.
    columns: Vec<String>,
    part: &'static Partitioning,
}

impl<'a> Conversion<'a> {
    fn new(name: &'a str, new: &Table, part: &'static Partitioning) -> Self {
        let (pg_schema, bare) = match name.split_once('.') {
            Some((s, b)) => (Some(s), b),
            None => (None, name),
        };
        let shadow_bare = ddl::conversion_table(bare);
        let trigger = short_name(&format!("{bare}_to_partitioned"));
        let mut columns: Vec<(&String, i16)> = new
            .columns
            .iter()
            .map(|(c, col)| (c, col.position))
            .collect();
        columns.sort_by_key(|(_, p)| *p);
        Conversion {
            name,
            t: table_ident(name),
            bare,
            pg_schema,
            shadow: ddl::qualified(pg_schema, &shadow_bare),
            shadow_bare,
            function: ddl::qualified(pg_schema, &trigger),
            bound: ddl::qualified(pg_schema, &short_name(&format!("{bare}_copy_up_to"))),
            trigger: quote_ident(&trigger),
            columns: columns.into_iter().map(|(c, _)| quote_ident(c)).collect(),
            part,
        }
    }

    /// The partitioned table, its partitions and the copying trigger.
    fn expand(&self, old: &Table, new: &Table) -> Vec<String> {
        let (t, shadow) = (&self.t, &self.shadow);
        let mut out = self.create_shadow(new);
        // First: reading the old table's ids below is the owner's, which a
        // forced policy would show none (the runner refuses such a read).
        if old.row_security.forced {
            out.push(ddl::force_row_security(t, false));
        }
        out.push(self.partitions());
        // Rows the old table gets by hand without an id take one of now,
        // as in the new table: a random one would fit no partition.
        if let Some(default) = new.columns.get("id").and_then(|c| c.default.as_ref()) {
            out.push(format!(
                "ALTER TABLE {t} ALTER COLUMN \"id\" SET DEFAULT {default}"
            ));
        }
        let cols = self.columns.join(", ");
        let news: Vec<String> = self.columns.iter().map(|c| format!("NEW.{c}")).collect();
        let excluded: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("EXCLUDED.{c}"))
            .collect();
        // SECURITY DEFINER: the application's role writes the old table
        // only; the owner writes the new one for it.
        out.push(format!(
            "CREATE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER \
             SET search_path = pg_catalog, public AS $convert$\n\
             BEGIN\n\
             \x20   IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.\"id\" <> OLD.\"id\") THEN\n\
             \x20       DELETE FROM {shadow} WHERE \"id\" = OLD.\"id\";\n\
             \x20   END IF;\n\
             \x20   IF TG_OP <> 'DELETE' THEN\n\
             \x20       INSERT INTO {shadow} ({cols}) VALUES ({news})\n\
             \x20       ON CONFLICT (\"id\") DO UPDATE SET ({cols}) = ROW({excluded});\n\
             \x20   END IF;\n\
             \x20   RETURN NULL;\n\
             END\n\
             $convert$",
            f = self.function,
            news = news.join(", "),
            excluded = excluded.join(", "),
        ));
        out.push(format!(
            "CREATE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {t} \
             FOR EACH ROW EXECUTE FUNCTION {}()",
            self.trigger, self.function
        ));
        // The newest id when the trigger took over (it waited for every
        // writer already under way): the backfill copies up to it, the
        // trigger everything after.
        out.push(format!(
            "DO $convert$\n\
             BEGIN\n\
             \x20   EXECUTE format('CREATE FUNCTION {bound}() RETURNS uuid LANGUAGE sql IMMUTABLE AS %L',\n\
             \x20       format('SELECT %L::uuid', (SELECT \"id\" FROM {t} ORDER BY \"id\" DESC LIMIT 1)));\n\
             END\n\
             $convert$",
            bound = self.bound.replace('\'', "''"),
        ));
        out
    }

    /// What undoes [`expand`](Self::expand), in the reverse of the order
    /// it runs (the step's down statements run last first).
    fn expand_down(&self, old: &Table) -> Vec<String> {
        let mut out = Vec::new();
        if old.row_security.forced {
            out.push(ddl::force_row_security(&self.t, true));
        }
        match old.columns.get("id").and_then(|c| c.default.as_ref()) {
            Some(default) => out.push(format!(
                "ALTER TABLE {} ALTER COLUMN \"id\" SET DEFAULT {default}",
                self.t
            )),
            None => out.push(format!(
                "ALTER TABLE {} ALTER COLUMN \"id\" DROP DEFAULT",
                self.t
            )),
        }
        out.push(format!("DROP TABLE IF EXISTS {}", self.shadow));
        out.push(format!("DROP FUNCTION IF EXISTS {}()", self.bound));
        out.push(format!("DROP FUNCTION IF EXISTS {}()", self.function));
        out.push(format!(
            "DROP TRIGGER IF EXISTS {} ON {}",
            self.trigger, self.t
        ));
        out
    }

    /// The swap's down: refused, saying why.
    fn swap_down(&self) -> String {
        format!(
            "DO $convert$\n\
             BEGIN\n\
             \x20   RAISE EXCEPTION 'making {name} partitioned cannot be reverted: the plain table was dropped when the partitioned one took its name'\n\
             \x20       USING HINT = 'Going back is a migration of its own: a plain table beside this one, its rows copied over, the names swapped.';\n\
             END\n\
             $convert$",
            name = self.bare.replace('\'', "''"),
        )
    }

    /// The new table as the entity describes it: columns, checks and
    /// foreign keys under their own names (a constraint's name is the
    /// table's), the primary key, unique constraints and indexes under
    /// temporary ones (an index's name is the schema's), comments. No
    /// row-level security yet: the owner's backfill writes every tenant's
    /// rows.
    fn create_shadow(&self, new: &Table) -> Vec<String> {
        let shadow = &self.shadow;
        let mut columns: Vec<(&String, &super::catalog::Column)> = new.columns.iter().collect();
        columns.sort_by_key(|(_, c)| c.position);
        let mut lines: Vec<String> = columns
            .iter()
            .map(|(cname, c)| column_definition(cname, c))
            .collect();
        let mut after = Vec::new();
        for (cname, c) in &new.constraints {
            let line = |name: &str| format!("CONSTRAINT {} {}", quote_ident(name), c.definition);
            match c.kind {
                'p' => lines.push(line(&temporary(cname))),
                'u' => after.push(format!(
                    "ALTER TABLE {shadow} ADD {}",
                    line(&temporary(cname))
                )),
                _ => after.push(format!("ALTER TABLE {shadow} ADD {}", line(cname))),
            }
        }
        let by = new.partitioned_by.as_deref().unwrap_or("RANGE (id)");
        let mut out = vec![format!(
            "CREATE TABLE {shadow} (\n    {}\n) PARTITION BY {by}",
            lines.join(",\n    ")
        )];
        out.extend(after);
        for (iname, def) in &new.indexes {
            if let Some(def) = retarget_index(def, &quote_ident(&temporary(iname)), shadow) {
                out.push(def);
            }
        }
        out.extend(comments(&self.shadow_name(), new));
        out
    }

    /// A DO block making the partitions the old rows and the next period's
    /// rows need, counted from the oldest and newest ids.
    fn partitions(&self) -> String {
        let Period { count, unit } = self.part.interval;
        let start = |d: &str| period_start_sql(self.part.interval, d);
        let next = match unit {
            PeriodUnit::Day => format!("make_interval(days => {count})"),
            PeriodUnit::Week => format!("make_interval(days => {})", count * 7),
            PeriodUnit::Month => format!("make_interval(months => {count})"),
            _ => format!("make_interval(months => {})", count * 12),
        };
        let day_of = |id: &str| {
            format!(
                "(to_timestamp(('x' || substr(replace({id}::text, '-', ''), 1, 12))::bit(48)::bigint \
                 / 1000.0) AT TIME ZONE 'UTC')::date"
            )
        };
        let first_id = |d: &str| {
            format!(
                "(lpad(to_hex((extract(epoch FROM {d}::timestamp) * 1000)::bigint), 12, '0') \
                 || '00000000000000000000')"
            )
        };
        let schema_prefix = self
            .pg_schema
            .map(|s| format!("{}.", quote_ident(s)))
            .unwrap_or_default();
        format!(
            "DO $convert$\n\
             DECLARE\n\
             \x20   today date := (now() AT TIME ZONE 'UTC')::date;\n\
             \x20   lo date;\n\
             \x20   hi date;\n\
             \x20   s date;\n\
             \x20   e date;\n\
             \x20   made int := 0;\n\
             BEGIN\n\
             \x20   SELECT coalesce({lo}, today), greatest(coalesce({hi}, today), today) INTO lo, hi\n\
             \x20   FROM (SELECT (SELECT \"id\" FROM {t} ORDER BY \"id\" LIMIT 1) AS oldest,\n\
             \x20                (SELECT \"id\" FROM {t} ORDER BY \"id\" DESC LIMIT 1) AS newest) ids;\n\
             \x20   s := {start_lo};\n\
             \x20   hi := ({start_hi} + {next})::date;\n\
             \x20   WHILE s <= hi LOOP\n\
             \x20       made := made + 1;\n\
             \x20       IF made > {max} THEN\n\
             \x20           RAISE EXCEPTION 'making {name} partitioned needs more than {max} partitions: its ids span % to %', lo, hi\n\
             \x20               USING HINT = 'Partitioning by id needs UUIDv7 ids, which carry their time; ids made otherwise (gen_random_uuid) must be given new ones first.';\n\
             \x20       END IF;\n\
             \x20       e := (s + {next})::date;\n\
             \x20       EXECUTE format('CREATE TABLE IF NOT EXISTS {schema_prefix}%I PARTITION OF {shadow} FOR VALUES FROM (%L) TO (%L)',\n\
             \x20           {bare} || '_p' || to_char(s, 'YYYYMMDD'), {first_s}, {first_e});\n\
             \x20       s := e;\n\
             \x20   END LOOP;\n\
             END\n\
             $convert$",
            lo = day_of("ids.oldest"),
            hi = day_of("ids.newest"),
            t = self.t,
            start_lo = start("lo"),
            start_hi = start("hi"),
            max = MAX_PARTITIONS,
            name = self.bare.replace('\'', "''"),
            shadow = self.shadow.replace('\'', "''"),
            bare = quote_literal(self.bare),
            first_s = first_id("s"),
            first_e = first_id("e"),
        )
    }

    /// The old rows copied in batches of ids, then a check that none is
    /// missing.
    fn backfill(&self) -> Vec<String> {
        let (t, shadow) = (&self.t, &self.shadow);
        let cols = self.columns.join(", ");
        let batch = super::BACKFILL_BATCH;
        vec![
            format!(
                "-- \"{name}\"'s rows copied into {shadow_bare}; a row locked while its batch \
                 copies it.\n\
                 WITH batch AS (SELECT \"id\" FROM {t} WHERE \"id\" > $1 AND \"id\" <= {bound}() ORDER BY \"id\" LIMIT {batch} FOR KEY SHARE),\n\
                 \x20    copied AS (INSERT INTO {shadow} ({cols}) SELECT {cols} FROM {t} WHERE \"id\" IN (SELECT \"id\" FROM batch)\n\
                 \x20               ON CONFLICT (\"id\") DO NOTHING RETURNING 1)\n\
                 SELECT (SELECT \"id\" FROM batch ORDER BY \"id\" DESC LIMIT 1), (SELECT count(*) FROM copied)",
                name = self.bare,
                shadow_bare = self.shadow_bare,
                bound = self.bound,
            ),
            format!(
                "SELECT count(*) AS {} FROM {t} o WHERE NOT EXISTS (SELECT 1 FROM {shadow} n WHERE n.\"id\" = o.\"id\")",
                super::ROWS_LEFT
            ),
        ]
    }

    /// The swap, in one transaction.
    fn swap(&self, new: &Table) -> Vec<String> {
        let (t, shadow) = (&self.t, &self.shadow);
        let mut out = vec![format!("LOCK TABLE {t}, {shadow} IN ACCESS EXCLUSIVE MODE")];
        // The old table's grants, given again on the new one.
        out.push(format!(
            "DO $convert$\n\
             DECLARE\n\
             \x20   g record;\n\
             BEGIN\n\
             \x20   FOR g IN SELECT a.privilege_type, a.grantee FROM pg_class c, aclexplode(c.relacl) a\n\
             \x20            WHERE c.oid = {old}::regclass AND a.grantee <> c.relowner LOOP\n\
             \x20       EXECUTE format('GRANT %s ON {shadow_lit} TO %s', g.privilege_type,\n\
             \x20           CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END);\n\
             \x20   END LOOP;\n\
             END\n\
             $convert$",
            old = quote_literal(t),
            shadow_lit = shadow.replace('\'', "''"),
        ));
        out.push(format!("DROP TABLE {t}"));
        out.push(format!("DROP FUNCTION {}()", self.function));
        out.push(format!("DROP FUNCTION {}()", self.bound));
        out.push(format!(
            "ALTER TABLE {shadow} RENAME TO {}",
            quote_ident(self.bare)
        ));
        for (cname, c) in &new.constraints {
            if matches!(c.kind, 'p' | 'u') {
                out.push(format!(
                    "ALTER TABLE {t} RENAME CONSTRAINT {} TO {}",
                    quote_ident(&temporary(cname)),
                    quote_ident(cname)
                ));
            }
        }
        for iname in new.indexes.keys() {
            out.push(format!(
                "ALTER INDEX {} RENAME TO {}",
                index_ident(self.name, &temporary(iname)),
                quote_ident(iname)
            ));
        }
        out.extend(new.policies.values().map(|p| p.create(t)));
        out.extend(row_security_switches(
            t,
            RowSecurity::default(),
            new.row_security,
        ));
        out
    }

    /// The new table as the catalog names it.
    fn shadow_name(&self) -> String {
        match self.pg_schema {
            Some(s) => format!("{s}.{}", self.shadow_bare),
            None => self.shadow_bare.clone(),
        }
    }
}

/// A name of the new table's own while the old table holds `final_name`.
fn temporary(final_name: &str) -> String {
    short_name(&format!("{final_name}_new"))
}

/// SQL computing the first day of `period`'s period holding the date
/// expression `d`: what [`crate::partition::period_start`] computes.
fn period_start_sql(period: Period, d: &str) -> String {
    let count = period.count.max(1);
    match period.unit {
        PeriodUnit::Day | PeriodUnit::Week => {
            let (origin, days) = if period.unit == PeriodUnit::Day {
                ("DATE '1970-01-01'", count)
            } else {
                ("DATE '1970-01-05'", count * 7)
            };
            format!("({origin} + (floor(({d} - {origin})::numeric / {days}) * {days})::int)")
        }
        _ => {
            let months = if period.unit == PeriodUnit::Month {
                count
            } else {
                count * 12
            };
            format!(
                "(DATE '1970-01-01' + make_interval(months => (floor(((extract(year FROM {d})::int - 1970) * 12 \
                 + extract(month FROM {d})::int - 1)::numeric / {months}) * {months})::int))::date"
            )
        }
    }
}

/// An index definition as `pg_get_indexdef` writes it (`CREATE [UNIQUE]
/// INDEX name ON [ONLY] table USING …`), named `name` on `table` instead.
fn retarget_index(def: &str, name: &str, table: &str) -> Option<String> {
    let (create, rest) = if let Some(rest) = def.strip_prefix("CREATE UNIQUE INDEX ") {
        ("CREATE UNIQUE INDEX", rest)
    } else {
        ("CREATE INDEX", def.strip_prefix("CREATE INDEX ")?)
    };
    let (_, on) = rest.split_once(" ON ")?;
    let (_, using) = on.split_once(" USING ")?;
    Some(format!("{create} {name} ON {table} USING {using}"))
}
