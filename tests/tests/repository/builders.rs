//! The sea-query write builders (`query::insert`, `update`, `soft_delete`,
//! `restore`, `purge`) on a real PostgreSQL: values only ever travel as
//! parameters, and each builder does what its fixed-text twin does.

use ordinance::deps::sea_query::{
    Expr, ExprTrait, OnConflict, PostgresQueryBuilder, QueryStatementWriter,
};
use ordinance::exec::Connection;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{query, Error};
use ordinance_tests::*;

async fn setup() -> (TestDatabase, Connection) {
    let db = fixture_database().await;
    let client = application_connection(&db).await;
    (db, client)
}

/// The statement's SQL text, asserting that no payload appears in it.
fn text_without(statement: &impl QueryStatementWriter, payload: &str) -> String {
    let (sql, values) = statement.build(PostgresQueryBuilder);
    assert!(
        !sql.contains(payload),
        "a value was spliced into the SQL text: {sql}"
    );
    assert!(!values.0.is_empty(), "values travel as parameters");
    sql
}

#[tokio::test]
async fn every_write_builder_binds_payloads_and_they_round_trip() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let org = repo
        .insert(&new_organization("Builders"))
        .await
        .expect("org");
    for payload in sql_payloads() {
        let new = NewTask {
            labels: vec![payload.clone(), String::new()],
            ..new_task(org.id, "payload")
        };
        let id = Uuid::now_v7();
        let insert = query::insert([(id, &new)]).expect("insert builder");
        text_without(&insert, &payload);
        let inserted: Vec<Task> = repo.fetch(&insert).await.expect("insert");
        assert_eq!(inserted.len(), 1);
        assert_eq!(inserted[0].id, id);
        assert_eq!(inserted[0].labels, new.labels, "byte for byte");
        assert_eq!(inserted[0].version, 1);

        let mut task = inserted[0].clone();
        task.labels = vec![payload.clone(); 3];
        let update = query::update(&task).expect("update builder");
        text_without(&update, &payload);
        let updated: Vec<Task> = repo.fetch(&update).await.expect("update");
        assert_eq!(updated.len(), 1);
        assert_eq!(updated[0].version, 2);
        let read: Task = repo.get(id).await.expect("get");
        assert_eq!(read.labels, vec![payload.clone(); 3], "byte for byte");

        let settings = serde_json::json!({ "payload": payload });
        let named = NewOrganization {
            name: format!("org {}", payload.len()),
            settings: settings.clone(),
        };
        let insert = query::insert([(Uuid::now_v7(), &named)]).expect("insert builder");
        text_without(&insert, &payload);
        let stored: Vec<Organization> = repo.fetch(&insert).await.expect("insert org");
        let read: Organization = repo.get(stored[0].id).await.expect("get");
        assert_eq!(read.settings, settings);
    }
    assert_eq!(
        public_tables(&client).await,
        7,
        "no payload dropped anything"
    );
}

#[tokio::test]
async fn soft_delete_restore_and_purge_builders_follow_the_conventions() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let org = repo
        .insert(&new_organization("Lifecycle"))
        .await
        .expect("org");
    let task: Task = repo
        .insert(&new_task(org.id, "to delete"))
        .await
        .expect("task");

    let deleted: Vec<Task> = repo
        .fetch(&query::soft_delete(&task).expect("builder"))
        .await
        .expect("soft delete");
    assert_eq!(deleted.len(), 1);
    assert!(deleted[0].deleted_at.is_some());
    assert_eq!(deleted[0].version, 2);
    assert!(repo.find::<Task>(task.id).await.expect("find").is_none());

    // The stale copy matches nothing: the version check is in the builder.
    let stale: Vec<Task> = repo
        .fetch(&query::restore(&task).expect("builder"))
        .await
        .expect("stale restore");
    assert!(stale.is_empty());
    let restored: Vec<Task> = repo
        .fetch(&query::restore(&deleted[0]).expect("builder"))
        .await
        .expect("restore");
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0].deleted_at, None);
    assert_eq!(restored[0].version, 3);
    // Restoring a live row matches nothing.
    let again: Vec<Task> = repo
        .fetch(&query::restore(&restored[0]).expect("builder"))
        .await
        .expect("restore live");
    assert!(again.is_empty());

    let purged: Vec<Task> = repo
        .fetch(&query::purge::<Task>(task.id))
        .await
        .expect("purge");
    assert_eq!(purged.len(), 1, "purge returns the removed row");
    let left: i64 = client
        .query_one("SELECT count(*) FROM tasks", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(left, 0, "gone, not just hidden");

    let event = repo
        .insert(&NewAuditEvent {
            actor_id: repo
                .insert(&new_user(org.id, "a@example.com"))
                .await
                .expect("user")
                .id,
            action: "x".into(),
            latency_ms: None,
            payload: serde_json::json!({}),
        })
        .await
        .expect("event");
    assert!(matches!(
        query::soft_delete(&event),
        Err(Error::NoSoftDelete {
            table: "audit_events",
            ..
        })
    ));
}

