//! Every executor with a connection to keep them on prepares each statement
//! once: counted on the server, in `pg_prepared_statements`.

use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::exec::transaction;
use ordinance::exec::{Connection, BUILT_CAPACITY};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::query;
use ordinance::repo::Repo;
use ordinance_tests::*;
use tokio_postgres::SimpleQueryMessage;

/// The statements the session has prepared through the protocol, read
/// with the simple protocol so the count does not count itself.
async fn prepared(client: &tokio_postgres::Client) -> usize {
    let rows = client
        .simple_query("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        .await
        .expect("pg_prepared_statements");
    rows.iter()
        .filter(|m| matches!(m, SimpleQueryMessage::Row(_)))
        .count()
}

/// Twenty rounds of every single-row operation and one list shape.
async fn workload<X: ordinance::exec::Executor>(repo: &Repo<'_, X>, round: usize) {
    let q = query::live::<Organization>()
        .and_where(Expr::col(OrganizationColumn::Name).like("o%"))
        .to_owned();
    for i in 0..20 {
        let o = repo
            .insert(&new_organization(&format!("o{round}-{i}")))
            .await
            .expect("insert");
        let o: Organization = repo.get(o.id).await.expect("get");
        let mut o = o;
        o.settings = serde_json::json!({ "i": i });
        let o = repo.update(&o).await.expect("update");
        let o = repo.soft_delete(&o).await.expect("soft delete");
        repo.restore(&o).await.expect("restore");
        repo.count::<Organization>().await.expect("count");
        repo.list::<Organization>(&q).await.expect("list");
    }
}

/// insert, get, update, soft delete, restore, count, and the list.
const WORKLOAD_STATEMENTS: usize = 7;

#[tokio::test]
async fn a_connection_prepares_each_statement_once() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    workload(&Repo::new(&conn), 0).await;
    assert_eq!(prepared(&conn).await, WORKLOAD_STATEMENTS);
    assert_eq!(conn.statement_cache().len(), (WORKLOAD_STATEMENTS - 1, 1));
    workload(&Repo::new(&conn), 1).await;
    assert_eq!(
        prepared(&conn).await,
        WORKLOAD_STATEMENTS,
        "nothing new the second time"
    );
}

#[tokio::test]
async fn transactions_share_their_connections_statements() {
    let db = fixture_database().await;
    let pool = Pool::connect(db.config().clone(), PoolOptions::default())
        .await
        .expect("pool");
    let mut conn = pool.get().await.expect("connection");
    for round in 0..3 {
        transaction(&mut conn, async |tx| {
            workload(&Repo::new(&*tx), round).await;
            // A savepoint shares them too.
            transaction(tx, async |sp| {
                workload(&Repo::new(&*sp), round + 10).await;
                Ok(())
            })
            .await
        })
        .await
        .expect("transaction");
    }
    assert_eq!(prepared(&conn).await, WORKLOAD_STATEMENTS);
    // The connection outside a transaction finds them as well.
    workload(&Repo::new(&*conn), 99).await;
    assert_eq!(prepared(&conn).await, WORKLOAD_STATEMENTS);
}

#[tokio::test]
async fn a_bare_client_keeps_statements_outside_transactions() {
    let db = fixture_database().await;
    let mut client = bare_client(&db).await;
    workload(&Repo::new(&client), 0).await;
    assert_eq!(prepared(&client).await, WORKLOAD_STATEMENTS);
    workload(&Repo::new(&client), 1).await;
    assert_eq!(prepared(&client).await, WORKLOAD_STATEMENTS);
    // Its transactions run unnamed: nothing more is prepared.
    transaction(&mut client, async |tx| {
        workload(&Repo::new(&*tx), 2).await;
        Ok(())
    })
    .await
    .expect("transaction");
    let tx = client.transaction().await.expect("begin");
    workload(&Repo::new(&tx), 3).await;
    tx.commit().await.expect("commit");
    assert_eq!(prepared(&client).await, WORKLOAD_STATEMENTS);
}

