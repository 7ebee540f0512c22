//! A `metrics` recorder that keeps every value it is given, for tests
//! that read back what the kit recorded.

use std::sync::{Arc, Mutex, OnceLock};

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

/// One recorded value: kind, name, labels, value.
#[derive(Debug, Clone)]
pub struct Sample {
    pub kind: &'static str,
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of label `key`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Every value recorded, in order.
#[derive(Default)]
pub struct Store(pub Mutex<Vec<Sample>>);

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
pub fn recorded() -> Arc<Store> {
    static STORE: OnceLock<Arc<Store>> = OnceLock::new();
    let store = STORE
        .get_or_init(|| {
            let store = Arc::new(Store::default());
            metrics::set_global_recorder(Recording(store.clone())).expect("the only recorder");
            store
        })
        .clone();
    ordinance::telemetry::enable_metrics(true);
    store
}

/// The samples of `name` whose pool or table is `ours` (tests run side by
/// side in this process).
pub fn samples(store: &Store, name: &str, ours: &str) -> Vec<Sample> {
    store
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            s.label(ordinance::telemetry::POOL_NAME) == Some(ours)
                || s.label("db.collection.name") == Some(ours)
        })
        .cloned()
        .collect()
}
