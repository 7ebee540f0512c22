//! Every repository statement is traced with table, operation, rows and
//! duration, never with the values it carries; slow ones warn.

use std::time::Duration;

use ordinance::deps::sea_query::{Expr, ExprTrait as _};
use ordinance::query::Fingerprint;
use ordinance::repo::Repo;
use ordinance::Entity as _;
use ordinance_tests::spans::{Captured, FieldMap};
use ordinance_tests::*;

#[tokio::test]
async fn statements_are_traced_without_their_values() {
    let (captured, _guard) = Captured::install();

    let db = fixture_database().await;
    let client = db.connect().await.expect("connect");
    let repo = Repo::new(&client);
    let secret = "Secret Corp 7f3a";
    let o = repo
        .insert(&new_organization(secret))
        .await
        .expect("insert");
    repo.get::<Organization>(o.id).await.expect("get");
    assert!(repo.purge::<Organization>(o.id).await.expect("purge"));

    let spans = captured.spans.lock().expect("lock").clone();
    let statements: Vec<_> = spans
        .values()
        .filter(|(name, _)| name == "ordinance.statement")
        .map(|(_, f)| f.clone())
        .collect();
    let ops: Vec<(&str, &str, &str)> = statements
        .iter()
        .map(|f| {
            (
                f["table"].as_str(),
                f["operation"].as_str(),
                f["rows"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            ("organizations", "insert", "1"),
            ("organizations", "get", "1"),
            ("organizations", "purge", "1")
        ]
    );
    for f in &statements {
        assert!(f["duration_us"].parse::<u64>().is_ok(), "{f:?}");
    }
    let everything = format!("{spans:?} {:?}", captured.events.lock().expect("lock"));
    assert!(
        !everything.contains(secret),
        "a bound value reached the traces"
    );
    assert!(
        !everything.contains(&o.id.to_string()),
        "an id reached the traces"
    );
    assert!(
        captured
            .events
            .lock()
            .expect("lock")
            .iter()
            .all(|(level, _)| level != "WARN"),
        "fast statements do not warn"
    );
}

/// A service that keeps warnings and no spans still hears of a slow
/// statement: the kit skips reading the clock only when nobody can see
/// the duration.
#[tokio::test]
async fn a_slow_statement_warns_a_subscriber_that_keeps_no_spans() {
    let (captured, _guard) = Captured::install_at(tracing::level_filters::LevelFilter::WARN);

    let db = fixture_database().await;
    let client = db.connect().await.expect("connect");
    let repo = Repo::new(&client).with_slow_statement_threshold(Duration::ZERO);
    let o = repo
        .insert(&new_organization("Slow Corp"))
        .await
        .expect("insert");
    repo.get::<Organization>(o.id).await.expect("get");

    assert!(
        captured.spans.lock().expect("lock").is_empty(),
        "the subscriber keeps no spans"
    );
    let events = captured.events.lock().expect("lock").clone();
    let operations: Vec<&str> = events
        .iter()
        .filter(|(level, fields)| level == "WARN" && fields["message"] == "slow statement")
        .map(|(_, fields)| fields["operation"].as_str())
        .collect();
    assert_eq!(operations, ["insert", "get"], "{events:?}");
    // Not slow at the default threshold: nothing to say.
    let quiet = Repo::new(&client);
    quiet.get::<Organization>(o.id).await.expect("get");
    assert_eq!(captured.events.lock().expect("lock").len(), events.len());
}

#[tokio::test]
async fn a_statement_slower_than_the_threshold_warns() {
    let (captured, _guard) = Captured::install();

    let db = fixture_database().await;
    let client = db.connect().await.expect("connect");
    let repo = Repo::new(&client).with_slow_statement_threshold(Duration::ZERO);
    repo.count::<Organization>().await.expect("count");
    let secret = "a-name-that-must-not-be-logged";
    repo.list::<Organization>(
        &ordinance::query::live::<Organization>()
            .and_where(Expr::col(OrganizationColumn::Name).eq(secret))
            .to_owned(),
    )
    .await
    .expect("list");
    let events = captured.events.lock().expect("lock").clone();
    let warnings: Vec<&FieldMap> = events
        .iter()
        .filter(|(level, _)| level == "WARN")
        .map(|(_, fields)| fields)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    let count = warnings[0];
    assert_eq!(count["message"], "slow statement");
    assert_eq!(count["entity"], "Organization");
    assert_eq!(count["table"], "organizations");
    assert_eq!(count["operation"], "count");
    // The fingerprint is the statement's shape, the one the statistics of
    // pg_stat_statements report for it.
    assert_eq!(
        count["fingerprint"],
        Fingerprint::of(&Organization::statements().count).to_string()
    );
    let list = warnings[1];
    assert_eq!(list["operation"], "list");
    assert_eq!(list["fingerprint"].len(), 16);
    assert_ne!(list["fingerprint"], count["fingerprint"]);
    for fields in warnings {
        assert!(
            fields.values().all(|v| !v.contains(secret)),
            "a value was logged: {fields:?}"
        );
    }
}

#[tokio::test]
async fn statement_spans_follow_opentelemetry_database_conventions() {
    let (captured, _guard) = Captured::install();

    let db = fixture_database().await;
    let client = db.connect().await.expect("connect");
    let repo = Repo::new(&client);
    let org = repo
        .insert(&new_organization("Acme 42"))
        .await
        .expect("insert");
    let user = repo
        .insert(&new_user(org.id, "ada@example.com"))
        .await
        .expect("user");
    repo.get::<Organization>(org.id).await.expect("get");
    // The same email again: PostgreSQL refuses it (23505).
    let err = repo
        .insert(&new_user(org.id, "ada@example.com"))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(err, ordinance::Error::UniqueViolation { .. }),
        "{err}"
    );

    let spans = captured.spans.lock().expect("lock").clone();
    let statements: Vec<FieldMap> = spans
        .values()
        .filter(|(name, _)| name == "ordinance.statement")
        .map(|(_, f)| f.clone())
        .collect();
    assert_eq!(statements.len(), 4, "{statements:#?}");
    let get = &statements[2];
    for (key, value) in [
        ("otel.name", "SELECT organizations"),
        ("otel.kind", "client"),
        ("db.system.name", "postgresql"),
        ("db.collection.name", "organizations"),
        ("db.operation.name", "SELECT"),
        ("db.query.summary", "SELECT organizations"),
        ("db.response.returned_rows", "1"),
        ("table", "organizations"),
        ("operation", "get"),
    ] {
        assert_eq!(
            get.get(key).map(String::as_str),
            Some(value),
            "{key} in {get:#?}"
        );
    }
    // Where it went: the test database, on the throwaway server.
    let config = db.config();
    assert_eq!(get["db.namespace"], config.get_dbname().unwrap());
    assert!(!get["server.address"].is_empty());
    assert_eq!(
        get["server.port"],
        config
            .get_ports()
            .first()
            .copied()
            .unwrap_or(5432)
            .to_string()
    );
    // The parameterized text only.
    assert_eq!(get["db.query.text"], Organization::statements().get);
    assert!(get["db.query.text"].contains("$1"));
    assert!(!get.contains_key("error.type"));
    let failed = &statements[3];
    for (key, value) in [
        ("otel.name", "INSERT users"),
        ("db.operation.name", "INSERT"),
        ("otel.status_code", "ERROR"),
        ("db.response.status_code", "23505"),
        ("error.type", "23505"),
    ] {
        assert_eq!(
            failed.get(key).map(String::as_str),
            Some(value),
            "{key} in {failed:#?}"
        );
    }
    let everything = format!("{spans:?}");
    for value in [
        "Acme 42",
        "ada@example.com",
        &org.id.to_string(),
        &user.id.to_string(),
    ] {
        assert!(!everything.contains(value), "{value} reached a span");
    }
}

#[tokio::test]
async fn transactions_retries_relations_batches_and_bulk_nest_under_the_callers_span() {
    use ordinance::exec::{transaction_with, Retry, TxOptions};
    use tracing::Instrument as _;
    let (captured, _guard) = Captured::install();

    let db = fixture_database().await;
    let mut conn = db.connect().await.expect("connect");
    let request = tracing::info_span!("request");
    async {
        // A transaction whose first run meets a serialization failure.
        let runs = std::sync::atomic::AtomicU32::new(0);
        let retry = TxOptions::new()
            .retry(Retry::attempts(3).backoff(Duration::from_millis(1), Duration::from_millis(2)));
        transaction_with(&mut conn, retry, async |tx| {
            let repo = Repo::new(&*tx);
            repo.insert(&new_organization("Nested")).await?;
            if runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
                tx.batch_execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$",
                )
                .await?;
            }
            Ok(())
        })
        .await
        .expect("transaction");
        let orgs: Vec<NewOrganization> = (0..5)
            .map(|i| new_organization(&format!("Batch {i}")))
            .collect();
        let stored = ordinance::batch::insert_many(&mut conn, &orgs)
            .await
            .expect("batch");
        let repo = Repo::new(&conn);
        let users = repo
            .insert(&new_user(stored[0].id, "n@example.com"))
            .await
            .expect("user");
        repo.parents(std::slice::from_ref(&users), User::ORGANIZATION)
            .await
            .expect("parents");
        ordinance::bulk::Bulk::<Organization>::new()
            .chunk(2)
            .soft_delete(&conn)
            .await
            .expect("bulk");
    }
    .instrument(request)
    .await;

    let tx = captured.named("ordinance.transaction");
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].1["attempts"], "2");
    assert_eq!(captured.ancestors(tx[0].0), ["request"]);
    let attempts = captured.named("ordinance.transaction.attempt");
    assert_eq!(
        attempts
            .iter()
            .map(|(_, f)| f["attempt"].as_str())
            .collect::<Vec<_>>(),
        ["1", "2"]
    );
    for (id, _) in &attempts {
        assert_eq!(
            captured.ancestors(*id),
            ["ordinance.transaction", "request"]
        );
    }
    let statements = captured.named("ordinance.statement");
    let insert_in_tx = statements
        .iter()
        .find(|(_, f)| f["operation"] == "insert" && f["table"] == "organizations")
        .expect("the transaction's insert");
    assert_eq!(
        captured.ancestors(insert_in_tx.0),
        [
            "ordinance.transaction.attempt",
            "ordinance.transaction",
            "request"
        ]
    );

    let batch = captured.named("ordinance.batch");
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].1["operation"], "insert_many");
    assert_eq!(batch[0].1["db.operation.batch.size"], "5");
    assert_eq!(batch[0].1["db.collection.name"], "organizations");
    assert_eq!(captured.ancestors(batch[0].0), ["request"]);

    let relation = captured.named("ordinance.relation");
    assert_eq!(relation.len(), 1);
    assert_eq!(relation[0].1["operation"], "load_parents");
    let load = statements
        .iter()
        .find(|(_, f)| f["operation"] == "load_parents")
        .expect("the load's statement");
    assert_eq!(
        captured.ancestors(load.0),
        ["ordinance.relation", "request"]
    );

    let bulk = captured.named("ordinance.bulk");
    assert_eq!(bulk.len(), 1);
    assert_eq!(bulk[0].1["operation"], "bulk_soft_delete");
    let chunks = captured.named("ordinance.bulk.chunk");
    assert!(chunks.len() >= 3, "6 rows, 2 per chunk: {chunks:?}");
    for (id, _) in &chunks {
        assert_eq!(captured.ancestors(*id), ["ordinance.bulk", "request"]);
    }
    let chunk_statement = statements
        .iter()
        .find(|(id, f)| {
            f["operation"] == "bulk_soft_delete"
                && captured.ancestors(*id)[0] == "ordinance.bulk.chunk"
        })
        .expect("a chunk's statement");
    let _ = chunk_statement;
}
