//! What time partitions buy and cost, in one run on one server:
//! purging a day's rows by dropping its partition against deleting them
//! in batches of 10,000 (the same rows, the same day, both tables holding
//! the next day's rows too), and inserting one row into a partitioned
//! table against a plain one.
//!
//! `cargo bench -p ordinance-examples --bench partitions` (the purge over
//! `ORDINANCE_BENCH_ROWS` rows, 1,000,000 by default). Pin it (`taskset -c
//! 1 cargo bench ...`): the throwaway server is its child and shares the
//! placement.

mod common;

use std::time::Instant;

use ordinance::ddl::SchemaDdl;
use ordinance::deps::chrono::{Duration as Days, NaiveDate};
use ordinance::partition::{first_id, maintain, partition_name};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;

/// Partitioned by day, kept one day after it ends.
#[derive(Entity, Debug, Clone)]
#[entity(partitioned(interval = "1 day", keep = "1 day"))]
pub struct Reading {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub sensor: String,
    pub value: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The same, one table.
#[derive(Entity, Debug, Clone)]
pub struct PlainReading {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub sensor: String,
    pub value: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

const RUNS: (usize, usize) = (200, 2_000);

/// Fills `table` with `rows` rows of `day` (ids spread over the day, as
/// UUIDv7s made then would be).
async fn fill(client: &ordinance::exec::Connection, table: &str, day: NaiveDate, rows: i64) {
    let start_ms = day
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    client
        .execute(
            &format!(
                "INSERT INTO {table} (id, sensor, value) \
                 SELECT (lpad(to_hex($1::int8 + i * 86400000 / $2::int8), 12, '0') || \
                         substr(md5(i::text), 1, 20))::uuid, 's' || (i % 100), i \
                 FROM generate_series(0, $2::int8 - 1) AS i"
            ),
            &[&start_ms, &rows],
        )
        .await
        .expect("fill");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rows: i64 = std::env::var("ORDINANCE_BENCH_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let ddl = SchemaDdl::new(&[Reading::SCHEMA, PlainReading::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up())
        .await
        .expect("database");
    let conn = db.connect().await.expect("connect");
    let now = Utc::now();
    let today = now.date_naive();
    let yesterday = today - Days::days(1);
    // Partitions for yesterday and today.
    maintain::<Reading>(&conn, now - Days::days(1), 1)
        .await
        .expect("partitions");

    let repo = Repo::new(&conn);
    println!(
        "partitions: one row inserted, partitioned against plain, medians of {}",
        RUNS.1
    );
    if common::pair(
        "insert",
        "insert, partitioned",
        "insert into a plain table",
        RUNS,
        |i| {
            let repo = &repo;
            async move {
                let new = NewReading {
                    sensor: format!("s{}", i % 100),
                    value: i as i64,
                };
                repo.insert(&new).await.expect("insert");
            }
        },
        |i| {
            let repo = &repo;
            async move {
                let new = NewPlainReading {
                    sensor: format!("s{}", i % 100),
                    value: i as i64,
                };
                repo.insert(&new).await.expect("insert");
            }
        },
    )
    .await
    {
        return;
    }

    // A day of `rows` rows in each table, beside today's.
    for table in ["readings", "plain_readings"] {
        fill(&conn, table, yesterday, rows).await;
        fill(&conn, table, today, rows / 10).await;
    }
    for table in ["readings", "plain_readings"] {
        conn.batch_execute(&format!("VACUUM ANALYZE {table}"))
            .await
            .expect("analyze");
    }

    // By partition: yesterday ended a day ago, as long as it is kept.
    let started = Instant::now();
    let done = maintain::<Reading>(&conn, now + Days::days(1), 0)
        .await
        .expect("maintain");
    let by_partition = started.elapsed();
    assert_eq!(done.dropped, [partition_name(Reading::SCHEMA, yesterday)]);

    // By batched DELETE: the same day's rows, 10,000 at a time.
    let bound = first_id(today);
    let started = Instant::now();
    let mut deleted = 0u64;
    loop {
        let n = conn
            .execute(
                "DELETE FROM plain_readings WHERE id IN \
                 (SELECT id FROM plain_readings WHERE id < $1 ORDER BY id LIMIT 10000)",
                &[&bound],
            )
            .await
            .expect("delete");
        if n == 0 {
            break;
        }
        deleted += n;
    }
    let by_delete = started.elapsed();
    assert_eq!(deleted, rows as u64);
    println!(
        "purging a day of {rows} rows: by partition {:.1} ms, by batched DELETE {:.1} ms: {:.4}x",
        by_partition.as_secs_f64() * 1e3,
        by_delete.as_secs_f64() * 1e3,
        by_partition.as_secs_f64() / by_delete.as_secs_f64()
    );
}
