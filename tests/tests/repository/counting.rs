//! `Repo::count_matching` and `Repo::exists_matching`: scoped by the select
//! they are given, isolated by tenant, run as the application role through a
//! `Cluster`, inside transactions and behind PgBouncer.

use ordinance::cluster::Cluster;
use ordinance::deps::sea_query::{Expr, ExprTrait, SelectStatement};
use ordinance::prelude::*;
use ordinance::query;
use ordinance::repo::Repo;
use ordinance::Error;
use ordinance_tests::bouncer::Bouncer;

use crate::patch::{as_app, cluster, new_case, setup, Case, CaseColumn, NewCase};

fn urgent(mut select: SelectStatement) -> SelectStatement {
    select
        .and_where(Expr::col(CaseColumn::Priority).gte(4))
        .to_owned()
}

async fn counts_as_promised(app: &Cluster) {
    let (tenant, other) = (Uuid::now_v7(), Uuid::now_v7());
    let mine = app.for_tenant(tenant);
    let theirs = app.for_tenant(other);
    let repo = mine.repo();
    for (title, priority) in [("low", 1), ("high", 4), ("top", 5)] {
        repo.insert(&NewCase {
            priority,
            ..new_case(title)
        })
        .await
        .unwrap();
    }
    theirs.repo().insert(&new_case("elsewhere")).await.unwrap();
    let theirs_urgent = theirs
        .repo()
        .insert(&NewCase {
            priority: 5,
            ..new_case("theirs")
        })
        .await
        .unwrap();
    let top = repo
        .list::<Case>(
            &query::live::<Case>()
                .and_where(Expr::col(CaseColumn::Title).eq("top"))
                .to_owned(),
        )
        .await
        .unwrap()
        .remove(0);
    repo.soft_delete(&top).await.unwrap();

    // Each scope counts its own rows, of this tenant only.
    let count = async |select: SelectStatement| repo.count_matching::<Case>(&select).await.unwrap();
    assert_eq!(count(urgent(query::live::<Case>())).await, 1);
    assert_eq!(count(urgent(query::with_deleted::<Case>())).await, 2);
    assert_eq!(count(urgent(query::only_deleted::<Case>())).await, 1);
    assert_eq!(count(query::live::<Case>()).await, 2);
    // No match is 0 and false, not an error.
    let none = query::live::<Case>()
        .and_where(Expr::col(CaseColumn::Title).eq("no such title"))
        .to_owned();
    assert_eq!(count(none.clone()).await, 0);
    assert!(!repo.exists_matching::<Case>(&none).await.unwrap());

    // Existence follows the scope: the deleted row is gone from `live`.
    let titled_top = |mut select: SelectStatement| {
        select
            .and_where(Expr::col(CaseColumn::Title).eq("top"))
            .to_owned()
    };
    assert!(!repo
        .exists_matching::<Case>(&titled_top(query::live::<Case>()))
        .await
        .unwrap());
    assert!(repo
        .exists_matching::<Case>(&titled_top(query::only_deleted::<Case>()))
        .await
        .unwrap());
    // The other tenant's urgent row is not seen, nor ours by them.
    let theirs_by_id = query::with_deleted::<Case>()
        .and_where(Expr::col(CaseColumn::Id).eq(theirs_urgent.id))
        .to_owned();
    assert!(!repo.exists_matching::<Case>(&theirs_by_id).await.unwrap());
    assert_eq!(
        theirs
            .repo()
            .count_matching::<Case>(&urgent(query::with_deleted::<Case>()))
            .await
            .unwrap(),
        1
    );
    // With no tenant set, a read sees no row (the policy's answer).
    assert_eq!(
        app.repo()
            .count_matching::<Case>(&query::with_deleted::<Case>())
            .await
            .unwrap(),
        0
    );

    // A LIMIT in the select stops the count early.
    let capped = query::with_deleted::<Case>().limit(2).to_owned();
    assert_eq!(repo.count_matching::<Case>(&capped).await.unwrap(), 2);

    // Inside a transaction, the count sees the transaction's own writes,
    // and they are gone after it rolls back.
    let err = mine
        .transaction(async |tx| {
            let repo = Repo::new(&*tx);
            repo.insert(&NewCase {
                priority: 5,
                ..new_case("in flight")
            })
            .await?;
            assert_eq!(
                repo.count_matching::<Case>(&urgent(query::live::<Case>()))
                    .await?,
                2
            );
            Err::<(), _>(Error::rollback("not this one"))
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Rollback { .. }), "{err:?}");
    assert_eq!(count(urgent(query::live::<Case>())).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_and_existence_as_the_application_role() {
    let setup = setup().await;
    counts_as_promised(&as_app(&setup).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_and_existence_through_pgbouncer() {
    let setup = setup().await;
    let Some(bouncer) = Bouncer::start_for(&setup.db, 2, &[&setup.app]) else {
        return;
    };
    let app = cluster(bouncer.config_as(&setup.db, &setup.app), true).await;
    counts_as_promised(&app).await;
}
