//! Partial updates: `{Entity}Patch` and `Repo::patch` with the caller's
//! version, run as the application role on tenant tables, through a
//! `Cluster`, in transactions, through PgBouncer, and over many rows with
//! `Bulk::patch`.

use std::time::Duration;

use ordinance::bulk::Bulk;
use ordinance::cluster::{Cluster, ClusterOptions};
use ordinance::ddl::SchemaDdl;
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{Error, Patch as _, Rule};
use ordinance_tests::bouncer::Bouncer;
use ordinance_tests::least_privilege_roles;

/// A support case kept per tenant: required, optional, bounded and
/// sensitive columns.
/// (Its `Debug`, which redacts `reporter_email`, comes from the derive.)
#[derive(Entity, Clone, PartialEq)]
#[entity(tenant, derive_patch(PartialEq))]
pub struct Case {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(min_len = 1, max_len = 100)]
    pub title: String,
    #[column(max_len = 1000)]
    pub body: Option<String>,
    #[column(min = 1, max = 5)]
    pub priority: i16,
    #[column(sensitive, max_len = 320)]
    pub reporter_email: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

pub(crate) fn new_case(title: &str) -> NewCase {
    NewCase {
        title: title.into(),
        body: Some("first words".into()),
        priority: 3,
        reporter_email: Some("ada@example.com".into()),
        closed_at: None,
    }
}

pub(crate) struct Setup {
    pub(crate) db: TestDatabase,
    pub(crate) app: String,
}

