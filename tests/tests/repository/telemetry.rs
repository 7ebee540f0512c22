//! Metrics through the `metrics` facade, captured by a recording
//! recorder: statement durations by table and operation, the pools'
//! gauges, wait and create times and timeouts, stale versions, a replica
//! set's health for an endpoint — and never a bound value in a label.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use ordinance::cluster::{Cluster, ClusterOptions};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::telemetry;
use ordinance::Error;
use ordinance_tests::*;

/// One recorded value: kind, name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    kind: &'static str,
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Sample {
    fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Store(Mutex<Vec<Sample>>);

struct Handle {
    kind: &'static str,
    key: Key,
    store: Arc<Store>,
}

impl Handle {
    fn push(&self, value: f64) {
        self.store.0.lock().unwrap().push(Sample {
            kind: self.kind,
            name: self.key.name().to_owned(),
            labels: self
                .key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect(),
            value,
        });
    }
}

impl CounterFn for Handle {
    fn increment(&self, value: u64) {
        self.push(value as f64);
    }
    fn absolute(&self, value: u64) {
        self.push(value as f64);
    }
}

impl GaugeFn for Handle {
    fn increment(&self, value: f64) {
        self.push(value);
    }
    fn decrement(&self, value: f64) {
        self.push(-value);
    }
    fn set(&self, value: f64) {
        self.push(value);
    }
}

impl HistogramFn for Handle {
    fn record(&self, value: f64) {
        self.push(value);
    }
}

struct Recording(Arc<Store>);

impl Recording {
    fn handle(&self, kind: &'static str, key: &Key) -> Arc<Handle> {
        Arc::new(Handle {
            kind,
            key: key.clone(),
            store: self.0.clone(),
        })
    }
}

impl Recorder for Recording {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.handle("counter", key))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.handle("gauge", key))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.handle("histogram", key))
    }
}

/// The process's recorder (one per process), recording from now on.
fn recorded() -> Arc<Store> {
    static STORE: OnceLock<Arc<Store>> = OnceLock::new();
    let store = STORE
        .get_or_init(|| {
            let store = Arc::new(Store::default());
            metrics::set_global_recorder(Recording(store.clone())).expect("the only recorder");
            store
        })
        .clone();
    telemetry::enable_metrics(true);
    store
}

/// The samples of `name` whose pool or table is `ours` (tests run side by
/// side in this process).
fn samples(store: &Store, name: &str, ours: &str) -> Vec<Sample> {
    store
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            s.label(telemetry::POOL_NAME) == Some(ours)
                || s.label("db.collection.name") == Some(ours)
        })
        .cloned()
        .collect()
}

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
