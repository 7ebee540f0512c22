//! Partitioned entities in migrations: a new one is created partitioned
//! by range of `id`, its partitions (made by maintenance) are storage the
//! drift check, the inspection and the audit do not take for tables, and
//! an existing table becomes partitioned by generated expand, backfill and
//! contract migrations while the application writes (PostgreSQL cannot do
//! it in place); a table others reference is refused with the recipe.

use ordinance::audit::{audit, AuditOptions};
use ordinance::inspect::Database;
use ordinance::migrate::{check_drift, generate, pending_steps, Drift, Migrations, Permissions};
use ordinance::prelude::*;
use ordinance::Error;
use ordinance_tests::Folder;

pub mod v1 {
    use ordinance::prelude::*;

    /// Page views.
    #[derive(Entity, Debug, Clone)]
    #[entity(table = "views")]
    pub struct View {
        pub id: Uuid,
        #[column(max_len = 200)]
        pub path: String,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

pub mod v2 {
    use ordinance::prelude::*;

    /// Page views, a partition a month.
    #[derive(Entity, Debug, Clone)]
    #[entity(table = "views", partitioned(interval = "1 month", keep = "13 months"))]
    pub struct View {
        pub id: Uuid,
        #[column(max_len = 200)]
        pub path: String,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

pub mod v3 {
    use ordinance::prelude::*;

