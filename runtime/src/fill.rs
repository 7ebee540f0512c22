//! Rows enough for the planner: every table of a schema filled with
//! generated rows that meet its constraints, then analyzed, so a test
//! table plans like a production one.

use std::fmt::Write as _;

use crate::ddl::{quote_ident, quote_literal, table_ident, SchemaDdl};
use crate::error::{classify, Result};
use crate::schema::{CheckKind, Column, SqlType, TableSchema};

/// Fills each table of `schemas` with `rows` generated rows, referenced
/// tables first, then runs `ANALYZE` on them, so the planner works from
/// statistics of a table of that size rather than of an empty one (for a
/// handful of rows every plan costs the same, and the planner's choice
/// says nothing about production).
///
/// The rows meet the tables' constraints: each foreign key spreads over
/// the referenced rows (row i of every table references the i-th row of
/// each parent, so with as many rows everywhere a unique pair of foreign
/// keys stays unique), enum columns take each of their values in
/// turn, numbers and text stay within their checks, timestamps spread over
/// the past, one row in ten is soft-deleted, and nullable foreign keys are
/// NULL in one row in four. A generated row that would break a unique key
/// of a row already there is left out (`ON CONFLICT DO NOTHING`). Generated with `generate_series` in one
/// statement per table; run it as the tables' owner (or a superuser), so
/// row-level security does not filter the inserts. No value of the
/// application's is involved: the statements carry only the schema's own
/// constants.
///
/// ```no_run
/// # use ordinance::prelude::*;
/// # #[derive(Entity)] pub struct Tag { pub id: Uuid, #[column(max_len = 40)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// # async fn demo(db: &ordinance::testing::TestDatabase) -> ordinance::Result<()> {
/// let conn = db.connect().await?;
/// ordinance::testing::fill(&conn, &[Tag::SCHEMA], 10_000).await?;
/// # Ok(()) }
/// ```
#[cfg(any(feature = "testing", doc))]
pub async fn fill(
    client: &tokio_postgres::Client,
    schemas: &[&'static TableSchema],
    rows: u32,
) -> Result<()> {
    let ordered = SchemaDdl::new(schemas)?;
    for table in ordered.tables() {
        crate::partition::ensure_current(client, table).await?;
        client
            .batch_execute(&insert(table, rows, None))
            .await
            .map_err(|e| classify(e, Some(table), &[]))?;
    }
    let names: Vec<String> = ordered.tables().iter().map(|t| table_ident(t)).collect();
    client
        .batch_execute(&format!("ANALYZE {}", names.join(", ")))
        .await
        .map_err(|e| classify(e, None, &[]))?;
    Ok(())
}

/// [`fill`] on a database whose tables may be another release's: each
/// entity's table the database has is filled through the columns it has
/// there — the entity's values for the columns they share, a value of the
/// column's type for one only the database has (`NOT NULL` without a
/// default), nothing for one only the entity has. How a rehearsal fills
/// the running release's schema from the new release's entities.
#[cfg(any(feature = "tools", doc))]
pub(crate) async fn fill_live(
    client: &tokio_postgres::Client,
    schemas: &[&'static TableSchema],
    rows: u32,
) -> Result<Vec<String>> {
    let database = crate::inspect::Database::read(client).await?;
    let ordered = SchemaDdl::new(schemas)?;
    let mut filled = Vec::new();
    for table in ordered.tables() {
        let name = table.qualified_name();
        let Some(live) = database.tables.iter().find(|t| t.qualified_name() == name) else {
            continue;
        };
        if live.partition_key.is_some() {
            crate::partition::ensure_current(client, table).await?;
        }
        client
            .batch_execute(&insert(table, rows, Some(live)))
            .await
            .map_err(|e| classify(e, Some(table), &[]))?;
        filled.push(name);
    }
    if !filled.is_empty() {
        let names: Vec<String> = filled
            .iter()
            .map(|n| crate::ddl::catalog_ident(n))
            .collect();
        client
            .batch_execute(&format!("ANALYZE {}", names.join(", ")))
            .await
            .map_err(|e| classify(e, None, &[]))?;
    }
    Ok(filled)
}

/// A value of a column only the database has (`NOT NULL`, no default),
/// by its type as `format_type` writes it.
#[cfg(any(feature = "tools", doc))]
fn value_of_type(sql_type: &str) -> String {
    let seed = "md5(g.i::text)";
    match sql_type {
        "uuid" => "gen_random_uuid()".to_owned(),
        "boolean" => "false".to_owned(),
        "smallint" | "integer" | "bigint" => format!("(g.i % 1000)::{sql_type}"),
        "timestamp with time zone" | "timestamp without time zone" => "now()".to_owned(),
        "date" => "current_date".to_owned(),
        "jsonb" | "json" => "'{}'".to_owned(),
        t if t.starts_with("numeric") => "0".to_owned(),
        t if t.ends_with("[]") => "'{}'".to_owned(),
        t if t.starts_with("character varying(") => {
            let n = t
                .trim_start_matches("character varying(")
                .trim_end_matches(')');
            format!("left({seed}, {n})")
        }
        _ => seed.to_owned(),
    }
}

/// `INSERT INTO t (...) SELECT ... FROM generate_series(...)` for one
/// table; through the columns `live` has, when given.
fn insert(table: &TableSchema, rows: u32, live: Option<&crate::inspect::Table>) -> String {
    // A partitioned table's ids carry the time they are made (UUIDv7),
    // so the rows land in the current partition; others are random.
    let id = if table.partitioned.is_some() {
        "(lpad(to_hex(floor(extract(epoch FROM clock_timestamp()) * 1000)::int8), 12, '0') \
         || substr(md5(i::text || random()::text), 1, 20))::uuid"
    } else {
        "gen_random_uuid()"
    };
    let mut from = format!(
        "(SELECT i, {id} AS id FROM generate_series(0, {}) AS s(i)) AS g",
        rows.saturating_sub(1)
    );
    // Each foreign key to another table picks the referenced ids in turn:
    // row i takes the (i mod n)-th. With as many rows in every table, each
    // key is spread over all its parents and a row's keys differ from any
    // other row's, so unique pairs (join entities) stay unique.
    let has = |name: &str| live.is_none_or(|t| t.column(name).is_some());
    let mut parents = Vec::new();
    for (k, fk) in table.foreign_keys.iter().enumerate() {
        if (fk.references_schema, fk.references) == table.key() || !has(fk.column) {
            continue;
        }
        let alias = format!("p{k}");
        let _ = write!(
            from,
            " CROSS JOIN (SELECT array_agg(id ORDER BY id) AS a FROM {}) AS {alias}",
            crate::ddl::qualified(fk.references_schema, fk.references)
        );
        let pick = format!("{alias}.a[1 + g.i % cardinality({alias}.a)]");
        parents.push((fk.column, pick));
    }
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for column in table.columns.iter().filter(|c| has(c.name)) {
        let value = if column.name == "id" {
            "g.id".to_owned()
        } else if let Some(fk) = table.foreign_keys.iter().find(|f| f.column == column.name) {
            if (fk.references_schema, fk.references) == table.key() {
                // Referencing an earlier row of the same statement cannot
                // work; the row itself can.
                if column.nullable {
                    "NULL".to_owned()
                } else {
                    "g.id".to_owned()
                }
            } else {
                let pick = parents
                    .iter()
                    .find(|(c, _)| *c == column.name)
                    .map(|(_, p)| p.clone())
                    .unwrap_or_else(|| "NULL".to_owned());
                if column.nullable {
                    format!("CASE WHEN g.i % 4 = 3 THEN NULL ELSE {pick} END")
                } else {
                    pick
                }
            }
        } else {
            value(table, column)
        };
        columns.push(quote_ident(column.name));
        values.push(value);
    }
    #[cfg(any(feature = "tools", doc))]
    for extra in live.iter().flat_map(|t| &t.columns) {
        if table.column(&extra.name).is_none() && extra.not_null && extra.default.is_none() {
            columns.push(quote_ident(&extra.name));
            values.push(value_of_type(&extra.sql_type));
        }
    }
    format!(
        "INSERT INTO {} ({}) SELECT {} FROM {from} ON CONFLICT DO NOTHING",
        table_ident(table),
        columns.join(", "),
        values.join(", ")
    )
}

/// A generated value for a column that is not a key.
fn value(table: &TableSchema, column: &Column) -> String {
    let checks = || table.checks.iter().filter(|c| c.column == column.name);
    let seed = format!("md5(g.i::text || {})", quote_literal(column.name));
    match column.name {
        "version" => return "1".to_owned(),
        "deleted_at" => return "CASE WHEN g.i % 10 = 9 THEN now() END".to_owned(),
        "tenant_id" if table.tenant => return "md5((g.i % 10)::text)::uuid".to_owned(),
        _ => {}
    }
    if let Some(values) = checks().find_map(|c| match c.kind {
        CheckKind::OneOf(values) if !values.is_empty() => Some(values),
        _ => None,
    }) {
        let list: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
        let pick = format!("(ARRAY[{}])[1 + g.i % {}]", list.join(", "), values.len());
        return match column.sql_type.native_enum() {
            Some(_) => format!("({pick})::{}", column.sql_type),
            None => pick,
        };
    }
    let (mut min, mut max) = (None, None);
    let (mut min_len, mut max_len) = (None, None);
    for check in checks() {
        match check.kind {
            CheckKind::Min(n) => min = Some(n),
            CheckKind::Max(n) => max = Some(n),
            CheckKind::MinLength(n) => min_len = Some(n),
            CheckKind::MaxLength(n) => max_len = Some(n),
            _ => {}
        }
    }
    let integer = |limit: i64| {
        let low = min.unwrap_or(0).max(-limit);
        let high = max.unwrap_or(limit).min(limit);
        format!("({low} + g.i % {})", (high - low + 1).max(1))
    };
    match column.sql_type {
        SqlType::Uuid => format!("{seed}::uuid"),
        SqlType::Text => {
            let mut text = seed;
            if let Some(max) = max_len.filter(|m| *m < 32) {
                text = format!("left({text}, {max})");
            }
            if let Some(min) = min_len.filter(|m| *m > 32) {
                text = format!("rpad({text}, {min}, 'x')");
            }
            text
        }
        SqlType::Boolean => "g.i % 2 = 0".to_owned(),
        SqlType::SmallInt => format!("{}::smallint", integer(i64::from(i16::MAX))),
        SqlType::Integer => format!("{}::integer", integer(i64::from(i32::MAX))),
        SqlType::BigInt => format!("{}::bigint", integer(i64::MAX / 2)),
        SqlType::Numeric { precision, scale } => {
            let digits = match (precision, scale) {
                (Some(p), s) => i32::from(p) - i32::from(s.unwrap_or(0)),
                _ => 6,
            };
            let turn = 10_i64.pow(digits.clamp(0, 6) as u32);
            let low = min.unwrap_or(0).max(0);
            format!("({low} + g.i % {})::numeric", (turn - low).max(1))
        }
        SqlType::Real | SqlType::DoublePrecision => "(g.i::float8 / 7)".to_owned(),
        SqlType::Timestamptz => "now() - make_interval(secs => g.i)".to_owned(),
        SqlType::Date => "current_date - (g.i % 3650)".to_owned(),
        SqlType::Jsonb => "jsonb_build_object('n', g.i)".to_owned(),
        SqlType::Array(element) => {
            let one = Column {
                sql_type: *element,
                ..*column
            };
            format!("ARRAY[{}]", value(table, &one))
        }
        SqlType::Bytea => format!("decode({seed}, 'hex')"),
        // Its values come from the enum's check above; a type with none
        // takes its first value.
        SqlType::Enum(e) => format!(
            "{}::{}",
            quote_literal(e.values.first().copied().unwrap_or_default()),
            column.sql_type
        ),
    }
}
