//! Timing helpers the benchmarks share: kit and baseline run alternately in
//! one process, on the same server, and are compared by their medians.

#![allow(dead_code)]

pub mod accounts;
pub mod tree;

use std::future::Future;
use std::time::{Duration, Instant};

/// The middle sample.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Prints one comparison line: the kit's median, the baseline's, the ratio.
pub fn report(name: &str, kit: Duration, base: Duration, base_name: &str) {
    println!(
        "{name:<34} {:>10.1} µs {:>10.1} µs  {:>6.2}x  (vs {base_name})",
        kit.as_secs_f64() * 1e6,
        base.as_secs_f64() * 1e6,
        kit.as_secs_f64() / base.as_secs_f64()
    );
}

/// Runs `kit` and `base` alternately, `warmup + n` times each, and returns
/// the medians of the last `n`.
pub async fn alternate<K, B, KF, BF>(
    warmup: usize,
    n: usize,
    mut kit: K,
    mut base: B,
) -> (Duration, Duration)
where
    K: FnMut(usize) -> KF,
    B: FnMut(usize) -> BF,
    KF: Future<Output = ()>,
    BF: Future<Output = ()>,
{
    let (mut ks, mut bs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..warmup + n {
        let t = Instant::now();
        kit(i).await;
        let k = t.elapsed();
        let t = Instant::now();
        base(i).await;
        let b = t.elapsed();
        if i >= warmup {
            ks.push(k);
            bs.push(b);
        }
    }
    (median(ks), median(bs))
}

/// The fixed-call mode for instruction counts: `ORDINANCE_BENCH_ONLY=<name>`
/// with `ORDINANCE_BENCH_CALLS=<n>` runs only the variant `name`, `n`
/// times, with no timing loop, so `valgrind --tool=callgrind` runs of
/// `n = 0` and `n = N` differ by exactly N calls' instructions.
pub fn only() -> Option<(String, usize)> {
    let name = std::env::var("ORDINANCE_BENCH_ONLY").ok()?;
    let calls = std::env::var("ORDINANCE_BENCH_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    Some((name, calls))
}

/// In the fixed-call mode, runs `f` the requested number of times if `name`
/// is the variant asked for, and says whether it did.
pub async fn run_only<F, Fut>(name: &str, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    match only() {
        Some((only, calls)) if only == name => {
            for _ in 0..calls {
                f().await;
            }
            true
        }
        _ => false,
    }
}

/// One comparison: in the fixed-call mode, runs `<name>-kit` or
/// `<name>-base` if that is the variant asked for (and says so: the caller
/// then stops); otherwise times both alternately and prints the line.
pub async fn pair<K, B, KF, BF>(
    name: &str,
    label: &str,
    base_label: &str,
    (warmup, n): (usize, usize),
    mut kit: K,
    mut base: B,
) -> bool
where
    K: FnMut(usize) -> KF,
    B: FnMut(usize) -> BF,
    KF: Future<Output = ()>,
    BF: Future<Output = ()>,
{
    if let Some((only, calls)) = only() {
        let run_kit = only == format!("{name}-kit");
        let run_base = only == format!("{name}-base");
        for i in 0..calls {
            if run_kit {
                kit(i).await;
            } else if run_base {
                base(i).await;
            }
        }
        return run_kit || run_base;
    }
    let (k, b) = alternate(warmup, n, kit, base).await;
    report(label, k, b, base_label);
    false
}

/// What a production service installs, for measuring its cost:
/// `ORDINANCE_BENCH_SUBSCRIBER=otel` installs an OpenTelemetry pipeline
/// (exporting in memory), `ORDINANCE_BENCH_SUBSCRIBER=1` a subscriber
/// that keeps every INFO span with all its fields formatted, and
/// `ORDINANCE_BENCH_METRICS=1` a recorder that adds up every metric and
/// turns the kit's metrics on. Unset, nothing is installed.
pub fn instrument() {
    match std::env::var("ORDINANCE_BENCH_SUBSCRIBER").as_deref() {
        // An OpenTelemetry pipeline as a service runs one: the
        // `tracing-opentelemetry` layer, the SDK's batch processor, an
        // exporter (in memory here, instead of the network).
        Ok("otel") => {
            use opentelemetry::trace::TracerProvider as _;
            use tracing_subscriber::layer::SubscriberExt as _;
            let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
                .with_batch_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
                .build();
            let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
            std::mem::forget(provider);
        }
        Ok(_) => {
            use tracing_subscriber::layer::SubscriberExt as _;
            let subscriber = tracing_subscriber::registry().with(KeepFields);
            tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        }
        Err(_) => {}
    }
    if std::env::var_os("ORDINANCE_BENCH_METRICS").is_some() {
        metrics::set_global_recorder(Adding).expect("one recorder");
        ordinance::telemetry::enable_metrics(true);
    }
}

/// A layer that reads every field of every span, into a string per span.
struct KeepFields;

struct Collect(String);

impl tracing::field::Visit for Collect {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write as _;
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl<S> tracing_subscriber::Layer<S> for KeepFields
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = Collect(String::new());
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields.0);
        }
    }
    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            let mut fields = Collect(String::new());
            values.record(&mut fields);
            if let Some(kept) = span.extensions_mut().get_mut::<String>() {
                kept.push_str(&fields.0);
            }
        }
    }
}

/// A recorder adding every value into one atomic per kind.
struct Adding;

static ADDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

struct Add;

impl metrics::CounterFn for Add {
    fn increment(&self, value: u64) {
        ADDED.fetch_add(value, std::sync::atomic::Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        ADDED.fetch_add(value, std::sync::atomic::Ordering::Relaxed);
    }
}

impl metrics::GaugeFn for Add {
    fn increment(&self, _: f64) {}
    fn decrement(&self, _: f64) {}
    fn set(&self, _: f64) {
        ADDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl metrics::HistogramFn for Add {
    fn record(&self, _: f64) {
        ADDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl metrics::Recorder for Adding {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::from_arc(std::sync::Arc::new(Add))
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::from_arc(std::sync::Arc::new(Add))
    }
    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::from_arc(std::sync::Arc::new(Add))
    }
}