    /// Page views, a partition a month, found by path.
    #[derive(Entity, Debug, Clone)]
    #[entity(table = "views", partitioned(interval = "1 month", keep = "13 months"))]
    pub struct View {
        pub id: Uuid,
        #[column(max_len = 200, index)]
        pub path: String,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

#[tokio::test]
async fn a_partitioned_entity_migrates_and_its_partitions_are_not_tables() {
    let dir = Folder::new();
    let none = Permissions::default();
    generate(&[v2::View::SCHEMA], &*dir, "views", none)
        .await
        .unwrap();
    let db = ordinance::testing::TestDatabase::create().await.unwrap();
    let mut owner = db.connect().await.unwrap();
    Migrations::load(&*dir)
        .unwrap()
        .contract(&mut owner)
        .await
        .unwrap();
    let made = ordinance::partition::maintain::<v2::View>(&owner, Utc::now(), 3)
        .await
        .unwrap();
    assert_eq!(made.created.len(), 4);
    let database = Database::read(&owner).await.unwrap();
    let names: Vec<&str> = database.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["views"], "partitions are not tables of their own");
    assert_eq!(
        database.tables[0].partition_key.as_deref(),
        Some("RANGE (id)")
    );
    let findings = audit(&owner, &AuditOptions::default()).await.unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
    assert!(matches!(
        check_drift(&[v2::View::SCHEMA], &*dir, None, none)
            .await
            .unwrap(),
        Drift::UpToDate
    ));
}

/// The migrations making the plain `views` table partitioned: expand,
/// backfill and contract, generated and read.
async fn conversion(dir: &Folder) -> String {
    let none = Permissions::default();
    generate(&[v3::View::SCHEMA], &**dir, "partition_views", none)
        .await
        .unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&**dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.contains("partition_views") && name.ends_with(".up.sql")
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n-- next file\n")
}

/// 200,000 rows made over the last 90 days, with UUIDv7 ids of their time.
const OLD_ROWS: i64 = 200_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_table_becomes_partitioned_while_the_application_writes() {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let dir = Folder::new();
    let none = Permissions::default();
    generate(&[v1::View::SCHEMA], &*dir, "views", none)
        .await
        .unwrap();
    let db = ordinance::testing::TestDatabase::create().await.unwrap();
    let mut owner = db.connect().await.unwrap();
    Migrations::load(&*dir)
        .unwrap()
        .contract(&mut owner)
        .await
        .unwrap();
    owner
        .batch_execute(&format!(
            "INSERT INTO views (id, path) \
             SELECT (lpad(to_hex(ms), 12, '0') || '7' || substr(md5(g::text), 1, 19))::uuid, 'old-' || g \
             FROM generate_series(1, {OLD_ROWS}) g, \
             LATERAL (SELECT (extract(epoch FROM now() - interval '90 days') * 1000)::bigint \
                      + g * (90::bigint * 86400000 / {OLD_ROWS}) AS ms) t"
        ))
        .await
        .unwrap();

    let sql = conversion(&dir).await;
    assert!(
        sql.contains("PARTITION BY RANGE (id)") || sql.contains("PARTITION BY RANGE (\"id\")"),
        "{sql}"
    );
    assert!(sql.contains("FOR KEY SHARE"), "{sql}");
    assert!(sql.contains("DROP TABLE \"views\""), "{sql}");

    // Four writers as the application role, each on rows of its own: it
    // inserts, updates old rows and deletes old rows, and remembers what
    // each row must end as (None: gone).
    let app_config = db.app_config().await.unwrap();
    let old_ids: Vec<Uuid> = owner
        .query("SELECT id FROM views ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for k in 0..4usize {
        let config = app_config.clone();
        let stop = stop.clone();
        let mine: Vec<Uuid> = old_ids.iter().skip(k).step_by(4).copied().collect();
        writers.push(tokio::spawn(async move {
            let conn = ordinance::exec::Connection::connect(&config).await.unwrap();
            let repo = ordinance::repo::Repo::new(&conn);
            let mut expected: HashMap<Uuid, Option<String>> = HashMap::new();
            let mut n = 0usize;
            let mut retried = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let path = format!("w{k}-{n}");
                // A deadlock between a writer and a batch copying its row
                // is PostgreSQL's to break: the writer tries again.
                let result: ordinance::Result<()> = async {
                    match n % 3 {
                        0 => {
                            let made = repo
                                .insert(&v1::NewView { path: path.clone() })
                                .await?;
                            expected.insert(made.id, Some(path.clone()));
                        }
                        1 => {
                            let id = mine[(n * 7919) % mine.len()];
                            if expected.get(&id) != Some(&None) {
                                let mut view: v1::View = repo.get(id).await?;
                                view.path = path.clone();
                                repo.update(&view).await?;
                                expected.insert(id, Some(path.clone()));
                            }
                        }
                        _ => {
                            let id = mine[(n * 104_729) % mine.len()];
                            repo.purge::<v1::View>(id).await?;
                            expected.insert(id, None);
                        }
                    }
                    Ok(())
                }
                .await;
                match result {
                    Ok(()) => {}
                    Err(e) if e.sqlstate() == Some(&ordinance::deps::tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED) => {
                        retried += 1;
                    }
                    Err(e) => panic!("writer {k} failed at {n}: {e}"),
                }
                // A busy service's pace, not a flood: about 500 writes a
                // second in all.
                tokio::time::sleep(std::time::Duration::from_millis(8)).await;
            }
            (expected, n, retried)
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let migrations = Migrations::load(&*dir)
        .unwrap()
        .backfill_pause(std::time::Duration::from_millis(5));
    // Expand, reverted (nothing of it left), and again; the new version
    // starts and maintains the partitions of the table its rows move into.
    let expand = migrations.up(&mut owner).await.unwrap();
    assert_eq!(expand.len(), 1, "{expand:?}");
    let reverted = migrations
        .down_to(&mut owner, expand[0].version - 1)
        .await
        .unwrap();
    assert_eq!(reverted.len(), 1);
    let shadow: bool = owner
        .query_one("SELECT to_regclass('views_partitioned') IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!shadow);
    migrations.up(&mut owner).await.unwrap();
    let during = ordinance::partition::maintain::<v3::View>(&owner, Utc::now(), 2)
        .await
        .unwrap();
    assert!(during.dropped.is_empty(), "{during:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Contract: the copy in batches, then the swap.
    let applied = migrations.contract(&mut owner).await.unwrap();
    assert!(!applied.is_empty());
    // The writers go on with the statements they prepared before.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut expected: HashMap<Uuid, Option<String>> = HashMap::new();
    let mut operations = 0;
    for w in writers {
        let (mine, n, retried) = w.await.unwrap();
        operations += n;
        eprintln!("writer: {n} operations, {retried} deadlocks retried");
        expected.extend(mine);
    }
    assert!(
        operations > 100,
        "the writers wrote throughout: {operations}"
    );

    // The table is partitioned, holds every row it must, as each writer
    // left it, spread over the periods of their ids.
    let kind: String = owner
        .query_one(
            "SELECT relkind::text FROM pg_class WHERE oid = 'views'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kind, "p");
    let gone = expected.values().filter(|v| v.is_none()).count() as i64;
    let inserted = expected
        .iter()
        .filter(|(id, v)| v.is_some() && old_ids.binary_search(id).is_err())
        .count() as i64;
    let count: i64 = owner
        .query_one("SELECT count(*) FROM views", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, OLD_ROWS + inserted - gone);
    let app = db.connect_as_app().await.unwrap();
    let repo = ordinance::repo::Repo::new(&app);
    for (id, path) in &expected {
        match path {
            Some(path) => assert_eq!(&repo.get::<v3::View>(*id).await.unwrap().path, path),
            None => assert!(matches!(
                repo.get::<v3::View>(*id).await,
                Err(Error::NotFound { .. })
            )),
        }
    }
    let partitions: i64 = owner
        .query_one(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'views'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        partitions >= 4,
        "90 days of monthly partitions and the next: {partitions}"
    );
    // Nothing is left of the conversion, and the database is what the
    // entity says.
    let leftovers: i64 = owner
        .query_one(
            "SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE 'views%partitioned%') \
                  + (SELECT count(*) FROM pg_proc WHERE proname IN ('views_to_partitioned', 'views_copy_up_to'))",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(leftovers, 0);
    let index: String = owner
        .query_one(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'views'::regclass \
             AND NOT indisprimary",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(index, "idx_views_path", "the index has the entity's name");
    assert!(matches!(
        check_drift(&[v3::View::SCHEMA], &*dir, None, none)
            .await
            .unwrap(),
        Drift::UpToDate
    ));
    let after = ordinance::partition::maintain::<v3::View>(&owner, Utc::now(), 2)
        .await
        .unwrap();
    assert!(after.created.is_empty(), "{after:?}");
}

pub mod referenced {
    use ordinance::prelude::*;

    /// A click on a page view.
    #[derive(Entity, Debug, Clone)]
    #[entity(table = "view_clicks")]
    pub struct ViewClick {
        pub id: Uuid,
        #[column(references = super::v1::View)]
        pub view_id: Uuid,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

#[tokio::test]
async fn a_referenced_table_is_not_converted() {
    let dir = Folder::new();
    let none = Permissions::default();
    generate(
        &[v1::View::SCHEMA, referenced::ViewClick::SCHEMA],
        &*dir,
        "views",
        none,
    )
    .await
    .unwrap();
    match pending_steps(
        &[v2::View::SCHEMA, referenced::ViewClick::SCHEMA],
        &*dir,
        none,
    )
    .await
    {
        Err(Error::ManualMigration(why)) => {
            let why = why.join("\n");
            assert!(
                why.contains("\"views\" is partitioned in the entity and not in the database, and view_clicks reference it by foreign key"),
                "{why}"
            );
            assert!(why.contains("copy the old rows over in batches"), "{why}");
        }
        other => panic!("expected a manual migration, got {other:?}"),
    }
}

pub mod tenant_v1 {
    use ordinance::prelude::*;

    /// A tenant's visits.
    #[derive(Entity, Debug, Clone)]
    #[entity(tenant, table = "visits")]
    pub struct Visit {
        pub id: Uuid,
        pub tenant_id: Uuid,
        #[column(max_len = 200)]
        pub path: String,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

pub mod tenant_v2 {
    use ordinance::prelude::*;

    /// A tenant's visits, a partition a month.
    #[derive(Entity, Debug, Clone)]
    #[entity(
        tenant,
        table = "visits",
        partitioned(interval = "1 month", keep = "13 months")
    )]
    pub struct Visit {
        pub id: Uuid,
        pub tenant_id: Uuid,
        #[column(max_len = 200)]
        pub path: String,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

/// A tenant table converted by an owner that is no superuser (row-level
/// security binds it: `FORCE`), while the application role writes as
/// tenants: the backfill still copies every tenant's rows, and the new
/// table keeps each tenant to its own and the owner to none.
#[tokio::test]
async fn a_tenant_table_is_converted_by_an_owner_held_to_row_security() {
    use ordinance::cluster::{Cluster, ClusterOptions};
    use ordinance::pool::{Pool, PoolOptions};

    let dir = Folder::new();
    let none = Permissions::default();
    generate(&[tenant_v1::Visit::SCHEMA], &*dir, "visits", none)
        .await
        .unwrap();
    let db = ordinance::testing::TestDatabase::create().await.unwrap();
    let admin = db.connect().await.unwrap();
    let owner_role = format!("{}_owner", db.name());
    admin
        .batch_execute(&format!(
            "CREATE ROLE \"{owner_role}\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS; \
             GRANT CREATE ON SCHEMA public TO \"{owner_role}\""
        ))
        .await
        .unwrap();
    let mut owner_config = db.config().clone();
    owner_config.user(&owner_role);
    let mut owner = ordinance::exec::Connection::connect(&owner_config)
        .await
        .unwrap();
    let migrations = Migrations::load(&*dir).unwrap();
    migrations.contract(&mut owner).await.unwrap();
    let (app, _) =
        ordinance_tests::least_privilege_roles(&db, &[tenant_v1::Visit::SCHEMA], false).await;
    let mut app_config = db.config().clone();
    app_config.user(&app);
    let pool = Pool::connect(app_config, PoolOptions::default())
        .await
        .unwrap();
    let cluster = Cluster::new(pool, Vec::new(), ClusterOptions::default()).unwrap();
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let write = async |tenant: Uuid, n: usize| {
        let repo = cluster.for_tenant(tenant);
        for i in 0..n {
            repo.repo()
                .insert(&tenant_v1::NewVisit {
                    path: format!("/{i}"),
                })
                .await
                .unwrap();
        }
    };
    write(a, 30).await;
    write(b, 20).await;

    generate(&[tenant_v2::Visit::SCHEMA], &*dir, "partition_visits", none)
        .await
        .unwrap();
    let migrations = Migrations::load(&*dir).unwrap();
    migrations.up(&mut owner).await.unwrap();
    // Between expand and contract the application goes on writing.
    write(a, 5).await;
    migrations.contract(&mut owner).await.unwrap();
    write(b, 5).await;

    let kind: String = owner
        .query_one(
            "SELECT relkind::text FROM pg_class WHERE oid = 'visits'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kind, "p");
    let count = async |tenant: Uuid| {
        cluster
            .for_tenant(tenant)
            .repo()
            .count::<tenant_v2::Visit>()
            .await
            .unwrap()
    };
    assert_eq!(count(a).await, 35);
    assert_eq!(count(b).await, 25);
    // The owner is held to the policy again: with no tenant set, nothing.
    let seen: i64 = owner
        .query_one("SELECT count(*) FROM visits", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(seen, 0, "the new table fails closed for its owner too");
    // Every row is there, as the superuser sees.
    let all: i64 = admin
        .query_one("SELECT count(*) FROM visits", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(all, 60);
    assert!(matches!(
        check_drift(&[tenant_v2::Visit::SCHEMA], &*dir, None, none)
            .await
            .unwrap(),
        Drift::UpToDate
    ));
}