#[tokio::test]
async fn builders_compose_with_the_callers_conditions() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let org = repo
        .insert(&new_organization("Compose"))
        .await
        .expect("org");
    let mut task: Task = repo.insert(&new_task(org.id, "todo")).await.expect("task");
    task.priority = 5;

    // Only while still to do: the extra condition is ANDed to the guard.
    let mut update = query::update(&task).expect("builder");
    update.and_where(Expr::col(TaskColumn::Status).eq(TaskStatus::Done.as_str()));
    assert!(repo
        .fetch::<Task>(&update)
        .await
        .expect("update")
        .is_empty());
    let mut update = query::update(&task).expect("builder");
    update.and_where(Expr::col(TaskColumn::Status).eq(TaskStatus::Todo.as_str()));
    let updated: Vec<Task> = repo.fetch(&update).await.expect("update");
    assert_eq!(updated[0].priority, 5);

    // Insert, skipping a duplicate name instead of failing.
    let mut insert = query::insert([
        (Uuid::now_v7(), &new_organization("Compose")),
        (Uuid::now_v7(), &new_organization("Another")),
    ])
    .expect("builder");
    insert.on_conflict(OnConflict::new().do_nothing().to_owned());
    let stored: Vec<Organization> = repo.fetch(&insert).await.expect("insert");
    assert_eq!(
        stored.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        ["Another"]
    );
}

/// Every builder method that takes a condition narrows: a second filter is
/// ANDed with the first, never put in its place. The first filter here is
/// the ownership check (one organization's rows); were it replaced, the
/// other organization's rows would come back.
#[tokio::test]
async fn every_filter_narrows_and_none_replaces_the_one_before() {
    use ordinance::bulk::Bulk;
    use ordinance::page::Pager;
    use ordinance::query::Claim;
    use ordinance::relation::join_parent;
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let mine = repo.insert(&new_organization("Mine")).await.expect("org");
    let theirs = repo.insert(&new_organization("Theirs")).await.expect("org");
    for org in [&mine, &theirs] {
        for (i, is_admin) in [false, true, true].into_iter().enumerate() {
            let user = NewUser {
                is_admin,
                ..new_user(org.id, &format!("{i}@{}", org.name))
            };
            repo.insert(&user).await.expect("user");
        }
        for (title, status) in [
            ("todo", TaskStatus::Todo),
            ("done", TaskStatus::Done),
            ("done too", TaskStatus::Done),
        ] {
            let task = NewTask {
                status,
                ..new_task(org.id, title)
            };
            repo.insert(&task).await.expect("task");
        }
    }
    let own_users = Expr::col(UserColumn::OrganizationId).eq(mine.id);
    let admins = Expr::col(UserColumn::IsAdmin).eq(true);
    let own_tasks = Expr::col(TaskColumn::OrganizationId).eq(mine.id);
    let done = Expr::col(TaskColumn::Status).eq(TaskStatus::Done.as_str());

    // Pager::filter
    let pager = Pager::<User>::new()
        .expect("pager")
        .filter(own_users.clone())
        .filter(admins.clone());
    let page = repo.first_page(&pager).await.expect("page");
    assert_eq!(page.items.len(), 2, "my admins only");
    assert!(page
        .items
        .iter()
        .all(|u| u.organization_id == mine.id && u.is_admin));

    // JoinSelect::filter
    let joined = join_parent(User::ORGANIZATION)
        .filter(Expr::col((User::TABLE, UserColumn::OrganizationId)).eq(mine.id))
        .filter(Expr::col((User::TABLE, UserColumn::IsAdmin)).eq(true));
    let rows: Vec<(User, Organization)> = repo.list_joined(&joined).await.expect("join");
    assert_eq!(rows.len(), 2, "my admins only");
    assert!(rows.iter().all(|(u, o)| o.id == mine.id && u.is_admin));

    // Claim::filter
    let claim = Claim::<Task>::new(10)
        .filter(own_tasks.clone())
        .filter(done.clone())
        .set(TaskColumn::Priority, 5);
    let claimed = repo.claim(&claim).await.expect("claim");
    assert_eq!(claimed.len(), 2, "my done tasks only");
    assert!(claimed
        .iter()
        .all(|t| t.organization_id == mine.id && t.status == TaskStatus::Done));

    // Bulk::filter
    let gone = Bulk::<Task>::new()
        .filter(own_tasks)
        .filter(done)
        .soft_delete(&client)
        .await
        .expect("bulk");
    assert_eq!(gone.rows, 2, "my done tasks only");
    let left: i64 = client
        .query_one("SELECT count(*) FROM tasks WHERE deleted_at IS NULL", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(left, 4);
}

#[test]
fn an_insert_past_the_parameter_limit_is_refused_before_it_is_sent() {
    let org = Uuid::now_v7();
    let rows: Vec<(Uuid, NewTask)> = (0..7000)
        .map(|i| (Uuid::now_v7(), new_task(org, &format!("t{i}"))))
        .collect();
    match query::insert(rows.iter().map(|(id, t)| (*id, t))) {
        Err(Error::TooManyParameters {
            parameters, max, ..
        }) => {
            assert_eq!(parameters, 7000 * 11);
            assert_eq!(max, 65_535);
        }
        other => panic!("expected TooManyParameters, got {:?}", other.map(|_| ())),
    }
    assert!(query::insert(rows[..5000].iter().map(|(id, t)| (*id, t))).is_ok());
}
