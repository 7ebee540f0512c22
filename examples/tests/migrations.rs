//! The drift guard: the checked-in `migrations/` must build exactly the
//! schema the blog's entities imply. When an entity changes, this fails with
//! the missing migration's SQL; `ORDINANCE_BLESS=<name> cargo test -p
//! ordinance-examples` writes it.

use ordinance_examples::blog_entities::schemas;

#[tokio::test]
async fn blog_migrations_match_the_entities() {
    ordinance::migrate::assert_up_to_date(&schemas(), "migrations").await;
}

/// The deploy proof of the blog's migrations against its own checked-in
/// catalog: every statement of the release prepared on the schema the
/// migrations build. (A release's CI runs `migrate verify --previous
/// <last release's tag>`.)
#[tokio::test]
async fn blog_migrations_pass_the_deploy_proof() {
    let db = ordinance::testing::TestDatabase::create().await.unwrap();
    let migrations = ordinance::migrate::Migrations::load("migrations").unwrap();
    let proof = ordinance::cli::verify(
        db.config(),
        &migrations,
        "migrations/statements.catalog",
        "migrations",
    )
    .await
    .unwrap();
    println!("{proof}");
    assert!(proof.passed(), "{proof}");
    // Every statement of the release was proven.
    let statements = ordinance::proof::StatementCatalog::read("migrations/statements.catalog")
        .unwrap()
        .entries
        .len();
    assert_eq!(
        proof.phases,
        [("before".to_owned(), statements, statements)]
    );
}

/// The rehearsal of the blog's latest deploy — audit events, partitioned
/// by month — on the
/// previous release's schema with 10,000 rows in every table: the locks it
/// takes are reported and none is refused.
#[tokio::test]
async fn blog_migrations_pass_the_rehearsal() {
    let db = ordinance::testing::TestDatabase::create().await.unwrap();
    let migrations = ordinance::migrate::Migrations::load("migrations").unwrap();
    let list = migrations.list();
    let previous = list[list.len() - 2].version;
    let rehearsal = ordinance::proof::rehearse(
        db.config(),
        migrations,
        Some(previous),
        &schemas(),
        &ordinance::proof::RehearsalOptions::default(),
    )
    .await
    .unwrap();
    println!("{rehearsal}");
    assert!(rehearsal.passed(), "{rehearsal}");
    assert_eq!(rehearsal.filled.len(), 6, "{rehearsal}");
    assert!(
        rehearsal.filled.iter().all(|(_, rows)| *rows == 10_000),
        "{rehearsal}"
    );
    let deploy = &rehearsal.migrations[..];
    assert_eq!(deploy.len(), 1, "{rehearsal}");
    assert!(
        deploy[0].migration.ends_with("_audit_events"),
        "{rehearsal}"
    );
    assert_eq!(deploy[0].created, ["audit_events"], "{rehearsal}");
    assert!(deploy[0].rewritten.is_empty(), "{rehearsal}");
}
