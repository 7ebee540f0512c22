//! The unnamed, typed mode through a real PgBouncer in transaction pooling
//! mode, in front of the throwaway server.
//!
//! PgBouncer comes from the system (`apt-get install pgbouncer`). Without it
//! these tests say so on stderr and pass; with `ORDINANCE_REQUIRE_PGBOUNCER`
//! set (as `.ci/run` does) a missing PgBouncer fails them.

use ordinance::batch::{insert_many, insert_many_count};
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::exec::{transaction, Unnamed};
use ordinance::repo::Repo;
use ordinance::{query, Error};
use ordinance_tests::bouncer::Bouncer;
use ordinance_tests::*;
use tokio_postgres::Client;

/// Pins the server connection PgBouncer used last (it hands out the most
/// recently used one first) inside an open transaction.
async fn pin_last_used_connection(client: &Client) {
    client.batch_execute("BEGIN").await.expect("begin");
    client
        .simple_query("SELECT 1")
        .await
        .expect("pin a server connection");
}

#[tokio::test]
async fn named_statements_break_behind_transaction_pooling() {
    // The control: shows that the setup below does separate prepare from
    // execute, so the unnamed test's success means something.
    let db = fixture_database().await;
    let Some(bouncer) = Bouncer::start(&db, 2) else {
        return;
    };
    let a = bouncer.connect(&db).await;
    let b = bouncer.connect(&db).await;
    let statement = a.prepare("SELECT 1").await.expect("prepare");
    pin_last_used_connection(&b).await;
    let err = a
        .query(&statement, &[])
        .await
        .expect_err("the prepared statement lives on the pinned connection");
    let code = err.code().expect("a server error").code();
    assert_eq!(code, "26000", "invalid_sql_statement_name, got: {err}");
}

#[tokio::test]
async fn the_unnamed_mode_works_behind_transaction_pooling() {
    let db = fixture_database().await;
    let Some(bouncer) = Bouncer::start(&db, 2) else {
        return;
    };
    let client = bouncer.connect(&db).await;
    let other = bouncer.connect(&db).await;
    let unnamed = Unnamed(&client);
    let repo = Repo::new(&unnamed);

    let org = repo
        .insert(&new_organization("Bouncer"))
        .await
        .expect("insert");
    // Between every two statements, the connection just used is pinned by
    // another client, so the next statement lands on a different one.
    pin_last_used_connection(&other).await;
    let read: Organization = repo.get(org.id).await.expect("get");
    assert_eq!(read, org);
    other.batch_execute("COMMIT").await.expect("release");

    let user = repo
        .insert(&new_user(org.id, "bouncer@example.com"))
        .await
        .expect("user");
    pin_last_used_connection(&other).await;
    let mut changed = user.clone();
    changed.display_name = Some("Changed".into());
    let changed = repo.update(&changed).await.expect("update");
    assert_eq!(changed.version, 2);
    other.batch_execute("COMMIT").await.expect("release");

    assert!(matches!(
        repo.update(&user).await,
        Err(Error::StaleVersion {
            expected: 1,
            actual: 2,
            ..
        })
    ));
    let deleted = repo.soft_delete(&changed).await.expect("soft delete");
    assert!(repo.find::<User>(user.id).await.expect("find").is_none());
    let restored = repo.restore(&deleted).await.expect("restore");
    assert_eq!(restored.version, 4);
    let listed: Vec<User> = repo
        .list(
            query::live::<User>().and_where(Expr::col(UserColumn::Email).eq("bouncer@example.com")),
        )
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(repo.count::<User>().await.expect("count"), 1);
    assert!(repo.purge::<User>(user.id).await.expect("purge"));

    // A transaction keeps one server connection until it ends.
    let mut tx_client = bouncer.connect(&db).await;
    let ids = transaction(&mut tx_client, async |tx| {
        let unnamed = Unnamed(tx);
        let repo = Repo::new(&unnamed);
        let a = repo.insert(&new_task(org.id, "a")).await?;
        let b = repo.insert(&new_task(org.id, "b")).await?;
        Ok(vec![a.id, b.id])
    })
    .await
    .expect("transaction");
    let tasks: Vec<Task> = repo.list(&query::live::<Task>()).await.expect("list tasks");
    assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), ids);

    // A batch runs in one transaction, so it keeps one server connection,
    // while another client holds the other one.
    pin_last_used_connection(&other).await;
    let batch: Vec<NewTask> = (0..500)
        .map(|i| new_task(org.id, &format!("b{i}")))
        .collect();
    let stored = insert_many(&mut tx_client, &batch).await.expect("batch");
    assert_eq!(stored.len(), 500);
    assert_eq!(
        insert_many_count(&mut tx_client, &batch)
            .await
            .expect("batch"),
        500
    );
    other.batch_execute("COMMIT").await.expect("release");
    let batched = 1000;

    // Keyset pages, one unnamed statement each.
    let pager = ordinance::page::Pager::<Task>::new()
        .expect("pager")
        .size(200)
        .expect("size");
    let mut seen = 0;
    let mut page = repo.first_page(&pager).await.expect("first page");
    loop {
        seen += page.items.len();
        let Some(next) = page.next.clone() else { break };
        page = repo.page_at(&pager, &next).await.expect("next page");
    }
    assert_eq!(seen as i64, 2 + batched);

    // Concurrent clients share two server connections.
    let mut workers = Vec::new();
    for w in 0..8 {
        let client = bouncer.connect(&db).await;
        let org = org.id;
        workers.push(tokio::spawn(async move {
            let unnamed = Unnamed(&client);
            let repo = Repo::new(&unnamed);
            for i in 0..25 {
                let task = repo
                    .insert(&new_task(org, &format!("w{w} t{i}")))
                    .await
                    .expect("insert");
                let mut task: Task = repo.get(task.id).await.expect("get");
                task.priority = 1 + (i % 5) as i16;
                repo.update(&task).await.expect("update");
            }
        }));
    }
    for w in workers {
        w.await.expect("worker");
    }
    assert_eq!(
        repo.count::<Task>().await.expect("count"),
        2 + batched + 8 * 25
    );
    assert!(
        !bouncer.log().contains("does not exist"),
        "no statement went missing:\n{}",
        bouncer.log()
    );
}
