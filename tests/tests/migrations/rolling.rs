//! A rolling deploy on a real PostgreSQL: the expand phase applied, the
//! previous release keeps inserting, updating, soft-deleting and reading
//! while the next one already reads every row and writes its new columns,
//! concurrently; the previous release stops; the contract phase runs while
//! the next release keeps working — and not one operation fails.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ordinance::batch::insert_many_count;
use ordinance::migrate::{generate, Migrations, Permissions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::Error;

/// The running version.
#[derive(Entity, Debug, Clone)]
#[entity(table = "shipments")]
pub struct ShipmentV1 {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub reference: String,
    pub weight_grams: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The next version: `weight_grams` goes, `is_express` (NOT NULL, `false`
/// for the rows already there) and `note` come, `reference` gets a minimum
/// length and an index.
#[derive(Entity, Debug, Clone)]
#[entity(table = "shipments")]
pub struct ShipmentV2 {
    pub id: Uuid,
    #[column(min_len = 3, max_len = 40, index)]
    pub reference: String,
    #[column(backfill = false)]
    pub is_express: bool,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The next version as first written: a NOT NULL column with nothing to
/// give the rows already there.
#[derive(Entity, Debug, Clone)]
#[entity(table = "shipments")]
pub struct ShipmentV2Unfilled {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub reference: String,
    pub weight_grams: i32,
    pub is_express: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

const ROWS: usize = 12_345;

/// Operations one release ran, and the ones that failed (with the first
/// failure, to show).
#[derive(Default)]
struct Tally {
    ran: AtomicU64,
    failed: AtomicU64,
    first: std::sync::Mutex<Option<String>>,
}

impl Tally {
    fn record<T>(&self, what: &str, result: Result<T, Error>) -> Option<T> {
        self.ran.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.first
                    .lock()
                    .unwrap()
                    .get_or_insert_with(|| format!("{what}: {e}"));
                None
            }
        }
    }
}

/// The previous release at work until `stop`: it inserts, updates,
/// soft-deletes, restores and reads its rows.
async fn previous_release(db: &TestDatabase, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let new = NewShipmentV1 {
            reference: format!("OLD-{i}"),
            weight_grams: i,
        };
        let Some(row) = tally.record("v1 insert", repo.insert(&new).await) else {
            continue;
        };
        let mut changed = row.clone();
        changed.weight_grams += 1;
        let Some(changed) = tally.record("v1 update", repo.update(&changed).await) else {
            continue;
        };
        if let Some(deleted) = tally.record("v1 soft delete", repo.soft_delete(&changed).await) {
            tally.record("v1 restore", repo.restore(&deleted).await);
        }
        tally.record("v1 get", repo.get::<ShipmentV1>(row.id).await);
    }
}

/// The next release at work until `stop`: it reads rows the previous one
/// wrote (before the deploy and meanwhile), writes its new columns, and
/// updates what it read.
async fn next_release(db: &TestDatabase, stop: Arc<AtomicBool>, tally: Arc<Tally>, old: Vec<Uuid>) {
    let conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let new = NewShipmentV2 {
            reference: format!("NEW-{i}"),
            is_express: i % 2 == 0,
            note: Some("fragile".into()),
        };
        tally.record("v2 insert", repo.insert(&new).await);
        let id = old[i % old.len()];
        if let Some(mut row) =
            tally.record("v2 get of an old row", repo.get::<ShipmentV2>(id).await)
        {
            row.note = Some(format!("seen {i}"));
            tally.record("v2 update of an old row", repo.update(&row).await);
        }
        let latest = ordinance::query::live::<ShipmentV2>()
            .order_by(
                ShipmentV2Column::CreatedAt,
                ordinance::deps::sea_query::Order::Desc,
            )
            .limit(20)
            .to_owned();
        tally.record("v2 list", repo.list::<ShipmentV2>(&latest).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_releases_work_through_expand_and_contract_with_no_failed_operation() {
    let dir = ordinance_tests::Folder::new();
    generate(
        &[ShipmentV1::SCHEMA],
        &*dir,
        "shipments",
        Permissions::default(),
    )
    .await
    .expect("v1 migrations");
    let db = Arc::new(TestDatabase::create().await.expect("db"));
    let mut client = db.connect().await.expect("connect");
    Migrations::load(&*dir)
        .expect("load")
        .contract(&mut client)
        .await
        .expect("v1 schema");
    let old_rows: Vec<NewShipmentV1> = (0..ROWS)
        .map(|i| NewShipmentV1 {
            reference: format!("REF-{i}"),
            weight_grams: i as i32,
        })
        .collect();
    insert_many_count(&mut client, &old_rows)
        .await
        .expect("v1 rows");
    let old: Vec<Uuid> = client
        .query("SELECT id FROM shipments ORDER BY id LIMIT 500", &[])
        .await
        .expect("ids")
        .iter()
        .map(|r| r.get(0))
        .collect();

    // Written as first thought, the new column is refused when blessing,
    // with the ways to give the rows a value.
    match generate(
        &[ShipmentV2Unfilled::SCHEMA],
        &*dir,
        "express",
        Permissions::default(),
    )
    .await
    {
        Err(Error::NotNullWithoutValue(columns)) => {
            assert_eq!(columns, ["shipments.is_express"]);
        }
        other => panic!("expected the unfilled NOT NULL column refused, got {other:?}"),
    }
    let err = Error::NotNullWithoutValue(vec!["shipments.is_express".into()]).to_string();
    for recipe in [
        "#[column(default = ...)]",
        "#[column(backfill = ...)]",
        "Option<T>",
    ] {
        assert!(err.contains(recipe), "{err}");
    }

    // The next version's migrations, destructive drop allowed.
    generate(
        &[ShipmentV2::SCHEMA],
        &*dir,
        "express",
        Permissions {
            allow_destructive: true,
        },
    )
    .await
    .expect("v2 migrations");
    let migrations = Migrations::load(&*dir)
        .expect("load")
        .backfill_pause(Duration::ZERO);
    let expanded = migrations.up(&mut client).await.expect("expand phase");
    assert!(
        expanded.iter().all(|a| !a.name.contains("contract")),
        "{expanded:?}"
    );

    // Both releases at once, as during a rollout.
    let (v1_tally, v2_tally) = (Arc::new(Tally::default()), Arc::new(Tally::default()));
    let (v1_stop, v2_stop) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let v1 = tokio::spawn({
        let (db, stop, tally) = (db.clone(), v1_stop.clone(), v1_tally.clone());
        async move { previous_release(&db, stop, tally).await }
    });
    let v2 = tokio::spawn({
        let (db, stop, tally) = (db.clone(), v2_stop.clone(), v2_tally.clone());
        async move { next_release(&db, stop, tally, old).await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Rolled out: the previous release is gone, then the contract phase
    // runs while the next one works.
    v1_stop.store(true, Ordering::Relaxed);
    v1.await.expect("v1 task");
    migrations
        .contract(&mut client)
        .await
        .expect("contract phase");
    tokio::time::sleep(Duration::from_millis(200)).await;
    v2_stop.store(true, Ordering::Relaxed);
    v2.await.expect("v2 task");

    for (release, tally) in [("previous", &v1_tally), ("next", &v2_tally)] {
        let ran = tally.ran.load(Ordering::Relaxed);
        assert!(ran > 20, "the {release} release ran {ran} operations");
        assert_eq!(
            tally.failed.load(Ordering::Relaxed),
            0,
            "the {release} release: {:?}",
            tally.first.lock().unwrap()
        );
    }

    // The new version reads every row; NOT NULL and the new check hold.
    let repo = Repo::new(&client);
    let rows = repo.count::<ShipmentV2>().await.expect("count");
    assert!(rows > ROWS as i64, "{rows}");
    let not_null: bool = client
        .query_one(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'shipments'::regclass AND attname = 'is_express'",
            &[],
        )
        .await
        .expect("attnotnull")
        .get(0);
    assert!(not_null);
    let err = repo
        .insert(&NewShipmentV2 {
            reference: "AB".into(),
            is_express: false,
            note: None,
        })
        .await
        .expect_err("min length");
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    // The kit refuses it before sending; the table's new check stands
    // behind it for writes the kit does not make.
    let err = client
        .execute(
            "INSERT INTO shipments (reference, is_express) VALUES ('AB', false)",
            &[],
        )
        .await
        .expect_err("min length");
    assert!(
        matches!(
            Error::from_db(err, ShipmentV2::SCHEMA),
            Error::CheckViolation { .. }
        ),
        "the check holds"
    );
    ordinance::migrate::assert_up_to_date(&[ShipmentV2::SCHEMA], &*dir).await;
}
