//! The repository on a real PostgreSQL: CRUD, soft delete, optimistic
//! locking, typed errors, transactions, and values that try to escape.

use ordinance::deps::sea_query::PostgresQueryBuilder;
use ordinance::exec::Connection;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::{query, Error, Json};
use ordinance_tests::*;

async fn setup() -> (ordinance::testing::TestDatabase, Connection) {
    let db = fixture_database().await;
    let client = application_connection(&db).await;
    (db, client)
}

async fn org<X: ordinance::exec::Executor>(repo: &Repo<'_, X>, name: &str) -> Organization {
    repo.insert(&new_organization(name))
        .await
        .expect("insert organization")
}

#[tokio::test]
async fn insert_returns_the_stored_row_and_get_reads_it_back() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let before: DateTime<Utc> = client
        .query_one("SELECT now()", &[])
        .await
        .expect("now")
        .get(0);
    let o = org(&repo, "Acme").await;
    assert_eq!(o.id.get_version_num(), 7, "ids are UUIDv7");
    assert_eq!(o.version, 1);
    assert_eq!(o.deleted_at, None);
    assert!(o.created_at >= before && o.created_at == o.updated_at);
    let read: Organization = repo.get(o.id).await.expect("get");
    assert_eq!(read, o);
    assert_eq!(repo.count::<Organization>().await.expect("count"), 1);
    assert!(repo.exists::<Organization>(o.id).await.expect("exists"));
    let missing = Uuid::now_v7();
    assert!(repo
        .find::<Organization>(missing)
        .await
        .expect("find")
        .is_none());
    assert!(matches!(
        repo.get::<Organization>(missing).await,
        Err(Error::NotFound { table: "organizations", id, .. }) if id == missing
    ));
}

#[tokio::test]
async fn every_column_type_round_trips() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let o = org(&repo, "Types").await;
    let u = repo
        .insert(&NewUser {
            avatar: Some(vec![0, 1, 2, 255]),
            display_name: Some("Ada".into()),
            role: MemberRole::Owner,
            is_admin: true,
            ..new_user(o.id, "ada@example.com")
        })
        .await
        .expect("user");
    assert_eq!(repo.get::<User>(u.id).await.expect("get"), u);
    assert_eq!(u.avatar.as_deref(), Some(&[0u8, 1, 2, 255][..]));
    let task = repo
        .insert(&NewTask {
            assignee_id: Some(u.id),
            status: TaskStatus::InProgress,
            order: 3,
            priority: 5,
            estimate_minutes: Some(i64::MAX),
            labels: vec!["a".into(), "b c".into(), "".into()],
            due_on: NaiveDate::from_ymd_opt(2026, 12, 31),
            ..new_task(o.id, "Write the docs")
        })
        .await
        .expect("task");
    assert_eq!(repo.get::<Task>(task.id).await.expect("get"), task);
    assert_eq!(task.status, TaskStatus::InProgress);
    let stored: String = client
        .query_one("SELECT status FROM tasks", &[])
        .await
        .expect("status")
        .get(0);
    assert_eq!(stored, "in_progress");
    let invoice = repo
        .insert(&NewInvoice {
            organization_id: o.id,
            amount: "1234567890.12".parse().expect("decimal"),
            fx_rate: Some("0.000000000000000001".parse().expect("decimal")),
            currency: "EUR".into(),
            has_been_paid: false,
            lines: Json(serde_json::json!([{"sku": "x", "qty": 2}])),
            billing_account_id: Uuid::new_v4(),
        })
        .await
        .expect("invoice");
    let read: Invoice = repo.get(invoice.id).await.expect("get");
    assert_eq!(read, invoice);
    assert_eq!(
        read.amount.to_string(),
        "1234567890.12",
        "money stays exact"
    );
    let event = repo
        .insert(&NewAuditEvent {
            actor_id: u.id,
            action: "login".into(),
            latency_ms: Some(12.5),
            payload: serde_json::json!({"ip": "127.0.0.1"}),
        })
        .await
        .expect("event");
    assert_eq!(repo.get::<AuditEvent>(event.id).await.expect("get"), event);
}

