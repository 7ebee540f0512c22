//! The write cost of row history, in one run on one server: inserting and
//! updating one row of an entity with `#[entity(history)]` against the same
//! entity without it (every write then also writes its version through the
//! trigger, and an update closes the previous one).
//!
//! `cargo bench -p ordinance-examples --bench history` prints medians and
//! ratios. Pin it (`taskset -c 1 cargo bench ...`): the throwaway server is
//! its child and shares the placement.

mod common;

use ordinance::ddl::SchemaDdl;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;

/// Without history.
#[derive(Entity, Debug, Clone)]
pub struct Plain {
    pub id: Uuid,
    #[column(max_len = 200)]
    pub title: String,
    pub amount: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The same, with every version kept.
#[derive(Entity, Debug, Clone)]
#[entity(history)]
pub struct Kept {
    pub id: Uuid,
    #[column(max_len = 200)]
    pub title: String,
    pub amount: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

const RUNS: (usize, usize) = (200, 2_000);

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let ddl = SchemaDdl::new(&[Plain::SCHEMA, Kept::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up())
        .await
        .expect("database");
    let conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    println!(
        "history: one row, with #[entity(history)] against without, medians of {}",
        RUNS.1
    );

    let done = common::pair(
        "insert",
        "insert",
        "insert without history",
        RUNS,
        |i| {
            let repo = &repo;
            async move {
                let new = NewKept {
                    title: format!("row {i}"),
                    amount: 1,
                };
                repo.insert(&new).await.expect("insert");
            }
        },
        |i| {
            let repo = &repo;
            async move {
                let new = NewPlain {
                    title: format!("row {i}"),
                    amount: 1,
                };
                repo.insert(&new).await.expect("insert");
            }
        },
    )
    .await;
    if done {
        return;
    }

    // One row each, updated again and again: each update of the kept one
    // closes the version before and writes its own.
    let kept = repo
        .insert(&NewKept {
            title: "updated".into(),
            amount: 0,
        })
        .await
        .expect("insert");
    let plain = repo
        .insert(&NewPlain {
            title: "updated".into(),
            amount: 0,
        })
        .await
        .expect("insert");
    let kept = std::cell::RefCell::new(kept);
    let plain = std::cell::RefCell::new(plain);
    common::pair(
        "update",
        "update",
        "update without history",
        RUNS,
        |i| {
            let (repo, kept) = (&repo, &kept);
            async move {
                let mut row = kept.borrow().clone();
                row.amount = i as i32;
                let stored = repo.update(&row).await.expect("update");
                *kept.borrow_mut() = stored;
            }
        },
        |i| {
            let (repo, plain) = (&repo, &plain);
            async move {
                let mut row = plain.borrow().clone();
                row.amount = i as i32;
                let stored = repo.update(&row).await.expect("update");
                *plain.borrow_mut() = stored;
            }
        },
    )
    .await;
}
