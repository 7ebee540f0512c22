//! Faults, for real: a server that stops and starts again under load, and
//! backends terminated in the middle of a transaction and right before its
//! commit. No panic, every error during an outage is the typed connection
//! variant, service resumes by itself, and nothing acknowledged is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ordinance::exec::transaction;
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestServer;
use ordinance::Error;
use ordinance_tests::*;

/// A dedicated server holding the fixture schema in its `postgres` database.
async fn dedicated() -> TestServer {
    let server = TestServer::start_dedicated().expect("dedicated server");
    let ddl = ordinance::ddl::SchemaDdl::new(&all_schemas()).expect("schema");
    ordinance::testing::connect(server.config())
        .await
        .expect("connect")
        .batch_execute(&ddl.up())
        .await
        .expect("schema");
    server
}

/// What one operation did, and when it started and ended.
struct Outcome {
    started: Instant,
    ended: Instant,
    result: Result<Option<Uuid>, String>,
    unavailable: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_under_load_loses_nothing_acknowledged() {
    let server = Arc::new(dedicated().await);
    let pool = Pool::connect(
        server.config().clone(),
        PoolOptions {
            min_size: 8,
            max_size: 8,
            acquire_timeout: Duration::from_secs(10),
            ..PoolOptions::default()
        },
    )
    .await
    .expect("pool");
    let org = {
        let conn = pool.get().await.expect("connection");
        Repo::new(&**conn)
            .insert(&new_organization("Acme"))
            .await
            .expect("org")
    };

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let mut workers = Vec::new();
    for worker in 0..16 {
        let (pool, stop, outcomes) = (pool.clone(), stop.clone(), outcomes.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let started = Instant::now();
                let result: Result<Option<Uuid>, Error> = async {
                    let conn = pool.get().await?;
                    let repo = Repo::new(&**conn);
                    if n.is_multiple_of(2) {
                        repo.count::<Task>().await.map(|_| None)
                    } else {
                        let title = format!("worker {worker} task {n}");
                        repo.insert(&new_task(org.id, &title))
                            .await
                            .map(|t| Some(t.id))
                    }
                }
                .await;
                let failed = result.is_err();
                outcomes.lock().expect("lock").push(Outcome {
                    started,
                    ended: Instant::now(),
                    unavailable: matches!(result, Err(Error::Unavailable(_))),
                    result: result.map_err(|e| format!("{e} / {e:?}")),
                });
                if failed {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(400)).await;
    let down = Instant::now();
    tokio::task::spawn_blocking({
        let server = server.clone();
        move || server.shut_down()
    })
    .await
    .expect("join")
    .expect("shut down");
    tokio::time::sleep(Duration::from_millis(700)).await;
    tokio::task::spawn_blocking({
        let server = server.clone();
        move || server.start_again()
    })
    .await
    .expect("join")
    .expect("start again");
    let up = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("no worker panicked");
    }

    let outcomes = std::mem::take(&mut *outcomes.lock().expect("lock"));
    let errors: Vec<&Outcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    assert!(
        !errors.is_empty(),
        "the outage was not seen: {} operations",
        outcomes.len()
    );
    for e in &errors {
        assert!(
            e.unavailable,
            "an error during the outage was not Error::Unavailable: {:?}",
            e.result
        );
        assert!(
            e.ended >= down,
            "an operation failed before the outage: {:?}",
            e.result
        );
    }
    // Service resumes within 1 s of the server accepting connections...
    let first_success_after = outcomes
        .iter()
        .filter(|o| o.result.is_ok() && o.started >= up)
        .map(|o| o.ended.duration_since(up))
        .min()
        .expect("operations succeeded after the restart");
    assert!(
        first_success_after <= Duration::from_secs(1),
        "service resumed {first_success_after:?} after the restart"
    );
    // ...and no dead connection is handed out once it does.
    let failed_after = outcomes
        .iter()
        .filter(|o| o.started >= up && o.result.is_err())
        .count();
    assert_eq!(
        failed_after, 0,
        "operations started after the restart failed (a dead connection was handed out?)"
    );

    // Every insert that returned Ok is in the table.
    let acknowledged: Vec<Uuid> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok().copied().flatten())
        .collect();
    let conn = pool.get().await.expect("connection");
    let stored: i64 = conn
        .query_one(
            "SELECT count(*) FROM tasks WHERE id = ANY($1)",
            &[&acknowledged],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(stored as usize, acknowledged.len());
    assert!(
        acknowledged.len() > 16,
        "too little load: {}",
        acknowledged.len()
    );
    println!(
        "{} operations, {} failed during the outage (all Unavailable), {} inserts acknowledged \
         and stored, first success {:?} after the restart",
        outcomes.len(),
        errors.len(),
        acknowledged.len(),
        first_success_after
    );
    drop(conn);
    pool.close();
}

/// Terminates the backend of `client` from another connection and waits
/// until it is gone.
async fn terminate(admin: &tokio_postgres::Client, pid: i32) {
    let done: bool = admin
        .query_one("SELECT pg_terminate_backend($1, 5000)", &[&pid])
        .await
        .expect("terminate")
        .get(0);
    assert!(done, "backend {pid} did not end");
}

#[tokio::test]
async fn a_backend_terminated_mid_transaction_or_before_commit_leaves_nothing() {
    let db = fixture_database().await;
    let admin = db.connect().await.expect("admin");
    let org = Repo::new(&admin)
        .insert(&new_organization("Acme"))
        .await
        .expect("org");
    let tasks = async |client: &tokio_postgres::Client| {
        Repo::new(client).count::<Task>().await.expect("count")
    };

    // Terminated in the middle: the next statement fails, typed.
    let mut victim = db.connect().await.expect("victim");
    let result = transaction(&mut victim, async |tx| {
        Repo::new(&*tx).insert(&new_task(org.id, "first")).await?;
        let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
        terminate(&admin, pid).await;
        Repo::new(&*tx).insert(&new_task(org.id, "second")).await?;
        Ok(())
    })
    .await;
    assert!(
        matches!(result, Err(Error::Unavailable(_))),
        "mid-transaction: {result:?}"
    );
    assert!(result.as_ref().is_err_and(Error::is_retryable));
    assert_eq!(tasks(&admin).await, 0);

    // Terminated right before COMMIT: the commit's failure is typed too.
    let mut victim = db.connect().await.expect("victim");
    let result = transaction(&mut victim, async |tx| {
        Repo::new(&*tx).insert(&new_task(org.id, "only")).await?;
        let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
        terminate(&admin, pid).await;
        Ok(())
    })
    .await;
    assert!(
        matches!(result, Err(Error::Unavailable(_))),
        "at commit: {result:?}"
    );
    assert_eq!(tasks(&admin).await, 0);
}
