//! The kit's spans through `tracing-opentelemetry` into an exporter's
//! in-memory test double (what an OTLP exporter would send): client
//! spans named by their query summary, with OpenTelemetry's database
//! attributes, an error status and SQLSTATE on failure, nested under the
//! caller's span, and never a bound value.

use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use ordinance::repo::Repo;
use ordinance_tests::*;
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

#[tokio::test]
async fn statement_spans_arrive_as_opentelemetry_client_spans() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("ordinance-test");
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    ordinance_tests::two_dispatchers();
    let _guard = tracing::subscriber::set_default(subscriber);

    let db = fixture_database().await;
    let client = db.connect().await.unwrap();
    let secret = "Otel Corp 93c1";
    async {
        let repo = Repo::new(&client);
        let org = repo.insert(&new_organization(secret)).await.unwrap();
        repo.get::<Organization>(org.id).await.unwrap();
        repo.insert(&new_user(org.id, "o@example.com"))
            .await
            .unwrap();
        repo.insert(&new_user(org.id, "o@example.com"))
            .await
            .expect_err("a duplicate email");
    }
    .instrument(tracing::info_span!("GET /orgs"))
    .await;
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();

    let request = spans
        .iter()
        .find(|s| s.name == "GET /orgs")
        .expect("the request");
    let get = spans
        .iter()
        .find(|s| s.name == "SELECT organizations")
        .expect("the get, named by its summary");
    assert_eq!(get.span_kind, SpanKind::Client);
    assert_eq!(get.parent_span_id, request.span_context.span_id());
    assert_eq!(get.span_context.trace_id(), request.span_context.trace_id());
    for (key, value) in [
        ("db.system.name", "postgresql"),
        ("db.collection.name", "organizations"),
        ("db.operation.name", "SELECT"),
        ("db.query.summary", "SELECT organizations"),
    ] {
        assert_eq!(
            attribute(get, key).map(|v| v.as_str().into_owned()),
            Some(value.to_owned()),
            "{key}"
        );
    }
    assert!(
        attribute(get, "db.query.text").is_some_and(|v| v.as_str().contains("WHERE \"id\" = $1"))
    );
    assert_eq!(get.status, Status::Unset);

    let failed = spans
        .iter()
        .filter(|s| s.name == "INSERT users")
        .find(|s| matches!(s.status, Status::Error { .. }))
        .expect("the failed insert, an error");
    assert_eq!(
        attribute(failed, "db.response.status_code").map(|v| v.as_str().into_owned()),
        Some("23505".to_owned())
    );
    assert_eq!(
        attribute(failed, "error.type").map(|v| v.as_str().into_owned()),
        Some("23505".to_owned())
    );
    let everything = format!("{spans:?}");
    assert!(!everything.contains(secret), "a value reached the exporter");
    assert!(
        !everything.contains("o@example.com"),
        "a value reached the exporter"
    );
}
