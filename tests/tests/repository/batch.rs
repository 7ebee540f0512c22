//! Batch inserts past the bind-parameter limit, all or nothing.

use ordinance::batch::{copy_in, insert_many, insert_many_count};
use ordinance::prelude::*;
use ordinance::query::MAX_PARAMETERS;
use ordinance::repo::Repo;
use ordinance::{Entity, Error, Json};
use ordinance_tests::*;

const ROWS: usize = 100_000;

/// Row `i` of a batch: distinct order, a spread of priorities and labels.
fn task(org: Uuid, i: usize) -> NewTask {
    NewTask {
        order: i as i32,
        priority: 1 + (i % 5) as i16,
        estimate_minutes: Some(i as i64),
        labels: vec![format!("l{}", i % 7)],
        ..new_task(org, &format!("task {i}"))
    }
}

async fn organization(client: &tokio_postgres::Client) -> Uuid {
    Repo::new(client)
        .insert(&new_organization("Batch"))
        .await
        .expect("org")
        .id
}

#[test]
fn the_batch_is_one_copy_whatever_the_row_count() {
    let s = Task::statements();
    // id + 10 business columns; timestamps, version and deleted_at take
    // their defaults.
    assert_eq!(s.insert_types.len(), 11);
    assert!(
        s.copy_in.starts_with("COPY \"tasks\" (\"id\", "),
        "{}",
        s.copy_in
    );
    assert!(s.copy_in.ends_with("FROM STDIN (FORMAT binary)"));
    assert!(!s.copy_in.contains("created_at"));
    const {
        assert!(
            ROWS * 11 > MAX_PARAMETERS,
            "one VALUES list could not carry the batch"
        )
    };
}

#[tokio::test]
async fn a_hundred_thousand_rows_insert_in_one_transaction() {
    let db = fixture_database().await;
    let mut client = application_connection(&db).await;
    let org = organization(&client).await;
    let rows: Vec<NewTask> = (0..ROWS).map(|i| task(org, i)).collect();
    let stored = insert_many(&mut client, &rows).await.expect("batch insert");
    assert_eq!(stored.len(), ROWS);
    assert!(stored
        .iter()
        .enumerate()
        .all(|(i, t)| t.order == i as i32 && t.version == 1));
    assert_eq!(
        Repo::new(&client).count::<Task>().await.expect("count"),
        ROWS as i64
    );
    assert_eq!(
        insert_many::<NewTask, _>(&mut client, &[])
            .await
            .expect("empty")
            .len(),
        0
    );
}

#[tokio::test]
async fn awkward_values_round_trip_through_the_column_arrays() {
    let db = fixture_database().await;
    let mut client = application_connection(&db).await;
    let org = organization(&client).await;
    let awkward = [
        "",
        "NULL",
        "a,b",
        "{x}",
        "quote\" and backslash \\",
        "'; DROP TABLE tasks; --",
        "tab\tnewline\n",
        "ünïcødé ✓ 日本",
    ];
    let rows: Vec<NewTask> = (0..awkward.len())
        .map(|i| NewTask {
            labels: awkward[..i].iter().map(|s| (*s).to_owned()).collect(),
            due_on: (i % 2 == 0)
                .then(|| NaiveDate::from_ymd_opt(2026, 1, 1 + i as u32).expect("date")),
            estimate_minutes: None,
            ..task(org, i)
        })
        .collect();
    let stored = insert_many(&mut client, &rows).await.expect("batch insert");
    for (row, task) in rows.iter().zip(&stored) {
        let read: Task = Repo::new(&client).get(task.id).await.expect("get");
        assert_eq!(read.labels, row.labels);
        assert_eq!(read.due_on, row.due_on);
        assert_eq!(read.estimate_minutes, None);
        assert_eq!(read.title, row.title);
    }
}