pub(crate) async fn setup() -> Setup {
    let ddl = SchemaDdl::new(&[Case::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let (app, _) = least_privilege_roles(&db, &[Case::SCHEMA], false).await;
    Setup { db, app }
}

pub(crate) async fn cluster(
    config: ordinance::deps::tokio_postgres::Config,
    unnamed: bool,
) -> Cluster {
    let pool = Pool::connect(
        config,
        PoolOptions {
            max_size: 2,
            acquire_timeout: Duration::from_secs(5),
            ..PoolOptions::default()
        },
    )
    .await
    .expect("pool");
    let options = ClusterOptions {
        unnamed_statements: unnamed,
        ..ClusterOptions::default()
    };
    Cluster::new(pool, Vec::new(), options).expect("cluster")
}

pub(crate) async fn as_app(setup: &Setup) -> Cluster {
    let mut config = setup.db.config().clone();
    config.user(&setup.app);
    cluster(config, false).await
}

#[test]
fn the_patch_has_every_business_column_and_nothing_the_kit_writes() {
    // Every field optional; Default leaves everything alone.
    let patch = CasePatch::default();
    assert!(patch.is_empty());
    let patch = CasePatch {
        title: Some("t".into()),
        body: Some(None),
        priority: None,
        reporter_email: Some(Some("x@example.com".into())),
        closed_at: None,
    };
    assert!(!patch.is_empty());
    // Clone, and the derive the entity asked for.
    assert_eq!(patch.clone(), patch);
    // Debug shows which columns are set, never a sensitive value.
    let shown = format!("{patch:?}");
    assert_eq!(
        shown,
        "CasePatch { title: Some(\"t\"), body: Some(None), priority: None, \
         reporter_email: Some(<redacted>), closed_at: None }"
    );
    let new = new_case("x");
    assert!(!format!("{new:?}").contains("ada@"), "{new:?}");
    assert_eq!(new.clone().title, "x");
}

/// Everything `Repo::patch` promises, through `app` (the application
/// role's cluster).
async fn patches_as_promised(app: &Cluster) {
    let (tenant, alice, bob) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let as_alice = app.for_tenant(tenant).as_actor(alice);
    let as_bob = app.for_tenant(tenant).as_actor(bob);
    let case = as_alice.repo().insert(&new_case("Crash")).await.unwrap();
    assert_eq!(case.version, 1);

    // One column, with the version the client saw: only it changes; the
    // row is stamped by the writer and its version bumped.
    let retitled = as_bob
        .repo()
        .patch(
            case.id,
            1,
            &CasePatch {
                title: Some("Crash on start".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(retitled.title, "Crash on start");
    assert_eq!(retitled.version, 2);
    assert_eq!(retitled.updated_by, Some(bob));
    assert_eq!(retitled.created_by, Some(alice));
    assert!(retitled.updated_at > case.updated_at);
    assert_eq!(
        (&retitled.body, retitled.priority, &retitled.reporter_email),
        (&case.body, case.priority, &case.reporter_email),
        "columns the patch does not set are left as they are"
    );

    // Set to NULL is not "leave alone".
    let cleared = as_alice
        .repo()
        .patch(
            case.id,
            2,
            &CasePatch {
                body: Some(None),
                closed_at: Some(Some(retitled.updated_at)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.body, None);
    assert_eq!(cleared.closed_at, Some(retitled.updated_at));
    assert_eq!(cleared.title, "Crash on start");
    assert_eq!(cleared.version, 3);

    // A client that saw version 2 is told the row moved on, and nothing
    // is written; the same patch sent twice is refused the second time.
    let stale = CasePatch {
        priority: Some(5),
        ..Default::default()
    };
    match as_bob.repo().patch(case.id, 2, &stale).await {
        Err(Error::StaleVersion {
            expected: 2,
            actual: 3,
            ..
        }) => {}
        other => panic!("expected a stale version, got {other:?}"),
    }
    let current = as_bob.repo().get::<Case>(case.id).await.unwrap();
    assert_eq!(current, cleared);
    let once = as_bob.repo().patch(case.id, 3, &stale).await.unwrap();
    assert_eq!((once.priority, once.version), (5, 4));
    assert!(matches!(
        as_bob.repo().patch(case.id, 3, &stale).await,
        Err(Error::StaleVersion { actual: 4, .. })
    ));

    // A patch that sets nothing writes nothing, but still checks the
    // version.
    let untouched = as_alice
        .repo()
        .patch(case.id, 4, &CasePatch::default())
        .await
        .unwrap();
    assert_eq!(untouched, once);
    assert!(matches!(
        as_alice
            .repo()
            .patch(case.id, 1, &CasePatch::default())
            .await,
        Err(Error::StaleVersion { actual: 4, .. })
    ));

    // Every bad value at once, before anything is sent.
    let bad = CasePatch {
        title: Some(String::new()),
        priority: Some(9),
        reporter_email: Some(Some("x".repeat(321))),
        ..Default::default()
    };
    match as_alice.repo().patch(case.id, 4, &bad).await {
        Err(Error::Invalid { violations, .. }) => {
            let found: Vec<_> = violations.iter().map(|v| (v.field, v.rule)).collect();
            assert_eq!(
                found,
                [
                    ("title", Rule::MinLen { min: 1 }),
                    ("priority", Rule::Max { max: 5 }),
                    ("reporter_email", Rule::MaxLen { max: 320 }),
                ]
            );
        }
        other => panic!("expected invalid values, got {other:?}"),
    }
    assert_eq!(as_alice.repo().get::<Case>(case.id).await.unwrap(), once);

    // Another tenant's row, a soft-deleted row and no row at all are
    // not found; with no tenant set the write is refused as such.
    let title = CasePatch {
        title: Some("x".into()),
        ..Default::default()
    };
    let other = app.for_tenant(Uuid::now_v7());
    assert!(matches!(
        other.repo().patch(case.id, 4, &title).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        as_alice.repo().patch(Uuid::now_v7(), 1, &title).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        app.repo().patch(case.id, 4, &title).await,
        Err(Error::TenantNotSet { .. })
    ));
    let deleted = as_alice.repo().soft_delete(&once).await.unwrap();
    assert!(matches!(
        as_alice
            .repo()
            .patch(case.id, deleted.version, &title)
            .await,
        Err(Error::NotFound { .. })
    ));
    let restored = as_alice.repo().restore(&deleted).await.unwrap();

    // Inside a transaction: rolled back with it.
    let before = restored.clone();
    let err = as_alice
        .transaction(async |tx| {
            let changed = Repo::new(&*tx)
                .patch(before.id, before.version, &title)
                .await?;
            assert_eq!(changed.title, "x");
            Err::<(), _>(Error::rollback("changed my mind"))
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Rollback { .. }), "{err:?}");
    assert_eq!(
        as_alice.repo().get::<Case>(case.id).await.unwrap(),
        restored
    );

    // Two writers who saw the same version: the first wins, the second is
    // told and, once it re-reads, changes its own column without undoing
    // the first's.
    let seen = restored.version;
    let (alice_repo, bob_repo) = (as_alice.repo(), as_bob.repo());
    let (by_alice, by_bob) = (
        CasePatch {
            title: Some("by alice".into()),
            ..Default::default()
        },
        CasePatch {
            priority: Some(1),
            ..Default::default()
        },
    );
    let (a, b) = tokio::join!(
        alice_repo.patch(case.id, seen, &by_alice),
        bob_repo.patch(case.id, seen, &by_bob),
    );
    let (won, lost) = match (a, b) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("expected one winner, got {other:?}"),
    };
    assert!(
        matches!(lost, Error::StaleVersion { .. }),
        "the loser is told: {lost:?}"
    );
    let both = as_bob
        .repo()
        .patch(
            case.id,
            won.version,
            &CasePatch {
                priority: Some(1),
                title: (won.title != "by alice").then(|| "by alice".to_owned()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((both.title.as_str(), both.priority), ("by alice", 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_as_the_application_role() {
    let setup = setup().await;
    patches_as_promised(&as_app(&setup).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_through_pgbouncer() {
    let setup = setup().await;
    let Some(bouncer) = Bouncer::start_for(&setup.db, 2, &[&setup.app]) else {
        return;
    };
    let app = cluster(bouncer.config_as(&setup.db, &setup.app), true).await;
    patches_as_promised(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_patch_changes_every_matching_row_of_its_tenant() {
    let setup = setup().await;
    let app = as_app(&setup).await;
    let (mine, theirs) = (
        app.for_tenant(Uuid::now_v7()),
        app.for_tenant(Uuid::now_v7()),
    );
    for i in 0..25 {
        mine.repo()
            .insert(&NewCase {
                priority: 1 + (i % 2),
                ..new_case(&format!("c{i}"))
            })
            .await
            .unwrap();
        theirs
            .repo()
            .insert(&new_case(&format!("c{i}")))
            .await
            .unwrap();
    }
    let close = CasePatch {
        body: Some(None),
        priority: Some(5),
        ..Default::default()
    };
    // Chunk by chunk, each in its own transaction under the tenant.
    let progress = Bulk::<Case>::new()
        .filter(Expr::col(CaseColumn::Priority).eq(1))
        .chunk(4)
        .patch(&mine, &close)
        .await
        .unwrap();
    assert_eq!(progress.operation, "bulk_patch");
    assert_eq!(progress.chunks, 4);
    assert_eq!(progress.rows, 13);
    let rows = mine
        .repo()
        .list::<Case>(&ordinance::query::live::<Case>())
        .await
        .unwrap();
    assert_eq!(rows.len(), 25);
    for row in &rows {
        if row.priority == 5 {
            assert_eq!((row.body.as_deref(), row.version), (None, 2));
        } else {
            assert_eq!((row.body.as_deref(), row.version), (Some("first words"), 1));
        }
    }
    assert_eq!(rows.iter().filter(|r| r.priority == 5).count(), 13);
    let untouched = theirs
        .repo()
        .list::<Case>(&ordinance::query::live::<Case>())
        .await
        .unwrap();
    assert!(untouched.iter().all(|r| r.version == 1 && r.priority == 3));
    // Bad values and an empty patch are refused before anything runs.
    let err = Bulk::<Case>::new()
        .patch(
            &mine,
            &CasePatch {
                priority: Some(0),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    let err = Bulk::<Case>::new()
        .patch(&mine, &CasePatch::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidSetting { .. }), "{err:?}");
}
