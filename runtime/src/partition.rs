//! Time partitions of `#[entity(partitioned(interval = "1 month", keep =
//! "13 months"))]` tables: made ahead of time, dropped whole when expired.
//!
//! A partitioned table is partitioned by range of `id`. UUIDv7 ids begin
//! with the millisecond they were made, so the ids of one month lie
//! between two bounds — the first UUID of the month's first millisecond
//! and of the next month's — and the primary key stays `id` (every
//! foreign key to the table keeps working), a get by id reads one
//! partition, and a month of rows goes with one `DROP TABLE` instead of
//! millions of `DELETE`s.
//!
//! The table has no default partition: a row whose id falls in no
//! partition is refused, never parked where retention cannot reach it, and
//! partitions are detached with `DETACH PARTITION … CONCURRENTLY`, which
//! PostgreSQL allows only without one. So [`maintain`] must run ahead of
//! time — at deploy and then daily (a scheduled job, or pg_cron calling the
//! application's maintenance command) — creating the partitions for the
//! current period and `ahead` more, and dropping those older than `keep`.
//!
//! pg_partman is not used: its 4.x releases (Debian's) partition on
//! integers and timestamps only, not on a UUID's time.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::ddl::{qualified, quote_literal, table_ident};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::schema::{Partitioning, Period, PeriodUnit, TableSchema};

/// What [`maintain`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Maintenance {
    /// Partitions created, oldest first.
    pub created: Vec<String>,
    /// Expired partitions detached and dropped, oldest first.
    pub dropped: Vec<String>,
}

/// The first day of the period of `period` that holds `day`: periods are
/// counted from 1970-01-01 (weeks from Monday 1970-01-05), so they never
/// overlap whatever day maintenance runs.
pub fn period_start(period: Period, day: NaiveDate) -> NaiveDate {
    let count = i64::from(period.count.max(1));
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    match period.unit {
        PeriodUnit::Day | PeriodUnit::Week => {
            let (origin, days) = if period.unit == PeriodUnit::Day {
                (epoch, count)
            } else {
                (
                    NaiveDate::from_ymd_opt(1970, 1, 5).unwrap_or_default(),
                    count * 7,
                )
            };
            let since = (day - origin).num_days();
            origin + chrono::Duration::days(since.div_euclid(days) * days)
        }
        PeriodUnit::Month | PeriodUnit::Year => {
            let months = if period.unit == PeriodUnit::Month {
                count
            } else {
                count * 12
            };
            let since = i64::from(day.year() - 1970) * 12 + i64::from(day.month0());
            let start = since.div_euclid(months) * months;
            let year = 1970 + i32::try_from(start.div_euclid(12)).unwrap_or(0);
            let month = u32::try_from(start.rem_euclid(12)).unwrap_or(0) + 1;
            NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(day)
        }
    }
}

/// `start` plus `count` units of `period` (`count` may be 0).
fn add(period: Period, start: NaiveDate, times: u32) -> NaiveDate {
    let n = period.count.saturating_mul(times);
    match period.unit {
        PeriodUnit::Day => start + chrono::Duration::days(i64::from(n)),
        PeriodUnit::Week => start + chrono::Duration::days(i64::from(n) * 7),
        PeriodUnit::Month => start.checked_add_months(Months::new(n)).unwrap_or(start),
        PeriodUnit::Year => start
            .checked_add_months(Months::new(n.saturating_mul(12)))
            .unwrap_or(start),
    }
}

/// The smallest UUIDv7 made at `day`'s first millisecond (UTC): a
/// partition's lower bound.
pub fn first_id(day: NaiveDate) -> Uuid {
    let ms = day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis().max(0));
    let ms = u64::try_from(ms).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    Uuid::from_bytes(bytes)
}

/// A partition's name: the table's, then `_p` and its first day
/// (`events_p20261201`).
pub fn partition_name(schema: &TableSchema, start: NaiveDate) -> String {
    format!("{}_p{}", schema.name, start.format("%Y%m%d"))
}

/// The first day of a partition named by [`partition_name`].
fn start_of(schema: &TableSchema, name: &str) -> Option<NaiveDate> {
    let day = name.strip_prefix(schema.name)?.strip_prefix("_p")?;
    NaiveDate::parse_from_str(day, "%Y%m%d").ok()
}

