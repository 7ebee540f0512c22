//! The PgBouncer mode: every statement unnamed and typed, in one round trip.

use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::exec::Connection;
use ordinance::exec::Unnamed;
use ordinance::repo::Repo;
use ordinance::testing::TestServer;
use ordinance::{query, Error};
use ordinance_tests::*;

/// The server log lines of one backend, from the throwaway server's log.
fn log_of(pid: i32) -> Vec<String> {
    let dir = TestServer::global()
        .expect("server")
        .directory()
        .expect("the statement log is read from the throwaway server")
        .to_path_buf();
    let log = std::fs::read_to_string(dir.join("server.log")).expect("server log");
    let tag = format!("[{pid}]");
    log.lines()
        .filter(|l| l.contains(&tag))
        .map(str::to_owned)
        .collect()
}

async fn logged_session(db: &ordinance::testing::TestDatabase) -> (Connection, i32) {
    let client = db.connect().await.expect("connect");
    client
        .batch_execute("SET log_statement = 'all'")
        .await
        .expect("log statements");
    // The simple-query protocol, so the setup itself prepares nothing.
    let rows = client
        .simple_query("SELECT pg_backend_pid()")
        .await
        .expect("pid");
    let pid = rows
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).and_then(|v| v.parse().ok()),
            _ => None,
        })
        .expect("a pid");
    (client, pid)
}

#[tokio::test]
async fn every_operation_runs_as_an_unnamed_typed_statement() {
    let db = fixture_database().await;
    let (client, pid) = logged_session(&db).await;
    let unnamed = Unnamed(&client);
    let repo = Repo::new(&unnamed);

    let o = repo
        .insert(&NewOrganization {
            settings: serde_json::json!({"a": 1}),
            ..new_organization("Bouncer")
        })
        .await
        .expect("insert");
    let mut read: Organization = repo.get(o.id).await.expect("get");
    read.name = "Bouncer Ltd".into();
    let updated = repo.update(&read).await.expect("update");
    assert!(matches!(
        repo.update(&read).await,
        Err(Error::StaleVersion {
            expected: 1,
            actual: 2,
            ..
        })
    ));
    let deleted = repo.soft_delete(&updated).await.expect("soft delete");
    let restored = repo.restore(&deleted).await.expect("restore");
    assert_eq!(restored.version, 4);
    let listed: Vec<Organization> = repo
        .list(
            &query::live::<Organization>()
                .and_where(Expr::col(OrganizationColumn::Name).eq("Bouncer Ltd"))
                .to_owned(),
        )
        .await
        .expect("list");
    assert_eq!(listed, std::slice::from_ref(&restored));
    assert_eq!(repo.count::<Organization>().await.expect("count"), 1);
    assert!(repo.purge::<Organization>(o.id).await.expect("purge"));

    let executes: Vec<String> = log_of(pid)
        .into_iter()
        .filter(|l| l.contains("execute"))
        .collect();
    assert!(
        executes.len() >= 10,
        "each operation was logged: {executes:#?}"
    );
    assert!(
        executes.iter().all(|l| l.contains("execute <unnamed>")),
        "only unnamed statements: {executes:#?}"
    );
}

#[tokio::test]
async fn the_default_executor_names_its_statements_so_the_check_above_can_fail() {
    let db = fixture_database().await;
    let (client, pid) = logged_session(&db).await;
    Repo::new(&client)
        .count::<Organization>()
        .await
        .expect("count");
    assert!(
        log_of(pid).iter().any(|l| l.contains("execute s")),
        "tokio-postgres prepares named statements by default"
    );
}
