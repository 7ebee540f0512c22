//! Keyset pages against `LIMIT/OFFSET` pages on a table of 1,000,000 rows,
//! in one run on one connection.
//!
//! `cargo bench -p ordinance-examples --bench paging` prints the time to
//! fetch page 1, page 1,000 and page 20,000 (50 rows each) both ways, and
//! each page's time as a ratio of page 1's.

use std::time::{Duration, Instant};

use ordinance::page::Pager;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;

/// A feed of events, newest first.
#[derive(Entity, Debug, Clone)]
#[entity(keyset(created_at desc, id desc))]
pub struct Event {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub kind: String,
    pub score: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

const ROWS: i64 = 1_000_000;
const PAGE: usize = 50;
const TARGETS: [usize; 3] = [1, 1_000, 20_000];
const KEYSET_RUNS: usize = 200;
const OFFSET_RUNS: usize = 15;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Event::SCHEMA])?;
    let db = TestDatabase::with_schema(&ddl.up()).await?;
    let client = db.connect().await?;

    let started = Instant::now();
    // Seeding only: timestamps one second apart, every 10th one repeated,
    // so the order needs its `id` tiebreaker.
    client
        .execute(
            "INSERT INTO events (id, kind, score, created_at, updated_at) \
             SELECT gen_random_uuid(), 'kind ' || (i % 17), (i % 1000)::int, \
                    timestamptz '2026-01-01' + ((i / 10) * 10 + (i % 10 = 0)::int) * interval '1 second', now() \
             FROM generate_series(1, $1::bigint) AS i",
            &[&ROWS],
        )
        .await?;
    client.batch_execute("VACUUM ANALYZE events").await?;
    println!(
        "seeded {ROWS} rows in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Walk to each target page once to learn its cursor.
    let repo = Repo::new(&client);
    let pager = Pager::<Event>::new()?.size(PAGE)?;
    let started = Instant::now();
    let mut cursors: Vec<Option<String>> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut first_ids = Vec::new();
    for n in 1..=*TARGETS.last().unwrap_or(&1) {
        if TARGETS.contains(&n) {
            cursors.push(cursor.clone());
        }
        let page = match &cursor {
            None => repo.first_page(&pager).await?,
            Some(c) => repo.page_at(&pager, c).await?,
        };
        if TARGETS.contains(&n) {
            first_ids.push(page.items[0].id);
        }
        cursor = page.next;
    }
    println!(
        "walked {} keyset pages in {:.1} s",
        TARGETS.last().unwrap_or(&1),
        started.elapsed().as_secs_f64()
    );

    let offset = client
        .prepare(
            "SELECT id, kind, score, created_at, updated_at, deleted_at, version FROM events \
             WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
        )
        .await?;
    let mut keyset_times = Vec::new();
    let mut offset_times = Vec::new();
    for (i, &n) in TARGETS.iter().enumerate() {
        let mut samples = Vec::with_capacity(KEYSET_RUNS);
        for _ in 0..KEYSET_RUNS {
            let t = Instant::now();
            let page = match &cursors[i] {
                None => repo.first_page(&pager).await?,
                Some(c) => repo.page_at(&pager, c).await?,
            };
            samples.push(t.elapsed());
            assert_eq!(page.items[0].id, first_ids[i]);
        }
        keyset_times.push(median(samples));

        let mut samples = Vec::with_capacity(OFFSET_RUNS);
        for _ in 0..OFFSET_RUNS {
            let t = Instant::now();
            let rows = client
                .query(&offset, &[&(PAGE as i64), &(((n - 1) * PAGE) as i64)])
                .await?;
            samples.push(t.elapsed());
            let id: Uuid = rows[0].get(0);
            assert_eq!(id, first_ids[i], "both ways reach the same page");
        }
        offset_times.push(median(samples));
    }

    println!();
    println!(
        "{:<12} {:>12} {:>10} {:>14} {:>10}",
        "page (x50)", "keyset", "vs page 1", "LIMIT/OFFSET", "vs page 1"
    );
    for (i, n) in TARGETS.iter().enumerate() {
        println!(
            "{:<12} {:>9.3} ms {:>9.2}x {:>11.3} ms {:>9.1}x",
            n,
            ms(keyset_times[i]),
            keyset_times[i].as_secs_f64() / keyset_times[0].as_secs_f64(),
            ms(offset_times[i]),
            offset_times[i].as_secs_f64() / offset_times[0].as_secs_f64(),
        );
    }
    Ok(())
}
