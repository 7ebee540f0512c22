//! Time-partitioned entities on a real PostgreSQL: the table partitioned
//! by range of `id`, partitions made ahead by `partition::maintain` (as
//! the owner), rows written and read by the application role landing in
//! their day's partition, a get by id reading one partition, and expired
//! partitions detached concurrently and dropped whole.

use ordinance::ddl::SchemaDdl;
use ordinance::deps::chrono::Duration as Days;
use ordinance::partition::{maintain, partition_name, period_start};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance_tests::application_connection;

/// A reading of a sensor, kept for two days after its day ends.
#[derive(Entity, Debug, Clone)]
#[entity(partitioned(interval = "1 day", keep = "2 days"))]
pub struct Reading {
    pub id: Uuid,
    #[column(max_len = 40, index)]
    pub sensor: String,
    pub value: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[tokio::test]
async fn partitions_are_made_ahead_read_one_at_a_time_and_dropped_whole() {
    let ddl = SchemaDdl::new(&[Reading::SCHEMA]).unwrap().up();
    assert!(ddl.contains(") PARTITION BY RANGE (\"id\");"), "{ddl}");
    let db = TestDatabase::with_schema(&ddl).await.unwrap();
    let owner = db.connect().await.unwrap();
    let now = Utc::now();

    // Today's partition and two ahead; again, nothing more.
    let made = maintain::<Reading>(&owner, now, 2).await.unwrap();
    let today = period_start(
        Reading::SCHEMA.partitioned.unwrap().interval,
        now.date_naive(),
    );
    let names: Vec<String> = (0..3)
        .map(|k| partition_name(Reading::SCHEMA, today + Days::days(k)))
        .collect();
    assert_eq!(made.created, names);
    assert!(made.dropped.is_empty());
    assert!(maintain::<Reading>(&owner, now, 2)
        .await
        .unwrap()
        .created
        .is_empty());

    // The application role writes and reads; each row is in today's
    // partition.
    let app = application_connection(&db).await;
    let repo = Repo::new(&app);
    let reading = repo
        .insert(&NewReading {
            sensor: "t1".into(),
            value: 21,
        })
        .await
        .unwrap();
    assert_eq!(repo.get::<Reading>(reading.id).await.unwrap().value, 21);
    let home: String = owner
        .query_one(
            "SELECT tableoid::regclass::text FROM readings WHERE id = $1",
            &[&reading.id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(home, names[0]);
    // A row inserted by hand without an id gets a UUIDv7 of now from the
    // column's default, so it lands in today's partition too.
    let by_hand = app
        .query_one(
            "INSERT INTO readings (sensor, value) VALUES ('by hand', 3) \
             RETURNING id, tableoid::regclass::text",
            &[],
        )
        .await
        .unwrap();
    let (id, home): (Uuid, String) = (by_hand.get(0), by_hand.get(1));
    assert_eq!(id.get_version_num(), 7, "{id}");
    assert_eq!(home, names[0]);
    let made = id.get_timestamp().unwrap().to_unix().0 as i64;
    assert!((made - Utc::now().timestamp()).abs() < 60, "{id}");
    // A get by id reads one partition: the plan names no other.
    let plan: Vec<String> = owner
        .query(
            &format!("EXPLAIN {}", Reading::statements().get),
            &[&reading.id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains(&names[0]), "{plan}");
    assert!(
        !plan.contains(&names[1]) && !plan.contains(&names[2]),
        "{plan}"
    );

    // A soft-deleted row is purged from the partition it is in, row by
    // row as any table's (expiry takes whole partitions, below).
    let gone = repo
        .insert(&NewReading {
            sensor: "t2".into(),
            value: 0,
        })
        .await
        .unwrap();
    let gone = repo.soft_delete(&gone).await.unwrap();
    let purged = ordinance::bulk::retention::Retention::new(std::time::Duration::ZERO)
        .purge::<Reading>(&owner)
        .await
        .unwrap();
    assert_eq!(purged.rows, 1);
    assert!(owner
        .query_opt("SELECT 1 FROM readings WHERE id = $1", &[&gone.id])
        .await
        .unwrap()
        .is_none());

    // Test data: `fill` makes ids of now, in today's partition.
    ordinance::testing::fill(&owner, &[Reading::SCHEMA], 500)
        .await
        .unwrap();
    let filled: i64 = owner
        .query_one(&format!("SELECT count(*) FROM {}", names[0]), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        filled, 502,
        "the reading, the one by hand and the 500 filled"
    );

    // Five days on: the three days' partitions ended two or more days
    // ago (the last exactly two), the time kept: detached and dropped with
    // their rows; the new day and the next are made.
    let later = now + Days::days(5);
    let done = maintain::<Reading>(&owner, later, 1).await.unwrap();
    assert_eq!(done.dropped, names, "{done:?}");
    assert_eq!(done.created.len(), 2, "{done:?}");
    assert!(repo.find::<Reading>(reading.id).await.unwrap().is_none());
    let left: i64 = owner
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname = ANY($1)",
            &[&names],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "dropped, not only detached");
    // A row whose day has no partition is refused, not parked somewhere.
    let err = repo
        .insert_with_id(
            ordinance::partition::first_id(today - Days::days(30)),
            &NewReading {
                sensor: "late".into(),
                value: 1,
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no partition"), "{err}");
}

/// A note on a reading: its foreign key points into the partitioned table.
#[derive(Entity, Debug, Clone)]
pub struct ReadingNote {
    pub id: Uuid,
    #[column(references = Reading, on_delete = "cascade")]
    pub reading_id: Uuid,
    #[column(max_len = 200)]
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The partitions of `readings` a plan reads.
fn partitions_read(plan: &ordinance::testing::Plan) -> Vec<String> {
    let mut out: Vec<String> = plan
        .nodes()
        .into_iter()
        .filter_map(|n| n.relation)
        .filter(|r| r.starts_with("readings_p"))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn statements_on_a_row_read_its_partition_only() {
    use ordinance::testing::Explain;
    let db = TestDatabase::with_schema(
        &SchemaDdl::new(&[Reading::SCHEMA, ReadingNote::SCHEMA])
            .unwrap()
            .up(),
    )
    .await
    .unwrap();
    let owner = db.connect().await.unwrap();
    let now = Utc::now();
    maintain::<Reading>(&owner, now, 2).await.unwrap();
    let repo = Repo::new(&owner);
    let reading = repo
        .insert(&NewReading {
            sensor: "t1".into(),
            value: 1,
        })
        .await
        .unwrap();
    let note = repo
        .insert(&NewReadingNote {
            reading_id: reading.id,
            text: "calibrated".into(),
        })
        .await
        .unwrap();
    let today = partition_name(
        Reading::SCHEMA,
        period_start(
            Reading::SCHEMA.partitioned.unwrap().interval,
            now.date_naive(),
        ),
    );

    // Each with the generic plan a prepared statement settles on: the
    // partitions are pruned when it starts, by the id it is given.
    let explain = Explain::new(db.connect().await.unwrap()).await.unwrap();
    let x = Repo::new(&explain);
    let _ = x.find::<Reading>(reading.id).await;
    let _ = x.update(&reading).await;
    let _ = x.soft_delete(&reading).await;
    let _ = x
        .patch(
            reading.id,
            reading.version,
            &ReadingPatch {
                value: Some(2),
                ..ReadingPatch::default()
            },
        )
        .await;
    let _ = x.purge::<Reading>(reading.id).await;
    let _ = x
        .parents(std::slice::from_ref(&note), ReadingNote::READING)
        .await;
    let plans = explain.take();
    assert!(plans.len() >= 6, "{}", plans.len());
    // The Explain binds no value (no value reaches a plan), so pruning
    // at start removes every partition here; what matters is that the
    // plan prunes by the id at all, instead of reading every partition.
    let mut checked = 0;
    for plan in &plans {
        if !plan.sql().contains("\"readings\"") {
            continue;
        }
        checked += 1;
        let removed = subplans_removed(plan.json());
        let read = partitions_read(plan);
        assert!(
            removed + read.len() == 3 && read.len() <= 1 && read.iter().all(|p| *p == today),
            "{} reads {read:?} and prunes {removed}:\n{:#}",
            plan.sql(),
            plan.json()
        );
    }
    assert!(checked >= 6, "{checked} statements on readings");
}

/// The partitions pruned when the plan starts (`Subplans Removed`).
fn subplans_removed(node: &serde_json::Value) -> usize {
    let here = node
        .get("Subplans Removed")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0) as usize;
    let below: usize = node
        .get("Plans")
        .and_then(serde_json::Value::as_array)
        .map(|plans| plans.iter().map(subplans_removed).sum())
        .unwrap_or(0);
    here + below
}

/// A tenant's metering, partitioned by week.
#[derive(Entity, Debug, Clone)]
#[entity(tenant, partitioned(interval = "1 week", keep = "4 weeks"))]
pub struct Usage {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(min = 0)]
    pub units: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A database with [`Usage`]'s table, this week's partition and the next,
/// and the application role holding the generated grants.
async fn usage_database() -> (TestDatabase, String) {
    let schemas = [Usage::SCHEMA];
    let db = TestDatabase::with_schema(&SchemaDdl::new(&schemas).unwrap().up())
        .await
        .unwrap();
    let owner = db.connect().await.unwrap();
    maintain::<Usage>(&owner, Utc::now(), 1).await.unwrap();
    let (app, _) = ordinance_tests::least_privilege_roles(&db, &schemas, false).await;
    (db, app)
}

#[tokio::test]
async fn a_partitioned_tenant_table_keeps_each_tenant_to_its_rows() {
    use ordinance::cluster::{Cluster, ClusterOptions};
    use ordinance::pool::{Pool, PoolOptions};
    let (db, app) = usage_database().await;
    let mut config = db.config().clone();
    config.user(&app);
    let pool = Pool::connect(config, PoolOptions::default()).await.unwrap();
    let cluster = Cluster::new(pool, Vec::new(), ClusterOptions::default()).unwrap();
    tenants_keep_to_their_rows(&cluster).await;
    // And on a partition named directly: the application role has no
    // right to it at all.
    let app_conn = ordinance_tests::application_connection(&db).await;
    let partition = partition_name(
        Usage::SCHEMA,
        period_start(
            Usage::SCHEMA.partitioned.unwrap().interval,
            Utc::now().date_naive(),
        ),
    );
    let err = app_conn
        .query(&format!("SELECT * FROM {partition}"), &[])
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&ordinance::deps::tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_tenant_table_through_pgbouncer() {
    use ordinance::cluster::{Cluster, ClusterOptions};
    use ordinance::pool::{Pool, PoolOptions};
    let (db, app) = usage_database().await;
    let Some(bouncer) = ordinance_tests::bouncer::Bouncer::start_for(&db, 2, &[&app]) else {
        return;
    };
    let pool = Pool::connect(bouncer.config_as(&db, &app), PoolOptions::default())
        .await
        .unwrap();
    let options = ClusterOptions {
        unnamed_statements: true,
        ..ClusterOptions::default()
    };
    tenants_keep_to_their_rows(&Cluster::new(pool, Vec::new(), options).unwrap()).await;
}

/// Two tenants write and read their rows of the partitioned table through
/// `cluster`: each sees its own only.
async fn tenants_keep_to_their_rows(cluster: &ordinance::cluster::Cluster) {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let mine = cluster
        .for_tenant(a)
        .repo()
        .insert(&NewUsage { units: 5 })
        .await
        .unwrap();
    cluster
        .for_tenant(b)
        .repo()
        .insert(&NewUsage { units: 7 })
        .await
        .unwrap();
    // Row-level security holds on the partitions read through the table.
    assert_eq!(
        cluster.for_tenant(a).repo().count::<Usage>().await.unwrap(),
        1
    );
    assert!(cluster
        .for_tenant(b)
        .repo()
        .find::<Usage>(mine.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        cluster
            .for_tenant(a)
            .repo()
            .get::<Usage>(mine.id)
            .await
            .unwrap()
            .units,
        5
    );
}

/// A click, a partition a day, paged newest first by id (a UUIDv7 id is
/// its time).
#[derive(Entity, Debug, Clone)]
#[entity(keyset(id desc), partitioned(interval = "1 day", keep = "30 days"))]
pub struct Click {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub target: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A UUIDv7 id made at `at`, `n` milliseconds on.
fn id_at(at: DateTime<Utc>, n: i64) -> Uuid {
    let t = at + Days::milliseconds(n);
    Uuid::new_v7(ordinance::deps::uuid::Timestamp::from_unix(
        ordinance::deps::uuid::NoContext,
        u64::try_from(t.timestamp()).unwrap(),
        t.timestamp_subsec_nanos(),
    ))
}

#[tokio::test]
async fn pages_by_id_read_the_partitions_they_need_however_deep() {
    use ordinance::exec::transaction;
    use ordinance::page::Pager;
    let db = TestDatabase::with_schema(&SchemaDdl::new(&[Click::SCHEMA]).unwrap().up())
        .await
        .unwrap();
    let owner = db.connect().await.unwrap();
    let now = Utc::now();
    // Six days of partitions, five with 300 clicks each.
    maintain::<Click>(&owner, now - Days::days(5), 5)
        .await
        .unwrap();
    let mut conn = application_connection(&db).await;
    let repo = Repo::new(&conn);
    for day in 1..=5 {
        let start = now - Days::days(day);
        for n in 0..300 {
            repo.insert_with_id(
                id_at(start, n),
                &NewClick {
                    target: format!("d{day}-{n}"),
                },
            )
            .await
            .unwrap();
        }
    }

    // Every page of 100, each in a transaction of its own whose
    // statistics say which partitions its statement scanned, with the
    // generic plan a prepared statement settles on.
    let pager = Pager::<Click>::new().unwrap().size(100).unwrap();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let mut seen = 0;
    loop {
        let at = cursor.clone();
        // The counts of the transactions before go out before it starts.
        conn.batch_execute("SELECT pg_stat_force_next_flush()")
            .await
            .unwrap();
        let (page, scanned) = transaction(&mut conn, async |tx| {
            tx.batch_execute("SET LOCAL plan_cache_mode = force_generic_plan")
                .await
                .map_err(ordinance::Error::from)?;
            let repo = Repo::new(&*tx);
            let page = match &at {
                None => repo.first_page(&pager).await?,
                Some(c) => repo.page_at(&pager, c).await?,
            };
            let rows = tx
                .query(
                    "SELECT relname::text, idx_scan, idx_tup_fetch FROM pg_stat_xact_user_tables \
                     WHERE relname LIKE 'clicks_p%' AND (idx_scan > 0 OR seq_scan > 0)",
                    &[],
                )
                .await
                .map_err(ordinance::Error::from)?;
            let scanned: Vec<(String, i64, i64)> = rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect();
            Ok((page, scanned))
        })
        .await
        .unwrap();
        pages += 1;
        seen += page.items.len();
        // A page lies in one day's partition or straddles two; never more,
        // however deep, and it fetches about a page of rows.
        assert!(
            (1..=2).contains(&scanned.len()),
            "page {pages} scanned {scanned:?}"
        );
        let fetched: i64 = scanned.iter().map(|(_, _, f)| f).sum();
        assert!(
            fetched <= 102,
            "page {pages} fetched {fetched}: {scanned:?}"
        );
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, 1500);
    assert_eq!(pages, 15);
}
