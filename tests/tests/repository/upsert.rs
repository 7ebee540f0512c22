//! Upsert by a declared unique key: the conflict path follows the update
//! conventions (version + 1, `updated_at` from the database, id and
//! `created_at` kept), soft-deleted rows never conflict, an expected version
//! guards it, and the batch form is all or nothing.

use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{batch, query, Entity, Error};
use ordinance_tests::*;

/// Sign-in handles, unique without regard to case; one primary per slot.
#[derive(Entity, Debug, Clone)]
#[entity(unique(lower(handle)), unique(slot, where(is_primary)))]
#[allow(dead_code)]
struct Account {
    id: Uuid,
    #[column(max_len = 40)]
    handle: String,
    #[column(min = 0)]
    slot: i32,
    is_primary: bool,
    #[column(min = 0)]
    points: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
    version: i32,
}

fn account(handle: &str, slot: i32, is_primary: bool, points: i32) -> NewAccount {
    NewAccount {
        handle: handle.into(),
        slot,
        is_primary,
        points,
    }
}

async fn accounts() -> TestDatabase {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Account::SCHEMA]).expect("ddl");
    TestDatabase::with_schema(&ddl.up()).await.expect("db")
}

#[tokio::test]
async fn the_conflict_path_updates_like_an_update() {
    let db = fixture_database().await;
    let conn = db
        .connect_as_app()
        .await
        .expect("connect as the application");
    let repo = Repo::new(&conn);
    let mut first = new_organization("Acme");
    first.settings = serde_json::json!({"plan": "free"});
    let inserted = repo
        .upsert(&first, OrganizationKey::Name)
        .await
        .expect("insert");
    assert_eq!(inserted.version, 1, "inserted");

    let mut second = new_organization("Acme");
    second.settings = serde_json::json!({"plan": "pro"});
    let updated = repo
        .upsert(&second, OrganizationKey::Name)
        .await
        .expect("update");
    assert_eq!(updated.id, inserted.id, "id kept");
    assert_eq!(updated.created_at, inserted.created_at, "created_at kept");
    assert_eq!(updated.version, 2, "version + 1");
    assert!(updated.updated_at > inserted.updated_at, "updated_at moved");
    assert_eq!(updated.settings, serde_json::json!({"plan": "pro"}));
    assert_eq!(repo.count::<Organization>().await.expect("count"), 1);

    // Composite key: (organization_id, name).
    let group = |name: &str| NewGroup {
        organization_id: inserted.id,
        name: name.into(),
    };
    let a = repo
        .upsert(&group("ops"), GroupKey::OrganizationIdName)
        .await
        .expect("group");
    let b = repo
        .upsert(&group("ops"), GroupKey::OrganizationIdName)
        .await
        .expect("group again");
    assert_eq!((a.id, a.version, b.version), (b.id, 1, 2));

    // Other constraints still speak: a foreign key that points nowhere.
    let stray = NewGroup {
        organization_id: Uuid::now_v7(),
        name: "x".into(),
    };
    let err = repo
        .upsert(&stray, GroupKey::OrganizationIdName)
        .await
        .expect_err("fk");
    assert!(matches!(err, Error::ForeignKeyViolation { .. }), "{err:?}");
}

#[tokio::test]
async fn soft_deleted_rows_never_conflict() {
    let db = fixture_database().await;
    let conn = db
        .connect_as_app()
        .await
        .expect("connect as the application");
    let repo = Repo::new(&conn);
    let old = repo
        .upsert(&new_organization("Gone"), OrganizationKey::Name)
        .await
        .expect("insert");
    let old = repo.soft_delete(&old).await.expect("delete");
    let new = repo
        .upsert(&new_organization("Gone"), OrganizationKey::Name)
        .await
        .expect("insert beside the deleted row");
    assert_ne!(new.id, old.id, "a new row");
    assert_eq!(new.version, 1);
    let still: Vec<Organization> = repo
        .list(&query::only_deleted::<Organization>())
        .await
        .expect("deleted");
    assert_eq!(still.len(), 1);
    assert_eq!(
        still[0].version, old.version,
        "the deleted row is untouched"
    );
}

#[tokio::test]
async fn an_expected_version_guards_the_update() {
    let db = fixture_database().await;
    let conn = db
        .connect_as_app()
        .await
        .expect("connect as the application");
    let repo = Repo::new(&conn);
    // No row yet: the guarded upsert inserts.
    let v1 = repo
        .upsert_if_version(&new_organization("Guarded"), OrganizationKey::Name, 7)
        .await
        .expect("insert");
    assert_eq!(v1.version, 1);
    let v2 = repo
        .upsert_if_version(&new_organization("Guarded"), OrganizationKey::Name, 1)
        .await
        .expect("at version 1");
    assert_eq!((v2.id, v2.version), (v1.id, 2));
    match repo
        .upsert_if_version(&new_organization("Guarded"), OrganizationKey::Name, 1)
        .await
    {
        Err(Error::StaleVersion {
            id,
            expected,
            actual,
            ..
        }) => assert_eq!((id, expected, actual), (v1.id, 1, 2)),
        other => panic!("expected StaleVersion, got {other:?}"),
    }
    let now: Organization = repo.get(v1.id).await.expect("get");
    assert_eq!(now.version, 2, "nothing written by the stale upsert");
}