/// Creates the partitions of `E` for the period holding `now` and the
/// `ahead` periods after it (those missing), and detaches and drops the
/// partitions whose period ended more than `keep` before `now`. Run it as
/// the table's owner, on a connection outside a transaction (detaching
/// concurrently cannot run inside one). Running it again does nothing
/// more.
pub async fn maintain<E: Entity>(
    client: &Client,
    now: DateTime<Utc>,
    ahead: u32,
) -> Result<Maintenance> {
    maintain_schema(client, E::SCHEMA, now, ahead).await
}

/// The current period's partition of `schema`'s table, made if missing
/// (nothing for a table that is not partitioned): what filling a table
/// with rows made now needs.
#[cfg(any(feature = "tools", feature = "testing"))]
pub(crate) async fn ensure_current(client: &Client, schema: &'static TableSchema) -> Result<()> {
    if schema.partitioned.is_some() {
        maintain_schema(client, schema, Utc::now(), 0).await?;
    }
    Ok(())
}

/// [`maintain`] for the table `schema` describes.
async fn maintain_schema(
    client: &Client,
    schema: &'static TableSchema,
    now: DateTime<Utc>,
    ahead: u32,
) -> Result<Maintenance> {
    let Some(part) = schema.partitioned else {
        return Err(Error::InvalidSetting {
            setting: "partition",
            reason: format!(
                "\"{}\" is not partitioned: add #[entity(partitioned(interval = \"1 month\"))] to {}",
                schema.name, schema.struct_name
            ),
        });
    };
    let parent = parent(client, schema).await?;
    let existing = partitions(client, schema, &parent).await?;
    let today = now.date_naive();
    let current = period_start(part.interval, today);
    let mut done = Maintenance::default();
    for k in 0..=ahead {
        let start = add(part.interval, current, k);
        let name = partition_name(schema, start);
        if existing.iter().any(|(n, _)| *n == name) {
            continue;
        }
        create(client, schema, &parent, part, start, &name).await?;
        done.created.push(name);
    }
    if let Some(keep) = part.keep {
        let mut expired: Vec<(NaiveDate, &String, bool)> = existing
            .iter()
            .filter_map(|(name, pending)| Some((start_of(schema, name)?, name, *pending)))
            .filter(|(start, _, _)| add(keep, add(part.interval, *start, 1), 1) <= today)
            .collect();
        expired.sort();
        for (_, name, pending) in expired {
            drop_partition(client, schema, &parent, name, pending).await?;
            done.dropped.push(name.clone());
        }
    }
    Ok(done)
}

/// The partitioned table `schema`'s partitions hang from, as SQL writes
/// it: the table itself, or — while a migration converts a plain table —
/// the partitioned table its rows move into
/// (`<name>_partitioned`), which then takes its name.
async fn parent(client: &Client, schema: &'static TableSchema) -> Result<String> {
    let table = table_ident(schema);
    let shadow = qualified(schema.schema, &crate::ddl::conversion_table(schema.name));
    let row = client
        .query_one(
            "SELECT (SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)), \
                    (SELECT relkind::text FROM pg_class WHERE oid = to_regclass($2))",
            &[&table, &shadow],
        )
        .await
        .map_err(|e| Error::from_db(e, schema))?;
    let kind: Option<String> = crate::row::read(&row, 0, "pg_class", "relkind")?;
    let shadow_kind: Option<String> = crate::row::read(&row, 1, "pg_class", "relkind")?;
    match (kind.as_deref(), shadow_kind.as_deref()) {
        (Some("p"), _) => Ok(table),
        (_, Some("p")) => Ok(shadow),
        (found, _) => Err(Error::InvalidSetting {
            setting: "partition",
            reason: format!(
                "{table} is {} in the database: apply the migrations that make it partitioned first",
                if found.is_some() { "not partitioned" } else { "missing" }
            ),
        }),
    }
}