#[tokio::test]
async fn one_bad_row_inserts_nothing_and_names_the_constraint() {
    let db = fixture_database().await;
    let mut client = application_connection(&db).await;
    let org = organization(&client).await;
    let mut rows: Vec<NewTask> = (0..ROWS).map(|i| task(org, i)).collect();
    // The last row names an assignee who does not exist: only the server
    // can tell, after every earlier row was sent.
    rows[ROWS - 1].assignee_id = Some(Uuid::now_v7());
    match insert_many(&mut client, &rows).await {
        Err(Error::ForeignKeyViolation {
            constraint, column, ..
        }) => {
            assert_eq!(constraint, "tasks_assignee_id_fkey");
            assert_eq!(column, Some("assignee_id"));
        }
        other => panic!(
            "expected a foreign key violation, got {:?}",
            other.map(|v| v.len())
        ),
    }
    assert_eq!(Repo::new(&client).count::<Task>().await.expect("count"), 0);
}

#[tokio::test]
async fn a_batch_with_a_bad_value_is_refused_whole_naming_its_row() {
    let db = fixture_database().await;
    let mut client = application_connection(&db).await;
    let org = organization(&client).await;
    let mut rows: Vec<NewTask> = (0..1000).map(|i| task(org, i)).collect();
    rows[737].priority = 9;
    rows[737].title = String::new();
    rows[900].order = -1;
    let err = insert_many(&mut client, &rows).await.unwrap_err();
    match &err {
        Error::Invalid {
            table: "tasks",
            row: Some(737),
            violations,
            ..
        } => {
            let rules: Vec<_> = violations.iter().map(|v| (v.column, v.rule)).collect();
            assert_eq!(
                rules,
                [
                    ("title", ordinance::Rule::MinLen { min: 1 }),
                    ("priority", ordinance::Rule::Max { max: 5 }),
                ]
            );
        }
        other => panic!("expected row 737 refused, got {other:?}"),
    }
    assert!(err.to_string().contains("in row 737 of the batch"), "{err}");
    for refused in [
        insert_many_count(&mut client, &rows).await.unwrap_err(),
        copy_in(&client, &rows).await.unwrap_err(),
    ] {
        assert!(
            matches!(refused, Error::Invalid { row: Some(737), .. }),
            "{refused:?}"
        );
    }
    assert_eq!(Repo::new(&client).count::<Task>().await.expect("count"), 0);
}

#[tokio::test]
async fn inside_a_transaction_a_failed_batch_rolls_back_to_its_savepoint() {
    let db = fixture_database().await;
    let mut client = application_connection(&db).await;
    let org = organization(&client).await;
    let mut tx = client.transaction().await.expect("begin");
    Repo::new(&tx)
        .insert(&task(org, 0))
        .await
        .expect("one task");
    let mut rows: Vec<NewTask> = (1..10).map(|i| task(org, i)).collect();
    rows[5].assignee_id = Some(Uuid::now_v7()); // no such user
    assert!(matches!(
        insert_many(&mut tx, &rows).await,
        Err(Error::ForeignKeyViolation { .. })
    ));
    let good: Vec<NewTask> = (1..4).map(|i| task(org, i)).collect();
    insert_many(&mut tx, &good)
        .await
        .expect("the transaction goes on");
    tx.commit().await.expect("commit");
    assert_eq!(Repo::new(&client).count::<Task>().await.expect("count"), 4);
}

#[tokio::test]
async fn binary_copy_writes_every_row_or_none() {
    let db = fixture_database().await;
    let client = application_connection(&db).await;
    let org = organization(&client).await;
    let rows: Vec<NewTask> = (0..ROWS).map(|i| task(org, i)).collect();
    assert_eq!(copy_in(&client, &rows).await.expect("copy"), ROWS as u64);
    let repo = Repo::new(&client);
    assert_eq!(repo.count::<Task>().await.expect("count"), ROWS as i64);
    let (version, labels): (i32, Vec<String>) = {
        let r = client
            .query_one(
                "SELECT version, labels FROM tasks WHERE \"order\" = 41",
                &[],
            )
            .await
            .expect("row");
        (r.get(0), r.get(1))
    };
    assert_eq!((version, labels), (1, vec!["l6".to_owned()]));

    let mut bad: Vec<NewTask> = (0..1000).map(|i| task(org, i)).collect();
    bad[999].status = TaskStatus::Done;
    bad[999].assignee_id = Some(Uuid::now_v7());
    assert!(matches!(
        copy_in(&client, &bad).await,
        Err(Error::ForeignKeyViolation { ref constraint, .. }) if constraint == "tasks_assignee_id_fkey"
    ));
    assert_eq!(
        repo.count::<Task>().await.expect("count"),
        ROWS as i64,
        "the failed copy left nothing"
    );
}

