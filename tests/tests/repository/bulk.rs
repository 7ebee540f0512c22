//! Bulk changes in chunks: every matching row changed once, with version
//! and `updated_at` moved, no update lost to a concurrent writer, no lock
//! held past its chunk, and an interrupted run resumed where it stopped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ordinance::bulk::{Bulk, Progress};
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{batch, query, Entity, Error};

/// A row of a large table.
#[derive(Entity, Debug, Clone)]
#[entity(index(bucket))]
#[allow(dead_code)]
struct Item {
    id: Uuid,
    #[column(min = 0)]
    bucket: i32,
    #[column(min = 0)]
    counter: i32,
    is_flagged: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
    version: i32,
}

async fn items(rows: i32, counter: impl Fn(i32) -> i32) -> (TestDatabase, Vec<Uuid>) {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Item::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let mut conn = db
        .connect_as_app()
        .await
        .expect("connect as the application");
    let new: Vec<NewItem> = (0..rows)
        .map(|i| NewItem {
            bucket: i % 10,
            counter: counter(i),
            is_flagged: false,
        })
        .collect();
    for chunk in new.chunks(50_000) {
        batch::insert_many_count(&mut conn, chunk)
            .await
            .expect("seed");
    }
    let ids = conn
        .query("SELECT id FROM items ORDER BY id", &[])
        .await
        .expect("ids")
        .iter()
        .map(|r| r.get(0))
        .collect();
    (db, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_rows_in_chunks_beside_a_concurrent_writer() {
    const CHUNK: u64 = 5_000;
    let (db, ids) = items(200_000, |_| 0).await;
    let bulk_conn = db
        .connect_as_app()
        .await
        .expect("connect as the application");
    let bulk_pid: i32 = bulk_conn
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0);

    // The writer keeps incrementing the counters of 300 rows spread over
    // the table, with optimistic locking, until the bulk run is done.
    let watched: Vec<Uuid> = ids.iter().step_by(ids.len() / 300).copied().collect();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let conn = db
            .connect_as_app()
            .await
            .expect("connect as the application");
        let watched = watched.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let repo = Repo::new(&conn);
            let mut landed: HashMap<Uuid, i32> = HashMap::new();
            let (mut stale, mut round) = (0u32, 0usize);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let id = watched[round % watched.len()];
                round += 1;
                let mut item: Item = repo.get(id).await.expect("read");
                item.counter += 1;
                match repo.update(&item).await {
                    Ok(_) => *landed.entry(id).or_default() += 1,
                    Err(Error::StaleVersion { .. }) => stale += 1,
                    Err(other) => panic!("{other:?}"),
                }
            }
            (landed, stale)
        })
    };

    // Between chunks, the bulk connection holds no transaction (so no lock).
    let observer = Arc::new(db.connect().await.expect("connect"));
    // (state, backend_xid) of the bulk connection after each chunk.
    type Seen = Vec<(String, Option<String>)>;
    let between: Arc<Mutex<Seen>> = Arc::default();
    let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let started = std::time::Instant::now();
    let outcome = Bulk::<Item>::new()
        .filter(Expr::col(ItemColumn::Bucket).lt(8))
        .chunk(CHUNK)
        .on_progress({
            let observer = observer.clone();
            let between = between.clone();
            let reports = reports.clone();
            move |p| {
                reports.lock().unwrap().push(p.clone());
                let row = tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(observer.query_one(
                        "SELECT state, backend_xid::text FROM pg_stat_activity WHERE pid = $1",
                        &[&bulk_pid],
                    ))
                })
                .expect("activity");
                between.lock().unwrap().push((row.get(0), row.get(1)));
            }
        })
        .update(&bulk_conn, vec![(ItemColumn::IsFlagged, Expr::val(true))])
        .await
        .expect("bulk update");
    let elapsed = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (landed, stale) = writer.await.expect("writer");

    assert_eq!(outcome.rows, 160_000, "every matching row, once");
    assert_eq!(outcome.chunks, 32);
    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 32, "one report per chunk");
    assert!(reports
        .windows(2)
        .all(|w| w[1].rows > w[0].rows && w[1].resume_after > w[0].resume_after));
    let between = between.lock().unwrap().clone();
    for (state, xid) in &between {
        assert_eq!(
            (state.as_str(), xid),
            ("idle", &None),
            "no transaction open between chunks"
        );
    }

    // Each chunk was one transaction of at most CHUNK rows: the rows the
    // bulk run wrote last carry their chunk's transaction id.
    let per_transaction: Vec<i64> = bulk_conn
        .query(
            "SELECT count(*) FROM items WHERE is_flagged GROUP BY xmin::text",
            &[],
        )
        .await
        .expect("xmin")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        per_transaction.iter().all(|n| *n as u64 <= CHUNK),
        "{per_transaction:?}"
    );
    assert!(per_transaction.len() >= 32);

    // No lost update, either way: each row has exactly the writer's
    // increments, the bulk's flag, and one version per write.
    let rows = bulk_conn
        .query(
            "SELECT id, bucket, counter, is_flagged, version FROM items WHERE id = ANY($1)",
            &[&watched],
        )
        .await
        .expect("watched");
    let mut touched_in_bulk = 0;
    for row in rows {
        let id: Uuid = row.get(0);
        let bucket: i32 = row.get(1);
        let increments = landed.get(&id).copied().unwrap_or(0);
        let in_bulk = bucket < 8;
        touched_in_bulk += i32::from(in_bulk && increments > 0);
        assert_eq!(row.get::<_, i32>(2), increments, "counter of {id}");
        assert_eq!(row.get::<_, bool>(3), in_bulk, "flag of {id}");
        assert_eq!(
            row.get::<_, i32>(4),
            1 + increments + i32::from(in_bulk),
            "version of {id}"
        );
    }
    let total: i32 = landed.values().sum();
    println!(
        "bulk update: 160,000 of 200,000 rows in 32 chunks of {CHUNK} in {elapsed:?}; \
         meanwhile {total} concurrent updates landed ({stale} stale retries), \
         {touched_in_bulk} watched rows changed by both"
    );
    assert!(
        total > 0 && touched_in_bulk > 0,
        "the two really overlapped"
    );
    let unflagged: i64 = bulk_conn
        .query_one("SELECT count(*) FROM items WHERE NOT is_flagged", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(unflagged, 40_000);
}

