//! `Repo::stream`: the rows of `list`, decoded as they arrive, with the
//! server held back while the reader waits.

use std::pin::pin;
use std::time::Duration;

use ordinance::batch::insert_many_count;
use ordinance::deps::futures_util::TryStreamExt as _;
use ordinance::deps::sea_query::{Expr, ExprTrait, Order};
use ordinance::query;
use ordinance::repo::Repo;
use ordinance_tests::*;

#[tokio::test]
async fn a_stream_yields_what_list_returns_with_the_same_scopes_and_filters() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    for i in 0..30 {
        let o = repo
            .insert(&new_organization(&format!("org {i:02}")))
            .await
            .expect("insert");
        if i % 3 == 0 {
            repo.soft_delete(&o).await.expect("soft delete");
        }
    }
    let selects = [
        query::live::<Organization>(),
        query::with_deleted::<Organization>(),
        query::only_deleted::<Organization>(),
        query::live::<Organization>()
            .and_where(Expr::col(OrganizationColumn::Name).gt("org 10"))
            .order_by(OrganizationColumn::Name, Order::Desc)
            .limit(5)
            .to_owned(),
    ];
    let mut sizes = Vec::new();
    for select in &selects {
        let listed: Vec<Organization> = repo.list(select).await.expect("list");
        let streamed: Vec<Organization> = repo
            .stream::<Organization>(select)
            .try_collect()
            .await
            .expect("stream");
        assert_eq!(streamed, listed);
        sizes.push(listed.len());
    }
    assert_eq!(sizes, [20, 30, 10, 5]);
}

#[tokio::test]
async fn the_server_waits_while_the_reader_does_not_read() {
    let db = fixture_database().await;
    let mut conn = db.connect().await.expect("connect");
    let rows: Vec<NewOrganization> = (0..200_000)
        .map(|i| new_organization(&format!("organization number {i:06} with a longer name")))
        .collect();
    insert_many_count(&mut conn, &rows).await.expect("seed");
    let pid: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0);
    let observer = db.connect().await.expect("observer");
    let repo = Repo::new(&conn);
    let all = query::live::<Organization>();
    {
        let mut stream = pin!(repo.stream::<Organization>(&all));
        let first = stream.try_next().await.expect("first row");
        assert!(first.is_some());
        // The reader stops; the server fills the socket and waits on it.
        let mut waiting = None;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let row = observer
                .query_one(
                    "SELECT state, wait_event FROM pg_stat_activity WHERE pid = $1",
                    &[&pid],
                )
                .await
                .expect("activity");
            let state: Option<String> = row.get(0);
            let event: Option<String> = row.get(1);
            if event.as_deref() == Some("ClientWrite") {
                waiting = Some(state);
                break;
            }
        }
        assert_eq!(
            waiting,
            Some(Some("active".to_owned())),
            "the server is blocked writing to the client mid-result"
        );
        // Reading on finishes the result.
        let mut n = 1;
        while stream.try_next().await.expect("row").is_some() {
            n += 1;
        }
        assert_eq!(n, rows.len());
    }
    // Dropped half-way, a stream leaves the connection usable.
    {
        let mut stream = pin!(repo.stream::<Organization>(&all));
        for _ in 0..10 {
            stream.try_next().await.expect("row").expect("a row");
        }
    }
    assert_eq!(
        repo.count::<Organization>()
            .await
            .expect("count after a dropped stream"),
        rows.len() as i64
    );
}

#[tokio::test]
async fn a_stream_reports_a_failing_statement_as_a_typed_error() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    // A condition the server refuses at run time: division by zero.
    let bad = query::live::<Organization>()
        .and_where(Expr::cust("1 / (SELECT count(*) FROM organizations) > 0"))
        .to_owned();
    let result: Result<Vec<Organization>, _> = repo.stream(&bad).try_collect().await;
    let err = result.expect_err("division by zero");
    assert!(err.to_string().contains("22012"), "{err}");
}
