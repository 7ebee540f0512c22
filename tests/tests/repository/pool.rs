//! The connection pool on a real PostgreSQL: sizes, timeouts, close.

use std::time::{Duration, Instant};

use ordinance::pool::{Pool, PoolOptions};
use ordinance::repo::Repo;
use ordinance::Error;
use ordinance_tests::*;

async fn pool(db: &ordinance::testing::TestDatabase, options: PoolOptions) -> Pool {
    Pool::connect(db.config().clone(), options)
        .await
        .expect("pool")
}

#[tokio::test]
async fn min_size_connections_are_open_from_the_start() {
    let db = fixture_database().await;
    let p = pool(
        &db,
        PoolOptions {
            min_size: 3,
            max_size: 5,
            ..PoolOptions::default()
        },
    )
    .await;
    assert_eq!(p.size(), 3);
    let conn = p.get().await.expect("connection");
    let open: i64 = conn
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(open, 3, "no new connection was needed to serve the request");
}

#[tokio::test]
async fn an_exhausted_pool_times_out_with_a_typed_error() {
    let db = fixture_database().await;
    let wait = Duration::from_millis(150);
    let p = pool(
        &db,
        PoolOptions {
            max_size: 2,
            acquire_timeout: wait,
            ..PoolOptions::default()
        },
    )
    .await;
    let a = p.get().await.expect("first");
    let _b = p.get().await.expect("second");
    let started = Instant::now();
    match p.get().await {
        Err(e @ Error::PoolTimeout { waited, .. }) => {
            assert_eq!(waited, wait);
            assert!(started.elapsed() >= wait);
            assert!(e.to_string().contains("pool is exhausted"), "{e}");
        }
        other => panic!("expected a pool timeout, got {:?}", other.map(|_| ())),
    }
    drop(a);
    let c = p.get().await.expect("a returned connection is reused");
    let repo = Repo::new(&*c);
    assert_eq!(repo.count::<Organization>().await.expect("count"), 0);
}

#[tokio::test]
async fn a_statement_past_the_timeout_is_cancelled_and_typed() {
    let db = fixture_database().await;
    let p = pool(
        &db,
        PoolOptions {
            statement_timeout: Some(Duration::from_millis(200)),
            ..PoolOptions::default()
        },
    )
    .await;
    let conn = p.get().await.expect("connection");
    let repo = Repo::new(&*conn);
    let o = repo
        .insert(&new_organization("Locked"))
        .await
        .expect("insert");
    // Another session holds the row; the update waits on its lock until the timeout.
    let mut other = db.connect().await.expect("second session");
    let tx = other.transaction().await.expect("begin");
    tx.execute(
        "SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE",
        &[&o.id],
    )
    .await
    .expect("lock");
    let started = Instant::now();
    match repo.update(&o).await {
        Err(Error::Cancelled(_)) => assert!(started.elapsed() >= Duration::from_millis(200)),
        other => panic!("expected a statement timeout, got {other:?}"),
    }
    tx.rollback().await.expect("rollback");
    // The connection is still usable, and the row unchanged.
    assert_eq!(
        repo.get::<Organization>(o.id).await.expect("get").version,
        1
    );
}

#[tokio::test]
async fn a_closed_pool_refuses_new_requests() {
    let db = fixture_database().await;
    let p = pool(
        &db,
        PoolOptions {
            min_size: 1,
            ..PoolOptions::default()
        },
    )
    .await;
    p.close();
    assert!(matches!(p.get().await, Err(Error::PoolClosed)));
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_when_set() {
    let db = fixture_database().await;
    for (options, setting) in [
        (
            PoolOptions {
                statement_timeout: Some(Duration::from_micros(500)),
                ..PoolOptions::default()
            },
            "PoolOptions::statement_timeout",
        ),
        (
            PoolOptions {
                max_size: 0,
                ..PoolOptions::default()
            },
            "PoolOptions::max_size",
        ),
        (
            PoolOptions {
                min_size: 4,
                max_size: 2,
                ..PoolOptions::default()
            },
            "PoolOptions::min_size",
        ),
    ] {
        match Pool::connect(db.config().clone(), options).await {
            Err(e @ Error::InvalidSetting { .. }) => {
                assert!(
                    matches!(e, Error::InvalidSetting { setting: s, .. } if s == setting),
                    "{e}"
                );
            }
            other => panic!("expected {setting} to be refused, got {other:?}"),
        }
    }
    // The smallest timeout PostgreSQL can express is accepted, and works.
    let p = pool(
        &db,
        PoolOptions {
            statement_timeout: Some(Duration::from_millis(1)),
            ..PoolOptions::default()
        },
    )
    .await;
    let conn = p.get().await.expect("connection");
    let err = Error::from(
        conn.query("SELECT pg_sleep(0.2)", &[])
            .await
            .expect_err("times out"),
    );
    assert!(matches!(err, Error::Cancelled(_)), "{err:?}");
}
