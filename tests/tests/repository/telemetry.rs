//! Metrics through the `metrics` facade, captured by a recording
//! recorder: statement durations by table and operation, the pools'
//! gauges, wait and create times and timeouts, stale versions, a replica
//! set's health for an endpoint — and never a bound value in a label.

use std::time::Duration;

use ordinance::cluster::{Cluster, ClusterOptions};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::telemetry;
use ordinance::Error;
use ordinance_tests::recording::{recorded, samples};
use ordinance_tests::*;

#[tokio::test]
async fn statements_pools_and_stale_versions_are_measured_without_values() {
    let store = recorded();
    let db = fixture_database().await;
    let pool = Pool::connect(
        db.config().clone(),
        PoolOptions {
            max_size: 1,
            acquire_timeout: Duration::from_millis(100),
            name: Some("metrics-pool".into()),
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    let cluster = Cluster::new(pool.clone(), Vec::new(), ClusterOptions::default()).unwrap();
    assert_eq!(
        cluster.primary().name(),
        "metrics-pool",
        "a given name is kept"
    );
    let repo = cluster.repo();
    let secret = "Metrics Corp 5b1e";
    let org = repo.insert(&new_organization(secret)).await.unwrap();
    repo.get::<Organization>(org.id).await.unwrap();
    let mut renamed = org.clone();
    renamed.name = "Renamed".into();
    repo.update(&renamed).await.unwrap();
    // The same copy again: stale.
    let err = repo.update(&renamed).await.unwrap_err();
    assert!(matches!(err, Error::StaleVersion { .. }), "{err}");

    let durations = samples(&store, telemetry::OPERATION_DURATION, "organizations");
    let get = durations
        .iter()
        .find(|s| s.label("ordinance.operation") == Some("get"))
        .expect("the get's duration");
    assert_eq!(get.kind, "histogram");
    assert_eq!(get.label("db.system.name"), Some("postgresql"));
    assert_eq!(get.label("db.operation.name"), Some("SELECT"));
    assert!(
        get.value > 0.0 && get.value < 10.0,
        "seconds: {}",
        get.value
    );
    assert!(durations
        .iter()
        .any(|s| s.label("ordinance.operation") == Some("insert")
            && s.label("db.operation.name") == Some("INSERT")));
    let stale = samples(&store, telemetry::STALE_VERSIONS, "organizations");
    assert!(!stale.is_empty(), "the stale update is counted");

    // The pool: wait times, its gauges, one connection's creation.
    assert!(!samples(&store, telemetry::CONNECTION_WAIT_TIME, "metrics-pool").is_empty());
    assert!(!samples(&store, telemetry::CONNECTION_CREATE_TIME, "metrics-pool").is_empty());
    let max = samples(&store, telemetry::CONNECTION_MAX, "metrics-pool");
    assert_eq!(max.last().map(|s| s.value), Some(1.0));
    let held = pool.get().await.unwrap();
    let status = pool.status();
    assert_eq!(
        (status.max, status.open, status.in_use, status.idle),
        (1, 1, 1, 0)
    );
    let used = samples(&store, telemetry::CONNECTION_COUNT, "metrics-pool");
    let last_used = used
        .iter()
        .rev()
        .find(|s| s.label("db.client.connection.state") == Some("used"))
        .expect("used connections");
    assert_eq!(last_used.value, 1.0);
    // The only connection is lent: the next request times out, counted.
    let err = pool.get().await.unwrap_err();
    assert!(matches!(err, Error::PoolTimeout { .. }), "{err}");
    assert_eq!(
        samples(&store, telemetry::CONNECTION_TIMEOUTS, "metrics-pool").len(),
        1
    );
    drop(held);
    // How long each was lent, recorded as it came back.
    let used = samples(&store, telemetry::CONNECTION_USE_TIME, "metrics-pool");
    assert!(used.len() >= 2, "{used:?}");
    assert!(used.iter().all(|s| s.value >= 0.0 && s.value < 60.0));

    let health = cluster.health().await;
    assert_eq!(health.primary.name, "metrics-pool");
    assert!(health.replicas.is_empty());
    let json = serde_json::to_value(&health).unwrap();
    assert_eq!(json["primary"]["max"], 1);

    let everything = format!("{:?}", store.0.lock().unwrap());
    assert!(!everything.contains(secret), "a value reached a metric");
    assert!(
        !everything.contains(&org.id.to_string()),
        "an id reached a metric"
    );
}

#[tokio::test]
async fn a_retried_transaction_is_counted_by_its_sqlstate() {
    use ordinance::exec::{transaction_with, Retry, TxOptions};
    let store = recorded();
    let db = fixture_database().await;
    let mut conn = db.connect().await.unwrap();
    let before = |code: &str| {
        store
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.name == telemetry::RETRIES && s.label("error.type") == Some(code))
            .count()
    };
    // A code no other test of this process retries on.
    let (deadlocks, runs) = (before("40P01"), std::sync::atomic::AtomicU32::new(0));
    let retry = TxOptions::new()
        .retry(Retry::attempts(5).backoff(Duration::from_millis(1), Duration::from_millis(2)));
    transaction_with(&mut conn, retry, async |tx| {
        if runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 2 {
            tx.batch_execute(
                "DO $$ BEGIN RAISE EXCEPTION 'victim' USING ERRCODE = '40P01'; END $$",
            )
            .await?;
        }
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(before("40P01") - deadlocks, 2, "two runs retried");
}