#[tokio::test]
async fn an_interrupted_run_resumes_where_it_stopped() {
    // Row 6,500 would go below its minimum: the 7th chunk fails.
    let (db, ids) = items(10_000, |i| if i == 6_500 { 0 } else { 1 }).await;
    let conn = db
        .connect_as_app()
        .await
        .expect("connect as the application");
    let decrement = || vec![(ItemColumn::Counter, Expr::col(ItemColumn::Counter).sub(1))];
    let err = Bulk::<Item>::new()
        .chunk(1_000)
        .update(&conn, decrement())
        .await
        .expect_err("the 7th chunk fails");
    let Error::Interrupted {
        rows,
        resume_after,
        source,
        ..
    } = &err
    else {
        panic!("expected Interrupted, got {err:?}");
    };
    assert_eq!(*rows, 6_000);
    assert_eq!(*resume_after, Some(ids[5_999]));
    assert!(
        matches!(**source, Error::CheckViolation { .. }),
        "{source:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&format!("resume after id {}", ids[5_999])),
        "{message}"
    );
    assert!(message.contains("23514"), "{message}");

    // Fix the row, resume.
    let repo = Repo::new(&conn);
    let mut bad: Item = repo.get(ids[6_500]).await.expect("bad row");
    bad.counter = 5;
    repo.update(&bad).await.expect("fix");
    let rest = Bulk::<Item>::new()
        .chunk(1_000)
        .resume_after(resume_after.expect("resume point"))
        .update(&conn, decrement())
        .await
        .expect("resumed");
    assert_eq!(rest.rows, 4_000);
    let rows = conn
        .query("SELECT counter, version FROM items ORDER BY id", &[])
        .await
        .expect("rows");
    for (i, row) in rows.iter().enumerate() {
        let expect = if i == 6_500 { (4, 3) } else { (0, 2) };
        assert_eq!(
            (row.get::<_, i32>(0), row.get::<_, i32>(1)),
            expect,
            "row {i}: changed exactly once"
        );
    }
}

#[tokio::test]
async fn bulk_soft_delete_and_restore() {
    let (db, _) = items(3_000, |_| 0).await;
    let conn = db
        .connect_as_app()
        .await
        .expect("connect as the application");
    let gone = Bulk::<Item>::new()
        .filter(Expr::col(ItemColumn::Bucket).eq(3))
        .chunk(70)
        .soft_delete(&conn)
        .await
        .expect("soft delete");
    assert_eq!((gone.rows, gone.chunks), (300, 5));
    let repo = Repo::new(&conn);
    assert_eq!(repo.count::<Item>().await.expect("count"), 2_700);
    let deleted: Vec<Item> = repo
        .list(&query::only_deleted::<Item>())
        .await
        .expect("deleted");
    assert!(deleted
        .iter()
        .all(|i| i.version == 2 && i.bucket == 3 && i.deleted_at.is_some()));

    // Restore only what is deleted and matches.
    let back = Bulk::<Item>::new()
        .filter(Expr::col(ItemColumn::Bucket).gte(3))
        .restore(&conn)
        .await
        .expect("restore");
    assert_eq!(back.rows, 300);
    assert_eq!(repo.count::<Item>().await.expect("count"), 3_000);
    let versions = conn
        .query(
            "SELECT version, count(*) FROM items GROUP BY version ORDER BY version",
            &[],
        )
        .await
        .expect("versions");
    let versions: Vec<(i32, i64)> = versions.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(versions, [(1, 2_700), (3, 300)]);

    // Refusals: inside a transaction, or setting the kit's columns.
    let mut conn = conn;
    let inside = ordinance::exec::transaction(&mut conn, async |tx| {
        Bulk::<Item>::new().soft_delete(&*tx).await
    })
    .await;
    assert!(
        matches!(inside, Err(Error::InvalidSetting { .. })),
        "{inside:?}"
    );
    let audit = Bulk::<Item>::new()
        .update(&conn, vec![(ItemColumn::UpdatedAt, Expr::cust("now()"))])
        .await;
    assert!(
        matches!(audit, Err(Error::InvalidSetting { .. })),
        "{audit:?}"
    );
}
