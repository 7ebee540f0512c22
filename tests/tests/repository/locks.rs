//! Row locks and the work-queue claim: `FOR UPDATE` / `NO KEY UPDATE` /
//! `SHARE` / `KEY SHARE` with `NOWAIT` and `SKIP LOCKED`, and eight workers
//! claiming ten thousand jobs, each exactly once.

use std::collections::HashSet;

use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::exec::transaction;
use ordinance::exec::Connection;
use ordinance::prelude::*;
use ordinance::query::{self, Claim, RowLock};
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{batch, Entity, Error};

/// Where a job stands.
#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum JobState {
    Queued,
    Running,
    Done,
}

/// A unit of background work.
#[derive(Entity, Debug, Clone)]
#[entity(index(state))]
#[allow(dead_code)]
struct Job {
    id: Uuid,
    state: JobState,
    worker: Option<i32>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
    version: i32,
}

fn queued() -> NewJob {
    NewJob {
        state: JobState::Queued,
        worker: None,
    }
}

async fn database() -> TestDatabase {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Job::SCHEMA]).expect("ddl");
    TestDatabase::with_schema(&ddl.up()).await.expect("db")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_workers_claim_ten_thousand_jobs_each_exactly_once() {
    let db = database().await;
    let mut conn = db.connect().await.expect("connect");
    let jobs: Vec<NewJob> = (0..10_000).map(|_| queued()).collect();
    batch::insert_many_count(&mut conn, &jobs)
        .await
        .expect("jobs");

    let started = std::time::Instant::now();
    let mut workers = Vec::new();
    for worker in 0..8 {
        let conn: Connection = db.connect().await.expect("connect");
        workers.push(tokio::spawn(async move {
            let claim = Claim::<Job>::new(25)
                .filter(Expr::col(JobColumn::State).eq(JobState::Queued.as_str()))
                .set(JobColumn::State, JobState::Running.as_str())
                .set(JobColumn::Worker, worker);
            let repo = Repo::new(&conn);
            let mut mine = Vec::new();
            loop {
                let jobs = repo.claim(&claim).await.expect("claim");
                if jobs.is_empty() {
                    break;
                }
                for job in jobs {
                    assert_eq!(job.state, JobState::Running);
                    assert_eq!(job.worker, Some(worker));
                    assert_eq!(job.version, 2, "claiming is a write: version 1 -> 2");
                    mine.push(job.id);
                }
                // Let the others in.
                tokio::task::yield_now().await;
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    let mut per_worker = Vec::new();
    for w in workers {
        let mine = w.await.expect("worker");
        per_worker.push(mine.len());
        for id in mine {
            assert!(seen.insert(id), "job {id} claimed twice");
        }
    }
    println!(
        "8 workers claimed {} jobs in {:?}, per worker: {per_worker:?}",
        seen.len(),
        started.elapsed()
    );
    assert_eq!(seen.len(), 10_000, "every job claimed");
    assert!(
        per_worker.iter().filter(|n| **n > 0).count() >= 2,
        "the work was shared: {per_worker:?}"
    );
    let row = conn
        .query_one(
            "SELECT count(*) FILTER (WHERE state = 'running' AND version = 2 AND worker IS NOT NULL), \
                    count(*) FROM jobs",
            &[],
        )
        .await
        .expect("count");
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, i64>(1)),
        (10_000, 10_000)
    );
}

#[tokio::test]
async fn locks_conflict_as_postgresql_says_and_nowait_fails_typed() {
    let db = database().await;
    let mut holder = db.connect().await.expect("connect");
    let mut other = db.connect().await.expect("connect");
    let job = Repo::new(&holder).insert(&queued()).await.expect("job");
    let id = job.id;

    transaction(&mut holder, async |held| {
        let mine: Job = Repo::new(&*held)
            .get_locked(id, RowLock::NO_KEY_UPDATE)
            .await?;
        assert_eq!(mine.id, id);

        // NO KEY UPDATE blocks UPDATE, NO KEY UPDATE and SHARE (each tried
        // in a transaction of its own: a failed statement aborts one)...
        for lock in [RowLock::UPDATE, RowLock::NO_KEY_UPDATE, RowLock::SHARE] {
            let result = transaction(&mut other, async |tx| {
                Repo::new(&*tx).find_locked::<Job>(id, lock.nowait()).await
            })
            .await;
            match result {
                Err(Error::LockNotAvailable(e)) => {
                    assert_eq!(e.code().map(|c| c.code()), Some("55P03"));
                }
                other => panic!("{lock:?} NOWAIT: expected LockNotAvailable, got {other:?}"),
            }
        }

        transaction(&mut other, async |tx| {
            let repo = Repo::new(&*tx);
            // ...and SKIP LOCKED leaves the row out.
            for lock in [RowLock::UPDATE, RowLock::SHARE] {
                let found = repo.find_locked::<Job>(id, lock.skip_locked()).await?;
                assert!(found.is_none(), "{lock:?} SKIP LOCKED skips the held row");
                let listed: Vec<Job> = repo
                    .list_locked(&query::live::<Job>(), lock.skip_locked())
                    .await?;
                assert!(listed.is_empty());
            }
            // KEY SHARE is compatible with NO KEY UPDATE.
            let shared = repo
                .find_locked::<Job>(id, RowLock::KEY_SHARE.nowait())
                .await?;
            assert!(shared.is_some(), "KEY SHARE coexists with NO KEY UPDATE");
            Ok(())
        })
        .await?;
        Ok(())
    })
    .await
    .expect("holder");

    // Each NOWAIT conflict in its own transaction, to see every one fail.
    transaction(&mut holder, async |held| {
        Repo::new(&*held)
            .get_locked::<Job>(id, RowLock::SHARE)
            .await?;
        for lock in [RowLock::UPDATE, RowLock::NO_KEY_UPDATE] {
            let result = transaction(&mut other, async |tx| {
                Repo::new(&*tx).find_locked::<Job>(id, lock.nowait()).await
            })
            .await;
            assert!(
                matches!(result, Err(Error::LockNotAvailable(_))),
                "{lock:?} NOWAIT against SHARE: {result:?}"
            );
        }
        // SHARE is shared.
        let result = transaction(&mut other, async |tx| {
            Repo::new(&*tx)
                .find_locked::<Job>(id, RowLock::SHARE.nowait())
                .await
        })
        .await
        .expect("two SHARE locks coexist");
        assert!(result.is_some());
        Ok(())
    })
    .await
    .expect("holder");

    // Released at commit: the other side now locks at once.
    transaction(&mut other, async |tx| {
        Repo::new(&*tx)
            .get_locked::<Job>(id, RowLock::UPDATE.nowait())
            .await
    })
    .await
    .expect("free after commit");
}

#[tokio::test]
async fn locking_reads_refuse_to_run_outside_a_transaction() {
    let db = database().await;
    let conn = db.connect().await.expect("connect");
    let job = Repo::new(&conn).insert(&queued()).await.expect("job");
    let err = Repo::new(&conn)
        .find_locked::<Job>(job.id, RowLock::UPDATE)
        .await
        .expect_err("outside a transaction");
    assert!(matches!(err, Error::NotInTransaction { .. }), "{err:?}");
    assert!(err.to_string().contains("exec::transaction"), "{err}");
    let err = Repo::new(&conn)
        .list_locked::<Job>(&query::live::<Job>(), RowLock::UPDATE)
        .await
        .expect_err("outside a transaction");
    assert!(matches!(err, Error::NotInTransaction { .. }), "{err:?}");

    // A claim must mark what it takes, and never the kit's columns.
    let bare = Claim::<Job>::new(5);
    assert!(matches!(
        Repo::new(&conn).claim(&bare).await,
        Err(Error::InvalidSetting { .. })
    ));
    let audit = Claim::<Job>::new(5).set(JobColumn::Version, 7);
    let err = Repo::new(&conn).claim(&audit).await.expect_err("version");
    assert!(err.to_string().contains("\"version\""), "{err}");
}

#[tokio::test]
async fn workers_in_transactions_take_disjoint_rows_with_skip_locked() {
    let db = database().await;
    let mut a = db.connect().await.expect("connect");
    let mut b = db.connect().await.expect("connect");
    for _ in 0..10 {
        Repo::new(&a).insert(&queued()).await.expect("job");
    }
    let take = |n: u64| {
        let mut q = query::live::<Job>();
        q.order_by(JobColumn::Id, ordinance::deps::sea_query::Order::Asc)
            .limit(n);
        q
    };
    transaction(&mut a, async |ta| {
        let first: Vec<Job> = Repo::new(&*ta)
            .list_locked(&take(4), RowLock::UPDATE.skip_locked())
            .await?;
        assert_eq!(first.len(), 4);
        let second: Vec<Job> = transaction(&mut b, async |tb| {
            Repo::new(&*tb)
                .list_locked(&take(100), RowLock::UPDATE.skip_locked())
                .await
        })
        .await?;
        assert_eq!(second.len(), 6, "the other worker gets the remaining rows");
        let ids: HashSet<Uuid> = first.iter().chain(&second).map(|j| j.id).collect();
        assert_eq!(ids.len(), 10, "no row taken twice");
        Ok(())
    })
    .await
    .expect("workers");
}