#[tokio::test]
async fn function_and_partial_keys() {
    let db = accounts().await;
    let conn = db
        .connect_as_app()
        .await
        .expect("connect as the application");
    let repo = Repo::new(&conn);
    let ada = repo
        .upsert(&account("Ada", 1, true, 1), AccountKey::LowerHandle)
        .await
        .expect("insert");
    let shouting = repo
        .upsert(&account("ADA", 2, false, 5), AccountKey::LowerHandle)
        .await
        .expect("same handle, other case");
    assert_eq!((shouting.id, shouting.version), (ada.id, 2));
    assert_eq!((shouting.handle.as_str(), shouting.points), ("ADA", 5));

    // The partial key covers primaries only.
    let primary = repo
        .upsert(&account("bob", 3, true, 0), AccountKey::SlotIsPrimary)
        .await
        .expect("primary");
    let replaced = repo
        .upsert(&account("carol", 3, true, 9), AccountKey::SlotIsPrimary)
        .await
        .expect("same slot");
    assert_eq!(
        (replaced.id, replaced.handle.as_str()),
        (primary.id, "carol")
    );
    let guarded = repo
        .upsert_if_version(&account("dave", 3, true, 0), AccountKey::SlotIsPrimary, 1)
        .await
        .expect_err("stale");
    assert!(
        matches!(guarded, Error::StaleVersion { id, actual: 2, .. } if id == primary.id),
        "{guarded:?}"
    );
}

#[tokio::test]
async fn the_builder_upserts_several_rows() {
    let db = fixture_database().await;
    let conn = db
        .connect_as_app()
        .await
        .expect("connect as the application");
    let repo = Repo::new(&conn);
    let existing = repo.insert(&new_organization("Old")).await.expect("insert");
    let rows = [new_organization("Old"), new_organization("New")];
    let upsert = query::upsert(
        rows.iter().map(|r| (Uuid::now_v7(), r)),
        OrganizationKey::Name,
    )
    .expect("builder");
    let stored: Vec<Organization> = repo.fetch(&upsert).await.expect("upsert");
    assert_eq!(stored.len(), 2);
    let old = stored.iter().find(|o| o.name == "Old").expect("old");
    assert_eq!((old.id, old.version), (existing.id, 2));
    let new = stored.iter().find(|o| o.name == "New").expect("new");
    assert_eq!(new.version, 1);
}

#[tokio::test]
async fn upsert_many_is_ordered_and_all_or_nothing() {
    let db = accounts().await;
    let mut conn = db.connect().await.expect("connect");
    let existing: Vec<NewAccount> = (0..500)
        .map(|i| account(&format!("user{i}"), 100 + i, false, 0))
        .collect();
    batch::insert_many_count(&mut conn, &existing)
        .await
        .expect("seed");

    // Every other row exists; the last repeats the first.
    let mut rows: Vec<NewAccount> = (0..1000)
        .map(|i| account(&format!("USER{i}"), 100 + i, false, i))
        .collect();
    rows.push(account("user0", 100, false, 4242));
    let stored = batch::upsert_many(&mut conn, &rows, AccountKey::LowerHandle)
        .await
        .expect("batch");
    assert_eq!(stored.len(), rows.len());
    for (i, (row, got)) in rows.iter().zip(&stored).enumerate() {
        assert_eq!(got.handle, row.handle, "row {i} in the caller's order");
        let expect = match i {
            0..500 => 2,
            1000 => 3,
            _ => 1,
        };
        assert_eq!(got.version, expect, "row {i}");
    }
    assert_eq!(
        stored[1000].id, stored[0].id,
        "the repeat updated the same row"
    );
    assert_eq!(stored[1000].points, 4242);

    // One bad row (points below its minimum) and nothing lands.
    let before = Repo::new(&conn).count::<Account>().await.expect("count");
    let mut bad: Vec<NewAccount> = (0..300)
        .map(|i| account(&format!("late{i}"), 5000 + i, false, 1))
        .collect();
    bad.push(account("user1", 101, false, 1));
    bad[150].points = -1;
    let err = batch::upsert_many(&mut conn, &bad, AccountKey::LowerHandle)
        .await
        .expect_err("check");
    assert!(
        matches!(err, Error::Invalid { row: Some(150), .. }),
        "{err:?}"
    );
    assert_eq!(
        Repo::new(&conn).count::<Account>().await.expect("count"),
        before
    );
    let user1: Vec<Account> = Repo::new(&conn)
        .list(query::live::<Account>().and_where(Expr::col(AccountColumn::Handle).eq("USER1")))
        .await
        .expect("user1");
    assert_eq!(
        user1[0].version, 2,
        "the batch's update of user1 was rolled back"
    );
}
