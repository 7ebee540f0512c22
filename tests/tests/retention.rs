//! Retention: rows soft-deleted longer ago than the interval are purged in
//! chunks; rows a RESTRICT foreign key still references stay; `purge_all`
//! takes dependants first, and cascades are the database's.

use std::collections::HashMap;
use std::time::Duration;

use ordinance::bulk::retention::Retention;
use ordinance::exec::Connection;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::{Entity, Json};
use ordinance_tests::*;

const NINETY_DAYS: Duration = Duration::from_secs(90 * 24 * 3600);

/// Soft-deletes the row, `days` ago by the database clock.
async fn deleted_days_ago<E: Entity>(conn: &Connection, id: Uuid, days: i32) {
    let sql = format!(
        "UPDATE {} SET deleted_at = now() - make_interval(days => $2) WHERE id = $1",
        E::TABLE
    );
    let n = conn.execute(&sql, &[&id, &days]).await.expect("backdate");
    assert_eq!(n, 1);
}

async fn exists<E: Entity>(conn: &Connection, id: Uuid) -> bool {
    let sql = format!("SELECT count(*) FROM {} WHERE id = $1", E::TABLE);
    conn.query_one(&sql, &[&id])
        .await
        .expect("count")
        .get::<_, i64>(0)
        == 1
}

fn by_table(reports: &[ordinance::bulk::Progress]) -> HashMap<&'static str, u64> {
    reports.iter().map(|p| (p.table, p.rows)).collect()
}

#[tokio::test]
async fn expired_rows_go_referenced_rows_stay_dependants_first() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    let org = |name: &'static str| async move {
        repo.insert(&new_organization(name)).await.expect("org")
    };
    let (a, b, c, d, e) = (
        org("A").await,
        org("B").await,
        org("C").await,
        org("D").await,
        org("E").await,
    );

    // A: expired, but a live invoice references it (RESTRICT).
    repo.insert(&NewInvoice {
        organization_id: a.id,
        amount: Decimal::new(100, 2),
        fx_rate: None,
        currency: "EUR".into(),
        has_been_paid: false,
        lines: Json(serde_json::json!([])),
        billing_account_id: Uuid::now_v7(),
    })
    .await
    .expect("invoice");
    deleted_days_ago::<Organization>(&conn, a.id, 100).await;
    // B: expired; its user goes with it (CASCADE).
    let b_user = repo
        .insert(&new_user(b.id, "b@example.com"))
        .await
        .expect("user");
    deleted_days_ago::<Organization>(&conn, b.id, 100).await;
    // C: deleted yesterday.
    deleted_days_ago::<Organization>(&conn, c.id, 1).await;
    // D: expired, and so is its group (RESTRICT): purge_all takes the group first.
    let d_group = repo
        .insert(&NewGroup {
            organization_id: d.id,
            name: "old".into(),
        })
        .await
        .expect("group");
    deleted_days_ago::<Group>(&conn, d_group.id, 100).await;
    deleted_days_ago::<Organization>(&conn, d.id, 100).await;
    // E lives; an expired tree of tasks, root -> parent -> child (self
    // RESTRICT), inserted leaf-last so the walk in id order meets the root
    // first; an expired task a live subtask still references; and an
    // expired user an audit event (never deleted) still names.
    let root = repo.insert(&new_task(e.id, "root")).await.expect("task");
    let parent = repo
        .insert(&NewTask {
            parent_id: Some(root.id),
            ..new_task(e.id, "parent")
        })
        .await
        .expect("task");
    let child = repo
        .insert(&NewTask {
            parent_id: Some(parent.id),
            ..new_task(e.id, "child")
        })
        .await
        .expect("subtask");
    for task in [&root, &parent, &child] {
        deleted_days_ago::<Task>(&conn, task.id, 100).await;
    }
    let held = repo.insert(&new_task(e.id, "held")).await.expect("task");
    repo.insert(&NewTask {
        parent_id: Some(held.id),
        ..new_task(e.id, "live subtask")
    })
    .await
    .expect("live subtask");
    deleted_days_ago::<Task>(&conn, held.id, 100).await;
    let audited = repo
        .insert(&new_user(e.id, "u@example.com"))
        .await
        .expect("user");
    repo.insert(&NewAuditEvent {
        actor_id: audited.id,
        action: "sign_in".into(),
        latency_ms: None,
        payload: serde_json::json!({}),
    })
    .await
    .expect("event");
    deleted_days_ago::<User>(&conn, audited.id, 100).await;

    // One table: only B can go.
    let mut chunks = 0;
    let purged = Retention::new(NINETY_DAYS)
        .chunk(1)
        .purge::<Organization>(&conn)
        .await
        .expect("purge organizations");
    chunks += purged.chunks;
    assert_eq!(purged.rows, 1);
    assert!(!exists::<Organization>(&conn, b.id).await);
    assert!(!exists::<User>(&conn, b_user.id).await, "cascaded");
    for kept in [a.id, c.id, d.id, e.id] {
        assert!(exists::<Organization>(&conn, kept).await);
    }
    assert!(chunks >= 1);

    // Every table, dependants first.
    let first = Retention::new(NINETY_DAYS)
        .purge_all(&conn, &all_schemas())
        .await
        .expect("purge all");
    let order: Vec<&str> = first.iter().map(|p| p.table).collect();
    let at = |t: &str| order.iter().position(|x| *x == t).expect("purged table");
    assert!(
        at("groups") < at("organizations") && at("tasks") < at("organizations"),
        "{order:?}"
    );
    assert!(
        !order.contains(&"audit_events"),
        "no soft delete, nothing to purge"
    );
    let first = by_table(&first);
    assert_eq!(first["groups"], 1);
    assert_eq!(first["organizations"], 1, "D, once its group was gone");
    assert_eq!(
        first["tasks"], 3,
        "the whole expired tree, leaves first, in one run"
    );
    assert_eq!(first["users"], 0, "the audited user stays");
    assert!(!exists::<Organization>(&conn, d.id).await);
    assert!(
        exists::<Organization>(&conn, a.id).await,
        "the invoice holds it"
    );
    for gone in [&root, &parent, &child] {
        assert!(!exists::<Task>(&conn, gone.id).await, "{}", gone.title);
    }
    assert!(
        exists::<Task>(&conn, held.id).await,
        "a live subtask holds it"
    );
    assert!(exists::<User>(&conn, audited.id).await);

    // The next run finds nothing more to take.
    let second = by_table(
        &Retention::new(NINETY_DAYS)
            .purge_all(&conn, &all_schemas())
            .await
            .expect("again"),
    );
    assert_eq!(second.values().sum::<u64>(), 0, "{second:?}");
    assert!(
        exists::<Organization>(&conn, c.id).await,
        "C is not old enough"
    );
}
