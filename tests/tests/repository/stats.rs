//! `stats::statement_stats` on the throwaway server (which preloads
//! `pg_stat_statements`): the kit's statements, ranked by total time and
//! mapped back to entity and operation, with the slow-statement warning's
//! fingerprints and no values.

use ordinance::deps::sea_query::{Expr, ExprTrait as _};
use ordinance::query::Fingerprint;
use ordinance::repo::Repo;
use ordinance::stats::{statement_stats, StatementStats};
use ordinance::{Entity as _, Error};
use ordinance_tests::*;

fn find<'a>(stats: &'a [StatementStats], entity: &str, operation: &str) -> &'a StatementStats {
    stats
        .iter()
        .find(|s| s.entity == entity && s.operation == operation)
        .unwrap_or_else(|| panic!("no {entity}.{operation} in {stats:#?}"))
}

#[tokio::test]
async fn the_kits_statements_ranked_by_total_time_with_entity_operation_and_fingerprint() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    let client: &tokio_postgres::Client = &conn;
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
        .expect(
            "pg_stat_statements: the throwaway server preloads it when the library is \
             installed (Debian: apt-get install postgresql-contrib)",
        );

    let repo = Repo::new(&conn);
    let secret = "organization-name-that-must-stay-private";
    let mut orgs = Vec::new();
    for i in 0..3 {
        orgs.push(
            repo.insert(&new_organization(&format!("{secret}-{i}")))
                .await
                .expect("insert"),
        );
    }
    for _ in 0..5 {
        repo.get::<Organization>(orgs[0].id).await.expect("get");
    }
    let mut org = orgs[1].clone();
    org.name = format!("{secret}-renamed");
    repo.update(&org).await.expect("update");
    repo.count::<Organization>().await.expect("count");
    let user = repo
        .insert(&new_user(orgs[0].id, "u@example.com"))
        .await
        .expect("user");
    repo.list::<Organization>(
        &ordinance::query::live::<Organization>()
            .and_where(Expr::col(OrganizationColumn::Name).eq(secret))
            .to_owned(),
    )
    .await
    .expect("list");
    repo.children(&orgs, User::ORGANIZATION)
        .await
        .expect("children");
    repo.parents(std::slice::from_ref(&user), User::ORGANIZATION)
        .await
        .expect("parents");
    // Not the kit's: left out.
    client
        .query("SELECT 42 AS answer", &[])
        .await
        .expect("other");
    // A statement slow enough to lead the ranking.
    client
        .query(
            "SELECT \"organizations\".\"id\" FROM \"organizations\" WHERE pg_sleep(0.2) IS NOT NULL",
            &[],
        )
        .await
        .expect("slow select");

    let stats = statement_stats(client, &all_schemas())
        .await
        .expect("stats");

    let insert = find(&stats, "Organization", "insert");
    assert_eq!(insert.calls, 3);
    assert_eq!(insert.rows, 3);
    assert_eq!(insert.table, "organizations");
    let get = find(&stats, "Organization", "get");
    assert_eq!(get.calls, 5);
    assert_eq!(
        get.fingerprint,
        Fingerprint::of(&Organization::statements().get),
        "the fingerprint of the warning and of the statistics agree"
    );
    // The update's `"version" + 1` is `$n` in the statistics: same shape.
    assert_eq!(
        find(&stats, "Organization", "update").fingerprint,
        Fingerprint::of(&Organization::statements().update)
    );
    assert_eq!(find(&stats, "Organization", "count").calls, 1);
    assert_eq!(find(&stats, "User", "insert").calls, 1);
    assert_eq!(find(&stats, "User", "load_children").calls, 1);
    assert_eq!(find(&stats, "Organization", "load_parents").calls, 1);
    // The list and the hand-written slow select: two shapes.
    let selects = stats
        .iter()
        .filter(|s| s.entity == "Organization" && s.operation == "select")
        .count();
    assert_eq!(selects, 2, "{stats:#?}");

    // Ranked by total time: the slow select first.
    assert!(stats.windows(2).all(|w| w[0].total_ms >= w[1].total_ms));
    assert_eq!(stats[0].operation, "select");
    assert!(stats[0].total_ms >= 150.0, "{:?}", stats[0]);
    assert!(
        stats.iter().all(|s| !s.query.contains("answer")),
        "{stats:#?}"
    );
    for s in &stats {
        assert!(!s.query.contains(secret), "a value in {s:?}");
        assert!((s.mean_ms - s.total_ms / s.calls as f64).abs() < 1e-9);
    }
}

#[tokio::test]
async fn without_the_extension_the_error_says_what_to_do() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    let err = statement_stats(&conn, &all_schemas())
        .await
        .expect_err("the extension is not created in this database");
    assert!(matches!(err, Error::ExtensionMissing { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("CREATE EXTENSION pg_stat_statements") && message.contains("42P01"),
        "{message}"
    );
}
