//! Every public async operation of the kit is `Send`: each one is spawned
//! with `tokio::spawn` on a multi-thread runtime, as a web handler or a
//! background task would run it. A future that is not `Send` fails to
//! compile here; each spawned task also runs against a real server.

use std::sync::Arc;

use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::exec::{transaction, Unnamed};
use ordinance::migrate::{Migrations, Permissions};
use ordinance::page::Pager;
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{batch, query, Entity};
use ordinance_tests::*;
use tokio::task::JoinHandle;

/// Awaits a spawned task and its result.
async fn done<T, E: std::fmt::Debug>(what: &str, task: JoinHandle<Result<T, E>>) -> T {
    task.await
        .unwrap_or_else(|e| panic!("{what}: task failed: {e}"))
        .unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_public_operation_runs_in_a_spawned_task() {
    let db = Arc::new(fixture_database().await);
    let pool = done(
        "Pool::connect",
        tokio::spawn({
            let config = db.config().clone();
            async move { Pool::connect(config, PoolOptions::default()).await }
        }),
    )
    .await;
    let conn = pool.get().await.expect("connection");
    let org = Repo::new(&**conn)
        .insert(&new_organization("Acme"))
        .await
        .expect("org");
    let user = Repo::new(&**conn)
        .insert(&new_user(org.id, "a@example.com"))
        .await
        .expect("user");
    drop(conn);

    // Each repository operation, on a pooled connection, in its own task.
    macro_rules! spawn_repo {
        ($name:literal, |$repo:ident| $body:expr) => {{
            let pool = pool.clone();
            let user = user.clone();
            let org = org.clone();
            done(
                $name,
                tokio::spawn(async move {
                    let conn = pool.get().await?;
                    let $repo = Repo::new(&**conn);
                    let _ = (&user, &org);
                    $body.await
                }),
            )
            .await
        }};
    }
    let inserted: Organization =
        spawn_repo!("insert", |repo| repo.insert(&new_organization("Beta")));
    spawn_repo!("insert_with_id", |repo| repo
        .insert_with_id(Uuid::now_v7(), &new_organization("Gamma")));
    spawn_repo!("get", |repo| repo.get::<User>(user.id));
    spawn_repo!("find", |repo| repo.find::<User>(user.id));
    spawn_repo!("exists", |repo| repo.exists::<User>(user.id));
    spawn_repo!("count", |repo| repo.count::<User>());
    let counted: i64 = spawn_repo!("count_matching", |repo| async move {
        let q = query::live::<User>()
            .and_where(Expr::col(UserColumn::Email).eq("a@example.com"))
            .to_owned();
        repo.count_matching::<User>(&q).await
    });
    assert_eq!(counted, 1);
    let any: bool = spawn_repo!("exists_matching", |repo| async move {
        let q = query::live::<User>()
            .and_where(Expr::col(UserColumn::Email).eq("a@example.com"))
            .to_owned();
        repo.exists_matching::<User>(&q).await
    });
    assert!(any);
    spawn_repo!("patch", |repo| repo.patch(
        user.id,
        user.version,
        &UserPatch::default()
    ));
    let listed: Vec<User> = spawn_repo!("list", |repo| repo.list::<User>(
        &query::live::<User>()
            .and_where(Expr::col(UserColumn::Email).eq("a@example.com"))
            .to_owned()
    ));
    assert_eq!(listed.len(), 1);
    spawn_repo!("fetch", |repo| repo.fetch::<Organization>(&query::purge::<
        Organization,
    >(
        Uuid::now_v7()
    )));
    let pager = Pager::<User>::new().expect("pager").size(1).expect("size");
    let page = spawn_repo!("first_page", |repo| repo.first_page(
        &Pager::<User>::new()
            .expect("pager")
            .filter(Expr::col(UserColumn::IsAdmin).eq(false))
    ));
    assert_eq!(page.items.len(), 1);
    spawn_repo!("last_page", |repo| repo
        .last_page(&Pager::<User>::new().expect("pager")));
    let next = {
        let conn = pool.get().await.expect("connection");
        let repo = Repo::new(&**conn);
        repo.insert(&new_user(org.id, "b@example.com"))
            .await
            .expect("second user");
        let first = repo.first_page(&pager).await.expect("page");
        first.next.expect("a second page")
    };
    let second = spawn_repo!("page_at", |repo| repo.page_at(&pager, &next));
    assert_eq!(second.items.len(), 1);
    let updated: User = {
        let user = user.clone();
        spawn_repo!("update", |repo| repo.update(&user))
    };
    let deleted: User = {
        let updated = updated.clone();
        spawn_repo!("soft_delete", |repo| repo.soft_delete(&updated))
    };
    spawn_repo!("restore", |repo| repo.restore(&deleted));
    spawn_repo!("purge", |repo| repo.purge::<Organization>(inserted.id));
    spawn_repo!("upsert", |repo| repo
        .upsert(&new_organization("Upserted"), OrganizationKey::Name));
    spawn_repo!("upsert_if_version", |repo| repo.upsert_if_version(
        &new_organization("Upserted"),
        OrganizationKey::Name,
        1
    ));
    spawn_repo!("claim", |repo| repo.claim(
        &query::Claim::<Organization>::new(1)
            .filter(Expr::col(OrganizationColumn::Name).eq("nobody"))
            .set(OrganizationColumn::Name, "claimed")
    ));

    // The unnamed mode, on a plain client.
    done(
        "Unnamed",
        tokio::spawn({
            let db = db.clone();
            async move {
                let client = db.connect().await?;
                let unnamed = Unnamed(&client);
                Repo::new(&unnamed).count::<User>().await
            }
        }),
    )
    .await;

    // Transactions, nested, on a pooled connection.
    let ids = done(
        "transaction",
        tokio::spawn({
            let pool = pool.clone();
            async move {
                let mut conn = pool.get().await?;
                transaction(&mut conn, async |tx| {
                    let a = Repo::new(&*tx).insert(&new_organization("Tx")).await?;
                    let b = transaction(tx, async |sp| {
                        Repo::new(&*sp).insert(&new_organization("Savepoint")).await
                    })
                    .await?;
                    Ok((a.id, b.id))
                })
                .await
            }
        }),
    )
    .await;
    assert_ne!(ids.0, ids.1);

    // Transactions with options and retries, locking reads, bulk changes,
    // retention, batch upserts.
    done(
        "transaction_with, get_locked, bulk, retention, upsert_many",
        tokio::spawn({
            let pool = pool.clone();
            let id = user.id;
            async move {
                let mut conn = pool.get().await?;
                let options = ordinance::exec::TxOptions::new()
                    .isolation(ordinance::exec::Isolation::Serializable)
                    .retry(ordinance::exec::Retry::attempts(3));
                ordinance::exec::transaction_with(&mut conn, options, async |tx| {
                    Repo::new(&*tx)
                        .get_locked::<User>(id, query::RowLock::UPDATE)
                        .await
                })
                .await?;
                ordinance::bulk::Bulk::<Organization>::new()
                    .filter(Expr::col(OrganizationColumn::Name).eq("nobody"))
                    .update(&*conn, vec![(OrganizationColumn::Name, Expr::val("x"))])
                    .await?;
                ordinance::bulk::retention::Retention::new(std::time::Duration::from_secs(1))
                    .purge::<Organization>(&*conn)
                    .await?;
                batch::upsert_many(
                    &mut conn,
                    &[new_organization("Many")],
                    OrganizationKey::Name,
                )
                .await
            }
        }),
    )
    .await;

    // Batches.
    done(
        "insert_many",
        tokio::spawn({
            let pool = pool.clone();
            async move {
                let mut conn = pool.get().await?;
                batch::insert_many(&mut conn, &[new_organization("Batch one")]).await
            }
        }),
    )
    .await;
    done(
        "insert_many_count",
        tokio::spawn({
            let pool = pool.clone();
            async move {
                let mut conn = pool.get().await?;
                batch::insert_many_count(&mut conn, &[new_organization("Batch two")]).await
            }
        }),
    )
    .await;
    done(
        "copy_in",
        tokio::spawn({
            let pool = pool.clone();
            async move {
                let conn = pool.get().await?;
                batch::copy_in(&conn, &[new_organization("Copied")]).await
            }
        }),
    )
    .await;

    // Migrations, on a database of their own.
    let dir = std::env::temp_dir().join(format!("ordinance-send-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let written = done(
        "generate",
        tokio::spawn({
            let dir = dir.clone();
            async move {
                ordinance::migrate::generate(
                    &[Organization::SCHEMA],
                    &dir,
                    "create",
                    Permissions::default(),
                )
                .await
            }
        }),
    )
    .await;
    assert!(!written.is_empty());
    done(
        "check_drift",
        tokio::spawn({
            let dir = dir.clone();
            async move {
                ordinance::migrate::check_drift(
                    &[Organization::SCHEMA],
                    &dir,
                    None,
                    Permissions::default(),
                )
                .await
            }
        }),
    )
    .await;
    done(
        "pending_steps",
        tokio::spawn({
            let dir = dir.clone();
            async move {
                ordinance::migrate::pending_steps(
                    &[Organization::SCHEMA],
                    &dir,
                    Permissions::default(),
                )
                .await
            }
        }),
    )
    .await;
    tokio::spawn({
        let dir = dir.clone();
        async move { ordinance::migrate::assert_up_to_date(&[Organization::SCHEMA], &dir).await }
    })
    .await
    .expect("assert_up_to_date");
    let applied = done(
        "Migrations",
        tokio::spawn({
            let dir = dir.clone();
            async move {
                let migrations = Migrations::load(&dir)?;
                let target = TestDatabase::create().await?;
                let mut client = target.connect().await?;
                let pending = migrations.pending(&client).await?.len();
                let plan = migrations.dry_run(&client).await?;
                let applied = migrations.up(&mut client).await?;
                let catalog = ordinance::migrate::Catalog::read(&client).await?;
                migrations.down_to(&mut client, 0).await?;
                Ok::<_, ordinance::Error>((pending, plan, applied.len(), catalog.tables.len()))
            }
        }),
    )
    .await;
    assert_eq!((applied.0, applied.2, applied.3), (1, 1, 1));
    assert!(applied.1.contains("CREATE TABLE"));
    let _ = std::fs::remove_dir_all(&dir);

    // The test helpers.
    done(
        "testing",
        tokio::spawn(async move {
            let created = TestDatabase::create().await?;
            let with_schema = TestDatabase::with_schema("CREATE TABLE t (x int)").await?;
            ordinance::testing::connect(with_schema.config()).await?;
            created.connect().await.map(drop)
        }),
    )
    .await;
    pool.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_operations_run_in_spawned_tasks() {
    use ordinance::cluster::{Cluster, ClusterOptions};
    use ordinance::deps::futures_util::TryStreamExt as _;

    let db = fixture_database().await;
    let pool = || Pool::connect(db.config().clone(), PoolOptions::default());
    // The same database stands in for a replica: what matters here is that
    // every routed future compiles as `Send` and runs.
    let cluster = Cluster::new(
        pool().await.expect("primary"),
        vec![pool().await.expect("replica")],
        ClusterOptions::default(),
    )
    .expect("cluster");
    let org = done(
        "cluster insert",
        tokio::spawn({
            let cluster = cluster.clone();
            async move { cluster.repo().insert(&new_organization("Sent")).await }
        }),
    )
    .await;
    let got = done(
        "cluster get",
        tokio::spawn({
            let cluster = cluster.session();
            async move { cluster.repo().get::<Organization>(org.id).await }
        }),
    )
    .await;
    assert_eq!(got, org);
    let streamed: Vec<Organization> = done(
        "cluster stream",
        tokio::spawn({
            let cluster = cluster.clone();
            async move {
                let repo = cluster.repo();
                repo.stream::<Organization>(&query::live::<Organization>())
                    .try_collect()
                    .await
            }
        }),
    )
    .await;
    assert_eq!(streamed, vec![org.clone()]);
    let counted = done(
        "cluster transaction",
        tokio::spawn({
            let cluster = cluster.for_tenant(Uuid::now_v7()).as_actor(Uuid::now_v7());
            async move {
                cluster
                    .transaction(async |tx| Repo::new(&*tx).count::<Organization>().await)
                    .await
            }
        }),
    )
    .await;
    assert_eq!(counted, 1);
}
