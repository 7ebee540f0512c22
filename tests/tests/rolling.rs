//! A rolling deploy on a real PostgreSQL: the expand phase applied, the
//! previous entity version keeps inserting, updating and soft-deleting
//! while the new one already writes; then the backfill (in batches) and the
//! contract phase, after which the new version reads every row.

use std::sync::{Arc, Mutex};

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

/// The next version: `weight_grams` goes, `is_express` (NOT NULL, no
/// default) and `note` come, `reference` gets a minimum length and an index.
#[derive(Entity, Debug, Clone)]
#[entity(table = "shipments")]
pub struct ShipmentV2 {
    pub id: Uuid,
    #[column(min_len = 3, max_len = 40, index)]
    pub reference: String,
    pub is_express: bool,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

const ROWS: usize = 12_345;

#[tokio::test]
async fn the_previous_version_keeps_working_through_the_expand_phase() {
    let dir = std::env::temp_dir().join(format!("ordinance-rolling-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    generate(
        &[ShipmentV1::SCHEMA],
        &dir,
        "shipments",
        Permissions::default(),
    )
    .await
    .expect("v1 migrations");
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    Migrations::load(&dir)
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

    // The next version's migrations, destructive drop allowed.
    generate(
        &[ShipmentV2::SCHEMA],
        &dir,
        "express",
        Permissions {
            allow_destructive: true,
        },
    )
    .await
    .expect("v2 migrations");
    let progress = Arc::new(Mutex::new(Vec::<String>::new()));
    let migrations = {
        let progress = progress.clone();
        Migrations::load(&dir)
            .expect("load")
            .backfill_pause(std::time::Duration::ZERO)
            .on_progress(move |line| progress.lock().expect("lock").push(line.to_owned()))
    };
    let expanded = migrations.up(&mut client).await.expect("expand phase");
    assert!(
        expanded.iter().all(|a| !a.name.contains("contract")),
        "{expanded:?}"
    );
    let pending = migrations.pending(&client).await.expect("pending");
    assert!(!pending.is_empty() && pending.iter().all(|m| m.contract));

    // The previous version, still running: every write it makes works.
    let repo = Repo::new(&client);
    let old = repo
        .insert(&NewShipmentV1 {
            reference: "X".into(),
            weight_grams: 10,
        })
        .await
        .expect("v1 inserts");
    let mut changed = old.clone();
    changed.weight_grams = 20;
    let changed = repo.update(&changed).await.expect("v1 updates");
    let deleted = repo.soft_delete(&changed).await.expect("v1 soft-deletes");
    repo.restore(&deleted).await.expect("v1 restores");
    assert_eq!(
        repo.get::<ShipmentV1>(old.id)
            .await
            .expect("v1 reads")
            .weight_grams,
        20
    );
    // The next version, rolling out: it writes its new columns already.
    let new = repo
        .insert(&NewShipmentV2 {
            reference: "NEW-1".into(),
            is_express: true,
            note: Some("fragile".into()),
        })
        .await
        .expect("v2 inserts during the rollout");
    assert!(new.is_express);

    // Rolled out. The contract phase refuses until the backfill's value is
    // written; the rows the old version wrote keep a short reference, which
    // the new minimum length would refuse, so they are fixed first.
    match migrations.contract(&mut client).await {
        Err(Error::MigrationNeedsFilling { name, .. }) => {
            assert_eq!(name, "express_backfill")
        }
        other => panic!("expected an unfilled backfill, got {other:?}"),
    }
    let backfill = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with("_express_backfill.up.sql"))
        .expect("backfill file");
    let text = std::fs::read_to_string(&backfill).expect("read");
    let filled: String = text
        .lines()
        .filter(|l| !l.contains("ordinance:fill-in") && !l.starts_with("-- of FILL_IN"))
        .map(|l| l.replace("FILL_IN", "false") + "\n")
        .collect();
    std::fs::write(&backfill, filled).expect("fill in");
    client
        .execute(
            "UPDATE shipments SET reference = 'X-1' WHERE reference = 'X'",
            &[],
        )
        .await
        .expect("fix short references");
    let migrations = {
        let progress = progress.clone();
        Migrations::load(&dir)
            .expect("load")
            .backfill_pause(std::time::Duration::ZERO)
            .on_progress(move |line| progress.lock().expect("lock").push(line.to_owned()))
    };
    migrations
        .contract(&mut client)
        .await
        .expect("contract phase");
    let progress = progress.lock().expect("lock").clone();
    let batches: Vec<&String> = progress
        .iter()
        .filter(|l| l.contains("rows so far"))
        .collect();
    // 12,347 rows in batches of 5,000; the last reports the total.
    assert_eq!(
        batches.len(),
        (ROWS + 2).div_ceil(ordinance::migrate::BACKFILL_BATCH)
    );
    assert!(
        batches
            .last()
            .is_some_and(|l| l.ends_with(&format!("{} rows so far", ROWS + 1))),
        "{batches:?}"
    );

    // The new version reads every row; NOT NULL and the new check hold.
    let repo = Repo::new(&client);
    assert_eq!(
        repo.count::<ShipmentV2>().await.expect("count"),
        (ROWS + 2) as i64
    );
    let old_now = repo
        .get::<ShipmentV2>(old.id)
        .await
        .expect("v2 reads old rows");
    assert!(!old_now.is_express);
    let err = repo
        .insert(&NewShipmentV2 {
            reference: "AB".into(),
            is_express: false,
            note: None,
        })
        .await
        .expect_err("min length");
    assert!(matches!(err, Error::CheckViolation { .. }), "{err:?}");
    ordinance::migrate::assert_up_to_date(&[ShipmentV2::SCHEMA], &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
}
