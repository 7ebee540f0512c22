//! `#[entity(history)]` on a real PostgreSQL, as the application role:
//! every write path — insert, update, patch, soft delete, restore, a bulk
//! change, hand-written SQL, purge — leaves a version, read back in order
//! with its operation, actor and transaction; `as_of` gives the row at
//! several instants; the history's reads use its index; the application
//! role cannot write history; a tenant's history is the tenant's only.

use std::time::Duration;

use ordinance::cluster::{Cluster, ClusterOptions};
use ordinance::ddl::SchemaDdl;
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::deps::tokio_postgres::error::SqlState;
use ordinance::history::{Operation, Version};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::{Expect, Explain, TestDatabase};
use ordinance_tests::least_privilege_roles;

/// A contract whose every version is kept.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(history)]
pub struct Contract {
    pub id: Uuid,
    #[column(max_len = 200)]
    pub title: String,
    #[column(min = 0)]
    pub amount: i32,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A tenant's ledger line, with its history.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(tenant, history)]
pub struct LedgerLine {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(max_len = 100)]
    pub memo: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

async fn setup() -> (TestDatabase, Cluster) {
    setup_with(ClusterOptions::default(), 2).await
}

async fn setup_with(options: ClusterOptions, connections: usize) -> (TestDatabase, Cluster) {
    let schemas = [Contract::SCHEMA, LedgerLine::SCHEMA];
    let db = TestDatabase::with_schema(&SchemaDdl::new(&schemas).unwrap().up())
        .await
        .unwrap();
    let (app, _) = least_privilege_roles(&db, &schemas, false).await;
    let mut config = db.config().clone();
    config.user(&app);
    let pool = Pool::connect(
        config,
        PoolOptions {
            max_size: connections,
            acquire_timeout: Duration::from_secs(5),
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    let cluster = Cluster::new(pool, Vec::new(), options).unwrap();
    (db, cluster)
}

/// The server's clock, between two writes.
async fn now(app: &Cluster) -> DateTime<Utc> {
    let client = app.primary().get().await.unwrap();
    let row = client
        .query_one("SELECT clock_timestamp()", &[])
        .await
        .unwrap();
    row.get(0)
}

#[tokio::test]
async fn every_write_path_leaves_a_version_and_as_of_reads_the_past() {
    let (db, app) = setup().await;
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let as_alice = app.as_actor(alice);
    let as_bob = app.as_actor(bob);
    let before = now(&app).await;

    let inserted = as_alice
        .repo()
        .insert(&NewContract {
            title: "Lease".into(),
            amount: 100,
        })
        .await
        .unwrap();
    let after_insert = now(&app).await;
    let mut changed = inserted.clone();
    changed.amount = 150;
    let updated = as_bob.repo().update(&changed).await.unwrap();
    let after_update = now(&app).await;
    let patched = as_alice
        .repo()
        .patch(
            updated.id,
            updated.version,
            &ContractPatch {
                title: Some("Lease (renewed)".into()),
                ..ContractPatch::default()
            },
        )
        .await
        .unwrap();
    let deleted = as_alice.repo().soft_delete(&patched).await.unwrap();
    let while_deleted = now(&app).await;
    let restored = as_bob.repo().restore(&deleted).await.unwrap();
    ordinance::bulk::Bulk::<Contract>::new()
        .filter(Expr::col(ContractColumn::Id).eq(restored.id))
        .update(&app, [(ContractColumn::Amount, 175)])
        .await
        .unwrap();
    // By hand, as the owner in psql would.
    let owner = db.connect().await.unwrap();
    owner
        .execute(
            "UPDATE contracts SET amount = 200 WHERE id = $1",
            &[&restored.id],
        )
        .await
        .unwrap();
    let before_purge = now(&app).await;
    assert!(as_alice
        .repo()
        .purge::<Contract>(restored.id)
        .await
        .unwrap());
    let after_purge = now(&app).await;

    let history: Vec<Version<Contract>> = app.repo().history(inserted.id).await.unwrap();
    let operations: Vec<Operation> = history.iter().map(|v| v.operation).collect();
    use Operation::*;
    assert_eq!(
        operations,
        [Insert, Update, Update, SoftDelete, Restore, Update, Update, Delete]
    );
    let amounts: Vec<i32> = history.iter().map(|v| v.row.amount).collect();
    assert_eq!(amounts, [100, 150, 150, 150, 150, 175, 200, 200]);
    assert_eq!(history[2].row.title, "Lease (renewed)");
    // Who, as the transaction said; nobody for the hand-written change.
    let actors: Vec<Option<Uuid>> = history.iter().map(|v| v.actor_id).collect();
    assert_eq!(
        actors,
        [
            Some(alice),
            Some(bob),
            Some(alice),
            Some(alice),
            Some(bob),
            None,
            None,
            Some(alice)
        ]
    );
    // Each version ends where the next begins; the purge is an instant.
    for pair in history.windows(2) {
        assert_eq!(pair[0].valid_to, Some(pair[1].valid_from), "{history:#?}");
        assert!(pair[0].history_id < pair[1].history_id);
        assert!(pair[0].transaction_id <= pair[1].transaction_id);
    }
    let last = history.last().unwrap();
    assert_eq!(last.valid_to, Some(last.valid_from));

    // The row as it was.
    let repo = app.repo();
    let at = |t| repo.as_of::<Contract>(inserted.id, t);
    assert_eq!(at(before).await.unwrap(), None);
    assert_eq!(at(after_insert).await.unwrap().unwrap().amount, 100);
    assert_eq!(at(after_update).await.unwrap().unwrap().amount, 150);
    let then = at(while_deleted).await.unwrap().unwrap();
    assert!(then.deleted_at.is_some());
    assert_eq!(then.title, "Lease (renewed)");
    assert_eq!(at(before_purge).await.unwrap().unwrap().amount, 200);
    assert_eq!(at(after_purge).await.unwrap(), None);
}

#[tokio::test]
async fn the_application_role_reads_history_but_cannot_write_it() {
    let (_db, app) = setup().await;
    let contract = app
        .repo()
        .insert(&NewContract {
            title: "Loan".into(),
            amount: 1,
        })
        .await
        .unwrap();
    let client = app.primary().get().await.unwrap();
    for sql in [
        "UPDATE contracts_history SET amount = 0",
        "DELETE FROM contracts_history",
        "INSERT INTO contracts_history (id, valid, operation, transaction_id) \
         VALUES (gen_random_uuid(), tstzrange(now(), NULL), 'insert', 1)",
        "TRUNCATE contracts_history",
    ] {
        let err = client.batch_execute(sql).await.unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{sql}");
    }
    assert_eq!(
        app.repo()
            .history::<Contract>(contract.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_historys_reads_use_its_index() {
    let (db, _app) = setup().await;
    let explain = Explain::new(db.connect().await.unwrap()).await.unwrap();
    let repo = Repo::new(&explain);
    let _ = repo.history::<Contract>(Uuid::now_v7()).await;
    // A row's few versions may be sorted after the index found them.
    explain.last().expect("a plan").assert(&[
        Expect::Index("idx_contracts_history_id_history_id"),
        Expect::NoFullScan("contracts_history"),
    ]);
    let _ = repo.as_of::<Contract>(Uuid::now_v7(), Utc::now()).await;
    explain.last().expect("a plan").assert(&[
        Expect::Index("idx_contracts_history_id_history_id"),
        Expect::NoFullScan("contracts_history"),
    ]);
}

#[tokio::test]
async fn a_tenants_history_is_the_tenants_only() {
    let (_db, app) = setup().await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let line = app
        .for_tenant(a)
        .repo()
        .insert(&NewLedgerLine {
            memo: "rent".into(),
        })
        .await
        .unwrap();
    let mut changed = line.clone();
    changed.memo = "rent, March".into();
    app.for_tenant(a).repo().update(&changed).await.unwrap();
    let mine = app
        .for_tenant(a)
        .repo()
        .history::<LedgerLine>(line.id)
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|v| v.row.tenant_id == a));
    let theirs = app
        .for_tenant(b)
        .repo()
        .history::<LedgerLine>(line.id)
        .await
        .unwrap();
    assert!(theirs.is_empty());
    // A batch (staged COPY, then one INSERT … SELECT) in the tenant's
    // transaction: each row has its first version, the tenant's.
    let lines: Vec<NewLedgerLine> = (0..3)
        .map(|i| NewLedgerLine {
            memo: format!("batch {i}"),
        })
        .collect();
    let stored = app
        .for_tenant(a)
        .transaction(async |tx| ordinance::batch::insert_many(tx, &lines).await)
        .await
        .unwrap();
    for row in &stored {
        let versions = app
            .for_tenant(a)
            .repo()
            .history::<LedgerLine>(row.id)
            .await
            .unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].operation, Operation::Insert);
        assert_eq!(versions[0].row.tenant_id, a);
    }
}

#[tokio::test]
async fn the_schema_goes_down_as_it_came_up() {
    let (db, _) = setup().await;
    let owner = db.connect().await.unwrap();
    let ddl = SchemaDdl::new(&[Contract::SCHEMA, LedgerLine::SCHEMA]).unwrap();
    owner.batch_execute(&ddl.down()).await.unwrap();
    let left = owner
        .query_one(
            "SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE '%history%') \
                  + (SELECT count(*) FROM pg_proc WHERE proname LIKE '%history_write')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(left.get::<_, i64>(0), 0);
}

#[tokio::test]
async fn an_entity_without_history_says_how_to_keep_one() {
    #[derive(Entity, Debug, Clone)]
    pub struct Memo {
        pub id: Uuid,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
    let (db, _) = setup().await;
    let conn = db.connect().await.unwrap();
    let err = Repo::new(&conn)
        .history::<Memo>(Uuid::now_v7())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("\"memos\" keeps no history: add #[entity(history)] to Memo"),
        "{err}"
    );
}

#[tokio::test]
async fn the_audit_and_the_drift_check_take_the_history_as_the_kits() {
    let (db, _) = setup().await;
    let owner = db.connect().await.unwrap();
    let findings = ordinance::audit::audit(&owner, &Default::default())
        .await
        .unwrap();
    assert!(
        !findings.iter().any(|f| f.table.ends_with("_history")),
        "{}",
        ordinance::audit::render(&findings)
    );
    let drift = ordinance::migrate::live_drift(&owner, &[Contract::SCHEMA, LedgerLine::SCHEMA])
        .await
        .unwrap();
    assert!(
        drift.is_empty(),
        "{}",
        ordinance::migrate::render_steps(&drift)
    );
    // Dropping the trigger by hand is drift the check reports.
    owner
        .batch_execute("DROP TRIGGER contracts_history ON contracts")
        .await
        .unwrap();
    let drift = ordinance::migrate::live_drift(&owner, &[Contract::SCHEMA, LedgerLine::SCHEMA])
        .await
        .unwrap();
    let sql = ordinance::migrate::render_steps(&drift);
    assert!(
        sql.contains(
            "CREATE TRIGGER contracts_history AFTER INSERT OR DELETE OR UPDATE ON public.contracts"
        ),
        "{sql}"
    );
}

#[tokio::test]
async fn retention_deletes_versions_that_ended_long_enough_ago_as_the_owner() {
    use ordinance::bulk::retention::Retention;
    let (db, app) = setup().await;
    let row = app
        .repo()
        .insert(&NewContract {
            title: "Kept".into(),
            amount: 1,
        })
        .await
        .unwrap();
    let mut current = row.clone();
    for amount in 2..=5 {
        current.amount = amount;
        current = app.repo().update(&current).await.unwrap();
    }
    assert_eq!(
        app.repo().history::<Contract>(row.id).await.unwrap().len(),
        5
    );

    // The application's role may not delete history.
    let err = Retention::new(Duration::ZERO)
        .purge_history::<Contract>(&app)
        .await
        .unwrap_err();
    assert_eq!(
        err.sqlstate(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{err}"
    );

    let owner = db.connect().await.unwrap();
    // Nothing ended an hour ago.
    let none = Retention::new(Duration::from_secs(3600))
        .purge_history::<Contract>(&owner)
        .await
        .unwrap();
    assert_eq!(none.rows, 0);
    // Everything that ended, in chunks of two; the current version stays.
    let purged = Retention::new(Duration::ZERO)
        .chunk(2)
        .purge_history::<Contract>(&owner)
        .await
        .unwrap();
    assert_eq!((purged.rows, purged.chunks), (4, 2));
    let left = app.repo().history::<Contract>(row.id).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].row.amount, 5);
    assert_eq!(left[0].valid_to, None);
}

#[tokio::test]
async fn history_reads_keep_no_statement_in_pgbouncers_transaction_mode() {
    // Unnamed statements: what the kit sends through PgBouncer in
    // transaction mode, where a prepared statement would not survive.
    // One connection: every statement below ran on the one checked.
    let (_db, app) = setup_with(
        ClusterOptions {
            unnamed_statements: true,
            ..ClusterOptions::default()
        },
        1,
    )
    .await;
    let tenant = app.for_tenant(Uuid::now_v7());
    let line = tenant
        .repo()
        .insert(&NewLedgerLine { memo: "a".into() })
        .await
        .unwrap();
    let mut changed = line.clone();
    changed.memo = "b".into();
    tenant.repo().update(&changed).await.unwrap();
    let versions = tenant.repo().history::<LedgerLine>(line.id).await.unwrap();
    assert_eq!(versions.len(), 2);
    let then = tenant
        .repo()
        .as_of::<LedgerLine>(line.id, versions[0].valid_from)
        .await
        .unwrap();
    assert_eq!(then.unwrap().memo, "a");
    let client = app.primary().get().await.unwrap();
    // A simple query prepares nothing itself.
    let kept = client
        .simple_query("SELECT count(*) FROM pg_prepared_statements")
        .await
        .unwrap();
    let count = kept.iter().find_map(|m| match m {
        ordinance::deps::tokio_postgres::SimpleQueryMessage::Row(row) => {
            row.get(0).map(str::to_owned)
        }
        _ => None,
    });
    assert_eq!(count.as_deref(), Some("0"));
}