#[tokio::test]
async fn values_that_look_like_sql_round_trip_byte_for_byte() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    for (i, payload) in sql_payloads().iter().enumerate() {
        // Names are limited to 120 characters: carry the payload in JSON and a label.
        let o = repo
            .insert(&NewOrganization {
                name: format!("org {i}"),
                settings: serde_json::json!({ "payload": payload }),
            })
            .await
            .expect("insert");
        let mut t = repo
            .insert(&NewTask {
                labels: vec![payload.clone()],
                ..new_task(o.id, "t")
            })
            .await
            .expect("insert task");
        t.labels.push(payload.clone());
        let t = repo.update(&t).await.expect("update");
        let read: Task = repo.get(t.id).await.expect("get");
        assert_eq!(read.labels, [payload.clone(), payload.clone()]);
        let read: Organization = repo.get(o.id).await.expect("get");
        assert_eq!(read.settings["payload"].as_str(), Some(payload.as_str()));
    }
    assert_eq!(
        public_tables(&client).await,
        7,
        "no payload dropped anything"
    );
}

#[tokio::test]
async fn update_bumps_the_version_and_a_stale_copy_is_refused() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let o = org(&repo, "Acme").await;
    let mut first = o.clone();
    first.name = "Acme Ltd".into();
    let first = repo.update(&first).await.expect("update");
    assert_eq!(first.version, 2);
    assert_eq!(first.name, "Acme Ltd");
    assert!(first.updated_at > o.updated_at);
    assert_eq!(first.created_at, o.created_at, "created_at never changes");

    let mut stale = o.clone();
    stale.name = "Lost update".into();
    match repo.update(&stale).await {
        Err(Error::StaleVersion {
            table,
            id,
            expected,
            actual,
            ..
        }) => {
            assert_eq!((table, id, expected, actual), ("organizations", o.id, 1, 2));
        }
        other => panic!("expected a stale version, got {other:?}"),
    }
    assert_eq!(
        repo.get::<Organization>(o.id).await.expect("get").name,
        "Acme Ltd"
    );

    // Soft-deleted and purged rows are gone, not stale.
    let deleted = repo.soft_delete(&first).await.expect("soft delete");
    assert!(matches!(
        repo.update(&deleted).await,
        Err(Error::NotFound { .. })
    ));
    repo.purge::<Organization>(o.id).await.expect("purge");
    assert!(matches!(
        repo.update(&deleted).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn soft_deleted_rows_are_invisible_until_restored_and_purge_removes_them() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let keep = org(&repo, "Keep").await;
    let o = org(&repo, "Gone").await;
    let deleted = repo.soft_delete(&o).await.expect("soft delete");
    assert!(deleted.deleted_at.is_some());
    assert_eq!(deleted.version, 2);
    assert!(repo
        .find::<Organization>(o.id)
        .await
        .expect("find")
        .is_none());
    assert!(!repo.exists::<Organization>(o.id).await.expect("exists"));
    assert_eq!(repo.count::<Organization>().await.expect("count"), 1);

    let ids = |sql: String| {
        let client = &client;
        async move {
            let mut ids: Vec<Uuid> = client
                .query(&sql, &[])
                .await
                .expect("select")
                .iter()
                .map(|r| r.get(0))
                .collect();
            ids.sort();
            ids
        }
    };
    let build = |q: ordinance::deps::sea_query::SelectStatement| {
        let (sql, values) = q.build(PostgresQueryBuilder);
        assert!(values.0.is_empty());
        sql
    };
    let mut both = vec![keep.id, o.id];
    both.sort();
    assert_eq!(ids(build(query::live::<Organization>())).await, [keep.id]);
    assert_eq!(
        ids(build(query::with_deleted::<Organization>())).await,
        both
    );
    assert_eq!(
        ids(build(query::only_deleted::<Organization>())).await,
        [o.id]
    );

    // A second soft delete of the same row is refused: it is already gone.
    assert!(matches!(
        repo.soft_delete(&deleted).await,
        Err(Error::NotFound { .. })
    ));
    // Restore needs the current version too.
    assert!(matches!(
        repo.restore(&o).await,
        Err(Error::StaleVersion {
            expected: 1,
            actual: 2,
            ..
        })
    ));
    let restored = repo.restore(&deleted).await.expect("restore");
    assert_eq!((restored.deleted_at, restored.version), (None, 3));
    assert_eq!(repo.get::<Organization>(o.id).await.expect("get"), restored);
    assert!(matches!(
        repo.restore(&restored).await,
        Err(Error::NotSoftDeleted {
            table: "organizations",
            ..
        })
    ));

    assert!(repo.purge::<Organization>(o.id).await.expect("purge"));
    assert!(!repo.purge::<Organization>(o.id).await.expect("purge again"));
    assert_eq!(
        ids(build(query::with_deleted::<Organization>())).await,
        [keep.id]
    );
}

#[tokio::test]
async fn entities_without_soft_delete_refuse_it_by_name() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let o = org(&repo, "Acme").await;
    let u = repo
        .insert(&new_user(o.id, "a@example.com"))
        .await
        .expect("user");
    let e = repo
        .insert(&NewAuditEvent {
            actor_id: u.id,
            action: "x".into(),
            latency_ms: None,
            payload: serde_json::json!({}),
        })
        .await
        .expect("event");
    assert!(matches!(
        repo.soft_delete(&e).await,
        Err(Error::NoSoftDelete {
            table: "audit_events",
            ..
        })
    ));
}