#[tokio::test]
async fn a_new_client_where_an_old_one_was_prepares_afresh() {
    let db = fixture_database().await;
    // One place, two clients: the second sits at the first one's address
    // and finds its statements in the registry.
    let mut slot = bare_client(&db).await;
    let o = Repo::new(&slot)
        .insert(&new_organization("first"))
        .await
        .expect("insert");
    Repo::new(&slot)
        .get::<Organization>(o.id)
        .await
        .expect("get");
    slot = bare_client(&db).await;
    assert_eq!(prepared(&slot).await, 0, "a new session");
    let read: Organization = Repo::new(&slot)
        .get(o.id)
        .await
        .expect("get on the new client");
    assert_eq!(read.id, o.id);
    assert_eq!(
        prepared(&slot).await,
        1,
        "prepared again on the new session"
    );
}

async fn bare_client(db: &ordinance::testing::TestDatabase) -> tokio_postgres::Client {
    let (client, connection) = db
        .config()
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn statements_the_server_forgot_are_prepared_again() {
    let db = fixture_database().await;
    let mut conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    let o = repo
        .insert(&new_organization("kept"))
        .await
        .expect("insert");
    repo.get::<Organization>(o.id).await.expect("get");
    conn.batch_execute("DEALLOCATE ALL")
        .await
        .expect("deallocate");
    // Outside a transaction: prepared again and retried, unnoticed.
    let repo = Repo::new(&conn);
    assert_eq!(
        repo.get::<Organization>(o.id).await.expect("get again").id,
        o.id
    );
    conn.batch_execute("DEALLOCATE ALL")
        .await
        .expect("deallocate");
    // Inside one, a failed statement has aborted the transaction: the
    // error reaches the caller, and the next call prepares afresh.
    let failed = transaction(&mut conn, async |tx| {
        Repo::new(&*tx).get::<Organization>(o.id).await
    })
    .await;
    let err = failed.expect_err("the transaction saw the forgotten statement");
    assert!(err.to_string().contains("26000"), "{err}");
    let repo = Repo::new(&conn);
    assert_eq!(
        repo.get::<Organization>(o.id).await.expect("afterwards").id,
        o.id
    );
}

#[tokio::test]
async fn a_plan_that_no_longer_fits_its_table_is_prepared_again() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    let o = repo
        .insert(&new_organization("typed"))
        .await
        .expect("insert");
    repo.get::<Organization>(o.id).await.expect("get");
    // Another session changes a column's type: the cached plan's result
    // type no longer matches.
    let other = db.connect().await.expect("connect");
    other
        .batch_execute("ALTER TABLE organizations ALTER COLUMN name TYPE VARCHAR(120)")
        .await
        .expect("alter");
    let read = repo
        .get::<Organization>(o.id)
        .await
        .expect("read after the change");
    assert_eq!(read.name, "typed");
}

#[tokio::test]
async fn statements_built_per_call_are_bounded() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    let shapes = BUILT_CAPACITY + 40;
    for i in 0..shapes {
        // Each shape is new text: a different number of conditions.
        let mut q = query::live::<Organization>();
        for _ in 0..=i {
            q.and_where(Expr::col(OrganizationColumn::Name).ne("x"));
        }
        repo.list::<Organization>(&q).await.expect("list");
    }
    assert_eq!(conn.statement_cache().len(), (0, BUILT_CAPACITY));
    assert_eq!(
        prepared(&conn).await,
        BUILT_CAPACITY,
        "evicted ones are closed"
    );
    // The most recent shapes are still there, the oldest gone.
    let mut recent = query::live::<Organization>();
    for _ in 0..shapes {
        recent.and_where(Expr::col(OrganizationColumn::Name).ne("x"));
    }
    repo.list::<Organization>(&recent).await.expect("list");
    assert_eq!(prepared(&conn).await, BUILT_CAPACITY);
    let first = query::live::<Organization>()
        .and_where(Expr::col(OrganizationColumn::Name).ne("x"))
        .to_owned();
    repo.list::<Organization>(&first).await.expect("list");
    assert_eq!(conn.statement_cache().len(), (0, BUILT_CAPACITY));
}

#[tokio::test]
async fn a_connection_from_a_client_keeps_statements_too() {
    let db = fixture_database().await;
    let conn = Connection::from(bare_client(&db).await);
    workload(&Repo::new(&conn), 0).await;
    assert_eq!(prepared(&conn).await, WORKLOAD_STATEMENTS);
}