/// The partitions of `schema`'s table: name, and whether a concurrent
/// detach of it was left unfinished.
async fn partitions(
    client: &Client,
    schema: &'static TableSchema,
    parent: &str,
) -> Result<Vec<(String, bool)>> {
    let rows = client
        .query(
            "SELECT c.relname::text, i.inhdetachpending FROM pg_inherits i \
             JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = to_regclass($1)",
            &[&parent],
        )
        .await
        .map_err(|e| Error::from_db(e, schema))?;
    rows.iter()
        .map(|row| {
            Ok((
                crate::row::read(row, 0, "pg_inherits", "relname")?,
                crate::row::read(row, 1, "pg_inherits", "inhdetachpending")?,
            ))
        })
        .collect()
}

async fn create(
    client: &Client,
    schema: &'static TableSchema,
    parent: &str,
    part: &Partitioning,
    start: NaiveDate,
    name: &str,
) -> Result<()> {
    let end = add(part.interval, start, 1);
    // Waits at most 5 s for the table's lock, rather than queueing every
    // reader and writer behind a long one.
    let sql = format!(
        "BEGIN; SET LOCAL lock_timeout = '5s'; \
         CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({}); COMMIT",
        qualified(schema.schema, name),
        parent,
        quote_literal(&first_id(start).to_string()),
        quote_literal(&first_id(end).to_string()),
    );
    if let Err(e) = client.batch_execute(&sql).await {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(Error::from_db(e, schema));
    }
    Ok(())
}

async fn drop_partition(
    client: &Client,
    schema: &'static TableSchema,
    table: &str,
    name: &str,
    pending: bool,
) -> Result<()> {
    let partition = qualified(schema.schema, name);
    let detach = if pending {
        // A concurrent detach stopped half-way: finish it.
        format!("ALTER TABLE {table} DETACH PARTITION {partition} FINALIZE")
    } else {
        format!("ALTER TABLE {table} DETACH PARTITION {partition} CONCURRENTLY")
    };
    let db = |e| Error::from_db(e, schema);
    client.batch_execute(&detach).await.map_err(db)?;
    client
        .batch_execute(&format!("DROP TABLE {partition}"))
        .await
        .map_err(db)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods_are_aligned_whatever_the_day() {
        let month = Period {
            count: 1,
            unit: PeriodUnit::Month,
        };
        assert_eq!(period_start(month, day(2026, 12, 7)), day(2026, 12, 1));
        assert_eq!(add(month, day(2026, 12, 1), 1), day(2027, 1, 1));
        let quarter = Period {
            count: 3,
            unit: PeriodUnit::Month,
        };
        assert_eq!(period_start(quarter, day(2026, 12, 7)), day(2026, 10, 1));
        let week = Period {
            count: 1,
            unit: PeriodUnit::Week,
        };
        assert_eq!(
            period_start(week, day(2026, 12, 7)),
            day(2026, 12, 7),
            "a Monday"
        );
        assert_eq!(period_start(week, day(2026, 12, 13)), day(2026, 12, 7));
        let days = Period {
            count: 2,
            unit: PeriodUnit::Day,
        };
        let a = period_start(days, day(2026, 12, 7));
        assert_eq!(period_start(days, add(days, a, 1)), add(days, a, 1));
        assert!((day(2026, 12, 7) - a).num_days() < 2);
        let year = Period {
            count: 1,
            unit: PeriodUnit::Year,
        };
        assert_eq!(period_start(year, day(2026, 12, 7)), day(2026, 1, 1));
    }

    #[test]
    fn an_id_made_in_a_period_lies_between_its_bounds() {
        let start = day(2026, 12, 1);
        let lower = first_id(start);
        let upper = first_id(day(2027, 1, 1));
        let at = |d: NaiveDate, ms: u32| {
            let t = d.and_hms_milli_opt(0, 0, 0, ms).unwrap().and_utc();
            let secs = u64::try_from(t.timestamp()).unwrap();
            Uuid::new_v7(uuid::Timestamp::from_unix(
                uuid::NoContext,
                secs,
                t.timestamp_subsec_nanos(),
            ))
        };
        for made in [
            at(start, 0),
            at(day(2026, 12, 15), 500),
            at(day(2026, 12, 31), 999),
        ] {
            assert!(lower <= made && made < upper, "{lower} {made} {upper}");
        }
        assert!(at(day(2027, 1, 1), 0) >= upper);
        assert!(at(day(2026, 11, 30), 999) < lower);
    }
}
