//! Batch inserts past the bind-parameter limit, all or nothing.

use ordinance::batch::{copy_in, insert_many, rows_per_statement, MAX_PARAMETERS};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::{Entity, Error};
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
fn chunks_hold_as_many_whole_rows_as_the_limit_allows() {
    let per = rows_per_statement(Task::SCHEMA);
    // id + 10 business columns per row.
    assert_eq!(per, MAX_PARAMETERS / 11);
    assert!(per * 11 <= MAX_PARAMETERS && (per + 1) * 11 > MAX_PARAMETERS);
}

#[tokio::test]
async fn a_hundred_thousand_rows_insert_in_one_transaction() {
    let db = fixture_database().await;
    let mut client = db.connect().await.expect("connect");
    let org = organization(&client).await;
    let rows: Vec<NewTask> = (0..ROWS).map(|i| task(org, i)).collect();
    assert!(
        ROWS > rows_per_statement(Task::SCHEMA) * 16,
        "the batch needs many statements"
    );
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
async fn one_bad_row_inserts_nothing_and_names_the_constraint() {
    let db = fixture_database().await;
    let mut client = db.connect().await.expect("connect");
    let org = organization(&client).await;
    let mut rows: Vec<NewTask> = (0..ROWS).map(|i| task(org, i)).collect();
    rows[ROWS - 1].priority = 9; // in the last chunk: every earlier chunk already ran
    match insert_many(&mut client, &rows).await {
        Err(Error::CheckViolation {
            constraint, column, ..
        }) => {
            assert_eq!(constraint, "tasks_priority_max");
            assert_eq!(column, Some("priority"));
        }
        other => panic!(
            "expected a check violation, got {:?}",
            other.map(|v| v.len())
        ),
    }
    assert_eq!(Repo::new(&client).count::<Task>().await.expect("count"), 0);
}

#[tokio::test]
async fn inside_a_transaction_a_failed_batch_rolls_back_to_its_savepoint() {
    let db = fixture_database().await;
    let mut client = db.connect().await.expect("connect");
    let org = organization(&client).await;
    let mut tx = client.transaction().await.expect("begin");
    Repo::new(&tx)
        .insert(&task(org, 0))
        .await
        .expect("one task");
    let mut rows: Vec<NewTask> = (1..10).map(|i| task(org, i)).collect();
    rows[5].title = String::new(); // below min_len
    assert!(matches!(
        insert_many(&mut tx, &rows).await,
        Err(Error::CheckViolation { .. })
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
    let client = db.connect().await.expect("connect");
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
    bad[999].priority = 0;
    assert!(matches!(
        copy_in(&client, &bad).await,
        Err(Error::CheckViolation { ref constraint, .. }) if constraint == "tasks_priority_min"
    ));
    assert_eq!(
        repo.count::<Task>().await.expect("count"),
        ROWS as i64,
        "the failed copy left nothing"
    );
}