#[tokio::test]
async fn constraint_violations_are_typed_and_name_the_column() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let o = org(&repo, "Acme").await;
    let u = repo
        .insert(&new_user(o.id, "a@example.com"))
        .await
        .expect("user");

    match repo.insert(&new_user(o.id, "a@example.com")).await {
        Err(Error::UniqueViolation {
            table,
            constraint,
            column,
            ..
        }) => {
            assert_eq!(table, "users");
            assert_eq!(constraint, "idx_users_email_unique");
            assert_eq!(column, Some("email"));
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
    let mut bad_fk = new_user(o.id, "b@example.com");
    bad_fk.organization_id = Uuid::now_v7();
    match repo.insert(&bad_fk).await {
        Err(Error::ForeignKeyViolation {
            constraint, column, ..
        }) => {
            assert_eq!(constraint, "users_organization_id_fkey");
            assert_eq!(column, Some("organization_id"));
        }
        other => panic!("expected a foreign key violation, got {other:?}"),
    }
    let mut too_long = u.clone();
    too_long.email = "x".repeat(321);
    // The kit refuses it before the round trip, naming the column...
    match repo.update(&too_long).await {
        Err(e @ Error::Invalid { .. }) => {
            assert_eq!(
                e.to_string(),
                "invalid values for \"users\": \"email\" is longer than 320 characters (max_len = 320)"
            );
        }
        other => panic!("expected the value refused, got {other:?}"),
    }
    // ...and the database's check stands behind it for writes the kit did
    // not make.
    let raw = client
        .execute(
            "UPDATE users SET email = $1 WHERE id = $2",
            &[&too_long.email, &u.id],
        )
        .await
        .expect_err("check");
    match Error::from_db(raw, User::SCHEMA) {
        e @ Error::CheckViolation { .. } => {
            // What PostgreSQL said, with the row's values left out.
            assert_eq!(
                e.to_string(),
                "check violation on \"users_email_max_length\" of \"users\" (column \"email\"): \
                 ERROR 23514: new row for relation \"users\" violates check constraint \"users_email_max_length\"; \
                 DETAIL: Failing row contains (<redacted>).; table \"public.users\"; constraint \"users_email_max_length\""
            );
            assert!(!format!("{e:?}").contains("xxxx"), "{e:?}");
        }
        other => panic!("expected a check violation, got {other:?}"),
    }
    // Nothing of the failed writes is visible.
    assert_eq!(repo.count::<User>().await.expect("count"), 1);
    assert_eq!(repo.get::<User>(u.id).await.expect("get"), u);

    // Restoring a row whose unique key was reused meanwhile names the index.
    let deleted = repo.soft_delete(&u).await.expect("soft delete");
    repo.insert(&new_user(o.id, "a@example.com"))
        .await
        .expect("reuse the address");
    match repo.restore(&deleted).await {
        Err(Error::UniqueViolation {
            constraint, column, ..
        }) => {
            assert_eq!(constraint, "idx_users_email_unique");
            assert_eq!(column, Some("email"));
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
}

#[tokio::test]
async fn a_value_the_type_cannot_hold_is_a_decode_error_naming_the_column() {
    let (db, client) = setup().await;
    let repo = Repo::new(&client);
    let o = org(&repo, "Acme").await;
    let u = repo
        .insert(&new_user(o.id, "a@example.com"))
        .await
        .expect("user");
    // The owner breaks the table; the application role reads it.
    db.connect()
        .await
        .expect("owner")
        .batch_execute(
            "ALTER TABLE users DROP CONSTRAINT users_role_valid;
             UPDATE users SET role = 'emperor';",
        )
        .await
        .expect("corrupt the role");
    match repo.get::<User>(u.id).await {
        Err(
            e @ Error::Decode {
                table: "users",
                column: "role",
                ..
            },
        ) => {
            assert!(
                e.to_string()
                    .contains("\"emperor\" is not one of the stored values"),
                "{e}"
            );
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_terminated_connection_is_reported_as_lost() {
    let (db, client) = setup().await;
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0);
    let admin = db.connect().await.expect("second connection");
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .expect("terminate");
    let repo = Repo::new(&client);
    let mut lost = None;
    // The server closes the socket asynchronously; the next call sees it.
    for _ in 0..50 {
        match repo.count::<Organization>().await {
            Err(e) => {
                lost = Some(e);
                break;
            }
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    assert!(
        matches!(lost, Some(Error::Unavailable(_))),
        "expected a lost connection, got {lost:?}"
    );
}

#[tokio::test]
async fn transactions_commit_or_leave_nothing() {
    let (_db, mut client) = setup().await;
    // Rolled back explicitly.
    let tx = client.transaction().await.expect("begin");
    let inside = org(&Repo::new(&tx), "Rolled back").await;
    assert!(Repo::new(&tx)
        .exists::<Organization>(inside.id)
        .await
        .expect("exists"));
    tx.rollback().await.expect("rollback");
    // Dropped without commit.
    {
        let tx = client.transaction().await.expect("begin");
        org(&Repo::new(&tx), "Dropped").await;
    }
    assert_eq!(
        Repo::new(&client)
            .count::<Organization>()
            .await
            .expect("count"),
        0
    );
    // Committed: both rows of a multi-step write land together.
    let tx = client.transaction().await.expect("begin");
    let repo = Repo::new(&tx);
    let o = org(&repo, "Committed").await;
    repo.insert(&new_user(o.id, "a@example.com"))
        .await
        .expect("user");
    tx.commit().await.expect("commit");
    let repo = Repo::new(&client);
    assert_eq!(repo.count::<Organization>().await.expect("count"), 1);
    assert_eq!(repo.count::<User>().await.expect("count"), 1);
}

#[tokio::test]
async fn list_binds_the_callers_conditions_exactly() {
    use ordinance::deps::sea_query::{Expr, ExprTrait, Order};
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let o = org(&repo, "Acme").await;
    let other = org(&repo, "Other").await;
    let payload = "'; DROP TABLE tasks; --";
    for (i, (owner, title, priority)) in [
        (&o, "low", 1i16),
        (&o, payload, 4),
        (&o, "high", 5),
        (&other, "elsewhere", 5),
    ]
    .into_iter()
    .enumerate()
    {
        repo.insert(&NewTask {
            order: i as i32,
            priority,
            ..new_task(owner.id, title)
        })
        .await
        .expect("task");
    }
    let q = query::live::<Task>()
        .and_where(Expr::col(TaskColumn::OrganizationId).eq(o.id))
        .and_where(Expr::col(TaskColumn::Priority).gte(4i16))
        .and_where(Expr::col(TaskColumn::CreatedAt).lte(Utc::now()))
        .order_by(TaskColumn::Order, Order::Desc)
        .to_owned();
    let found: Vec<Task> = repo.list(&q).await.expect("list");
    let titles: Vec<&str> = found.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["high", payload]);
    let by_title: Vec<Task> = repo
        .list(
            &query::live::<Task>()
                .and_where(Expr::col(TaskColumn::Title).eq(payload))
                .to_owned(),
        )
        .await
        .expect("list by title");
    assert_eq!(
        by_title.len(),
        1,
        "the payload is a value, matched literally"
    );

    // 22 significant digits: through f64 (and PostgreSQL's 15-digit
    // float-to-numeric conversion) this would become 1234567890.12346, so
    // only an exact decimal parameter finds the row.
    let exact: Decimal = "1234567890.123456789012".parse().expect("decimal");
    repo.insert(&NewInvoice {
        organization_id: o.id,
        amount: "10.00".parse().expect("decimal"),
        fx_rate: Some(exact),
        currency: "EUR".into(),
        has_been_paid: false,
        lines: Json(serde_json::json!([])),
        billing_account_id: Uuid::new_v4(),
    })
    .await
    .expect("invoice");
    let hit: Vec<Invoice> = repo
        .list(
            &query::live::<Invoice>()
                .and_where(Expr::col(InvoiceColumn::FxRate).eq(exact))
                .to_owned(),
        )
        .await
        .expect("list invoices");
    assert_eq!(hit.len(), 1);

    // Scopes apply to lists too.
    let gone = repo.soft_delete(&found[0]).await.expect("soft delete");
    let live: Vec<Task> = repo.list(&query::live::<Task>()).await.expect("live");
    assert_eq!(live.len(), 3);
    let all: Vec<Task> = repo
        .list(&query::with_deleted::<Task>())
        .await
        .expect("all");
    assert_eq!(all.len(), 4);
    let deleted: Vec<Task> = repo
        .list(&query::only_deleted::<Task>())
        .await
        .expect("deleted");
    assert_eq!(deleted, [gone]);
}

#[tokio::test]
async fn the_closure_form_commits_on_ok_and_rolls_back_on_err() {
    use ordinance::exec::transaction;
    let (_db, mut client) = setup().await;
    let org_id = transaction(&mut client, async |tx| {
        let repo = Repo::new(tx);
        let o = org(&repo, "Committed").await;
        repo.insert(&new_user(o.id, "a@example.com")).await?;
        Ok(o.id)
    })
    .await
    .expect("committed");
    let o: Organization = Repo::new(&client)
        .get(org_id)
        .await
        .expect("visible after commit");

    let failed = transaction(&mut client, async |tx| {
        let repo = Repo::new(tx);
        repo.insert(&new_user(o.id, "b@example.com")).await?;
        // The second address collides: the whole closure is undone.
        repo.insert(&new_user(o.id, "a@example.com")).await?;
        Ok(())
    })
    .await;
    assert!(
        matches!(failed, Err(Error::UniqueViolation { .. })),
        "{failed:?}"
    );
    let repo = Repo::new(&client);
    assert_eq!(
        repo.count::<User>().await.expect("count"),
        1,
        "b@ was rolled back"
    );
}

#[tokio::test]
async fn scoped_selects_join_other_entities_through_their_column_enums() {
    use ordinance::deps::sea_query::{Alias, Expr, ExprTrait, Order};
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let o = org(&repo, "Joined").await;
    let ada = repo
        .insert(&new_user(o.id, "ada@example.com"))
        .await
        .expect("user");
    let bob = repo
        .insert(&new_user(o.id, "bob@example.com"))
        .await
        .expect("user");
    for (title, assignee) in [("ada's", ada.id), ("bob's", bob.id), ("ada's too", ada.id)] {
        repo.insert(&NewTask {
            assignee_id: Some(assignee),
            ..new_task(o.id, title)
        })
        .await
        .expect("task");
    }
    // Tasks assigned to live users with an address at example.com named ada:
    // both tables have `id`, `created_at`, `deleted_at`...; the scoped select
    // qualifies its own columns, the caller qualifies the joined ones.
    let users = || Alias::new(User::TABLE);
    let tasks = || Alias::new(Task::TABLE);
    let mut select = query::live::<Task>();
    select
        .inner_join(
            users(),
            Expr::col((users(), UserColumn::Id)).equals((tasks(), TaskColumn::AssigneeId)),
        )
        .and_where(Expr::col((users(), UserColumn::Email)).eq("ada@example.com"))
        .and_where(Expr::col((users(), UserColumn::DeletedAt)).is_null())
        .order_by((tasks(), TaskColumn::Title), Order::Asc);
    let found: Vec<Task> = repo.list(&select).await.expect("join");
    assert_eq!(
        found.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(),
        ["ada's", "ada's too"]
    );
    assert!(found.iter().all(|t| t.assignee_id == Some(ada.id)));
}

#[tokio::test]
async fn transactions_nest_as_savepoints_with_the_same_helper() {
    use ordinance::exec::transaction;
    let (_db, mut client) = setup().await;
    let outcome = transaction(&mut client, async |tx| {
        let kept = org(&Repo::new(&*tx), "Outer").await;
        // An inner failure rolls back to its savepoint only.
        let inner = transaction(tx, async |sp| {
            org(&Repo::new(&*sp), "Inner, undone").await;
            Err::<(), _>(Error::rollback("undo the inner work"))
        })
        .await;
        assert!(matches!(inner, Err(Error::Rollback(_))));
        // A second savepoint commits into the outer transaction.
        let nested = transaction(tx, async |sp| {
            let deeper = transaction(sp, async |deepest| {
                Ok(org(&Repo::new(&*deepest), "Two levels down").await)
            })
            .await?;
            Ok(deeper.id)
        })
        .await?;
        Ok((kept.id, nested))
    })
    .await
    .expect("outer commits");
    let repo = Repo::new(&client);
    assert!(repo.exists::<Organization>(outcome.0).await.expect("outer"));
    assert!(repo
        .exists::<Organization>(outcome.1)
        .await
        .expect("nested"));
    assert_eq!(repo.count::<Organization>().await.expect("count"), 2);

    // An outer failure undoes everything, committed savepoints included.
    let failed = transaction(&mut client, async |tx| {
        transaction(tx, async |sp| Ok(org(&Repo::new(&*sp), "Lost").await)).await?;
        Err::<(), _>(Error::rollback("undo it all"))
    })
    .await;
    assert!(matches!(failed, Err(Error::Rollback(_))));
    assert_eq!(
        Repo::new(&client)
            .count::<Organization>()
            .await
            .expect("count"),
        2
    );
}

#[tokio::test]
async fn the_closure_form_runs_on_a_pooled_connection() {
    use ordinance::exec::transaction;
    use ordinance::pool::{Pool, PoolOptions};
    let db = fixture_database().await;
    let pool = Pool::connect(db.config().clone(), PoolOptions::default())
        .await
        .expect("pool");
    let mut conn = pool.get().await.expect("connection");
    let id = transaction(&mut conn, async |tx| {
        Ok(org(&Repo::new(&*tx), "Pooled").await.id)
    })
    .await
    .expect("commit");
    assert!(Repo::new(&**conn)
        .exists::<Organization>(id)
        .await
        .expect("exists"));
    let undone = transaction(&mut conn, async |tx| {
        org(&Repo::new(&*tx), "Undone").await;
        Err::<(), _>(Error::PoolClosed)
    })
    .await;
    assert!(matches!(undone, Err(Error::PoolClosed)));
    assert_eq!(
        Repo::new(&**conn)
            .count::<Organization>()
            .await
            .expect("count"),
        1
    );
}
