//! Transactions with options: isolation levels, read-only and deferrable
//! modes, and the retry of the whole closure on serialization failures and
//! deadlocks. The write-skew scenario (two doctors on call, each going off
//! call if the other is still on) keeps its invariant under SERIALIZABLE
//! with retries, and breaks under READ COMMITTED.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use ordinance::deps::futures_util::{stream, StreamExt as _};
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::exec::{transaction_with, Isolation, Retry, TxOptions};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{query, Entity, Error};
use tokio::sync::Barrier;

/// A doctor of one shift; each shift must keep at least one on call.
#[derive(Entity, Debug, Clone)]
#[entity(index(shift, is_on_call))]
#[allow(dead_code)]
struct Doctor {
    id: Uuid,
    shift: i32,
    #[column(max_len = 40)]
    name: String,
    is_on_call: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
    version: i32,
}

async fn database() -> TestDatabase {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Doctor::SCHEMA]).expect("ddl");
    TestDatabase::with_schema(&ddl.up()).await.expect("db")
}

async fn pool(db: &TestDatabase) -> Pool {
    let options = PoolOptions {
        max_size: 16,
        ..PoolOptions::default()
    };
    Pool::connect(db.config().clone(), options)
        .await
        .expect("pool")
}

/// Two doctors on call for each of `shifts` shifts.
async fn staff(pool: &Pool, shifts: i32) -> Vec<(i32, Uuid, Uuid)> {
    let conn = pool.get().await.expect("conn");
    let repo = Repo::new(&*conn);
    let mut out = Vec::new();
    for shift in 0..shifts {
        let mut ids = Vec::new();
        for name in ["alice", "bob"] {
            let d = repo
                .insert(&NewDoctor {
                    shift,
                    name: name.into(),
                    is_on_call: true,
                })
                .await
                .expect("doctor");
            ids.push(d.id);
        }
        out.push((shift, ids[0], ids[1]));
    }
    out
}

/// Doctor `me` goes off call if another doctor of the shift is still on:
/// read, wait for the colleague to have read too (first attempt only), write.
async fn go_off_call(
    pool: &Pool,
    options: TxOptions,
    shift: i32,
    me: Uuid,
    both_read: Arc<Barrier>,
    runs: Arc<AtomicU32>,
) -> ordinance::Result<()> {
    let mut conn = pool.get().await?;
    let first = std::sync::atomic::AtomicBool::new(true);
    transaction_with(&mut conn, options, async |tx| {
        runs.fetch_add(1, Ordering::Relaxed);
        let repo = Repo::new(&*tx);
        let on_call: Vec<Doctor> = repo
            .list(
                query::live::<Doctor>()
                    .and_where(Expr::col(DoctorColumn::Shift).eq(shift))
                    .and_where(Expr::col(DoctorColumn::IsOnCall).eq(true)),
            )
            .await?;
        if first.swap(false, Ordering::Relaxed) {
            both_read.wait().await;
        }
        if on_call.len() >= 2 {
            let mut doctor = on_call
                .into_iter()
                .find(|d| d.id == me)
                .expect("me among those on call");
            doctor.is_on_call = false;
            repo.update(&doctor).await?;
        }
        Ok(())
    })
    .await
}