#[tokio::test]
async fn every_column_type_survives_the_batch_path_exactly() {
    let db = fixture_database().await;
    let mut client = application_connection(&db).await;
    let org = organization(&client).await;
    let user = Repo::new(&client)
        .insert(&new_user(org, "batch@example.com"))
        .await
        .expect("user");
    let invoices: Vec<NewInvoice> = (0..50)
        .map(|i| NewInvoice {
            organization_id: org,
            amount: format!("{i}2345678.1{}", i % 10).parse().expect("decimal"),
            fx_rate: (i % 3 != 0).then(|| "0.000000000000000001".parse().expect("decimal")),
            currency: "EUR".into(),
            has_been_paid: i % 2 == 0,
            lines: Json(serde_json::json!([{"sku": format!("s{i}"), "qty": i}])),
            billing_account_id: Uuid::new_v4(),
        })
        .collect();
    let stored = insert_many(&mut client, &invoices).await.expect("invoices");
    let repo = Repo::new(&client);
    for (new, invoice) in invoices.iter().zip(&stored) {
        let read: Invoice = repo.get(invoice.id).await.expect("get");
        assert_eq!(&read, invoice);
        assert_eq!(
            read.amount.to_string(),
            new.amount.to_string(),
            "exact money"
        );
        assert_eq!(read.fx_rate, new.fx_rate);
        assert_eq!(read.lines, new.lines);
        assert_eq!(read.has_been_paid, new.has_been_paid);
    }
    let events: Vec<NewAuditEvent> = [Some(0.1), None, Some(f64::MAX), Some(-0.0)]
        .into_iter()
        .map(|latency_ms| NewAuditEvent {
            actor_id: user.id,
            action: "batch".into(),
            latency_ms,
            payload: serde_json::json!({"nested": {"list": [1, "two", null]}}),
        })
        .collect();
    let stored = insert_many(&mut client, &events).await.expect("events");
    let repo = Repo::new(&client);
    for (new, event) in events.iter().zip(&stored) {
        let read: AuditEvent = repo.get(event.id).await.expect("get");
        assert_eq!(read.latency_ms, new.latency_ms);
        assert_eq!(read.payload, new.payload);
    }
}

#[tokio::test]
async fn the_counting_batch_is_all_or_nothing_too() {
    let db = fixture_database().await;
    let mut client = application_connection(&db).await;
    let org = organization(&client).await;
    let n = 40_007;
    let mut rows: Vec<NewTask> = (0..n).map(|i| task(org, i)).collect();
    rows[n - 1].assignee_id = Some(Uuid::now_v7()); // no such user, the last row sent
    match insert_many_count(&mut client, &rows).await {
        Err(Error::ForeignKeyViolation {
            constraint, column, ..
        }) => {
            assert_eq!(constraint, "tasks_assignee_id_fkey");
            assert_eq!(column, Some("assignee_id"));
        }
        other => panic!("expected a foreign key violation, got {other:?}"),
    }
    let repo = Repo::new(&client);
    assert_eq!(repo.count::<Task>().await.expect("count"), 0);
    rows[n - 1].assignee_id = None;
    let written = insert_many_count(&mut client, &rows).await.expect("batch");
    assert_eq!(written, n as u64);
    assert_eq!(
        Repo::new(&client).count::<Task>().await.expect("count"),
        n as i64
    );
    let labels: Vec<String> = client
        .query_one("SELECT labels FROM tasks WHERE \"order\" = 13", &[])
        .await
        .expect("row")
        .get(0);
    assert_eq!(labels, vec!["l6".to_owned()]);
}
