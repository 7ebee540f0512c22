//! Partitioned entities in migrations: a new one is created partitioned
//! by range of `id`, its partitions (made by maintenance) are storage the
//! drift check, the inspection and the audit do not take for tables, and
//! turning an existing table into a partitioned one is refused with the
//! recipe (PostgreSQL cannot do it in place).

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

#[tokio::test]
async fn an_existing_table_is_not_partitioned_in_place() {
    let dir = Folder::new();
    let none = Permissions::default();
    generate(&[v1::View::SCHEMA], &*dir, "views", none)
        .await
        .unwrap();
    match pending_steps(&[v2::View::SCHEMA], &*dir, none).await {
        Err(Error::ManualMigration(why)) => {
            let why = why.join("\n");
            assert!(
                why.contains("\"views\" is partitioned by RANGE (id) in the entity and by nothing"),
                "{why}"
            );
            assert!(why.contains("copy the old rows over in batches"), "{why}");
        }
        other => panic!("expected a manual migration, got {other:?}"),
    }
}
