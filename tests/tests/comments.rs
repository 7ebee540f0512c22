//! Statements that name their caller inside PostgreSQL: with
//! `telemetry::comment_statements`, every statement carries a
//! SQLCommenter comment naming the application, the entity and the
//! operation — seen in `pg_stat_activity` while it runs — and stays one
//! prepared statement per connection. Its own process: comments are
//! turned on for the whole process.

use ordinance::deps::sea_query::{Expr, ExprTrait as _};
use ordinance::query::Fingerprint;
use ordinance::repo::Repo;
use ordinance::Entity as _;
use ordinance_tests::*;

/// Comments on, for the whole process (both tests ask; the first wins).
fn on() {
    let _ = ordinance::telemetry::comment_statements("blog api");
}

async fn activity_of(owner: &ordinance::exec::Connection, pid: i32) -> String {
    owner
        .query_one("SELECT query FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn statements_carry_their_entity_and_operation_without_new_prepared_statements() {
    on();
    assert!(
        !ordinance::telemetry::comment_statements("again"),
        "once only"
    );
    let db = fixture_database().await;
    let owner = db.connect().await.unwrap();
    let conn = db.connect().await.unwrap();
    let pid: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let repo = Repo::new(&conn);
    let org = repo.insert(&new_organization("Acme")).await.unwrap();
    repo.get::<Organization>(org.id).await.unwrap();
    // An idle backend shows its last statement.
    let last = activity_of(&owner, pid).await;
    assert!(
        last.ends_with(" /*app='blog%20api',entity='Organization',operation='get'*/"),
        "{last}"
    );
    // A statement built per call (a list) carries its own.
    repo.list::<Organization>(
        &ordinance::query::live::<Organization>()
            .and_where(Expr::col(OrganizationColumn::Name).eq("Acme"))
            .to_owned(),
    )
    .await
    .unwrap();
    let last = activity_of(&owner, pid).await;
    assert!(last.contains("operation='list'*/"), "{last}");

    // A running statement: an update waiting for a row another
    // transaction holds shows its comment while it waits.
    let mut holder = db.connect().await.unwrap();
    let tx = holder.transaction().await.unwrap();
    tx.execute(
        "SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE",
        &[&org.id],
    )
    .await
    .unwrap();
    let mut changed = repo.get::<Organization>(org.id).await.unwrap();
    changed.name = "Acme Two".into();
    let waiting = tokio::spawn({
        let config = db.config().clone();
        async move {
            let other = ordinance::exec::Connection::connect(&config).await.unwrap();
            let pid: i32 = other
                .query_one("SELECT pg_backend_pid()", &[])
                .await
                .unwrap()
                .get(0);
            let update =
                tokio::spawn(async move { Repo::new(&other).update(&changed).await.map(|_| ()) });
            (pid, update)
        }
    })
    .await
    .unwrap();
    let (waiter, update) = waiting;
    let mut seen = String::new();
    for _ in 0..100 {
        seen = owner
            .query_one(
                "SELECT query FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                &[&waiter],
            )
            .await
            .map(|r| r.get(0))
            .unwrap_or_default();
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        seen.starts_with("UPDATE \"organizations\"")
            && seen.ends_with("/*app='blog%20api',entity='Organization',operation='update'*/"),
        "{seen}"
    );
    tx.rollback().await.unwrap();
    update.await.unwrap().unwrap();

    // Per entity and operation, never per call: the get, run again, is
    // still one prepared statement on its connection.
    for _ in 0..3 {
        repo.get::<Organization>(org.id).await.unwrap();
    }
    let prepared: i64 = conn
        .query_one(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%operation=''get''*/'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(prepared, 1);
    // pg_stat_statements' grouping ignores the comment, and so does the
    // kit's fingerprint of a statement.
    let plain = ordinance::query::Statements::new(Organization::SCHEMA).get;
    assert_ne!(Organization::statements().get, plain);
    assert_eq!(
        Fingerprint::of(&Organization::statements().get),
        Fingerprint::of(&plain)
    );
}

#[tokio::test]
async fn an_unnamed_statement_carries_its_spans_traceparent() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing::Instrument as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    on();
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    ordinance_tests::two_dispatchers();
    let _guard = tracing::subscriber::set_default(subscriber);

    let db = fixture_database().await;
    let owner = db.connect().await.unwrap();
    let conn = db.connect().await.unwrap();
    let pid: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let org = Repo::new(&conn)
        .insert(&new_organization("Traced"))
        .await
        .unwrap();
    let unnamed = ordinance::exec::Unnamed(&conn);
    async {
        Repo::new(&unnamed)
            .get::<Organization>(org.id)
            .await
            .unwrap();
    }
    .instrument(tracing::info_span!("request"))
    .await;
    let last = activity_of(&owner, pid).await;
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let get = spans
        .iter()
        .find(|s| s.name == "SELECT organizations")
        .unwrap_or_else(|| {
            panic!(
                "the get's span in {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    let traceparent = format!(
        "traceparent='00-{}-{}-01'*/",
        get.span_context.trace_id(),
        get.span_context.span_id()
    );
    assert!(
        last.ends_with(&format!(
            "entity='Organization',operation='get',{traceparent}"
        )),
        "{last}"
    );
    // Prepared statements go without: one text per entity and operation.
    Repo::new(&conn).get::<Organization>(org.id).await.unwrap();
    let last = activity_of(&owner, pid).await;
    assert!(
        last.ends_with("operation='get'*/") && !last.contains("traceparent"),
        "{last}"
    );
}