/// Runs both doctors of every shift at once (8 shifts at a time), and
/// returns how many shifts were left with nobody on call, and the runs.
async fn scenario(pool: &Pool, options: TxOptions, shifts: i32) -> (usize, u32) {
    let roster = staff(pool, shifts).await;
    let runs = Arc::new(AtomicU32::new(0));
    let results: Vec<ordinance::Result<()>> = stream::iter(roster.iter().copied())
        .map(|(shift, a, b)| {
            let runs = runs.clone();
            async move {
                let barrier = Arc::new(Barrier::new(2));
                let (x, y) = tokio::join!(
                    go_off_call(pool, options, shift, a, barrier.clone(), runs.clone()),
                    go_off_call(pool, options, shift, b, barrier, runs.clone()),
                );
                x.and(y)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    for r in results {
        r.expect("every transaction succeeds in the end");
    }
    let conn = pool.get().await.expect("conn");
    let row = conn
        .query_one(
            "SELECT count(*) FROM (SELECT shift FROM doctors GROUP BY shift \
             HAVING count(*) FILTER (WHERE is_on_call) = 0) s",
            &[],
        )
        .await
        .expect("count");
    let empty: i64 = row.get(0);
    (empty as usize, runs.load(Ordering::Relaxed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serializable_with_retries_keeps_the_invariant_read_committed_breaks_it() {
    let db = database().await;
    let pool = pool(&db).await;
    let shifts = 500;
    let serializable = TxOptions::new()
        .isolation(Isolation::Serializable)
        .retry(Retry::attempts(20));
    let started = std::time::Instant::now();
    let (empty, runs) = scenario(&pool, serializable, shifts).await;
    let attempts = 2 * shifts as u32;
    println!(
        "SERIALIZABLE: {attempts} concurrent transactions over {shifts} shifts, {runs} runs \
         ({} retried), {empty} shifts left empty, {:?}",
        runs - attempts,
        started.elapsed()
    );
    assert_eq!(empty, 0, "every shift keeps a doctor on call");
    assert!(
        runs > attempts,
        "the colliding transactions were retried, not just lucky"
    );

    // The control: the same work under READ COMMITTED loses the invariant.
    let db = database().await;
    let pool = self::pool(&db).await;
    let read_committed = TxOptions::new()
        .isolation(Isolation::ReadCommitted)
        .retry(Retry::attempts(20));
    let (empty, runs) = scenario(&pool, read_committed, 50).await;
    println!("READ COMMITTED: 100 transactions, {runs} runs, {empty} of 50 shifts left empty");
    assert_eq!(runs, 100, "nothing conflicts, nothing is retried");
    assert_eq!(empty, 50, "both doctors went off call in every shift");
}

/// Counts runs of a closure that fails with `sqlstate` on its first
/// `failures` runs.
async fn failing(
    conn: &mut ordinance::exec::Connection,
    options: TxOptions,
    sqlstate: &str,
    failures: u32,
) -> (ordinance::Result<()>, u32) {
    let runs = AtomicU32::new(0);
    let result = transaction_with(conn, options, async |tx| {
        let run = runs.fetch_add(1, Ordering::Relaxed) + 1;
        if run <= failures {
            tx.batch_execute(&format!(
                "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '{sqlstate}'; END $$"
            ))
            .await?;
        }
        Ok(())
    })
    .await;
    (result, runs.load(Ordering::Relaxed))
}

#[tokio::test]
async fn retries_are_bounded_and_only_for_conflicts() {
    let db = database().await;
    let mut conn = db.connect().await.expect("connect");
    let three = TxOptions::new().retry(Retry::attempts(3).backoff(
        std::time::Duration::from_millis(1),
        std::time::Duration::from_millis(2),
    ));

    let (result, runs) = failing(&mut conn, three, "40001", 10).await;
    assert_eq!(runs, 3, "three runs, no more");
    match result {
        Err(Error::RetriesExhausted {
            attempts, source, ..
        }) => {
            assert_eq!(attempts, 3);
            assert!(
                matches!(*source, Error::SerializationFailure(_)),
                "{source:?}"
            );
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    let message = failing(&mut conn, three, "40001", 10)
        .await
        .0
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("failed 3 times") && message.contains("40001"),
        "{message}"
    );

    let (result, runs) = failing(&mut conn, three, "40P01", 2).await;
    result.expect("a deadlock victim succeeds on its third run");
    assert_eq!(runs, 3);

    // Not a conflict: no retry, the error as it is.
    let (result, runs) = failing(&mut conn, three, "23505", 10).await;
    assert_eq!(runs, 1);
    assert!(
        matches!(result, Err(Error::UniqueViolation { .. })),
        "{result:?}"
    );

    // Without a retry policy, a conflict is reported as it is.
    let (result, runs) = failing(&mut conn, TxOptions::new(), "40001", 10).await;
    assert_eq!(runs, 1);
    assert!(
        matches!(result, Err(Error::SerializationFailure(_))),
        "{result:?}"
    );

    // Nothing of a failed run is left behind.
    let inserted = AtomicU32::new(0);
    let result = transaction_with(&mut conn, three, async |tx| {
        Repo::new(&*tx)
            .insert(&NewDoctor {
                shift: 1,
                name: "carol".into(),
                is_on_call: true,
            })
            .await?;
        inserted.fetch_add(1, Ordering::Relaxed);
        tx.batch_execute("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '40001'; END $$")
            .await?;
        Ok(())
    })
    .await;
    assert!(result.is_err());
    assert_eq!(inserted.load(Ordering::Relaxed), 3);
    assert_eq!(Repo::new(&conn).count::<Doctor>().await.expect("count"), 0);
}

#[tokio::test]
async fn isolation_and_modes_reach_the_server() {
    let db = database().await;
    let mut conn = db.connect().await.expect("connect");
    for (level, shown) in [
        (Isolation::ReadCommitted, "read committed"),
        (Isolation::RepeatableRead, "repeatable read"),
        (Isolation::Serializable, "serializable"),
    ] {
        let options = TxOptions::new().isolation(level);
        let seen = transaction_with(&mut conn, options, async |tx| {
            let row = tx.query_one("SHOW transaction_isolation", &[]).await?;
            Ok(row.get::<_, String>(0))
        })
        .await
        .expect("tx");
        assert_eq!(seen, shown);
    }

    let report = TxOptions::new()
        .isolation(Isolation::Serializable)
        .read_only()
        .deferrable();
    let modes = transaction_with(&mut conn, report, async |tx| {
        let ro = tx.query_one("SHOW transaction_read_only", &[]).await?;
        let de = tx.query_one("SHOW transaction_deferrable", &[]).await?;
        Ok((ro.get::<_, String>(0), de.get::<_, String>(0)))
    })
    .await
    .expect("tx");
    assert_eq!(modes, ("on".to_owned(), "on".to_owned()));

    // A read-only transaction refuses writes.
    let result = transaction_with(&mut conn, TxOptions::new().read_only(), async |tx| {
        Repo::new(&*tx)
            .insert(&NewDoctor {
                shift: 1,
                name: "dan".into(),
                is_on_call: true,
            })
            .await
    })
    .await;
    let err = result.expect_err("read-only");
    assert_eq!(err.sqlstate().map(|c| c.code()), Some("25006"), "{err}");

    // A savepoint cannot change modes.
    let result = ordinance::exec::transaction(&mut conn, async |tx| {
        transaction_with(tx, TxOptions::new().read_only(), async |_| Ok(())).await
    })
    .await;
    assert!(
        matches!(result, Err(Error::InvalidSetting { .. })),
        "{result:?}"
    );
    // With default options, it is an ordinary savepoint.
    ordinance::exec::transaction(&mut conn, async |tx| {
        transaction_with(tx, TxOptions::new(), async |_| Ok(())).await
    })
    .await
    .expect("savepoint");
}
