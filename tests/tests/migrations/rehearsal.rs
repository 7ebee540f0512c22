//! `proof::rehearse`: the running release's schema filled with rows, each
//! pending migration applied while a reader and a writer try the tables.
//! A hand-written migration that rewrites a table and sits on its lock is
//! caught — the rewrite, the lock held, the reader and writer it blocked —
//! unless it carries a written waiver; the generated recipe for a new
//! column and index passes.

use std::time::Duration;

use ordinance::migrate::{generate, Migrations, Permissions};
use ordinance::prelude::*;
use ordinance::proof::{rehearse, RehearsalOptions};
use ordinance::testing::TestDatabase;
use ordinance_tests::Folder;

/// Release 1.
#[derive(Entity, Debug, Clone)]
#[entity(table = "parts")]
pub struct PartV1 {
    pub id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Release 2: a nullable column and an index on it.
#[derive(Entity, Debug, Clone)]
#[entity(table = "parts")]
pub struct PartV2 {
    pub id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    #[column(max_len = 80, index)]
    pub bin: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

const ROWS: u32 = 20_000;

fn options() -> RehearsalOptions {
    RehearsalOptions {
        rows: ROWS,
        max_exclusive: Duration::from_millis(200),
    }
}

/// Release 1's migrations, and the version they end at.
async fn release1(dir: &Folder) -> i64 {
    generate(&[PartV1::SCHEMA], &**dir, "parts", Permissions::default())
        .await
        .unwrap();
    Migrations::load(&**dir)
        .unwrap()
        .list()
        .last()
        .unwrap()
        .version
}

/// A hand-written migration that widens a column (a rewrite) and then
/// keeps its lock a while.
fn slow_rewrite(dir: &Folder, version: i64, waiver: &str) {
    dir.write(
        &format!("{version}_widen.up.sql"),
        &format!(
            "{waiver}ALTER TABLE \"parts\" ALTER COLUMN \"version\" TYPE BIGINT;\nSELECT pg_sleep(0.5);\n"
        ),
    );
}

#[tokio::test]
async fn a_rewrite_that_sits_on_its_lock_is_caught_with_the_readers_and_writers_it_blocked() {
    let dir = Folder::new();
    let previous = release1(&dir).await;
    slow_rewrite(&dir, previous + 1, "");
    let db = TestDatabase::create().await.unwrap();
    let rehearsal = rehearse(
        db.config(),
        Migrations::load(&*dir).unwrap(),
        Some(previous),
        &[PartV1::SCHEMA],
        &options(),
    )
    .await
    .unwrap();
    let report = rehearsal.to_string();
    println!("{report}");
    assert!(!rehearsal.passed(), "{report}");
    assert_eq!(
        rehearsal.filled,
        [("parts".to_owned(), i64::from(ROWS))],
        "{report}"
    );
    let widen = &rehearsal.migrations[0];
    assert!(widen.migration.ends_with("_widen"), "{report}");
    assert_eq!(widen.rewritten, ["parts"], "{report}");
    let exclusive = widen
        .locks
        .iter()
        .find(|l| l.table == "parts" && l.mode == "AccessExclusiveLock")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(exclusive.held >= Duration::from_millis(500), "{report}");
    assert!(
        exclusive
            .statement
            .starts_with("ALTER TABLE \"parts\" ALTER COLUMN \"version\" TYPE BIGINT"),
        "{report}"
    );
    // A reader or a writer waited on it, and the report says how long.
    // (Both do when their probes both try inside the lock's half second;
    // on a loaded machine one of them may try only before or after it.)
    let waits = widen
        .waits
        .iter()
        .find(|w| w.table == "parts")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        waits.reader.max(waits.writer) >= Duration::from_millis(200),
        "{report}"
    );
    assert!(report.contains("parts: readers waited "), "{report}");
    assert_eq!(widen.problems.len(), 2, "{report}");
    assert!(report.contains("REFUSED: parts was rewritten"), "{report}");
    assert!(
        report.contains("REFUSED: parts held ACCESS EXCLUSIVE for "),
        "{report}"
    );
}

#[tokio::test]
async fn a_written_waiver_lets_it_through_and_the_report_says_why() {
    let dir = Folder::new();
    let previous = release1(&dir).await;
    slow_rewrite(
        &dir,
        previous + 1,
        "-- ordinance:allow-lock parts holds 40 rows in production\n",
    );
    let db = TestDatabase::create().await.unwrap();
    let rehearsal = rehearse(
        db.config(),
        Migrations::load(&*dir).unwrap(),
        Some(previous),
        &[PartV1::SCHEMA],
        &options(),
    )
    .await
    .unwrap();
    let report = rehearsal.to_string();
    assert!(rehearsal.passed(), "{report}");
    assert!(
        report.contains("waived (parts holds 40 rows in production): parts was rewritten"),
        "{report}"
    );
}

#[tokio::test]
async fn the_generated_column_and_index_pass() {
    let dir = Folder::new();
    let previous = release1(&dir).await;
    generate(&[PartV2::SCHEMA], &*dir, "bin", Permissions::default())
        .await
        .unwrap();
    let db = TestDatabase::create().await.unwrap();
    let rehearsal = rehearse(
        db.config(),
        Migrations::load(&*dir).unwrap(),
        Some(previous),
        &[PartV2::SCHEMA],
        &options(),
    )
    .await
    .unwrap();
    let report = rehearsal.to_string();
    assert!(rehearsal.passed(), "{report}");
    // Expand, index, contract (the check NOT VALID) and its validation.
    assert_eq!(rehearsal.migrations.len(), 4, "{report}");
    assert!(
        rehearsal.migrations.iter().all(|m| m.rewritten.is_empty()),
        "{report}"
    );
    // The index builds concurrently: writers go on.
    let index = &rehearsal.migrations[1];
    assert!(index.migration.ends_with("_bin_index"), "{report}");
    assert!(
        index
            .locks
            .iter()
            .any(|l| l.table == "parts" && l.mode == "ShareUpdateExclusiveLock"),
        "{report}"
    );
    println!("{report}");
}

#[tokio::test]
async fn the_command_rehearses_from_the_previous_releases_catalog() {
    let dir = Folder::new();
    release1(&dir).await;
    let saved =
        std::env::temp_dir().join(format!("ordinance-rehearse-{}.catalog", std::process::id()));
    std::fs::copy(dir.join(ordinance::migrate::CATALOG_FILE), &saved).unwrap();
    let version = Migrations::load(&*dir)
        .unwrap()
        .list()
        .last()
        .unwrap()
        .version;
    slow_rewrite(&dir, version + 1, "");
    let db = TestDatabase::create().await.unwrap();
    let rehearsal = ordinance::cli::rehearse(
        db.config(),
        Migrations::load(&*dir).unwrap(),
        saved.to_str().unwrap(),
        dir.to_str().unwrap(),
        &[PartV1::SCHEMA],
        &options(),
    )
    .await
    .unwrap();
    // The previous release's catalog says where the pending migrations start.
    assert_eq!(rehearsal.migrations.len(), 1, "{rehearsal}");
    assert!(!rehearsal.passed(), "{rehearsal}");
    let _ = std::fs::remove_file(&saved);
}
